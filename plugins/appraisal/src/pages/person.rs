//! Pages for the person appraised: `/me` (my appraisals, ratings I owe, history), the
//! dashboard `/widget`, and `/appraisal?id=` — one appraisal, which the manager and HR also
//! open to act on it (propose targets, enter actuals, record feedback).

use super::{card, error_box, figures, group_label, num, stage_text, status_label, table};
use crate::model::{self, Appraisal, Cycle, Person};
use crate::who::Caller;
use crate::workflow;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::{Error, Result, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The targets of an appraisal in the plan stage: what is being agreed, no scores yet.
fn target_table(me: &Caller, f: &Value) -> String {
    let rows: Vec<Vec<String>> = f["kpis"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            let scope = if k["scope"] == "team" {
                me.t(" (team)", "（团队）")
            } else {
                ""
            };
            vec![
                format!("{}{}", esc(k["name"].as_str().unwrap_or_default()), scope),
                num(&k["weight"]),
                num(&k["target"]),
            ]
        })
        .collect();
    table(
        &[
            me.t("Indicator", "指标"),
            me.t("Weight", "权重"),
            me.t("Target", "目标"),
        ],
        &rows,
    )
}

fn kpi_table(me: &Caller, f: &Value) -> String {
    let rows: Vec<Vec<String>> = f["kpis"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            let scope = if k["scope"] == "team" {
                me.t(" (team)", "（团队）")
            } else {
                ""
            };
            vec![
                format!("{}{}", esc(k["name"].as_str().unwrap_or_default()), scope),
                num(&k["weight"]),
                num(&k["target"]),
                num(&k["actual"]),
                format!("{}%", num(&k["attainment"])),
                num(&k["score"]),
            ]
        })
        .collect();
    table(
        &[
            me.t("Indicator", "指标"),
            me.t("Weight", "权重"),
            me.t("Target", "目标"),
            me.t("Actual", "实际"),
            me.t("Attainment", "完成率"),
            me.t("Points", "得分"),
        ],
        &rows,
    )
}

/// The 360° part by group (peer and subordinate groups with too few raters are not counted,
/// see the notes, so every average shown mixes several people's ratings).
fn quality_block(me: &Caller, f: &Value) -> String {
    let mut s = String::new();
    let groups = f["groups"].as_object().cloned().unwrap_or_default();
    if groups.is_empty() {
        return format!(
            "<p class=\"muted\">{}</p>",
            me.t("No 360° ratings counted yet.", "尚无计入的360度评分。")
        );
    }
    s.push_str("<ul>");
    for (g, v) in groups {
        let raters = f["raters"][&g].as_u64().unwrap_or(0);
        let _ = write!(
            s,
            "<li>{}: {} <span class=\"muted\">({raters})</span></li>",
            esc(&group_label(me, &g)),
            num(&v)
        );
    }
    s.push_str("</ul>");
    s
}

fn score_tiles(me: &Caller, f: &Value, provisional: bool) -> String {
    let note = if provisional {
        me.t(" (today's standing)", "（截至今日）")
    } else {
        ""
    };
    format!(
        "<div class=\"tiles\"><div class=\"tile\"><span class=\"count\">{}</span>{}{}</div><div class=\"tile\"><span class=\"count\">{}</span>{}</div><div class=\"tile\"><span class=\"count\">{}</span>{}</div><div class=\"tile\"><span class=\"count\">{}</span>{}</div><div class=\"tile\"><span class=\"count\">{}</span>{}</div></div>",
        num(&f["score"]), me.t("Score", "总分"), note,
        esc(f["grade"].as_str().unwrap_or("-")), me.t("Grade", "等级"),
        num(&f["kpi_score"]), me.t("KPI part", "KPI得分"),
        num(&f["quality_score"]), me.t("360° part", "360度得分"),
        num(&f["bonus"]), me.t("Bonus", "奖金"),
    )
}

