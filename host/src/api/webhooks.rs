//! Webhooks over HTTP (administrators): subscriptions, their delivery log with every attempt,
//! and replay.

use super::extract::{ApiJson, ApiPath};
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use qingguan_core::webhooks::WebhookInput;
use serde_json::{json, Value};

/// Every webhook, with its signing secret.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, description = "{\"items\": [webhook]}", body = Value), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "items": state.store().webhooks(&caller.access)? }),
    ))
}

/// Add a webhook: `{name, url, entity, events: [created|updated|deleted], filter?, active?}`.
/// `filter` is a condition on the record as workflows write them (`{"all": [{"field":
/// "amount", "op": "gt", "value": 5000}]}`). Each matching write puts a delivery in the
/// outbox in its own transaction; deliveries are posted as JSON with `X-Qingguan-Event`,
/// `X-Qingguan-Delivery`, `X-Qingguan-Timestamp` and `X-Qingguan-Signature: sha256=<hex>`
/// (HMAC-SHA256 of `<timestamp>.<body>` with the webhook's `secret`), retried with backoff
/// until a 2xx answer (ten attempts at most).
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body(content = Value, description = "The webhook"),
    responses((status = 201, body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let access = caller.access.clone();
    let hook = state
        .blocking(move |s| s.create_webhook(&access, &input))
        .await?;
    Ok((StatusCode::CREATED, Json(json!(hook))))
}

/// One webhook.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.store().webhook(&caller.access, id)?)))
}

/// Replace a webhook's settings (its secret stays).
#[utoipa::path(put, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")), request_body(content = Value, description = "The webhook"),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<Json<Value>> {
    let access = caller.access.clone();
    let hook = state
        .blocking(move |s| s.update_webhook(&access, id, &input))
        .await?;
    Ok(Json(json!(hook)))
}

/// Give a webhook a new signing secret; deliveries are signed with it from now on (retries of
/// earlier ones too).
#[utoipa::path(post, path = "/webhooks/{id}/secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let access = caller.access.clone();
    let hook = state
        .blocking(move |s| s.rotate_webhook_secret(&access, id))
        .await?;
    Ok(Json(json!(hook)))
}

/// Remove a webhook and its delivery log.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let access = caller.access.clone();
    state
        .blocking(move |s| s.delete_webhook(&access, id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's newest deliveries: status (`pending`, `delivered`, `failed`), attempts, the
/// receiver's last answer.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, description = "{\"items\": [delivery]}", body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let items = state.store().deliveries(&caller.access, id, 200)?;
    Ok(Json(json!({ "items": items })))
}

/// One delivery with every attempt (when, HTTP status or error, how long).
#[utoipa::path(get, path = "/webhook-deliveries/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delivery(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.store().delivery(&caller.access, id)?)))
}

/// Send a delivery again, now.
#[utoipa::path(post, path = "/webhook-deliveries/{id}/replay", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let access = caller.access.clone();
    let d = state
        .blocking(move |s| s.replay_delivery(&access, id))
        .await?;
    Ok(Json(json!(d)))
}
