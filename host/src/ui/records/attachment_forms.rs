//! What the attachments card posts: a file to attach (multipart, the CSRF token in the query
//! string) and a file to remove; a refusal comes back on the record's page.

use super::detail::{detail_page, Notice};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::{check_csrf, SignedForm, UiCaller};
use crate::ui::render::{locale_of, t};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::Locale;
use serde::Deserialize;

/// The CSRF token of the multipart upload form, sent in the query string, and the file field
/// the file goes into (none: among the record's attachments only).
#[derive(Debug, Deserialize)]
pub struct CsrfQuery {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    field: Option<String>,
}

fn refused(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    id: i64,
    status: StatusCode,
    text: String,
) -> Response {
    detail_page(
        state,
        caller,
        entity,
        id,
        Notice {
            error: Some(text),
            owner_error: None,
            status: Some(status),
        },
    )
}

fn upload_refusal(locale: Locale, err: &crate::error::ApiError) -> String {
    if err.status == StatusCode::PAYLOAD_TOO_LARGE {
        return t(locale, "attachment_too_large");
    }
    crate::ui::refusal::form_refusal(locale, err)
}

/// `POST /e/{entity}/{id}/attachments?csrf=…` (multipart, part `file`).
pub async fn upload(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((entity, id)): Path<(String, i64)>,
    Query(cq): Query<CsrfQuery>,
    request: axum::extract::Request,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&cq.csrf)) {
        return r;
    }
    let locale = locale_of(&caller);
    // Nothing is read from someone who may not attach here.
    let (access, ent, field) = (caller.access.clone(), entity.clone(), cq.field.clone());
    if let Err(err) = state
        .blocking(move |s| {
            s.may_attach(&access, &ent, id)?;
            match &field {
                Some(f) => s.may_attach_to_field(&access, &ent, f),
                None => Ok(()),
            }
        })
        .await
    {
        let text = upload_refusal(locale, &err);
        return refused(&state, &caller, &entity, id, err.status, text);
    }
    let upload = match crate::api::attachments::read_upload(request).await {
        Ok(u) => u,
        Err(err) => {
            let text = upload_refusal(locale, &err);
            return refused(&state, &caller, &entity, id, err.status, text);
        }
    };
    let (access, ent) = (caller.access.clone(), entity.clone());
    let name = upload.name.unwrap_or_default();
    let field = cq.field.clone();
    match state
        .blocking(move |s| match &field {
            Some(f) => s.attach_to_field(&access, &ent, id, f, &name, &upload.bytes),
            None => s.attach(&access, &ent, id, &name, &upload.bytes),
        })
        .await
    {
        Ok(_) if cq.field.is_some() => Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
        Ok(_) => Redirect::to(&format!("/e/{entity}/{id}#attachments")).into_response(),
        Err(err) => {
            let text = upload_refusal(locale, &err);
            refused(&state, &caller, &entity, id, err.status, text)
        }
    }
}

/// What the remove button posts (the token only).
#[derive(Debug, Deserialize)]
pub struct RemoveForm {}

/// `POST /e/{entity}/{id}/attachments/{attachment}/delete`: a file of that record, which the
/// caller attached (or any, for an administrator).
pub async fn remove(
    State(state): State<AppState>,
    Path((entity, id, attachment)): Path<(String, i64, i64)>,
    SignedForm { caller, form: _ }: SignedForm<RemoveForm>,
) -> Response {
    let access = caller.access.clone();
    let (ent, on) = (entity.clone(), id);
    // Only a file of the record on the page; back to that record.
    let removed = state
        .blocking(move |s| {
            let a = s.attachment_info(&access, attachment)?;
            if a.entity != ent || a.record_id != on {
                return Err(qingguan_core::Error::NotFound(format!(
                    "no attachment with id {attachment}"
                )));
            }
            s.detach(&access, attachment)
        })
        .await;
    match removed {
        Ok(a) => {
            Redirect::to(&format!("/e/{}/{}#attachments", a.entity, a.record_id)).into_response()
        }
        Err(err) => {
            let text = crate::ui::refusal::form_refusal(locale_of(&caller), &err);
            refused(&state, &caller, &entity, id, err.status, text)
        }
    }
}
