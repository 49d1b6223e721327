//! Create and edit forms for every field type, with errors shown beside the fields.

use super::entity_or_page;
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::extract::UiCaller;
use crate::ui::extract::{form_field, Pairs};
use crate::ui::render::{base, core_error, locale_of, message, page, t, title_of};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{Entity, Input, Record, Value};
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;

/// Builds the form context: every visible field placed by the layout, with a fitting input.
fn form_sections(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    values: &HashMap<String, Vec<String>>,
    errors: &Map<String, Json>,
) -> Vec<Json> {
    let locale = locale_of(caller);
    e.layout
        .sections
        .iter()
        .map(|s| {
            let fields: Vec<Json> = s
                .fields
                .iter()
                .filter_map(|f| e.field(f))
                .map(|f| {
                    let vals = values.get(&f.def.name).cloned().unwrap_or_default();
                    let first = vals.first().cloned().unwrap_or_default();
                    let (widget, input) = match f.def.kind.info().input {
                        Input::Line(t) => ("line", t),
                        Input::Area => ("area", ""),
                        Input::Check => ("check", ""),
                        Input::Choice => ("choice", ""),
                        Input::Choices => ("choices", ""),
                        Input::Pick => ("pick", ""),
                    };
                    let step = (input == "number").then_some("1");
                    let display_ref = match (f.def.reference_target(), first.parse::<i64>()) {
                        (Some(t), Ok(id)) => title_of(state, caller, t, id),
                        _ => String::new(),
                    };
                    let options: Vec<Json> = f.def.options.iter().map(|o| json!({"value": o.value, "label": o.label.get(locale), "selected": vals.contains(&o.value)})).collect();
                    json!({
                        "name": f.def.name, "label": f.def.label.get(locale), "kind": f.def.kind.as_str(), "widget": widget, "input": input, "step": step,
                        "value": first, "display": display_ref, "options": options, "required": f.def.required,
                        "target": f.def.reference_target(), "help": f.def.help.as_ref().map(|h| h.get(locale).to_string()),
                        "error": errors.get(&f.def.name),
                    })
                })
                .collect();
            json!({"title": s.title.get(locale), "fields": fields})
        })
        .collect()
}

/// Form values of a record, as strings per field.
fn record_values(r: &Record) -> HashMap<String, Vec<String>> {
    r.values
        .iter()
        .map(|(k, v)| {
            let vals = match v {
                Value::Null => vec![],
                Value::Multi(vs) => vs.clone(),
                Value::DateTime(dt) => vec![dt.format("%Y-%m-%dT%H:%M").to_string()],
                other => vec![other.to_text()],
            };
            (k.clone(), vals)
        })
        .collect()
}

fn form_values(pairs: &Pairs) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        if k != "csrf" && k != "version" {
            m.entry(k.clone()).or_default().push(v.clone());
        }
    }
    m
}

/// Turns submitted strings into API JSON by field type (type errors stay visible as such).
fn to_json(e: &Entity, values: &HashMap<String, Vec<String>>) -> Map<String, Json> {
    let mut out = Map::new();
    for f in e.visible_fields() {
        let vals = values.get(&f.def.name).cloned().unwrap_or_default();
        let first = vals
            .first()
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        // The JSON shape the API takes for the type; a value that does not fit stays a string
        // so that the type error shows beside the field.
        let v = match f.def.kind.info().json.0 {
            "array" => Json::Array(
                vals.into_iter()
                    .filter(|s| !s.is_empty())
                    .map(Json::String)
                    .collect(),
            ),
            _ if first.is_empty() => Json::Null,
            "integer" => first
                .parse::<i64>()
                .map(Json::from)
                .unwrap_or(Json::String(first)),
            "boolean" => Json::Bool(first == "true"),
            _ => Json::String(first),
        };
        out.insert(f.def.name.clone(), v);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    heading: String,
    action: String,
    cancel: String,
    version: Option<i64>,
    values: &HashMap<String, Vec<String>>,
    errors: Map<String, Json>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let mut ctx = base(state, caller, &action);
    ctx.insert("heading".into(), json!(heading));
    ctx.insert("action".into(), json!(action));
    ctx.insert("cancel".into(), json!(cancel));
    ctx.insert("version".into(), json!(version));
    ctx.insert(
        "sections".into(),
        json!(form_sections(state, caller, e, values, &errors)),
    );
    ctx.insert("error".into(), json!(error));
    page(status, "form.html", Json::Object(ctx))
}

fn write_failure(
    caller: &Caller,
    api: crate::error::ApiError,
) -> (Map<String, Json>, String, StatusCode) {
    let locale = locale_of(caller);
    let fields: Map<String, Json> = api
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.render(locale))))
        .collect();
    let text = match api.code {
        "stale_version" => t(locale, "stale"),
        _ if !fields.is_empty() => t(locale, "fix_errors"),
        _ => api.message.clone(),
    };
    (fields, text, api.status)
}

