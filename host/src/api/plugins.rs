//! Plugin administration, and the doors through which users reach plugins: record actions,
//! plugin routes and plugin queries.

use super::extract::{ApiJson, ApiPath};
use super::plugin_dto::{AttemptDto, PluginDto};
use crate::caller::Caller;
use crate::error::AT_CAPACITY;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qingguan_runtime::LifecycleError;
use qingguan_runtime::PluginFailure;
use qingguan_runtime::{CallError, InstallOptions};
use serde::Deserialize;
use serde_json::Value;

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        let msg = e.to_string();
        match e {
            LifecycleError::Manifest(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plugin", msg)
            }
            LifecycleError::Compile(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plugin", msg)
            }
            LifecycleError::Dependency(_) => ApiError::new(StatusCode::CONFLICT, "dependency", msg),
            LifecycleError::Approval(_) => {
                ApiError::new(StatusCode::CONFLICT, "approval_required", msg)
            }
            LifecycleError::Failed(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_failed", msg)
            }
            LifecycleError::NotFound(_) => ApiError::not_found(msg),
            LifecycleError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", msg),
            LifecycleError::Store(e) => e.into(),
            LifecycleError::Io(_) => {
                tracing::error!(error = %msg, "plugin file error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "could not store the plugin file; it has been logged",
                )
            }
        }
    }
}

impl From<CallError> for ApiError {
    fn from(e: CallError) -> Self {
        let msg = e.to_string();
        match e {
            CallError::Plugin(f) => match f {
                PluginFailure::NotFound(_) => ApiError::not_found(msg),
                PluginFailure::Denied(_) => ApiError::forbidden(msg),
                PluginFailure::Invalid(m, fields) => ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "rejected",
                    message: m,
                    fields: fields
                        .into_iter()
                        .map(|(field, why)| (field, qingguan_core::Reason::Text(why)))
                        .collect(),
                },
                PluginFailure::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", msg),
                PluginFailure::Stale(_) => {
                    ApiError::new(StatusCode::CONFLICT, "stale_version", msg)
                }
                PluginFailure::Unique { field, message } => ApiError {
                    status: StatusCode::CONFLICT,
                    code: "unique",
                    message: msg,
                    fields: [(field, qingguan_core::Reason::Text(message))].into(),
                },
                PluginFailure::Failed(_) => {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_error", msg)
                }
            },
            CallError::Fault { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_failed", msg)
            }
            CallError::Unavailable(_) => {
                ApiError::new(StatusCode::CONFLICT, "plugin_unavailable", msg)
            }
            CallError::AtCapacity => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, AT_CAPACITY, msg)
            }
        }
    }
}

/// Install options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InstallParams {
    /// Approve the capabilities the plugin requests.
    #[serde(default)]
    pub approve: bool,
    /// `false`: answer 202 at once and install in the background (compiling an
    /// interpreter-based component takes seconds); follow it with `GET /plugins/{id}`.
    #[serde(default = "yes")]
    pub wait: bool,
}

fn yes() -> bool {
    true
}

