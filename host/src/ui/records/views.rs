//! Saved views of a list: saving the current filters under a name, renaming and deleting a
//! view — each only the owner's own (another user's view is answered as missing).

use super::list::list_page;
use super::{encode, entity_or_page};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::extract::{Pairs, SignedForm};
use crate::ui::render::{locale_of, t};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::Locale;
use serde::Deserialize;

/// A list query string as sent back by a form, re-encoded so that only its pairs survive
/// (nothing that could break the redirect's `Location`).
fn clean_query(raw: &str) -> String {
    let pairs: Pairs = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    encode(&pairs)
}

/// The list again, with why a change of a saved view was refused — each refused field by
/// the words the list shows for it, in the caller's language.
fn refused(state: &AppState, caller: &Caller, entity: &str, back: &str, e: &ApiError) -> Response {
    let locale = locale_of(caller);
    let colon = if locale == Locale::ZhCn { "：" } else { ": " };
    let text = if e.fields.is_empty() {
        match e.status {
            StatusCode::NOT_FOUND => t(locale, "view_not_found"),
            _ => t(locale, "op_failed"),
        }
    } else {
        e.fields
            .iter()
            .map(|(k, why)| {
                let label = if k == "name" {
                    t(locale, "view_name")
                } else {
                    k.clone()
                };
                format!("{label}{colon}{}", why.render(locale))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let back = clean_query(back);
    list_page(
        state,
        caller,
        entity,
        Some(&back),
        Some(super::list::Notice::Refused(text)),
        e.status,
    )
}

#[derive(Debug, Deserialize)]
pub struct ViewForm {
    name: String,
    #[serde(default)]
    query: String,
}

/// `POST /e/{entity}/views`: saves the current filters as a named view.
pub async fn save_view(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    SignedForm { caller, form: f }: SignedForm<ViewForm>,
) -> Response {
    if let Err(r) = entity_or_page(&state, &caller, &entity) {
        return r;
    }
    let query = clean_query(&f.query);
    let (uid, e2, q) = (caller.user.id, entity.clone(), query.clone());
    match state
        .blocking(move |s| s.save_view(uid, &e2, &f.name, &q))
        .await
    {
        Ok(()) => Redirect::to(&format!("/e/{entity}?{query}")).into_response(),
        Err(e) => refused(&state, &caller, &entity, &query, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RenameForm {
    name: String,
    /// The list's query string when the form was shown, to come back to.
    #[serde(default)]
    back: String,
}

/// `POST /e/{entity}/views/{id}/rename`.
pub async fn rename_view(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, i64)>,
    SignedForm { caller, form: f }: SignedForm<RenameForm>,
) -> Response {
    if let Err(r) = entity_or_page(&state, &caller, &entity) {
        return r;
    }
    let uid = caller.user.id;
    match state
        .blocking(move |s| s.rename_view(uid, id, &f.name))
        .await
    {
        Ok(()) => Redirect::to(&format!("/e/{entity}?{}", clean_query(&f.back))).into_response(),
        Err(e) => refused(&state, &caller, &entity, &f.back, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteViewForm {
    #[serde(default)]
    back: String,
}

/// `POST /e/{entity}/views/{id}/delete`.
pub async fn delete_view(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, i64)>,
    SignedForm { caller, form: f }: SignedForm<DeleteViewForm>,
) -> Response {
    if let Err(r) = entity_or_page(&state, &caller, &entity) {
        return r;
    }
    let uid = caller.user.id;
    match state.blocking(move |s| s.delete_view(uid, id)).await {
        Ok(()) => Redirect::to(&format!("/e/{entity}?{}", clean_query(&f.back))).into_response(),
        Err(e) => refused(&state, &caller, &entity, &f.back, &e),
    }
}
