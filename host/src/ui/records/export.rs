//! Exporting a list as CSV: the records the list shows (its filters, search and sort, within
//! the caller's scope), every visible field plus owner and times, headers and values in the
//! reader's language; UTF-8 with a byte-order mark so spreadsheet programs read Chinese right.

use super::{cell, column_label, entity_or_page};
use crate::state::AppState;
use crate::ui::extract::UiCaller;
use crate::ui::render::{core_error, locale_of};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use qingguan_core::ListQuery;

/// The most rows one export holds.
const MAX_ROWS: usize = 100_000;

/// `GET /e/{entity}/export.csv?<the list's API query>`.
pub async fn export_csv(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    RawQuery(raw): RawQuery,
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
    let (st, who, ent) = (state.clone(), caller.clone(), e.clone());
    let built = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, qingguan_core::Error> {
        let locale = locale_of(&who);
        let mut columns = vec!["id".to_string()];
        columns.extend(ent.visible_fields().map(|f| f.def.name.clone()));
        columns.extend(["owner", "created_at", "updated_at"].map(String::from));
        let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        let header: Vec<String> = columns
            .iter()
            .map(|c| column_label(&ent, locale, c))
            .collect();
        out.write_record(&header)
            .map_err(|e| qingguan_core::Error::Database(e.to_string()))?;
        let mut written = 0;
        loop {
            let page = st.store().list(&who.access, &ent.name, &query)?;
            for r in &page.items {
                let row: Vec<String> = columns
                    .iter()
                    .map(|c| inert(cell(&st, &who, &ent, r, c)))
                    .collect();
                out.write_record(&row)
                    .map_err(|e| qingguan_core::Error::Database(e.to_string()))?;
                written += 1;
            }
            match page.next_cursor {
                Some(c) if written < MAX_ROWS => query.cursor = Some(c),
                _ => break,
            }
        }
        out.into_inner()
            .map_err(|e| qingguan_core::Error::Database(e.to_string()))
    })
    .await;
    match built {
        Ok(Ok(bytes)) => {
            let day = chrono::Utc::now().format("%Y%m%d");
            let disposition = format!("attachment; filename=\"{entity}-{day}.csv\"");
            (
                StatusCode::OK,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
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

/// A cell a spreadsheet will not run: text that would start a formula (`=`, `+`, `-`, `@`, a
/// tab or carriage return) gets a leading `'`; numbers stay numbers.
fn inert(text: String) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text
    }
}