/// Installed plugins with status, versions, faults and manifests (administrators); other
/// users see the plugins that serve, with their menus only.
#[utoipa::path(get, path = "/plugins", tag = "plugins", security(("bearer" = [])),
    responses((status = 200, body = Vec<PluginDto>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<PluginDto>>> {
    let list = state.blocking_plugins(|p| Ok(p.list()?)).await?;
    let admin = caller.access.is_admin();
    Ok(Json(
        list.into_iter()
            .filter(|p| admin || p.loaded)
            .map(|p| PluginDto::from(p).shown_to(admin))
            .collect(),
    ))
}

/// One plugin.
#[utoipa::path(get, path = "/plugins/{id}", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, body = PluginDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PluginDto>> {
    let admin = caller.access.is_admin();
    let info = state.blocking_plugins(move |p| Ok(p.info(&id)?)).await?;
    if !admin && !info.loaded {
        return Err(ApiError::not_found(format!("no plugin '{}'", info.id)));
    }
    Ok(Json(PluginDto::from(info).shown_to(admin)))
}

/// Install or upgrade a plugin: the body is the `.wasm` component — or, for a component built
/// without the Rust SDK, `multipart/form-data` with a `component` part and a `manifest` part
/// (its `qingguan.toml`, embedded before installing). New capabilities need `?approve=true`.
/// The new version goes live only after it compiled, migrated and passed its health check;
/// otherwise the previous version keeps serving.
#[utoipa::path(post, path = "/plugins", tag = "plugins", security(("bearer" = [])), params(InstallParams),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The plugin component (or multipart: component + manifest)"),
    responses((status = 201, body = PluginDto), (status = 202, description = "Installing in the background (`wait=false`)"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn install(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<InstallParams>, axum::extract::rejection::QueryRejection>,
    request: axum::extract::Request,
) -> ApiResult<Response> {
    caller.access.require_admin()?;
    let by = caller.access.user_id;
    let Query(params) = params.map_err(|e| ApiError::bad_request("approve", e.body_text()))?;
    let limit = state.config().plugin_limits.max_component_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("plugins may be at most {limit} bytes"),
        )
    };
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = if crate::plugin_upload::is_multipart(content_type.as_deref()) {
        let bad = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plugin", m);
        let upload = crate::plugin_upload::read(
            content_type.as_deref().unwrap_or_default(),
            request.into_body(),
            limit,
        )
        .await
        .map_err(|e| match e {
            crate::plugin_upload::UploadError::TooLarge(_) => too_large(),
            other => ApiError::bad_request("body", other.to_string()),
        })?;
        match upload.manifest {
            Some(m) => {
                qingguan_runtime::pack(&upload.component, &m).map_err(|e| bad(e.to_string()))?
            }
            None => upload.component,
        }
    } else {
        axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| too_large())?
            .to_vec()
    };
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "body",
            "send the plugin's .wasm file as the request body",
        ));
    }
    let options = InstallOptions {
        approve: params.approve,
        source: None,
        by,
    };
    if !params.wait {
        let (id, attempt) = state
            .blocking_plugins(move |p| Ok(p.install_in_background(body, options)?))
            .await?;
        let started = serde_json::json!({
            "id": id,
            "status": "installing",
            "last_attempt": AttemptDto::from(attempt),
        });
        return Ok((StatusCode::ACCEPTED, Json(started)).into_response());
    }
    let info = state
        .blocking_plugins(move |p| Ok(p.install(&body, options)?))
        .await?;
    state.forget_sessions();
    Ok((StatusCode::CREATED, Json(PluginDto::from(info))).into_response())
}

/// Enable a plugin.
#[utoipa::path(post, path = "/plugins/{id}/enable", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, body = PluginDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PluginDto>> {
    caller.access.require_admin()?;
    let by = caller.access.user_id;
    Ok(Json(
        state
            .blocking_plugins(move |p| Ok(PluginDto::from(p.enable(&id, by)?)))
            .await?,
    ))
}

/// Disable a plugin (its data stays; its entity types become read-only).
#[utoipa::path(post, path = "/plugins/{id}/disable", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, body = PluginDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PluginDto>> {
    caller.access.require_admin()?;
    let by = caller.access.user_id;
    Ok(Json(
        state
            .blocking_plugins(move |p| Ok(PluginDto::from(p.disable(&id, by)?)))
            .await?,
    ))
}

/// Return a plugin to the version that was active before the current one.
#[utoipa::path(post, path = "/plugins/{id}/rollback", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, body = PluginDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PluginDto>> {
    caller.access.require_admin()?;
    let by = caller.access.user_id;
    Ok(Json(
        state
            .blocking_plugins(move |p| Ok(PluginDto::from(p.rollback(&id, by)?)))
            .await?,
    ))
}

/// Removal options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RemoveParams {
    /// Also delete the plugin's records, history and key-value store.
    #[serde(default)]
    pub purge: bool,
}

