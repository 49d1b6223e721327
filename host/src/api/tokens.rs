//! API tokens over HTTP: issue one (the secret is in that answer only), list them, revoke one.
//! Issued from a signed-in session, never with another token.

use super::extract::{ApiJson, ApiPath};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use qingguan_core::api_tokens::{NewApiToken, TOKEN_PREFIX};
use serde::Deserialize;
use serde_json::{json, Value};

/// What to issue.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What it is for ("nightly ERP sync").
    name: String,
    /// `customer:read`, `deal:write`, `*:read`, `*:write`, `admin`.
    scopes: Vec<String>,
    /// Days until it expires (default 90, at most 1095).
    #[serde(default = "ninety")]
    days: i64,
    /// The user it acts as (administrators issue service tokens for other users).
    #[serde(default)]
    user_id: Option<i64>,
}

fn ninety() -> i64 {
    90
}

fn not_with_a_token(caller: &Caller) -> ApiResult<()> {
    if caller.token.starts_with(TOKEN_PREFIX) {
        return Err(ApiError::forbidden(
            "tokens are managed from a signed-in session, not with an API token",
        ));
    }
    Ok(())
}

/// Issue an API token. The answer holds the secret (`secret`, starting `qgt_`) — the only
/// time it is shown. Send it as `Authorization: Bearer <secret>`; it acts as its user,
/// narrowed to its scopes.
#[utoipa::path(post, path = "/tokens", tag = "tokens", security(("bearer" = [])), request_body = TokenRequest,
    responses((status = 201, description = "{token, secret}", body = Value), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    not_with_a_token(&caller)?;
    let access = caller.access.clone();
    let issued = state
        .blocking(move |s| {
            s.issue_api_token(
                &access,
                NewApiToken {
                    user_id: body.user_id,
                    name: body.name,
                    scopes: body.scopes,
                    days: body.days,
                },
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(issued))))
}

/// Your tokens (every token for an administrator): name, scopes, kind, expiry, last used,
/// revoked — never the secret.
#[utoipa::path(get, path = "/tokens", tag = "tokens", security(("bearer" = [])),
    responses((status = 200, description = "{\"items\": [token]}", body = Value), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    not_with_a_token(&caller)?;
    let items = state.store().api_tokens(&caller.access)?;
    Ok(Json(json!({ "items": items })))
}

/// Revoke a token (yours, one you issued, or any for an administrator). It stops working at
/// once.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    not_with_a_token(&caller)?;
    let access = caller.access.clone();
    state
        .blocking(move |s| s.revoke_api_token(&access, id))
        .await?;
    state.forget_sessions();
    Ok(StatusCode::NO_CONTENT)
}
