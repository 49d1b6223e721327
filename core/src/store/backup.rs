//! Whole-install backups: one SQLite file holding a consistent snapshot of the database and,
//! in a table of its own, the files an install needs besides it (the kept plugin components),
//! so that a restore brings the install back with every plugin active.

use super::Store;
use crate::db;
use crate::db::OptionalExtension;
use crate::{Error, Result};
use std::path::Path;

/// The table a backup keeps its files in (only in backup files, never in a live database).
const FILES_TABLE: &str = "qingguan_backup_files";

/// A file of the install outside the database: its path relative to the data directory, and
/// its bytes.
pub type InstallFile = (String, Vec<u8>);

impl Store {
    /// Writes a backup of the whole install to `target` (which must not exist) while the store
    /// keeps serving: a consistent snapshot of the database (`VACUUM INTO`, created 0600), then
    /// `files` stored beside it. A failure removes the partial backup.
    pub fn backup_install(&self, target: &Path, files: &[InstallFile]) -> Result<()> {
        self.backup(target)?;
        let written = (|| -> Result<()> {
            let mut conn = db::open_plain(target)?;
            let tx = conn.transaction()?;
            tx.execute_batch(&format!(
                "CREATE TABLE {FILES_TABLE} (path TEXT PRIMARY KEY, bytes BLOB NOT NULL)"
            ))?;
            {
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO {FILES_TABLE} (path, bytes) VALUES (?1, ?2)"
                ))?;
                for (path, bytes) in files {
                    insert.execute((path, bytes))?;
                }
            }
            tx.commit()?;
            Ok(())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(target);
        }
        written
    }
}

/// Restores a backup made by [`Store::backup_install`] (or a plain database backup) as the
/// database at `database` (which must not exist), and returns the install's other files for
/// the caller to put back. The restored database holds no trace of the backup's own table.
pub fn restore_install(backup: &Path, database: &Path) -> Result<Vec<InstallFile>> {
    if database.exists() {
        return Err(Error::conflict(format!(
            "{} already exists: restore into an empty data directory",
            database.display()
        )));
    }
    {
        let check = db::open_read_only(backup)?;
        let ok: String = check
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| {
                Error::conflict(format!(
                    "{} is not a Qingguan backup: {e}",
                    backup.display()
                ))
            })?;
        if ok != "ok" {
            return Err(Error::conflict(format!(
                "{} is damaged: {ok}",
                backup.display()
            )));
        }
    }
    db::copy_private(backup, database)?;
    let restored = (|| -> Result<Vec<InstallFile>> {
        let mut conn = db::open_plain(database)?;
        let has_files: Option<String> = conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [FILES_TABLE],
                |r| r.get(0),
            )
            .optional()?;
        if has_files.is_none() {
            return Ok(Vec::new());
        }
        let files = {
            let mut stmt = conn.prepare(&format!("SELECT path, bytes FROM {FILES_TABLE}"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<std::result::Result<Vec<InstallFile>, _>>()?;
            rows
        };
        let tx = conn.transaction()?;
        tx.execute_batch(&format!("DROP TABLE {FILES_TABLE}"))?;
        tx.commit()?;
        conn.execute_batch("VACUUM")?;
        Ok(files)
    })();
    if restored.is_err() {
        let _ = std::fs::remove_file(database);
    }
    restored
}
