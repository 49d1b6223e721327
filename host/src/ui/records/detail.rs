//! One record: sections, related records, history, plugin actions, and deleting it.

use super::owner::{owner_json, owner_picker};
use super::{cell, entity_or_page};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::extract::UiCaller;
use crate::ui::refusal::refusal_text;
use crate::ui::render::{
    base, core_error, display, for_record, local_time, locale_of, message, page, t, title_of,
};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{Entity, FieldType, ListQuery, Schema, Value};
use serde::Deserialize;
use serde_json::{json, Value as Json};

/// `GET /e/{entity}/{id}`: sections, related records, actions, history.
pub async fn detail(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((entity, id)): Path<(String, i64)>,
    Query(q): Query<DetailQuery>,
) -> Response {
    detail_page_at(
        &state,
        &caller,
        &entity,
        id,
        Notice::default(),
        q.before.as_deref(),
    )
}

/// Where the record page's timeline starts (older entries).
#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    before: Option<String>,
}

/// What a record page says after a refused change: a sentence above it, a reason beside the
/// owner picker, and the status it is answered with.
#[derive(Default)]
pub(super) struct Notice {
    pub(super) error: Option<String>,
    pub(super) owner_error: Option<String>,
    pub(super) status: Option<StatusCode>,
}

/// The types a customer's page offers to create for it, with the UI string of the button:
/// each shown only where the type exists (follow-ups come with the sales plugin), is in use,
/// refers to customers, and the caller may create it.
const QUICK_ACTIONS: [(&str, &str, &str); 2] = [
    ("customer", "contact", "quick_new_contact"),
    ("customer", "followup", "quick_log_followup"),
];

fn quick_actions(schema: &Schema, caller: &Caller, entity: &str) -> Vec<Json> {
    let locale = locale_of(caller);
    QUICK_ACTIONS
        .iter()
        .filter(|(on, _, _)| *on == entity)
        .filter_map(|(_, other, key)| {
            let o = schema.entity(other)?;
            if o.retired || !caller.access.permission(other).create {
                return None;
            }
            let field = o
                .visible_fields()
                .find(|f| !f.def.readonly && f.def.reference_target() == Some(entity))?;
            Some(json!({"entity": other, "field": field.def.name, "label": t(locale, key)}))
        })
        .collect()
}

