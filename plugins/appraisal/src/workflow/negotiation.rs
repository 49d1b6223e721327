//! Target negotiation in the plan stage: the manager proposes, the person accepts or objects;
//! every step is a dated line in the appraisal's negotiation log.

use super::{manages, parse_amount};
use crate::model::{self, Appraisal, Cycle, Person};
use crate::who::Caller;
use qingguan_plugin_sdk::date;
use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::{json, Error, Result};
use std::collections::BTreeMap;

fn now_line(me: &Caller, people: &BTreeMap<i64, Person>, what: &str) -> String {
    format!(
        "{} {}: {what}",
        date::format(date::today()),
        model::name_of(people, me.id)
    )
}

fn append(log: Option<&str>, line: &str) -> String {
    // One line per step: a comment cannot forge further dated lines.
    let line = line.replace(['\n', '\r'], " ");
    let line = line.as_str();
    match log {
        Some(l) if !l.is_empty() => format!("{l}\n{line}"),
        _ => line.to_string(),
    }
}

/// The manager proposes (or revises) targets: `target_<id>` values and a comment; targets
/// not sent are proposed as they stand.
pub(crate) fn propose(me: &Caller, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<()> {
    if !manages(me, a) {
        return Err(Error::Denied(
            me.t("only the manager proposes targets", "只有上级可以制定目标")
                .into(),
        ));
    }
    let cycle = Cycle::load(a.cycle())?;
    if cycle.stage != "plan" {
        return Err(Error::Conflict(
            me.t(
                "targets are set in the plan stage",
                "目标只能在计划阶段制定",
            )
            .into(),
        ));
    }
    let targets = a.targets()?;
    // Every target is proposed: the values sent, and the others as they stand (cascaded or
    // proposed before) — a manager who accepts the cascaded targets sends none.
    let mut proposal = Vec::new();
    for t in &targets {
        let key = format!("target_{}", t.rec.id);
        let sent = match form.get(&key) {
            Some(v) => Some(parse_amount(v, &key, me)?),
            None => None,
        };
        let Some(d) = sent.or(t.target) else {
            return Err(Error::invalid(
                me.t("every indicator needs a target", "每个指标都需要目标值"),
            )
            .field(key, t.name.clone()));
        };
        if d.is_zero() {
            return Err(
                Error::invalid(me.t("a target must be above zero", "目标值必须大于0"))
                    .field(key, me.t("must be above zero", "必须大于0")),
            );
        }
        proposal.push((t, d));
    }
    let people = model::people()?;
    let mut parts = Vec::new();
    for (t, d) in &proposal {
        if t.target != Some(*d) {
            host::elevated().update(
                "appraisal_target",
                t.rec.id,
                t.rec.version,
                &json!({"target": d.to_string()}),
            )?;
        }
        parts.push(format!("{} {}", t.name, d.normalize()));
    }
    let comment = form.get("comment").map(|c| c.trim()).unwrap_or_default();
    let mut line = format!(
        "{} {}",
        me.t("proposed targets:", "提出目标："),
        parts.join(", ")
    );
    if !comment.is_empty() {
        line.push_str(&format!(" — {comment}"));
    }
    let a = Appraisal::load(a.rec.id)?;
    host::elevated().update(
        "appraisal",
        a.rec.id,
        a.rec.version,
        &json!({"status": "proposed", "negotiation": append(a.rec.str("negotiation"), &now_line(me, &people, &line))}),
    )?;
    super::notices::proposed(&a, &cycle, &model::name_of(&people, me.id))
}

/// The person accepts the proposed targets or objects (a comment and resources needed).
pub(crate) fn respond(me: &Caller, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<()> {
    if me.id != Some(a.person) {
        return Err(Error::Denied(
            me.t(
                "only the person appraised answers a proposal",
                "只有被考核人可以确认目标",
            )
            .into(),
        ));
    }
    if let Some(v) = form.get("version").and_then(|v| v.parse::<i64>().ok()) {
        if v != a.rec.version {
            return Err(Error::Conflict(
                me.t(
                    "the targets changed while you were reading them; look at them again",
                    "目标在您查看期间已被修改，请重新查看",
                )
                .into(),
            ));
        }
    }
    if a.status != "proposed" {
        return Err(Error::Conflict(
            me.t(
                "there is no proposal waiting for your answer",
                "没有待确认的目标",
            )
            .into(),
        ));
    }
    let people = model::people()?;
    let comment = form
        .get("comment")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let resources = form
        .get("resources")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let patch = match form.get("decision").map(String::as_str) {
        Some("accept") => {
            let line = if comment.is_empty() {
                me.t("accepted the targets", "确认目标").to_string()
            } else {
                format!("{} — {comment}", me.t("accepted the targets", "确认目标"))
            };
            json!({"status": "agreed", "negotiation": append(a.rec.str("negotiation"), &now_line(me, &people, &line))})
        }
        Some("object") => {
            if comment.is_empty() {
                return Err(Error::invalid(me.t("say what you object to", "请说明异议"))
                    .field("comment", me.t("required when objecting", "提出异议时必填")));
            }
            let mut line = format!("{} {comment}", me.t("objected:", "提出异议："));
            if !resources.is_empty() {
                line.push_str(&format!(
                    " | {} {resources}",
                    me.t("resources needed:", "需要资源：")
                ));
            }
            json!({"status": "objected", "objection": comment, "resources": resources,
                   "negotiation": append(a.rec.str("negotiation"), &now_line(me, &people, &line))})
        }
        _ => {
            return Err(
                Error::invalid(me.t("choose accept or object", "请选择确认或提出异议"))
                    .field("decision", "accept | object"),
            )
        }
    };
    host::elevated().update("appraisal", a.rec.id, a.rec.version, &patch)?;
    let cycle = Cycle::load(a.cycle())?;
    let accepted = patch["status"] == "agreed";
    super::notices::answered(
        a,
        &cycle,
        &model::name_of(&people, Some(a.person)),
        accepted,
    )
}
