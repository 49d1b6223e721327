//! A database connection and its statements, rows and transactions: the one surface the
//! store's SQL goes through, whichever database serves it — SQLite (rusqlite) or PostgreSQL
//! (see `postgres.rs`). No rusqlite or postgres type leaves this module.

use super::error::{DbError, DbResult};
use super::postgres::PgConn;
use super::value::{FromSql, Params, Value, ValueRef};
use rusqlite::types::{ToSqlOutput, ValueRef as SqliteRef};

/// `Ok(None)` where a query found no row.
pub(crate) trait OptionalExtension<T> {
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> OptionalExtension<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One open database connection.
pub(crate) struct Conn {
    backend: Backend,
    /// Where the open transaction's new full-text entries went (`search_waiting.rs`).
    search_waiting: std::cell::Cell<super::search_waiting::Pending>,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(PgConn),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

impl Conn {
    pub(super) fn sqlite(sqlite: rusqlite::Connection) -> Conn {
        Conn {
            backend: Backend::Sqlite(sqlite),
            search_waiting: Default::default(),
        }
    }

    pub(super) fn postgres(pg: PgConn) -> Conn {
        Conn {
            backend: Backend::Postgres(pg),
            search_waiting: Default::default(),
        }
    }

    /// The SQLite database file as SQLite named it when it opened it (its full path, symbolic
    /// links followed); `None` on PostgreSQL or for a database in memory.
    pub(crate) fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match &self.backend {
            Backend::Sqlite(c) => c.path().filter(|p| !p.is_empty()).map(Into::into),
            Backend::Postgres(_) => None,
        }
    }

    /// The connection is to PostgreSQL (where the few statements SQLite alone knows differ).
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute<P: Params>(&self, sql: &str, params: P) -> DbResult<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Runs statements separated by `;`, without parameters.
    pub(crate) fn execute_batch(&self, sql: &str) -> DbResult<()> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Backend::Postgres(c) => c.batch(sql),
        }
    }

    /// Runs one statement without parameters that a write runs every time (`BEGIN IMMEDIATE`,
    /// `COMMIT`, a savepoint and its release): on SQLite its prepared form is kept in the
    /// connection's cache rather than parsed again on each call.
    pub(crate) fn execute_kept(&self, sql: &str) -> DbResult<()> {
        match &self.backend {
            Backend::Sqlite(c) => {
                c.prepare_cached(sql)?.execute([])?;
                Ok(())
            }
            Backend::Postgres(c) => c.batch(sql),
        }
    }

    /// Runs statements as they are written, in the database's own dialect.
    pub(crate) fn execute_batch_native(&self, sql: &str) -> DbResult<()> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Backend::Postgres(c) => c.batch_native(sql.to_string()),
        }
    }

    fn pg_statement<'c>(c: &'c PgConn, sql: &str) -> Statement<'c> {
        Statement {
            inner: Prepared::Postgres {
                conn: c,
                sql: sql.to_string(),
                params: Vec::new(),
                rows: Vec::new(),
            },
        }
    }

    /// Prepares a statement.
    pub(crate) fn prepare(&self, sql: &str) -> DbResult<Statement<'_>> {
        Ok(match &self.backend {
            Backend::Sqlite(c) => Statement {
                inner: Prepared::Plain(c.prepare(sql)?),
            },
            Backend::Postgres(c) => Self::pg_statement(c, sql),
        })
    }

    /// Prepares a statement, or takes it from the connection's cache of recent ones.
    pub(crate) fn prepare_cached(&self, sql: &str) -> DbResult<Statement<'_>> {
        Ok(match &self.backend {
            Backend::Sqlite(c) => Statement {
                inner: Prepared::Cached(c.prepare_cached(sql)?),
            },
            Backend::Postgres(c) => Self::pg_statement(c, sql),
        })
    }

    /// The first row of a query, read by `f`; [`DbError::NoRows`] without one.
    pub(crate) fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> DbResult<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> DbResult<T>,
    {
        self.prepare(sql)?.query_row(params, f)
    }

    /// The id of the row the last insert made on this connection.
    pub(crate) fn last_insert_rowid(&self) -> i64 {
        match &self.backend {
            Backend::Sqlite(c) => c.last_insert_rowid(),
            Backend::Postgres(c) => c.last_insert_id(),
        }
    }

    /// The connection is gone (PostgreSQL restarted, or a network dropped it): it must be
    /// replaced, not used again. A SQLite connection never is.
    pub(crate) fn is_broken(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(_) => false,
            Backend::Postgres(c) => c.is_closed(),
        }
    }

    /// No transaction is open (the database may have ended one itself, after an error).
    pub(crate) fn is_autocommit(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(c) => c.is_autocommit(),
            Backend::Postgres(c) => c.is_autocommit(),
        }
    }

    /// Has each commit (SQLite's) report the write-ahead log's size in pages to `report`,
    /// which answers whether this connection is to checkpoint the log then (passively; its
    /// failure is ignored, as SQLite's own automatic checkpoint's is: the commit has happened).
    /// Replaces SQLite's automatic checkpoints on this connection. Nothing on PostgreSQL.
    pub(super) fn on_commit_log(&mut self, report: impl Fn(i32) -> bool + Send + 'static) {
        if let Backend::Sqlite(c) = &mut self.backend {
            let hooked = c.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages| {
                if report(pages) {
                    let _ = wal.checkpoint();
                }
                Ok(())
            }));
            if let Err(e) = hooked {
                tracing::warn!(error = %e, "the log's size is not reported: SQLite checkpoints");
            }
        }
    }

    /// Copies what it can of SQLite's write-ahead log into the database file, waiting for no
    /// one (a passive checkpoint); returns the log's frames, and how many of them the database
    /// file now holds. Nothing on PostgreSQL.
    pub(super) fn checkpoint_passive(&self) -> DbResult<(i32, i32)> {
        match &self.backend {
            Backend::Sqlite(c) => {
                Ok(c.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE)?)
            }
            Backend::Postgres(_) => Ok((0, 0)),
        }
    }

    /// Where the open transaction's new full-text entries went (`search_waiting.rs`): reset
    /// by a commit.
    pub(super) fn search_pending(&self) -> &std::cell::Cell<super::search_waiting::Pending> {
        &self.search_waiting
    }

    /// Commits the open transaction, writing the full-text entries that wait for it first. If
    /// those fail, nothing is committed and the transaction is still open (the caller rolls
    /// back).
    pub(crate) fn commit(&self) -> DbResult<()> {
        super::search_waiting::write_waiting(self, true)?;
        self.execute_kept("COMMIT")
    }

    /// Begins a transaction that takes the write lock at its first write.
    pub(crate) fn transaction(&mut self) -> DbResult<Tx<'_>> {
        self.execute_batch("BEGIN")?;
        Ok(Tx {
            conn: self,
            open: true,
        })
    }

    /// Begins a transaction holding the write lock from the start.
    pub(crate) fn immediate_transaction(&mut self) -> DbResult<Tx<'_>> {
        self.execute_kept("BEGIN IMMEDIATE")?;
        Ok(Tx {
            conn: self,
            open: true,
        })
    }
}

