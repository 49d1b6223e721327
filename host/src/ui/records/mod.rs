//! Record pages generated from the effective schema: list and kanban, detail, create/edit
//! forms — and what they share (the entity a page is about, column labels and cells).

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::render::{display, for_record, local_time, locale_of, message, t, title_of};
use axum::http::StatusCode;
use axum::response::Response;
use qingguan_core::{Entity, Locale, Record, Value};

mod activities;
mod attachment_forms;
mod attachments;
mod bulk;
mod detail;
mod duplicates;
mod export;
mod form;
mod form_picks;
mod kanban;
mod list;
mod merge;
mod owner;
mod picker;
mod timeline;
mod views;
mod workflow;
mod workflow_panel;

pub use activities::add_activity;
pub use attachment_forms::{remove as remove_attachment, upload as upload_attachment};
pub use bulk::bulk_action;
pub use detail::{action, change_owner, delete, detail};
pub use export::{export_csv, export_xlsx};
pub use form::{create, edit_form, new_form, update};
pub use kanban::{kanban, kanban_totals};
pub use list::list;
pub use merge::{merge, merge_page};
pub use views::{delete_view, rename_view, save_view};
pub use workflow::{decide, transition};

pub(crate) fn entity_or_page(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<Entity, Response> {
    let schema = state.store().schema_for(&caller.access);
    let locale = locale_of(caller);
    match schema.entity(name) {
        Some(e)
            if caller.access.permission(name).read && (!e.retired || caller.access.is_admin()) =>
        {
            Ok(e.clone())
        }
        Some(_) => Err(message(
            state,
            caller,
            StatusCode::FORBIDDEN,
            &t(locale, "forbidden"),
            &format!("'{name}'"),
        )),
        None => Err(message(
            state,
            caller,
            StatusCode::NOT_FOUND,
            &t(locale, "not_found"),
            &format!("'{name}'"),
        )),
    }
}

pub(super) fn system_label(locale: Locale, col: &str) -> String {
    match col {
        "owner" | "updated_at" | "created_at" | "id" => t(locale, col),
        other => other.to_string(),
    }
}

pub(super) fn column_label(e: &Entity, locale: Locale, col: &str) -> String {
    e.field(col)
        .map(|f| f.def.label.get(locale).to_string())
        .unwrap_or_else(|| system_label(locale, col))
}

pub(super) fn cell(state: &AppState, caller: &Caller, e: &Entity, r: &Record, col: &str) -> String {
    match col {
        "owner" => r
            .owner
            .map(|o| title_of(state, caller, "user", o))
            .unwrap_or_default(),
        "updated_at" => local_time(state, caller, r.updated_at),
        "created_at" => local_time(state, caller, r.created_at),
        "id" => r.id.to_string(),
        f => e
            .field(f)
            .map(|fd| display(state, caller, &for_record(&fd.def, r), r.get(f)))
            .unwrap_or_default(),
    }
}

pub(super) fn encode(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The default values of an entity type's visible fields, as a new record's form shows them.
fn default_values(e: &Entity) -> std::collections::BTreeMap<String, Value> {
    e.visible_fields()
        .filter_map(|f| {
            let v = Value::from_json(&f.def, f.def.default.as_ref()?).ok()?;
            Some((f.def.name.clone(), v))
        })
        .collect()
}
