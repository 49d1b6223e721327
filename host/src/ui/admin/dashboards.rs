//! Dashboards per role (administrators): one table — a row per dashboard section (count tiles,
//! customers by status, my activities, approvals waiting, each active plugin's widgets), a
//! column per role — whose ticks say what each role's dashboard shows.

use super::admin_only;
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, page, t, words};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::dashboards::SECTIONS;
use serde_json::{json, Value as Json};

const KEYS: &[&str] = &[
    "dashboards",
    "dashboards_help",
    "dashboard_section",
    "dashboard_tiles",
    "dashboard_status_chart",
    "dashboard_my_activities",
    "dashboard_waiting",
    "dashboard_widget",
    "save",
    "saved",
];

/// Every section, as (key, words).
pub(crate) fn sections(state: &AppState, caller: &Caller) -> Vec<(String, String)> {
    let locale = locale_of(caller);
    let mut out: Vec<(String, String)> = SECTIONS
        .iter()
        .map(|s| (s.to_string(), t(locale, &format!("dashboard_{s}"))))
        .collect();
    for p in state.plugins().calls().list().iter() {
        let plugin = p
            .manifest
            .name
            .as_ref()
            .map(|l| l.get(locale).to_string())
            .unwrap_or_else(|| p.manifest.id.clone());
        for w in &p.manifest.widgets {
            let key = format!("widget:{}/{}", p.manifest.id, w.name);
            // A widget whose name cannot be a section (or repeats one) cannot be chosen.
            if !qingguan_core::dashboards::is_section(&key) || out.iter().any(|(k, _)| *k == key) {
                continue;
            }
            out.push((
                key,
                format!(
                    "{} · {plugin} · {}",
                    t(locale, "dashboard_widget"),
                    w.title.get(locale)
                ),
            ));
        }
    }
    out
}

fn dashboards_page(state: &AppState, caller: &Caller, saved: bool, status: StatusCode) -> Response {
    let locale = locale_of(caller);
    let roles = super::role_names(state);
    let hidden: Vec<Vec<String>> = roles
        .iter()
        .map(|r| state.store().dashboard_hidden(r).unwrap_or_default())
        .collect();
    let rows: Vec<Json> = sections(state, caller)
        .into_iter()
        .map(|(key, label)| {
            let cells: Vec<Json> = roles
                .iter()
                .zip(&hidden)
                .map(|(r, h)| json!({"role": r, "shown": !h.contains(&key)}))
                .collect();
            json!({"key": key, "label": label, "cells": cells})
        })
        .collect();
    let mut ctx = base(state, caller, "/admin/dashboards");
    ctx.insert("W".into(), words(locale, KEYS));
    ctx.insert("roles".into(), json!(roles));
    ctx.insert("rows".into(), json!(rows));
    ctx.insert("saved".into(), json!(saved));
    page(status, "admin_dashboards.html", Json::Object(ctx))
}

/// `?done=saved` after saving.
#[derive(Debug, serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /admin/dashboards`.
pub async fn dashboards(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    dashboards_page(&state, &caller, q.done.is_some(), StatusCode::OK)
}

/// `POST /admin/dashboards`: `show.<role>` names each section that role's dashboard shows;
/// every other section is hidden for it.
pub async fn save_dashboards(
    State(state): State<AppState>,
    AdminForm { caller, form }: AdminForm<Vec<(String, String)>>,
) -> Response {
    let all: Vec<String> = sections(&state, &caller)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let choices: Vec<(String, Vec<String>)> = super::role_names(&state)
        .into_iter()
        .map(|role| {
            let field = format!("show.{role}");
            let mut hidden: Vec<String> = all
                .iter()
                .filter(|s| !form.iter().any(|(k, v)| *k == field && v == *s))
                .cloned()
                .collect();
            // What is hidden but not on the page (a disabled plugin's widgets) stays hidden.
            let before = state.store().dashboard_hidden(&role).unwrap_or_default();
            hidden.extend(before.into_iter().filter(|h| !all.contains(h)));
            (role, hidden)
        })
        .collect();
    let access = caller.access.clone();
    let outcome = state
        .blocking(move |s| {
            s.transaction(|| {
                for (role, hidden) in &choices {
                    s.set_dashboard_hidden(&access, role, hidden)?;
                }
                Ok(())
            })
        })
        .await;
    match outcome {
        Ok(()) => Redirect::to("/admin/dashboards?done=saved").into_response(),
        Err(e) => super::back_with_api_error("/admin/dashboards", &e),
    }
}
