//! Who hears what as an appraisal moves (contract 1.3 notices, written with the step that
//! causes them): the person appraised when targets are proposed, the manager when the person
//! accepts or objects, and every rater when the cycle opens its ratings — one notice per rater
//! with how many ratings they owe.

use crate::model::{Appraisal, Cycle, Person};
use qingguan_plugin_sdk::outreach::{self, Notice};
use qingguan_plugin_sdk::{host, Error, Result};
use std::collections::BTreeMap;

fn cycle_name(c: &Cycle) -> String {
    c.rec.str("name").unwrap_or_default().to_string()
}

/// Notifies one person; someone deactivated since the cycle started is skipped (logged), so
/// the step that tells them still goes through.
fn tell(user: i64, n: &Notice) -> Result<()> {
    match outreach::notify_users(&[user], n) {
        Err(Error::Invalid { fields, .. }) if fields.iter().any(|(f, _)| f == "users") => {
            host::log_warn(&format!(
                "appraisal notice not sent: user {user} is not active"
            ));
            Ok(())
        }
        other => other,
    }
}

fn appraisal_link(a: &Appraisal) -> String {
    format!("/p/appraisal/appraisal?id={}", a.rec.id)
}

/// Targets were proposed to `a.person` by `by`.
pub(crate) fn proposed(a: &Appraisal, cycle: &Cycle, by: &str) -> Result<()> {
    let c = cycle_name(cycle);
    let n = Notice::new(format!(
        "{by} proposed your targets for {c}: accept them or object"
    ))
    .zh(format!("{by} 为您制定了「{c}」的目标，请确认或提出异议"))
    .link(appraisal_link(a));
    tell(a.person, &n)
}

/// The person accepted (`accepted`) or objected to their targets: their manager hears of it.
pub(crate) fn answered(a: &Appraisal, cycle: &Cycle, who: &str, accepted: bool) -> Result<()> {
    let Some(manager) = a.manager.filter(|m| *m != a.person) else {
        return Ok(());
    };
    let c = cycle_name(cycle);
    let n = if accepted {
        Notice::new(format!("{who} accepted the targets for {c}"))
            .zh(format!("{who} 已确认「{c}」的目标"))
    } else {
        Notice::new(format!("{who} objected to the targets for {c}"))
            .zh(format!("{who} 对「{c}」的目标提出了异议"))
    }
    .link(appraisal_link(a));
    tell(manager, &n)
}

/// The cycle opened its ratings: each rater hears how many they owe.
pub(crate) fn ratings_owed(
    cycle: &Cycle,
    owed: &[(i64, Vec<(i64, &'static str)>)],
    people: &BTreeMap<i64, Person>,
) -> Result<()> {
    let mut per_rater: BTreeMap<i64, usize> = BTreeMap::new();
    for (_, raters) in owed {
        for (rater, _) in raters {
            *per_rater.entry(*rater).or_default() += 1;
        }
    }
    let c = cycle_name(cycle);
    for (rater, count) in per_rater {
        if !people.get(&rater).is_some_and(|p| p.active) {
            continue;
        }
        let n = Notice::new(format!(
            "{c} is open for 360° ratings: you have {count} to give"
        ))
        .zh(format!("「{c}」已开始360度评分：您有 {count} 项待评"))
        .link("/p/appraisal/me");
        tell(rater, &n)?;
    }
    Ok(())
}
