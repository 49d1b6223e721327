//! The appraisal pages (HTML fragments the web UI frames): my appraisal, one appraisal with
//! the forms its stage calls for, my team, the rating form, the HR overview; and the CSV
//! export for payroll. Pages show only what the caller may see.

use crate::engine::{self, Profile};
use crate::model::{self, Appraisal, Cycle, Person};
use crate::who::Me;
use crate::workflow;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::{bars, escape as esc};
use qingguan_plugin_sdk::{Decimal, Error, Record, Result, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::str::FromStr;

fn stage_label(me: &Me, s: &str) -> String {
    match s {
        "plan" => me.t("Plan", "计划"),
        "appraise" => me.t("Appraise", "考核"),
        "feedback" => me.t("Feedback", "反馈"),
        "improve" => me.t("Improve", "改进"),
        "closed" => me.t("Closed", "已结束"),
        other => other,
    }
    .to_string()
}

fn status_label(me: &Me, s: &str) -> String {
    match s {
        "draft" => me.t("Targets not proposed", "待制定目标"),
        "proposed" => me.t("Targets proposed", "目标待确认"),
        "objected" => me.t("Objection raised", "有异议"),
        "agreed" => me.t("Targets agreed", "目标已确认"),
        "scored" => me.t("Scored", "已评分"),
        "reviewed" => me.t("Feedback given", "已面谈"),
        other => other,
    }
    .to_string()
}

fn group_label(me: &Me, g: &str) -> String {
    match g {
        "manager" => me.t("Manager", "上级"),
        "peer" => me.t("Peers", "同事"),
        "self" => me.t("Self", "自评"),
        "subordinate" => me.t("Subordinates", "下属"),
        other => other,
    }
    .to_string()
}

fn num(v: &Value) -> String {
    match v {
        Value::String(s) => esc(s),
        Value::Null => "—".into(),
        other => esc(&other.to_string()),
    }
}

/// A titled card around some HTML (the title is escaped).
fn card(title: &str, body: &str) -> String {
    format!(
        "<section class=\"card\"><h2>{}</h2>{body}</section>",
        esc(title)
    )
}

fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<div class=\"table-wrap\"><table class=\"records\"><thead><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let _ = write!(
                s,
                "<td data-label=\"{}\">{c}</td>",
                esc(head.get(i).copied().unwrap_or(""))
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// The figures of one appraisal: the snapshot once scores closed, else computed now over
/// the period so far (nothing is written).
pub fn figures(a: &Appraisal, cycle: &Cycle) -> Result<Value> {
    Ok(standing(cycle, std::slice::from_ref(a))?
        .first()
        .cloned()
        .unwrap_or(Value::Null))
}

/// The figures of some appraisals of a cycle (see [`workflow::standing`]).
fn standing(cycle: &Cycle, list: &[Appraisal]) -> Result<Vec<Value>> {
    Ok(workflow::standing(cycle, list)?["appraisals"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// A person's name linking to their appraisal.
fn person_link(people: &BTreeMap<i64, Person>, a: &Appraisal) -> String {
    format!(
        "<a href=\"appraisal?id={}\">{}</a>",
        a.rec.id,
        esc(&model::name_of(people, Some(a.person)))
    )
}

/// The figures of one appraisal among a cycle's.
fn figures_in(all: &[Value], a: &Appraisal) -> Value {
    all.iter()
        .find(|f| f["appraisal"] == a.rec.id)
        .cloned()
        .unwrap_or(Value::Null)
}

fn kpi_table(me: &Me, f: &Value) -> String {
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
fn quality_block(me: &Me, f: &Value) -> String {
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

fn score_tiles(me: &Me, f: &Value, provisional: bool) -> String {
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

fn error_box(err: Option<&Error>) -> String {
    match err {
        None => String::new(),
        Some(Error::Invalid { message, fields }) => {
            let detail: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}: {}", esc(k), esc(v)))
                .collect();
            format!(
                "<p class=\"error\" role=\"alert\">{} {}</p>",
                esc(message),
                detail.join("; ")
            )
        }
        Some(e) => format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            esc(&e.to_string())
        ),
    }
}

/// `/appraisal?id=`: one appraisal, with the forms its stage and the caller's part call for.
pub fn appraisal(me: &Me, id: i64, err: Option<&Error>) -> Result<String> {
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
        me.t("Stage", "阶段"), esc(&stage_label(me, &cycle.stage)),
        me.t("Status", "状态"), esc(&status_label(me, &a.status)),
        me.t("Manager", "上级"), esc(&model::name_of(&people, a.manager)),
    );
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

fn improvements(me: &Me, a: &Appraisal, people: &BTreeMap<i64, Person>) -> Result<String> {
    let mut items = host::query_all(
        "improvement",
        &Query::new().eq("appraisal", a.rec.id).sort("id"),
    )?;
    items.extend(host::query_all(
        "improvement",
        &Query::new().eq("carried_to", a.rec.id).sort("id"),
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
    let cycles = host::query_all("appraisal_cycle", &Query::new().eq("stage", "appraise"))?;
    if cycles.is_empty() {
        return Ok(out);
    }
    let given = host::query_all("rating", &Query::new().eq("rater", uid))?;
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
pub fn me_page(me: &Me) -> Result<String> {
    let uid = me.user()?;
    let people = model::people()?;
    let mine: Vec<Appraisal> =
        host::query_all("appraisal", &Query::new().eq("person", uid).sort("-id"))?
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
pub fn widget(me: &Me) -> Result<String> {
    let Some(uid) = me.id else {
        return Ok(String::new());
    };
    for r in host::query_all(
        "appraisal",
        &Query::new().eq("person", uid).sort("-id").limit(5),
    )? {
        let a = Appraisal::of(r);
        let cycle = Cycle::load(a.cycle())?;
        if cycle.stage == "closed" {
            continue;
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

/// `/rate?appraisal=&group=`: the rating form.
pub fn rate_form(me: &Me, id: i64, group: &str, err: Option<&Error>) -> Result<String> {
    let uid = me.user()?;
    let a = Appraisal::load(id)?;
    let people = model::people()?;
    let appraised: Vec<i64> = model::appraisals(a.cycle())?
        .iter()
        .map(|x| x.person)
        .collect();
    if !workflow::rater_groups(uid, &a, &people, &appraised).contains(&group) {
        return Err(Error::Denied(
            me.t(
                "you do not rate this person in that role",
                "您不能以该身份为此人评分",
            )
            .into(),
        ));
    }
    let profile = Profile::load(a.profile())?;
    let scale = host::config()["rating_scale"].as_i64().unwrap_or(5).max(1);
    let given = host::query_all(
        "rating",
        &Query::new()
            .eq("appraisal", id)
            .eq("rater", uid)
            .eq("rater_group", group),
    )?;
    let items = host::query_all(
        "quality_item",
        &Query::new().eq("profile", a.profile()).sort("id"),
    )?;
    let mut s = error_box(err);
    let _ = write!(
        s,
        "<form method=\"post\" action=\"rate\" class=\"card\"><h2>{} — {} ({})</h2><input type=\"hidden\" name=\"appraisal\" value=\"{id}\"><input type=\"hidden\" name=\"group\" value=\"{}\">",
        me.t("Rate", "评分"), esc(&model::name_of(&people, Some(a.person))), esc(&group_label(me, group)), esc(group)
    );
    for (i, name) in profile.item_names().iter().enumerate() {
        let desc = items
            .iter()
            .find(|q| q.str("name") == Some(name.as_str()))
            .and_then(|q| q.str("description"))
            .unwrap_or_default();
        let current = given
            .iter()
            .find(|r| r.str("item") == Some(name.as_str()))
            .and_then(|r| r.i64("score"));
        let _ = write!(s, "<div class=\"field\"><label for=\"score_{i}\">{}</label><input type=\"hidden\" name=\"item_{i}\" value=\"{}\"><select id=\"score_{i}\" name=\"score_{i}\" required><option value=\"\">—</option>", esc(name), esc(name));
        for n in 1..=scale {
            let sel = if current == Some(n) { " selected" } else { "" };
            let _ = write!(s, "<option value=\"{n}\"{sel}>{n}</option>");
        }
        let _ = write!(
            s,
            "</select><span class=\"help\">{}</span></div>",
            esc(desc)
        );
    }
    let comment = given
        .first()
        .and_then(|r| r.str("comment"))
        .unwrap_or_default();
    let _ = write!(s, "<div class=\"field\"><label for=\"comment\">{}</label><textarea id=\"comment\" name=\"comment\">{}</textarea></div><button class=\"primary\">{}</button></form>", me.t("Comment", "评语"), esc(comment), me.t("Submit rating", "提交评分"));
    Ok(s)
}

/// `/team`: the appraisals I manage in running cycles, with today's standing.
pub fn team(me: &Me) -> Result<String> {
    let uid = me.user()?;
    let people = model::people()?;
    let mut s = String::new();
    let cycles = host::query_all(
        "appraisal_cycle",
        &Query::new()
            .filter("stage", "ne", "closed")
            .sort("-starts_on"),
    )?;
    let mut any = false;
    for c in cycles {
        let cycle = Cycle::of(c);
        let all = model::appraisals(cycle.rec.id)?;
        let mine: Vec<Appraisal> = all.into_iter().filter(|a| a.manager == Some(uid)).collect();
        if mine.is_empty() {
            continue;
        }
        any = true;
        let figures = standing(&cycle, &mine)?;
        let rows: Vec<Vec<String>> = mine
            .iter()
            .map(|a| {
                let f = figures_in(&figures, a);
                vec![
                    person_link(&people, a),
                    esc(&status_label(me, &a.status)),
                    num(&f["kpi_score"]),
                    num(&f["quality_score"]),
                    num(&f["score"]),
                    esc(f["grade"].as_str().unwrap_or("-")),
                ]
            })
            .collect();
        let _ = write!(
            s,
            "<section class=\"card\"><h2>{} <span class=\"muted\">{} → {} · {}</span></h2>{}</section>",
            esc(cycle.name()), esc(&cycle.from), esc(&cycle.to), esc(&stage_label(me, &cycle.stage)),
            table(&[me.t("Person", "员工"), me.t("Status", "状态"), me.t("KPI", "KPI"), me.t("360°", "360度"), me.t("Score", "总分"), me.t("Grade", "等级")], &rows)
        );
    }
    if !any {
        let _ = write!(
            s,
            "<p class=\"muted\">{}</p>",
            me.t(
                "Nobody's appraisal names you as manager in a running cycle.",
                "进行中的周期里没有由您考核的员工。"
            )
        );
    }
    Ok(s)
}

fn dec_of(v: &Value) -> Option<Decimal> {
    engine::decimal_of(v)
}

/// `/hr?cycle=`: stage controls, the target cascade, score distribution, attainment per
/// team, the trend over cycles and the bonus table.
pub fn hr(me: &Me, cycle_id: Option<i64>, err: Option<&Error>) -> Result<String> {
    me.require_hr()?;
    let cycles: Vec<Cycle> = host::query_all("appraisal_cycle", &Query::new().sort("starts_on"))?
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
        esc(cycle.name()), esc(&cycle.from), esc(&cycle.to), me.t("Stage", "阶段"), esc(&stage_label(me, &cycle.stage)), list.len(), me.t("appraisals", "份考核表")
    );
    let ops: Vec<(&str, &str)> = match cycle.stage.as_str() {
        "plan" => vec![
            ("start", me.t("Create appraisals", "生成考核表")),
            ("advance", me.t("Start appraising", "进入考核阶段")),
        ],
        "appraise" => vec![
            (
                "compute",
                me.t("Update actuals and scores", "更新实际值与得分"),
            ),
            ("advance", me.t("Close scores", "锁定成绩")),
        ],
        "feedback" => vec![("advance", me.t("Start improving", "进入改进阶段"))],
        "improve" => vec![("advance", me.t("Close the cycle", "结束周期"))],
        _ => vec![],
    };
    for (op, label) in ops {
        let _ = write!(s, "<form method=\"post\" action=\"cycle\"><input type=\"hidden\" name=\"cycle\" value=\"{}\"><input type=\"hidden\" name=\"op\" value=\"{op}\"><input type=\"hidden\" name=\"stage\" value=\"{}\"><button class=\"primary\">{}</button></form>", cycle.rec.id, esc(&cycle.stage), esc(label));
    }
    s.push_str("</div></section>");
    let _ = write!(
        s,
        "<p class=\"muted\">{}: <a href=\"/e/job_profile\">{}</a> · <a href=\"/e/kpi\">{}</a> · <a href=\"/e/quality_item\">{}</a> · <a href=\"/e/grade_band\">{}</a> · <a href=\"/e/cycle_target/new\">{}</a> · <a href=\"/e/appraisal/new\">{}</a></p>",
        me.t("Set up", "设置"), me.t("Job profiles", "职务说明书"), me.t("KPIs", "关键指标"), me.t("Qualitative items", "定性评价项"),
        me.t("Grades and bonus", "等级与奖金系数"), me.t("Company / team target", "公司/团队目标"), me.t("Add a person", "添加被考核人")
    );
    // Results: the snapshot once closed, else today's standing (nothing is written).
    let results = standing(&cycle, &list)?;
    cascade(me, &mut s, &cycle, &list)?;
    // Distribution of grades.
    let bands = model::bands()?;
    let mut dist: Vec<(String, f64, String)> = bands
        .iter()
        .map(|b| (b.grade.clone(), 0.0, String::new()))
        .collect();
    for r in &results {
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
    for a in &list {
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
    // The table.
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|a| {
            let r = figures_in(&results, a);
            vec![
                person_link(&people, a),
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
    Ok(s)
}

/// Company → team → person targets per indicator source, with the gaps.
fn cascade(me: &Me, s: &mut String, cycle: &Cycle, list: &[Appraisal]) -> Result<()> {
    let top = host::query_all("cycle_target", &Query::new().eq("cycle", cycle.rec.id))?;
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

/// CSV for payroll: one row per appraisal of a cycle whose scores are closed.
pub fn export(me: &Me, cycle_id: i64) -> Result<String> {
    me.require_hr()?;
    let cycle = Cycle::load(cycle_id)?;
    if !cycle.scores_closed() {
        return Err(Error::Conflict(
            me.t(
                "export follows the close of the scores",
                "成绩锁定后才能导出",
            )
            .into(),
        ));
    }
    let list = model::appraisals(cycle_id)?;
    let people = model::people()?;
    let profiles: BTreeMap<i64, String> = host::query_all("job_profile", &Query::new())?
        .into_iter()
        .map(|p| (p.id, p.str("name").unwrap_or_default().to_string()))
        .collect();
    let results = workflow::results(&cycle, &list);
    let mut out = String::from("\u{feff}cycle,employee,username,team,position,kpi_score,quality_score,score,grade,coefficient,bonus_base,bonus\r\n");
    for r in results["appraisals"].as_array().into_iter().flatten() {
        let a = list.iter().find(|a| r["appraisal"] == a.rec.id);
        let p = people.get(&r["person"].as_i64().unwrap_or(0));
        let cells = [
            cycle.name().to_string(),
            p.map(|p| p.name.clone()).unwrap_or_default(),
            p.map(|p| p.username.clone()).unwrap_or_default(),
            a.map(|a| a.team.clone()).unwrap_or_default(),
            a.and_then(|a| profiles.get(&a.profile()).cloned())
                .unwrap_or_default(),
            r["kpi_score"].as_str().unwrap_or_default().to_string(),
            r["quality_score"].as_str().unwrap_or_default().to_string(),
            r["score"].as_str().unwrap_or_default().to_string(),
            r["grade"].as_str().unwrap_or_default().to_string(),
            r["coefficient"].as_str().unwrap_or_default().to_string(),
            r["bonus_base"].as_str().unwrap_or_default().to_string(),
            r["bonus"].as_str().unwrap_or_default().to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// One CSV cell: quoted when needed, and text that a spreadsheet would run as a formula
/// is prefixed with an apostrophe.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && Decimal::from_str(s).is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
