//! Plugin jobs, run in resumable steps: each step is one call with its own time limit and its
//! own transaction, and the cursor it returns is saved in that same transaction — so a job
//! stopped between steps (a restart, a failure) continues from the last step that committed,
//! never repeating or skipping one. A run belongs to one plugin version: if the plugin is
//! disabled, upgraded or removed mid-run the run stops, and a new version starts anew. A 1.0
//! or 1.1 job is one step.

use crate::active::ActiveSet;
use crate::context::CallCtx;
use crate::failure::{CallError, PluginFailure};
use crate::instance::LoadedPlugin;
use crate::job_claims::Claim;
use qingguan_core::JobRun;
use std::sync::Arc;
use std::time::Duration;

/// Steps a run may take before the runtime stops it as a runaway (a job that never finishes).
pub const MAX_STEPS: i64 = 100_000;

/// Waits before retrying a step the runtime had no room for.
const CAPACITY_RETRIES: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(250),
    Duration::from_secs(1),
];

fn store_failure(e: qingguan_core::Error) -> CallError {
    CallError::Plugin(PluginFailure::Failed(format!(
        "could not record the job's progress: {e}"
    )))
}

fn failed(message: String) -> CallError {
    CallError::Plugin(PluginFailure::Failed(message))
}

/// A job ready to run: the plugin version, the claim and the run it works on.
struct Started {
    plugin: Arc<LoadedPlugin>,
    claim: Claim,
    run: JobRun,
}

