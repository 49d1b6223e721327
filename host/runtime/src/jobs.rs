//! Plugin jobs, run in resumable steps: each step is one call with its own time limit and its
//! own transaction, and the cursor it returns is saved in that same transaction — so a job
//! killed between steps continues after a restart from the last step that committed, never
//! repeating or skipping one. A 1.0/1.1 job is one step.

use crate::active::ActiveSet;
use crate::context::CallCtx;
use crate::failure::{CallError, PluginFailure};
use qingguan_core::JobRun;

/// Steps a run may take before the runtime stops it as a runaway (a job that never finishes).
pub const MAX_STEPS: i64 = 100_000;

fn store_failure(e: qingguan_core::Error) -> CallError {
    CallError::Plugin(PluginFailure::Failed(format!(
        "could not record the job's progress: {e}"
    )))
}

impl ActiveSet {
    /// Runs a job to its end, step by step, continuing an unfinished run from its cursor.
    /// Returns the finished run; if the job is already running here, its run as it stands.
    pub fn run_job(&self, id: &str, name: &str) -> Result<JobRun, CallError> {
        let p = self.require(id)?;
        if !p.manifest.jobs.iter().any(|j| j.name == name) {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' has no job '{name}'"
            ))));
        }
        let store = self.store().clone();
        let Some(_claim) = self.running_jobs().claim(id, name) else {
            return store
                .job_run(id, name)
                .map_err(store_failure)?
                .ok_or_else(|| CallError::Unavailable(format!("job '{name}' is starting")));
        };
        let mut run = store.job_run_start(id, name).map_err(store_failure)?;
        loop {
            let scope = store.begin_call().map_err(store_failure)?;
            let cursor = run.cursor.clone();
            let step = self
                .call(&p, CallCtx::system(), |i, s| {
                    i.job_step(s, name, cursor.as_deref())
                })
                .and_then(|progress| {
                    if progress.cursor.is_some() && progress.cursor == cursor {
                        return Err(CallError::Plugin(PluginFailure::Failed(format!(
                            "job '{name}' returned the cursor it was given; stopped so that it \
                             does not loop"
                        ))));
                    }
                    if run.steps + 1 >= MAX_STEPS && progress.cursor.is_some() {
                        return Err(CallError::Plugin(PluginFailure::Failed(format!(
                            "job '{name}' took {MAX_STEPS} steps without finishing; stopped"
                        ))));
                    }
                    let (done, total) = (clamp(progress.done), progress.total.map(clamp));
                    store
                        .job_run_step(id, name, progress.cursor.as_deref(), done, total)
                        .map_err(store_failure)?;
                    Ok(progress)
                });
            let ok = step.is_ok();
            let committed = scope.finish(ok).map_err(store_failure);
            match (step, committed) {
                (Ok(progress), Ok(())) => {
                    run.steps += 1;
                    run.cursor = progress.cursor;
                    if run.cursor.is_none() {
                        return store
                            .job_run(id, name)
                            .map_err(store_failure)?
                            .ok_or_else(|| {
                                CallError::Unavailable("the job's run vanished".into())
                            });
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    if let Err(rec) = store.job_run_failed(id, name, &e.to_string()) {
                        tracing::error!(plugin = id, job = name, error = %rec, "could not record a failed job");
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Runs every job left unfinished (by a restart) to its end; errors are logged.
    pub fn resume_jobs(&self) {
        let Ok(runs) = self.store().job_runs(None) else {
            return;
        };
        for r in runs.into_iter().filter(|r| r.state == "running") {
            if self.get(&r.plugin).is_none() {
                continue;
            }
            tracing::info!(plugin = %r.plugin, job = %r.job, steps = r.steps, "continuing an unfinished job");
            if let Err(e) = self.run_job(&r.plugin, &r.job) {
                tracing::warn!(plugin = %r.plugin, job = %r.job, error = %e, "resumed job failed");
            }
        }
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
