//! Full-text search across every entity type the caller may read.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// What to look for (words match as prefixes; Chinese matches as phrases).
    pub q: Option<String>,
    /// At most this many hits (1-100, default 20).
    pub limit: Option<usize>,
}

/// Search records across entity types, within the caller's permissions and scopes.
#[utoipa::path(get, path = "/search", tag = "records", security(("bearer" = [])), params(SearchParams),
    responses((status = 200, description = "{\"items\": [{entity, id, title, matched?: {field, text}}]}: `matched` names the field (other than the title) a hit was found by, with its text around the match", body = Value), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let q = p.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Err(ApiError::bad_request("q", "say what to search for"));
    }
    if q.chars().count() > 200 {
        return Err(ApiError::bad_request("q", "at most 200 characters"));
    }
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request("limit", "must be 1-100"));
    }
    let hits = state.store().search(&caller.access, &q, limit)?;
    Ok(Json(json!({ "items": hits })))
}
