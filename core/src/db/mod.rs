//! Database plumbing: connections, statements and values ([`Conn`], [`Value`]), opening them,
//! migrations, table DDL and value mapping. Nothing here is public outside the crate;
//! rusqlite types stop at this module's edge.

pub(crate) mod checkpoints;
mod conn;
pub(crate) mod ddl;
mod dialect;
mod error;
pub(crate) mod field_indexes;
pub(crate) mod migrations;
mod numeric;
mod pg_value;
mod postgres;
pub(crate) mod recent_writes;
pub(crate) mod record_writes;
pub(crate) mod search_waiting;
pub(crate) mod sql;
mod value;

pub(crate) use conn::{Conn, OptionalExtension, Row};
pub(crate) use error::{DbError, DbResult};
pub(crate) use value::{params, params_from_iter, ToSql, Value, ValueRef};

use crate::Result;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Opens a connection with the pragmas every connection needs.
pub(crate) fn open(path: &Path, cache_kib: i64) -> Result<Conn> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{cache_kib};"
    ))?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(Conn::sqlite(conn))
}

/// The PostgreSQL advisory lock of the hosts serving a database. Hosts of one version hold it
/// shared, side by side; a host that migrates the schema holds it alone while it does (so it
/// waits for no one, and no host of the older version serves on meanwhile). Hosts from before
/// several hosts were supported took it alone, so a newer host is refused beside them and
/// they beside it.
const SERVING_LOCK: i64 = 0x7167_7376; // "qgsv"

/// How the serving lock was taken: shared, or alone to migrate first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServingClaim {
    Shared,
    Alone,
}

/// Takes the serving lock for `conn`'s session (PostgreSQL): shared if the schema is current,
/// alone if it needs migrating. Waits up to ten seconds for a host that migrates; `None` if
/// hosts of another version serve the database.
pub(crate) fn claim_serving(conn: &Conn) -> Result<Option<ServingClaim>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if !migrations::pending(conn)? {
            if serve_again(conn)? {
                return Ok(Some(ServingClaim::Shared));
            }
        } else if conn.query_row("SELECT pg_try_advisory_lock(?1)", [SERVING_LOCK], |r| {
            r.get::<_, bool>(0)
        })? {
            return Ok(Some(ServingClaim::Alone));
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// For a command that opens the database without serving it (the CLI): if the schema needs
/// migrating, the serving lock taken alone first, as a migrating host takes it (waiting up to
/// ten seconds), so that no host of the older version serves on meanwhile. `Some(true)`: taken
/// (let go after the migrations, [`migrated_alone`]); `Some(false)`: nothing to migrate;
/// `None`: hosts of another version serve the database.
pub(crate) fn claim_to_migrate(conn: &Conn) -> Result<Option<bool>> {
    if !conn.is_postgres() || !migrations::pending(conn)? {
        return Ok(Some(false));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if conn.query_row("SELECT pg_try_advisory_lock(?1)", [SERVING_LOCK], |r| {
            r.get::<_, bool>(0)
        })? {
            return Ok(Some(true));
        }
        if !migrations::pending(conn)? {
            return Ok(Some(false)); // a host migrated meanwhile
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Lets go of the serving lock a command took alone to migrate.
pub(crate) fn migrated_alone(conn: &Conn) -> Result<()> {
    conn.execute_batch(&format!("SELECT pg_advisory_unlock({SERVING_LOCK});"))?;
    Ok(())
}

/// After the migrations: a host that took the serving lock alone shares it from now on.
pub(crate) fn serve_beside_others(conn: &Conn, claim: ServingClaim) -> Result<()> {
    if claim == ServingClaim::Alone {
        // A session may take a lock it holds in another mode: shared first, then let go of
        // the lone hold, so the lock is never free in between.
        conn.execute_batch(&format!(
            "SELECT pg_advisory_lock_shared({SERVING_LOCK}); SELECT pg_advisory_unlock({SERVING_LOCK});"
        ))?;
    }
    Ok(())
}

/// Takes the serving lock shared (a new connection of a serving host); whether it was free of
/// a lone holder.
pub(crate) fn serve_again(conn: &Conn) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT pg_try_advisory_lock_shared(?1)",
        [SERVING_LOCK],
        |r| r.get(0),
    )?)
}

/// Connects to a PostgreSQL database (`postgres://user:password@host:port/database`).
pub(crate) fn open_postgres(url: &str) -> Result<Conn> {
    Ok(Conn::postgres(postgres::PgConn::connect(url)?))
}

/// Opens a database file as it is, without the store's pragmas (backup files).
pub(crate) fn open_plain(path: &Path) -> Result<Conn> {
    Ok(Conn::sqlite(Connection::open(path)?))
}

/// Opens a database file for reading only (checking a backup).
pub(crate) fn open_read_only(path: &Path) -> Result<Conn> {
    Ok(Conn::sqlite(Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?))
}

/// Current UTC time in the stored format (fixed width, so text order is time order).
pub(crate) fn now_text() -> String {
    time_text(chrono::Utc::now())
}

/// A UTC instant in the stored format (`%Y-%m-%dT%H:%M:%S%.3fZ`, written without parsing a
/// format).
pub(crate) fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::time_text::instant_text(t, true)
}