impl ActiveSet {
    /// Claims a job and starts (or continues) its run; `Err(Ok(run))` when it is running here
    /// already (its run as it stands).
    fn start(
        &self,
        id: &str,
        name: &str,
        restart: bool,
    ) -> Result<Result<Started, JobRun>, CallError> {
        let plugin = self.require(id)?;
        if !plugin.manifest.jobs.iter().any(|j| j.name == name) {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' has no job '{name}'"
            ))));
        }
        let store = self.store();
        let Some(claim) = self.running_jobs().claim(id, name) else {
            let run = store
                .job_run(id, name)
                .map_err(store_failure)?
                .ok_or_else(|| CallError::Unavailable(format!("job '{name}' is starting")))?;
            return Ok(Err(run));
        };
        let version = plugin.manifest.version.to_string();
        match store
            .job_run_start(id, name, &version, restart)
            .map_err(store_failure)?
        {
            Some(run) => Ok(Ok(Started { plugin, claim, run })),
            // Another host serving the database runs it: its run as it stands.
            None => Ok(Err(store
                .job_run(id, name)
                .map_err(store_failure)?
                .ok_or_else(|| {
                    CallError::Unavailable(format!("job '{name}' is starting"))
                })?)),
        }
    }

    /// Runs a job to its end on this thread, continuing an unfinished run of the same plugin
    /// version from its cursor (or starting anew with `restart`). Returns the finished run;
    /// if the job is already running here, its run as it stands.
    pub fn run_job(&self, id: &str, name: &str, restart: bool) -> Result<JobRun, CallError> {
        match self.start(id, name, restart)? {
            Ok(started) => self.run_steps(name, started),
            Err(running) => Ok(running),
        }
    }

    /// Starts a job on a thread of its own and returns its run as it starts (or, if it is
    /// running already, as it stands).
    pub fn start_job(&self, id: &str, name: &str, restart: bool) -> Result<JobRun, CallError> {
        let started = match self.start(id, name, restart)? {
            Ok(s) => s,
            Err(running) => return Ok(running),
        };
        let run = started.run.clone();
        let me = self.me();
        let (id, name) = (id.to_string(), name.to_string());
        std::thread::Builder::new()
            .name(format!("job {id}/{name}"))
            .spawn(move || {
                if let Err(e) = me.run_steps(&name, started) {
                    tracing::warn!(plugin = id, job = name, error = %e, "job failed");
                }
            })
            .map_err(|e| failed(format!("cannot start a thread for the job: {e}")))?;
        Ok(run)
    }

    fn run_steps(&self, name: &str, started: Started) -> Result<JobRun, CallError> {
        let Started {
            plugin: p,
            claim: _claim,
            mut run,
        } = started;
        let id = p.manifest.id.clone();
        let store = self.store().clone();
        loop {
            let out = self.one_step(&p, name, &mut run);
            match out {
                Ok(true) => {
                    return store
                        .job_run(&id, name)
                        .map_err(store_failure)?
                        .ok_or_else(|| CallError::Unavailable("the job's run vanished".into()))
                }
                Ok(false) => {}
                Err(e) => {
                    if let Err(rec) = store.job_run_failed(&id, name, &e.to_string()) {
                        tracing::error!(plugin = id, job = name, error = %rec, "could not record a failed job");
                    }
                    return Err(e);
                }
            }
        }
    }

    /// One step and its cursor, committed together; `Ok(true)` when the job finished.
    fn one_step(
        &self,
        p: &Arc<LoadedPlugin>,
        name: &str,
        run: &mut JobRun,
    ) -> Result<bool, CallError> {
        let id = p.manifest.id.as_str();
        // Disabled, upgraded or removed since the last step: this run is over.
        if !self.get(id).is_some_and(|now| Arc::ptr_eq(&now, p)) {
            return Err(failed(format!(
                "plugin '{id}' {} changed during the run (disabled, upgraded or removed); run \
                 the job again",
                p.manifest.version
            )));
        }
        if run.steps >= MAX_STEPS {
            return Err(failed(format!(
                "job '{name}' took {MAX_STEPS} steps without finishing; stopped"
            )));
        }
        let store = self.store();
        let mut waits = CAPACITY_RETRIES.iter();
        loop {
            let scope = store.begin_call_alone().map_err(store_failure)?;
            let cursor = run.cursor.clone();
            let step = self
                .call(p, CallCtx::system(), |i, s| {
                    i.job_step(s, name, cursor.as_deref())
                })
                .and_then(|progress| {
                    if progress.cursor.is_some() && progress.cursor == cursor {
                        return Err(failed(format!(
                            "job '{name}' returned the cursor it was given; stopped so that it \
                             does not loop"
                        )));
                    }
                    let done = i64::try_from(progress.done).unwrap_or(i64::MAX);
                    let total = progress.total.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
                    store
                        .job_run_step(id, name, progress.cursor.as_deref(), done, total)
                        .map_err(store_failure)?;
                    Ok(progress)
                });
            let committed = scope.finish(step.is_ok()).map_err(store_failure);
            match (step, committed) {
                (Ok(progress), Ok(())) => {
                    run.steps += 1;
                    run.cursor = progress.cursor;
                    return Ok(run.cursor.is_none());
                }
                (Err(CallError::AtCapacity), _) => match waits.next() {
                    Some(wait) => std::thread::sleep(*wait),
                    None => return Err(CallError::AtCapacity),
                },
                (Err(e), _) | (_, Err(e)) => return Err(e),
            }
        }
    }

    /// Continues every run left unfinished by a restart or by a host that is gone (called when
    /// a host starts and every few seconds); a run whose job the active plugin no longer
    /// declares is recorded as failed. Errors are logged.
    pub fn resume_jobs(&self) {
        let Ok(runs) = self.store().orphaned_job_runs() else {
            return;
        };
        for r in runs {
            if self.running_jobs().is_running(&r.plugin, &r.job) {
                continue; // going on here (a run this host started before it joined)
            }
            let declared = self
                .get(&r.plugin)
                .is_some_and(|p| p.manifest.jobs.iter().any(|j| j.name == r.job));
            if !declared {
                let why = "the job's plugin is not active, or no longer has this job";
                if let Err(e) = self.store().job_run_failed(&r.plugin, &r.job, why) {
                    tracing::warn!(plugin = %r.plugin, job = %r.job, error = %e, "could not close a stale job run");
                }
                continue;
            }
            tracing::info!(plugin = %r.plugin, job = %r.job, steps = r.steps, "continuing an unfinished job");
            // Each on its own thread: one long job does not hold back the others.
            if let Err(e) = self.start_job(&r.plugin, &r.job, false) {
                tracing::warn!(plugin = %r.plugin, job = %r.job, error = %e, "resumed job failed");
            }
        }
    }
}
