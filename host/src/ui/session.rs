//! Signing in and out of the web UI, the language switch, and the extractor that sends
//! visitors without a session to the login page.

use super::i18n;
use super::render::{self, page};
use crate::api::auth::{cookies_secure, session_cookie, start_session, LoginError};
use crate::api::extract::ClientAddr;
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use qingguan_core::Locale;
use serde::Deserialize;
use serde_json::json;

/// A redirect target after login or a language switch: only a path on this site. Anything
/// else — another origin (`//host`, `/\host`, `https://…`), control characters or spaces
/// (browsers drop tabs and newlines, so `/\t/evil` would become `//evil`; CR/LF would break
/// the `Location` header) — becomes `/`.
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
        && HeaderValue::from_str(next).is_ok();
    if local {
        next.to_string()
    } else {
        "/".to_string()
    }
}

const LOGIN_COOKIE: &str = "qg_login";

/// The language of a page before sign-in: the browser's, else the install's default.
pub(super) fn page_locale(state: &AppState, headers: &HeaderMap) -> Locale {
    i18n::browser_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
    .unwrap_or_else(|| state.store().default_locale().unwrap_or_default())
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
}

fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Response {
    let locale = page_locale(state, headers);
    let token = qingguan_core::users::random_token();
    let secure = if cookies_secure(state, headers) {
        "; Secure"
    } else {
        ""
    };
    let ctx = json!({
        "locale": locale.as_str(), "T": render::strings(locale), "csrf": token, "next": next,
        "username": username, "error": error,
    });
    let mut resp = page(status, "login.html", ctx);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /login`.
pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    // An install without users has nobody to sign in: its first administrator is made there.
    if state.store().user_count().is_ok_and(|n| n == 0) {
        return Redirect::to("/setup").into_response();
    }
    login_form(
        &state,
        &headers,
        StatusCode::OK,
        &safe_next(q.next.as_deref().unwrap_or("/")),
        "",
        None,
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: checks the login form's token, then the password under the same login
/// guard as the API (locked out: 429 with `Retry-After`), then starts a session.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let parts_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == LOGIN_COOKIE)
        .map(|(_, v)| v.to_string());
    let next = safe_next(&f.next);
    if parts_cookie.as_deref() != Some(f.csrf.as_str()) {
        return login_form(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            &f.username,
            Some("CSRF".into()),
        );
    }
    let locale = page_locale(&state, &headers);
    let failed = |status, key| {
        login_form(
            &state,
            &headers,
            status,
            &next,
            &f.username,
            Some(i18n::t(locale, key)),
        )
    };
    match start_session(&state, f.username.clone(), f.password.clone(), addr).await {
        Ok(session) => {
            let ttl = state.config().session_ttl;
            let mut resp = Redirect::to(&next).into_response();
            resp.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &headers, &session.token, ttl.num_seconds()),
            );
            resp
        }
        Err(LoginError::Refused(r)) => {
            r.decorate(failed(StatusCode::TOO_MANY_REQUESTS, "login_throttled"))
        }
        Err(LoginError::Denied) => failed(StatusCode::UNAUTHORIZED, "login_failed"),
        Err(LoginError::Failed(e)) => e.into_response(),
    }
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedForm { caller, form: _f }: SignedForm<serde::de::IgnoredAny>,
) -> Response {
    let token = caller.token.clone();
    let _ = state.blocking(move |s| s.end_session(&token)).await;
    state.forget_sessions();
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, &headers, "", 0));
    resp
}

#[derive(Debug, Deserialize)]
pub struct LangForm {
    locale: String,
    #[serde(default)]
    back: String,
}

/// `POST /lang`: remembers the user's language.
pub async fn language(
    State(state): State<AppState>,
    SignedForm { caller, form: f }: SignedForm<LangForm>,
) -> Response {
    let Some(locale) = Locale::parse(&f.locale) else {
        return (StatusCode::BAD_REQUEST, "unknown language").into_response();
    };
    let id = caller.user.id;
    if let Err(e) = state.blocking(move |s| s.set_user_locale(id, locale)).await {
        return e.into_response();
    }
    state.forget_sessions();
    Redirect::to(&safe_next(if f.back.is_empty() { "/" } else { &f.back })).into_response()
}
