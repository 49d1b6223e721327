//! Logging in and out, and the caller's own profile.

use super::extract::{arrived_over_https, ApiJson, ClientAddr, SESSION_COOKIE};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::throttle::Refused;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qingguan_core::users::Session;
use qingguan_core::Locale;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
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
    #[serde(default)]
    pub locale: Option<String>,
    /// Whether notifications also come by e-mail (when the server sends mail).
    #[serde(default)]
    pub mail_notifications: Option<bool>,
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

/// Whether cookies set in answer to a request are `Secure`: always when configured
/// (`--secure-cookies`), else when a proxy forwarded the request as HTTPS.
pub(crate) fn cookies_secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.config().secure_cookies || arrived_over_https(headers)
}

/// The `Set-Cookie` value for a session (empty token clears it).
pub(crate) fn session_cookie(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if cookies_secure(state, headers) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Why a login did not start a session.
#[derive(Debug)]
pub(crate) enum LoginError {
    /// Locked out, or no password-check slot: 429 with `Retry-After`; no password was checked.
    Refused(Refused),
    /// Wrong username or password — also said of a deactivated account, so the answer never
    /// tells whether a password was right.
    Denied,
    /// Something else failed (the database).
    Failed(ApiError),
}

/// Checks a password under the login guard and starts a session: the one way in for the API
/// and the UI login form. The outcome is recorded even if the client leaves meanwhile.
pub(crate) async fn start_session(
    state: &AppState,
    username: String,
    password: String,
    addr: Option<IpAddr>,
) -> Result<Session, LoginError> {
    if username.len() > 200 || password.len() > 1024 {
        return Err(LoginError::Denied);
    }
    let permit = state
        .logins()
        .enter(&username, addr)
        .await
        .map_err(LoginError::Refused)?;
    let ttl = state.config().session_ttl;
    let st = state.clone();
    let outcome = state
        .blocking(move |s| {
            let checked = s.authenticate(&username, &password);
            drop(permit);
            let address = addr.map(|a| a.to_string()).unwrap_or_default();
            let name = username.trim();
            match checked {
                Ok(id) => {
                    st.logins().succeeded(&username);
                    let session = s.create_session(id, ttl)?;
                    s.audit(Some(id), &address, "login", name, &serde_json::json!({}))?;
                    Ok(Some(session))
                }
                Err(qingguan_core::Error::Unauthenticated(_)) => {
                    st.logins().failed(&username, addr);
                    // The name as typed (cut short): someone guessing shows up here.
                    let typed: String = name.chars().take(100).collect();
                    s.audit(
                        None,
                        &address,
                        "login_failed",
                        &typed,
                        &serde_json::json!({}),
                    )?;
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        })
        .await;
    match outcome {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(LoginError::Denied),
        Err(e) => Err(LoginError::Failed(e)),
    }
}

/// Log in with a username and password. Failed logins are limited per account and per
/// client address: past the limit (and when too many logins arrive at once) the answer is
/// 429 with `Retry-After`, without checking the password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, body = ErrorBody, description = "wrong username or password (also for a deactivated account)"),
        (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody,
            description = "`too_many_requests`: too many failed logins for this account or from this address, or too many logins at once",
            headers(("Retry-After" = u64, description = "seconds to wait before trying again")))))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    request_headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Response {
    let session = match start_session(&state, req.username, req.password, addr).await {
        Ok(s) => s,
        Err(LoginError::Refused(r)) => return r.into_response(),
        Err(LoginError::Denied) => {
            return ApiError::unauthenticated("wrong username or password").into_response()
        }
        Err(LoginError::Failed(e)) => return e.into_response(),
    };
    let caller = match state.caller(&session.token) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let ttl = state.config().session_ttl;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session_cookie(&state, &request_headers, &session.token, ttl.num_seconds()),
    );
    let body = LoginResponse {
        token: session.token,
        csrf_token: session.csrf,
        expires_at: session.expires_at,
        user: me(&state, &caller),
    };
    (headers, Json(body)).into_response()
}

/// End the current session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    request_headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let token = caller.token.clone();
    state.blocking(move |s| s.end_session(&token)).await?;
    state.forget_sessions();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        session_cookie(&state, &request_headers, "", 0),
    );
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
    let id = caller.user.id;
    if let Some(on) = p.mail_notifications {
        state
            .blocking(move |s| s.set_user_mail_notifications(id, on))
            .await?;
    }
    let Some(wanted) = p.locale else {
        state.forget_sessions();
        let caller = state.caller(&caller.token)?;
        return Ok(Json(me(&state, &caller)));
    };
    let locale = Locale::parse(&wanted)
        .filter(|l| l.as_str() == wanted)
        .ok_or_else(|| {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "unknown locale",
            );
            e.fields.insert(
                "locale".into(),
                qingguan_core::Reason::NotOption {
                    value: wanted.clone(),
                    options: vec!["en".into(), "zh-CN".into()],
                },
            );
            e
        })?;
    state
        .blocking(move |s| s.set_user_locale(id, locale))
        .await?;
    state.forget_sessions();
    let caller = state.caller(&caller.token)?;
    Ok(Json(me(&state, &caller)))
}
