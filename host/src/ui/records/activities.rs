//! The activities card of a record page: notes, calls, visits, meetings and to-dos about the
//! record (the built-in `activity` type), newest first, and a small form to add one —
//! `@username` in it tells that person.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::render::{local_time, locale_of, message, t, title_of};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{Entity, Value};
use serde::Deserialize;
use serde_json::{json, Value as Json};

const ACTIVITY: &str = "activity";

/// The card for record `id` of `e`, or `None` where activities do not apply (on activities
/// themselves, or for someone who may not read them).
pub(super) fn card(state: &AppState, caller: &Caller, e: &Entity, id: i64) -> Option<Json> {
    let perm = caller.access.permission(ACTIVITY);
    if e.name == ACTIVITY || !perm.read {
        return None;
    }
    let locale = locale_of(caller);
    let schema = state.store().schema();
    let kinds = schema.entity(ACTIVITY)?.field("kind")?.def.options.clone();
    let items: Vec<Json> = state
        .store()
        .activities_about(&caller.access, &e.name, id, 100)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let kind = a.get("kind").to_text();
            let label = kinds
                .iter()
                .find(|o| o.value == kind)
                .map(|o| o.label.get(locale).to_string())
                .unwrap_or(kind);
            json!({
                "id": a.id, "kind": label, "subject": a.get("subject").to_text(),
                "body": a.get("body").to_text(), "due": a.get("due_on").to_text(),
                "done": a.get("done") == &Value::Bool(true),
                "by": a.owner.map(|o| title_of(state, caller, "user", o)).unwrap_or_default(),
                "at": local_time(state, caller, a.created_at),
                "sort_at": a.created_at.to_rfc3339(),
                "activity": true,
            })
        })
        .collect();
    let options: Vec<Json> = kinds
        .iter()
        .map(|o| json!({"value": o.value, "label": o.label.get(locale)}))
        .collect();
    Some(json!({
        "items": items, "may_add": perm.create, "kinds": options,
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
