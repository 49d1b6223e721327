//! A record's workflow card: the state, the transitions the viewer may make as buttons, the
//! approval it waits for (with approve / reject for the people it waits for) and the trail of
//! approvals.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::render::{local_time_text, locale_of, state_label, t, title_of};
use qingguan_core::{Approval, Entity};
use serde_json::{json, Value as Json};

fn people(state: &AppState, caller: &Caller, ids: &[i64]) -> String {
    ids.iter()
        .map(|u| title_of(state, caller, "user", *u))
        .collect::<Vec<_>>()
        .join(", ")
}

fn approval_json(state: &AppState, caller: &Caller, e: &Entity, a: &Approval) -> Json {
    let locale = locale_of(caller);
    let me = caller.access.user_id;
    let decisions: Vec<Json> = a
        .decisions
        .iter()
        .map(|d| {
            json!({
                "step": d.step + 1,
                "who": d.user_id.map(|u| title_of(state, caller, "user", u)).unwrap_or_default(),
                "decision": t(locale, if d.decision == "approve" { "approved" } else { "rejected" }),
                "comment": d.comment,
                "at": local_time_text(state, caller, &d.at),
            })
        })
        .collect();
    json!({
        "id": a.id,
        "to": state_label(state, caller, &e.name, Some(&a.to_state)),
        "status": t(locale, match a.status.as_str() {
            "pending" => "pending_approval",
            "approved" => "approved",
            _ => "rejected",
        }),
        "pending": a.status == "pending",
        "step": a.step + 1,
        "steps": a.steps,
        "requested_by": a.requested_by.map(|u| title_of(state, caller, "user", u)).unwrap_or_default(),
        "requested_at": local_time_text(state, caller, &a.requested_at),
        "waiting_for": people(state, caller, &a.waiting_for),
        "can_decide": me.is_some_and(|m| a.waiting_for.contains(&m)),
        "decisions": decisions,
    })
}

/// The workflow panel of a record's page, or nothing when its type has no workflow.
pub(super) fn panel(state: &AppState, caller: &Caller, e: &Entity, id: i64) -> Option<Json> {
    let wf = state
        .store()
        .record_workflow(&caller.access, &e.name, id)
        .ok()
        .flatten()?;
    let transitions: Vec<Json> = wf
        .transitions
        .iter()
        .map(|tr| json!({"name": tr.name, "label": tr.label, "needs_approval": tr.needs_approval}))
        .collect();
    Some(json!({
        "state": state_label(state, caller, &e.name, wf.state.as_deref()),
        "transitions": transitions,
        "pending": wf.pending.as_ref().map(|a| approval_json(state, caller, e, a)),
        "approvals": wf.approvals.iter().filter(|a| a.status != "pending").map(|a| approval_json(state, caller, e, a)).collect::<Vec<_>>(),
    }))
}
