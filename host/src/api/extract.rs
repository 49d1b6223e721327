//! Request extractors that fail with [`ApiError`] bodies instead of axum's plain-text ones:
//! JSON bodies, path parameters, `If-Match` versions and the authenticated [`Caller`] (from
//! `Authorization: Bearer …` or the session cookie; cookie callers must send the session's
//! CSRF token in `X-CSRF-Token` on every state change).

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use serde::de::DeserializeOwned;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "qg_session";
/// Header carrying the anti-CSRF token for cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body; malformed JSON is 400, wrong shapes 422, oversize 413.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let text = r.body_text();
    match r {
        JsonRejection::JsonDataError(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            text.replace(
                "Failed to deserialize the JSON body into the target type: ",
                "",
            ),
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            text.replace(
                "Failed to parse the request body as JSON: ",
                "malformed JSON: ",
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "content_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is larger than the server accepts",
        ),
        _ => ApiError::new(StatusCode::BAD_REQUEST, "bad_body", text),
    }
}

/// Path parameters; a malformed id is 400.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::bad_request("path", e.body_text())),
        }
    }
}

/// The version from `If-Match` (`3`, `"3"` or `W/"3"`); required where it is extracted.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts
            .headers
            .get(header::IF_MATCH)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "If-Match",
                    "required: send the record's current version, e.g. If-Match: \"3\"",
                )
            })?
            .to_str()
            .unwrap_or("");
        let v = raw.trim().trim_start_matches("W/").trim_matches('"');
        v.parse::<i64>().map(IfMatch).map_err(|_| {
            ApiError::bad_request("If-Match", format!("'{raw}' is not a record version"))
        })
    }
}

/// The session token of a request, from the bearer header or the cookie.
pub fn session_token(parts: &Parts) -> Option<(String, bool)> {
    if let Some(auth) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = auth.strip_prefix("Bearer ").map(str::trim) {
            return Some((t.to_string(), false));
        }
    }
    cookie(parts, SESSION_COOKIE).map(|t| (t, true))
}

/// A cookie's value.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let (token, via_cookie) = session_token(parts).ok_or_else(|| {
            ApiError::unauthenticated("log in first: send a Bearer token or the session cookie")
        })?;
        let api_token = token.starts_with(qingguan_core::api_tokens::TOKEN_PREFIX);
        let caller = if api_token && !via_cookie {
            state.token_caller(&token)?
        } else {
            state.caller(&token)?
        };
        if let Some(scopes) = &caller.token_scopes {
            if let Some(why) = token_refusal(&parts.method, parts.uri.path(), scopes) {
                return Err(ApiError::forbidden(why));
            }
        }
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if caller.csrf.is_empty() || sent != Some(caller.csrf.as_str()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong X-CSRF-Token for a cookie-authenticated change",
                ));
            }
        }
        crate::error::set_request_locale(caller.locale());
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// Why an API token may not make this request, if it may not. Its scopes decide what records
/// it reaches (the core narrows its access); beyond records, a token never manages the
/// account it acts for (tokens, password, sessions), never decides approvals, delegates or
/// clears the inbox, and runs plugin code — routes, queries, actions, jobs, which may act
/// beyond records the token reaches — only with the `plugins` scope.
fn token_refusal(method: &Method, path: &str, scopes: &[String]) -> Option<&'static str> {
    let p = path.strip_prefix(super::PREFIX).unwrap_or(path);
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let segments: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["tokens", ..] => {
            Some("tokens are managed from a signed-in session, not with an API token")
        }
        ["auth", "me"] if safe => None,
        ["auth", ..] => Some("an API token does not sign in, out or change its account"),
        ["users", _, "password"] => Some("an API token does not change passwords"),
        ["approvals" | "notifications", ..] if !safe => {
            Some("approvals and the inbox are decided by the person, not with an API token")
        }
        ["plugins", _, op, ..] if !matches!(*op, "enable" | "disable" | "rollback" | "config") => {
            plugin_scope(scopes)
        }
        ["records", _, _, "actions", ..] => plugin_scope(scopes),
        _ => None,
    }
}

fn plugin_scope(scopes: &[String]) -> Option<&'static str> {
    if scopes.iter().any(|s| s == "plugins") {
        None
    } else {
        Some("calling plugins needs a token with the plugins scope")
    }
}

/// The client's address: the TCP peer the server saw, or, when that peer is a trusted proxy
/// (`--trusted-proxy`), the client it names in `X-Forwarded-For`. `None` when the app is
/// driven without a server (no `ConnectInfo`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

/// Untrusted peers reported in the log for forwarding for others (each once, up to 64, so
/// that clients writing the header themselves cannot use the report up before a proxy that
/// should be trusted is seen).
static UNTRUSTED_FORWARDERS: std::sync::Mutex<Vec<std::net::IpAddr>> =
    std::sync::Mutex::new(Vec::new());

/// Whether `peer` is reported now (the first time it is seen forwarding).
fn report_forwarder(peer: std::net::IpAddr) -> bool {
    let mut seen = UNTRUSTED_FORWARDERS
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if seen.len() >= 64 || seen.contains(&peer) {
        return false;
    }
    seen.push(peer);
    true
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(peer) = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Ok(ClientAddr(None));
        };
        let proxies = &state.config().trusted_proxies;
        if !proxies.trusts(peer)
            && parts.headers.contains_key("x-forwarded-for")
            && report_forwarder(peer)
        {
            tracing::warn!(
                %peer,
                "a request carries X-Forwarded-For from a peer that is not a trusted proxy: \
                 its header is ignored, and if this peer is your reverse proxy or load \
                 balancer, every client behind it counts as one address for login lockouts \
                 (name it with --trusted-proxy)"
            );
        }
        Ok(ClientAddr(Some(proxies.client(peer, &parts.headers))))
    }
}

/// Whether the request reached the server over HTTPS: a reverse proxy says so with
/// `X-Forwarded-Proto: https` (or `Forwarded: proto=https`). Only used to mark cookies
/// `Secure`, which a spoofed header can only make stricter.
pub fn arrived_over_https(headers: &axum::http::HeaderMap) -> bool {
    let forwarded_proto = headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proto"))
        .is_some_and(|(_, v)| v.trim().trim_matches('"').eq_ignore_ascii_case("https"));
    forwarded_proto || forwarded
}
