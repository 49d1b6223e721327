//! Arranging one's own dashboard: the sections one's role may show, in one's order, each
//! moved up or down, put away or shown again — and back to the usual order.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::dashboard::available_sections;
use crate::ui::extract::{SignedForm, UiCaller};
use crate::ui::refusal::form_refusal;
use crate::ui::render::{base, locale_of, page, words};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{json, Value as Json};

const KEYS: &[&str] = &[
    "dashboard_arrange",
    "dashboard_arrange_help",
    "dashboard_put_away",
    "dashboard_show_again",
    "dashboard_reset",
    "dashboard_section",
    "dashboard_put_away_mark",
    "move_up",
    "move_down",
    "dashboard",
];

/// `GET /dashboard/arrange`.
pub async fn arrange(State(state): State<AppState>, UiCaller(caller): UiCaller) -> Response {
    arrange_page(&state, &caller, None, StatusCode::OK)
}

fn arrange_page(
    state: &AppState,
    caller: &Caller,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let locale = locale_of(caller);
    let available = available_sections(state, caller);
    let keys: Vec<String> = available.iter().map(|(k, _)| k.clone()).collect();
    let arrangement = state
        .store()
        .dashboard_arrangement(caller.user.id)
        .unwrap_or_default();
    let ordered = arrangement.ordered(&keys);
    let rows: Vec<Json> = ordered
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let label = available
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, w)| w.clone())
                .unwrap_or_default();
            json!({"key": key, "label": label, "hidden": arrangement.hides(key),
                   "first": i == 0, "last": i + 1 == ordered.len()})
        })
        .collect();
    let mut ctx = base(state, caller, "/dashboard/arrange");
    ctx.insert("W".into(), words(locale, KEYS));
    ctx.insert("rows".into(), json!(rows));
    ctx.insert("error".into(), json!(error));
    page(status, "dashboard_arrange.html", Json::Object(ctx))
}

#[derive(Debug, Deserialize)]
pub struct ArrangeForm {
    #[serde(default)]
    section: String,
    /// `up`, `down`, `hide`, `show` or `reset`.
    #[serde(default)]
    action: String,
}

/// `POST /dashboard/arrange`: one change to the caller's own arrangement.
pub async fn save_arrangement(
    State(state): State<AppState>,
    SignedForm { caller, form }: SignedForm<ArrangeForm>,
) -> Response {
    let locale = locale_of(&caller);
    let keys: Vec<String> = available_sections(&state, &caller)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let current = state
        .store()
        .dashboard_arrangement(caller.user.id)
        .unwrap_or_default();
    let known = keys.contains(&form.section);
    let next = match (form.action.as_str(), known) {
        ("reset", _) => None,
        ("up", true) => Some(current.moved(&keys, &form.section, true)),
        ("down", true) => Some(current.moved(&keys, &form.section, false)),
        ("hide", true) => Some(current.shown(&form.section, true)),
        ("show", true) => Some(current.shown(&form.section, false)),
        _ => {
            let why = qingguan_core::Reason::NotOption {
                value: form.section.chars().take(200).collect(),
                options: keys,
            };
            return arrange_page(
                &state,
                &caller,
                Some(why.render(locale)),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let access = caller.access.clone();
    let outcome = state
        .blocking(move |s| match &next {
            Some(a) => s.set_dashboard_arrangement(&access, a),
            None => s.reset_dashboard_arrangement(&access),
        })
        .await;
    match outcome {
        Ok(()) => Redirect::to("/dashboard/arrange").into_response(),
        Err(api) => {
            let why = form_refusal(locale, &api);
            arrange_page(&state, &caller, Some(why), api.status)
        }
    }
}