/// `GET /e/{entity}/new`.
pub async fn new_form(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(prefill): Query<HashMap<String, String>>,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    if !caller.access.permission(&entity).create || e.retired || entity == "user" {
        return message(
            &state,
            &caller,
            StatusCode::FORBIDDEN,
            &t(locale_of(&caller), "forbidden"),
            &entity,
        );
    }
    let values: HashMap<String, Vec<String>> =
        prefill.into_iter().map(|(k, v)| (k, vec![v])).collect();
    let heading = format!(
        "{} · {}",
        t(locale_of(&caller), "new"),
        e.label.get(locale_of(&caller))
    );
    form_page(
        &state,
        &caller,
        &e,
        heading,
        format!("/e/{entity}/new"),
        format!("/e/{entity}"),
        None,
        &values,
        Map::new(),
        None,
        StatusCode::OK,
    )
}

/// `POST /e/{entity}/new`: creates, or shows the form again with the errors beside the fields.
pub async fn create(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    SignedForm {
        caller,
        form: pairs,
    }: SignedForm<Pairs>,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let values = form_values(&pairs);
    let body = to_json(&e, &values);
    let (access, ent) = (caller.access.clone(), entity.clone());
    match state
        .blocking(move |s| s.create(&access, &ent, &body))
        .await
    {
        Ok(r) => Redirect::to(&format!("/e/{entity}/{}", r.id)).into_response(),
        Err(api) => {
            let (fields, text, status) = write_failure(&caller, api);
            let locale = locale_of(&caller);
            let heading = format!("{} · {}", t(locale, "new"), e.label.get(locale));
            form_page(
                &state,
                &caller,
                &e,
                heading,
                format!("/e/{entity}/new"),
                format!("/e/{entity}"),
                None,
                &values,
                fields,
                Some(text),
                status,
            )
        }
    }
}

/// `GET /e/{entity}/{id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((entity, id)): Path<(String, i64)>,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let r = match state.store().get(&caller.access, &entity, id) {
        Ok(r) => r,
        Err(err) => return core_error(&state, &caller, err),
    };
    if !caller.access.permission(&entity).update {
        return message(
            &state,
            &caller,
            StatusCode::FORBIDDEN,
            &t(locale_of(&caller), "forbidden"),
            &entity,
        );
    }
    let heading = format!("{} · {}", t(locale_of(&caller), "edit"), r.title(&e));
    form_page(
        &state,
        &caller,
        &e,
        heading,
        format!("/e/{entity}/{id}/edit"),
        format!("/e/{entity}/{id}"),
        Some(r.version),
        &record_values(&r),
        Map::new(),
        None,
        StatusCode::OK,
    )
}

/// `POST /e/{entity}/{id}/edit`: updates with the version the form was loaded at; a stale
/// version shows the current record with an explanation.
pub async fn update(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, i64)>,
    SignedForm {
        caller,
        form: pairs,
    }: SignedForm<Pairs>,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let version: i64 = form_field(&pairs, "version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let values = form_values(&pairs);
    let body = to_json(&e, &values);
    let (access, ent, store) = (caller.access.clone(), entity.clone(), state.store().clone());
    let outcome =
        tokio::task::spawn_blocking(move || store.update(&access, &ent, id, version, &body)).await;
    let locale = locale_of(&caller);
    let heading = format!("{} · {}", t(locale, "edit"), e.label.get(locale));
    match outcome {
        Ok(Ok(_)) => Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
        Ok(Err(qingguan_core::Error::StaleVersion { .. })) => {
            let current = match state.store().get(&caller.access, &entity, id) {
                Ok(r) => r,
                Err(err) => return core_error(&state, &caller, err),
            };
            form_page(
                &state,
                &caller,
                &e,
                heading,
                format!("/e/{entity}/{id}/edit"),
                format!("/e/{entity}/{id}"),
                Some(current.version),
                &record_values(&current),
                Map::new(),
                Some(t(locale, "stale")),
                StatusCode::CONFLICT,
            )
        }
        Err(_) => message(
            &state,
            &caller,
            StatusCode::INTERNAL_SERVER_ERROR,
            &t(locale, "error"),
            "",
        ),
        Ok(Err(err)) => {
            let (fields, text, status) = write_failure(&caller, err.into());
            form_page(
                &state,
                &caller,
                &e,
                heading,
                format!("/e/{entity}/{id}/edit"),
                format!("/e/{entity}/{id}"),
                Some(version),
                &values,
                fields,
                Some(text),
                status,
            )
        }
    }
}
