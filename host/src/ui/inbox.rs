//! The inbox: a person's notifications in their language, newest first, each a link to its
//! record; opening the inbox's "mark all read" clears the count in the header.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::{SignedForm, UiCaller};
use crate::ui::render::{base, local_time_text, locale_of, page, t, title_of};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{Locale, Notification};
use serde_json::{json, Value as Json};

/// A workflow state by its option's label.
fn state_label(state: &AppState, entity: &str, value: &str, locale: Locale) -> String {
    let schema = state.store().schema();
    state
        .store()
        .workflow(entity)
        .and_then(|wf| {
            let f = schema.entity(entity)?.field(&wf.state_field)?;
            let o = f.def.options.iter().find(|o| o.value == value)?;
            Some(o.label.get(locale).to_string())
        })
        .unwrap_or_else(|| value.to_string())
}

/// What a notification says, in the reader's language.
pub fn notification_text(state: &AppState, caller: &Caller, n: &Notification) -> String {
    let locale = locale_of(caller);
    let p = |k: &str| {
        n.params
            .get(k)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    let entity = p("entity");
    let label = state
        .store()
        .schema()
        .entity(&entity)
        .map(|e| e.label.get(locale).to_string())
        .unwrap_or_else(|| entity.clone());
    let what = format!("{label} · {}", p("title"));
    let to = state_label(state, &entity, &p("to"), locale);
    let by = n
        .params
        .get("by")
        .and_then(Json::as_i64)
        .map(|u| title_of(state, caller, "user", u))
        .unwrap_or_default();
    let comment = p("comment");
    let tail = if comment.is_empty() {
        String::new()
    } else {
        format!(" — {comment}")
    };
    match n.kind.as_str() {
        "approval_waiting" => format!("{what}: {} → {to}", t(locale, "note_waiting")),
        "approval_approved" => format!("{what}: {by} {} → {to}{tail}", t(locale, "approved")),
        "approval_rejected" => format!("{what}: {by} {} → {to}{tail}", t(locale, "rejected")),
        other => format!("{what}: {other}"),
    }
}

/// `GET /inbox`.
pub async fn inbox(State(state): State<AppState>, UiCaller(caller): UiCaller) -> Response {
    let items: Vec<Json> = state
        .store()
        .notifications(&caller.access, false)
        .unwrap_or_default()
        .iter()
        .map(|n| {
            json!({"text": notification_text(&state, &caller, n), "href": n.link,
                   "at": local_time_text(&state, &caller, &n.at), "read": n.read})
        })
        .collect();
    let mut ctx = base(&state, &caller, "/inbox");
    ctx.insert("items".into(), json!(items));
    page(StatusCode::OK, "inbox.html", Json::Object(ctx))
}

/// `POST /inbox/read`: marks everything read.
pub async fn mark_read(
    State(state): State<AppState>,
    SignedForm { caller, form: _f }: SignedForm<serde::de::IgnoredAny>,
) -> Response {
    let access = caller.access.clone();
    let _ = state
        .blocking(move |s| s.mark_notifications_read(&access, None))
        .await;
    Redirect::to("/inbox").into_response()
}
