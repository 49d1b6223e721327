//! Field access per role (administrators): for one role and one entity type, each field is
//! editable, read-only or hidden — salary, cost price, bonus. The core enforces the choice on
//! every path; this page only sets it.

use super::{admin_only, AdminForm};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, message, page, t, words};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{FieldRule, Role};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

const KEYS: &[&str] = &[
    "field_access",
    "field_access_help",
    "field_editable",
    "field_read_only",
    "field_hidden",
    "field",
    "back_to_roles",
    "save",
    "saved",
];

/// `?done=saved` after saving, `?error=…` after a refusal.
#[derive(Debug, serde::Deserialize)]
pub struct FieldRulesQuery {
    done: Option<String>,
    error: Option<String>,
}

fn rule_name(rule: Option<FieldRule>) -> &'static str {
    match rule {
        None => "editable",
        Some(FieldRule::ReadOnly) => "read_only",
        Some(FieldRule::Hidden) => "hidden",
    }
}

/// The role and entity type a page is about, or the page that says they do not exist.
fn role_and_entity(
    state: &AppState,
    caller: &Caller,
    role: &str,
    entity: &str,
) -> Result<(std::sync::Arc<Role>, qingguan_core::schema::Entity), Response> {
    let locale = locale_of(caller);
    let not_found = || {
        message(
            state,
            caller,
            StatusCode::NOT_FOUND,
            &t(locale, "not_found"),
            "",
        )
    };
    let role = state
        .store()
        .roles()
        .into_iter()
        .find(|r| r.name == role && !r.admin)
        .ok_or_else(not_found)?;
    let e = state
        .store()
        .schema()
        .entity(entity)
        .filter(|e| !e.retired)
        .cloned()
        .ok_or_else(not_found)?;
    Ok((role, e))
}

/// `GET /admin/roles/{role}/fields/{entity}`: every field of the type with the role's rule.
pub async fn field_rules(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((role, entity)): Path<(String, String)>,
    Query(q): Query<FieldRulesQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let (role, e) = match role_and_entity(&state, &caller, &role, &entity) {
        Ok(found) => found,
        Err(page) => return page,
    };
    let locale = locale_of(&caller);
    let fields: Vec<Json> = e
        .fields
        .iter()
        .filter(|f| !f.retired)
        .map(|f| {
            let rule = role.field_rule(&e.name, f.name());
            json!({
                "name": f.name(),
                "label": f.def.label.get(locale),
                "rule": rule_name(rule),
                "title": e.title_field.as_deref() == Some(f.name()),
            })
        })
        .collect();
    let mut ctx = base(&state, &caller, "/admin/roles");
    ctx.insert("W".into(), words(locale, KEYS));
    ctx.insert(
        "role".into(),
        json!({"name": role.name, "label": role.label.get(locale)}),
    );
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert("fields".into(), json!(fields));
    ctx.insert("saved".into(), json!(q.done.is_some()));
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "admin_role_fields.html", Json::Object(ctx))
}

/// `POST /admin/roles/{role}/fields/{entity}`: `rule.<field>` = `editable`, `read_only` or
/// `hidden` for each field; the role's rules on other entity types are kept.
pub async fn save_field_rules(
    State(state): State<AppState>,
    Path((role, entity)): Path<(String, String)>,
    AdminForm { caller, form }: AdminForm<Vec<(String, String)>>,
) -> Response {
    let (role, e) = match role_and_entity(&state, &caller, &role, &entity) {
        Ok(found) => found,
        Err(page) => return page,
    };
    let here = format!("/admin/roles/{}/fields/{}", role.name, e.name);
    let locale = locale_of(&caller);
    let mut rules = BTreeMap::new();
    for (key, value) in &form {
        let Some(field) = key.strip_prefix("rule.") else {
            continue;
        };
        if e.field(field).is_none_or(|f| f.retired) {
            continue;
        }
        let rule = match value.as_str() {
            "editable" => continue,
            "read_only" => FieldRule::ReadOnly,
            "hidden" => FieldRule::Hidden,
            _ => return super::back_with_error(&here, &t(locale, "fix_errors")),
        };
        rules.insert(field.to_string(), rule);
    }
    // Rules on fields no longer on the page (retired ones) stay as they were.
    if let Some(before) = role.fields.get(&e.name) {
        for (field, rule) in before {
            if e.field(field).is_none_or(|f| f.retired) {
                rules.insert(field.clone(), *rule);
            }
        }
    }
    let mut changed = (*role).clone();
    changed.fields.insert(e.name.clone(), rules);
    let access = caller.access.clone();
    match state.blocking(move |s| s.put_role(&access, &changed)).await {
        Ok(()) => {
            // Sessions carry their role: they pick up the new rules at once.
            state.forget_sessions();
            Redirect::to(&format!("{here}?done=saved")).into_response()
        }
        Err(err) => {
            let text: Vec<String> = err.fields.values().map(|r| r.render(locale)).collect();
            let text = if text.is_empty() {
                t(locale, "fix_errors")
            } else {
                text.join("; ")
            };
            super::back_with_error(&here, &text)
        }
    }
}
