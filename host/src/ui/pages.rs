//! Pages generated from the effective schema: dashboard, list, kanban, detail, create/edit
//! forms, search, the reference picker, saved views, plugin actions and plugin pages.

use super::render::{base, core_error, display, locale_of, message, page, t, title_of};
use super::session::{check_csrf, UiCaller};
use crate::api::extract::Caller;
use crate::plugins::bindings::wit;
use crate::plugins::host_calls::CallUser;
use crate::plugins::loaded::CallCtx;
use crate::state::AppState;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use qingguan_core::{Entity, FieldType, ListQuery, Locale, Record, Value};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;

type Pairs = Vec<(String, String)>;

fn ctx_of(caller: &Caller) -> CallCtx {
    CallCtx {
        locale: locale_of(caller),
        user: CallUser::Known(Box::new((caller.access.clone(), caller.user.clone()))),
        asked_by: None,
    }
}

fn entity_or_page(state: &AppState, caller: &Caller, name: &str) -> Result<Entity, Response> {
    let schema = state.store().schema();
    let locale = locale_of(caller);
    match schema.entity(name) {
        Some(e)
            if caller.access.permission(name).read && (!e.retired || caller.access.is_admin()) =>
        {
            Ok(e.clone())
        }
        Some(_) => Err(message(
            state,
            caller,
            StatusCode::FORBIDDEN,
            &t(locale, "forbidden"),
            &format!("'{name}'"),
        )),
        None => Err(message(
            state,
            caller,
            StatusCode::NOT_FOUND,
            &t(locale, "not_found"),
            &format!("'{name}'"),
        )),
    }
}

fn system_label(locale: Locale, col: &str) -> String {
    match col {
        "owner" | "updated_at" | "created_at" | "id" => t(locale, col),
        other => other.to_string(),
    }
}

fn column_label(e: &Entity, locale: Locale, col: &str) -> String {
    e.field(col)
        .map(|f| f.def.label.get(locale).to_string())
        .unwrap_or_else(|| system_label(locale, col))
}

fn cell(state: &AppState, caller: &Caller, e: &Entity, r: &Record, col: &str) -> String {
    match col {
        "owner" => r
            .owner
            .map(|o| title_of(state, caller, "user", o))
            .unwrap_or_default(),
        "updated_at" => r.updated_at.format("%Y-%m-%d %H:%M").to_string(),
        "created_at" => r.created_at.format("%Y-%m-%d %H:%M").to_string(),
        "id" => r.id.to_string(),
        f => e
            .field(f)
            .map(|fd| display(state, caller, &fd.def, r.get(f)))
            .unwrap_or_default(),
    }
}