/// Remove a plugin; its data is kept unless `?purge=true`.
#[utoipa::path(delete, path = "/plugins/{id}", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id"), RemoveParams),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    params: Result<Query<RemoveParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<StatusCode> {
    caller.access.require_admin()?;
    let by = caller.access.user_id;
    let Query(params) = params.map_err(|e| ApiError::bad_request("purge", e.body_text()))?;
    state
        .blocking_plugins(move |p| Ok(p.remove(&id, params.purge, by)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace a plugin's configuration (a JSON object).
#[utoipa::path(put, path = "/plugins/{id}/config", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")), request_body = Object,
    responses((status = 200, body = PluginDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn put_config(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(config): ApiJson<Value>,
) -> ApiResult<Json<PluginDto>> {
    caller.access.require_admin()?;
    let by = caller.access.user_id;
    if !config.is_object() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "configuration must be a JSON object",
        ));
    }
    Ok(Json(
        state
            .blocking_plugins(move |p| Ok(PluginDto::from(p.set_config(&id, &config, by)?)))
            .await?,
    ))
}

/// Ask a plugin one of its declared queries (JSON arguments → JSON answer).
#[utoipa::path(post, path = "/plugins/{id}/queries/{query}", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id"), ("query" = String, Path, description = "Query name")),
    request_body = Object,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn ask(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, query)): ApiPath<(String, String)>,
    ApiJson(args): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let ctx = caller.call_ctx();
    let answer = state
        .blocking_plugins(move |p| Ok(p.calls().ask(&id, &query, &args.to_string(), ctx)?))
        .await?;
    serde_json::from_str(&answer).map(Json).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin_error",
            "the plugin answered with invalid JSON",
        )
    })
}

/// Run a plugin's action on a record. Needs update permission on the record.
#[utoipa::path(post, path = "/records/{entity}/{id}/actions/{plugin}/{action}", tag = "plugins", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type"), ("id" = i64, Path, description = "Record id"),
        ("plugin" = String, Path, description = "Plugin id"), ("action" = String, Path, description = "Action name")),
    request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn action(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id, plugin, name)): ApiPath<(String, i64, String, String)>,
    ApiJson(input): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    caller.access.require(&entity, "update", |p| p.update)?;
    state.store().get(&caller.access, &entity, id)?;
    let ctx = caller.call_ctx();
    let out = state
        .blocking_plugins(move |p| {
            Ok(p.calls()
                .action(&plugin, &name, &entity, id, &input.to_string(), ctx)?)
        })
        .await?;
    serde_json::from_str(&out).map(Json).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin_error",
            "the plugin answered with invalid JSON",
        )
    })
}

/// Longest body passed to a plugin route.
const ROUTE_BODY_MAX: usize = 1024 * 1024;

/// A request to one of a plugin's routes: `/api/v1/plugins/{id}/{path}`. The caller must be
/// signed in; the plugin sees the user and decides what to show.
pub async fn route(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    ApiPath((id, rest)): ApiPath<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    if body.len() > ROUTE_BODY_MAX {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "plugin routes accept at most 1 MiB",
        ));
    }
    let req = qingguan_runtime::HttpRequest {
        method: method.to_string(),
        path: format!("/{rest}"),
        query: query.unwrap_or_default(),
        headers: headers
            .iter()
            .filter(|(k, _)| *k != "authorization" && *k != "cookie")
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.to_string(), v.to_string())))
            .collect(),
        body: body.to_vec(),
    };
    let ctx = caller.call_ctx();
    let resp = state
        .blocking_plugins(move |p| Ok(p.calls().http(&id, req, ctx)?))
        .await?;
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = HeaderMap::new();
    for (k, v) in resp.headers {
        let allowed = matches!(
            k.to_ascii_lowercase().as_str(),
            "content-type" | "cache-control" | "content-disposition" | "etag" | "location"
        );
        if let (true, Ok(name), Ok(value)) = (
            allowed,
            HeaderName::try_from(k.as_str()),
            HeaderValue::from_str(&v),
        ) {
            out.insert(name, value);
        }
    }
    out.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok((status, out, resp.body).into_response())
}
