//! Records of any entity type: list with filters, create, read, update, delete, history.

use super::extract::{ApiJson, ApiPath, IfMatch};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qingguan_core::{Access, ListQuery, Record};
use serde_json::{json, Map, Value};

/// The entity type of users: writes to it change who may do what.
const USER: &str = "user";

/// A version as the `ETag` header writes it.
fn version_tag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// A record as the caller sees it (fields their role hides are not in it).
fn record_response(state: &AppState, access: &Access, status: StatusCode, r: &Record) -> Response {
    let schema = state.store().schema_for(access);
    let Some(e) = schema.entity(&r.entity) else {
        return (status, Json(Value::Null)).into_response();
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, version_tag(r.version));
    if status == StatusCode::CREATED {
        if let Ok(loc) =
            HeaderValue::from_str(&format!("{}/records/{}/{}", super::PREFIX, r.entity, r.id))
        {
            headers.insert(header::LOCATION, loc);
        }
    }
    (status, headers, Json(r.as_api(e))).into_response()
}

/// Parses the list query string (`field=v`, `field[op]=v`, `sort`, `limit`, `cursor`, `q`).
pub(crate) fn parse_list_query(raw: Option<&str>) -> ApiResult<ListQuery> {
    let pairs = form_urlencoded::parse(raw.unwrap_or("").as_bytes());
    ListQuery::from_pairs(pairs).map_err(ApiError::from)
}

/// The most records a capped count (`count=capped`) counts.
const COUNT_CAP: i64 = 10_000;

/// How a list answers its total.
enum Count {
    None,
    Exact,
    Capped,
}

/// Takes `count` out of the query string: `true`/`exact` or `capped`.
fn take_count(raw: Option<&str>) -> ApiResult<(Count, String)> {
    let mut count = Count::None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if k == "count" {
            count = match v.as_ref() {
                "true" | "exact" => Count::Exact,
                "capped" => Count::Capped,
                "false" | "" => Count::None,
                _ => {
                    return Err(ApiError::bad_request(
                        "count",
                        "must be true (exact), capped (up to 10,000) or false",
                    ))
                }
            };
        } else {
            rest.append_pair(&k, &v);
        }
    }
    Ok((count, rest.finish()))
}

/// List records, filtered, sorted and paged with a cursor.
///
/// Filters: `field=value` or `field[op]=value` with op in eq, ne, lt, lte, gt, gte, in
/// (comma-separated), contains, null (true/false). `sort=field` or `sort=-field`;
/// `limit` 1–200 (default 50); `cursor` from the previous page; `q` full-text.
/// `count=true` adds `total` (every matching record the caller may read); `count=capped`
/// counts up to 10,000 and says `total_capped: true` past it.
#[utoipa::path(get, path = "/records/{entity}", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"),
        ("sort" = Option<String>, Query, description = "field or -field"),
        ("limit" = Option<u32>, Query, description = "1-200"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("q" = Option<String>, Query, description = "full-text search"),
        ("count" = Option<String>, Query, description = "true (exact total) or capped (up to 10,000)")),
    responses((status = 200, description = "{\"items\": [...], \"next_cursor\": string|null, \"total\"?: number, \"total_capped\"?: bool}", body = Value),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let (count, rest) = take_count(raw.as_deref())?;
    let query = parse_list_query(Some(&rest))?;
    let store = state.store();
    let page = store.list_json(&caller.access, &entity, &query)?;
    let mut total = None;
    // A count may read the whole table: off the async workers.
    let counting = (caller.access.clone(), entity.clone(), query.clone());
    match count {
        Count::None => {}
        Count::Exact => {
            let n = state
                .blocking(move |s| s.count(&counting.0, &counting.1, &counting.2))
                .await?;
            total = Some((n, None));
        }
        Count::Capped => {
            let (n, more) = state
                .blocking(move |s| s.count_up_to(&counting.0, &counting.1, &counting.2, COUNT_CAP))
                .await?;
            total = Some((n, Some(more)));
        }
    }
    Ok(list_body(&page, total))
}

/// A list page as the API writes it: `items` (the records as the store rendered them),
/// `next_cursor`, and `total` (and `total_capped`) when counted.
fn list_body(page: &qingguan_core::PageJson, total: Option<(i64, Option<bool>)>) -> Response {
    let mut out = Vec::with_capacity(page.items.len() + 96);
    out.extend_from_slice(b"{\"items\":");
    out.extend_from_slice(&page.items);
    out.extend_from_slice(b",\"next_cursor\":");
    // A string or null: writing either to a Vec can't fail.
    let _ = serde_json::to_writer(&mut out, &page.next_cursor);
    if let Some((n, capped)) = total {
        out.extend_from_slice(format!(",\"total\":{n}").as_bytes());
        if let Some(capped) = capped {
            out.extend_from_slice(format!(",\"total_capped\":{capped}").as_bytes());
        }
    }
    out.push(b'}');
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        out,
    )
        .into_response()
}

/// Create a record. Body: field → value (and optionally `owner`).
#[utoipa::path(post, path = "/records/{entity}", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    request_body(content = Value, description = "Field values by field name"),
    responses((status = 201, body = Value), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let access = caller.access.clone();
    let r = state
        .blocking(move |s| s.create(&access, &entity, &body))
        .await?;
    Ok(record_response(
        &state,
        &caller.access,
        StatusCode::CREATED,
        &r,
    ))
}

