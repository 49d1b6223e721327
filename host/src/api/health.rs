//! Readiness.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// 200 once the server and its plugins are ready; 503 before. Says which database serves,
/// this host's id, how many hosts serve it now, and whether this host has caught up with every
/// change made on the others (`in_sync`; `behind` names what it has not picked up yet — a
/// change is picked up within a fraction of a second).
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, description = "Ready", body = Value), (status = 503, description = "Starting")))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let ready = state.is_ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = json!({
        "status": if ready { "ok" } else { "starting" },
        "version": env!("CARGO_PKG_VERSION"),
        "database": if state.store().is_postgres() { "postgresql" } else { "sqlite" },
    });
    if ready {
        let st = state.clone();
        let sync = tokio::task::spawn_blocking(move || {
            let hosts = st.store().live_hosts().map(|h| h.len());
            (crate::peers::behind(&st), hosts)
        })
        .await;
        body["host"] = json!(state.store().host_id());
        match sync {
            Ok((Ok(behind), Ok(hosts))) => {
                body["hosts"] = json!(hosts);
                body["in_sync"] = json!(behind.is_empty());
                body["behind"] = json!(behind);
            }
            _ => {
                tracing::warn!("health: cannot compare this host with the database");
                body["in_sync"] = json!(false);
            }
        }
    }
    (status, Json(body))
}
