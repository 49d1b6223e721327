//! Runs of plugin jobs, kept so that a long job commits in steps and continues from its cursor
//! after a restart, and so that administrators see how far it got. One row per job: its latest
//! run. The core does not run anything; the plugin runtime records each step here, inside the
//! step's own transaction.

use crate::db;
use crate::db::OptionalExtension;
use crate::store::Store;
use crate::Result;

/// Where a job's latest run stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobRun {
    /// Plugin id.
    pub plugin: String,
    /// Job name.
    pub job: String,
    /// The plugin version the run belongs to (a cursor means something to that version only).
    pub version: String,
    /// `running`, `finished` or `failed`.
    pub state: String,
    /// Where the next step starts (running runs).
    pub cursor: Option<String>,
    /// Units of work done so far.
    pub done: i64,
    /// Units in all, when the plugin said.
    pub total: Option<i64>,
    /// Steps committed.
    pub steps: i64,
    /// When the run started (UTC, RFC 3339).
    pub started_at: String,
    /// When it last moved.
    pub updated_at: String,
    /// Why it failed.
    pub error: Option<String>,
    /// The host running it (see `Store::join_hosts`), if any.
    pub host: Option<String>,
}

/// Whether an existing run goes on (SQL over the old row): not asked to restart (`?5`), not
/// finished, and of the same plugin version (`?3`).
const GO_ON: &str =
    "(?5 AND plugin_jobs.state IN ('running', 'failed') AND plugin_jobs.version = ?3)";

const COLUMNS: &str =
    "plugin, job, version, state, cursor, done, total, steps, started_at, updated_at, error, host";

fn row(r: &crate::db::Row<'_>) -> crate::db::DbResult<JobRun> {
    Ok(JobRun {
        plugin: r.get(0)?,
        job: r.get(1)?,
        version: r.get(2)?,
        state: r.get(3)?,
        cursor: r.get(4)?,
        done: r.get(5)?,
        total: r.get(6)?,
        steps: r.get(7)?,
        started_at: r.get(8)?,
        updated_at: r.get(9)?,
        error: r.get(10)?,
        host: r.get(11)?,
    })
}

