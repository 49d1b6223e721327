//! The Studio front page: entity types, and creating a custom one.

use super::{keys, origin_words, value, Draft};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::admin::{admin_only, ErrorQuery};
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, page};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{EntityDef, FieldDef, FieldType, Label};
use serde_json::{json, Value as Json};
use std::collections::HashMap;

pub async fn studio(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let draft = Draft {
        summary: q.error,
        ..Default::default()
    };
    studio_page(&state, &caller, &draft, StatusCode::OK)
}

fn studio_page(state: &AppState, caller: &Caller, draft: &Draft, status: StatusCode) -> Response {
    let locale = locale_of(caller);
    let schema = state.store().schema();
    let entities: Vec<Json> = schema.entities().iter().map(|e| json!({"name": e.name, "label": e.label.get(locale), "origin": origin_words(state, locale, &e.origin), "retired": e.retired})).collect();
    let mut ctx = base(state, caller, "/admin/studio");
    ctx.insert("entities".into(), json!(entities));
    ctx.insert("form".into(), draft.for_form("entity"));
    ctx.insert("error".into(), json!(draft.summary));
    page(status, "admin_studio.html", Json::Object(ctx))
}

/// `POST /admin/studio`: a new custom entity type with a name field. The key is derived from
/// the labels when left empty.
pub async fn create_entity(
    State(state): State<AppState>,
    AdminForm { caller, form: f }: AdminForm<HashMap<String, String>>,
) -> Response {
    let (label_en, label_zh) = (value(&f, "label_en"), value(&f, "label_zh"));
    let mut name = value(&f, "name");
    if name.is_empty() {
        let schema = state.store().schema();
        name = keys::derive(&label_en, "e", |k| schema.contains(k));
    }
    let def = EntityDef {
        name: name.clone(),
        label: Label::new(label_en, label_zh),
        fields: vec![FieldDef::new("name", FieldType::Text, "Name", "名称").required()],
        title_field: Some("name".into()),
        kanban_field: None,
        layout: None,
        indexes: Vec::new(),
        searchable: true,
    };
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.create_entity(&access, &def))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/studio/{name}")).into_response(),
        Err(e) => {
            let draft = Draft::refused("entity", f, locale_of(&caller), &e);
            studio_page(&state, &caller, &draft, e.status)
        }
    }
}
