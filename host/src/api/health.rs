//! Readiness.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// 200 once the server and its plugins are ready; 503 before. Says which database serves,
/// this host's id, how many hosts serve it (`hosts`, counted every few seconds), and whether
/// this host had picked up every change made on the others when it last looked (`in_sync`, as
/// of `as_of`, on the database's clock; it looks several times a second, and a last look older
/// than 5 s is not in sync; `behind` names what it had not picked up).
/// Answered from memory: calling it reads nothing from the database. A host that hosts of
/// another version superseded while its connection was down (it writes nothing more) answers
/// 503 with status `superseded`, so that a load balancer stops sending it requests.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, description = "Ready", body = Value), (status = 503, description = "Starting, or superseded by hosts of a newer version")))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let superseded = state.store().superseded();
    let ready = state.is_ready();
    let status = if ready && !superseded {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut body = json!({
        "status": if superseded { "superseded" } else if ready { "ok" } else { "starting" },
        "version": env!("CARGO_PKG_VERSION"),
        "database": if state.store().is_postgres() { "postgresql" } else { "sqlite" },
    });
    if ready {
        let standing = state.standing().clone();
        let (in_sync, behind) = standing.in_sync(state.store().shared_now());
        body["host"] = json!(state.store().host_id());
        body["hosts"] = json!(standing.hosts);
        body["in_sync"] = json!(in_sync && !superseded);
        body["behind"] = json!(behind);
        body["as_of"] = json!(standing
            .polled
            .map(|(at, _)| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
    }
    (status, Json(body))
}
