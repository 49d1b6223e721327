//! Fields: adding one (its key derived from a label when left empty), changing an existing
//! one (labels, required, help, options, default value, hidden), retiring a custom one and
//! bringing it back.

use super::{entity_page, field_taken, keys, value, Draft};
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::refusal::refusal_text;
use crate::ui::render::{locale_of, t};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{
    FieldDef, FieldPatch, FieldType, Label, PartialLabel, Reason, SelectOption, Value,
};
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// Options as the Studio edits them: "value | English | 中文", one per line, and
/// " | #colour" after an option with a colour (a closed stage on the kanban board).
pub(super) fn options_text(options: &[SelectOption]) -> String {
    options
        .iter()
        .map(|o| match &o.color {
            Some(c) => format!("{} | {} | {} | {c}\n", o.value, o.label.en, o.label.zh_cn),
            None => format!("{} | {} | {}\n", o.value, o.label.en, o.label.zh_cn),
        })
        .collect()
}

/// A field's default value as the Studio edits it (the text a form input would hold).
pub(super) fn default_text(def: &FieldDef) -> String {
    def.default
        .as_ref()
        .and_then(|d| Value::from_json(def, d).ok())
        .map(|v| v.to_text())
        .unwrap_or_default()
}

/// The default value typed for `def` (checked against its type, `options` if they change
/// too): `Ok(None)` unchanged, `Ok(Some(Null))` removed, or why it does not fit.
fn typed_default(
    def: &FieldDef,
    options: Option<&Vec<SelectOption>>,
    typed: Option<&String>,
) -> Result<Option<Json>, Reason> {
    let Some(typed) = typed.map(|t| t.trim()) else {
        return Ok(None);
    };
    if typed == default_text(def) {
        return Ok(None);
    }
    let mut probe = def.clone();
    if let Some(o) = options {
        probe.options = o.clone();
    }
    let v = Value::parse_str(&probe, typed)?;
    v.check_bounds(&probe)?;
    Ok(Some(v.to_json()))
}

/// Parses "value | English | 中文" lines; a line with words only gets a key derived from
/// them. Colours of options kept from `old` stay.
fn parse_options(text: &str, old: &[SelectOption]) -> Vec<SelectOption> {
    let mut out: Vec<SelectOption> = Vec::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = l.split('|').map(str::trim).collect();
        let (value, en, zh) = match parts.as_slice() {
            [one] if qingguan_core::schema::check_name(one).is_err() => {
                let key = keys::derive(one, "o", |k| out.iter().any(|o| o.value == k));
                (key, *one, *one)
            }
            _ => {
                let en = parts.get(1).copied().unwrap_or(parts[0]);
                (
                    parts[0].to_string(),
                    en,
                    parts.get(2).copied().unwrap_or(en),
                )
            }
        };
        // A fourth part is the colour (empty: none); without one the colour stays.
        let color = match parts.get(3) {
            Some(c) => Some(c.to_string()).filter(|c| !c.is_empty()),
            None => old
                .iter()
                .find(|o| o.value == value)
                .and_then(|o| o.color.clone()),
        };
        out.push(SelectOption {
            value,
            label: Label::new(en, zh),
            color,
        });
    }
    out
}

