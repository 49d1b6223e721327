//! A PostgreSQL connection as the store uses it: the client lives on a thread of its own
//! with a single-threaded runtime (its futures must not run inside the host's async tasks),
//! statements arrive in the store's SQLite dialect and are translated once (when first
//! prepared on the connection), savepoint statements wait to travel with the next statement
//! (one round trip instead of two), and values bind and read as the five storage classes —
//! converted to whatever type PostgreSQL inferred for a parameter, so that SQL written for
//! SQLite's loose typing binds unchanged.

use super::dialect;
use super::error::{DbError, DbResult};
use super::pg_value::{Bind, Cell};
use super::value::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use tokio_postgres::types::ToSql;

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// The client and what the thread keeps beside it.
struct Session {
    /// Drives the client and its connection, on this thread only.
    runtime: tokio::runtime::Runtime,
    /// The client (taken only when the session closes).
    client: Option<tokio_postgres::Client>,
    /// The task that drives the connection; it ends when the client is dropped.
    connection: Option<tokio::task::JoinHandle<()>>,
    /// Prepared statements by the text they were asked for (SQLite's dialect).
    prepared: HashMap<String, tokio_postgres::Statement>,
    /// Savepoint statements not sent yet (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`): they go
    /// ahead of the next statement in the same round trip, and their error is its error.
    deferred: String,
    /// What the thread tells after each job.
    state: Arc<State>,
}

/// The connection's state as its thread last saw it, read without a trip to the thread.
#[derive(Default)]
struct State {
    /// A transaction is open (set and cleared by the statements that begin and end one).
    in_transaction: AtomicBool,
    /// The connection to the server is closed, or the thread has stopped.
    closed: AtomicBool,
}

/// One connection to PostgreSQL, served by its own thread.
pub(crate) struct PgConn {
    jobs: mpsc::Sender<Job>,
    state: Arc<State>,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn").finish_non_exhaustive()
    }
}

fn pg_error(e: tokio_postgres::Error) -> DbError {
    match e.as_db_error() {
        Some(db) => DbError::Postgres {
            code: db.code().code().to_string(),
            message: db.message().to_string(),
        },
        None => DbError::Postgres {
            code: String::new(),
            message: e.to_string(),
        },
    }
}

/// The error, naming the statement that failed (its first 300 characters).
fn in_statement(e: DbError, sql: &str) -> DbError {
    match e {
        DbError::Postgres { code, message } => DbError::Postgres {
            code,
            message: format!(
                "{message}, in: {}",
                sql.chars().take(300).collect::<String>()
            ),
        },
        other => other,
    }
}