fn encode(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `GET /`: tiles per entity type, customers by status, plugin widgets.
pub async fn dashboard(State(state): State<AppState>, UiCaller(caller): UiCaller) -> Response {
    let locale = locale_of(&caller);
    let store = state.store().clone();
    let schema = store.schema();
    let mut tiles = Vec::new();
    for e in schema
        .entities()
        .iter()
        .filter(|e| !e.retired && e.name != "user" && caller.access.permission(&e.name).read)
    {
        let n = store
            .count(&caller.access, &e.name, &ListQuery::default())
            .unwrap_or(0);
        tiles.push(
            json!({"label": e.label.get(locale), "count": n, "href": format!("/e/{}", e.name)}),
        );
    }
    let mut status_chart = Json::Null;
    if caller.access.permission("customer").read {
        if let Some(f) = schema.entity("customer").and_then(|e| e.field("status")) {
            let counts: Vec<(String, i64)> = f
                .def
                .options
                .iter()
                .map(|o| {
                    let q =
                        ListQuery::from_pairs([("status", o.value.as_str())]).unwrap_or_default();
                    (
                        o.label.get(locale).to_string(),
                        store.count(&caller.access, "customer", &q).unwrap_or(0),
                    )
                })
                .collect();
            let max = counts.iter().map(|c| c.1).max().unwrap_or(1).max(1) as f64;
            let bars: Vec<Json> = counts
                .iter()
                .enumerate()
                .map(|(i, (label, v))| json!({"label": label, "value": v, "y": 10 + i * 28, "width": ((*v as f64) / max * 280.0).round()}))
                .collect();
            status_chart = json!({"height": 28 * bars.len() + 20, "bars": bars});
        }
    }
    let mut widgets = Vec::new();
    for p in state.plugins().active_list().iter() {
        for w in &p.manifest.widgets {
            let req = wit::HttpRequest {
                method: "GET".into(),
                path: w.route.clone(),
                query: String::new(),
                headers: vec![],
                body: vec![],
            };
            let (plugins, id, ctx) = (
                state.plugins().clone(),
                p.manifest.id.clone(),
                ctx_of(&caller),
            );
            let out = tokio::task::spawn_blocking(move || plugins.http(&id, req, ctx)).await;
            if let Ok(Ok(resp)) = out {
                if resp.status == 200 {
                    widgets.push(json!({"title": w.title.get(locale), "html": String::from_utf8_lossy(&resp.body)}));
                }
            }
        }
    }
    let mut ctx = base(&state, &caller, "/");
    ctx.insert("tiles".into(), json!(tiles));
    ctx.insert("status_chart".into(), status_chart);
    ctx.insert("widgets".into(), json!(widgets));
    page(StatusCode::OK, "dashboard.html", Json::Object(ctx))
}

/// `GET /e/{entity}`: a page of records with filters, sort, search, paging and saved views.
pub async fn list(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(&caller);
    let pairs: Pairs = form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (ff, fo, fv) = (get("ff"), get("fo"), get("fv"));
    let mut api: Pairs = pairs
        .iter()
        .filter(|(k, v)| !["ff", "fo", "fv"].contains(&k.as_str()) && !v.is_empty())
        .cloned()
        .collect();
    if !ff.is_empty() && (!fv.is_empty() || fo == "null") {
        let key = if fo.is_empty() || fo == "eq" {
            ff.clone()
        } else {
            format!("{ff}[{fo}]")
        };
        api.push((
            key,
            if fo == "null" && fv.is_empty() {
                "true".into()
            } else {
                fv.clone()
            },
        ));
    }
    let sort = get("sort");
    let mut error = None;
    let query = match ListQuery::from_pairs(api.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(q) => q,
        Err(err) => {
            error = Some(err.to_string());
            ListQuery::default()
        }
    };
    let store = state.store().clone();
    let page_result = store.list(&caller.access, &entity, &query).or_else(|err| {
        error = Some(err.to_string());
        store.list(&caller.access, &entity, &ListQuery::default())
    });
    let page_data = match page_result {
        Ok(p) => p,
        Err(err) => return core_error(&state, &caller, err),
    };
    let mut count_query = query.clone();
    count_query.cursor = None;
    // Exact up to 10,000; beyond that "10,000+" (counting millions of matches would cost
    // more than the page itself).
    let total = match store.count_up_to(&caller.access, &entity, &count_query, 10_000) {
        Ok((n, false)) => n.to_string(),
        Ok((n, true)) => format!("{n}+"),
        Err(_) => "0".into(),
    };
    let columns: Vec<String> = if e.layout.list_columns.is_empty() {
        vec!["id".into()]
    } else {
        e.layout.list_columns.clone()
    };
    let base_pairs: Pairs = api
        .iter()
        .filter(|(k, _)| k != "cursor" && k != "sort")
        .cloned()
        .collect();
    let cols: Vec<Json> = columns
        .iter()
        .map(|c| {
            let (sorted, next) = if sort == *c {
                ("↑", format!("-{c}"))
            } else if sort == format!("-{c}") {
                ("↓", c.clone())
            } else {
                ("", c.clone())
            };
            let mut p = base_pairs.clone();
            p.push(("sort".into(), next));
            json!({"label": column_label(&e, locale, c), "sorted": sorted, "sort_href": format!("/e/{entity}?{}", encode(&p))})
        })
        .collect();
    let rows: Vec<Json> = page_data
        .items
        .iter()
        .map(|r| json!({"id": r.id, "cells": columns.iter().map(|c| cell(&state, &caller, &e, r, c)).collect::<Vec<_>>()}))
        .collect();
    let next_href = page_data.next_cursor.as_ref().map(|c| {
        let mut p: Pairs = api.iter().filter(|(k, _)| k != "cursor").cloned().collect();
        p.push(("cursor".into(), c.clone()));
        format!("/e/{entity}?{}", encode(&p))
    });
    let select_filters: Vec<Json> = e
        .visible_fields()
        .filter(|f| f.def.kind == FieldType::Select)
        .take(3)
        .map(|f| {
            let current = get(&f.def.name);
            json!({"name": f.def.name, "label": f.def.label.get(locale), "options": f.def.options.iter().map(|o| json!({"value": o.value, "label": o.label.get(locale), "selected": o.value == current})).collect::<Vec<_>>()})
        })
        .collect();
    let all_fields: Vec<Json> = e
        .visible_fields()
        .map(|f| json!({"name": f.def.name, "label": f.def.label.get(locale)}))
        .collect();
    let views = store
        .saved_views(caller.user.id, &entity)
        .unwrap_or_default();
    let query_string = encode(
        &api.iter()
            .filter(|(k, _)| k != "cursor")
            .cloned()
            .collect::<Vec<_>>(),
    );
    let mut ctx = base(&state, &caller, &format!("/e/{entity}"));
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale), "kanban": e.kanban_field.is_some()}),
    );
    ctx.insert(
        "can_create".into(),
        json!(caller.access.permission(&entity).create && !e.retired && entity != "user"),
    );
    ctx.insert("columns".into(), json!(cols));
    ctx.insert("rows".into(), json!(rows));
    ctx.insert("next_href".into(), json!(next_href));
    ctx.insert("has_cursor".into(), json!(query.cursor.is_some()));
    ctx.insert(
        "first_href".into(),
        json!(format!("/e/{entity}?{}", encode(&base_pairs))),
    );
    ctx.insert("total".into(), json!(total));
    ctx.insert(
        "filters".into(),
        json!({"q": get("q"), "ff": ff, "fo": fo, "fv": fv}),
    );
    ctx.insert("select_filters".into(), json!(select_filters));
    ctx.insert("all_fields".into(), json!(all_fields));
    ctx.insert("sort".into(), json!(sort));
    ctx.insert("views".into(), json!(views));
    ctx.insert("query_string".into(), json!(query_string));
    ctx.insert("error".into(), json!(error));
    ctx.insert("q".into(), json!(""));
    page(StatusCode::OK, "list.html", Json::Object(ctx))
}

