//! The form layout and list columns of an entity type. The page edits them as text (one
//! section per block) that app.js turns into a drag-and-drop editor; without JS the text is
//! the editor.

use super::{entity_page, Draft};
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::render::locale_of;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{Entity, Label, Layout, Section};
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

/// `POST /admin/studio/{entity}/layout`: sections and field order, and the list columns
/// (the comma-separated `columns` text).
pub async fn set_layout(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    AdminForm { caller, form: f }: AdminForm<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let columns: Vec<String> = get("columns")
        .unwrap_or_default()
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
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
