//! The jobs part of the plugins page: each active plugin's jobs, how often they run, how far
//! their latest run got (steps, units done, of how many), and a button to run one now.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::render::{local_time_text, locale_of, t};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::Locale;
use serde_json::{json, Value as Json};
use std::collections::HashMap;

fn every_text(locale: Locale, seconds: u64) -> String {
    let (n, key) = if seconds.is_multiple_of(3600) {
        (seconds / 3600, "every_hours")
    } else if seconds.is_multiple_of(60) {
        (seconds / 60, "every_minutes")
    } else {
        (seconds, "every_seconds")
    };
    t(locale, key).replace("{n}", &n.to_string())
}

/// One row per job of the listed plugins (`plugins` as the page shows them, with `name`).
pub(super) fn rows(state: &AppState, caller: &Caller, plugins: &Json) -> Vec<Json> {
    let locale = locale_of(caller);
    let mut out = Vec::new();
    for p in plugins.as_array().into_iter().flatten() {
        let id = p["id"].as_str().unwrap_or_default();
        for job in p["manifest"]["jobs"].as_array().into_iter().flatten() {
            let name = job["name"].as_str().unwrap_or_default();
            let every = job["every_seconds"].as_u64().unwrap_or(0);
            let run = state.store().job_run(id, name).ok().flatten();
            let (state_key, progress, updated, error) = match &run {
                None => (
                    "job_never_ran".to_string(),
                    String::new(),
                    String::new(),
                    None,
                ),
                Some(r) => {
                    let progress = match r.total {
                        Some(total) => t(locale, "job_progress_total")
                            .replace("{done}", &r.done.to_string())
                            .replace("{total}", &total.to_string()),
                        None => t(locale, "job_progress").replace("{done}", &r.done.to_string()),
                    }
                    .replace("{steps}", &r.steps.to_string());
                    (
                        format!("job_{}", r.state),
                        progress,
                        local_time_text(state, caller, &r.updated_at),
                        r.error.clone(),
                    )
                }
            };
            out.push(json!({
                "plugin": id,
                "plugin_name": p["name"],
                "job": name,
                "every": every_text(locale, every),
                "state": run.as_ref().map(|r| r.state.clone()),
                "state_text": t(locale, &state_key),
                "progress": progress,
                "updated": updated,
                "updated_at": run.as_ref().map(|r| r.updated_at.clone()),
                "error": error,
                "active": p["status"] == "active",
            }));
        }
    }
    out
}

/// `POST /admin/plugins/{id}/jobs/{job}`: starts the job off the request path and returns to
/// the plugins page, which shows its progress.
pub async fn run_job(
    State(state): State<AppState>,
    Path((id, job)): Path<(String, String)>,
    AdminForm { caller, form: _f }: AdminForm<HashMap<String, String>>,
) -> Response {
    let plugins = state.plugins().clone();
    let started =
        tokio::task::spawn_blocking(move || plugins.calls().start_job(&id, &job, false)).await;
    match started {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return super::back_with_detail(&caller, "op_failed", &e.to_string()),
        Err(_) => {
            return super::back_with_error("/admin/plugins", &t(locale_of(&caller), "op_failed"))
        }
    }
    Redirect::to("/admin/plugins#jobs").into_response()
}
