//! Before a new record is saved: the records the caller may read that it most likely
//! duplicates (the same name once company forms are set aside, the same phone or e-mail). The
//! form comes back once with them listed; sending it again saves.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::render::{locale_of, t};
use qingguan_core::Entity;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// The form's mark that the person has seen the likely duplicates and saves anyway.
pub(super) const CONFIRMED: &str = "confirm_duplicates";

/// A sentence naming the likely duplicates of `body`, unless there are none or the person
/// already saw them (then the form is sent on). Marks `values` so the form, shown again,
/// carries the confirmation.
pub(super) fn warning(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    body: &Map<String, Json>,
    values: &mut HashMap<String, Vec<String>>,
) -> Option<String> {
    if values.contains_key(CONFIRMED) {
        return None;
    }
    let found = state
        .store()
        .likely_duplicates(&caller.access, &e.name, body, None)
        .ok()
        .filter(|d| !d.is_empty())?;
    values.insert(CONFIRMED.into(), vec!["1".into()]);
    let names: Vec<String> = found
        .iter()
        .map(|d| format!("{} (#{})", d.title, d.id))
        .collect();
    Some(format!(
        "{} {}",
        t(locale_of(caller), "likely_duplicates"),
        names.join(", ")
    ))
}
