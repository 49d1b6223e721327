//! Logging in and out, and the caller's own profile.

use super::extract::{ApiJson, SESSION_COOKIE};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use qingguan_core::Locale;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token (also set as the `qg_session` cookie).
    pub token: String,
    /// Send as `X-CSRF-Token` on writes authenticated by the cookie.
    pub csrf_token: String,
    /// Expiry, RFC 3339.
    pub expires_at: String,
    /// Who logged in.
    pub user: Me,
}

/// The signed-in user and what they may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role name.
    pub role: String,
    /// Administrator.
    pub admin: bool,
    /// Team.
    pub team: Option<String>,
    /// Chosen locale (`en`, `zh-CN`), if any.
    pub locale: Option<String>,
    /// Entity type → permission.
    #[schema(value_type = Object)]
    pub permissions: BTreeMap<String, qingguan_core::EntityPermission>,
}

/// Changes to one's own profile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// `en` or `zh-CN`.
    pub locale: String,
}

pub(crate) fn me(state: &AppState, caller: &Caller) -> Me {
    let schema = state.store().schema();
    let permissions = schema
        .entities()
        .iter()
        .map(|e| (e.name.clone(), caller.access.permission(&e.name)))
        .collect();
    Me {
        id: caller.user.id,
        username: caller.user.username.clone(),
        display_name: caller.user.display_name.clone(),
        role: caller.user.role.clone(),
        admin: caller.user.admin,
        team: caller.user.team.clone(),
        locale: caller.user.locale.map(|l| l.as_str().to_string()),
        permissions,
    }
}

/// The `Set-Cookie` value for a session (empty token clears it).
pub(crate) fn session_cookie(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Log in with a username and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    if req.username.len() > 200 || req.password.len() > 1024 {
        return Err(ApiError::unauthenticated("wrong username or password"));
    }
    let ttl = state.config().session_ttl;
    let (session, user_id) = state
        .blocking(move |s| {
            let id = s.authenticate(&req.username, &req.password)?;
            Ok((s.create_session(id, ttl)?, id))
        })
        .await?;
    let caller = state.caller(&session.token)?;
    debug_assert_eq!(caller.user.id, user_id);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session_cookie(&state, &session.token, ttl.num_seconds()),
    );
    let body = LoginResponse {
        token: session.token,
        csrf_token: session.csrf,
        expires_at: session.expires_at,
        user: me(&state, &caller),
    };
    Ok((headers, Json(body)))
}

/// End the current session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<impl IntoResponse> {
    let token = caller.token.clone();
    state.blocking(move |s| s.end_session(&token)).await?;
    state.forget_sessions();
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok((StatusCode::NO_CONTENT, headers))
}

/// Who am I, and what may I do?
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, caller: Caller) -> Json<Me> {
    Json(me(&state, &caller))
}

/// Change my preferences (language).
#[utoipa::path(patch, path = "/auth/me", tag = "auth", security(("bearer" = [])), request_body = MePatch,
    responses((status = 200, body = Me), (status = 422, body = ErrorBody)))]
pub async fn patch_me(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(p): ApiJson<MePatch>,
) -> ApiResult<Json<Me>> {
    let locale = Locale::parse(&p.locale)
        .filter(|l| l.as_str() == p.locale)
        .ok_or_else(|| {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "unknown locale",
            );
            e.fields.insert(
                "locale".into(),
                qingguan_core::Reason::NotOption {
                    value: p.locale.clone(),
                    options: vec!["en".into(), "zh-CN".into()],
                },
            );
            e
        })?;
    let id = caller.user.id;
    state
        .blocking(move |s| s.set_user_locale(id, locale))
        .await?;
    state.forget_sessions();
    let caller = state.caller(&caller.token)?;
    Ok(Json(me(&state, &caller)))
}
