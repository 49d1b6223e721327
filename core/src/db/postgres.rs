//! A PostgreSQL connection as the store uses it: the client lives on a thread of its own
//! (the `postgres` client blocks on a runtime of its own, which must not run inside the host's
//! async tasks), statements arrive in the store's SQLite dialect and are translated once, and
//! values bind and read as the five storage classes — converted to whatever type PostgreSQL
//! inferred for a parameter, so that SQL written for SQLite's loose typing binds unchanged.

use super::dialect;
use super::error::{DbError, DbResult};
use super::value::Value;
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use std::collections::HashMap;
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// The client and what the thread keeps beside it.
struct Session {
    client: postgres::Client,
    /// Prepared statements by their translated text.
    prepared: HashMap<String, postgres::Statement>,
    /// A transaction is open (set and cleared by the statements that begin and end one).
    in_transaction: bool,
}

/// One connection to PostgreSQL, served by its own thread.
pub(crate) struct PgConn {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn").finish_non_exhaustive()
    }
}

fn pg_error(e: postgres::Error) -> DbError {
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
        std::thread::Builder::new()
            .name("qingguan-pg".into())
            .spawn(move || {
                let connected =
                    postgres::Client::connect(&url, postgres::NoTls).and_then(|mut c| {
                        // Stored times are UTC text; read them as such whatever the server's zone.
                        c.batch_execute("SET TIME ZONE 'UTC'")?;
                        Ok(c)
                    });
                let client = match connected {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready.send(Err(pg_error(e)));
                        return;
                    }
                };
                let mut session = Session {
                    client,
                    prepared: HashMap::new(),
                    in_transaction: false,
                };
                let _ = ready.send(Ok(()));
                while let Ok(job) = queue.recv() {
                    job(&mut session);
                }
            })
            .map_err(|e| DbError::Postgres {
                code: String::new(),
                message: format!("cannot start a connection thread: {e}"),
            })?;
        connected.recv().map_err(|_| gone())??;
        Ok(PgConn { jobs })
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> DbResult<T> + Send + 'static,
    ) -> DbResult<T> {
        let (answer, answered) = mpsc::channel();
        self.jobs
            .send(Box::new(move |s: &mut Session| {
                let _ = answer.send(f(s));
            }))
            .map_err(|_| gone())?;
        answered.recv().map_err(|_| gone())?
    }

    /// Runs statements separated by `;`, without parameters.
    pub(crate) fn batch(&self, sql: &str) -> DbResult<()> {
        self.batch_native(dialect::to_postgres(sql))
    }

    /// Runs statements written in PostgreSQL's dialect.
    pub(crate) fn batch_native(&self, sql: String) -> DbResult<()> {
        self.run(move |s| {
            if let Err(e) = s.client.batch_execute(&sql) {
                // A batch that began a transaction and then failed (the writer lock timed
                // out, say) must not leave it open and aborted under the next statement.
                if !s.in_transaction && sql.trim_start().to_ascii_uppercase().starts_with("BEGIN") {
                    let _ = s.client.batch_execute("ROLLBACK");
                }
                return Err(in_statement(pg_error(e), &sql));
            }
            s.note_transaction(&sql);
            Ok(())
        })
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: Vec<Value>) -> DbResult<usize> {
        let sql = dialect::to_postgres(sql);
        self.run(move |s| {
            let stmt = s.prepare(&sql)?;
            let n = bound(params, |refs| s.client.execute(&stmt, refs))
                .map_err(|e| in_statement(pg_error(e), &sql))?;
            Ok(n as usize)
        })
    }

    /// Runs a query; returns every row it found.
    pub(crate) fn query(&self, sql: &str, params: Vec<Value>) -> DbResult<Vec<Vec<Value>>> {
        let sql = dialect::to_postgres(sql);
        self.run(move |s| {
            let stmt = s.prepare(&sql)?;
            let rows = bound(params, |refs| s.client.query(&stmt, refs))
                .map_err(|e| in_statement(pg_error(e), &sql))?;
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| {
                            row.try_get::<_, Cell>(i)
                                .map(|c| c.0)
                                .map_err(|e| DbError::Column {
                                    column: i,
                                    why: e.to_string(),
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
            Ok(s.client
                .query_one("SELECT lastval()", &[])
                .ok()
                .and_then(|r| r.try_get::<_, i64>(0).ok())
                .unwrap_or(0))
        })
        .unwrap_or(0)
    }

    /// The connection to the server is closed (or its thread has stopped).
    pub(crate) fn is_closed(&self) -> bool {
        self.run(|s| Ok(s.client.is_closed())).unwrap_or(true)
    }

    /// No transaction is open.
    pub(crate) fn is_autocommit(&self) -> bool {
        self.run(|s| Ok(!s.in_transaction)).unwrap_or(true)
    }
}

/// Calls `f` with the parameters as the client binds them.
fn bound<T>(params: Vec<Value>, f: impl FnOnce(&[&(dyn ToSql + Sync)]) -> T) -> T {
    let binds: Vec<Bind> = params.into_iter().map(Bind).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
    f(&refs)
}

fn gone() -> DbError {
    DbError::Postgres {
        code: String::new(),
        message: "the database connection's thread has stopped".into(),
    }
}

impl Session {
    fn prepare(&mut self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(stmt) = self.prepared.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self
            .client
            .prepare(sql)
            .map_err(|e| in_statement(pg_error(e), sql))?;
        if self.prepared.len() >= 512 {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Follows the transaction state through a batch's statements.
    fn note_transaction(&mut self, sql: &str) {
        for stmt in sql.split(';') {
            let words: Vec<String> = stmt
                .split_whitespace()
                .take(2)
                .map(|w| w.to_ascii_uppercase())
                .collect();
            match words.first().map(String::as_str) {
                Some("BEGIN") | Some("START") => self.in_transaction = true,
                Some("COMMIT") | Some("END") => self.in_transaction = false,
                Some("ROLLBACK") if words.get(1).map(String::as_str) != Some("TO") => {
                    self.in_transaction = false
                }
                _ => {}
            }
        }
    }
}

/// A parameter, converted to the type PostgreSQL inferred for it.
#[derive(Debug)]
struct Bind(Value);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Bind {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let v = &self.0;
        if matches!(v, Value::Null) {
            return Ok(IsNull::Yes);
        }
        let text = || -> String {
            match v {
                Value::Integer(i) => i.to_string(),
                Value::Real(r) => r.to_string(),
                Value::Text(s) => s.clone(),
                Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
                Value::Null => String::new(),
            }
        };
        let integer = || -> Result<i64, BoxError> {
            match v {
                Value::Integer(i) => Ok(*i),
                Value::Real(r) if r.fract() == 0.0 => Ok(*r as i64),
                Value::Text(s) => Ok(s.trim().parse()?),
                _ => Err(format!("{v:?} is not an integer").into()),
            }
        };
        match *ty {
            Type::INT8 => integer()?.to_sql(ty, out),
            Type::INT4 => i32::try_from(integer()?)?.to_sql(ty, out),
            Type::INT2 => i16::try_from(integer()?)?.to_sql(ty, out),
            Type::BOOL => (integer()? != 0).to_sql(ty, out),
            Type::FLOAT8 | Type::FLOAT4 => {
                let f = match v {
                    Value::Integer(i) => *i as f64,
                    Value::Real(r) => *r,
                    _ => text().trim().parse()?,
                };
                if *ty == Type::FLOAT8 {
                    f.to_sql(ty, out)
                } else {
                    (f as f32).to_sql(ty, out)
                }
            }
            Type::NUMERIC => {
                super::numeric::encode(&text(), out)?;
                Ok(IsNull::No)
            }
            Type::BYTEA => match v {
                Value::Blob(b) => b.as_slice().to_sql(ty, out),
                _ => text().as_bytes().to_sql(ty, out),
            },
            Type::JSONB => {
                out.extend_from_slice(&[1]);
                out.extend_from_slice(text().as_bytes());
                Ok(IsNull::No)
            }
            _ => {
                // PostgreSQL keeps no NUL in text. None should reach here (values and
                // filters refuse them); one that does becomes a character no stored text
                // holds, rather than an error.
                out.extend_from_slice(text().replace('\0', "\u{FFFF}").as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column read as one of the five storage classes.
struct Cell(Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Cell(match *ty {
            Type::INT8 => Value::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Integer(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Integer(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Integer(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Integer(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => super::numeric::decode(raw)?,
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::JSONB => Value::Text(String::from_utf8(raw.get(1..).unwrap_or(&[]).to_vec())?),
            _ => Value::Text(String::from_utf8(raw.to_vec())?),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