/// `/appraisal?id=`: one appraisal, with the forms its stage and the caller's part call for.
pub(crate) fn appraisal(me: &Caller, id: i64, err: Option<&Error>) -> Result<String> {
    let a = Appraisal::load(id)?;
    let uid = me.user()?;
    let is_person = a.person == uid;
    let manages = workflow::manages(me, &a);
    if !is_person && !manages {
        return Err(Error::Denied(
            me.t("not your appraisal", "无权查看此考核表").into(),
        ));
    }
    let cycle = Cycle::load(a.cycle())?;
    let people = model::people()?;
    let f = figures(&a, &cycle)?;
    let mut s = error_box(err);
    let _ = write!(
        s,
        "<section class=\"card appraisal\" data-appraisal=\"{id}\"><h2>{}</h2><p>{}: {} · {}: {} → {} · {}: {} · {}: {} · {}: {}</p>",
        esc(a.rec.str("title").unwrap_or_default()),
        me.t("Person", "被考核人"), esc(&model::name_of(&people, Some(a.person))),
        me.t("Period", "周期"), esc(&cycle.from), esc(&cycle.to),
        me.t("Stage", "阶段"), esc(&stage_text(me, &cycle)),
        me.t("Status", "状态"), esc(&status_label(me, &a.status)),
        me.t("Manager", "上级"), esc(&model::name_of(&people, a.manager)),
    );
    if cycle.appraising() {
        s.push_str(&score_tiles(me, &f, !cycle.scores_closed()));
        s.push_str(&kpi_table(me, &f));
        if let Some(notes) = f["notes"].as_array().filter(|n| !n.is_empty()) {
            let n: Vec<String> = notes.iter().filter_map(|v| v.as_str()).map(esc).collect();
            let _ = write!(s, "<p class=\"muted\">{}</p>", n.join(" · "));
        }
        let _ = write!(
            s,
            "<h3>{}</h3>{}",
            me.t("360° review", "360度评价"),
            quality_block(me, &f)
        );
    } else {
        // Plan: the targets being agreed. Scores come once the cycle is appraised.
        let _ = write!(
            s,
            "<h3>{}</h3>{}<p class=\"muted\">{}</p>",
            me.t("Targets", "目标"),
            target_table(me, &f),
            me.t(
                "Scores are shown once the cycle is being appraised.",
                "进入考核阶段后显示得分。"
            )
        );
    }
    s.push_str("</section>");
    let targets = a.targets()?;
    // Plan: the manager proposes, the person answers.
    if cycle.stage == "plan" && manages {
        let _ = write!(s, "<form method=\"post\" action=\"targets\" class=\"card\"><h3>{}</h3><input type=\"hidden\" name=\"appraisal\" value=\"{id}\">", me.t("Propose targets", "制定目标"));
        for t in &targets {
            let _ = write!(
                s,
                "<div class=\"field\"><label for=\"target_{tid}\">{} ({}%)</label><input id=\"target_{tid}\" name=\"target_{tid}\" inputmode=\"decimal\" value=\"{}\" required></div>",
                esc(&t.name), t.weight, t.target.map(|d| d.to_string()).unwrap_or_default(), tid = t.rec.id
            );
        }
        let _ = write!(s, "<div class=\"field\"><label for=\"comment\">{}</label><textarea id=\"comment\" name=\"comment\"></textarea></div><button class=\"primary\">{}</button></form>", me.t("Comment", "说明"), me.t("Propose", "提交目标"));
    }
    if cycle.stage == "plan" && is_person && a.status == "proposed" {
        let _ = write!(
            s,
            "<form method=\"post\" action=\"respond\" class=\"card\"><h3>{}</h3><input type=\"hidden\" name=\"appraisal\" value=\"{id}\"><input type=\"hidden\" name=\"version\" value=\"{version}\"><div class=\"field\"><label for=\"rcomment\">{}</label><textarea id=\"rcomment\" name=\"comment\"></textarea></div><div class=\"field\"><label for=\"resources\">{}</label><textarea id=\"resources\" name=\"resources\"></textarea></div><button class=\"primary\" name=\"decision\" value=\"accept\">{}</button> <button name=\"decision\" value=\"object\">{}</button></form>",
            me.t("Your targets", "您的目标"), me.t("Comment", "意见"), me.t("Resources you need", "需要的资源支持"), me.t("Accept", "确认目标"), me.t("Object", "提出异议")
        , version = a.rec.version);
    }
    // Manual indicators: the manager enters actuals until scores close.
    let manual: Vec<_> = targets
        .iter()
        .filter(|t| t.source == "manual" && t.scope == "person")
        .collect();
    if manages && !manual.is_empty() && matches!(cycle.stage.as_str(), "plan" | "appraise") {
        let _ = write!(s, "<form method=\"post\" action=\"actuals\" class=\"card\"><h3>{}</h3><input type=\"hidden\" name=\"appraisal\" value=\"{id}\">", me.t("Manual actuals", "手工录入实际值"));
        for t in manual {
            let _ = write!(s, "<div class=\"field\"><label for=\"actual_{tid}\">{}</label><input id=\"actual_{tid}\" name=\"actual_{tid}\" inputmode=\"decimal\" value=\"{}\"></div>", esc(&t.name), t.rec.decimal("actual").map(|d| d.to_string()).unwrap_or_default(), tid = t.rec.id);
        }
        let _ = write!(
            s,
            "<button class=\"primary\">{}</button></form>",
            me.t("Save", "保存")
        );
    }
    if matches!(cycle.stage.as_str(), "feedback" | "improve") && manages {
        let _ = write!(
            s,
            "<form method=\"post\" action=\"feedback\" class=\"card\"><h3>{}</h3><input type=\"hidden\" name=\"appraisal\" value=\"{id}\"><div class=\"field\"><label for=\"feedback_on\">{}</label><input type=\"date\" id=\"feedback_on\" name=\"feedback_on\" value=\"{}\"></div><div class=\"field\"><label for=\"feedback\">{}</label><textarea id=\"feedback\" name=\"feedback\" required>{}</textarea></div>",
            me.t("Feedback interview", "绩效面谈"), me.t("Date", "日期"), esc(a.rec.str("feedback_on").unwrap_or_default()),
            me.t("What was discussed (the figures above were shown)", "面谈内容（已展示上方数据）"), esc(a.rec.str("feedback").unwrap_or_default())
        );
        for n in 1..=3 {
            let _ = write!(s, "<fieldset><legend>{} {n}</legend><input name=\"item_{n}\" aria-label=\"item {n}\" placeholder=\"{}\"> <input type=\"date\" name=\"due_{n}\" aria-label=\"due {n}\"> <input type=\"hidden\" name=\"responsible_{n}\" value=\"{}\"></fieldset>", me.t("Improvement item", "改进项"), me.t("What to improve", "改进内容"), a.person);
        }
        let _ = write!(
            s,
            "<button class=\"primary\">{}</button></form>",
            me.t("Record feedback", "保存面谈")
        );
    } else if let Some(fb) = a.rec.str("feedback") {
        let _ = write!(
            s,
            "<section class=\"card\"><h3>{}</h3><p>{} — {}</p></section>",
            me.t("Feedback", "面谈记录"),
            esc(a.rec.str("feedback_on").unwrap_or_default()),
            esc(fb)
        );
    }
    s.push_str(&improvements(me, &a, &people)?);
    if let Some(log) = a.rec.str("negotiation").filter(|l| !l.is_empty()) {
        let _ = write!(
            s,
            "<section class=\"card\"><h3>{}</h3><pre class=\"mono\">{}</pre></section>",
            me.t("Target negotiation", "目标沟通记录"),
            esc(log)
        );
    }
    Ok(s)
}

