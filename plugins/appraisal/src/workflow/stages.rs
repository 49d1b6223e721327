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
/// HR's explicit confirmations of closing the scores (form fields `confirm=yes` and, before
/// the period ends, `early=yes`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Confirmation {
    /// HR saw what is outstanding and confirms the close.
    pub confirmed: bool,
    /// HR closes although the period has not ended.
    pub early: bool,
}

impl Confirmation {
    /// Reads `confirm` and `early` (yes, true, 1 or on).
    pub(crate) fn of(form: &BTreeMap<String, String>) -> Confirmation {
        let yes = |k: &str| {
            form.get(k).is_some_and(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "yes" | "true" | "1" | "on"
                )
            })
        };
        Confirmation {
            confirmed: yes("confirm"),
            early: yes("early"),
        }
    }
}

/// What closing a cycle's scores would leave out, per person: 360° ratings not given
/// (appraised person → the raters with their group) and manual actuals not entered.
pub(crate) struct Outstanding {
    /// (appraised person, [(rater, group)]) for ratings not given.
    pub ratings: Vec<(i64, Vec<(i64, &'static str)>)>,
    /// People whose manual actuals are missing.
    pub manual: Vec<i64>,
}

impl Outstanding {
    /// Reads what is outstanding in a cycle's appraisals.
    pub(crate) fn of(list: &[Appraisal], people: &BTreeMap<i64, Person>) -> Result<Outstanding> {
        let targets = model::targets_of(list)?;
        let manual = list
            .iter()
            .filter(|a| {
                targets.get(&a.rec.id).into_iter().flatten().any(|t| {
                    t.source == "manual" && t.scope == "person" && t.rec.decimal("actual").is_none()
                })
            })
            .map(|a| a.person)
            .collect();
        let given = engine::ratings_of(list)?;
        let appraised: Vec<i64> = list.iter().map(|a| a.person).collect();
        let mut profiles: BTreeMap<i64, engine::Profile> = BTreeMap::new();
        let mut ratings = Vec::new();
        for a in list {
            if let std::collections::btree_map::Entry::Vacant(e) = profiles.entry(a.profile()) {
                e.insert(engine::Profile::load(a.profile())?);
            }
            let profile = &profiles[&a.profile()];
            if profile.items.is_empty() || profile.kpi_share >= 100 {
                continue;
            }
            let done = given.get(&a.rec.id);
            let mut owed = Vec::new();
            for p in people.values().filter(|p| p.active) {
                for g in super::rater_groups(p.id, a, people, &appraised) {
                    if profile.groups.get(g).copied().unwrap_or(0) <= 0 {
                        continue;
                    }
                    let rated = done
                        .into_iter()
                        .flatten()
                        .any(|r| r.i64("rater") == Some(p.id) && r.str("rater_group") == Some(g));
                    if !rated {
                        owed.push((p.id, g));
                    }
                }
            }
            if !owed.is_empty() {
                ratings.push((a.person, owed));
            }
        }
        Ok(Outstanding { ratings, manual })
    }

    /// "ann: lena (manager), ben (peer); …" for messages.
    pub(crate) fn ratings_text(&self, me: &Caller, people: &BTreeMap<i64, Person>) -> String {
        self.ratings
            .iter()
            .map(|(person, owed)| {
                let raters: Vec<String> = owed
                    .iter()
                    .map(|(r, g)| {
                        format!(
                            "{} ({})",
                            model::name_of(people, Some(*r)),
                            group_en_zh(me, g)
                        )
                    })
                    .collect();
                format!(
                    "{}: {}",
                    model::name_of(people, Some(*person)),
                    raters.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn group_en_zh(me: &Caller, g: &str) -> String {
    match g {
        "manager" => me.t("manager", "上级"),
        "peer" => me.t("peer", "同事"),
        "self" => me.t("self", "自评"),
        "subordinate" => me.t("subordinate", "下属"),
        other => other,
    }
    .to_string()
}

/// Moves a cycle to its next stage.
///
/// Closing the scores (leaving *appraise*) is final, so it needs `confirm`: without it the
/// answer names what is outstanding (ratings owed, manual actuals, by person). Before the
/// period ends it also needs `early`.
pub(crate) fn advance_confirmed(
    me: &Caller,
    cycle: &Cycle,
    from: Option<&str>,
    confirm: Confirmation,
) -> Result<Value> {
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
            if !confirm.confirmed {
                let outstanding = Outstanding::of(&list, &people)?;
                let mut msg = me
                    .t(
                        "closing the scores is final: confirm it (confirm=yes).",
                        "锁定成绩后不可撤销：请确认（confirm=yes）。",
                    )
                    .to_string();
                if !outstanding.ratings.is_empty() {
                    msg.push_str(&format!(
                        " {} {}",
                        me.t("360° ratings outstanding:", "尚未完成的360度评分："),
                        outstanding.ratings_text(me, &people)
                    ));
                }
                return Err(Error::Conflict(msg));
            }
            if !cycle.ended() && !confirm.early {
                return Err(Error::Conflict(format!(
                    "{} {} {}",
                    me.t("the period runs until", "考核期至"),
                    cycle.to,
                    me.t(
                        "and its figures are not final: to close the scores before it ends, confirm that too (early=yes).",
                        "结束，数据尚未最终确定：如需提前锁定成绩，请再次确认（early=yes）。"
                    )
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
    host::elevated().update("appraisal_cycle", cycle.rec.id, cycle.rec.version, &patch)?;
    if next == "appraise" {
        let owed = Outstanding::of(&list, &people)?;
        super::notices::ratings_owed(cycle, &owed.ratings, &people)?;
    }
    Ok(json!({"stage": next, "appraisals": list.len()}))
}
