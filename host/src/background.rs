//! Background work: continuing plugin jobs a restart interrupted, marking imports it cut short, picking up
//! changes the CLI made to the database, telling owners of overdue follow-ups, and running
//! scheduled jobs.

use crate::state::AppState;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Runs until the process ends: every second, due jobs; every sync interval, a database sync.
pub async fn run(state: AppState) {
    let resumer = state.plugins().clone();
    tokio::task::spawn_blocking(move || resumer.calls().resume_jobs());
    let store = state.store().clone();
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.interrupt_imports()).await {
        tracing::warn!(error = %e, "marking interrupted imports failed");
    }
    let mut last_sync = Instant::now();
    let mut last_optimize: Option<Instant> = None;
    let mut last_overdue: Option<Instant> = None;
    let mut last_run: HashMap<(String, String), Instant> = HashMap::new();
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
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || {
                store.purge_import_files(7)?;
                store.purge_api_tokens()?;
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
        if last_sync.elapsed() >= state.config().plugin_sync_interval {
            last_sync = Instant::now();
            let p = plugins.clone();
            match tokio::task::spawn_blocking(move || p.sync()).await {
                Ok(Ok(true)) => {
                    state.forget_sessions();
                    tracing::info!("plugins changed on disk; reloaded");
                }
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "plugin sync failed"),
                Err(e) => tracing::warn!(error = %e, "plugin sync panicked"),
            }
        }
        for (plugin, job, every) in plugins.calls().jobs() {
            let key = (plugin.clone(), job.clone());
            // First sight starts the clock: a job runs one interval after it appears.
            let last = last_run.entry(key).or_insert_with(Instant::now);
            if last.elapsed() < Duration::from_secs(every) {
                continue;
            }
            *last = Instant::now();
            let p = plugins.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = p.calls().run_job(&plugin, &job, false) {
                    tracing::warn!(plugin, job, error = %e, "scheduled job failed");
                }
            });
        }
    }
}
