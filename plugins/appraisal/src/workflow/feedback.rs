//! After the close of the scores: the feedback interview with its improvement plan, and
//! improvement items marked done.

use super::manages;
use crate::model::{Appraisal, Cycle};
use crate::who::Caller;
use qingguan_plugin_sdk::date;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{json, Error, Record, Result};
use std::collections::BTreeMap;

/// The manager records the feedback interview and the improvement plan
/// (`item_<n>`, `responsible_<n>`, `due_<n>`).
pub(crate) fn feedback(
    me: &Caller,
    a: &Appraisal,
    form: &BTreeMap<String, String>,
) -> Result<usize> {
    if !manages(me, a) {
        return Err(Error::Denied(
            me.t("only the manager records feedback", "只有上级可以记录面谈")
                .into(),
        ));
    }
    let cycle = Cycle::load(a.cycle())?;
    if !matches!(cycle.stage.as_str(), "feedback" | "improve") {
        return Err(Error::Conflict(
            me.t(
                "feedback follows the close of the scores",
                "成绩锁定后才能面谈",
            )
            .into(),
        ));
    }
    let text = form
        .get("feedback")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    if text.is_empty() {
        return Err(
            Error::invalid(me.t("write down the feedback", "请填写面谈记录"))
                .field("feedback", me.t("required", "必填")),
        );
    }
    let on = form
        .get("feedback_on")
        .filter(|d| !d.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| date::format(date::today()));
    if date::parse(&on).is_none() {
        return Err(
            Error::invalid(me.t("the date is not valid", "日期格式不正确"))
                .field("feedback_on", "YYYY-MM-DD"),
        );
    }
    let mut items = Vec::new();
    for n in 1..=20 {
        let Some(item) = form
            .get(&format!("item_{n}"))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let responsible = form
            .get(&format!("responsible_{n}"))
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(a.person);
        let due = form
            .get(&format!("due_{n}"))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        if let Some(d) = due {
            if date::parse(d).is_none() {
                return Err(
                    Error::invalid(me.t("a due date is not valid", "截止日期格式不正确"))
                        .field(format!("due_{n}"), "YYYY-MM-DD"),
                );
            }
        }
        items.push((item.to_string(), responsible, due.map(str::to_string)));
    }
    // Recording the feedback again adds only items not already in the plan.
    let existing: Vec<String> = host::query_all(
        "improvement",
        &Query::new().elevated().eq("appraisal", a.rec.id),
    )?
    .iter()
    .filter_map(|i| i.str("item").map(str::to_string))
    .collect();
    items.retain(|(item, _, _)| !existing.contains(item));
    for (item, responsible, due) in &items {
        host::elevated().create(
            "improvement",
            &json!({"appraisal": a.rec.id, "person": a.person, "item": item, "responsible": responsible,
                    "due_on": due, "status": "open", "owner": a.person}),
        )?;
    }
    host::elevated().update(
        "appraisal",
        a.rec.id,
        a.rec.version,
        &json!({"feedback": text, "feedback_on": on, "status": "reviewed"}),
    )?;
    Ok(items.len())
}

/// Marks an improvement item done (the person, their manager or HR).
pub(crate) fn improvement_done(me: &Caller, id: i64) -> Result<()> {
    let i = host::elevated().get("improvement", id)?;
    let a = Appraisal::load(i.i64("appraisal").unwrap_or(0))?;
    let carried = match i.i64("carried_to") {
        Some(c) => manages(me, &Appraisal::load(c)?),
        None => false,
    };
    let allowed =
        me.id == i.i64("person") || me.id == i.i64("responsible") || manages(me, &a) || carried;
    if !allowed {
        return Err(Error::Denied(
            me.t("not your improvement item", "不是您的改进项").into(),
        ));
    }
    host::elevated().update("improvement", i.id, i.version, &json!({"status": "done"}))?;
    Ok(())
}

/// The record of an improvement item, checked to exist.
pub(crate) fn improvement(id: i64) -> Result<Record> {
    host::elevated().get("improvement", id)
}