impl Store {
    /// The run of a job to work on, now this host's: an unfinished one of the same plugin
    /// version — left running by a restart or a host that is gone, or failed — continues from
    /// its cursor unless `restart`; otherwise a new run starts. `None` while another host
    /// that is there runs the job.
    pub fn job_run_start(
        &self,
        plugin: &str,
        job: &str,
        version: &str,
        restart: bool,
    ) -> Result<Option<JobRun>> {
        self.write(|tx| {
            let now = db::now_text();
            let taken = tx.execute(
                &"INSERT INTO plugin_jobs (plugin, job, version, state, started_at, updated_at, host)
                 VALUES (?1, ?2, ?3, 'running', ?4, ?4, ?6)
                 ON CONFLICT (plugin, job) DO UPDATE SET
                   version = ?3, state = 'running', error = NULL, updated_at = ?4, host = ?6,
                   cursor = CASE WHEN {go_on} THEN plugin_jobs.cursor END,
                   done = CASE WHEN {go_on} THEN plugin_jobs.done ELSE 0 END,
                   total = CASE WHEN {go_on} THEN plugin_jobs.total END,
                   steps = CASE WHEN {go_on} THEN plugin_jobs.steps ELSE 0 END,
                   started_at = CASE WHEN {go_on} THEN plugin_jobs.started_at ELSE ?4 END
                 WHERE plugin_jobs.state <> 'running' OR plugin_jobs.host = ?6 OR {gone}"
                    .replace("{go_on}", GO_ON)
                    .replace("{gone}", &crate::store::hosts::gone("plugin_jobs.host", 7)),
                (
                    plugin,
                    job,
                    version,
                    &now,
                    !restart,
                    self.host_id(),
                    self.live_since(),
                ),
            )?;
            if taken == 0 {
                return Ok(None);
            }
            let row = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM plugin_jobs WHERE plugin = ?1 AND job = ?2"
                ))?
                .query_row((plugin, job), row)?;
            Ok(Some(row))
        })
    }

    /// Runs left `running` by a host that is gone (or by none): another host continues them.
    pub fn orphaned_job_runs(&self) -> Result<Vec<JobRun>> {
        let gone = crate::store::hosts::gone("host", 1);
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM plugin_jobs WHERE state = 'running' AND {gone}
                 ORDER BY plugin, job"
            ))?;
            let runs = stmt
                .query_map([self.live_since()], row)?
                .collect::<crate::db::DbResult<Vec<_>>>()?;
            Ok(runs)
        })
    }

    /// Records a committed step: the next cursor (`None`: finished), the units it did, the
    /// total if known. Call it inside the step's transaction.
    pub fn job_run_step(
        &self,
        plugin: &str,
        job: &str,
        cursor: Option<&str>,
        done: i64,
        total: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE plugin_jobs SET cursor = ?3, done = done + ?4,
                   total = coalesce(?5, total), steps = steps + 1, updated_at = ?6,
                   state = CASE WHEN CAST(?3 AS TEXT) IS NULL THEN 'finished' ELSE 'running' END
                 WHERE plugin = ?1 AND job = ?2 AND host IS ?7",
                (
                    plugin,
                    job,
                    cursor,
                    done,
                    total,
                    db::now_text(),
                    self.host_id(),
                ),
            )?;
            if n == 0 {
                return Err(crate::Error::NotFound(format!(
                    "no run of job '{job}' of plugin '{plugin}' on this host (the plugin was \
                     removed, or another host took the run over)"
                )));
            }
            Ok(())
        })
    }

    /// Records that a run of this host (or of a host that is gone) failed; another host's run
    /// stays as it is. Its cursor stays: running the job again goes on from the last
    /// committed step, unless asked to restart.
    pub fn job_run_failed(&self, plugin: &str, job: &str, error: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "UPDATE plugin_jobs SET state = 'failed', error = ?3, updated_at = ?4
                     WHERE plugin = ?1 AND job = ?2 AND (host IS ?5 OR {})",
                    crate::store::hosts::gone("host", 6)
                ),
                (
                    plugin,
                    job,
                    error,
                    db::now_text(),
                    self.host_id(),
                    self.live_since(),
                ),
            )?;
            Ok(())
        })
    }

    /// The latest run of one job.
    pub fn job_run(&self, plugin: &str, job: &str) -> Result<Option<JobRun>> {
        self.read(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM plugin_jobs WHERE plugin = ?1 AND job = ?2"
            ))?
            .query_row((plugin, job), row)
            .optional()?)
        })
    }

    /// The latest runs of a plugin's jobs (all plugins' with `None`), by plugin and job.
    pub fn job_runs(&self, plugin: Option<&str>) -> Result<Vec<JobRun>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM plugin_jobs WHERE plugin = ?1 OR ?1 IS NULL
                 ORDER BY plugin, job"
            ))?;
            let runs = stmt
                .query_map([plugin], row)?
                .collect::<crate::db::DbResult<Vec<_>>>()?;
            Ok(runs)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreOptions};

    #[test]
    fn a_run_continues_until_finished_and_then_starts_anew() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap();
        let run = s
            .job_run_start("p", "walk", "1.0.0", false)
            .unwrap()
            .unwrap();
        assert_eq!(
            (run.state.as_str(), run.cursor.as_deref()),
            ("running", None)
        );
        s.job_run_step("p", "walk", Some("c1"), 2, Some(5)).unwrap();
        let again = s
            .job_run_start("p", "walk", "1.0.0", false)
            .unwrap()
            .unwrap();
        assert_eq!(
            again.cursor.as_deref(),
            Some("c1"),
            "an unfinished run continues"
        );
        assert_eq!((again.done, again.steps, again.total), (2, 1, Some(5)));
        s.job_run_failed("p", "walk", "boom").unwrap();
        let after_failure = s
            .job_run_start("p", "walk", "1.0.0", false)
            .unwrap()
            .unwrap();
        assert_eq!(
            after_failure.cursor.as_deref(),
            Some("c1"),
            "a failed run continues too"
        );
        assert_eq!(
            (after_failure.state.as_str(), after_failure.error),
            ("running", None)
        );
        let upgraded = s
            .job_run_start("p", "walk", "1.1.0", false)
            .unwrap()
            .unwrap();
        assert_eq!(
            (upgraded.cursor, upgraded.steps),
            (None, 0),
            "another version starts anew"
        );
        s.job_run_step("p", "walk", Some("c2"), 1, None).unwrap();
        let restarted = s
            .job_run_start("p", "walk", "1.1.0", true)
            .unwrap()
            .unwrap();
        assert_eq!(
            (restarted.cursor, restarted.done),
            (None, 0),
            "asked to restart"
        );
        s.job_run_step("p", "walk", None, 3, None).unwrap();
        let done = s.job_run("p", "walk").unwrap().unwrap();
        assert_eq!((done.state.as_str(), done.done), ("finished", 3));
        let fresh = s
            .job_run_start("p", "walk", "1.1.0", false)
            .unwrap()
            .unwrap();
        assert_eq!((fresh.done, fresh.steps, fresh.cursor), (0, 0, None));
        assert_eq!(s.job_runs(None).unwrap().len(), 1);
        assert!(
            s.job_run_step("gone", "walk", None, 1, None).is_err(),
            "no row, no step"
        );
    }

    #[test]
    fn a_run_stays_with_its_host_while_it_is_there_and_moves_when_it_is_gone() {
        let (place, a) = crate::store::tests::store();
        let b = place.open_again();
        a.join_hosts("t").unwrap();
        b.join_hosts("t").unwrap();
        let run = a.job_run_start("p", "walk", "1", false).unwrap().unwrap();
        assert_eq!(run.host.as_deref(), a.host_id());
        a.job_run_step("p", "walk", Some("c1"), 1, None).unwrap();
        if a.is_postgres() {
            // On SQLite one host serves: b's joining forgot a.
            assert!(b.job_run_start("p", "walk", "1", false).unwrap().is_none());
            assert!(b.orphaned_job_runs().unwrap().is_empty());
        }
        a.leave_hosts().unwrap();
        let orphans = b.orphaned_job_runs().unwrap();
        assert_eq!(orphans.len(), 1);
        let taken = b.job_run_start("p", "walk", "1", false).unwrap().unwrap();
        assert_eq!(
            (taken.cursor.as_deref(), taken.host.as_deref()),
            (Some("c1"), b.host_id()),
            "continued where a left it"
        );
        // a's late step or failure does not touch b's run.
        assert!(a.job_run_step("p", "walk", Some("c9"), 1, None).is_err());
        a.job_run_failed("p", "walk", "late").unwrap();
        let now = b.job_run("p", "walk").unwrap().unwrap();
        assert_eq!(
            (now.state.as_str(), now.cursor.as_deref()),
            ("running", Some("c1"))
        );
    }
}