/// `chrono`'s duration of a std one (saturating), for instants in the stored format.
pub(crate) fn span(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Parses the stored time format.
pub(crate) fn parse_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    crate::time_text::parse_instant(s).unwrap_or_default()
}

/// Backs up the database behind `conn` to a new file, online and consistent. The file is
/// created first, empty and readable by its owner only (`VACUUM INTO` fills an empty file),
/// so that a copy of the database is as private as the database; it must not exist yet.
pub(crate) fn backup_to(conn: &Conn, target: &Path) -> Result<()> {
    let name = target
        .to_str()
        .ok_or_else(|| crate::Error::field("file", crate::Reason::PathNotUtf8))?;
    create_private(target).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            crate::Error::conflict(format!("{} already exists", target.display()))
        }
        _ => crate::Error::Database(format!("cannot create {}: {e}", target.display())),
    })?;
    if let Err(e) = conn.execute("VACUUM INTO ?1", [name]) {
        let _ = std::fs::remove_file(target);
        return Err(e.into());
    }
    Ok(())
}

/// Copies `from` to a new file `to` that only its owner may read and write.
pub(crate) fn copy_private(from: &Path, to: &Path) -> Result<()> {
    let mut source = std::fs::File::open(from)
        .map_err(|e| crate::Error::conflict(format!("cannot read {}: {e}", from.display())))?;
    let mut target = create_private(to)
        .map_err(|e| crate::Error::Database(format!("cannot create {}: {e}", to.display())))?;
    std::io::copy(&mut source, &mut target)
        .map_err(|e| crate::Error::Database(format!("cannot write {}: {e}", to.display())))?;
    Ok(())
}

/// Creates a new, empty file only its owner may read and write (0600 on Unix).
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Narrows a file's or directory's permissions to `mode` (on Unix; elsewhere a no-op) if it
/// grants anything to its group or others. Failures are logged, not fatal: a directory the
/// process does not own still serves.
fn narrow(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.permissions().mode() & 0o077 == 0 {
            return;
        }
        let narrowed = std::fs::Permissions::from_mode(meta.permissions().mode() & mode);
        if let Err(e) = std::fs::set_permissions(path, narrowed) {
            tracing::warn!(path = %path.display(), error = %e, "cannot make private");
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Keeps an install's files private before the database is opened: the directory holding
/// the database (the data directory) is created if missing and made 0700, the database file
/// is created 0600 (SQLite gives its WAL and shared-memory files the database file's mode),
/// and files an older version left readable to others are narrowed. On Unix; elsewhere only
/// the directory is created.
pub(crate) fn prepare_files(path: &Path) -> Result<()> {
    let io = |what: &Path, e: std::io::Error| {
        crate::Error::Database(format!("cannot create {}: {e}", what.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| io(dir, e))?;
        narrow(dir, 0o700);
    }
    match create_private(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(path, e)),
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        narrow(Path::new(&name), 0o600);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Dates and times keep the stored and API forms they had when a format string wrote
    /// them, years past 9999 included.
    #[test]
    fn dates_and_times_are_written_as_before() {
        use chrono::{NaiveDate, TimeZone, Utc};
        for (y, m, d) in [(2026, 1, 5), (5, 12, 31), (10_000, 2, 29)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let old = date.format("%Y-%m-%d").to_string();
            assert_eq!(crate::Value::Date(date).to_json(), serde_json::json!(old));
            assert_eq!(
                serde_json::to_value(crate::Value::Date(date)).unwrap(),
                serde_json::json!(old)
            );
        }
        let t = Utc.with_ymd_and_hms(2026, 12, 3, 7, 5, 9).unwrap()
            + chrono::Duration::milliseconds(42);
        assert_eq!(
            super::time_text(t),
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        );
        assert_eq!(super::time_text(t), "2026-12-03T07:05:09.042Z");
        let whole = Utc.with_ymd_and_hms(2026, 12, 3, 7, 5, 9).unwrap();
        assert_eq!(super::time_text(whole), "2026-12-03T07:05:09.000Z");
    }
}
