//! Merging a duplicate record into the one that stays.

use super::extract::{ApiJson, ApiPath};
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use qingguan_core::MergeRequest;
use serde_json::{json, Value};

/// Merge record `from` into record `id`: every reference to `from`, the activities about it
/// and its attachments move to `id`; the values of the fields in `take` (by default: each
/// field `id` has empty and `from` fills) are copied over through an ordinary update; `from`
/// is deleted and its history becomes part of `id`'s. One transaction. Needs update and
/// delete permission on the type and both records in scope. Body:
/// `{"version": v, "from": id, "from_version": v, "take": ["phone", "owner"]}`.
#[utoipa::path(post, path = "/records/{entity}/{id}/merge", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "The record that stays")),
    request_body(content = Value, description = "{version, from, from_version, take?}"),
    responses((status = 200, description = "{record, moved: {\"type.field\": n}, activities, attachments}", body = Value),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
    ApiJson(req): ApiJson<MergeRequest>,
) -> ApiResult<Json<Value>> {
    let access = caller.access.clone();
    let ent = entity.clone();
    let outcome = state
        .blocking(move |s| s.merge(&access, &ent, id, &req))
        .await?;
    let schema = state.store().schema_for(&caller.access);
    let record = schema
        .entity(&entity)
        .map(|e| json!(outcome.record.as_api(e)))
        .unwrap_or(Value::Null);
    Ok(Json(json!({
        "record": record,
        "moved": outcome.moved,
        "activities": outcome.activities,
        "attachments": outcome.attachments,
    })))
}