/// An open transaction; rolled back when dropped without [`Tx::commit`].
#[derive(Debug)]
pub(crate) struct Tx<'c> {
    conn: &'c Conn,
    open: bool,
}

impl Tx<'_> {
    /// Commits the transaction.
    pub(crate) fn commit(mut self) -> DbResult<()> {
        // Left open if the waiting full-text entries or the commit fail: dropped, it rolls back.
        let end = self.conn.commit();
        self.open = end.is_err();
        end
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

enum Prepared<'c> {
    Plain(rusqlite::Statement<'c>),
    Cached(rusqlite::CachedStatement<'c>),
    /// PostgreSQL statements are prepared (and kept) by the connection's thread; the rows of
    /// a query are read whole.
    Postgres {
        conn: &'c PgConn,
        sql: String,
        params: Vec<Value>,
        rows: Vec<Vec<Value>>,
    },
}

/// A prepared statement.
pub(crate) struct Statement<'c> {
    inner: Prepared<'c>,
}

impl std::fmt::Debug for Statement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement").finish_non_exhaustive()
    }
}

/// A parameter as rusqlite binds it.
struct Bind<'a>(ValueRef<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => SqliteRef::Null,
            ValueRef::Integer(i) => SqliteRef::Integer(i),
            ValueRef::Real(r) => SqliteRef::Real(r),
            ValueRef::Text(t) => SqliteRef::Text(t),
            ValueRef::Blob(b) => SqliteRef::Blob(b),
        }))
    }
}

impl<'c> Statement<'c> {
    /// Binds every parameter; their number must be the statement's.
    fn bind<P: Params>(&mut self, params: P) -> DbResult<()> {
        let stmt = match &mut self.inner {
            Prepared::Plain(s) => s,
            Prepared::Cached(s) => &mut **s,
            Prepared::Postgres { params: bound, .. } => {
                bound.clear();
                return params.each(&mut |v| {
                    bound.push(v.to_owned());
                    Ok(())
                });
            }
        };
        let expected = stmt.parameter_count();
        let mut given = 0;
        params.each(&mut |v| {
            given += 1;
            if given <= expected {
                stmt.raw_bind_parameter(given, Bind(v))?;
            }
            Ok(())
        })?;
        if given != expected {
            return Err(DbError::Parameters { expected, given });
        }
        Ok(())
    }

