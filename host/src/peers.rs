//! Serving beside other hosts on one database (PostgreSQL; on SQLite the same loop keeps one
//! host in step with the command line): joining the hosts, saying every few seconds that this
//! one is there, picking up what others changed — plugins, schema, roles, settings, sessions —
//! and taking over the work of hosts that are gone (their plugin jobs continue here; their
//! imports are marked interrupted for their owners to resume). Leaving when the server stops.
//! What the poll and the heartbeat find is kept
//! ([`Standing`](crate::standing::Standing)) for health to answer from memory.

use crate::state::AppState;
use qingguan_core::changes::Topic;
use qingguan_core::hosts::HEARTBEAT;
use std::time::{Duration, Instant};

/// The version a host records when it joins.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How often the work of hosts that are gone is looked for.
const SWEEP: Duration = Duration::from_secs(5);

/// Joins the hosts serving the database (before anything runs that names its host).
pub(crate) async fn join(state: &AppState) -> anyhow::Result<String> {
    let store = state.store().clone();
    let (id, hosts) = tokio::task::spawn_blocking(move || {
        let id = store.join_hosts(VERSION)?;
        // Only for health: a count that fails waits for the first heartbeat.
        let hosts = store.live_hosts().ok().map(|h| h.len());
        Ok::<_, qingguan_core::Error>((id, hosts))
    })
    .await??;
    state.standing().hosts = hosts;
    Ok(id)
}

/// Leaves the hosts (the server stops): its unfinished work is taken over at once.
pub(crate) async fn leave(state: &AppState) {
    let store = state.store().clone();
    match tokio::task::spawn_blocking(move || store.leave_hosts()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not leave the hosts"),
        Err(e) => tracing::warn!(error = %e, "leaving the hosts panicked"),
    }
}

/// Runs until the process ends: changes every `change_poll`, the work of gone hosts every
/// five seconds; the heartbeat on a task of its own, so that a slow plugin sync never makes
/// this host look gone.
pub(crate) async fn run(state: AppState) {
    tokio::spawn(heartbeat(state.clone()));
    let mut tick = tokio::time::interval(state.config().change_poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sweep = Instant::now();
    loop {
        tick.tick().await;
        pick_up(&state).await;
        if last_sweep.elapsed() >= SWEEP {
            last_sweep = Instant::now();
            take_over(&state).await;
        }
    }
}

/// Says every few seconds that this host is there.
async fn heartbeat(state: AppState) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let store = state.store().clone();
        let beat = tokio::task::spawn_blocking(move || {
            store.heartbeat(VERSION)?;
            store.live_hosts()
        });
        match beat.await {
            Ok(Ok(hosts)) => state.standing().hosts = Some(hosts.len()),
            Ok(Err(e)) => tracing::warn!(error = %e, "heartbeat failed"),
            Err(e) => tracing::warn!(error = %e, "heartbeat panicked"),
        }
    }
}

/// Reloads what changed in the database since last time.
async fn pick_up(state: &AppState) {
    let store = state.store().clone();
    // The time before the read (on the database's clock, which hosts and their clients
    // compare): every change committed before it is in what the read sees.
    let polled_at = state.store().shared_now();
    let changes = match tokio::task::spawn_blocking(move || store.pick_up_changes()).await {
        Ok(Ok(changes)) => changes,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "picking up changes failed");
            state.standing().poll_failed = true;
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "picking up changes panicked");
            state.standing().poll_failed = true;
            return;
        }
    };
    let moved = &changes.topics();
    // A sync that failed leaves the changes unhandled: the next poll tries again.
    let mut handled = true;
    if moved.contains(&Topic::Plugins) {
        let plugins = state.plugins().clone();
        match tokio::task::spawn_blocking(move || plugins.sync()).await {
            Ok(Ok(true)) => tracing::info!("plugins changed in the database; reloaded"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "plugin sync failed");
                handled = false;
            }
            Err(e) => {
                tracing::warn!(error = %e, "plugin sync panicked");
                handled = false;
            }
        }
    }
    // A caller is their user, role and session: any of these changing anywhere ends what
    // this host kept of them (a logout or deactivation on another host ends the session here).
    if moved
        .iter()
        .any(|t| matches!(t, Topic::People | Topic::Roles | Topic::Plugins))
    {
        state.forget_sessions();
    }
    // Only now: until here health says this host is behind.
    let behind = if handled {
        state.store().changes_handled(&changes);
        Vec::new()
    } else {
        moved.iter().map(|t| t.name()).collect()
    };
    let mut standing = state.standing();
    standing.polled = Some((polled_at, behind));
    standing.poll_failed = false;
}

/// Takes over what hosts that are gone left unfinished: their plugin jobs continue here,
/// their imports are marked interrupted (their owner resumes them).
pub(crate) async fn take_over(state: &AppState) {
    let store = state.store().clone();
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.interrupt_imports()).await {
        tracing::warn!(error = %e, "marking interrupted imports failed");
    }
    let plugins = state.plugins().clone();
    let _ = tokio::task::spawn_blocking(move || plugins.calls().resume_jobs()).await;
}
