//! Extractors of UI handlers: the signed-in caller (else the login page), the CSRF-checked
//! form of a signed-in caller, and submitted pairs.

use crate::api::extract::{cookie, SESSION_COOKIE};
use crate::caller::Caller;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

/// A submitted form (or query string) as ordered pairs.
pub type Pairs = Vec<(String, String)>;

/// A form field's value (the first, if repeated).
pub fn form_field<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A form posted by a signed-in user whose `csrf` field carries the session's token; `form` is
/// the whole form read as `T`. Answered before the handler runs: without a session, the login
/// page; with a missing or wrong token, 403 (nothing changes); a form that does not fit `T`, 422.
#[derive(Debug)]
pub struct SignedForm<T> {
    /// Who posted it.
    pub caller: Caller,
    /// The submitted form.
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for SignedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let form_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        if !form_type {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the form as application/x-www-form-urlencoded",
            )
                .into_response());
        }
        let (mut parts, body) = req.into_parts();
        let UiCaller(caller) = UiCaller::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let sent = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        check_csrf(&caller, sent.as_deref())?;
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("invalid form: {e}"),
            )
                .into_response()
        })?;
        Ok(SignedForm { caller, form })
    }
}

/// A signed-in user of the web UI (session cookie only).
#[derive(Debug, Clone)]
pub struct UiCaller(pub Caller);

impl FromRequestParts<AppState> for UiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            Redirect::to(&format!("/login?next={next}")).into_response()
        };
        let Some(token) = cookie(parts, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match state.caller(&token) {
            Ok(mut c) => {
                // Until the user chooses a language (the language switch), their browser's
                // applies; the install's default only when the browser names neither.
                if c.user.locale.is_none() {
                    let header = parts
                        .headers
                        .get(axum::http::header::ACCEPT_LANGUAGE)
                        .and_then(|v| v.to_str().ok());
                    if let Some(l) = crate::ui::i18n::browser_language(header) {
                        c.make_mut().access.locale = l;
                    }
                }
                crate::error::set_request_locale(c.locale());
                Ok(UiCaller(c))
            }
            Err(_) => Err(to_login()),
        }
    }
}

/// Fails unless a form's `csrf` field is the session's token.
pub fn check_csrf(caller: &Caller, sent: Option<&str>) -> Result<(), Response> {
    if !caller.csrf.is_empty() && sent == Some(caller.csrf.as_str()) {
        Ok(())
    } else {
        Err((
            StatusCode::FORBIDDEN,
            "missing or wrong CSRF token; reload the page and try again",
        )
            .into_response())
    }
}
