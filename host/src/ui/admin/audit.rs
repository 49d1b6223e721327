//! The audit log page (administrators): entries newest first with who, when, from where, what
//! and the particulars, in the reader's language and time zone; a filter form (action, person,
//! text, days), older entries by paging, and the same selection as CSV.

use super::admin_only;
use crate::api::audit::{audit_csv, audit_query};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, local_time_text, locale_of, message, page, t, words};
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use qingguan_core::audit::{AuditEntry, ACTIONS};
use serde_json::{json, Value as Json};

const KEYS: &[&str] = &[
    "audit_log",
    "audit_hint",
    "audit_when",
    "audit_who",
    "audit_address",
    "audit_action",
    "audit_target",
    "audit_detail",
    "audit_any_action",
    "audit_text",
    "audit_from",
    "audit_to",
    "audit_filter",
    "audit_older",
    "audit_none",
    "export_csv",
];

/// An action in the reader's words.
fn action_words(caller: &Caller, action: &str) -> String {
    t(locale_of(caller), &format!("audit_{action}"))
}

fn row(state: &AppState, caller: &Caller, e: &AuditEntry) -> Vec<String> {
    let detail = match &e.detail {
        Json::Object(m) if m.is_empty() => String::new(),
        d => d.to_string(),
    };
    vec![
        local_time_text(state, caller, &e.at),
        if e.actor_name.is_empty() {
            e.actor
                .map(|a| format!("#{a}"))
                .unwrap_or_else(|| "—".into())
        } else {
            e.actor_name.clone()
        },
        e.address.clone(),
        action_words(caller, &e.action),
        e.target.clone(),
        detail,
    ]
}

fn refused(state: &AppState, caller: &Caller, err: crate::error::ApiError) -> Response {
    let text = crate::ui::refusal::form_refusal(locale_of(caller), &err);
    message(
        state,
        caller,
        err.status,
        &t(locale_of(caller), "audit_log"),
        &text,
    )
}

/// `GET /admin/audit`.
pub async fn audit(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    RawQuery(raw): RawQuery,
) -> Response {
    shown(state, caller, raw, false)
}

/// `GET /admin/audit.csv`: the page's selection as CSV, in the reader's words.
pub async fn audit_export(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    RawQuery(raw): RawQuery,
) -> Response {
    shown(state, caller, raw, true)
}

fn shown(state: AppState, caller: Caller, raw: Option<String>, as_csv: bool) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let (q, csv) = match audit_query(raw.as_deref()) {
        Ok(x) => x,
        Err(e) => return refused(&state, &caller, e),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = match state.store().audit_entries(&caller.access, &q) {
        Ok(e) => e,
        Err(e) => return refused(&state, &caller, e.into()),
    };
    let locale = locale_of(&caller);
    if csv || as_csv {
        let headings: Vec<String> = [
            "audit_when",
            "audit_who",
            "audit_address",
            "audit_action",
            "audit_target",
            "audit_detail",
        ]
        .iter()
        .map(|k| t(locale, k))
        .collect();
        let rows: Vec<Vec<String>> = entries.iter().map(|e| row(&state, &caller, e)).collect();
        return (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.csv\"",
                ),
            ],
            audit_csv(&headings, &rows),
        )
            .into_response();
    }
    let items: Vec<Json> = entries
        .iter()
        .map(|e| {
            let r = row(&state, &caller, e);
            json!({"id": e.id, "action": e.action, "cells": r})
        })
        .collect();
    let actions: Vec<Json> = ACTIONS
        .iter()
        .map(|a| {
            json!({"value": a, "label": action_words(&caller, a),
                        "selected": q.action.as_deref() == Some(*a)})
        })
        .collect();
    // The filter as it stands, for the CSV link and the next page.
    let mut kept = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("action", q.action.clone()),
        ("actor", q.actor.map(|a| a.to_string())),
        ("q", q.text.clone()),
        ("from", q.from.clone()),
        ("to", q.to.clone()),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            kept.append_pair(k, &v);
        }
    }
    let kept = kept.finish();
    let older = (entries.len() == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let mut ctx = base(&state, &caller, "/admin/audit");
    ctx.insert("W".into(), words(locale, KEYS));
    ctx.insert("items".into(), json!(items));
    ctx.insert("actions".into(), json!(actions));
    ctx.insert(
        "filter".into(),
        json!({"q": q.text, "from": q.from, "to": q.to, "kept": kept}),
    );
    ctx.insert("older".into(), json!(older));
    page(StatusCode::OK, "admin_audit.html", Json::Object(ctx))
}
