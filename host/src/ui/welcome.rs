//! Accepting an invitation: `/welcome/{token}` greets the invited user and asks for a new
//! password (twice); setting it uses the link up and signs them in. An unknown, used or
//! expired link says so and nothing else. The form carries a token also set as a cookie for
//! `/welcome` only (as the login and setup forms do), so another site cannot post it.

use super::i18n;
use super::render::{self, page};
use super::session::page_locale;
use crate::api::auth::{cookies_secure, session_cookie};
use crate::api::extract::ClientAddr;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;

const WELCOME_COOKIE: &str = "qg_welcome";

fn welcome_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    token: &str,
    error: Option<String>,
) -> Response {
    let mut locale = page_locale(state, headers);
    let who = state.store().invitation(token);
    if let Ok(w) = &who {
        locale = w.locale.unwrap_or(locale);
    }
    let form_token = qingguan_core::users::random_token();
    let t = |k: &str| i18n::t(locale, k);
    let ctx = match &who {
        Ok(w) => json!({
            "locale": locale.as_str(), "T": render::strings(locale), "csrf": form_token,
            "name": if w.display_name.is_empty() { &w.username } else { &w.display_name },
            "username": w.username, "token": token, "error": error,
            "welcome": t("welcome"), "welcome_help": t("welcome_help"),
            "password_again": t("password_again"), "set_password": t("set_password"),
        }),
        Err(_) => json!({
            "locale": locale.as_str(), "T": render::strings(locale), "gone": t("welcome_gone"),
        }),
    };
    let status = if who.is_err() {
        StatusCode::NOT_FOUND
    } else {
        status
    };
    let mut resp = page(status, "welcome.html", ctx);
    // The page carries a one-time link's form: no cache keeps it.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let secure = if cookies_secure(state, headers) {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{WELCOME_COOKIE}={form_token}; Path=/welcome; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /welcome/{token}`.
pub async fn welcome(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    welcome_page(&state, &headers, StatusCode::OK, &token, None)
}

#[derive(Debug, Deserialize)]
pub struct WelcomeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// `POST /welcome/{token}`: sets the password, uses the link up, signs in. An unknown link
/// counts as a failed login from the client's address, so a loop of guesses is locked out.
pub async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    Path(token): Path<String>,
    Form(f): Form<WelcomeForm>,
) -> Response {
    let locale = page_locale(&state, &headers);
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == WELCOME_COOKIE)
        .map(|(_, v)| v.to_string());
    if f.csrf.is_empty() || cookie.as_deref() != Some(f.csrf.as_str()) {
        let why = i18n::t(locale, "form_expired");
        return welcome_page(&state, &headers, StatusCode::FORBIDDEN, &token, Some(why));
    }
    if f.password != f.password_again {
        let why = i18n::t(locale, "passwords_differ");
        return welcome_page(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            &token,
            Some(why),
        );
    }
    // Guessing links counts against the address as guessing passwords does, and hashing
    // takes a password-check slot, as logins do.
    let slot = match state.logins().enter_from(addr).await {
        Ok(slot) => slot,
        Err(refused) => {
            let ctx = json!({
                "locale": locale.as_str(), "T": render::strings(locale),
                "gone": i18n::t(locale, "login_throttled"),
            });
            return refused.decorate(page(StatusCode::TOO_MANY_REQUESTS, "welcome.html", ctx));
        }
    };
    let ttl = state.config().session_ttl;
    let link = token.clone();
    let accepted = state
        .blocking(move |s| {
            let user = s.accept_invitation(&token, &f.password);
            drop(slot);
            let user = user?;
            s.create_session(user, ttl)
        })
        .await;
    match accepted {
        Ok(session) => {
            state.forget_sessions();
            let mut resp = Redirect::to("/").into_response();
            resp.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &headers, &session.token, ttl.num_seconds()),
            );
            resp
        }
        Err(err) => {
            if err.status == StatusCode::NOT_FOUND {
                let st = state.clone();
                // Counting writes the database: off the async workers.
                let _ = tokio::task::spawn_blocking(move || st.logins().failed_from(addr)).await;
            }
            let why = err
                .fields
                .values()
                .map(|r| r.render(locale))
                .next()
                .unwrap_or(err.message);
            welcome_page(&state, &headers, err.status, &link, Some(why))
        }
    }
}