/// Read a record. The `ETag` header carries its version.
#[utoipa::path(get, path = "/records/{entity}/{id}", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id")),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
) -> ApiResult<Response> {
    let r = state.store().get_json(&caller.access, &entity, id)?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        (header::ETAG, version_tag(r.version)),
    ];
    Ok((StatusCode::OK, headers, r.json).into_response())
}

/// Update some fields. `If-Match: <version>` is required; a stale version is 409.
#[utoipa::path(patch, path = "/records/{entity}/{id}", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id"),
        ("If-Match" = String, Header, description = "The record's current version")),
    request_body(content = Value, description = "Field values to change"),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let user_changed = entity == USER;
    let access = caller.access.clone();
    let r = state
        .blocking(move |s| s.update(&access, &entity, id, version, &body))
        .await?;
    if user_changed {
        // A user deactivated or given another role is so at once, not when the session
        // cache next refreshes.
        state.forget_sessions();
    }
    Ok(record_response(&state, &caller.access, StatusCode::OK, &r))
}

/// Delete a record. `If-Match: <version>` is required; refused while others reference it.
#[utoipa::path(delete, path = "/records/{entity}/{id}", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id"),
        ("If-Match" = String, Header, description = "The record's current version")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    let user_changed = entity == USER;
    state
        .blocking(move |s| s.delete(&caller.access, &entity, id, version))
        .await?;
    if user_changed {
        state.forget_sessions();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A record's change history, oldest first: who, when, which fields, old → new.
#[utoipa::path(get, path = "/records/{entity}/{id}/history", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id")),
    responses((status = 200, description = "{\"items\": [{id, version, action, user_id, at, changes}]}", body = Value),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let h = state.store().history(&caller.access, &entity, id)?;
    Ok(Json(json!({ "items": h })))
}

/// Bulk work on selected records: `{"action": "set", "ids": […], "field": …, "value": …}`,
/// `{"action": "owner", "ids": […], "owner": user id}` or `{"action": "delete", "ids": […]}`
/// (at most 500). Each record is written on its own with the caller's rights, hooks and
/// workflows; the answer says how many were done and why each other one was refused.
#[utoipa::path(post, path = "/records/{entity}/bulk", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    request_body(content = Value, description = "The action and the record ids"),
    responses((status = 200, description = "{done, refused: [{id, reason}]}", body = Value),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    ApiJson(action): ApiJson<crate::bulk::BulkAction>,
) -> ApiResult<Json<Value>> {
    let locale = caller.locale();
    let user_changed = entity == USER;
    let report = state
        .blocking(move |s| crate::bulk::run(s, &caller.access, &entity, &action, locale))
        .await?;
    if user_changed {
        state.forget_sessions();
    }
    Ok(Json(json!(report)))
}

/// A record's timeline, newest first, a page at a time: the activities about it (notes, calls,
/// visits, meetings, to-dos — the built-in `activity` type, with `about_entity` and
/// `about_id`) that the caller may read, and its history (changes, approval requests and
/// decisions, and the history of records merged into it). `limit` 1–200 (50 unless given);
/// `before`: the previous page's `next`.
#[utoipa::path(get, path = "/records/{entity}/{id}/timeline", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id"),
        ("limit" = Option<usize>, Query, description = "Entries per page (1–200, default 50)"),
        ("before" = Option<String>, Query, description = "The previous page's `next`")),
    responses((status = 200, description = "{\"items\": [{kind: activity|change, at, record|entry}], \"next\": cursor|null}", body = Value),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
    q: Result<axum::extract::Query<TimelineQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let axum::extract::Query(q) = q.map_err(|e| ApiError::bad_request("limit", e.body_text()))?;
    let page = state
        .blocking(move |s| {
            s.timeline_page(
                &caller.access,
                &entity,
                id,
                q.limit.unwrap_or(50),
                q.before.as_deref(),
            )
        })
        .await?;
    Ok(Json(json!(page)))
}

/// A timeline page's size and where it starts.
#[derive(Debug, serde::Deserialize)]
pub struct TimelineQuery {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    before: Option<String>,
}

/// Likely duplicates of a record about to be created (or, with `?except=id`, changed): records
/// of the type the caller may read with the same name once company forms (有限公司, Co., Ltd. …)
/// and punctuation are set aside, or the same phone or e-mail. Body: the record's values.
#[utoipa::path(post, path = "/records/{entity}/duplicates", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("except" = Option<i64>, Query, description = "The record being edited")),
    request_body(content = Value, description = "The values to compare"),
    responses((status = 200, description = "{\"items\": [{id, title, field}]}", body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn duplicates(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    axum::extract::Query(q): axum::extract::Query<ExceptQuery>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    // A type the caller may not read has no duplicates to show them.
    if !caller.access.permission(&entity).read {
        return Err(ApiError::forbidden(format!("you may not read '{entity}'")));
    }
    let items = state
        .blocking(move |s| s.likely_duplicates(&caller.access, &entity, &body, q.except))
        .await?;
    Ok(Json(json!({ "items": items })))
}

/// The record a duplicate check leaves out.
#[derive(Debug, serde::Deserialize)]
pub struct ExceptQuery {
    #[serde(default)]
    except: Option<i64>,
}
