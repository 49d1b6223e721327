//! Imports over HTTP: upload a CSV or XLSX file into an entity type, dry-run it, import it,
//! follow its progress, read the log, undo it.

use super::extract::{ApiJson, ApiPath};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::import::service::{self, MAX_FILE_BYTES};
use crate::import::ImportOptions;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use qingguan_core::imports::ImportPass;
use serde::Deserialize;
use serde_json::{json, Value};

/// Where an upload goes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadParams {
    /// The entity type to import into.
    entity: String,
    /// The file's name, for the log.
    #[serde(default)]
    file_name: String,
}

/// Upload a file to import. Body: the CSV (UTF-8 or GB18030; comma, semicolon or tab) or XLSX
/// file itself, at most 50 MB and 200,000 rows. Nothing is written yet: the answer lists the
/// columns with sample values and options to start from — the mapping used last time with a
/// file of the same columns, or one suggested from the headers.
#[utoipa::path(post, path = "/imports", tag = "imports", security(("bearer" = [])), params(UploadParams),
    request_body(content = Vec<u8>, content_type = "text/csv", description = "The file"),
    responses((status = 201, description = "{import, columns, options, remembered}", body = Value),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<UploadParams>, axum::extract::rejection::QueryRejection>,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("entity", e.body_text()))?;
    let bytes = axum::body::to_bytes(request.into_body(), MAX_FILE_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("an import file may be at most {MAX_FILE_BYTES} bytes"),
            )
        })?
        .to_vec();
    let access = caller.access.clone();
    let preview = state
        .blocking(move |s| service::upload(s, &access, &params.entity, &params.file_name, bytes))
        .await?;
    Ok((StatusCode::CREATED, Json(json!(preview))))
}

/// The entity type whose imports to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Only imports into this entity type.
    entity: Option<String>,
}

/// The import log, newest first: yours, or everyone's for an administrator.
#[utoipa::path(get, path = "/imports", tag = "imports", security(("bearer" = [])), params(ListParams),
    responses((status = 200, description = "{\"items\": [import]}", body = Value)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let items = state
        .store()
        .import_logs(&caller.access, params.entity.as_deref(), 100)?;
    Ok(Json(json!({ "items": items })))
}

/// One import: status (`uploaded`, `checking`, `checked`, `running`, `done`, `interrupted`,
/// `undone`), options, counts so far, the refused rows (row, column, why in both languages).
#[utoipa::path(get, path = "/imports/{id}", tag = "imports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Import id")),
    responses((status = 200, body = Value), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.store().import_log(&caller.access, id)?)))
}

async fn start(
    state: AppState,
    caller: Caller,
    id: i64,
    pass: ImportPass,
    options: ImportOptions,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let access = caller.access.clone();
    let started = state
        .blocking_shared(move |s| service::start_pass(s, &access, id, pass, options))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!(started))))
}

/// Dry-run an import: every row goes through the whole write — conversion, validation,
/// permissions, hooks, workflows — and is rolled back. 202: follow `GET /imports/{id}`
/// until `checked`; its counts and refused rows say what an import would do.
/// Body: `{mapping: {column: field}, mode: insert|upsert, key, date_format, values:
/// {field: {text: option}}, match_on: {field: target field}}`.
#[utoipa::path(post, path = "/imports/{id}/check", tag = "imports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Import id")), request_body(content = Value, description = "Import options"),
    responses((status = 202, body = Value), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(options): ApiJson<ImportOptions>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    start(state, caller, id, ImportPass::Check, options).await
}

/// Import the valid rows (once per upload); the others are reported. 202: follow
/// `GET /imports/{id}` until `done`. Body as for `/check`.
#[utoipa::path(post, path = "/imports/{id}/run", tag = "imports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Import id")), request_body(content = Value, description = "Import options"),
    responses((status = 202, body = Value), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(options): ApiJson<ImportOptions>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    start(state, caller, id, ImportPass::Import, options).await
}

/// Resume an interrupted import (the server stopped, or its pass failed) where it stopped,
/// with the options it was started with: the rows it committed are not written again. Only
/// the person who started it may. 202: follow `GET /imports/{id}` until `done`.
#[utoipa::path(post, path = "/imports/{id}/resume", tag = "imports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Import id")),
    responses((status = 202, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let access = caller.access.clone();
    let resumed = state
        .blocking_shared(move |s| service::resume(s, &access, id))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!(resumed))))
}

/// Invite the users an import created (administrators): each gets a new one-time link, mailed
/// when mail is set up; the answer lists every link (shown once).
#[utoipa::path(post, path = "/imports/{id}/invitations", tag = "imports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Import id")),
    responses((status = 200, description = "{items: [{user_id, username, link, mailed, mail_error}]}", body = Value),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn invitations(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    caller.access.require_admin()?;
    let st = state.clone();
    let items = state
        .blocking(move |_| crate::invitations::invite_imported(&st, &caller.access, id))
        .await?;
    Ok(Json(json!({ "items": items })))
}

/// Undo a finished (or interrupted) import as one batch, in the background: records it
/// created are deleted, records it updated get their earlier values back; a record changed
/// since (or that others now reference) is left as it is and listed. 202 with the log
/// (`undoing`); follow `GET /imports/{id}` until `undone`, whose `undo_report` says
/// `{deleted, restored, skipped: [{record_id, en, zh}]}` (when nothing could be undone the
/// import keeps its status and the report says why). A refusal (rights, status) is immediate.
#[utoipa::path(post, path = "/imports/{id}/undo", tag = "imports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Import id")),
    responses((status = 202, description = "the import's log, undoing", body = Value),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn undo(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let access = caller.access.clone();
    let started = state
        .blocking_shared(move |s| service::start_undo(s, &access, id))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!(started))))
}
