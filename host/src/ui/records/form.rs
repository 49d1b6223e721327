//! Create and edit forms for every field type, with errors shown beside the fields.

use super::entity_or_page;
use super::form_picks::{pick_text_name, resolve_picks};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::extract::UiCaller;
use crate::ui::extract::{form_field, Pairs};
use crate::ui::render::{
    base, core_error, display, locale_of, message, page, t, title_of, zone_of,
};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::FixedOffset;
use qingguan_core::{Entity, FieldType, Input, Record, Value};
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;

/// Builds the form context: every visible field placed by the layout, with a fitting input.
fn form_sections(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    record: Option<&Record>,
    values: &HashMap<String, Vec<String>>,
    errors: &Map<String, Json>,
) -> Vec<Json> {
    let locale = locale_of(caller);
    let narrow = super::picker::narrowings(&state.store().schema_for(&caller.access), e);
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
                    let typed = values
                        .get(&pick_text_name(&f.def.name))
                        .and_then(|v| v.first());
                    let display_ref = match (f.def.reference_target(), first.parse::<i64>(), typed) {
                        (Some(_), _, Some(text)) => text.clone(),
                        (Some(t), Ok(id), None) => title_of(state, caller, t, id),
                        _ => String::new(),
                    };
                    let options: Vec<Json> = f.def.options.iter().map(|o| json!({"value": o.value, "label": o.label.get(locale), "selected": vals.contains(&o.value)})).collect();
                    // A field the system sets is shown as the record has it, never as an input.
                    let (widget, shown) = if !f.def.typed_in_forms() {
                        let v = record.map(|r| r.get(&f.def.name)).unwrap_or(&Value::Null);
                        let def = match record {
                            Some(r) => crate::ui::display::for_record(&f.def, r),
                            None => std::borrow::Cow::Borrowed(&f.def),
                        };
                        ("readonly", display(state, caller, &def, v))
                    } else {
                        (widget, String::new())
                    };
                    json!({
                        "name": f.def.name, "label": f.def.label.get(locale), "kind": f.def.kind.as_str(), "widget": widget, "input": input, "step": step, "shown": shown,
                        "value": first, "display": display_ref, "options": options, "required": f.def.required,
                        "target": f.def.reference_target(), "help": f.def.help.as_ref().map(|h| h.get(locale).to_string()),
                        "error": errors.get(&f.def.name), "narrow": narrow.get(&f.def.name),
                    })
                })
                .collect();
            json!({"title": s.title.get(locale), "fields": fields})
        })
        .collect()
}