fn improvements(me: &Caller, a: &Appraisal, people: &BTreeMap<i64, Person>) -> Result<String> {
    let mut items = host::query_all(
        "improvement",
        &Query::new().elevated().eq("appraisal", a.rec.id).sort("id"),
    )?;
    items.extend(host::query_all(
        "improvement",
        &Query::new()
            .elevated()
            .eq("carried_to", a.rec.id)
            .sort("id"),
    )?);
    if items.is_empty() {
        return Ok(String::new());
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let open = i.str("status") == Some("open");
            let carried = i.i64("carried_to") == Some(a.rec.id);
            let button = if open {
                format!("<form method=\"post\" action=\"improvement\"><input type=\"hidden\" name=\"id\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\"><button>{}</button></form>", i.id, a.rec.id, me.t("Mark done", "标记完成"))
            } else {
                String::new()
            };
            vec![
                format!("{}{}", esc(i.str("item").unwrap_or_default()), if carried { me.t(" (carried from the last cycle)", "（上周期带入）") } else { "" }),
                esc(&model::name_of(people, i.i64("responsible"))),
                esc(i.str("due_on").unwrap_or_default()),
                esc(if open { me.t("Open", "进行中") } else { me.t("Done", "已完成") }),
                button,
            ]
        })
        .collect();
    Ok(format!(
        "<section class=\"card\"><h3>{}</h3>{}</section>",
        me.t("Improvement plan", "改进计划"),
        table(
            &[
                me.t("Item", "改进项"),
                me.t("Responsible", "负责人"),
                me.t("Due", "截止"),
                me.t("Status", "状态"),
                ""
            ],
            &rows
        )
    ))
}

