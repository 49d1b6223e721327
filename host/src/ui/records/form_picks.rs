//! The reference pickers of a submitted form: the text a person typed beside each hidden id,
//! read against it — kept, cleared, or resolved to the one record it names — so a field is
//! never left silently at an earlier value.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::render::{locale_of, t, title_of};
use qingguan_core::Entity;
use std::collections::HashMap;

/// The name of the text a reference picker's user typed (beside the hidden id `field`).
pub(super) fn pick_text_name(field: &str) -> String {
    format!("{field}:text")
}

/// What a reference picker's typed text names.
enum Pick {
    /// One record.
    One(i64),
    /// Nothing: the field is emptied.
    Cleared,
    /// No record, or several: the user has to choose (the message says which).
    Unresolved(String),
}

/// Reads the text typed into a reference picker against the id it holds: the text of the
/// chosen record keeps it; no text empties the field; any other text is resolved to the one
/// record of the target type it names (its title, else the only search hit) — the field is
/// never left silently at an earlier value.
fn resolve_pick(
    state: &AppState,
    caller: &Caller,
    target: &str,
    id: Option<i64>,
    text: &str,
) -> Pick {
    let locale = locale_of(caller);
    let text = text.trim();
    if text.is_empty() {
        return Pick::Cleared;
    }
    if let Some(id) = id {
        if title_of(state, caller, target, id) == text {
            return Pick::One(id);
        }
    }
    let schema = state.store().schema_for(&caller.access);
    let hits = match (
        schema.entity(target),
        qingguan_core::ListQuery::from_pairs([("q", text), ("limit", "20")]),
    ) {
        (Some(te), Ok(q)) => state
            .store()
            .list(&caller.access, target, &q)
            .map(|p| {
                p.items
                    .iter()
                    .map(|r| (r.id, r.title(te)))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
        _ => vec![],
    };
    let exact: Vec<i64> = hits
        .iter()
        .filter(|(_, title)| title.trim().eq_ignore_ascii_case(text))
        .map(|(id, _)| *id)
        .collect();
    match (exact.as_slice(), hits.as_slice()) {
        ([one], _) | ([], [(one, _)]) => Pick::One(*one),
        (_, []) => Pick::Unresolved(t(locale, "pick_none").replace("{text}", text)),
        _ => Pick::Unresolved(t(locale, "pick_many").replace("{text}", text)),
    }
}

/// Resolves every reference picker of a submitted form (see [`resolve_pick`]): the ids go
/// into `values`; the fields whose text names no single record come back with the typed
/// text and the message for the user.
pub(super) fn resolve_picks(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    values: &mut HashMap<String, Vec<String>>,
) -> Vec<(String, String, String)> {
    let mut unresolved = Vec::new();
    for f in e.visible_fields() {
        let Some(target) = f.def.reference_target() else {
            continue;
        };
        // Without the typed text (a form posted by hand, no picker) the id stands as sent.
        let Some(text) = values
            .get(&pick_text_name(&f.def.name))
            .and_then(|v| v.first())
            .cloned()
        else {
            continue;
        };
        let id = values
            .get(&f.def.name)
            .and_then(|v| v.first())
            .and_then(|v| v.trim().parse::<i64>().ok());
        match resolve_pick(state, caller, target, id, &text) {
            Pick::One(id) => {
                values.insert(f.def.name.clone(), vec![id.to_string()]);
            }
            Pick::Cleared => {
                values.insert(f.def.name.clone(), vec![]);
            }
            Pick::Unresolved(why) => {
                values.insert(f.def.name.clone(), vec![]);
                unresolved.push((f.def.name.clone(), text, why));
            }
        }
    }
    unresolved
}
