//! Studio: custom entity types, fields (add, relabel, require, help, options, default value,
//! hide, retire and bring back)
//! and layouts. A refused form is shown again with what was typed and each error beside its
//! input, in the user's language.

mod entities;
mod fields;
mod keys;
mod layout;

pub use entities::{create_entity, studio};
pub use fields::{add_field, patch_field, retire_field, unretire_field};
pub use layout::set_layout;

use super::{admin_only, ErrorQuery};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, message, page, t};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use qingguan_core::{Entity, FieldType, Locale, Origin, Schema};
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;

/// A refused form to show again: which form, what was typed, and why, per input.
#[derive(Debug, Default)]
pub(super) struct Draft {
    /// `entity`, `add_field`, `field:<name>` or `layout`.
    form: String,
    values: HashMap<String, String>,
    errors: Map<String, Json>,
    summary: Option<String>,
}

impl Draft {
    /// The form `form` as typed, with the reasons `e` gives, in `locale`.
    fn refused(form: &str, values: HashMap<String, String>, locale: Locale, e: &ApiError) -> Self {
        let mut d = Draft {
            form: form.to_string(),
            values,
            ..Default::default()
        };
        let mut rest = Vec::new();
        for (key, why) in e.fields.iter() {
            match input_of(key) {
                Some(input) => {
                    let text = why.render(locale);
                    let text = match d.errors.get(input).and_then(Json::as_str) {
                        Some(before) => format!("{before}; {text}"),
                        None => text,
                    };
                    d.errors.insert(input.into(), json!(text));
                }
                None => rest.push(format!(
                    "{}{}{}",
                    super::form_label(locale, key),
                    if locale == Locale::ZhCn { "：" } else { ": " },
                    why.render(locale)
                )),
            }
        }
        d.summary = Some(if e.fields.is_empty() {
            // Never the core's English summary for a reader of Chinese.
            crate::ui::refusal::refusal_text(&Schema::default(), locale, None, e)
        } else if rest.is_empty() {
            t(locale, "fix_errors")
        } else {
            format!("{} {}", t(locale, "fix_errors"), rest.join("; "))
        });
        d
    }

    /// One error beside one input.
    fn one(
        form: &str,
        values: HashMap<String, String>,
        locale: Locale,
        input: &str,
        why: String,
    ) -> Self {
        let mut errors = Map::new();
        errors.insert(input.into(), json!(why));
        Draft {
            form: form.into(),
            values,
            errors,
            summary: Some(t(locale, "fix_errors")),
        }
    }

    /// `{values, errors}` for the template when this draft is of `form`, else empty maps.
    fn for_form(&self, form: &str) -> Json {
        if self.form == form {
            json!({"values": self.values, "errors": self.errors, "open": true})
        } else {
            json!({"values": {}, "errors": {}, "open": false})
        }
    }
}

/// The input of a Studio form that an error key names (`label.zh-CN` → `label_zh`).
fn input_of(key: &str) -> Option<&'static str> {
    let head = key.split(['.', '[']).next().unwrap_or(key);
    Some(match (head, key) {
        (_, "label.zh-CN") | ("label_zh", _) => "label_zh",
        ("label" | "label_en", _) => "label_en",
        ("name", _) => "name",
        ("type" | "kind", _) => "type",
        ("options", _) => "options",
        ("target", _) => "target",
        ("help", _) => "help_en",
        ("sections" | "layout", _) => "layout",
        ("list_columns" | "columns", _) => "columns",
        ("default", _) => "default",
        _ => return None,
    })
}

/// The trimmed text of one input of a url-encoded form.
fn value(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|s| s.trim().to_string()).unwrap_or_default()
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
    let draft = Draft {
        summary: q.error,
        ..Default::default()
    };
    entity_page(&state, &caller, &entity, &draft, StatusCode::OK)
}