/// The dates of a related record (its date and moment list columns), as "label value".
fn item_dates(
    state: &AppState,
    caller: &Caller,
    other: &Entity,
    x: &qingguan_core::Record,
) -> String {
    let locale = locale_of(caller);
    other
        .layout
        .list_columns
        .iter()
        .filter_map(|c| other.field(c))
        .filter(|f| matches!(f.def.kind, FieldType::Date | FieldType::Datetime))
        .filter(|f| !x.get(&f.def.name).is_null())
        .map(|f| {
            format!(
                "{} {}",
                f.def.label.get(locale),
                display(state, caller, &for_record(&f.def, x), x.get(&f.def.name))
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(super) fn detail_page(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    id: i64,
    notice: Notice,
) -> Response {
    detail_page_at(state, caller, entity, id, notice, None)
}

/// The record's page with its timeline from `before` (a cursor of the timeline's pages).
fn detail_page_at(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    id: i64,
    notice: Notice,
    before: Option<&str>,
) -> Response {
    let e = match entity_or_page(state, caller, entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(caller);
    let store = state.store();
    let r = match store.get(&caller.access, entity, id) {
        Ok(r) => r,
        Err(err) => {
            // An old link to a record merged into another leads to that one — for those who
            // may read it (to others, not even which record it became).
            if matches!(err, qingguan_core::Error::NotFound(_)) {
                if let Ok(Some(kept)) = store.merged_into(entity, id) {
                    if store.get(&caller.access, entity, kept).is_ok() {
                        return Redirect::to(&format!("/e/{entity}/{kept}")).into_response();
                    }
                }
            }
            return core_error(state, caller, err);
        }
    };
    let may_upload = {
        let p = caller.access.permission(entity);
        p.update && !e.retired && entity != "user"
    };
    let sections: Vec<Json> = e
        .layout
        .sections
        .iter()
        .map(|s| {
            let fields: Vec<Json> = s
                .fields
                .iter()
                .filter_map(|f| e.field(f))
                .map(|f| {
                    let v = r.get(&f.def.name);
                    let href = match (f.def.reference_target(), v) {
                        (Some(t), Value::Ref(rid)) => Some(format!("/e/{t}/{rid}")),
                        (None, Value::Text(u)) if f.def.kind == FieldType::Url => Some(u.clone()),
                        (None, Value::Integer(a)) if f.def.kind == FieldType::File => Some(format!("{}/attachments/{a}", crate::api::PREFIX)),
                        _ => None,
                    };
                    // A file field takes its file here: uploaded, it is the record's and the field's.
                    let upload = (f.def.kind == FieldType::File && may_upload && !f.def.readonly)
                        .then(|| t(locale, if v.is_null() { "file_upload" } else { "file_replace" }));
                    json!({"name": f.def.name, "label": f.def.label.get(locale), "value": display(state, caller, &for_record(&f.def, &r), v), "href": href, "upload": upload})
                })
                .collect();
            json!({"title": s.title.get(locale), "fields": fields})
        })
        .collect();
    let schema = store.schema_for(&caller.access);
    let mut related = Vec::new();
    for (other, field) in schema.references_to(entity) {
        if other.retired || !caller.access.permission(&other.name).read || field.retired {
            continue;
        }
        let q = ListQuery::from_pairs([(field.name(), id.to_string().as_str()), ("limit", "20")])
            .unwrap_or_default();
        if let Ok(p) = store.list(&caller.access, &other.name, &q) {
            if p.items.is_empty() {
                continue;
            }
            let is_date = |c: &String| {
                other
                    .field(c)
                    .is_some_and(|f| matches!(f.def.kind, FieldType::Date | FieldType::Datetime))
            };
            let extra_col = other
                .layout
                .list_columns
                .iter()
                .find(|c| {
                    Some(*c) != other.title_field.as_ref() && *c != field.name() && !is_date(c)
                })
                .cloned();
            let items: Vec<Json> = p
                .items
                .iter()
                .map(|x| json!({"id": x.id, "title": x.title(other), "extra": extra_col.as_ref().map(|c| cell(state, caller, other, x, c)), "dates": item_dates(state, caller, other, x)}))
                .collect();
            related.push(json!({"entity": other.name, "field": field.name(), "label": format!("{} · {}", other.label.get(locale), field.def.label.get(locale)), "items": items, "count": items.len(), "more": p.next_cursor.is_some()}));
        }
    }
    let (history, timeline_next) = match super::timeline::entries(state, caller, &e, id, before) {
        Ok(t) => t,
        Err(err) => return core_error(state, caller, err),
    };
    let perm = caller.access.permission(entity);
    let actions: Vec<Json> = if perm.update {
        state
            .plugins()
            .calls()
            .list()
            .iter()
            .flat_map(|p| p.manifest.actions.iter().filter(|a| a.entity == entity).map(|a| {
                // The inputs an action asks for, as a small form before it runs.
                let inputs: Vec<Json> = a.inputs.iter().map(|i| json!({
                    "name": i.name, "label": i.label.get(locale), "kind": i.kind, "required": i.required,
                    "options": i.options.iter().map(|o| json!({"value": o.value, "label": o.label.get(locale)})).collect::<Vec<_>>(),
                })).collect();
                json!({"plugin": p.manifest.id, "name": a.name, "label": a.label.get(locale), "inputs": inputs})
            }).collect::<Vec<_>>())
            .collect()
    } else {
        Vec::new()
    };
    let mut ctx = base(state, caller, &format!("/e/{entity}/{id}"));
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert("id".into(), json!(id));
    ctx.insert("version".into(), json!(r.version));
    ctx.insert("title".into(), json!(r.title(&e)));
    ctx.insert("sections".into(), json!(sections));
    ctx.insert("related".into(), json!(related));
    // One timeline: the record's changes and the activities about it, newest first, a page
    // at a time.
    let activities = super::activities::card(state, caller, &e);
    ctx.insert("history".into(), json!(history));
    ctx.insert("timeline_next".into(), json!(timeline_next));
    ctx.insert("activities".into(), json!(activities));
    ctx.insert(
        "attachments".into(),
        json!(super::attachments::card(state, caller, &e, id)),
    );
    ctx.insert(
        "workflow".into(),
        json!(super::workflow_panel::panel(state, caller, &e, id)),
    );
    ctx.insert("actions".into(), json!(actions));
    ctx.insert(
        "owner".into(),
        json!(r
            .owner
            .map(|o| title_of(state, caller, "user", o))
            .unwrap_or_default()),
    );
    ctx.insert(
        "updated_at".into(),
        json!(local_time(state, caller, r.updated_at)),
    );
    ctx.insert("can_update".into(), json!(perm.update && !e.retired));
    ctx.insert(
        "can_delete".into(),
        json!(perm.delete && !e.retired && entity != "user"),
    );
    // Merging a duplicate in needs both: the record changes and the duplicate goes.
    ctx.insert(
        "merge_label".into(),
        json!(
            (perm.update && perm.delete && !e.retired && entity != "user")
                .then(|| t(locale, "merge"))
        ),
    );
    ctx.insert(
        "owner_picker".into(),
        json!(owner_picker(state, caller, &e, &r)),
    );
    ctx.insert(
        "quick_actions".into(),
        json!(quick_actions(&schema, caller, entity)),
    );
    ctx.insert("error".into(), json!(notice.error));
    ctx.insert("owner_error".into(), json!(notice.owner_error));
    page(
        notice.status.unwrap_or(StatusCode::OK),
        "detail.html",
        Json::Object(ctx),
    )
}

#[derive(Debug, Deserialize)]
pub struct OwnerForm {
    version: i64,
    #[serde(default)]
    owner: String,
}

/// `POST /e/{entity}/{id}/owner`: gives the record to another user, as far as the caller's
/// role allows (the core's owner check); a refusal is shown beside the picker.
pub async fn change_owner(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, i64)>,
    SignedForm { caller, form: f }: SignedForm<OwnerForm>,
) -> Response {
    if let Err(r) = entity_or_page(&state, &caller, &entity) {
        return r;
    }
    let locale = locale_of(&caller);
    let mut body = serde_json::Map::new();
    body.insert("owner".into(), owner_json(&f.owner));
    let (access, ent) = (caller.access.clone(), entity.clone());
    let outcome = state
        .blocking(move |s| s.update(&access, &ent, id, f.version, &body))
        .await;
    let api = match outcome {
        Ok(_) => return Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
        Err(api) => api,
    };
    let notice = if api.code == "stale_version" {
        Notice {
            error: Some(t(locale, "stale_owner")),
            status: Some(api.status),
            ..Notice::default()
        }
    } else if !api.fields.is_empty() {
        let why: Vec<String> = api.fields.values().map(|v| v.render(locale)).collect();
        Notice {
            error: Some(t(locale, "fix_errors")),
            owner_error: Some(why.join("; ")),
            status: Some(api.status),
        }
    } else {
        let heading = match api.status {
            StatusCode::FORBIDDEN => t(locale, "forbidden"),
            StatusCode::NOT_FOUND => t(locale, "not_found"),
            _ => t(locale, "error"),
        };
        return message(&state, &caller, api.status, &heading, "");
    };
    detail_page(&state, &caller, &entity, id, notice)
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    version: i64,
}

/// `POST /e/{entity}/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, i64)>,
    SignedForm { caller, form: f }: SignedForm<DeleteForm>,
) -> Response {
    let (access, ent, store) = (caller.access.clone(), entity.clone(), state.store().clone());
    match tokio::task::spawn_blocking(move || store.delete(&access, &ent, id, f.version)).await {
        Ok(Ok(())) => Redirect::to(&format!("/e/{entity}")).into_response(),
        Ok(Err(
            err @ (qingguan_core::Error::Conflict { .. }
            | qingguan_core::Error::StaleVersion { .. }),
        )) => {
            // Still referenced, or changed meanwhile: said in the reader's language, with the
            // referencing type and field by their labels.
            let locale = locale_of(&caller);
            let api = crate::error::ApiError::from(err);
            let why = refusal_text(&state.store().schema(), locale, Some(&entity), &api);
            let notice = Notice {
                error: Some(format!("{} {why}", t(locale, "delete_refused"))),
                status: Some(api.status),
                ..Notice::default()
            };
            detail_page(&state, &caller, &entity, id, notice)
        }
        Ok(Err(err)) => core_error(&state, &caller, err),
        Err(_) => message(
            &state,
            &caller,
            StatusCode::INTERNAL_SERVER_ERROR,
            &t(locale_of(&caller), "error"),
            "",
        ),
    }
}

/// `POST /e/{entity}/{id}/action/{plugin}/{action}`: runs a plugin action on the record.
pub async fn action(
    State(state): State<AppState>,
    Path((entity, id, plugin, name)): Path<(String, i64, String, String)>,
    SignedForm { caller, form }: SignedForm<Vec<(String, String)>>,
) -> Response {
    if !caller.access.permission(&entity).update {
        return message(
            &state,
            &caller,
            StatusCode::FORBIDDEN,
            &t(locale_of(&caller), "forbidden"),
            &entity,
        );
    }
    if let Err(err) = state.store().get(&caller.access, &entity, id) {
        return core_error(&state, &caller, err);
    }
    // The action's declared inputs, as the form sent them (nothing else is passed on).
    let declared: Vec<String> = state
        .plugins()
        .calls()
        .list()
        .iter()
        .filter(|p| p.manifest.id == plugin)
        .flat_map(|p| {
            p.manifest
                .actions
                .iter()
                .filter(|a| a.name == name && a.entity == entity)
        })
        .flat_map(|a| a.inputs.iter().map(|i| i.name.clone()))
        .collect();
    let input: serde_json::Map<String, Json> = form
        .iter()
        .filter(|(k, v)| declared.contains(k) && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), Json::String(v.clone())))
        .collect();
    let input = Json::Object(input).to_string();
    let (plugins, ctx, ent) = (state.plugins().clone(), caller.call_ctx(), entity.clone());
    match tokio::task::spawn_blocking(move || {
        plugins
            .calls()
            .action(&plugin, &name, &ent, id, &input, ctx)
    })
    .await
    {
        Ok(Ok(_)) => Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
        Ok(Err(err)) => {
            // The plugin's refusal in the reader's language: its field reasons (rendered in
            // the call's language) by the fields' labels, or a sentence for the failure.
            let locale = locale_of(&caller);
            let api = crate::error::ApiError::from(err);
            let why = refusal_text(&state.store().schema(), locale, Some(&entity), &api);
            let notice = Notice {
                error: Some(format!("{} {why}", t(locale, "action_refused"))),
                status: Some(api.status),
                ..Notice::default()
            };
            detail_page(&state, &caller, &entity, id, notice)
        }
        Err(_) => message(
            &state,
            &caller,
            StatusCode::INTERNAL_SERVER_ERROR,
            &t(locale_of(&caller), "error"),
            "",
        ),
    }
}
