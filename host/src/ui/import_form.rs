//! The mapping form of an import's page: the options it starts from (the last pass's, those
//! remembered for the file's layout, or a suggested mapping), the form itself — each column
//! with samples and the field it fills, mode and key, the date format, and the distinct values
//! of each select column with the option each becomes — and the options a posted form gives.

use crate::caller::Caller;
use crate::import::options::{suggest, ImportOptions, Mode, CREATED_AT, DATE_FORMATS, OWNER};
use crate::import::service;
use crate::import::sheet::Sheet;
use crate::state::AppState;
use crate::ui::render::{locale_of, t};
use qingguan_core::imports::ImportLog;
use qingguan_core::{Entity, FieldType};
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;

/// The most distinct values of a select column offered for mapping.
const SHOWN_VALUES: usize = 30;

/// The options a form starts from: the last pass's, else those remembered for the layout,
/// else a suggested mapping.
pub(super) fn current_options(
    state: &AppState,
    caller: &Caller,
    log: &ImportLog,
    e: &Entity,
    sheet: &Sheet,
) -> (ImportOptions, bool) {
    if let Ok(o) = serde_json::from_value::<ImportOptions>(log.options.clone()) {
        if !o.mapping.is_empty() {
            return (o, false);
        }
    }
    let remembered = state
        .store()
        .remembered_import_layout(&caller.access, &log.entity, &log.layout)
        .ok()
        .flatten()
        .and_then(|o| serde_json::from_value::<ImportOptions>(o).ok())
        .filter(|o| {
            o.check(
                &state.store().schema_for(&caller.access),
                e,
                &sheet.headers,
                &caller.access,
            )
            .is_ok()
        });
    match remembered {
        Some(o) => (o, true),
        None => (
            ImportOptions {
                mapping: suggest(e, &sheet.headers, &caller.access),
                ..ImportOptions::default()
            },
            false,
        ),
    }
}

/// The mapping form: columns with samples and a field each, mode and key, date format, and
/// the distinct values of each select column with the option each becomes.
pub(super) fn mapping_form(
    caller: &Caller,
    e: &Entity,
    sheet: &Sheet,
    options: &ImportOptions,
) -> Json {
    let locale = locale_of(caller);
    let mut choices = vec![json!({"value": "", "label": t(locale, "import_skip")})];
    for f in e.fields.iter().filter(|f| !f.retired && !f.hidden) {
        choices.push(json!({"value": f.def.name, "label": f.def.label.get(locale)}));
    }
    choices.push(json!({"value": OWNER, "label": t(locale, "owner")}));
    if caller.access.is_admin() {
        choices.push(json!({"value": CREATED_AT, "label": t(locale, "created_at")}));
    }
    let columns: Vec<Json> = sheet
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let samples: Vec<String> = sheet
                .rows
                .iter()
                .map(|r| service::sample(&r.cell(i).text()))
                .filter(|t| !t.trim().is_empty())
                .take(3)
                .collect();
            json!({"index": i, "name": h, "samples": samples.join(" · "),
                   "field": options.mapping.get(h).cloned().unwrap_or_default()})
        })
        .collect();
    let keys: Vec<Json> = e
        .fields
        .iter()
        .filter(|f| f.def.unique && !f.retired)
        .map(|f| {
            json!({"value": f.def.name, "label": f.def.label.get(locale),
                        "selected": options.key.as_deref() == Some(f.def.name.as_str())})
        })
        .collect();
    let formats: Vec<Json> = DATE_FORMATS
        .iter()
        .map(|(n, _)| json!({"value": n, "selected": options.date_format_name() == *n}))
        .collect();
    let mut values = Vec::new();
    for (column, field) in &options.mapping {
        let Some(f) = e.field(field) else { continue };
        if !matches!(f.def.kind, FieldType::Select | FieldType::MultiSelect) {
            continue;
        }
        let Some(i) = sheet.headers.iter().position(|h| h == column) else {
            continue;
        };
        let distinct: BTreeSet<String> = sheet
            .rows
            .iter()
            .map(|r| r.cell(i).text().trim().to_string())
            .filter(|t| !t.is_empty())
            .take(10_000)
            .collect();
        let map = options.values.get(field);
        let entries: Vec<Json> = distinct
            .iter()
            .take(SHOWN_VALUES)
            .enumerate()
            .map(|(j, text)| {
                let chosen = map.and_then(|m| m.get(text)).cloned().or_else(|| {
                    let lower = text.to_lowercase();
                    f.def
                        .options
                        .iter()
                        .find(|o| {
                            o.value == *text
                                || o.label.en.to_lowercase() == lower
                                || o.label.zh_cn == *text
                        })
                        .map(|o| o.value.clone())
                });
                let opts: Vec<Json> = f
                    .def
                    .options
                    .iter()
                    .map(|o| {
                        json!({"value": o.value, "label": o.label.get(locale),
                                    "selected": chosen.as_deref() == Some(o.value.as_str())})
                    })
                    .collect();
                json!({"j": j, "text": text, "options": opts})
            })
            .collect();
        values.push(json!({"field": field, "label": f.def.label.get(locale), "entries": entries}));
    }
    json!({
        "choices": choices,
        "columns": columns,
        "upsert": options.mode == Mode::Upsert,
        "keys": keys,
        "formats": formats,
        "values": values,
    })
}

