//! The API tokens page: a person's tokens (every token for an administrator) with what each
//! may do, when it expires and was last used, a form to create one — its secret shown once,
//! on the page that answers the form — and revocation.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::{SignedForm, UiCaller};
use crate::ui::render::{base, local_time_text, locale_of, page, t, title_of};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::api_tokens::NewApiToken;
use serde_json::{json, Value as Json};

const KEYS: &[&str] = &[
    "token_hint",
    "token_name",
    "token_days",
    "token_scopes",
    "token_read",
    "token_write",
    "token_admin",
    "token_plugins",
    "token_for",
    "token_issue",
    "token_secret",
    "token_expires",
    "token_last_used",
    "token_revoked",
    "token_revoke",
    "token_confirm_revoke",
    "token_none",
];

fn tokens_page(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    secret: Option<String>,
    error: Option<String>,
) -> Response {
    let locale = locale_of(caller);
    let entities = crate::ui::render::readable_types(state, caller);
    let tokens: Vec<Json> = state
        .store()
        .api_tokens(&caller.access)
        .unwrap_or_default()
        .iter()
        .map(|tk| {
            json!({
                "id": tk.id, "name": tk.name, "prefix": tk.prefix,
                "kind": t(locale, &format!("token_kind_{}", tk.kind)),
                "user": title_of(state, caller, "user", tk.user_id),
                "scopes": tk.scopes.join(", "),
                "expires": local_time_text(state, caller, &tk.expires_at),
                "last_used": tk.last_used_at.as_deref()
                    .map(|at| local_time_text(state, caller, at))
                    .unwrap_or_else(|| t(locale, "token_never")),
                "revoked": tk.revoked_at.is_some(),
            })
        })
        .collect();
    // An administrator may issue a token for another (service) user.
    let users: Vec<Json> = if caller.access.is_admin() {
        state
            .store()
            .list(
                &caller.access,
                "user",
                &qingguan_core::ListQuery {
                    limit: 200,
                    ..Default::default()
                },
            )
            .map(|p| p.items)
            .unwrap_or_default()
            .iter()
            .map(|u| {
                json!({"id": u.id, "name": u.get("display_name").to_text(),
                       "me": Some(u.id) == caller.access.user_id})
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut ctx = base(state, caller, "/tokens");
    ctx.insert("W".into(), crate::ui::render::words(locale, KEYS));
    ctx.insert("entities".into(), json!(entities));
    ctx.insert("tokens".into(), json!(tokens));
    ctx.insert("users".into(), json!(users));
    ctx.insert("secret".into(), json!(secret));
    ctx.insert("error".into(), json!(error));
    page(status, "tokens.html", Json::Object(ctx))
}

/// `GET /tokens`.
pub async fn tokens(State(state): State<AppState>, UiCaller(caller): UiCaller) -> Response {
    tokens_page(&state, &caller, StatusCode::OK, None, None)
}

/// `POST /tokens`: name, days, `scope.<entity>` = read|write, `admin`, `user_id`.
pub async fn issue(
    State(state): State<AppState>,
    SignedForm { caller, form }: SignedForm<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut scopes: Vec<String> = form
        .iter()
        .filter_map(|(k, v)| {
            let entity = k.strip_prefix("scope.")?;
            matches!(v.as_str(), "read" | "write").then(|| format!("{entity}:{v}"))
        })
        .collect();
    if get("plugins").is_some() {
        scopes.push("plugins".into());
    }
    if get("admin").is_some() {
        scopes.push("admin".into());
    }
    let new = NewApiToken {
        user_id: get("user_id").and_then(|u| u.parse().ok()),
        name: get("name").unwrap_or_default(),
        scopes,
        days: get("days").and_then(|d| d.parse().ok()).unwrap_or(0),
    };
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.issue_api_token(&access, new))
        .await
    {
        // The secret is on this page only: the answer to the form, never a page to go back to.
        Ok(issued) => tokens_page(
            &state,
            &caller,
            StatusCode::CREATED,
            Some(issued.secret),
            None,
        ),
        Err(err) => {
            let text = crate::ui::refusal::form_refusal(locale_of(&caller), &err);
            tokens_page(&state, &caller, err.status, None, Some(text))
        }
    }
}

/// `POST /tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { caller, form: _f }: SignedForm<serde::de::IgnoredAny>,
) -> Response {
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.revoke_api_token(&access, id))
        .await
    {
        Ok(()) => {
            state.forget_sessions();
            Redirect::to("/tokens").into_response()
        }
        Err(err) => tokens_page(&state, &caller, err.status, None, Some(err.message)),
    }
}
