//! Saved reports over HTTP: anyone signed in keeps reports and shares them with roles; reading
//! one runs it as the reader (their scope and field rules).

use super::extract::{ApiJson, ApiPath};
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use qingguan_core::reports::{Report, ReportDef};
use qingguan_core::AggregateRow;
use serde_json::{json, Value};

/// A report as the caller may see it: its author (and administrators) see its whole
/// definition; others do not see its filter, nor a grouping or figure naming a field their role
/// hides (which fields those are is not theirs to learn).
fn report_json(
    state: &AppState,
    r: &Report,
    caller: &Caller,
    rows: Option<&[AggregateRow]>,
) -> Value {
    let mut v = json!(r);
    let mine = caller.access.user_id == Some(r.owner);
    if !mine && !caller.access.is_admin() {
        v["filter"] = json!("");
        let schema = state.store().schema_for(&caller.access);
        let seen = |name: &str| {
            qingguan_core::schema::validate_system_column(name)
                || schema
                    .entity(&r.def.entity)
                    .is_some_and(|e| e.field(name).is_some())
        };
        let metric_field = r.def.metric.split_once(':').map(|(_, f)| f);
        let grouped_seen = r
            .def
            .group_by
            .iter()
            .all(|g| seen(qingguan_core::store::aggregate::split_group(g).0));
        if !grouped_seen || !metric_field.is_none_or(seen) {
            v["group_by"] = json!([]);
            v["metric"] = json!("");
        }
    }
    v["mine"] = json!(mine);
    if let Some(rows) = rows {
        v["rows"] = json!(rows);
    }
    v
}

/// The reports the caller may read (their own, those shared with their role; every one for
/// administrators).
#[utoipa::path(get, path = "/reports", tag = "reports", security(("bearer" = [])),
    responses((status = 200, description = "{\"items\": [report]}", body = Value)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let pinned: Vec<i64> = state
        .store()
        .pinned_reports(&caller.access)?
        .iter()
        .map(|r| r.id)
        .collect();
    let items: Vec<Value> = state
        .store()
        .reports(&caller.access)?
        .iter()
        .map(|r| {
            let mut v = report_json(&state, r, &caller, None);
            v["pinned"] = json!(pinned.contains(&r.id));
            v
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// Save a report: `{name, entity, filter, group_by, metric, chart, shared_with}` — `filter` a
/// list query string, up to two `group_by` fields, `metric` `count`, `sum:field` or
/// `avg:field`, `chart` `bar`, `line`, `pie` or `table`.
#[utoipa::path(post, path = "/reports", tag = "reports", security(("bearer" = [])),
    request_body(content = Value, description = "The report's definition"),
    responses((status = 201, body = Value), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(def): ApiJson<ReportDef>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let access = caller.access.clone();
    let r = state
        .blocking(move |s| s.create_report(&access, &def))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(report_json(&state, &r, &caller, None)),
    ))
}

/// A report with its figures (`rows`: each group's key and value), computed for the reader.
#[utoipa::path(get, path = "/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let access = caller.access.clone();
    let (r, rows) = state.blocking(move |s| s.run_report(&access, id)).await?;
    Ok(Json(report_json(&state, &r, &caller, Some(&rows))))
}

/// Replace a report's definition (its owner or an administrator).
#[utoipa::path(put, path = "/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    request_body(content = Value, description = "The report's definition"),
    responses((status = 200, body = Value), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(def): ApiJson<ReportDef>,
) -> ApiResult<Json<Value>> {
    let access = caller.access.clone();
    let r = state
        .blocking(move |s| s.update_report(&access, id, &def))
        .await?;
    Ok(Json(report_json(&state, &r, &caller, None)))
}

/// Delete a report (its owner or an administrator).
#[utoipa::path(delete, path = "/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let access = caller.access.clone();
    state
        .blocking(move |s| s.delete_report(&access, id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"pinned": true}` pins a report the caller may read to their dashboard (at most six),
/// `false` unpins it.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinInput {
    /// Whether it is on the caller's dashboard.
    pub pinned: bool,
}

/// Pin a report to the caller's dashboard, or unpin it.
#[utoipa::path(post, path = "/reports/{id}/pin", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    request_body = PinInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pin(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PinInput>,
) -> ApiResult<StatusCode> {
    let access = caller.access.clone();
    state
        .blocking(move |s| s.pin_report(&access, id, input.pinned))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
