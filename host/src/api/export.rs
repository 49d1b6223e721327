//! Exporting records over HTTP: a list's filters, search and sort (within the caller's scope,
//! up to 100,000 records) as CSV or XLSX, one column per field plus id, owner and times —
//! headed by field names (for programs) or, with `labels=true`, by labels in the caller's
//! language — values as the API writes them.

use super::extract::ApiPath;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::spreadsheet::{csv_bytes, xlsx_bytes, Cell, Table};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use qingguan_core::{Error, ListQuery};
use serde_json::Value;

/// The most records one export holds.
const MAX_ROWS: usize = 100_000;

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Export a list. Query: the list's parameters (filters, `q`, `sort`), `format=csv|xlsx`
/// (default csv), `labels=true` for headings in the caller's language. CSV is UTF-8 with a
/// byte-order mark; text a spreadsheet would take for a formula gets a leading `'`.
#[utoipa::path(get, path = "/records/{entity}/export", tag = "records", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"),
        ("format" = Option<String>, Query, description = "csv (default) or xlsx"),
        ("labels" = Option<bool>, Query, description = "headings in the caller's language")),
    responses((status = 200, description = "The file", content_type = "text/csv"), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let mut format = "csv".to_string();
    let mut labels = false;
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned() {
        match k.as_str() {
            "format" => format = v,
            "labels" => labels = v == "true",
            "cursor" | "limit" | "count" => {}
            _ => pairs.push((k, v)),
        }
    }
    if format != "csv" && format != "xlsx" {
        return Err(ApiError::bad_request("format", "csv or xlsx"));
    }
    let mut query = ListQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    query.limit = 200;
    let locale = caller.locale();
    let access = caller.access.clone();
    let name = entity.clone();
    let xlsx = format == "xlsx";
    let bytes = state
        .blocking(move |s| {
            let schema = s.schema_for(&access);
            let e = schema
                .entity(&name)
                .ok_or_else(|| Error::NotFound(format!("no entity type '{name}'")))?;
            let mut columns = vec!["id".to_string()];
            columns.extend(
                e.fields
                    .iter()
                    .filter(|f| !f.hidden)
                    .map(|f| f.def.name.clone()),
            );
            columns.extend(["owner", "created_at", "updated_at"].map(String::from));
            let headings: Vec<String> = columns
                .iter()
                .map(|c| match (labels, e.field(c)) {
                    (true, Some(f)) => f.def.label.get(locale).to_string(),
                    _ => c.clone(),
                })
                .collect();
            let mut rows: Vec<Vec<Cell>> = Vec::new();
            loop {
                let page = s.list(&access, &name, &query)?;
                for r in &page.items {
                    let json = r.to_json(e);
                    rows.push(
                        columns
                            .iter()
                            .map(|c| match &json[c] {
                                Value::Number(n) => {
                                    Cell::Number(n.as_f64().unwrap_or(0.0), n.to_string())
                                }
                                other => Cell::Text(text(other)),
                            })
                            .collect(),
                    );
                }
                match page.next_cursor {
                    Some(c) if rows.len() < MAX_ROWS => query.cursor = Some(c),
                    _ => break,
                }
            }
            let table = Table {
                headers: headings,
                rows,
            };
            if xlsx {
                xlsx_bytes(table, &name)
            } else {
                csv_bytes(table)
            }
        })
        .await?;
    let (content_type, ext) = if xlsx {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        ("text/csv; charset=utf-8", "csv")
    };
    let disposition = format!("attachment; filename=\"{entity}.{ext}\"");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response())
}
