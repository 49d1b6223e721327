//! The activities card of a record page: the small form that adds a note, call, visit,
//! meeting or to-do about the record (the built-in `activity` type) — `@username` in it tells
//! that person; the activities themselves are in the page's timeline (`timeline.rs`).

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::render::{locale_of, message, t};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::Entity;
use serde::Deserialize;
use serde_json::{json, Value as Json};

const ACTIVITY: &str = "activity";

/// The form adding an activity about a record of `e`, or `None` where activities do not apply
/// themselves, or for someone who may not read them).
pub(super) fn card(state: &AppState, caller: &Caller, e: &Entity) -> Option<Json> {
    let perm = caller.access.permission(ACTIVITY);
    if e.name == ACTIVITY || !perm.read {
        return None;
    }
    let locale = locale_of(caller);
    let schema = state.store().schema();
    let kinds = schema.entity(ACTIVITY)?.field("kind")?.def.options.clone();
    let options: Vec<Json> = kinds
        .iter()
        .map(|o| json!({"value": o.value, "label": o.label.get(locale)}))
        .collect();
    Some(json!({
        "may_add": perm.create, "kinds": options,
        "W": {"title": t(locale, "activities"), "add": t(locale, "activity_add"),
              "subject": t(locale, "activity_subject"), "body": t(locale, "activity_body"),
              "due": t(locale, "activity_due"), "none": t(locale, "activity_none")},
    }))
}

/// What the card's form posts.
#[derive(Debug, Deserialize)]
pub struct ActivityForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    due_on: String,
}

/// `POST /e/{entity}/{id}/activity`: a new activity about the record.
pub async fn add_activity(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, i64)>,
    SignedForm { caller, form }: SignedForm<ActivityForm>,
) -> Response {
    let mut input = serde_json::Map::new();
    input.insert("kind".into(), json!(form.kind));
    input.insert("subject".into(), json!(form.subject));
    input.insert("body".into(), json!(form.body));
    if !form.due_on.trim().is_empty() {
        input.insert("due_on".into(), json!(form.due_on.trim()));
    }
    input.insert("about_entity".into(), json!(entity));
    input.insert("about_id".into(), json!(id));
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.create(&access, ACTIVITY, &input))
        .await
    {
        Ok(_) => Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
        Err(err) => {
            let locale = locale_of(&caller);
            // The activity's fields by their labels, as the record's own form names them.
            let schema = state.store().schema();
            let text = crate::ui::refusal::refusal_text(&schema, locale, Some(ACTIVITY), &err);
            message(&state, &caller, err.status, &t(locale, "activities"), &text)
        }
    }
}
