//! Readiness.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// 200 once the server and its plugins are ready; 503 before.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, description = "Ready", body = Value), (status = 503, description = "Starting")))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let ready = state.is_ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ok" } else { "starting" },
            "version": env!("CARGO_PKG_VERSION"),
            "database": if state.store().is_postgres() { "postgresql" } else { "sqlite" },
        })),
    )
}
