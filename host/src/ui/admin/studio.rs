//! Studio: custom entity types, fields (add, relabel, hide), select options and layouts.

use super::{admin_only, back_with_api_error, back_with_error, ErrorQuery};
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, message, page, t};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{
    EntityDef, FieldDef, FieldPatch, FieldType, Label, Layout, Locale, Origin, PartialLabel,
    Section, SelectOption,
};
use serde::Deserialize;
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
    let locale = locale_of(&caller);
    let schema = state.store().schema();
    let entities: Vec<Json> = schema.entities().iter().map(|e| json!({"name": e.name, "label": e.label.get(locale), "origin": origin_words(&state, locale, &e.origin), "retired": e.retired})).collect();
    let mut ctx = base(&state, &caller, "/admin/studio");
    ctx.insert("entities".into(), json!(entities));
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "admin_studio.html", Json::Object(ctx))
}

#[derive(Debug, Deserialize)]
pub struct EntityForm {
    name: String,
    label_en: String,
    label_zh: String,
}

/// `POST /admin/studio`: a new custom entity type with a name field.
pub async fn create_entity(
    State(state): State<AppState>,
    SignedForm { caller, form: f }: SignedForm<EntityForm>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let def = EntityDef {
        name: f.name.trim().to_string(),
        label: Label::new(f.label_en.trim(), f.label_zh.trim()),
        fields: vec![FieldDef::new("name", FieldType::Text, "Name", "名称").required()],
        title_field: Some("name".into()),
        kanban_field: None,
        layout: None,
        indexes: Vec::new(),
    };
    let (access, name) = (caller.access.clone(), def.name.clone());
    match state
        .blocking(move |s| s.create_entity(&access, &def))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/studio/{name}")).into_response(),
        Err(e) => back_with_api_error("/admin/studio", &e),
    }
}

/// `GET /admin/studio/{entity}`.
pub async fn studio_entity(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let locale = locale_of(&caller);
    let schema = state.store().schema();
    let Some(e) = schema.entity(&entity) else {
        return message(
            &state,
            &caller,
            StatusCode::NOT_FOUND,
            &t(locale, "not_found"),
            &entity,
        );
    };
    let fields: Vec<Json> = e
        .fields
        .iter()
        .map(|f| json!({"name": f.def.name, "kind": kind_words(locale, f.def.kind), "origin": origin_words(&state, locale, &f.origin), "retired": f.retired, "hidden": f.hidden, "readonly": f.def.readonly, "label_en": f.def.label.en, "label_zh": f.def.label.zh_cn}))
        .collect();
    let mut layout_text = String::new();
    for s in &e.layout.sections {
        layout_text.push_str(&format!("# {} | {}\n", s.title.en, s.title.zh_cn));
        for f in &s.fields {
            layout_text.push_str(f);
            layout_text.push('\n');
        }
    }
    let targets: Vec<Json> = schema
        .entities()
        .iter()
        .filter(|x| !x.retired)
        .map(|x| json!({"name": x.name, "label": x.label.get(locale)}))
        .collect();
    let mut ctx = base(&state, &caller, "/admin/studio");
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert("fields".into(), json!(fields));
    ctx.insert(
        "kinds".into(),
        json!(FieldType::ALL
            .iter()
            .map(|k| json!({"value": k.as_str(), "label": kind_words(locale, *k)}))
            .collect::<Vec<_>>()),
    );
    ctx.insert("targets".into(), json!(targets));
    ctx.insert("layout_text".into(), json!(layout_text));
    ctx.insert(
        "columns_text".into(),
        json!(e.layout.list_columns.join(", ")),
    );
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "studio_entity.html", Json::Object(ctx))
}

/// A field type as Studio names it to people.
fn kind_words(locale: Locale, kind: FieldType) -> &'static str {
    let (en, zh) = kind.info().label;
    if locale == Locale::ZhCn {
        zh
    } else {
        en
    }
}

