//! Exporting a list as CSV or Excel: the records the list shows (its filters, search and sort,
//! within the caller's scope), every visible field plus owner and times, headers and values in
//! the reader's language. CSV is UTF-8 with a byte-order mark so spreadsheet programs read
//! Chinese right, with formula-looking text made inert; XLSX keeps numbers as numbers and
//! writes every text as text (a spreadsheet never evaluates it).

use super::{cell, column_label, entity_or_page};
use crate::caller::Caller;
use crate::spreadsheet::{csv_bytes, xlsx_bytes, Cell, Table};
use crate::state::AppState;
use crate::ui::extract::UiCaller;
use crate::ui::render::{core_error, locale_of};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use qingguan_core::{Entity, Error, FieldType, ListQuery};

/// The most rows one export holds.
const MAX_ROWS: usize = 100_000;

/// A file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// `GET /e/{entity}/export.csv?<the list's API query>`.
pub async fn export_csv(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    export(state, caller, entity, raw, Format::Csv).await
}

/// `GET /e/{entity}/export.xlsx?<the list's API query>`.
pub async fn export_xlsx(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    export(state, caller, entity, raw, Format::Xlsx).await
}

async fn export(
    state: AppState,
    caller: Caller,
    entity: String,
    raw: Option<String>,
    format: Format,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(k, v)| k != "cursor" && k != "limit" && !v.is_empty())
        .collect();
    let mut query = match ListQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        Ok(q) => q,
        Err(err) => return core_error(&state, &caller, err),
    };
    query.limit = 200;
    let (st, who) = (state.clone(), caller.clone());
    let built = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, Error> {
        let table = table(&st, &who, &e, query)?;
        match format {
            Format::Csv => csv_bytes(table),
            Format::Xlsx => xlsx_bytes(table, e.label.get(locale_of(&who))),
        }
    })
    .await;
    match built {
        Ok(Ok(bytes)) => {
            let day = chrono::Utc::now().format("%Y%m%d");
            let disposition = format!(
                "attachment; filename=\"{entity}-{day}.{}\"",
                format.extension()
            );
            (
                StatusCode::OK,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(format.content_type()),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_str(&disposition)
                            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(Err(err)) => core_error(&state, &caller, err),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The rows of the list, page by page, up to [`MAX_ROWS`].
fn table(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    mut query: ListQuery,
) -> Result<Table, Error> {
    let locale = locale_of(caller);
    let mut columns = vec!["id".to_string()];
    columns.extend(e.visible_fields().map(|f| f.def.name.clone()));
    columns.extend(["owner", "created_at", "updated_at"].map(String::from));
    let headers = columns.iter().map(|c| column_label(e, locale, c)).collect();
    let numeric = |c: &str| {
        c == "id"
            || e.field(c).is_some_and(|f| {
                matches!(
                    f.def.kind,
                    FieldType::Integer | FieldType::Decimal | FieldType::Currency
                )
            })
    };
    let mut rows = Vec::new();
    loop {
        let page = state.store().list(&caller.access, &e.name, &query)?;
        for r in &page.items {
            let row = columns
                .iter()
                .map(|c| {
                    // Amounts go out as plain numbers (a spreadsheet sums them), not as money.
                    let text = match e.field(c) {
                        Some(f) if f.def.kind == FieldType::Currency => r.get(c).to_text(),
                        _ => cell(state, caller, e, r, c),
                    };
                    match text.replace(',', "").parse::<f64>() {
                        Ok(n) if numeric(c) && !text.is_empty() => Cell::Number(n, text),
                        _ => Cell::Text(text),
                    }
                })
                .collect();
            rows.push(row);
        }
        match page.next_cursor {
            Some(c) if rows.len() < MAX_ROWS => query.cursor = Some(c),
            _ => break,
        }
    }
    Ok(Table { headers, rows })
}