/// Appraisals a user should rate now, with the groups they rate as.
fn ratings_owed(
    uid: i64,
    people: &BTreeMap<i64, Person>,
) -> Result<Vec<(Appraisal, &'static str, bool)>> {
    let mut out = Vec::new();
    let cycles = host::query_all(
        "appraisal_cycle",
        &Query::new().elevated().eq("stage", "appraise"),
    )?;
    if cycles.is_empty() {
        return Ok(out);
    }
    let given = host::query_all("rating", &Query::new().elevated().eq("rater", uid))?;
    for c in cycles {
        let list = model::appraisals(c.id)?;
        let appraised: Vec<i64> = list.iter().map(|a| a.person).collect();
        for a in list {
            for g in workflow::rater_groups(uid, &a, people, &appraised) {
                let done = given.iter().any(|r| {
                    r.i64("appraisal") == Some(a.rec.id) && r.str("rater_group") == Some(g)
                });
                out.push((a.clone(), g, done));
            }
        }
    }
    Ok(out)
}

/// `/me`: my appraisals (current with today's standing, then history), ratings I owe, and
/// my open improvement items.
pub(crate) fn me_page(me: &Caller) -> Result<String> {
    let uid = me.user()?;
    let people = model::people()?;
    let mine: Vec<Appraisal> = host::query_all(
        "appraisal",
        &Query::new().elevated().eq("person", uid).sort("-id"),
    )?
    .into_iter()
    .map(Appraisal::of)
    .collect();
    let mut s = String::new();
    let owed = ratings_owed(uid, &people)?;
    if !owed.is_empty() {
        let rows: Vec<Vec<String>> = owed
            .iter()
            .map(|(a, g, done)| {
                vec![
                    esc(&model::name_of(&people, Some(a.person))),
                    esc(&group_label(me, g)),
                    format!(
                        "<a href=\"rate?appraisal={}&amp;group={g}\">{}</a>",
                        a.rec.id,
                        if *done {
                            me.t("Change rating", "修改评分")
                        } else {
                            me.t("Rate", "评分")
                        }
                    ),
                ]
            })
            .collect();
        s.push_str(&card(
            me.t("360° ratings to give", "待完成的360度评分"),
            &table(&[me.t("Person", "被评人"), me.t("As", "身份"), ""], &rows),
        ));
    }
    let mut history = Vec::new();
    let mut current = 0;
    for a in &mine {
        let cycle = Cycle::load(a.cycle())?;
        if cycle.stage == "closed" {
            history.push((a, cycle));
            continue;
        }
        current += 1;
        s.push_str(&appraisal(me, a.rec.id, None)?);
    }
    if current == 0 {
        let _ = write!(
            s,
            "<p class=\"muted\">{}</p>",
            me.t(
                "You have no appraisal in a running cycle.",
                "您当前没有进行中的考核。"
            )
        );
    }
    if !history.is_empty() {
        let rows: Vec<Vec<String>> = history
            .iter()
            .map(|(a, c)| {
                vec![
                    format!(
                        "<a href=\"appraisal?id={}\">{}</a>",
                        a.rec.id,
                        esc(c.name())
                    ),
                    num(&a.rec.get("score").cloned().unwrap_or(Value::Null)),
                    esc(a.rec.str("grade").unwrap_or("-")),
                    num(&a.rec.get("bonus").cloned().unwrap_or(Value::Null)),
                ]
            })
            .collect();
        s.push_str(&card(
            me.t("History", "历史考核"),
            &table(
                &[
                    me.t("Cycle", "周期"),
                    me.t("Score", "总分"),
                    me.t("Grade", "等级"),
                    me.t("Bonus", "奖金"),
                ],
                &rows,
            ),
        ));
    }
    Ok(s)
}

/// `/widget`: my current standing, for the dashboard.
pub(crate) fn widget(me: &Caller) -> Result<String> {
    let Some(uid) = me.id else {
        return Ok(String::new());
    };
    for r in host::query_all(
        "appraisal",
        &Query::new()
            .elevated()
            .eq("person", uid)
            .sort("-id")
            .limit(5),
    )? {
        let a = Appraisal::of(r);
        let cycle = Cycle::load(a.cycle())?;
        if cycle.stage == "closed" {
            continue;
        }
        if !cycle.appraising() {
            return Ok(format!(
                "<p><a href=\"/p/appraisal/me\">{}</a>: {} · {}</p>",
                esc(cycle.name()),
                esc(&stage_text(me, &cycle)),
                esc(&status_label(me, &a.status)),
            ));
        }
        let f = figures(&a, &cycle)?;
        return Ok(format!(
            "<p><a href=\"/p/appraisal/me\">{}</a>: {} {} · {} {}</p>",
            esc(cycle.name()),
            me.t("score", "得分"),
            num(&f["score"]),
            me.t("grade", "等级"),
            esc(f["grade"].as_str().unwrap_or("-"))
        ));
    }
    Ok(format!(
        "<p class=\"muted\">{}</p>",
        me.t("No running appraisal.", "暂无进行中的考核。")
    ))
}
