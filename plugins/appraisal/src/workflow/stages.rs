//! Stage transitions (HR): plan → appraise → feedback → improve → closed, each guarded by what
//! the stage left undone; leaving appraise freezes the figures.

use crate::engine;
use crate::model::{self, Appraisal, Cycle, Person, Target};
use crate::who::Caller;
use qingguan_plugin_sdk::date;
use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::{json, Error, Result, Value};
use std::collections::BTreeMap;

fn names_of(list: &[&Appraisal], people: &BTreeMap<i64, Person>) -> String {
    list.iter()
        .map(|a| model::name_of(people, Some(a.person)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Moves a cycle to its next stage. Leaving *appraise* computes the final figures over the
/// whole period and freezes them (the snapshot); later CRM changes no longer move them.
///
/// `from`, when given, is the stage the caller saw: a second click on a page that has not
/// reloaded is refused instead of skipping a stage.
pub(crate) fn advance(me: &Caller, cycle: &Cycle, from: Option<&str>) -> Result<Value> {
    me.require_hr()?;
    if from.is_some_and(|f| f != cycle.stage) {
        return Err(Error::Conflict(
            me.t(
                "the cycle has already moved on; reload the page",
                "周期阶段已变化，请刷新页面",
            )
            .into(),
        ));
    }
    let list = model::appraisals(cycle.rec.id)?;
    let people = model::people()?;
    let next = match cycle.stage.as_str() {
        "plan" => {
            if list.is_empty() {
                return Err(Error::Conflict(
                    me.t(
                        "start the cycle first: it has no appraisals",
                        "请先启动周期：尚无考核表",
                    )
                    .into(),
                ));
            }
            let open: Vec<&Appraisal> = list.iter().filter(|a| a.status != "agreed").collect();
            if !open.is_empty() {
                return Err(Error::Conflict(format!(
                    "{} {}",
                    me.t("targets are not agreed yet for:", "以下人员目标尚未确认："),
                    names_of(&open, &people)
                )));
            }
            "appraise"
        }
        "appraise" => {
            let targets = model::targets_of(&list)?;
            let missing: Vec<&Appraisal> = list
                .iter()
                .filter(|a| {
                    targets
                        .get(&a.rec.id)
                        .into_iter()
                        .flatten()
                        .any(|t: &Target| {
                            t.source == "manual"
                                && t.scope == "person"
                                && t.rec.decimal("actual").is_none()
                        })
                })
                .collect();
            if !missing.is_empty() {
                return Err(Error::Conflict(format!(
                    "{} {}",
                    me.t(
                        "manual actuals are missing for:",
                        "以下人员的手工指标尚未录入："
                    ),
                    names_of(&missing, &people)
                )));
            }
            let outcomes = engine::compute(cycle, &list, &targets, &cycle.to)?;
            engine::persist(cycle, &list, &outcomes, &cycle.to, true)?;
            "feedback"
        }
        "feedback" => {
            let open: Vec<&Appraisal> = list.iter().filter(|a| a.status != "reviewed").collect();
            if !open.is_empty() {
                return Err(Error::Conflict(format!(
                    "{} {}",
                    me.t(
                        "feedback is not recorded yet for:",
                        "以下人员尚未完成面谈："
                    ),
                    names_of(&open, &people)
                )));
            }
            "improve"
        }
        "improve" => "closed",
        _ => {
            return Err(Error::Conflict(
                me.t("the cycle is closed", "该周期已结束").into(),
            ));
        }
    };
    let mut patch = json!({"stage": next});
    if next == "feedback" {
        patch["closed_at"] = json!(date::format(date::today()));
    }
    // The version read at the start: a concurrent advance fails here instead of moving twice.
    host::update("appraisal_cycle", cycle.rec.id, cycle.rec.version, &patch)?;
    Ok(json!({"stage": next, "appraisals": list.len()}))
}
