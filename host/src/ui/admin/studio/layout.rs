//! The form layout and list columns of an entity type. The page edits the layout as text (one
//! section per block) that `studio.js` turns into a drag-and-drop editor writing the same
//! text; without JS the text is the editor. List columns are checkboxes with an order number.

use super::{entity_page, Draft};
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::render::locale_of;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{Entity, Label, Layout, Locale, Section};
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// The layout as the text editor shows it: "# English | 中文" then one field per line.
pub(super) fn layout_text(e: &Entity) -> String {
    let mut text = String::new();
    for s in &e.layout.sections {
        text.push_str(&format!("# {} | {}\n", s.title.en, s.title.zh_cn));
        for f in &s.fields {
            text.push_str(f);
            text.push('\n');
        }
    }
    text
}

/// The list-column checkboxes: the chosen columns in their order, then every other visible
/// field.
pub(super) fn column_choices(e: &Entity, chosen: &[String], locale: Locale) -> Vec<Json> {
    let label = |n: &str| e.field(n).map(|f| f.def.label.get(locale).to_string());
    let mut out: Vec<Json> = chosen
        .iter()
        .filter_map(|n| label(n).map(|l| json!({"name": n, "label": l, "on": true})))
        .collect();
    for f in e.visible_fields() {
        if !chosen.contains(&f.def.name) {
            out.push(json!({"name": f.def.name, "label": f.def.label.get(locale), "on": false}));
        }
    }
    out
}

/// The ticked `col` boxes ordered by their `ord.<name>` numbers (ties, and numbers left
/// empty, keep the page's order).
fn chosen_columns(f: &[(String, String)]) -> Vec<String> {
    let mut cols: Vec<(u32, usize, String)> = f
        .iter()
        .filter(|(k, _)| k == "col")
        .enumerate()
        .map(|(i, (_, name))| {
            let ord = f
                .iter()
                .find(|(k, _)| k.strip_prefix("ord.") == Some(name))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(u32::MAX);
            (ord, i, name.clone())
        })
        .collect();
    cols.sort();
    cols.into_iter().map(|(_, _, n)| n).collect()
}

fn parse_layout(text: &str, columns: &[String]) -> Layout {
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
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
    Layout {
        sections,
        list_columns: columns.to_vec(),
    }
}

/// `POST /admin/studio/{entity}/layout`: sections and field order, and the list columns (the
/// ticked `col` boxes in their order; the comma-separated `columns` text of older pages).
pub async fn set_layout(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    AdminForm { caller, form: f }: AdminForm<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let columns: Vec<String> = if get("columns_shown").is_some() {
        chosen_columns(&f)
    } else {
        get("columns")
            .unwrap_or_default()
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    let text = get("layout").unwrap_or_default();
    let layout = parse_layout(&text, &columns);
    let access = caller.access.clone();
    let ent = entity.clone();
    match state
        .blocking(move |s| s.set_layout(&access, &ent, &layout))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/studio/{entity}")).into_response(),
        Err(e) => {
            let values: HashMap<String, String> = HashMap::from([
                ("layout".to_string(), text),
                ("columns".to_string(), columns.join(", ")),
            ]);
            let d = Draft::refused("layout", values, locale_of(&caller), &e);
            entity_page(&state, &caller, &entity, &d, e.status)
        }
    }
}