/// The page of one entity type, with `draft` shown in the form it belongs to.
pub(super) fn entity_page(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    draft: &Draft,
    status: StatusCode,
) -> Response {
    let locale = locale_of(caller);
    let schema = state.store().schema();
    let Some(e) = schema.entity(entity) else {
        return message(
            state,
            caller,
            StatusCode::NOT_FOUND,
            &t(locale, "not_found"),
            entity,
        );
    };
    let fields: Vec<Json> = e
        .fields
        .iter()
        .map(|f| {
            let help = f.def.help.clone().unwrap_or_default();
            let mut current = json!({"label_en": f.def.label.en, "label_zh": f.def.label.zh_cn,
                "help_en": help.en, "help_zh": help.zh_cn, "required": f.def.required,
                "hidden": f.hidden, "options": fields::options_text(&f.def.options),
                "default": fields::default_text(&f.def)});
            let row = draft.for_form(&format!("field:{}", f.def.name));
            if let Some(typed) = row["values"].as_object().filter(|_| row["open"] == true) {
                for (k, v) in typed {
                    current[k] = v.clone();
                }
                for k in ["required", "hidden"] {
                    current[k] = json!(typed.get(k).and_then(Json::as_str) == Some("true"));
                }
            }
            json!({"name": f.def.name, "kind": kind_words(locale, f.def.kind),
                "origin": origin_words(state, locale, &f.origin), "retired": f.retired,
                "readonly": f.def.readonly, "custom": f.origin == Origin::Custom,
                "takes_options": f.def.kind.info().options,
                "choices": default_choices(locale, f), "label": f.def.label.get(locale),
                "v": current, "err": row["errors"]})
        })
        .collect();
    let targets: Vec<Json> = schema
        .entities()
        .iter()
        .filter(|x| !x.retired)
        .map(|x| json!({"name": x.name, "label": x.label.get(locale)}))
        .collect();
    let mut ctx = base(state, caller, "/admin/studio");
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
    let company = state.store().company_currency().unwrap_or("CNY");
    ctx.insert(
        "currencies".into(),
        json!(qingguan_core::currency::CURRENCIES
            .iter()
            .map(|c| json!({"code": c.code, "label": format!("{} · {}", c.code, if locale == qingguan_core::Locale::ZhCn { c.name.1 } else { c.name.0 })}))
            .collect::<Vec<_>>()),
    );
    ctx.insert("company_currency".into(), json!(company));
    ctx.insert("add".into(), draft.for_form("add_field"));
    let lay = draft.for_form("layout");
    ctx.insert(
        "layout_text".into(),
        json!(lay["values"]["layout"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| layout::layout_text(e))),
    );
    let chosen: Vec<String> = match lay["values"]["columns"].as_str() {
        Some(typed) => typed.split(',').map(|c| c.trim().to_string()).collect(),
        None => e.layout.list_columns.clone(),
    };
    ctx.insert(
        "column_choices".into(),
        json!(layout::column_choices(e, &chosen, locale)),
    );
    ctx.insert(
        "layout_fields".into(),
        json!(e
            .visible_fields()
            .map(|f| json!({"name": f.def.name, "label": f.def.label.get(locale)}))
            .collect::<Vec<_>>()),
    );
    ctx.insert("layout_errors".into(), lay["errors"].clone());
    // A new section's title, in both languages whatever the reader's.
    ctx.insert(
        "section_title".into(),
        json!({"en": t(Locale::En, "new_section_title"), "zh": t(Locale::ZhCn, "new_section_title")}),
    );
    ctx.insert("error".into(), json!(draft.summary));
    page(status, "studio_entity.html", Json::Object(ctx))
}

/// The values a default may take when they are few (a select's options, yes/no), to choose
/// from a list; `null` when the default is typed.
fn default_choices(locale: Locale, f: &qingguan_core::Field) -> Json {
    match f.def.kind {
        FieldType::Select => json!(f
            .def
            .options
            .iter()
            .map(|o| json!({"value": o.value, "label": o.label.get(locale)}))
            .collect::<Vec<_>>()),
        FieldType::Boolean => json!([
            {"value": "true", "label": t(locale, "yes")},
            {"value": "false", "label": t(locale, "no")}
        ]),
        _ => Json::Null,
    }
}

/// Whether `name` is taken as a field key of `e` (by any field, retired ones included, or a
/// system column).
fn field_taken(e: &Entity, name: &str) -> bool {
    e.field(name).is_some() || qingguan_core::schema::RESERVED_FIELDS.contains(&name)
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
