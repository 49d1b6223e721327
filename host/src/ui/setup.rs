//! The first administrator, made in the browser: on an install with no users at all,
//! `/setup` shows a one-time form; once any user exists it is gone (404). Creating the user
//! and checking that there is none yet are one transaction, so two forms posted at once make
//! one administrator. The form carries a token also set as a cookie for `/setup` only (as the
//! login form does), so another site cannot post it from a visitor's browser.

use super::i18n;
use super::render::{self, page};
use super::session::page_locale;
use crate::api::auth::cookies_secure;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use qingguan_core::{Access, Error, NewUser};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

const SETUP_COOKIE: &str = "qg_setup";

/// The role the first user gets.
const ADMIN_ROLE: &str = "admin";

fn no_users(state: &AppState) -> bool {
    state.store().user_count().is_ok_and(|n| n == 0)
}

/// The page once setup is done (or for a second form that lost the race): 404.
fn gone(state: &AppState, headers: &HeaderMap) -> Response {
    let locale = page_locale(state, headers);
    let ctx = json!({"locale": locale.as_str(), "T": render::strings(locale), "gone": true});
    page(StatusCode::NOT_FOUND, "setup.html", ctx)
}

/// The form, with what was typed (never the password) and the reasons beside the inputs.
fn setup_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    typed: (&str, &str),
    errors: Map<String, Json>,
) -> Response {
    let locale = page_locale(state, headers);
    let token = qingguan_core::users::random_token();
    let ctx = json!({
        "locale": locale.as_str(), "T": render::strings(locale), "csrf": token,
        "username": typed.0, "display_name": typed.1, "errors": errors,
        "error": (!errors.is_empty()).then(|| i18n::t(locale, "fix_errors")),
    });
    let secure = if cookies_secure(state, headers) {
        "; Secure"
    } else {
        ""
    };
    let mut resp = page(status, "setup.html", ctx);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SETUP_COOKIE}={token}; Path=/setup; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /setup`.
pub async fn setup_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !no_users(&state) {
        return gone(&state, &headers);
    }
    setup_form(&state, &headers, StatusCode::OK, ("", ""), Map::new())
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// `POST /setup`: creates the first administrator and sends them to sign in; refused (404)
/// once any user exists, however many forms were posted at once.
pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SetupForm>,
) -> Response {
    if !no_users(&state) {
        return gone(&state, &headers);
    }
    let locale = page_locale(&state, &headers);
    let typed = (f.username.as_str(), f.display_name.as_str());
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SETUP_COOKIE)
        .map(|(_, v)| v.to_string());
    if f.csrf.is_empty() || cookie.as_deref() != Some(f.csrf.as_str()) {
        let mut errors = Map::new();
        errors.insert("form".into(), json!(i18n::t(locale, "form_expired")));
        return setup_form(&state, &headers, StatusCode::FORBIDDEN, typed, errors);
    }
    if f.password != f.password_again {
        let mut errors = Map::new();
        errors.insert(
            "password_again".into(),
            json!(i18n::t(locale, "passwords_differ")),
        );
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return setup_form(&state, &headers, status, typed, errors);
    }
    let new = NewUser {
        username: f.username.clone(),
        display_name: Some(f.display_name.clone()).filter(|s| !s.trim().is_empty()),
        password: f.password.clone(),
        invite: false,
        role: ADMIN_ROLE.into(),
        team: None,
        manager: None,
        email: None,
        locale: None,
    };
    let slot = state.logins().slot_waiting().await;
    let outcome = state
        .blocking(move |s| {
            let r = s.transaction(|| {
                // Checked inside the transaction: a second form waits for the first to commit
                // and then finds a user.
                if s.user_count()? > 0 {
                    return Err(Error::NotFound("setup is done".into()));
                }
                s.create_user(&Access::system(), &new, false)
            });
            drop(slot);
            r
        })
        .await;
    match outcome {
        Ok(_) => {
            state.forget_sessions();
            Redirect::to("/login").into_response()
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => gone(&state, &headers),
        Err(e) => {
            let mut errors = Map::new();
            for (k, why) in &e.fields {
                errors.insert(k.clone(), json!(why.render(locale)));
            }
            if errors.is_empty() {
                errors.insert("form".into(), json!(i18n::t(locale, "op_failed")));
            }
            setup_form(&state, &headers, e.status, typed, errors)
        }
    }
}