/// The options a mapping form posts.
pub(super) fn options_from_form(form: &[(String, String)], headers: &[String]) -> ImportOptions {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut options = ImportOptions {
        mode: if get("mode").as_deref() == Some("upsert") {
            Mode::Upsert
        } else {
            Mode::Insert
        },
        key: get("key").filter(|k| !k.is_empty()),
        date_format: get("date_format").filter(|f| !f.is_empty()),
        ..ImportOptions::default()
    };
    for (name, value) in form {
        if let Some(i) = name
            .strip_prefix("col.")
            .and_then(|i| i.parse::<usize>().ok())
        {
            if let (Some(h), false) = (headers.get(i), value.is_empty()) {
                options.mapping.insert(h.clone(), value.clone());
            }
        }
        if let Some(rest) = name.strip_prefix("val.") {
            let Some((field, j)) = rest.rsplit_once('.') else {
                continue;
            };
            let Some(text) = get(&format!("valtext.{field}.{j}")) else {
                continue;
            };
            if !value.is_empty() {
                options
                    .values
                    .entry(field.to_string())
                    .or_default()
                    .insert(text, value.clone());
            }
        }
    }
    // A value map only for fields still mapped.
    let mapped: Vec<String> = options.mapping.values().cloned().collect();
    options.values.retain(|f, _| mapped.contains(f));
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posted_form_becomes_options() {
        let headers = vec!["Name".to_string(), "Stage".to_string(), "Notes".to_string()];
        let form: Vec<(String, String)> = [
            ("csrf", "x"),
            ("col.0", "name"),
            ("col.1", "status"),
            ("col.2", ""),
            ("col.9", "kind"),
            ("mode", "upsert"),
            ("key", "name"),
            ("date_format", "DD-MM-YY"),
            ("valtext.status.0", "Won"),
            ("val.status.0", "customer"),
            ("valtext.status.1", "Open"),
            ("val.status.1", ""),
            ("valtext.kind.0", "x"),
            ("val.kind.0", "company"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let o = options_from_form(&form, &headers);
        assert_eq!(o.mapping.len(), 2);
        assert_eq!(o.mapping["Stage"], "status");
        assert_eq!(o.mode, Mode::Upsert);
        assert_eq!(o.key.as_deref(), Some("name"));
        assert_eq!(o.values["status"]["Won"], "customer");
        assert!(!o.values["status"].contains_key("Open"));
        assert!(!o.values.contains_key("kind"), "kind is not mapped");
    }
}
