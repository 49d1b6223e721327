//! Background work: taking over what a restart (or a host that is gone) left unfinished,
//! telling owners of overdue follow-ups, and running scheduled jobs — each turn of a job on
//! one of the hosts serving the database. Changes made elsewhere are picked up in `peers.rs`.

use crate::state::AppState;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Runs until the process ends: every second, due jobs.
pub async fn run(state: AppState) {
    crate::peers::take_over(&state).await;
    let mut last_optimize: Option<Instant> = None;
    let mut last_overdue: Option<Instant> = None;
    // When each job's next turn is due, as the database last said.
    let mut due: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let plugins = state.plugins().clone();
        if last_optimize.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
            last_optimize = Some(Instant::now());
            let store = state.store().clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.optimize()).await {
                tracing::warn!(error = %e, "refreshing query statistics failed");
            }
            // Uploaded files are kept until imported, or a week; revoked and expired API
            // tokens and finished webhook deliveries for 30 days.
            let store = state.store().clone();
            let max_lockout = state.config().login.max_lockout;
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || {
                store.purge_import_files(7)?;
                store.purge_api_tokens()?;
                // A count quiet for the longest lockout starts afresh anyway.
                store.purge_login_failures(max_lockout)?;
                store.purge_deliveries()
            })
            .await
            {
                tracing::warn!(error = %e, "dropping old import files, tokens or deliveries failed");
            }
        }
        // Follow-ups past their date tell their owners (each due date once).
        if last_overdue.is_none_or(|t| t.elapsed() >= state.config().overdue_interval) {
            last_overdue = Some(Instant::now());
            let store = state.store().clone();
            match tokio::task::spawn_blocking(move || {
                store.notify_overdue_activities(store.install_today()?)
            })
            .await
            {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(told = n, "overdue follow-ups notified"),
                Ok(Err(e)) => tracing::warn!(error = %e, "notifying overdue follow-ups failed"),
                Err(e) => tracing::warn!(error = %e, "notifying overdue follow-ups panicked"),
            }
        }
        for (plugin, job, every) in plugins.calls().jobs() {
            let key = (plugin.clone(), job.clone());
            // Due times are on the database's clock (`take_turn`), and so is the comparison.
            let now = state.store().shared_now();
            if due.get(&key).is_some_and(|at| now < *at) {
                continue;
            }
            // One host takes each turn. The first time a job is seen its clock starts: it
            // runs one interval after it appears.
            let store = state.store().clone();
            let turn = format!("job:{plugin}/{job}");
            let taken = tokio::task::spawn_blocking(move || {
                store.take_turn(&turn, Duration::from_secs(every))
            })
            .await;
            match taken {
                Ok(Ok((taken, next))) => {
                    due.insert(key, next);
                    if !taken {
                        continue;
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(plugin, job, error = %e, "could not take a job's turn");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(plugin, job, error = %e, "taking a job's turn panicked");
                    continue;
                }
            }
            let p = plugins.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = p.calls().run_job(&plugin, &job, false) {
                    tracing::warn!(plugin, job, error = %e, "scheduled job failed");
                }
            });
        }
    }
}
