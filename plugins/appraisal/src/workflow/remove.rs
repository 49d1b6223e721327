//! Cancelling: deleting a cycle (planned for the wrong quarter, say) or one appraisal while
//! the scores are not closed. What belongs to an appraisal goes with it — its targets and
//! their negotiation, its 360° ratings — and open improvement items carried into it are
//! handed back (they carry into the person's next cycle). Closed scores are records: kept.

use crate::model::{self, Appraisal, Cycle};
use crate::who::Caller;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{json, Error, Result, Value};

/// Refuses to remove what belongs to a cycle whose scores are closed.
pub(crate) fn check_removable(me: &Caller, cycle: &Cycle) -> Result<()> {
    if cycle.scores_closed() {
        return Err(Error::Conflict(
            me.t(
                "the scores of this cycle are closed: the cycle and its appraisals are kept",
                "本周期成绩已锁定：周期及其考核表予以保留",
            )
            .into(),
        ));
    }
    Ok(())
}

/// Deletes what belongs to an appraisal (targets, ratings, improvement items from it) and
/// hands back the items carried into it; the appraisal itself is left to the caller.
pub(crate) fn remove_parts(a: &Appraisal) -> Result<()> {
    for entity in ["appraisal_target", "rating", "improvement"] {
        for r in host::query_all(entity, &Query::new().elevated().eq("appraisal", a.rec.id))? {
            host::elevated().delete(entity, r.id, r.version)?;
        }
    }
    for i in host::query_all(
        "improvement",
        &Query::new().elevated().eq("carried_to", a.rec.id),
    )? {
        host::elevated().update("improvement", i.id, i.version, &json!({"carried_to": null}))?;
    }
    Ok(())
}

/// Deletes a cycle's appraisals (with their parts) and its company and team targets; the
/// cycle itself is left to the caller. Returns how many appraisals went.
pub(crate) fn remove_cycle_parts(cycle: &Cycle) -> Result<usize> {
    let list = model::appraisals(cycle.rec.id)?;
    for a in &list {
        remove_parts(a)?;
        host::elevated().delete("appraisal", a.rec.id, a.rec.version)?;
    }
    for t in host::query_all(
        "cycle_target",
        &Query::new().elevated().eq("cycle", cycle.rec.id),
    )? {
        host::elevated().delete("cycle_target", t.id, t.version)?;
    }
    Ok(list.len())
}

/// What deleting a cycle removes, in words (the confirmation shows it).
pub(crate) fn what_goes(me: &Caller, appraisals: usize) -> String {
    format!(
        "{} {} {}",
        me.t("Deleting the cycle deletes its", "删除周期将同时删除其"),
        appraisals,
        me.t(
            "appraisals with their targets, target negotiation and 360° ratings, and the cycle's company and team targets; open improvement items carried into it go back to their people and carry into their next cycle. This cannot be undone.",
            "份考核表及其目标、目标沟通记录和360度评分，以及本周期的公司/团队目标；带入本周期的未完成改进项退回员工，并带入其下一周期。此操作不可撤销。"
        )
    )
}

/// HR deletes a cycle whose scores are not closed, with everything that belongs to it. Needs
/// `confirm=yes`; without it the answer says what would go.
pub(crate) fn delete_cycle(me: &Caller, cycle: &Cycle, confirmed: bool) -> Result<Value> {
    me.require_hr()?;
    check_removable(me, cycle)?;
    if !confirmed {
        let n = model::appraisals(cycle.rec.id)?.len();
        return Err(Error::Conflict(format!(
            "{} {}",
            what_goes(me, n),
            me.t("Confirm with confirm=yes.", "请确认（confirm=yes）。")
        )));
    }
    let n = remove_cycle_parts(cycle)?;
    let c = Cycle::load(cycle.rec.id)?;
    host::elevated().delete("appraisal_cycle", c.rec.id, c.rec.version)?;
    Ok(json!({"deleted": cycle.rec.id, "appraisals": n}))
}
