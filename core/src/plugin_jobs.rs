//! Runs of plugin jobs, kept so that a long job commits in steps and continues from its cursor
//! after a restart, and so that administrators see how far it got. One row per job: its latest
//! run. The core does not run anything; the plugin runtime records each step here, inside the
//! step's own transaction.

use crate::db;
use crate::store::Store;
use crate::Result;
use rusqlite::OptionalExtension;

/// Where a job's latest run stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobRun {
    /// Plugin id.
    pub plugin: String,
    /// Job name.
    pub job: String,
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
}

const COLUMNS: &str =
    "plugin, job, state, cursor, done, total, steps, started_at, updated_at, error";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRun> {
    Ok(JobRun {
        plugin: r.get(0)?,
        job: r.get(1)?,
        state: r.get(2)?,
        cursor: r.get(3)?,
        done: r.get(4)?,
        total: r.get(5)?,
        steps: r.get(6)?,
        started_at: r.get(7)?,
        updated_at: r.get(8)?,
        error: r.get(9)?,
    })
}

impl Store {
    /// The run of a job to work on: the unfinished one (to continue from its cursor), or a
    /// new one.
    pub fn job_run_start(&self, plugin: &str, job: &str) -> Result<JobRun> {
        self.write(|tx| {
            let now = db::now_text();
            tx.execute(
                "INSERT INTO plugin_jobs (plugin, job, state, started_at, updated_at)
                 VALUES (?1, ?2, 'running', ?3, ?3)
                 ON CONFLICT (plugin, job) DO UPDATE SET
                   state = 'running', cursor = NULL, done = 0, total = NULL, steps = 0,
                   started_at = ?3, updated_at = ?3, error = NULL
                 WHERE state != 'running'",
                (plugin, job, &now),
            )?;
            Ok(tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM plugin_jobs WHERE plugin = ?1 AND job = ?2"
                ))?
                .query_row((plugin, job), row)?)
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
            tx.execute(
                "UPDATE plugin_jobs SET cursor = ?3, done = done + ?4,
                   total = coalesce(?5, total), steps = steps + 1, updated_at = ?6,
                   state = CASE WHEN ?3 IS NULL THEN 'finished' ELSE 'running' END
                 WHERE plugin = ?1 AND job = ?2",
                (plugin, job, cursor, done, total, db::now_text()),
            )?;
            Ok(())
        })
    }

    /// Records that a run failed (its cursor stays: running the job again starts anew).
    pub fn job_run_failed(&self, plugin: &str, job: &str, error: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE plugin_jobs SET state = 'failed', error = ?3, updated_at = ?4
                 WHERE plugin = ?1 AND job = ?2",
                (plugin, job, error, db::now_text()),
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
                "SELECT {COLUMNS} FROM plugin_jobs WHERE ?1 IS NULL OR plugin = ?1
                 ORDER BY plugin, job"
            ))?;
            let runs = stmt
                .query_map([plugin], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
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
        let run = s.job_run_start("p", "walk").unwrap();
        assert_eq!(
            (run.state.as_str(), run.cursor.as_deref()),
            ("running", None)
        );
        s.job_run_step("p", "walk", Some("c1"), 2, Some(5)).unwrap();
        let again = s.job_run_start("p", "walk").unwrap();
        assert_eq!(
            again.cursor.as_deref(),
            Some("c1"),
            "an unfinished run continues"
        );
        assert_eq!((again.done, again.steps, again.total), (2, 1, Some(5)));
        s.job_run_step("p", "walk", None, 3, None).unwrap();
        let done = s.job_run("p", "walk").unwrap().unwrap();
        assert_eq!(
            (done.state.as_str(), done.done, done.total),
            ("finished", 5, Some(5))
        );
        let fresh = s.job_run_start("p", "walk").unwrap();
        assert_eq!((fresh.done, fresh.steps, fresh.cursor), (0, 0, None));
        s.job_run_failed("p", "walk", "boom").unwrap();
        assert_eq!(s.job_runs(Some("p")).unwrap()[0].state, "failed");
        assert_eq!(s.job_runs(None).unwrap().len(), 1);
    }
}
