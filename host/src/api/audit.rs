//! The administrators' audit log over HTTP: entries newest first, filtered (action, actor,
//! text, days) and paged by id, as JSON or CSV. Nothing here changes an entry: there is no
//! route that could.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use qingguan_core::audit::{AuditEntry, AuditQuery};
use qingguan_core::Reason;
use serde_json::json;

/// Reads `action`, `actor`, `q`, `from`, `to`, `before` and `limit` from a query string;
/// also says whether `format=csv` was asked for.
pub(crate) fn audit_query(raw: Option<&str>) -> ApiResult<(AuditQuery, bool)> {
    let mut q = AuditQuery::default();
    let mut csv = false;
    let number = |k: &str, v: &str| {
        v.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ApiError::from(qingguan_core::Error::bad_param(k, Reason::NotInteger)))
    };
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.into_owned();
        match k.as_ref() {
            "action" => q.action = Some(v).filter(|v| !v.is_empty()),
            "actor" if !v.is_empty() => q.actor = Some(number("actor", &v)?),
            "q" => q.text = Some(v),
            "from" => q.from = Some(v),
            "to" => q.to = Some(v),
            "before" if !v.is_empty() => q.before = Some(number("before", &v)?),
            "limit" if !v.is_empty() => q.limit = Some(number("limit", &v)? as usize),
            "format" => csv = v == "csv",
            "actor" | "before" | "limit" => {}
            other => {
                return Err(ApiError::bad_request(
                    other,
                    "unknown parameter (action, actor, q, from, to, before, limit, format)",
                ))
            }
        }
    }
    Ok((q, csv))
}

/// A cell as a spreadsheet will not run it: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (a formula in Excel or WPS — a failed sign-in's typed name lands here) gets a
/// leading `'`.
fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// The entries as CSV rows under `headings` (the API's machine keys, or the UI's words), every
/// cell made inert for spreadsheets.
pub(crate) fn audit_csv(headings: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(headings);
    for r in rows {
        let _ = w.write_record(r.iter().map(|c| inert(c)));
    }
    w.into_inner().unwrap_or_default()
}

fn machine_row(e: &AuditEntry) -> Vec<String> {
    vec![
        e.id.to_string(),
        e.at.clone(),
        e.actor.map(|a| a.to_string()).unwrap_or_default(),
        e.actor_name.clone(),
        e.address.clone(),
        e.action.clone(),
        e.target.clone(),
        e.detail.to_string(),
    ]
}

/// The audit log (administrators): `?action=login_failed&actor=3&q=text&from=YYYY-MM-DD&to=…`
/// `&before=<id>&limit=100`, newest first; `&format=csv` for a spreadsheet. `next_before`
/// pages on.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])),
    params(("action" = Option<String>, Query, description = "One action (login, login_failed, field_added, user_changed, plugin_installed, …)"),
        ("actor" = Option<i64>, Query, description = "Who (user id)"),
        ("q" = Option<String>, Query, description = "Text in the target, name, address or particulars"),
        ("from" = Option<String>, Query, description = "From this day (YYYY-MM-DD, UTC)"),
        ("to" = Option<String>, Query, description = "To this day, inclusive"),
        ("before" = Option<i64>, Query, description = "Entries older than this id"),
        ("limit" = Option<u32>, Query, description = "1–1000, default 100"),
        ("format" = Option<String>, Query, description = "csv for CSV")),
    responses((status = 200, description = "{\"items\": [{id, at, actor, actor_name, address, action, target, detail}], \"next_before\": id|null}", body = serde_json::Value),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let (q, csv) = audit_query(raw.as_deref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let access = caller.access.clone();
    let items = state
        .blocking(move |s| s.audit_entries(&access, &q))
        .await?;
    if csv {
        let headings: Vec<String> = [
            "id",
            "at",
            "actor",
            "actor_name",
            "address",
            "action",
            "target",
            "detail",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect();
        let rows: Vec<Vec<String>> = items.iter().map(machine_row).collect();
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.csv\"",
                ),
            ],
            audit_csv(&headings, &rows),
        )
            .into_response());
    }
    let next = (items.len() == limit)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(Json(json!({"items": items, "next_before": next})).into_response())
}
