//! Plugin jobs over HTTP: start one (it runs in resumable steps off the request path) and see
//! how far each job's latest run got.

use super::extract::ApiPath;
use super::plugin_dto::JobRunDto;
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

/// Options of a job run.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RunParams {
    /// Wait until the run ends and answer with it (200) instead of answering at once (202).
    #[serde(default)]
    wait: bool,
    /// Start from the beginning even if the latest run stopped part-way (it continues from its
    /// cursor otherwise).
    #[serde(default)]
    restart: bool,
}

/// Run a plugin's job now: it continues a run that stopped part-way (a restart, a failure) from
/// its cursor, or starts one.
/// Answers 202 with the run as it starts (follow it with `GET /plugins/{id}/jobs`), or with
/// `?wait=true` 200 with the finished run.
#[utoipa::path(post, path = "/plugins/{id}/jobs/{job}", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id"), ("job" = String, Path, description = "Job name"), RunParams),
    responses((status = 200, body = JobRunDto), (status = 202, body = JobRunDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn run_job(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, job)): ApiPath<(String, String)>,
    Query(params): Query<RunParams>,
) -> ApiResult<(StatusCode, Json<JobRunDto>)> {
    caller.access.require_admin()?;
    let restart = params.restart;
    if params.wait {
        let run = state
            .blocking_plugins(move |p| Ok(p.calls().run_job(&id, &job, restart)?))
            .await?;
        return Ok((StatusCode::OK, Json(run.into())));
    }
    let run = state
        .blocking_plugins(move |p| Ok(p.calls().start_job(&id, &job, restart)?))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// The latest run of each of a plugin's jobs.
#[utoipa::path(get, path = "/plugins/{id}/jobs", tag = "plugins", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, body = [JobRunDto]), (status = 403, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<JobRunDto>>> {
    caller.access.require_admin()?;
    let runs = state.blocking(move |s| s.job_runs(Some(&id))).await?;
    Ok(Json(runs.into_iter().map(Into::into).collect()))
}