    /// Runs the statement; returns the rows it changed.
    pub(crate) fn execute<P: Params>(&mut self, params: P) -> DbResult<usize> {
        self.bind(params)?;
        match &mut self.inner {
            Prepared::Plain(s) => Ok(s.raw_execute()?),
            Prepared::Cached(s) => Ok(s.raw_execute()?),
            Prepared::Postgres {
                conn, sql, params, ..
            } => conn.execute(sql, std::mem::take(params)),
        }
    }

    /// Runs the query; its rows are read one at a time.
    pub(crate) fn query<P: Params>(&mut self, params: P) -> DbResult<Rows<'_>> {
        self.bind(params)?;
        Ok(Rows {
            inner: match &mut self.inner {
                Prepared::Plain(s) => Found::Sqlite(s.raw_query()),
                Prepared::Cached(s) => Found::Sqlite(s.raw_query()),
                Prepared::Postgres {
                    conn,
                    sql,
                    params,
                    rows,
                } => {
                    *rows = conn.query(sql, std::mem::take(params))?;
                    Found::Read { rows, next: 0 }
                }
            },
        })
    }

    /// Runs the query; each row is read by `f`.
    pub(crate) fn query_map<T, P, F>(&mut self, params: P, f: F) -> DbResult<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> DbResult<T>,
    {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }

    /// The first row, read by `f`; [`DbError::NoRows`] without one.
    pub(crate) fn query_row<T, P, F>(&mut self, params: P, f: F) -> DbResult<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> DbResult<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => f(&row),
            None => Err(DbError::NoRows),
        }
    }

    /// The query finds at least one row.
    pub(crate) fn exists<P: Params>(&mut self, params: P) -> DbResult<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }
}

/// The rows of a running query.
pub(crate) struct Rows<'s> {
    inner: Found<'s>,
}

enum Found<'s> {
    Sqlite(rusqlite::Rows<'s>),
    /// Rows read whole, and where the next one is.
    Read {
        rows: &'s [Vec<Value>],
        next: usize,
    },
}

impl Rows<'_> {
    /// The next row, if any.
    pub(crate) fn next(&mut self) -> DbResult<Option<Row<'_>>> {
        match &mut self.inner {
            Found::Sqlite(rows) => Ok(rows.next()?.map(|r| Row {
                inner: Cells::Sqlite(r),
            })),
            Found::Read { rows, next } => {
                let row = rows.get(*next);
                *next += 1;
                Ok(row.map(|r| Row {
                    inner: Cells::Read(r),
                }))
            }
        }
    }
}

/// The rows of a running query, each read by a function.
pub(crate) struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> DbResult<T>,
{
    type Item = DbResult<T>;

    fn next(&mut self) -> Option<DbResult<T>> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.f)(&row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A column's position in a row (from 0).
pub(crate) trait ColumnIndex {
    fn position(&self) -> usize;
}

impl ColumnIndex for usize {
    fn position(&self) -> usize {
        *self
    }
}

/// One row of a query.
pub(crate) struct Row<'r> {
    inner: Cells<'r>,
}

enum Cells<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Read(&'r [Value]),
}

impl Row<'_> {
    /// A column's value, converted.
    pub(crate) fn get<I: ColumnIndex, T: FromSql>(&self, index: I) -> DbResult<T> {
        let column = index.position();
        T::from_sql(self.get_ref(column)?).map_err(|why| DbError::Column { column, why })
    }

    /// A column's value as stored.
    pub(crate) fn get_ref<I: ColumnIndex>(&self, index: I) -> DbResult<ValueRef<'_>> {
        let column = index.position();
        let row = match &self.inner {
            Cells::Sqlite(row) => row,
            Cells::Read(cells) => {
                return cells
                    .get(column)
                    .map(ValueRef::from)
                    .ok_or_else(|| DbError::Column {
                        column,
                        why: "no such column".into(),
                    })
            }
        };
        Ok(match row.get_ref(column)? {
            SqliteRef::Null => ValueRef::Null,
            SqliteRef::Integer(i) => ValueRef::Integer(i),
            SqliteRef::Real(r) => ValueRef::Real(r),
            SqliteRef::Text(t) => ValueRef::Text(t),
            SqliteRef::Blob(b) => ValueRef::Blob(b),
        })
    }
}