#[derive(Debug, Deserialize)]
pub struct ViewForm {
    csrf: String,
    name: String,
    #[serde(default)]
    query: String,
}

/// `POST /e/{entity}/views`: saves the current filters as a named view.
pub async fn save_view(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Form(f): Form<ViewForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&f.csrf)) {
        return r;
    }
    if let Err(r) = entity_or_page(&state, &caller, &entity) {
        return r;
    }
    let (uid, e2, q) = (caller.user.id, entity.clone(), f.query.clone());
    match state
        .blocking(move |s| s.save_view(uid, &e2, &f.name, &q))
        .await
    {
        Ok(()) => Redirect::to(&format!("/e/{entity}?{}", f.query)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /e/{entity}/kanban`: one column per option of the kanban field.
pub async fn kanban(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
) -> Response {
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(&caller);
    let Some(field) = e.kanban_field.clone().and_then(|k| e.field(&k).cloned()) else {
        return Redirect::to(&format!("/e/{entity}")).into_response();
    };
    let extra: Vec<String> = e
        .layout
        .list_columns
        .iter()
        .filter(|c| *c != &field.def.name && Some(*c) != e.title_field.as_ref())
        .take(2)
        .cloned()
        .collect();
    let mut board = Vec::new();
    for o in &field.def.options {
        let q = ListQuery::from_pairs([
            (field.def.name.as_str(), o.value.as_str()),
            ("sort", "-updated_at"),
            ("limit", "50"),
        ])
        .unwrap_or_default();
        let page_data = match state.store().list(&caller.access, &entity, &q) {
            Ok(p) => p,
            Err(err) => return core_error(&state, &caller, err),
        };
        let count = state
            .store()
            .count(&caller.access, &entity, &q)
            .unwrap_or(0);
        let cards: Vec<Json> = page_data
            .items
            .iter()
            .map(|r| {
                let lines: Vec<String> = extra
                    .iter()
                    .map(|c| cell(&state, &caller, &e, r, c))
                    .filter(|s| !s.is_empty())
                    .collect();
                json!({"id": r.id, "version": r.version, "title": r.title(&e), "lines": lines})
            })
            .collect();
        board.push(
            json!({"value": o.value, "label": o.label.get(locale), "cards": cards, "count": count}),
        );
    }
    let mut ctx = base(&state, &caller, &format!("/e/{entity}"));
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert(
        "can_create".into(),
        json!(caller.access.permission(&entity).create && !e.retired),
    );
    ctx.insert("field".into(), json!(field.def.name));
    ctx.insert("board".into(), json!(board));
    page(StatusCode::OK, "kanban.html", Json::Object(ctx))
}

/// `GET /e/{entity}/{id}`: sections, related records, actions, history.
pub async fn detail(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((entity, id)): Path<(String, i64)>,
) -> Response {
    detail_page(&state, &caller, &entity, id, None)
}

fn detail_page(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    id: i64,
    error: Option<String>,
) -> Response {
    let e = match entity_or_page(state, caller, entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(caller);
    let store = state.store();
    let r = match store.get(&caller.access, entity, id) {
        Ok(r) => r,
        Err(err) => return core_error(state, caller, err),
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
                        _ => None,
                    };
                    json!({"name": f.def.name, "label": f.def.label.get(locale), "value": display(state, caller, &f.def, v), "href": href})
                })
                .collect();
            json!({"title": s.title.get(locale), "fields": fields})
        })
        .collect();
    let schema = store.schema();
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
            let extra_col = other
                .layout
                .list_columns
                .iter()
                .find(|c| Some(*c) != other.title_field.as_ref() && *c != field.name())
                .cloned();
            let items: Vec<Json> = p
                .items
                .iter()
                .map(|x| json!({"id": x.id, "title": x.title(other), "extra": extra_col.as_ref().map(|c| cell(state, caller, other, x, c))}))
                .collect();
            related.push(json!({"entity": other.name, "field": field.name(), "label": format!("{} · {}", other.label.get(locale), field.def.label.get(locale)), "items": items, "count": items.len(), "more": p.next_cursor.is_some()}));
        }
    }
    let history: Vec<Json> = store
        .history(&caller.access, entity, id)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|h| {
            let changes: Vec<Json> = h
                .changes
                .iter()
                .map(|(k, [old, new])| {
                    let label = column_label(&e, locale, k);
                    let show = |v: &Json| -> String {
                        match (e.field(k), v) {
                            (_, Json::Null) => String::new(),
                            (Some(f), v) => Value::from_json(&f.def, v).map(|val| display(state, caller, &f.def, &val)).unwrap_or_else(|_| v.to_string()),
                            (None, v) if k == "owner" => v.as_i64().map(|o| title_of(state, caller, "user", o)).unwrap_or_default(),
                            (None, v) => v.to_string(),
                        }
                    };
                    json!({"label": label, "old": show(old), "new": show(new)})
                })
                .collect();
            let who = h.user_id.map(|u| title_of(state, caller, "user", u)).unwrap_or_else(|| t(locale, "system"));
            json!({"at": h.at.get(..16).unwrap_or(&h.at).replace('T', " "), "action": t(locale, match h.action.as_str() { "create" => "created", "update" => "updated", _ => "deleted" }), "user": who, "changes": changes})
        })
        .collect();
    let perm = caller.access.permission(entity);
    let actions: Vec<Json> = if perm.update {
        state
            .plugins()
            .active_list()
            .iter()
            .flat_map(|p| p.manifest.actions.iter().filter(|a| a.entity == entity).map(|a| json!({"plugin": p.manifest.id, "name": a.name, "label": a.label.get(locale)})).collect::<Vec<_>>())
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
    ctx.insert("history".into(), json!(history));
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
        json!(r.updated_at.format("%Y-%m-%d %H:%M").to_string()),
    );
    ctx.insert("can_update".into(), json!(perm.update && !e.retired));
    ctx.insert(
        "can_delete".into(),
        json!(perm.delete && !e.retired && entity != "user"),
    );
    ctx.insert("error".into(), json!(error));
    page(StatusCode::OK, "detail.html", Json::Object(ctx))
}

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
                    let (input, step) = match f.def.kind {
                        FieldType::Integer => ("number", Some("1")),
                        FieldType::Decimal => ("text", None),
                        FieldType::Date => ("date", None),
                        FieldType::Datetime => ("datetime-local", None),
                        FieldType::Email => ("email", None),
                        FieldType::Phone => ("tel", None),
                        FieldType::Url => ("url", None),
                        _ => ("text", None),
                    };
                    let display_ref = match (f.def.reference_target(), first.parse::<i64>()) {
                        (Some(t), Ok(id)) => title_of(state, caller, t, id),
                        _ => String::new(),
                    };
                    let options: Vec<Json> = f.def.options.iter().map(|o| json!({"value": o.value, "label": o.label.get(locale), "selected": vals.contains(&o.value)})).collect();
                    json!({
                        "name": f.def.name, "label": f.def.label.get(locale), "kind": f.def.kind.as_str(), "input": input, "step": step,
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
        let v = match f.def.kind {
            FieldType::MultiSelect => Json::Array(
                vals.into_iter()
                    .filter(|s| !s.is_empty())
                    .map(Json::String)
                    .collect(),
            ),
            _ if first.is_empty() => Json::Null,
            FieldType::Integer | FieldType::Reference | FieldType::User => first
                .parse::<i64>()
                .map(Json::from)
                .unwrap_or(Json::String(first)),
            FieldType::Boolean => Json::Bool(first == "true"),
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
    api: crate::api::error::ApiError,
) -> (Map<String, Json>, String, StatusCode) {
    let locale = locale_of(caller);
    let fields: Map<String, Json> = api
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), json!(super::i18n::field_message(locale, v))))
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
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(r) = check_csrf(&caller, form_field(&pairs, "csrf")) {
        return r;
    }
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
    UiCaller(caller): UiCaller,
    Path((entity, id)): Path<(String, i64)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(r) = check_csrf(&caller, form_field(&pairs, "csrf")) {
        return r;
    }
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

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    csrf: String,
    version: i64,
}

/// `POST /e/{entity}/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((entity, id)): Path<(String, i64)>,
    Form(f): Form<DeleteForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&f.csrf)) {
        return r;
    }
    let (access, ent, store) = (caller.access.clone(), entity.clone(), state.store().clone());
    match tokio::task::spawn_blocking(move || store.delete(&access, &ent, id, f.version)).await {
        Ok(Ok(())) => Redirect::to(&format!("/e/{entity}")).into_response(),
        Ok(Err(
            err @ (qingguan_core::Error::Conflict { .. }
            | qingguan_core::Error::StaleVersion { .. }),
        )) => detail_page(&state, &caller, &entity, id, Some(err.to_string())),
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

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /e/{entity}/{id}/action/{plugin}/{action}`: runs a plugin action on the record.
pub async fn action(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((entity, id, plugin, name)): Path<(String, i64, String, String)>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&f.csrf)) {
        return r;
    }
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
    let (plugins, ctx, ent) = (state.plugins().clone(), ctx_of(&caller), entity.clone());
    match tokio::task::spawn_blocking(move || plugins.action(&plugin, &name, &ent, id, "{}", ctx))
        .await
    {
        Ok(Ok(_)) => Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
        Ok(Err(err)) => {
            let api = crate::api::error::ApiError::from(err);
            let details: Vec<String> = api
                .fields
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            let text = if details.is_empty() {
                api.message
            } else {
                format!("{} ({})", api.message, details.join("; "))
            };
            detail_page(&state, &caller, &entity, id, Some(text))
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

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /search?q=`: across every entity type the user may read.
pub async fn search(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(sq): Query<SearchQuery>,
) -> Response {
    let locale = locale_of(&caller);
    let schema = state.store().schema();
    let q: String = sq.q.chars().take(200).collect();
    let hits: Vec<Json> = state
        .store()
        .search(&caller.access, &q, 50)
        .unwrap_or_default()
        .into_iter()
        .map(|h| {
            let label = schema
                .entity(&h.entity)
                .map(|e| e.label.get(locale).to_string())
                .unwrap_or_default();
            json!({"entity": h.entity, "id": h.id, "title": h.title, "label": label})
        })
        .collect();
    let mut ctx = base(&state, &caller, "/search");
    ctx.insert("q".into(), json!(q));
    ctx.insert("hits".into(), json!(hits));
    page(StatusCode::OK, "search.html", Json::Object(ctx))
}

/// `GET /pick/{entity}?q=`: `[{id, title}]` for the reference picker.
pub async fn pick(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(sq): Query<SearchQuery>,
) -> Response {
    let schema = state.store().schema();
    let Some(e) = schema.entity(&entity) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!([]))).into_response();
    };
    let text: String = sq.q.chars().take(100).collect();
    let q = ListQuery::from_pairs([("q", text.as_str()), ("limit", "10")]).unwrap_or_default();
    match state.store().list(&caller.access, &entity, &q) {
        Ok(p) => axum::Json(
            p.items
                .iter()
                .map(|r| json!({"id": r.id, "title": r.title(e)}))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(err) => crate::api::error::ApiError::from(err).into_response(),
    }
}