impl PgConn {
    /// Connects to `url` (`postgres://user:password@host:port/database`).
    pub(crate) fn connect(url: &str) -> DbResult<PgConn> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::channel::<DbResult<()>>();
        let url = url.to_string();
        let state = Arc::new(State::default());
        let shared = state.clone();
        std::thread::Builder::new()
            .name("qingguan-pg".into())
            .spawn(move || {
                let mut session = match Session::open(&url, shared) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                // However the thread ends (a panic in a job included), the connection is closed.
                let _closed = ClosedOnExit(session.state.clone());
                while let Ok(job) = queue.recv() {
                    job(&mut session);
                }
            })
            .map_err(|e| DbError::Postgres {
                code: String::new(),
                message: format!("cannot start a connection thread: {e}"),
            })?;
        connected.recv().map_err(|_| gone())??;
        Ok(PgConn { jobs, state })
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> DbResult<T> + Send + 'static,
    ) -> DbResult<T> {
        let (answer, answered) = mpsc::channel();
        self.jobs
            .send(Box::new(move |s: &mut Session| {
                let out = f(s);
                // Known before the answer: a caller that meets an error asks at once.
                let closed = s.client().is_closed();
                s.state.closed.store(closed, Ordering::Relaxed);
                let _ = answer.send(out);
            }))
            .map_err(|_| gone())?;
        answered.recv().map_err(|_| gone())?
    }

    /// Runs statements separated by `;`, without parameters.
    pub(crate) fn batch(&self, sql: &str) -> DbResult<()> {
        self.batch_native(dialect::to_postgres(sql))
    }

    /// Runs statements written in PostgreSQL's dialect. Savepoint statements inside an open
    /// transaction wait for the next statement (see [`Session::deferred`]).
    pub(crate) fn batch_native(&self, sql: String) -> DbResult<()> {
        self.run(move |s| {
            if s.state.in_transaction.load(Ordering::Relaxed) && only_savepoints(&sql) {
                s.deferred.push_str(&sql);
                s.deferred.push_str(";\n");
                return Ok(());
            }
            let deferred = std::mem::take(&mut s.deferred);
            let text = match only_step(&sql) {
                // Undone whole: what was deferred inside it no longer matters (and a deferred
                // statement that failed must not keep the rollback from running).
                Some(Step::Rollback) => sql.clone(),
                // PostgreSQL answers the COMMIT of a failed transaction by rolling it back,
                // without an error: a statement first that fails in a failed transaction
                // stops the batch there, and the caller hears of it.
                Some(Step::Commit) => format!("{deferred}SELECT 1;\n{sql}"),
                // Deferred savepoint statements go first, in the same round trip.
                _ => format!("{deferred}{sql}"),
            };
            let sent = {
                let client = s.client();
                s.runtime
                    .block_on(client.batch_execute(&text))
                    .map_err(|e| in_statement(pg_error(e), &text))
            };
            if let Err(e) = sent {
                // A batch that began a transaction and then failed (the writer lock timed
                // out, say) must not leave it open and aborted under the next statement.
                let open = s.state.in_transaction.load(Ordering::Relaxed);
                if !open && steps(&sql).next() == Some(Step::Begin) {
                    let client = s.client();
                    let _ = s.runtime.block_on(client.batch_execute("ROLLBACK"));
                }
                return Err(e);
            }
            s.note_transaction(&sql);
            Ok(())
        })
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: Vec<Value>) -> DbResult<usize> {
        let sql = sql.to_string();
        self.run(move |s| {
            let stmt = s.prepare(&sql)?;
            let binds: Vec<Bind> = params.into_iter().map(Bind).collect();
            let n = s.after_deferred(|client| {
                let stmt = stmt.clone();
                async move { client.execute(&stmt, &refs(&binds)).await }
            });
            Ok(n.map_err(|e| in_statement(e, &sql))? as usize)
        })
    }

    /// Runs a query; returns every row it found.
    pub(crate) fn query(&self, sql: &str, params: Vec<Value>) -> DbResult<Vec<Vec<Value>>> {
        let sql = sql.to_string();
        self.run(move |s| {
            let stmt = s.prepare(&sql)?;
            let binds: Vec<Bind> = params.into_iter().map(Bind).collect();
            let rows = s
                .after_deferred(|client| {
                    let stmt = stmt.clone();
                    async move { client.query(&stmt, &refs(&binds)).await }
                })
                .map_err(|e| in_statement(e, &sql))?;
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| {
                            row.try_get::<_, Cell>(i)
                                .map(|c| c.0)
                                .map_err(|e| DbError::Column {
                                    column: i,
                                    why: with_cause(&e),
                                })
                        })
                        .collect()
                })
                .collect()
        })
    }

    /// The id the last insert on this connection drew from a sequence (0 if none).
    pub(crate) fn last_insert_id(&self) -> i64 {
        self.run(|s| {
            s.after_deferred(
                |client| async move { client.query_one("SELECT lastval()", &[]).await },
            )
            .map(|r| r.try_get::<_, i64>(0).unwrap_or(0))
        })
        .unwrap_or(0)
    }

    /// The connection to the server was closed (or its thread has stopped) when last used:
    /// known after the statement that met it, without a trip to the thread.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.closed.load(Ordering::Relaxed)
    }

    /// No transaction is open.
    pub(crate) fn is_autocommit(&self) -> bool {
        !self.state.in_transaction.load(Ordering::Relaxed)
    }
}

/// An error with what caused it (the client's own message names only the column).
fn with_cause(e: &dyn std::error::Error) -> String {
    match e.source() {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// The parameters as the client binds them.
fn refs(binds: &[Bind]) -> Vec<&(dyn ToSql + Sync)> {
    binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect()
}

/// What one statement does to the transaction, by its first words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Begin,
    Commit,
    /// A whole `ROLLBACK` (not `ROLLBACK TO`).
    Rollback,
    /// `SAVEPOINT`, `RELEASE` or `ROLLBACK TO`: nothing the caller reads an answer from.
    Savepoint,
    Other,
}

/// The steps of the statements of `sql` (separated by `;`), in order.
fn steps(sql: &str) -> impl Iterator<Item = Step> + '_ {
    sql.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|stmt| {
            let mut words = stmt.split_whitespace().map(|w| w.to_ascii_uppercase());
            match (words.next().as_deref(), words.next().as_deref()) {
                (Some("BEGIN") | Some("START"), _) => Step::Begin,
                (Some("COMMIT") | Some("END"), _) => Step::Commit,
                (Some("ROLLBACK"), Some("TO")) => Step::Savepoint,
                (Some("ROLLBACK"), _) => Step::Rollback,
                (Some("SAVEPOINT") | Some("RELEASE"), Some(_)) => Step::Savepoint,
                _ => Step::Other,
            }
        })
}

