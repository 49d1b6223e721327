//! A record page's timeline: a page of its changes and the activities about it, newest first,
//! each in the reader's words (field labels, option labels, people's names, local times), and
//! where the next, older page starts.

use super::column_label;
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::render::{display, local_time_text, locale_of, t, title_of};
use qingguan_core::store::TimelineItem;
use qingguan_core::{Entity, HistoryEntry, Value};
use serde_json::{json, Value as Json};

/// Entries per page of a record page's timeline.
const PAGE: usize = 50;

/// The timeline of record `id` of `e` from `before` (none: the newest): its entries as the
/// page shows them and the cursor of the next page (a cursor that is not one: an error).
pub(super) fn entries(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    id: i64,
    before: Option<&str>,
) -> Result<(Vec<Json>, Option<String>), qingguan_core::Error> {
    let page = state
        .store()
        .timeline_page(&caller.access, &e.name, id, PAGE, before)?;
    let kinds = state
        .store()
        .schema()
        .entity("activity")
        .and_then(|a| a.field("kind"))
        .map(|f| f.def.options.clone())
        .unwrap_or_default();
    let locale = locale_of(caller);
    let items = page
        .items
        .iter()
        .map(|item| match item {
            TimelineItem::Change { entry, .. } => change(state, caller, e, entry),
            TimelineItem::Activity { at, record } => {
                let kind = record["kind"].as_str().unwrap_or_default();
                let label = kinds
                    .iter()
                    .find(|o| o.value == kind)
                    .map(|o| o.label.get(locale).to_string())
                    .unwrap_or_else(|| kind.to_string());
                let text = |k: &str| record[k].as_str().unwrap_or_default().to_string();
                json!({
                    "id": record["id"], "kind": label, "subject": text("subject"),
                    "body": text("body"), "due": text("due_on"),
                    "done": record["done"] == Json::Bool(true),
                    "by": record["owner"].as_i64().map(|o| title_of(state, caller, "user", o)).unwrap_or_default(),
                    "at": local_time_text(state, caller, at),
                    "activity": true,
                })
            }
        })
        .collect();
    Ok((items, page.next))
}

/// One history entry as the timeline shows it.
fn change(state: &AppState, caller: &Caller, e: &Entity, h: &HistoryEntry) -> Json {
    let locale = locale_of(caller);
    // A file attached or removed: its name (under `attachment`, or the file field naming it).
    let file_note = matches!(h.action.as_str(), "attach" | "detach");
    let changes: Vec<Json> = h
        .changes
        .iter()
        .map(|(k, [old, new])| {
            let label = match k.as_str() {
                "attachment" => t(locale, "attachment_file"),
                "merged_from" => t(locale, "merged_from"),
                _ => column_label(e, locale, k),
            };
            // An amount in each record's own currency: in the currency this change names (when
            // the currency changed with it), else as a plain number — the entry does not say.
            let code_of = |side: usize| -> Option<Option<String>> {
                let cf = e.field(k)?.def.currency_field.as_deref()?;
                Some(
                    h.changes
                        .get(cf)
                        .and_then(|pair| pair[side].as_str().map(str::to_string)),
                )
            };
            let show = |v: &Json, side: usize| -> String {
                match (e.field(k), v) {
                    (_, Json::Null) => String::new(),
                    (_, Json::String(name)) if file_note => name.clone(),
                    (Some(f), v) if code_of(side).is_some() => {
                        match (Value::from_json(&f.def, v), code_of(side).flatten()) {
                            (Ok(val), Some(code)) => {
                                let mut def = f.def.clone();
                                def.currency = Some(code);
                                display(state, caller, &def, &val)
                            }
                            (Ok(val), None) => val.to_text(),
                            (Err(_), _) => v.to_string(),
                        }
                    }
                    (Some(f), v) => Value::from_json(&f.def, v)
                        .map(|val| display(state, caller, &f.def, &val))
                        .unwrap_or_else(|_| v.to_string()),
                    (None, v) if k == "merged_from" => {
                        format!("#{} {}", v["id"], v["title"].as_str().unwrap_or_default())
                    }
                    (None, v) if k == "owner" => v
                        .as_i64()
                        .map(|o| title_of(state, caller, "user", o))
                        .unwrap_or_default(),
                    (None, v) => v.to_string(),
                }
            };
            json!({"label": label, "old": show(old, 0), "new": show(new, 1)})
        })
        .collect();
    let who = h
        .user_id
        .map(|u| title_of(state, caller, "user", u))
        .unwrap_or_else(|| t(locale, "system"));
    let action = t(
        locale,
        match h.action.as_str() {
            "create" => "created",
            "update" => "updated",
            "import" => "imported",
            "approval_requested" => "approval_requested",
            "approved" => "approved",
            "rejected" => "rejected",
            "attach" => "attached",
            "detach" => "detached",
            "merge" | "merged" => "merged_action",
            _ => "deleted",
        },
    );
    // An entry the record merged into this one wrote says whose it was.
    let action = match h.merged_from {
        Some(m) => format!("{action} · #{m}"),
        None => action,
    };
    json!({"at": local_time_text(state, caller, &h.at), "action": action, "user": who, "changes": changes})
}