/// Field values (a record's, defaults) as form strings, moments in the time zone `zone`.
fn values_text<'a>(
    zone: FixedOffset,
    values: impl Iterator<Item = (&'a String, &'a Value)>,
) -> HashMap<String, Vec<String>> {
    values
        .map(|(k, v)| {
            let vals = match v {
                Value::Null => vec![],
                Value::Multi(vs) => vs.clone(),
                Value::DateTime(dt) => {
                    vec![dt.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string()]
                }
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
/// Fields the system sets ([`qingguan_core::FieldDef::readonly`]) are left out: the form shows them as text.
/// A moment without an offset is read in the caller's time zone `zone`.
fn to_json(
    e: &Entity,
    zone: FixedOffset,
    values: &HashMap<String, Vec<String>>,
) -> Map<String, Json> {
    let mut out = Map::new();
    for f in e.visible_fields().filter(|f| f.def.typed_in_forms()) {
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
            _ if f.def.kind == FieldType::Datetime && !has_offset(&first) => {
                let secs = if first.len() == 16 { ":00" } else { "" };
                Json::String(format!("{first}{secs}{zone}"))
            }
            _ => Json::String(first),
        };
        out.insert(f.def.name.clone(), v);
    }
    out
}

/// Whether a submitted moment names its offset (`Z`, `+08:00`) after the time.
fn has_offset(s: &str) -> bool {
    s.split_once('T')
        .is_some_and(|(_, time)| time.ends_with('Z') || time.contains(['+', '-']))
}

/// The fields of a submitted form that the system sets ([`qingguan_core::FieldDef::readonly`]): a form never
/// offers them, so a post naming them is refused with a word on each.
fn readonly_errors(
    caller: &Caller,
    e: &Entity,
    values: &HashMap<String, Vec<String>>,
) -> Map<String, Json> {
    let locale = locale_of(caller);
    e.fields
        .iter()
        .filter(|f| !f.def.typed_in_forms())
        .filter(|f| {
            values.contains_key(&f.def.name) || values.contains_key(&pick_text_name(&f.def.name))
        })
        .map(|f| (f.def.name.clone(), json!(t(locale, "set_by_system"))))
        .collect()
}

/// The body of a write from a submitted form, with its pickers resolved; and the pickers'
/// errors. A picker that resolved to no record keeps its text in the body, so the core
/// refuses the write and reports every other field error with it; the picker's own message
/// then replaces the core's for that field.
fn form_body(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    values: &mut HashMap<String, Vec<String>>,
) -> (Map<String, Json>, Map<String, Json>) {
    let unresolved = resolve_picks(state, caller, e, values);
    let mut body = to_json(e, zone_of(state, caller), values);
    let mut errors = Map::new();
    for (field, text, why) in unresolved {
        body.insert(field.clone(), Json::String(text));
        errors.insert(field, Json::String(why));
    }
    (body, errors)
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
    record: Option<&Record>,
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
    let confirm = values.contains_key(super::duplicates::CONFIRMED);
    ctx.insert("confirm_duplicates".into(), json!(confirm));
    ctx.insert(
        "sections".into(),
        json!(form_sections(state, caller, e, record, values, &errors)),
    );
    ctx.insert("error".into(), json!(error));
    page(status, "form.html", Json::Object(ctx))
}

fn write_failure(
    state: &AppState,
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
        _ => crate::ui::refusal::refusal_text(&state.store().schema(), locale, None, &api),
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
    // The fields' default values, then what the link fills in (a customer's "new contact").
    let defaults = super::default_values(&e);
    let mut values = values_text(zone_of(&state, &caller), defaults.iter());
    values.extend(prefill.into_iter().map(|(k, v)| (k, vec![v])));
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
        None,
        &values,
        Map::new(),
        None,
        StatusCode::OK,
    )
}

/// The create form shown again with what was typed, the reasons beside the fields and a
/// summary (a refused create).
fn create_again(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    values: &HashMap<String, Vec<String>>,
    fields: Map<String, Json>,
    error: String,
    status: StatusCode,
) -> Response {
    let locale = locale_of(caller);
    form_page(
        state,
        caller,
        e,
        format!("{} · {}", t(locale, "new"), e.label.get(locale)),
        format!("/e/{}/new", e.name),
        format!("/e/{}", e.name),
        None,
        None,
        values,
        fields,
        Some(error),
        status,
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
    let mut values = form_values(&pairs);
    let refused = readonly_errors(&caller, &e, &values);
    if !refused.is_empty() {
        let error = t(locale_of(&caller), "fix_errors");
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return create_again(&state, &caller, &e, &values, refused, error, status);
    }
    let (body, pick_errors) = form_body(&state, &caller, &e, &mut values);
    if let Some(w) = super::duplicates::warning(&state, &caller, &e, &body, &mut values) {
        return create_again(
            &state,
            &caller,
            &e,
            &values,
            pick_errors,
            w,
            StatusCode::CONFLICT,
        );
    }
    let (access, ent) = (caller.access.clone(), entity.clone());
    match state
        .blocking(move |s| s.create(&access, &ent, &body))
        .await
    {
        Ok(r) => Redirect::to(&format!("/e/{entity}/{}", r.id)).into_response(),
        Err(api) => {
            let (mut fields, text, status) = write_failure(&state, &caller, api);
            fields.extend(pick_errors);
            create_again(&state, &caller, &e, &values, fields, text, status)
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
        Some(&r),
        &values_text(zone_of(&state, &caller), r.values.iter()),
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
    let mut values = form_values(&pairs);
    let refused = readonly_errors(&caller, &e, &values);
    if !refused.is_empty() {
        let locale = locale_of(&caller);
        let current = state.store().get(&caller.access, &entity, id).ok();
        return form_page(
            &state,
            &caller,
            &e,
            format!("{} · {}", t(locale, "edit"), e.label.get(locale)),
            format!("/e/{entity}/{id}/edit"),
            format!("/e/{entity}/{id}"),
            Some(version),
            current.as_ref(),
            &values,
            refused,
            Some(t(locale, "fix_errors")),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let (body, pick_errors) = form_body(&state, &caller, &e, &mut values);
    let (access, ent, store) = (caller.access.clone(), entity.clone(), state.store().clone());
    let outcome =
        tokio::task::spawn_blocking(move || store.update(&access, &ent, id, version, &body)).await;
    let locale = locale_of(&caller);
    let heading = format!("{} · {}", t(locale, "edit"), e.label.get(locale));
    match outcome {
        Ok(Ok(_)) => {
            if entity == "user" {
                // Deactivations and role changes hold at once, not after the session cache.
                state.forget_sessions();
            }
            Redirect::to(&format!("/e/{entity}/{id}")).into_response()
        }
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
                Some(&current),
                &values_text(zone_of(&state, &caller), current.values.iter()),
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
            let current = state.store().get(&caller.access, &entity, id).ok();
            let (mut fields, text, status) = write_failure(&state, &caller, err.into());
            fields.extend(pick_errors);
            form_page(
                &state,
                &caller,
                &e,
                heading,
                format!("/e/{entity}/{id}/edit"),
                format!("/e/{entity}/{id}"),
                Some(version),
                current.as_ref(),
                &values,
                fields,
                Some(text),
                status,
            )
        }
    }
}