/// The step of `sql` if it is one statement.
fn only_step(sql: &str) -> Option<Step> {
    let mut all = steps(sql);
    match (all.next(), all.next()) {
        (Some(step), None) => Some(step),
        _ => None,
    }
}

/// Marks the connection closed when its thread ends, however it ends.
struct ClosedOnExit(Arc<State>);

impl Drop for ClosedOnExit {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Relaxed);
    }
}

/// Every statement of `sql` is a savepoint statement (and there is one).
fn only_savepoints(sql: &str) -> bool {
    let mut all = steps(sql).peekable();
    all.peek().is_some() && all.all(|s| s == Step::Savepoint)
}

fn gone() -> DbError {
    DbError::Postgres {
        code: String::new(),
        message: "the database connection's thread has stopped".into(),
    }
}

impl Session {
    /// Connects, on the calling thread, and reads times as UTC whatever the server's zone
    /// (stored times are UTC text).
    fn open(url: &str, state: Arc<State>) -> DbResult<Session> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DbError::Postgres {
                code: String::new(),
                message: format!("cannot start a connection runtime: {e}"),
            })?;
        let (client, connection) = runtime
            .block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
                // Driven whenever the thread waits for an answer; ends with the connection.
                let task = tokio::spawn(async move {
                    let _ = connection.await;
                });
                // Every statement is planned for the values it is run with. After five runs
                // PostgreSQL may keep a generic plan made without them; for the store's
                // value-dependent queries (full-text words, few- or many-valued filters) that
                // plan can read every match: 9 ms → 543 ms for a capped count of one word.
                client
                    .batch_execute("SET TIME ZONE 'UTC'; SET plan_cache_mode = force_custom_plan")
                    .await?;
                Ok((client, task))
            })
            .map_err(pg_error)?;
        Ok(Session {
            runtime,
            client: Some(client),
            connection: Some(connection),
            prepared: HashMap::new(),
            deferred: String::new(),
            state,
        })
    }

    /// The client.
    fn client(&self) -> &tokio_postgres::Client {
        self.client
            .as_ref()
            .expect("the client lives as long as its session")
    }

    /// Runs what `work` makes of the client after the deferred savepoint statements, sent
    /// together: the second request leaves before the first is answered.
    fn after_deferred<'a, T, F>(
        &'a mut self,
        work: impl FnOnce(&'a tokio_postgres::Client) -> F,
    ) -> DbResult<T>
    where
        F: Future<Output = Result<T, tokio_postgres::Error>> + 'a,
    {
        let deferred = std::mem::take(&mut self.deferred);
        let client = self
            .client
            .as_ref()
            .expect("the client lives as long as its session");
        let work = work(client);
        self.runtime.block_on(async {
            if deferred.is_empty() {
                return work.await.map_err(pg_error);
            }
            let (before, after) = tokio::join!(client.batch_execute(&deferred), work);
            before.map_err(|e| in_statement(pg_error(e), &deferred))?;
            after.map_err(pg_error)
        })
    }

    /// The statement for `sql` (SQLite's dialect), translated and prepared the first time.
    fn prepare(&mut self, sql: &str) -> DbResult<tokio_postgres::Statement> {
        if let Some(stmt) = self.prepared.get(sql) {
            return Ok(stmt.clone());
        }
        let translated = dialect::to_postgres(sql);
        let stmt = self
            .after_deferred(|client| {
                let translated = translated.clone();
                async move { client.prepare(&translated).await }
            })
            .map_err(|e| in_statement(e, &translated))?;
        if self.prepared.len() >= 512 {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Follows the transaction state through a batch's statements.
    fn note_transaction(&mut self, sql: &str) {
        for step in steps(sql) {
            let open = match step {
                Step::Begin => true,
                Step::Commit | Step::Rollback => false,
                Step::Savepoint | Step::Other => continue,
            };
            self.state.in_transaction.store(open, Ordering::Relaxed);
        }
    }
}

impl Drop for Session {
    /// Closes the connection the way PostgreSQL expects (a goodbye, not a dropped socket): the
    /// client's last message goes out while the runtime still drives the connection.
    fn drop(&mut self) {
        drop(self.client.take());
        if let Some(task) = self.connection.take() {
            // The timer is made inside the runtime (it needs its clock).
            let _ = self.runtime.block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(1), task).await
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::only_savepoints;

    #[test]
    fn only_savepoint_statements_wait_for_the_next_one() {
        assert!(only_savepoints("SAVEPOINT qg_write"));
        assert!(only_savepoints("RELEASE qg_call_1"));
        assert!(only_savepoints("ROLLBACK TO qg_write; RELEASE qg_write"));
        assert!(!only_savepoints("ROLLBACK"));
        assert!(!only_savepoints("COMMIT"));
        assert!(!only_savepoints("SAVEPOINT a; COMMIT"));
        assert!(!only_savepoints("BEGIN; SAVEPOINT a"));
        assert!(!only_savepoints(""));
        assert!(!only_savepoints("SAVEPOINT"));
    }

    #[test]
    fn commits_and_rollbacks_are_told_apart_from_savepoint_statements() {
        use super::{only_step, Step};
        assert_eq!(only_step("COMMIT"), Some(Step::Commit));
        assert_eq!(only_step(" commit; "), Some(Step::Commit));
        assert_eq!(only_step("ROLLBACK"), Some(Step::Rollback));
        assert_eq!(only_step("ROLLBACK TO qg_write"), Some(Step::Savepoint));
        assert_eq!(only_step("BEGIN"), Some(Step::Begin));
        assert_eq!(only_step("COMMIT; BEGIN"), None);
    }

    /// On the server named by `QG_TEST_POSTGRES` (skipped without it).
    #[test]
    fn statements_are_planned_for_their_values_every_time() {
        let Ok(url) = std::env::var("QG_TEST_POSTGRES") else {
            return;
        };
        let c = super::PgConn::connect(&url).unwrap();
        let mode = c.query("SHOW plan_cache_mode", vec![]).unwrap()[0][0].clone();
        assert_eq!(mode, super::Value::Text("force_custom_plan".into()));
    }

    /// On the server named by `QG_TEST_POSTGRES` (skipped without it).
    #[test]
    fn held_back_savepoints_keep_their_order_and_a_failed_transaction_does_not_commit() {
        use super::{PgConn, Value};
        let Ok(url) = std::env::var("QG_TEST_POSTGRES") else {
            return;
        };
        let c = PgConn::connect(&url).unwrap();
        let count = |c: &PgConn| c.query("SELECT COUNT(*) FROM t", vec![]).unwrap()[0][0].clone();
        c.batch("CREATE TEMP TABLE t (n INTEGER)").unwrap();
        c.batch("BEGIN").unwrap();
        c.batch("SAVEPOINT a").unwrap();
        c.execute("INSERT INTO t VALUES (?1)", vec![Value::Integer(1)])
            .unwrap();
        c.batch("ROLLBACK TO a; RELEASE a").unwrap();
        c.batch("SAVEPOINT b").unwrap();
        c.execute("INSERT INTO t VALUES (?1)", vec![Value::Integer(2)])
            .unwrap();
        c.batch("RELEASE b").unwrap();
        c.batch("COMMIT").unwrap();
        assert_eq!(count(&c), Value::Integer(1));

        // A failure the caller let pass: the COMMIT says so, and nothing is kept.
        c.batch("BEGIN").unwrap();
        c.execute("INSERT INTO t VALUES (?1)", vec![Value::Integer(3)])
            .unwrap();
        assert!(c.query("SELECT 1 / 0", vec![]).is_err());
        assert!(c.batch("COMMIT").is_err());
        c.batch("ROLLBACK").unwrap();
        assert_eq!(count(&c), Value::Integer(1));

        // A held-back statement that fails: the next statement carries its error, and the
        // rollback still runs.
        c.batch("BEGIN").unwrap();
        c.batch("RELEASE nowhere").unwrap();
        let e = c.query("SELECT 1", vec![]).unwrap_err();
        assert!(e.to_string().contains("nowhere"), "{e}");
        c.batch("ROLLBACK").unwrap();
        assert_eq!(count(&c), Value::Integer(1));
        assert!(c.is_autocommit());
    }
}
