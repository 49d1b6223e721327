//! SQLite plumbing: opening connections, migrations, table DDL and value mapping. Nothing
//! here is public outside the crate; rusqlite types stop at this module's edge.

pub(crate) mod ddl;
pub(crate) mod migrations;
pub(crate) mod sql;

use crate::Result;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Opens a connection with the pragmas every connection needs.
pub(crate) fn open(path: &Path, cache_kib: i64) -> Result<Connection> {
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
    Ok(conn)
}

/// Current UTC time in the stored format (fixed width, so text order is time order).
pub(crate) fn now_text() -> String {
    time_text(chrono::Utc::now())
}

/// A UTC instant in the stored format.
pub(crate) fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses the stored time format.
pub(crate) fn parse_time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

/// Backs up the database behind `conn` to a new file, online and consistent.
pub(crate) fn backup_to(conn: &Connection, target: &Path) -> Result<()> {
    let target = target
        .to_str()
        .ok_or_else(|| crate::Error::field("file", crate::Reason::PathNotUtf8))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}
