//! Search across every entity type the user may read, and the reference picker.

use crate::state::AppState;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, page};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qingguan_core::ListQuery;
use serde::Deserialize;
use serde_json::{json, Value as Json};

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /search?q=`: across every entity type the user may read.
pub async fn search(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(sq): Query<SearchQuery>,
) -> Response {
    let locale = locale_of(&caller);
    let schema = state.store().schema();
    let q: String = sq.q.chars().take(200).collect();
    let hits: Vec<Json> = state
        .store()
        .search(&caller.access, &q, 50)
        .unwrap_or_default()
        .into_iter()
        .map(|h| {
            let label = schema
                .entity(&h.entity)
                .map(|e| e.label.get(locale).to_string())
                .unwrap_or_default();
            json!({"entity": h.entity, "id": h.id, "title": h.title, "label": label})
        })
        .collect();
    let mut ctx = base(&state, &caller, "/search");
    ctx.insert("q".into(), json!(q));
    ctx.insert("hits".into(), json!(hits));
    page(StatusCode::OK, "search.html", Json::Object(ctx))
}

/// `GET /pick/{entity}?q=`: `[{id, title}]` for the reference picker.
pub async fn pick(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(sq): Query<SearchQuery>,
) -> Response {
    let schema = state.store().schema();
    let Some(e) = schema.entity(&entity) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!([]))).into_response();
    };
    let text: String = sq.q.chars().take(100).collect();
    let q = ListQuery::from_pairs([("q", text.as_str()), ("limit", "10")]).unwrap_or_default();
    match state.store().list(&caller.access, &entity, &q) {
        Ok(p) => axum::Json(
            p.items
                .iter()
                .map(|r| json!({"id": r.id, "title": r.title(e)}))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(err) => crate::error::ApiError::from(err).into_response(),
    }
}
