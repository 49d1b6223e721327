//! The import log in the store: uploads, passes and their progress, the rows each import
//! wrote, remembered mappings, and dropping files no longer needed.

use super::*;
use crate::db;
use crate::record::Record;
use crate::store::Imported;
use crate::store::Store;
use serde_json::Map;

impl Store {
    /// Updates a record as one row of an import (an upsert): like [`Store::update`], with its
    /// history marked `import`.
    pub fn update_imported(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        version: i64,
        patch: &Map<String, Json>,
    ) -> Result<Record> {
        self.update_as(access, entity, id, version, patch, "import")
    }

    /// Creates a record as one row of an import: like [`Store::create`], with its history
    /// marked `import`; `created_at` (a migrated record's own creation time) only from an
    /// administrator.
    pub fn create_imported(
        &self,
        access: &Access,
        entity: &str,
        input: &Map<String, Json>,
        created_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Record> {
        if entity == "user" {
            return Err(Error::Forbidden(
                "users are created through the user administration (with a password)".into(),
            ));
        }
        if created_at.is_some() && !access.is_admin() {
            return Err(Error::field("created_at", Reason::AdminOnly));
        }
        self.insert_record(access, entity, input, Some(Imported { created_at }))
    }

    /// Keeps an uploaded file to import into `new.entity`. The caller must be able to create
    /// or update records of that type.
    pub fn new_import(&self, access: &Access, new: NewImport) -> Result<i64> {
        let schema = self.schema();
        if schema.entity(&new.entity).is_none() {
            return Err(Error::NotFound(format!("no entity type '{}'", new.entity)));
        }
        let perm = access.permission(&new.entity);
        // People are imported by administrators only (as new users, with invitations).
        let people = new.entity == "user";
        if !(perm.create || perm.update) || (people && !access.is_admin()) {
            return Err(Error::Forbidden(format!(
                "you may not import into '{}'",
                new.entity
            )));
        }
        self.write(|tx| {
            let pending: i64 = tx.query_row(
                "SELECT COUNT(*) FROM imports WHERE created_by IS ?1
                 AND status IN ('uploaded', 'checking', 'checked', 'running')",
                [access.user_id],
                |r| r.get(0),
            )?;
            if pending >= MAX_PENDING_IMPORTS {
                return Err(Error::conflict(format!(
                    "you have {pending} files uploaded and not imported; import or leave them \
                     (they are dropped after a week) before uploading more"
                )));
            }
            tx.execute(
                "INSERT INTO imports (entity, file_name, file_kind, layout, created_by, created_at,
                 status, total_rows) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'uploaded', ?7)",
                (
                    &new.entity,
                    &new.file_name,
                    &new.file_kind,
                    &new.layout,
                    access.user_id,
                    db::now_text(),
                    i64::try_from(new.total_rows).unwrap_or(i64::MAX),
                ),
            )?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO import_files (import_id, bytes) VALUES (?1, ?2)",
                (id, &new.bytes),
            )?;
            Ok(id)
        })
    }

    /// One import's log entry.
    pub fn import_log(&self, access: &Access, id: i64) -> Result<ImportLog> {
        let log = self.read(|c| load(c, id))?;
        visible(access, log, id)
    }

    /// The uploaded file of an import.
    pub fn import_file(&self, access: &Access, id: i64) -> Result<Vec<u8>> {
        self.import_log(access, id)?;
        self.read(|c| {
            c.query_row(
                "SELECT bytes FROM import_files WHERE import_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("import {id} keeps no file")))
        })
    }

    /// The newest imports the caller may see (all for an administrator, else their own),
    /// into `entity` if given.
    pub fn import_logs(
        &self,
        access: &Access,
        entity: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ImportLog>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM imports
             WHERE (?1 OR created_by = ?2) AND (entity = ?3 OR ?3 IS NULL)
             ORDER BY id DESC LIMIT ?4"
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                (
                    access.is_admin(),
                    access.user_id,
                    entity,
                    i64::try_from(limit).unwrap_or(100),
                ),
                from_row,
            )?;
            Ok(rows.collect::<crate::db::DbResult<Vec<_>>>()?)
        })
    }

    /// Starts a pass over an import's rows with `options`, unless one is going or the import
    /// was already written (a dry run may follow a dry run; an import follows an upload or a
    /// dry run, once).
    pub fn begin_import_pass(
        &self,
        access: &Access,
        id: i64,
        pass: ImportPass,
        options: &Json,
    ) -> Result<ImportLog> {
        let log = self.import_log(access, id)?;
        if let Some(refusal) = log.pass_refusal() {
            return Err(refusal);
        }
        let status = match pass {
            ImportPass::Check => ImportStatus::Checking,
            ImportPass::Import => ImportStatus::Running,
        };
        // Only one pass at a time: the status moves only from where a pass may start.
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE imports SET status = ?2, options = ?3, rows_done = 0, inserted = 0,
                 updated = 0, failed = 0, errors = '[]', finished_at = NULL, host = ?4
                 WHERE id = ?1 AND status IN ('uploaded', 'checked')",
                (id, status.as_str(), options.to_string(), self.host_id()),
            )?)
        })?;
        if changed == 0 {
            let now = self.import_log(access, id)?;
            return Err(now
                .pass_refusal()
                .unwrap_or_else(|| Error::conflict("this import changed; look again")));
        }
        self.import_log(access, id)
    }

    /// Resumes an import that was interrupted (the server stopped, or its pass failed) where
    /// it stopped: the rows it committed stay counted, the rest follow with the same options.
    /// Only the person who started it may, as themselves (so the rows are written with the
    /// same rights); the file must still be kept.
    pub fn resume_import_pass(&self, access: &Access, id: i64) -> Result<ImportLog> {
        let log = self.import_log(access, id)?;
        if log.status != ImportStatus::Interrupted {
            return Err(Error::conflict("only an interrupted import can be resumed"));
        }
        if access.user_id.is_none() || access.user_id != log.created_by {
            return Err(Error::Forbidden(
                "only the person who started an import may resume it".into(),
            ));
        }
        self.import_file(access, id).map_err(|_| {
            Error::conflict("the file of this import is no longer kept; upload it again")
        })?;
        let changed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE imports SET status = 'running', finished_at = NULL, host = ?2
                 WHERE id = ?1 AND status = 'interrupted'",
                (id, self.host_id()),
            )?)
        })?;
        if changed == 0 {
            return Err(Error::conflict("this import changed; look again"));
        }
        self.import_log(access, id)
    }

    /// Records how far a pass has come and the rows it refused since the last call. Inside
    /// the pass's transaction for an import (so the counts are what was committed).
    pub fn record_import_progress(
        &self,
        id: i64,
        counts: ImportCounts,
        refused: &[RowError],
    ) -> Result<()> {
        self.write(|tx| {
            let kept: String =
                tx.query_row("SELECT errors FROM imports WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
            let mut errors: Vec<RowError> = serde_json::from_str(&kept).unwrap_or_default();
            let room = MAX_KEPT_ERRORS.saturating_sub(errors.len());
            errors.extend(refused.iter().take(room).cloned());
            let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
            let ours = tx
                .prepare_cached(
                    "UPDATE imports SET rows_done = ?2, inserted = ?3, updated = ?4, failed = ?5,
                     errors = ?6 WHERE id = ?1 AND status IN ('checking', 'running')
                     AND host IS ?7",
                )?
                .execute((
                    id,
                    n(counts.rows_done),
                    n(counts.inserted),
                    n(counts.updated),
                    n(counts.failed),
                    serde_json::to_string(&errors).unwrap_or_else(|_| "[]".into()),
                    self.host_id(),
                ))?;
            if ours == 0 {
                return Err(taken_over());
            }
            Ok(())
        })
    }

    /// Notes what an imported row did to its record (inside the row's transaction).
    pub fn note_imported_row(
        &self,
        id: i64,
        record_id: i64,
        action: RowAction,
        version: i64,
        before: Option<&Map<String, Json>>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO import_rows (import_id, seq, record_id, action, version, before)
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM import_rows
                 WHERE import_id = ?1), ?2, ?3, ?4, ?5)",
            )?
            .execute((
                id,
                record_id,
                match action {
                    RowAction::Insert => "insert",
                    RowAction::Update => "update",
                },
                version,
                before.map(|b| Json::Object(b.clone()).to_string()),
            ))?;
            Ok(())
        })
    }

    /// The records an import created, in order.
    pub fn imported_records(&self, access: &Access, id: i64) -> Result<Vec<i64>> {
        self.import_log(access, id)?;
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT record_id FROM import_rows WHERE import_id = ?1 AND action = 'insert'
                 ORDER BY seq",
            )?;
            let ids = stmt
                .query_map([id], |r| r.get(0))?
                .collect::<crate::db::DbResult<Vec<i64>>>()?;
            Ok(ids)
        })
    }

    /// Ends a pass: a dry run as checked, an import as done.
    pub fn finish_import_pass(&self, id: i64, pass: ImportPass) -> Result<()> {
        let status = match pass {
            ImportPass::Check => ImportStatus::Checked,
            ImportPass::Import => ImportStatus::Done,
        };
        self.write(|tx| {
            let ours = tx.execute(
                "UPDATE imports SET status = ?2, finished_at = ?3
                 WHERE id = ?1 AND status IN ('checking', 'running') AND host IS ?4",
                (id, status.as_str(), db::now_text(), self.host_id()),
            )?;
            if ours == 0 {
                return Err(taken_over());
            }
            if pass == ImportPass::Import {
                // Written once: the file is no longer needed (an undo works from the rows).
                tx.execute("DELETE FROM import_files WHERE import_id = ?1", [id])?;
            }
            Ok(())
        })
    }

    /// Ends a pass that failed part-way (the database failed, the pass's thread died): a dry
    /// run goes back to uploaded, an import is interrupted — what it committed stays.
    pub fn abandon_import_pass(&self, id: i64, pass: ImportPass) -> Result<()> {
        let status = match pass {
            ImportPass::Check => ImportStatus::Uploaded,
            ImportPass::Import => ImportStatus::Interrupted,
        };
        self.write(|tx| {
            tx.execute(
                "UPDATE imports SET status = ?2, finished_at = ?3
                 WHERE id = ?1 AND status IN ('checking', 'running') AND host IS ?4",
                (id, status.as_str(), db::now_text(), self.host_id()),
            )?;
            Ok(())
        })
    }

    /// Marks passes whose host is gone — the server stopped, or another host serving the
    /// same database did (called when a host starts and every few seconds): a dry run goes back to
    /// uploaded (nothing of it was kept), an import is interrupted (what it committed stays,
    /// and can be resumed or undone), an undo is stopped part-way (what it undid stays undone;
    /// it can only be undone again, to the end — never resumed, which would leave a gap).
    pub fn interrupt_imports(&self) -> Result<()> {
        let gone = crate::store::hosts::gone("host", 2);
        self.write(|tx| {
            tx.execute(
                &format!(
                    "UPDATE imports SET status = 'uploaded' WHERE status = 'checking' AND {}",
                    crate::store::hosts::gone("host", 1)
                ),
                [self.live_since()],
            )?;
            tx.execute(
                &format!(
                    "UPDATE imports SET status = 'interrupted', finished_at = ?1
                     WHERE status = 'running' AND {gone}"
                ),
                (db::now_text(), self.live_since()),
            )?;
            tx.execute(
                &format!("{} AND {gone}", super::undo::STOP_UNDO),
                (None::<i64>, self.live_since()),
            )?;
            Ok(())
        })
    }

    /// Remembers the options the caller imported a file layout with (the mapping above all).
    /// Each person's own: one person's mapping never lands in another's form.
    pub fn remember_import_layout(
        &self,
        access: &Access,
        entity: &str,
        layout: &str,
        options: &Json,
    ) -> Result<()> {
        let Some(user) = access.user_id else {
            return Ok(());
        };
        self.write(|tx| {
            tx.execute(
                "INSERT INTO import_layouts (user_id, entity, layout, options, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (user_id, entity, layout) DO UPDATE SET options = ?4, updated_at = ?5",
                (user, entity, layout, options.to_string(), db::now_text()),
            )?;
            Ok(())
        })
    }

    /// The options the caller last imported a file layout with, if any.
    pub fn remembered_import_layout(
        &self,
        access: &Access,
        entity: &str,
        layout: &str,
    ) -> Result<Option<Json>> {
        let Some(user) = access.user_id else {
            return Ok(None);
        };
        self.read(|c| {
            let text: Option<String> = c
                .query_row(
                    "SELECT options FROM import_layouts
                     WHERE user_id = ?1 AND entity = ?2 AND layout = ?3",
                    (user, entity, layout),
                    |r| r.get(0),
                )
                .optional()?;
            Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
        })
    }

    /// Drops the files of imports that no longer need them: written or undone ones, and
    /// those uploaded more than `days` days ago and never imported, or interrupted more than
    /// `days` days ago and not resumed (an interrupted import resumes from its file). Returns
    /// how many.
    pub fn purge_import_files(&self, days: i64) -> Result<usize> {
        let before = db::time_text(chrono::Utc::now() - chrono::Duration::days(days));
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM import_files WHERE import_id IN (SELECT id FROM imports
                 WHERE status IN ('done', 'undone', 'undo_stopped')
                    OR (status IN ('uploaded', 'checked') AND created_at < ?1)
                    OR (status = 'interrupted' AND COALESCE(finished_at, created_at) < ?1))",
                [before],
            )?)
        })
    }
}

/// A pass whose import is no longer this host's: another host took it for gone and marked
/// it interrupted (its owner may have resumed it there). The pass stops; its last chunk is
/// not kept.
fn taken_over() -> Error {
    Error::conflict(
        "this import was taken over (its host was taken for gone); the pass here stops".to_string(),
    )
}