/// Who declared an entity type or field, in words (a plugin by its name).
fn origin_words(state: &AppState, locale: Locale, origin: &Origin) -> String {
    match origin {
        Origin::Core => t(locale, "origin_core"),
        Origin::Custom => t(locale, "origin_custom"),
        Origin::Plugin(id) => {
            let name = state
                .plugins()
                .active(id)
                .and_then(|p| p.manifest.name.as_ref().map(|l| l.get(locale).to_string()))
                .unwrap_or_else(|| id.clone());
            t(locale, "origin_plugin").replace("{name}", &name)
        }
    }
}

/// Parses "value | English | 中文" lines.
fn parse_options(text: &str) -> Vec<SelectOption> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.split('|').map(str::trim).collect();
            let value = parts[0].to_string();
            let en = parts.get(1).copied().unwrap_or(parts[0]);
            let zh = parts.get(2).copied().unwrap_or(en);
            SelectOption {
                value,
                label: Label::new(en, zh),
                color: None,
            }
        })
        .collect()
}

/// `POST /admin/studio/{entity}/fields`: adds a custom field.
pub async fn add_field(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    SignedForm { caller, form: f }: SignedForm<HashMap<String, String>>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let back = format!("/admin/studio/{entity}");
    let kind: FieldType =
        match serde_json::from_value(json!(f.get("type").cloned().unwrap_or_default())) {
            Ok(k) => k,
            Err(_) => return back_with_error(&back, &t(locale_of(&caller), "unknown_type")),
        };
    let g = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut def = FieldDef::new(&g("name"), kind, &g("label_en"), &g("label_zh"));
    def.required = g("required") == "true";
    if kind.info().options {
        def.options = parse_options(&g("options"));
    }
    if kind == FieldType::Reference {
        def.target = Some(g("target")).filter(|s| !s.is_empty());
    }
    let (access, ent) = (caller.access.clone(), entity.clone());
    match state
        .blocking(move |s| s.add_field(&access, &ent, &def))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => back_with_api_error(&back, &e),
    }
}

/// `POST /admin/studio/{entity}/fields/{field}`: relabels and hides or shows a field.
pub async fn patch_field(
    State(state): State<AppState>,
    Path((entity, field)): Path<(String, String)>,
    SignedForm { caller, form: f }: SignedForm<HashMap<String, String>>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let back = format!("/admin/studio/{entity}");
    let patch = FieldPatch {
        label: Some(PartialLabel {
            en: f.get("label_en").cloned().filter(|s| !s.trim().is_empty()),
            zh_cn: f.get("label_zh").cloned().filter(|s| !s.trim().is_empty()),
        }),
        hidden: Some(f.get("hidden").map(String::as_str) == Some("true")),
        ..Default::default()
    };
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.patch_field(&access, &entity, &field, &patch))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => back_with_api_error(&back, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct LayoutForm {
    layout: String,
    #[serde(default)]
    columns: String,
}

/// `POST /admin/studio/{entity}/layout`: sections and field order from the text editor.
pub async fn set_layout(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    SignedForm { caller, form: f }: SignedForm<LayoutForm>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let back = format!("/admin/studio/{entity}");
    let mut sections: Vec<Section> = Vec::new();
    for line in f.layout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(title) = line.strip_prefix('#') {
            let (en, zh) = title.split_once('|').unwrap_or((title, title));
            sections.push(Section {
                title: Label::new(en.trim(), zh.trim()),
                fields: vec![],
            });
        } else {
            if sections.is_empty() {
                sections.push(Section {
                    title: Label::new("Details", "详细信息"),
                    fields: vec![],
                });
            }
            if let Some(s) = sections.last_mut() {
                s.fields.push(line.to_string());
            }
        }
    }
    let layout = Layout {
        sections,
        list_columns: f
            .columns
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
    };
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.set_layout(&access, &entity, &layout))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => back_with_api_error(&back, &e),
    }
}
