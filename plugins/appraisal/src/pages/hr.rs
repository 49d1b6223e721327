//! HR's overview `/hr?cycle=`: stage controls, the target cascade, charts, the bonus table and
//! the bonus bases form.

use super::{
    card, error_box, figures_in, num, person_link, stage_label, stage_text, standing, status_label,
    table,
};
use crate::engine;
use crate::model::{self, Appraisal, Cycle};
use crate::who::Caller;
use crate::workflow;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::{bars, escape as esc};
use qingguan_plugin_sdk::{Decimal, Error, Record, Result, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::str::FromStr;

fn dec_of(v: &Value) -> Option<Decimal> {
    engine::decimal_of(v)
}

/// `/hr?cycle=`: stage controls, the target cascade, score distribution, attainment per
/// team, the trend over cycles and the bonus table.
///
/// `confirm` = `close` or `delete` shows the confirmation of closing the scores (what is
/// outstanding, by person) or of deleting the cycle (what goes with it).
pub(crate) fn hr(
    me: &Caller,
    cycle_id: Option<i64>,
    confirm: Option<&str>,
    err: Option<&Error>,
) -> Result<String> {
    me.require_hr()?;
    let cycles: Vec<Cycle> = host::query_all(
        "appraisal_cycle",
        &Query::new().elevated().sort("starts_on"),
    )?
    .into_iter()
    .map(Cycle::of)
    .collect();
    let mut s = error_box(err);
    if cycles.is_empty() {
        let _ = write!(
            s,
            "<p class=\"muted\">{} <a href=\"/e/appraisal_cycle/new\">{}</a></p>",
            me.t("No appraisal cycle yet.", "尚无考核周期。"),
            me.t("Create one", "新建周期")
        );
        return Ok(s);
    }
    let cycle = cycle_id
        .and_then(|id| cycles.iter().find(|c| c.rec.id == id))
        .or_else(|| cycles.iter().rev().find(|c| c.stage != "closed"))
        .or(cycles.last())
        .cloned()
        .ok_or_else(|| Error::not_found("cycle"))?;
    let people = model::people()?;
    s.push_str("<form method=\"get\" class=\"inline-form\"><label for=\"cycle\">");
    s.push_str(me.t("Cycle", "周期"));
    s.push_str("</label> <select id=\"cycle\" name=\"cycle\">");
    for c in cycles.iter().rev() {
        let sel = if c.rec.id == cycle.rec.id {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{} ({})</option>",
            c.rec.id,
            esc(c.name()),
            esc(&stage_label(me, &c.stage))
        );
    }
    let _ = write!(
        s,
        "</select> <button>{}</button></form>",
        me.t("Show", "查看")
    );
    let list = model::appraisals(cycle.rec.id)?;
    let _ = write!(
        s,
        "<section class=\"card\"><h2>{} <span class=\"muted\">{} → {}</span></h2><p>{}: <strong>{}</strong> · {} {}</p><div class=\"buttons\">",
        esc(cycle.name()), esc(&cycle.from), esc(&cycle.to), me.t("Stage", "阶段"), esc(&stage_text(me, &cycle)), list.len(), me.t("appraisals", "份考核表")
    );
    let ops: Vec<(&str, &str)> = match cycle.stage.as_str() {
        "plan" => vec![
            ("start", me.t("Create appraisals", "生成考核表")),
            ("advance", me.t("Start appraising", "进入考核阶段")),
        ],
        "appraise" => vec![(
            "compute",
            me.t("Update actuals and scores", "更新实际值与得分"),
        )],
        "feedback" => vec![("advance", me.t("Start improving", "进入改进阶段"))],
        "improve" => vec![("advance", me.t("Close the cycle", "结束周期"))],
        _ => vec![],
    };
    for (op, label) in ops {
        let _ = write!(s, "<form method=\"post\" action=\"cycle\"><input type=\"hidden\" name=\"cycle\" value=\"{}\"><input type=\"hidden\" name=\"op\" value=\"{op}\"><input type=\"hidden\" name=\"stage\" value=\"{}\"><button class=\"primary\">{}</button></form>", cycle.rec.id, esc(&cycle.stage), esc(label));
    }
    // Closing the scores and deleting the cycle are final: each button opens a confirmation.
    let mut ask = Vec::new();
    if cycle.stage == "appraise" {
        ask.push(("close", me.t("Close scores…", "锁定成绩…")));
    }
    if !cycle.scores_closed() {
        ask.push(("delete", me.t("Delete cycle…", "删除周期…")));
    }
    for (what, label) in ask {
        let _ = write!(s, "<form method=\"get\" action=\"hr\"><input type=\"hidden\" name=\"cycle\" value=\"{}\"><input type=\"hidden\" name=\"confirm\" value=\"{what}\"><button>{}</button></form>", cycle.rec.id, esc(label));
    }
    s.push_str("</div></section>");
    match confirm {
        Some("close") if cycle.stage == "appraise" => {
            s.push_str(&confirm_close(me, &cycle, &list, &people)?)
        }
        Some("delete") if !cycle.scores_closed() => {
            let _ = write!(
                s,
                "<section class=\"card confirm\"><h2>{} {}</h2><p>{}</p><form method=\"post\" action=\"cycle\"><input type=\"hidden\" name=\"cycle\" value=\"{}\"><input type=\"hidden\" name=\"op\" value=\"delete\"><input type=\"hidden\" name=\"confirm\" value=\"yes\"><button class=\"danger\">{}</button> <a href=\"hr?cycle={}\">{}</a></form></section>",
                me.t("Delete the cycle", "删除周期"),
                esc(cycle.name()),
                esc(&workflow::what_goes(me, list.len())),
                cycle.rec.id,
                me.t("Delete the cycle and its appraisals", "删除周期及其考核表"),
                cycle.rec.id,
                me.t("Cancel", "取消")
            );
        }
        _ => {}
    }
    let _ = write!(
        s,
        "<p class=\"muted\">{}: <a href=\"/e/job_profile\">{}</a> · <a href=\"/e/kpi\">{}</a> · <a href=\"/e/quality_item\">{}</a> · <a href=\"/e/grade_band\">{}</a> · <a href=\"/e/cycle_target/new\">{}</a> · <a href=\"/e/appraisal/new\">{}</a></p>",
        me.t("Set up", "设置"), me.t("Job profiles", "职务说明书"), me.t("KPIs", "关键指标"), me.t("Qualitative items", "定性评价项"),
        me.t("Grades and bonus", "等级与奖金系数"), me.t("Company / team target", "公司/团队目标"), me.t("Add a person", "添加被考核人")
    );
    // Results: the snapshot once closed, else today's standing (nothing is written).
    let results = standing(&cycle, &list)?;
    cascade(me, &mut s, &cycle, &list)?;
    if cycle.appraising() {
        charts(me, &mut s, &cycle, &cycles, &list, &results)?;
    } else {
        let _ = write!(
            s,
            "<p class=\"muted\">{}</p>",
            me.t(
                "Plan stage: targets are being agreed; scores are shown once the cycle is appraised.",
                "计划阶段：正在确认目标；进入考核阶段后显示得分。"
            )
        );
    }
    results_table(me, &mut s, &cycle, &list, &results, &people);
    s.push_str(&super::bases::bases_form(me, &cycle, &list, &people));
    Ok(s)
}

/// The score distribution, attainment per team and the trend over cycles.
fn charts(
    me: &Caller,
    s: &mut String,
    _cycle: &Cycle,
    cycles: &[Cycle],
    list: &[Appraisal],
    results: &[Value],
) -> Result<()> {
    // Distribution of grades.
    let bands = model::bands()?;
    let mut dist: Vec<(String, f64, String)> = bands
        .iter()
        .map(|b| (b.grade.clone(), 0.0, String::new()))
        .collect();
    for r in results {
        if let Some(d) = dist
            .iter_mut()
            .find(|d| Some(d.0.as_str()) == r["grade"].as_str())
        {
            d.1 += 1.0;
        }
    }
    for d in dist.iter_mut() {
        d.2 = format!("{}", d.1);
    }
    s.push_str(&bars(
        me.t(
            "Score distribution (people per grade)",
            "成绩分布（各等级人数）",
        ),
        &dist,
    ));
    // Attainment per team.
    let mut teams: BTreeMap<String, (Decimal, Decimal, i64)> = BTreeMap::new();
    for a in list {
        let Some(r) = results.iter().find(|r| r["appraisal"] == a.rec.id) else {
            continue;
        };
        let e = teams
            .entry(if a.team.is_empty() {
                "—".into()
            } else {
                a.team.clone()
            })
            .or_default();
        e.0 += dec_of(&r["kpi_score"]).unwrap_or_default();
        e.1 += dec_of(&r["score"]).unwrap_or_default();
        e.2 += 1;
    }
    let team_rows: Vec<(String, f64, String)> = teams
        .iter()
        .map(|(t, (k, sc, n))| {
            let avg_k = crate::score::round2(*k / Decimal::from(*n));
            let avg_s = crate::score::round2(*sc / Decimal::from(*n));
            (
                t.clone(),
                f64::from_str(&avg_k.to_string()).unwrap_or(0.0),
                format!("KPI {avg_k} · {} {avg_s}", me.t("score", "总分")),
            )
        })
        .collect();
    s.push_str(&bars(
        me.t(
            "KPI attainment per team (average KPI points)",
            "各团队KPI完成（平均KPI得分）",
        ),
        &team_rows,
    ));
    // Trend: average score of each cycle whose scores closed.
    let mut trend = Vec::new();
    for c in cycles.iter().filter(|c| c.scores_closed()) {
        let l = model::appraisals(c.rec.id)?;
        let scores: Vec<Decimal> = l.iter().filter_map(|a| a.rec.decimal("score")).collect();
        if scores.is_empty() {
            continue;
        }
        let avg = crate::score::round2(
            scores.iter().copied().sum::<Decimal>() / Decimal::from(scores.len() as i64),
        );
        trend.push((
            c.name().to_string(),
            f64::from_str(&avg.to_string()).unwrap_or(0.0),
            avg.to_string(),
        ));
    }
    if trend.is_empty() {
        let _ = write!(
            s,
            "<p class=\"muted\">{}</p>",
            me.t(
                "The trend over cycles appears once a cycle's scores are closed.",
                "周期成绩锁定后显示历次趋势。"
            )
        );
    } else {
        s.push_str(&bars(
            me.t("Average score per cycle", "各周期平均分"),
            &trend,
        ));
    }
    Ok(())
}

/// The results and bonus table, with the CSV export.
fn results_table(
    me: &Caller,
    s: &mut String,
    cycle: &Cycle,
    list: &[Appraisal],
    results: &[Value],
    people: &BTreeMap<i64, model::Person>,
) {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|a| {
            let r = figures_in(results, a);
            vec![
                person_link(people, a),
                esc(&a.team),
                esc(&status_label(me, &a.status)),
                num(&r["kpi_score"]),
                num(&r["quality_score"]),
                num(&r["score"]),
                esc(r["grade"].as_str().unwrap_or("-")),
                num(&r["coefficient"]),
                num(&r["bonus_base"]),
                num(&r["bonus"]),
            ]
        })
        .collect();
    let _ = write!(
        s,
        "<section class=\"card\"><h2>{}</h2>{}<p><a href=\"/api/v1/plugins/appraisal/export.csv?cycle={}\" download>{}</a></p></section>",
        me.t("Results and bonus", "结果与奖金"),
        table(&[me.t("Person", "员工"), me.t("Team", "团队"), me.t("Status", "状态"), "KPI", "360°", me.t("Score", "总分"), me.t("Grade", "等级"), me.t("Coefficient", "系数"), me.t("Bonus base", "奖金基数"), me.t("Bonus", "奖金")], &rows),
        cycle.rec.id,
        me.t("Export CSV for payroll", "导出CSV（薪资）")
    );
}

