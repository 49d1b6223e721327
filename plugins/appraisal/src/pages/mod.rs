//! The appraisal pages (HTML fragments the web UI frames), one file per audience — the person
//! appraised, their manager, raters, HR — and here the helpers they share. Pages show only
//! what the caller may see.

mod bases;
mod hr;
mod person;
mod rate;
mod team;

pub(crate) use hr::hr;
pub(crate) use person::{appraisal, me_page, widget};
pub(crate) use rate::rate_form;
pub(crate) use team::team;

use crate::model::{self, Appraisal, Cycle, Person};
use crate::who::Caller;
use crate::workflow;
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::{Error, Result, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

fn stage_label(me: &Caller, s: &str) -> String {
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

/// A cycle's stage, and "not started" while its period has not begun.
fn stage_text(me: &Caller, cycle: &Cycle) -> String {
    let stage = stage_label(me, &cycle.stage);
    if !cycle.started() && !cycle.scores_closed() {
        format!("{stage} · {}", me.t("not started", "未开始"))
    } else {
        stage
    }
}

fn status_label(me: &Caller, s: &str) -> String {
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

fn group_label(me: &Caller, g: &str) -> String {
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
pub(crate) fn figures(a: &Appraisal, cycle: &Cycle) -> Result<Value> {
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
