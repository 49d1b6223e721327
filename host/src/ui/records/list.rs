//! Lists of records: filters, sort, search, paging and saved views.

use super::{cell, column_label, encode, entity_or_page};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::Pairs;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, core_error, locale_of, page, t};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use qingguan_core::{Entity, FieldType, ListQuery, Locale};
use serde_json::{json, Value as Json};

/// The operators of the list filter, in the order offered.
const OPERATORS: [&str; 9] = [
    "eq", "ne", "lt", "lte", "gt", "gte", "contains", "in", "null",
];

/// Why a list filter was refused, in the user's language: the field's label and the reason.
fn filter_error(
    schema: &qingguan_core::Schema,
    e: &Entity,
    locale: Locale,
    err: qingguan_core::Error,
) -> String {
    match err {
        qingguan_core::Error::BadRequest { fields, .. } if !fields.is_empty() => fields
            .iter()
            .map(|(param, why)| {
                let field = param.split('[').next().unwrap_or(param);
                let label = e
                    .field(field)
                    .map(|f| f.def.label.get(locale).to_string())
                    .unwrap_or_else(|| param.clone());
                format!("{label}: {}", why.render(locale))
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => crate::ui::refusal::refusal_text(
            schema,
            locale,
            Some(&e.name),
            &crate::error::ApiError::from(other),
        ),
    }
}

/// `GET /e/{entity}`: a page of records with filters, sort, search, paging and saved views.
pub async fn list(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    list_page(
        &state,
        &caller,
        &entity,
        raw.as_deref(),
        None,
        StatusCode::OK,
    )
}

/// A sentence above a list: a refusal (shown as an error) or what was done.
#[derive(Debug)]
pub(super) enum Notice {
    Refused(String),
    Done(String),
}

/// The list page for the query string `raw`; `notice` (a refused change of a saved view, the
/// report of a bulk change) is shown above the list, and the page answered with `status`.
pub(super) fn list_page(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    raw: Option<&str>,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let (state, caller, entity) = (state.clone(), caller.clone(), entity.to_string());
    let e = match entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(&caller);
    let pairs: Pairs = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
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
            error = Some(filter_error(&state.store().schema(), &e, locale, err));
            ListQuery::default()
        }
    };
    let store = state.store().clone();
    let page_result = store.list(&caller.access, &entity, &query).or_else(|err| {
        error = Some(filter_error(&store.schema(), &e, locale, err));
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
    // Choices, not typing: the first select fields with their options, and the first yes/no
    // fields with yes and no.
    let selects = e
        .visible_fields()
        .filter(|f| f.def.kind == FieldType::Select)
        .take(3);
    let booleans = e
        .visible_fields()
        .filter(|f| f.def.kind == FieldType::Boolean)
        .take(2);
    let select_filters: Vec<Json> = selects
        .chain(booleans)
        .map(|f| {
            let current = get(&f.def.name);
            let options: Vec<Json> = if f.def.kind == FieldType::Boolean {
                ["true", "false"]
                    .iter()
                    .map(|v| json!({"value": v, "label": t(locale, if *v == "true" { "yes" } else { "no" }), "selected": *v == current}))
                    .collect()
            } else {
                f.def.options.iter().map(|o| json!({"value": o.value, "label": o.label.get(locale), "selected": o.value == current})).collect()
            };
            json!({"name": f.def.name, "label": f.def.label.get(locale), "options": options})
        })
        .collect();
    let operators: Vec<Json> = OPERATORS
        .iter()
        .map(|op| json!({"value": op, "label": t(locale, &format!("op_{op}")), "selected": *op == fo}))
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
    // "Waiting for me": the records of a type with a workflow whose approvals wait for the
    // reader (a toggle).
    if state.store().workflow(&entity).is_some() {
        let active = get("waiting") == "me";
        let mut p: Pairs = base_pairs
            .iter()
            .filter(|(k, _)| k != "waiting")
            .cloned()
            .collect();
        if !active {
            p.push(("waiting".into(), "me".into()));
        }
        ctx.insert(
            "waiting".into(),
            json!({"active": active, "href": format!("/e/{entity}?{}", encode(&p)), "label": t(locale, "waiting_for_me")}),
        );
    }
    // Bulk work on ticked rows: the fields one may set (not read-only, not retired), and the
    // people the records may be given to.
    let perm = caller.access.permission(&entity);
    if perm.update && !e.retired && entity != "user" {
        let fields: Vec<Json> = e
            .visible_fields()
            .filter(|f| f.def.typed_in_forms())
            .map(|f| json!({"name": f.def.name, "label": f.def.label.get(locale)}))
            .collect();
        let owners: Vec<Json> = state
            .store()
            .owner_choices(&caller.access, &entity, 500)
            .unwrap_or_default()
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name}))
            .collect();
        ctx.insert(
            "bulk".into(),
            json!({"fields": fields, "owners": owners, "delete": perm.delete}),
        );
    }
    ctx.insert(
        "can_import".into(),
        json!(crate::ui::imports::may_import(&caller, &e)),
    );
    ctx.insert("columns".into(), json!(cols));
    ctx.insert("rows".into(), json!(rows));
    ctx.insert("next_href".into(), json!(next_href));
    let mut export: Pairs = base_pairs.clone();
    if !sort.is_empty() {
        export.push(("sort".into(), sort.clone()));
    }
    ctx.insert(
        "export_href".into(),
        json!(format!("/e/{entity}/export.csv?{}", encode(&export))),
    );
    ctx.insert(
        "export_xlsx_href".into(),
        json!(format!("/e/{entity}/export.xlsx?{}", encode(&export))),
    );
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
    ctx.insert("operators".into(), json!(operators));
    ctx.insert("all_fields".into(), json!(all_fields));
    ctx.insert("sort".into(), json!(sort));
    ctx.insert("views".into(), json!(views));
    ctx.insert("query_string".into(), json!(query_string));
    match notice {
        Some(Notice::Done(text)) => {
            ctx.insert("flash".into(), json!(text));
            ctx.insert("error".into(), json!(error));
        }
        Some(Notice::Refused(text)) => {
            ctx.insert("error".into(), json!(text));
        }
        None => {
            ctx.insert("error".into(), json!(error));
        }
    }
    ctx.insert("q".into(), json!(""));
    page(status, "list.html", Json::Object(ctx))
}