/// The confirmation of closing the scores: what is outstanding, by person, and the final
/// button (with, before the period ends, a second explicit confirmation).
fn confirm_close(
    me: &Caller,
    cycle: &Cycle,
    list: &[Appraisal],
    people: &BTreeMap<i64, model::Person>,
) -> Result<String> {
    let out = workflow::Outstanding::of(list, people)?;
    let mut s = format!(
        "<section class=\"card confirm\"><h2>{} {}</h2><p>{}</p>",
        me.t("Close the scores of", "锁定成绩："),
        esc(cycle.name()),
        me.t(
            "The figures are frozen for everyone: later CRM changes, ratings and actuals no longer count. This cannot be undone.",
            "所有人的数据将被冻结：之后的CRM变动、评分和实际值不再计入。此操作不可撤销。"
        )
    );
    let mut blocked = false;
    if !out.manual.is_empty() {
        blocked = true;
        let names: Vec<String> = out
            .manual
            .iter()
            .map(|p| esc(&model::name_of(people, Some(*p))))
            .collect();
        let _ = write!(
            s,
            "<p class=\"error\">{} {}</p>",
            me.t(
                "Manual actuals are missing (enter them first) for:",
                "以下人员的手工指标尚未录入（请先录入）："
            ),
            names.join(", ")
        );
    }
    if out.ratings.is_empty() {
        let _ = write!(
            s,
            "<p>{}</p>",
            me.t("Every 360° rating is in.", "360度评分已全部完成。")
        );
    } else {
        let rows: Vec<Vec<String>> = out
            .ratings
            .iter()
            .map(|(person, owed)| {
                vec![
                    esc(&model::name_of(people, Some(*person))),
                    esc(&owed
                        .iter()
                        .map(|(r, g)| {
                            format!(
                                "{} ({})",
                                model::name_of(people, Some(*r)),
                                super::group_label(me, g)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")),
                ]
            })
            .collect();
        s.push_str(&format!(
            "<h3>{}</h3>",
            esc(me.t("360° ratings outstanding", "尚未完成的360度评分"))
        ));
        s.push_str(&table(
            &[
                me.t("Person", "被考核人"),
                me.t("Not yet rated by", "尚未评分人"),
            ],
            &rows,
        ));
    }
    if !blocked {
        let _ = write!(s, "<form method=\"post\" action=\"cycle\"><input type=\"hidden\" name=\"cycle\" value=\"{}\"><input type=\"hidden\" name=\"op\" value=\"advance\"><input type=\"hidden\" name=\"stage\" value=\"appraise\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">", cycle.rec.id);
        if !cycle.ended() {
            let _ = write!(
                s,
                "<p class=\"error\">{} {}.</p><div class=\"field\"><label><input type=\"checkbox\" name=\"early\" value=\"yes\" required> {}</label></div>",
                me.t("The period is not over: it runs until", "考核期尚未结束，截至"),
                esc(&cycle.to),
                me.t(
                    "Close the scores before the period ends, with the figures so far",
                    "在考核期结束前按当前数据提前锁定成绩"
                )
            );
        }
        let _ = write!(
            s,
            "<button class=\"primary\">{}</button> <a href=\"hr?cycle={}\">{}</a></form>",
            me.t("Close the scores now", "确认锁定成绩"),
            cycle.rec.id,
            me.t("Cancel", "取消")
        );
    }
    s.push_str("</section>");
    Ok(s)
}

/// Company → team → person targets per indicator source, with the gaps.
fn cascade(me: &Caller, s: &mut String, cycle: &Cycle, list: &[Appraisal]) -> Result<()> {
    let top = host::query_all(
        "cycle_target",
        &Query::new().elevated().eq("cycle", cycle.rec.id),
    )?;
    if top.is_empty() {
        return Ok(());
    }
    let targets = model::targets_of(list)?;
    let team_of: BTreeMap<i64, &str> = list.iter().map(|a| (a.rec.id, a.team.as_str())).collect();
    let mut rows = Vec::new();
    let sources: std::collections::BTreeSet<String> = top
        .iter()
        .filter_map(|t| t.str("source").map(str::to_string))
        .collect();
    for src in sources {
        let company = top
            .iter()
            .find(|t| {
                t.str("team").unwrap_or_default().is_empty()
                    && t.str("source") == Some(src.as_str())
            })
            .and_then(|t| t.decimal("target"));
        let team_targets: Vec<&Record> = top
            .iter()
            .filter(|t| {
                !t.str("team").unwrap_or_default().is_empty()
                    && t.str("source") == Some(src.as_str())
            })
            .collect();
        let team_sum: Decimal = team_targets
            .iter()
            .filter_map(|t| t.decimal("target"))
            .sum();
        let mut person_sum = Decimal::ZERO;
        let mut by_team: BTreeMap<&str, Decimal> = BTreeMap::new();
        for (aid, ts) in &targets {
            for t in ts.iter().filter(|t| t.source == src && t.scope == "person") {
                let v = t.target.unwrap_or_default();
                person_sum += v;
                *by_team
                    .entry(team_of.get(aid).copied().unwrap_or(""))
                    .or_default() += v;
            }
        }
        let mut gap = Vec::new();
        if let Some(c) = company {
            if !team_targets.is_empty() && team_sum < c {
                gap.push(format!(
                    "{} {}",
                    me.t("teams short of company by", "团队合计低于公司目标"),
                    c - team_sum
                ));
            }
            if person_sum < c {
                gap.push(format!(
                    "{} {}",
                    me.t("people short of company by", "个人合计低于公司目标"),
                    c - person_sum
                ));
            }
        }
        for t in &team_targets {
            let team = t.str("team").unwrap_or_default();
            let tv = t.decimal("target").unwrap_or_default();
            let pv = by_team.get(team).copied().unwrap_or_default();
            if pv < tv {
                gap.push(format!(
                    "{team}: {} {}",
                    me.t("people short by", "个人合计差"),
                    tv - pv
                ));
            }
        }
        rows.push(vec![
            esc(&src),
            company.map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
            team_targets
                .iter()
                .map(|t| {
                    format!(
                        "{} {}",
                        esc(t.str("team").unwrap_or_default()),
                        t.decimal("target").unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            person_sum.to_string(),
            esc(&gap.join("; ")),
        ]);
    }
    s.push_str(&card(
        me.t("Target cascade", "目标分解"),
        &table(
            &[
                me.t("Indicator", "指标"),
                me.t("Company", "公司"),
                me.t("Teams", "团队"),
                me.t("People (sum)", "个人合计"),
                me.t("Gaps", "差距"),
            ],
            &rows,
        ),
    ));
    Ok(())
}
