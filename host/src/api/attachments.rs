//! Files attached to records over HTTP: list a record's files, upload one (the file as the
//! body with `?name=`, or a multipart form with a `file` part), download one (with the type
//! sniffed from its bytes — inline only for images and PDF, anything else as a download,
//! never HTML), remove one.

use super::extract::ApiPath;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qingguan_core::store::MAX_ATTACHMENT_BYTES;
use qingguan_core::AttachmentInfo;
use serde::Deserialize;
use serde_json::{json, Value};

/// What a `filename*` value (RFC 5987) keeps as it is; everything else is percent-encoded.
const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Uploads read at once: each holds up to 10 MiB (and a copy) until written; the others wait
/// for a turn before anything of theirs is read.
static UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// The uploaded file's name.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AttachParams {
    /// The file's name (a raw body needs it; a form's file part may carry it instead).
    name: Option<String>,
    /// A file field of the record to name the file in (its previous file stays attached).
    field: Option<String>,
}

/// What an upload carried: the file's name (if it came with one) and its bytes — and its turn,
/// held until the upload is dropped (after the file is written).
pub(crate) struct Uploaded {
    pub name: Option<String>,
    pub bytes: Vec<u8>,
    pub _turn: tokio::sync::SemaphorePermit<'static>,
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("an attachment may be at most {MAX_ATTACHMENT_BYTES} bytes"),
    )
}

/// Reads an upload: a multipart form's `file` part, or the whole body — four at a time.
pub(crate) async fn read_upload(request: axum::extract::Request) -> ApiResult<Uploaded> {
    let turn = UPLOADS.acquire().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "at_capacity",
            "uploads are closed",
        )
    })?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if crate::plugin_upload::is_multipart(content_type.as_deref()) {
        let form = crate::plugin_upload::read(
            content_type.as_deref().unwrap_or_default(),
            request.into_body(),
            MAX_ATTACHMENT_BYTES,
        )
        .await
        .map_err(|e| match e {
            crate::plugin_upload::UploadError::TooLarge(_) => too_large(),
            other => ApiError::bad_request("file", other.to_string()),
        })?;
        if form.component.len() > MAX_ATTACHMENT_BYTES {
            return Err(too_large());
        }
        return Ok(Uploaded {
            name: form.file_name,
            bytes: form.component,
            _turn: turn,
        });
    }
    let bytes = axum::body::to_bytes(request.into_body(), MAX_ATTACHMENT_BYTES)
        .await
        .map_err(|_| too_large())?;
    Ok(Uploaded {
        name: None,
        bytes: bytes.to_vec(),
        _turn: turn,
    })
}

/// A file as a response: its sniffed type, shown in place only when it is an image or a PDF,
/// with its name for saving (RFC 6266/5987), never sniffed again by the browser, and no
/// scripts or styles from it on our origin.
pub(crate) fn file_response(info: &AttachmentInfo, bytes: Vec<u8>) -> Response {
    let ascii: String = info
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(&info.name, ATTR_CHAR);
    let how = if info.inline() {
        "inline"
    } else {
        "attachment"
    };
    let disposition = format!("{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let csp = if info.content_type == "application/pdf" {
        // Browsers' PDF viewers do not run in a sandboxed document; they run no script of
        // the file on our origin either.
        "frame-ancestors 'self'"
    } else {
        "default-src 'none'; img-src 'self'; sandbox"
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    let mut set = |name, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, &info.content_type);
    set(header::CONTENT_DISPOSITION, &disposition);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::CONTENT_SECURITY_POLICY, csp);
    set(header::CACHE_CONTROL, "private, max-age=0, must-revalidate");
    set(header::ETAG, &format!("\"{}\"", info.sha256));
    response
}

/// A record's attached files, oldest first (names, sniffed types, sizes, who and when).
#[utoipa::path(get, path = "/records/{entity}/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id")),
    responses((status = 200, description = "{\"items\": [{id, name, content_type, size, sha256, created_by, created_at}]}", body = Value),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let items = state
        .blocking(move |s| s.attachments(&caller.access, &entity, id))
        .await?;
    Ok(Json(json!({ "items": items })))
}

/// Attach a file (at most 10 MiB; 100 per record) to a record you may edit: the file as the
/// body with `?name=`, or a `multipart/form-data` form with a `file` part. Its type is sniffed
/// from its bytes; attaching is noted in the record's history. With `?field=`, a file field of
/// the record names it too, in the same transaction (the field's rules apply).
#[utoipa::path(post, path = "/records/{entity}/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id"), AttachParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, description = "The attachment", body = Value),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
    params: Result<Query<AttachParams>, axum::extract::rejection::QueryRejection>,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("name", e.body_text()))?;
    // Nothing is read from someone who may not attach here.
    let (access, ent, field) = (caller.access.clone(), entity.clone(), params.field.clone());
    state
        .blocking(move |s| {
            s.may_attach(&access, &ent, id)?;
            match &field {
                Some(f) => s.may_attach_to_field(&access, &ent, f),
                None => Ok(()),
            }
        })
        .await?;
    let upload = read_upload(request).await?;
    let name = params.name.or(upload.name).unwrap_or_default();
    let info = state
        .blocking(move |s| match &params.field {
            Some(f) => s.attach_to_field(&caller.access, &entity, id, f, &name, &upload.bytes),
            None => s.attach(&caller.access, &entity, id, &name, &upload.bytes),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(info))))
}

/// Download an attached file (if you may read its record).
#[utoipa::path(get, path = "/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (info, bytes) = state
        .blocking(move |s| s.attachment(&caller.access, id))
        .await?;
    Ok(file_response(&info, bytes))
}

/// Remove a file you attached (or, as an administrator, any) from a record you may edit
/// (noted in its history).
#[utoipa::path(delete, path = "/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id")),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state
        .blocking(move |s| s.detach(&caller.access, id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