/// `GET /p/{plugin}/{route}`: a plugin's page (an HTML fragment from one of its GET routes).
pub async fn plugin_page(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((plugin, rest)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    plugin_route(&state, &caller, &plugin, &rest, "GET", query, vec![]).await
}

/// `POST /p/{plugin}/{route}`: a form on a plugin's page, posted to the same plugin's POST
/// route. The form carries the page's CSRF token (`csrf`, added by app.js to forms inside
/// plugin pages); the plugin receives the url-encoded body and answers with a page, an error
/// page (4xx) or a redirect to another of its pages (303 with a `location` relative to it).
pub async fn plugin_post(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((plugin, rest)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    if body.len() > 256 * 1024 {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
    }
    let sent = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    if let Err(r) = check_csrf(&caller, sent.as_deref()) {
        return r;
    }
    plugin_route(
        &state,
        &caller,
        &plugin,
        &rest,
        "POST",
        query,
        body.to_vec(),
    )
    .await
}

/// Adds the session's CSRF token to every POST form of a plugin's HTML, so that plugins
/// never handle the token and their forms pass the same check as the host's own.
fn with_csrf(html: &str, token: &str) -> String {
    // ASCII lower-casing keeps byte offsets, so one lower-cased copy indexes the original.
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() + 256);
    let mut at = 0;
    while let Some(i) = lower[at..].find("<form").map(|i| at + i) {
        let Some(end) = lower[i..].find('>').map(|e| i + e + 1) else {
            break;
        };
        out.push_str(&html[at..end]);
        let tag = lower[i..end].replace(['\'', ' '], "");
        if tag.contains("method=\"post\"") || tag.contains("method=post") {
            out.push_str(&format!(
                r#"<input type="hidden" name="csrf" value="{token}">"#
            ));
        }
        at = end;
    }
    out.push_str(&html[at..]);
    out
}

async fn plugin_route(
    state: &AppState,
    caller: &Caller,
    plugin: &str,
    rest: &str,
    method: &str,
    query: Option<String>,
    body: Vec<u8>,
) -> Response {
    let locale = locale_of(caller);
    let route = format!("/{rest}");
    let heading = state
        .plugins()
        .active(plugin)
        .and_then(|p| {
            p.manifest
                .menu
                .iter()
                .find(|m| m.route.as_deref() == Some(route.as_str()))
                .map(|m| m.label.get(locale).to_string())
        })
        .unwrap_or_else(|| plugin.to_string());
    let req = wit::HttpRequest {
        method: method.into(),
        path: route.clone(),
        query: query.unwrap_or_default(),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body,
    };
    let (plugins, ctx, id) = (state.plugins().clone(), ctx_of(caller), plugin.to_string());
    match tokio::task::spawn_blocking(move || plugins.http(&id, req, ctx)).await {
        Ok(Ok(resp)) if matches!(resp.status, 302 | 303) => {
            let to = resp
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.as_str())
                .filter(|v| v.starts_with('/') && !v.starts_with("//") && !v.contains('\\'))
                .unwrap_or("/");
            Redirect::to(&format!("/p/{plugin}{to}")).into_response()
        }
        Ok(Ok(resp))
            if resp.status == 200 || (400..500).contains(&resp.status) && !resp.body.is_empty() =>
        {
            let mut c = base(state, caller, &format!("/p/{plugin}{route}"));
            c.insert("heading".into(), json!(heading));
            let html = with_csrf(&String::from_utf8_lossy(&resp.body), &caller.csrf);
            c.insert("html".into(), json!(html));
            let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK);
            page(status, "plugin_page.html", Json::Object(c))
        }
        Ok(Ok(resp)) => message(
            state,
            caller,
            StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY),
            &heading,
            "",
        ),
        Ok(Err(err)) => {
            let api = crate::api::error::ApiError::from(err);
            message(state, caller, api.status, &heading, &api.message)
        }
        Err(_) => message(
            state,
            caller,
            StatusCode::INTERNAL_SERVER_ERROR,
            &t(locale, "error"),
            "",
        ),
    }
}

/// A form field's value (the first, if repeated).
fn form_field<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::with_csrf;

    #[test]
    fn the_token_goes_into_post_forms_only() {
        let html = r#"<p>x</p><FORM METHOD='POST' action="a"><button>b</button></form><form method="get"><input name=q></form><form method = "post">"#;
        let out = with_csrf(html, "T");
        let token = r#"<input type="hidden" name="csrf" value="T">"#;
        assert_eq!(out.matches(token).count(), 2, "{out}");
        assert!(
            out.starts_with(r#"<p>x</p><FORM METHOD='POST' action="a"><input type="hidden""#),
            "{out}"
        );
        assert!(
            out.contains(r#"<form method="get"><input name=q>"#),
            "{out}"
        );
        assert_eq!(
            with_csrf("<form method=post", "T"),
            "<form method=post",
            "an unclosed tag is left alone"
        );
    }
}
