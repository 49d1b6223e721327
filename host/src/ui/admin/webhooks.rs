//! Webhooks in the administration: every subscription with its signing secret, a form to add
//! one (entity type, events, an optional condition as JSON), pausing and removing, and each
//! webhook's latest deliveries with the receiver's answer and a replay button.

use super::admin_only;
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, local_time_text, locale_of, page, t};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::webhooks::{WebhookInput, EVENTS};
use serde_json::{json, Value as Json};

const KEYS: &[&str] = &[
    "webhooks",
    "webhook_hint",
    "webhook_name",
    "webhook_url",
    "webhook_entity",
    "webhook_events",
    "webhook_filter",
    "webhook_add",
    "webhook_secret",
    "webhook_active",
    "webhook_pause",
    "webhook_resume",
    "webhook_remove",
    "webhook_new_secret",
    "webhook_confirm_remove",
    "webhook_deliveries",
    "webhook_replay",
    "webhook_none",
    "webhook_no_deliveries",
    "webhook_event_created",
    "webhook_event_updated",
    "webhook_event_deleted",
];

fn webhooks_page(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let locale = locale_of(caller);
    let store = state.store();
    let schema = store.schema();
    let hooks: Vec<Json> = store
        .webhooks(&caller.access)
        .unwrap_or_default()
        .iter()
        .map(|h| {
            let deliveries: Vec<Json> = store
                .deliveries(&caller.access, h.id, 10)
                .unwrap_or_default()
                .iter()
                .map(|d| {
                    json!({"id": d.id, "event": t(locale, &format!("webhook_event_{}", d.event)),
                           "record": format!("/e/{}/{}", d.entity, d.record_id), "record_id": d.record_id,
                           "status": d.status, "attempts": d.attempts,
                           "answer": d.last_status.map(|s| s.to_string()).or_else(|| d.last_error.clone()).unwrap_or_default(),
                           "at": local_time_text(state, caller, &d.created_at)})
                })
                .collect();
            json!({
                "id": h.id, "name": h.name, "url": h.url, "secret": h.secret, "active": h.active,
                "entity": schema.entity(&h.entity).map(|e| e.label.get(locale).to_string()).unwrap_or_else(|| h.entity.clone()),
                "entity_name": h.entity,
                "events": h.events.iter().map(|e| t(locale, &format!("webhook_event_{e}"))).collect::<Vec<_>>().join(", "),
                "event_names": h.events,
                "filter": h.filter.as_ref().map(|f| json!(f).to_string()).unwrap_or_default(),
                "deliveries": deliveries,
            })
        })
        .collect();
    let entities: Vec<Json> = schema
        .entities()
        .iter()
        .filter(|e| !e.retired)
        .map(|e| json!({"name": e.name, "label": e.label.get(locale)}))
        .collect();
    let events: Vec<Json> = EVENTS
        .iter()
        .map(|e| json!({"value": e, "label": t(locale, &format!("webhook_event_{e}"))}))
        .collect();
    let mut ctx = base(state, caller, "/admin/webhooks");
    ctx.insert("W".into(), crate::ui::render::words(locale, KEYS));
    ctx.insert("hooks".into(), json!(hooks));
    ctx.insert("entities".into(), json!(entities));
    ctx.insert("events".into(), json!(events));
    ctx.insert("error".into(), json!(error));
    page(status, "admin_webhooks.html", Json::Object(ctx))
}

/// `GET /admin/webhooks`.
pub async fn webhooks(State(state): State<AppState>, UiCaller(caller): UiCaller) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    webhooks_page(&state, &caller, StatusCode::OK, None)
}

fn refused(state: &AppState, caller: &Caller, err: crate::error::ApiError) -> Response {
    let text = crate::ui::refusal::form_refusal(locale_of(caller), &err);
    webhooks_page(state, caller, err.status, Some(text))
}

fn input_from(form: &[(String, String)]) -> Result<WebhookInput, String> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let filter = match get("filter").trim() {
        "" => None,
        text => Some(serde_json::from_str::<Json>(text).map_err(|e| format!("filter: {e}"))?),
    };
    Ok(WebhookInput {
        name: get("name"),
        url: get("url").trim().to_string(),
        entity: get("entity"),
        events: form
            .iter()
            .filter(|(k, _)| k == "event")
            .map(|(_, v)| v.clone())
            .collect(),
        filter,
        active: form.iter().all(|(k, v)| k != "active" || v != "0"),
    })
}

/// `POST /admin/webhooks`: a new webhook.
pub async fn add_webhook(
    State(state): State<AppState>,
    AdminForm { caller, form }: AdminForm<Vec<(String, String)>>,
) -> Response {
    let input = match input_from(&form) {
        Ok(i) => i,
        Err(why) => return webhooks_page(&state, &caller, StatusCode::BAD_REQUEST, Some(why)),
    };
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.create_webhook(&access, &input))
        .await
    {
        Ok(_) => Redirect::to("/admin/webhooks").into_response(),
        Err(err) => refused(&state, &caller, err),
    }
}

/// `POST /admin/webhooks/{id}/{op}`: `pause`, `resume`, `remove`, `secret` (a new one); `POST
/// /admin/webhooks/deliveries/{id}/replay` is `replay_delivery`.
pub async fn webhook_op(
    State(state): State<AppState>,
    Path((id, op)): Path<(i64, String)>,
    AdminForm { caller, form: _f }: AdminForm<serde::de::IgnoredAny>,
) -> Response {
    let access = caller.access.clone();
    let done = state
        .blocking(move |s| match op.as_str() {
            "remove" => s.delete_webhook(&access, id),
            "secret" => s.rotate_webhook_secret(&access, id).map(|_| ()),
            "pause" | "resume" => {
                let h = s.webhook(&access, id)?;
                let input = WebhookInput {
                    name: h.name,
                    url: h.url,
                    entity: h.entity,
                    events: h.events,
                    filter: h.filter.map(|f| json!(f)),
                    active: op == "resume",
                };
                s.update_webhook(&access, id, &input).map(|_| ())
            }
            other => Err(qingguan_core::Error::NotFound(format!(
                "no operation '{other}'"
            ))),
        })
        .await;
    match done {
        Ok(()) => Redirect::to("/admin/webhooks").into_response(),
        Err(err) => refused(&state, &caller, err),
    }
}

/// `POST /admin/webhooks/deliveries/{id}/replay`.
pub async fn replay_delivery(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm { caller, form: _f }: AdminForm<serde::de::IgnoredAny>,
) -> Response {
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.replay_delivery(&access, id))
        .await
    {
        Ok(_) => Redirect::to("/admin/webhooks").into_response(),
        Err(err) => refused(&state, &caller, err),
    }
}