/// `POST /admin/studio/{entity}/fields`: adds a custom field.
pub async fn add_field(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    AdminForm { caller, form: f }: AdminForm<HashMap<String, String>>,
) -> Response {
    let locale = locale_of(&caller);
    let kind: FieldType = match serde_json::from_value(json!(value(&f, "type"))) {
        Ok(k) => k,
        Err(_) => {
            let d = Draft::one("add_field", f, locale, "type", t(locale, "unknown_type"));
            return entity_page(
                &state,
                &caller,
                &entity,
                &d,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let mut name = value(&f, "name");
    if name.is_empty() {
        if let Some(e) = state.store().schema().entity(&entity) {
            name = keys::derive(&value(&f, "label_en"), "f", |k| field_taken(e, k));
        }
    }
    let mut def = FieldDef::new(&name, kind, &value(&f, "label_en"), &value(&f, "label_zh"));
    def.required = value(&f, "required") == "true";
    let help = Label::new(value(&f, "help_en"), value(&f, "help_zh"));
    if !help.en.is_empty() || !help.zh_cn.is_empty() {
        def.help = Some(help);
    }
    if kind.info().options {
        def.options = parse_options(&value(&f, "options"), &[]);
    }
    if kind == FieldType::Reference {
        def.target = Some(value(&f, "target")).filter(|s| !s.is_empty());
    }
    if kind == FieldType::AutoNumber {
        def.format = Some(value(&f, "format")).filter(|s| !s.is_empty());
    }
    if kind == FieldType::Formula {
        def.expression = Some(value(&f, "expression"));
    }
    if kind == FieldType::Currency {
        def.currency = Some(value(&f, "currency")).filter(|s| !s.is_empty());
    }
    let (access, ent) = (caller.access.clone(), entity.clone());
    match state
        .blocking(move |s| s.add_field(&access, &ent, &def))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/studio/{entity}")).into_response(),
        Err(e) => {
            let d = Draft::refused("add_field", f, locale, &e);
            entity_page(&state, &caller, &entity, &d, e.status)
        }
    }
}

/// `POST /admin/studio/{entity}/fields/{field}`: changes what differs from the field as it
/// is — labels, required, help, options, default value, hidden.
pub async fn patch_field(
    State(state): State<AppState>,
    Path((entity, field)): Path<(String, String)>,
    AdminForm { caller, form: f }: AdminForm<HashMap<String, String>>,
) -> Response {
    let schema = state.store().schema();
    let Some(cur) = schema.entity(&entity).and_then(|e| e.field(&field)) else {
        let d = Draft::default();
        return entity_page(&state, &caller, &entity, &d, StatusCode::NOT_FOUND);
    };
    let changed = |k: &str, now: &str| {
        f.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty() && v != now)
    };
    let flag = |k: &str| f.get(k).map(String::as_str) == Some("true");
    let label = PartialLabel {
        en: changed("label_en", &cur.def.label.en),
        zh_cn: changed("label_zh", &cur.def.label.zh_cn),
    };
    let old_help = cur.def.help.clone().unwrap_or_default();
    let help = Label::new(value(&f, "help_en"), value(&f, "help_zh"));
    let options = Some(parse_options(&value(&f, "options"), &cur.def.options)).filter(|o| {
        cur.def.kind.info().options && f.contains_key("options") && *o != cur.def.options
    });
    let default = match typed_default(&cur.def, options.as_ref(), f.get("default")) {
        Ok(d) => d,
        Err(why) => {
            let locale = locale_of(&caller);
            let d = Draft::one(
                &format!("field:{field}"),
                f,
                locale,
                "default",
                why.render(locale),
            );
            drop(schema);
            return entity_page(
                &state,
                &caller,
                &entity,
                &d,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let patch = FieldPatch {
        label: Some(label).filter(|l| l.en.is_some() || l.zh_cn.is_some()),
        hidden: Some(flag("hidden")).filter(|h| *h != cur.hidden),
        help: (f.contains_key("help_en") && help != old_help).then_some(PartialLabel {
            en: Some(help.en),
            zh_cn: Some(help.zh_cn),
        }),
        required: Some(flag("required"))
            .filter(|r| f.contains_key("required_shown") && *r != cur.def.required),
        options,
        default,
    };
    drop(schema);
    let (access, ent, fld) = (caller.access.clone(), entity.clone(), field.clone());
    match state
        .blocking(move |s| s.patch_field(&access, &ent, &fld, &patch))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/studio/{entity}")).into_response(),
        Err(e) => {
            let form = format!("field:{field}");
            let d = Draft::refused(&form, f, locale_of(&caller), &e);
            entity_page(&state, &caller, &entity, &d, e.status)
        }
    }
}

/// `POST /admin/studio/{entity}/fields/{field}/retire`: retires a custom field — it leaves
/// forms and lists, its column and values stay.
pub async fn retire_field(
    State(state): State<AppState>,
    Path((entity, field)): Path<(String, String)>,
    AdminForm { caller, form: f }: AdminForm<HashMap<String, String>>,
) -> Response {
    let (access, ent, fld) = (caller.access.clone(), entity.clone(), field.clone());
    match state
        .blocking(move |s| s.retire_field(&access, &ent, &fld))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/studio/{entity}")).into_response(),
        Err(e) => {
            let d = Draft::refused(&format!("field:{field}"), f, locale_of(&caller), &e);
            entity_page(&state, &caller, &entity, &d, e.status)
        }
    }
}

/// `POST /admin/studio/{entity}/fields/{field}/unretire`: brings a retired custom field back,
/// with the values it held.
pub async fn unretire_field(
    State(state): State<AppState>,
    Path((entity, field)): Path<(String, String)>,
    AdminForm { caller, form: f }: AdminForm<HashMap<String, String>>,
) -> Response {
    let (access, ent, fld) = (caller.access.clone(), entity.clone(), field.clone());
    match state
        .blocking(move |s| s.unretire_field(&access, &ent, &fld))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/studio/{entity}")).into_response(),
        Err(e) => {
            // The key is no input of this form: the reason, in words, above the fields.
            let locale = locale_of(&caller);
            let why = refusal_text(&state.store().schema(), locale, Some(&entity), &e);
            let d = Draft {
                form: format!("field:{field}"),
                values: f,
                summary: Some(why),
                ..Default::default()
            };
            entity_page(&state, &caller, &entity, &d, e.status)
        }
    }
}
