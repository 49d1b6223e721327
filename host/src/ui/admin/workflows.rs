//! Workflows in the administration: which entity types have one, and an editor per type — a
//! form (`workflow_form.rs`) and, beside it, the definition as JSON for what the form cannot
//! show — checked against the type before it is saved, starting from the type's own select
//! field.

use super::admin_only;
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, message, page, t};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{Entity, FieldType};
use serde::Deserialize;
use serde_json::{json, Value as Json};

/// A starting point for a type without a workflow: its state field's options in a row, each
/// reachable from the one before by anyone who may update the record.
fn example(e: &Entity) -> Option<Json> {
    let field = e
        .kanban_field
        .as_ref()
        .and_then(|k| e.field(k))
        .or_else(|| {
            e.fields
                .iter()
                .find(|f| f.def.kind == FieldType::Select && !f.retired)
        })?;
    let options = &field.def.options;
    let transitions: Vec<Json> = options
        .windows(2)
        .map(|w| {
            json!({"name": format!("to_{}", w[1].value), "label": w[1].label, "from": [w[0].value],
                   "to": w[1].value, "who": []})
        })
        .collect();
    Some(json!({
        "state_field": field.def.name,
        "initial": options.first().map(|o| o.value.clone()),
        "states": {},
        "transitions": transitions,
    }))
}

/// `GET /admin/workflows`: every entity type with a select field, and whether it has a
/// workflow.
pub async fn workflows(State(state): State<AppState>, UiCaller(caller): UiCaller) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let locale = locale_of(&caller);
    let schema = state.store().schema();
    let defined = state.store().workflows();
    let types: Vec<Json> = schema
        .entities()
        .iter()
        .filter(|e| !e.retired && e.fields.iter().any(|f| f.def.kind == FieldType::Select))
        .map(|e| {
            json!({"name": e.name, "label": e.label.get(locale), "defined": defined.contains_key(&e.name),
                   "transitions": defined.get(&e.name).map(|w| w.transitions.len()).unwrap_or(0)})
        })
        .collect();
    let mut ctx = base(&state, &caller, "/admin/workflows");
    ctx.insert("types".into(), json!(types));
    page(StatusCode::OK, "admin_workflows.html", Json::Object(ctx))
}

/// Who the form offers: every role, and the first 200 users by name (a workflow naming anyone
/// else is left to the JSON editor).
fn people(state: &AppState, caller: &Caller) -> super::workflow_form::People {
    let users = state
        .store()
        .list(
            &caller.access,
            "user",
            &qingguan_core::ListQuery::from_pairs([("sort", "display_name"), ("limit", "200")])
                .unwrap_or_default(),
        )
        .map(|p| p.items)
        .unwrap_or_default()
        .iter()
        .map(|u| {
            let name = u.get("display_name").to_text();
            let login = u.get("username").to_text();
            (
                u.id,
                if name.is_empty() {
                    login
                } else {
                    format!("{name} ({login})")
                },
            )
        })
        .collect();
    super::workflow_form::People {
        roles: super::role_names(state),
        users,
    }
}

/// The form's model of a definition given as JSON (none when the form cannot show it).
fn form_of(state: &AppState, caller: &Caller, e: &Entity, def: &Json) -> Option<Json> {
    let wf = qingguan_core::workflow::Workflow::from_json(def).ok()?;
    super::workflow_form::model(e, &wf, &people(state, caller), locale_of(caller))
}

fn editor(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    text: &str,
    form: Option<Json>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let locale = locale_of(caller);
    let mut ctx = base(state, caller, "/admin/workflows");
    ctx.insert("form".into(), form.unwrap_or(Json::Null));
    ctx.insert(
        "W".into(),
        crate::ui::render::words(locale, super::workflow_form::WORDS),
    );
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert("definition".into(), json!(text));
    ctx.insert(
        "defined".into(),
        json!(state.store().workflow(&e.name).is_some()),
    );
    ctx.insert("error".into(), json!(error));
    page(status, "admin_workflow.html", Json::Object(ctx))
}

fn entity_or_404(state: &AppState, caller: &Caller, name: &str) -> Result<Entity, Response> {
    state.store().schema().entity(name).cloned().ok_or_else(|| {
        message(
            state,
            caller,
            StatusCode::NOT_FOUND,
            &t(locale_of(caller), "not_found"),
            name,
        )
    })
}

/// `?state_field=`: the form for a first workflow on another select field.
#[derive(Debug, Deserialize)]
pub struct EditorQuery {
    state_field: Option<String>,
}

/// `GET /admin/workflows/{entity}`: the definition (or an example) to edit.
pub async fn workflow(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    axum::extract::Query(q): axum::extract::Query<EditorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let e = match entity_or_404(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let current = state
        .store()
        .workflow(&entity)
        .map(|w| json!(*w))
        .or_else(|| example(&e))
        .unwrap_or(Json::Null);
    let text = serde_json::to_string_pretty(&current).unwrap_or_default();
    // Another state field starts a new workflow; the current one shows what is there.
    let current_field = current["state_field"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let form = match q
        .state_field
        .as_deref()
        .filter(|f| !f.is_empty() && *f != current_field)
    {
        Some(f) => super::workflow_form::blank(&e, f, &people(&state, &caller), locale_of(&caller)),
        None => form_of(&state, &caller, &e, &current),
    };
    editor(&state, &caller, &e, &text, form, None, StatusCode::OK)
}

/// `POST /admin/workflows/{entity}`: saves the definition, or shows it again with the reason.
pub async fn save_workflow(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    AdminForm { caller, form: f }: AdminForm<Vec<(String, String)>>,
) -> Response {
    let e = match entity_or_404(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(&caller);
    // The form posts its fields; the JSON editor posts `definition`.
    let by_form = f.iter().any(|(k, _)| k == "state_field");
    let definition = if by_form {
        let def = super::workflow_form::parse(&e, &f);
        serde_json::to_string_pretty(&def).unwrap_or_default()
    } else {
        f.iter()
            .find(|(k, _)| k == "definition")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let parsed: Result<Json, String> =
        serde_json::from_str(&definition).map_err(|err| err.to_string());
    let as_posted = parsed.clone().ok();
    let outcome = match parsed {
        Ok(def) => {
            let (access, ent) = (caller.access.clone(), entity.clone());
            state
                .blocking(move |s| s.set_workflow(&access, &ent, &def))
                .await
                .map_err(|api| {
                    crate::ui::refusal::refusal_text(
                        &state.store().schema(),
                        locale,
                        Some(&entity),
                        &api,
                    )
                })
        }
        Err(why) => Err(why),
    };
    match outcome {
        Ok(_) => Redirect::to("/admin/workflows").into_response(),
        Err(why) => {
            let form = as_posted.and_then(|d| form_of(&state, &caller, &e, &d));
            editor(
                &state,
                &caller,
                &e,
                &definition,
                form,
                Some(format!("{} {why}", t(locale, "fix_errors"))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// `POST /admin/workflows/{entity}/remove`.
pub async fn remove_workflow(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    AdminForm { caller, form: _f }: AdminForm<serde::de::IgnoredAny>,
) -> Response {
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.remove_workflow(&access, &entity))
        .await
    {
        Ok(()) => Redirect::to("/admin/workflows").into_response(),
        Err(e) => super::back_with_api_error("/admin/workflows", &e),
    }
}
