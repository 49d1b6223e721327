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
    let schema = state.store().schema_for(&caller.access);
    let q: String = sq.q.chars().take(200).collect();
    let hits: Vec<Json> = state
        .store()
        .search(&caller.access, &q, 50)
        .unwrap_or_default()
        .into_iter()
        .map(|h| {
            let e = schema.entity(&h.entity);
            let label = e
                .map(|e| e.label.get(locale).to_string())
                .unwrap_or_default();
            // Why it was found, when its title does not show it: "电话：+86 139…".
            let why = h.matched.as_ref().map(|m| {
                let field = e
                    .and_then(|e| e.field(&m.field))
                    .map(|f| f.def.label.get(locale).to_string())
                    .unwrap_or_else(|| m.field.clone());
                let colon = if locale == qingguan_core::Locale::ZhCn {
                    "："
                } else {
                    ": "
                };
                format!("{field}{colon}{}", m.text)
            });
            json!({"entity": h.entity, "id": h.id, "title": h.title, "label": label, "why": why})
        })
        .collect();
    let mut ctx = base(&state, &caller, "/search");
    ctx.insert("q".into(), json!(q));
    ctx.insert("hits".into(), json!(hits));
    page(StatusCode::OK, "search.html", Json::Object(ctx))
}

#[derive(Debug, Deserialize)]
pub struct PickQuery {
    #[serde(default)]
    q: String,
    /// A reference field of the picked type that must equal `value` (a picker narrowed by
    /// another field of the form: a follow-up's deals of its customer).
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// `GET /pick/{entity}?q=[&by=FIELD&value=ID]`: `[{id, title}]` for the reference picker;
/// without text, the latest records (a narrowed picker offers them before anything is typed).
pub async fn pick(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(sq): Query<PickQuery>,
) -> Response {
    let schema = state.store().schema_for(&caller.access);
    let Some(e) = schema.entity(&entity) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!([]))).into_response();
    };
    let text: String = sq.q.chars().take(100).collect();
    let mut pairs = vec![("limit".to_string(), "10".to_string())];
    if text.trim().is_empty() {
        pairs.push(("sort".into(), "-updated_at".into()));
    } else {
        pairs.push(("q".into(), text));
    }
    match (sq.by.as_deref(), sq.value.as_deref().map(str::trim)) {
        (None, _) | (Some(_), None | Some("")) => {}
        (Some(by), Some(value)) => {
            let is_reference = e
                .field(by)
                .is_some_and(|f| f.def.kind == qingguan_core::FieldType::Reference);
            if !is_reference || value.parse::<i64>().map_or(true, |id| id <= 0) {
                let why = if is_reference { "value" } else { "by" };
                return crate::error::ApiError::bad_request(why, "not a reference to narrow by")
                    .into_response();
            }
            pairs.push((by.to_string(), value.to_string()));
        }
    }
    let q = ListQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap_or_default();
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
