//! The owner picker of a record page: the users the caller may give the record to (the core's
//! `Store::owner_choices`, the same rule its owner check applies), and a posted owner read
//! into the JSON the store takes.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::render::title_of;
use qingguan_core::{Entity, Record, Scope};
use serde_json::{json, Value as Json};

/// Most users the picker lists.
const MAX_CHOICES: usize = 500;

/// The picker for `r`, or `None` when the caller has nothing to choose: they may not edit
/// the record, or the only user they may give it to already owns it.
pub(super) fn owner_picker(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    r: &Record,
) -> Option<Json> {
    let perm = caller.access.permission(&e.name);
    if !perm.update || e.retired || e.name == "user" {
        return None;
    }
    let mut users = state
        .store()
        .owner_choices(&caller.access, &e.name, MAX_CHOICES)
        .unwrap_or_default();
    // Only callers who reach every record may leave one without an owner (the core refuses
    // it for anyone else).
    let allow_none = perm.scope == Scope::All || caller.access.is_admin();
    if let Some(o) = r.owner {
        if !users.iter().any(|(id, _)| *id == o) {
            users.insert(0, (o, title_of(state, caller, "user", o)));
        }
    }
    let choices = users.len() + usize::from(allow_none);
    if choices < 2 {
        return None;
    }
    let users: Vec<Json> = users
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name, "selected": r.owner == Some(*id)}))
        .collect();
    Some(json!({"users": users, "allow_none": allow_none}))
}

/// The owner as posted (an id, or empty for none) in the store's JSON; anything else is
/// passed on as text so that the core refuses it with its reason.
pub(super) fn owner_json(posted: &str) -> Json {
    let posted = posted.trim();
    if posted.is_empty() {
        return Json::Null;
    }
    posted
        .parse::<i64>()
        .map(Json::from)
        .unwrap_or_else(|_| Json::String(posted.to_string()))
}
