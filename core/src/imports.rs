//! Imports of a spreadsheet into an entity type, as the core keeps them: the log (who, when,
//! which file, the options of the last pass, counts, the rows refused and why in both
//! languages), the uploaded file, what each imported row did — so that a whole import can be
//! undone as one batch — and the column mapping remembered per file layout. Reading files and
//! turning cells into values is the host's; every row is written through the ordinary create
//! and update, so validation, permissions, hooks and workflows apply as to any write.

use crate::db;
use crate::store::Store;
use crate::{Access, Error, Locale, Reason, Result};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// The most refused rows an import keeps (the counts stay exact past it).
pub const MAX_KEPT_ERRORS: usize = 1000;

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// The file is uploaded; nothing checked or written.
    Uploaded,
    /// A dry run is going through the rows.
    Checking,
    /// A dry run finished: the counts say what an import would do.
    Checked,
    /// The rows are being written.
    Running,
    /// Every row was written or refused.
    Done,
    /// The server stopped while the rows were written: the counts say how far it came.
    Interrupted,
    /// The import was undone.
    Undone,
}

impl ImportStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Uploaded => "uploaded",
            ImportStatus::Checking => "checking",
            ImportStatus::Checked => "checked",
            ImportStatus::Running => "running",
            ImportStatus::Done => "done",
            ImportStatus::Interrupted => "interrupted",
            ImportStatus::Undone => "undone",
        }
    }

    fn parse(s: &str) -> ImportStatus {
        match s {
            "checking" => ImportStatus::Checking,
            "checked" => ImportStatus::Checked,
            "running" => ImportStatus::Running,
            "done" => ImportStatus::Done,
            "interrupted" => ImportStatus::Interrupted,
            "undone" => ImportStatus::Undone,
            _ => ImportStatus::Uploaded,
        }
    }

    /// Whether a pass is going through the rows now.
    pub fn is_busy(self) -> bool {
        matches!(self, ImportStatus::Checking | ImportStatus::Running)
    }
}

/// A pass over an import's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportPass {
    /// A dry run: every row goes through the whole write, which is then rolled back.
    Check,
    /// The real thing: valid rows are written, the others reported.
    Import,
}

/// One refused row: where, and why in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowError {
    /// The row's number in the file, counting the header as row 1 (as a spreadsheet shows it).
    pub row: usize,
    /// The column the reason is about (empty when about the whole row).
    pub column: String,
    /// The field the reason is about (empty when about the whole row).
    pub field: String,
    /// Why, in English.
    pub en: String,
    /// Why, in Chinese.
    pub zh: String,
}

impl RowError {
    /// A reason about one cell.
    pub fn cell(row: usize, column: &str, field: &str, why: &Reason) -> RowError {
        RowError {
            row,
            column: column.to_string(),
            field: field.to_string(),
            en: why.render(Locale::En),
            zh: why.render(Locale::ZhCn),
        }
    }

    /// Why, in `locale`.
    pub fn message(&self, locale: Locale) -> &str {
        match locale {
            Locale::En => &self.en,
            Locale::ZhCn => &self.zh,
        }
    }
}

/// Counts of a pass so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Rows gone through.
    pub rows_done: usize,
    /// Rows that created a record (or would, in a dry run).
    pub inserted: usize,
    /// Rows that updated a record (or would).
    pub updated: usize,
    /// Rows refused.
    pub failed: usize,
}

/// What undoing an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UndoReport {
    /// Records the import created, deleted again.
    pub deleted: usize,
    /// Records the import updated, given their earlier values back.
    pub restored: usize,
    /// Records left as they are, and why.
    pub skipped: Vec<UndoSkip>,
}

/// A record an undo left alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoSkip {
    /// The record.
    pub record_id: i64,
    /// Why, in English.
    pub en: String,
    /// Why, in Chinese.
    pub zh: String,
}

/// One import as its log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportLog {
    pub id: i64,
    /// The entity type imported into.
    pub entity: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// `csv` or `xlsx`.
    pub file_kind: String,
    /// The file's layout (its header row, hashed): mappings are remembered per layout.
    pub layout: String,
    /// Who uploaded it.
    pub created_by: Option<i64>,
    /// When (RFC 3339, UTC).
    pub created_at: String,
    pub status: ImportStatus,
    /// The options of the last pass (mapping, mode, key, date format, value maps).
    pub options: Json,
    /// Data rows in the file.
    pub total_rows: usize,
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// The first [`MAX_KEPT_ERRORS`] refused rows of the last pass.
    pub errors: Vec<RowError>,
    /// When the last pass ended.
    pub finished_at: Option<String>,
    /// Who undid it, when, and what the undo did.
    pub undone_by: Option<i64>,
    pub undone_at: Option<String>,
    pub undo_report: Option<UndoReport>,
}

/// A file to import, as uploaded.
#[derive(Debug, Clone)]
pub struct NewImport {
    pub entity: String,
    pub file_name: String,
    /// `csv` or `xlsx`.
    pub file_kind: String,
    /// The file's layout key (see [`ImportLog::layout`]).
    pub layout: String,
    /// Data rows in the file.
    pub total_rows: usize,
    pub bytes: Vec<u8>,
}

/// What one imported row did to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    /// Created it.
    Insert,
    /// Updated it (the fields' earlier values are kept for an undo).
    Update,
}

const COLUMNS: &str = "id, entity, file_name, file_kind, layout, created_by, created_at, status, \
    options, total_rows, rows_done, inserted, updated, failed, errors, finished_at, undone_by, \
    undone_at, undo_report";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ImportLog> {
    let json = |i: usize| -> rusqlite::Result<Json> {
        let text: String = r.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or(Json::Null))
    };
    let count = |i: usize| -> rusqlite::Result<usize> {
        Ok(usize::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
    };
    Ok(ImportLog {
        id: r.get(0)?,
        entity: r.get(1)?,
        file_name: r.get(2)?,
        file_kind: r.get(3)?,
        layout: r.get(4)?,
        created_by: r.get(5)?,
        created_at: r.get(6)?,
        status: ImportStatus::parse(&r.get::<_, String>(7)?),
        options: json(8)?,
        total_rows: count(9)?,
        counts: ImportCounts {
            rows_done: count(10)?,
            inserted: count(11)?,
            updated: count(12)?,
            failed: count(13)?,
        },
        errors: serde_json::from_value(json(14)?).unwrap_or_default(),
        finished_at: r.get(15)?,
        undone_by: r.get(16)?,
        undone_at: r.get(17)?,
        undo_report: r
            .get::<_, Option<String>>(18)?
            .and_then(|t| serde_json::from_str(&t).ok()),
    })
}

fn load(c: &Connection, id: i64) -> Result<Option<ImportLog>> {
    let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

/// An import the caller may see: their own, or any for an administrator.
fn visible(access: &Access, log: Option<ImportLog>, id: i64) -> Result<ImportLog> {
    log.filter(|l| access.is_admin() || (l.created_by.is_some() && l.created_by == access.user_id))
        .ok_or_else(|| Error::NotFound(format!("no import with id {id}")))
}

/// An error as one line in `locale`: field reasons rendered, other messages as they are.
pub fn describe(err: &Error, locale: Locale) -> String {
    match err {
        Error::Validation { fields, .. }
        | Error::BadRequest { fields, .. }
        | Error::Conflict { fields, .. }
            if !fields.is_empty() =>
        {
            fields
                .iter()
                .map(|(k, r)| format!("{k}: {}", r.render(locale)))
                .collect::<Vec<_>>()
                .join("; ")
        }
        Error::StaleVersion { current, .. } => {
            Reason::StaleVersion { current: *current }.render(locale)
        }
        other => other.to_string(),
    }
}

impl Store {
    /// Keeps an uploaded file to import into `new.entity`. The caller must be able to create
    /// or update records of that type.
    pub fn new_import(&self, access: &Access, new: NewImport) -> Result<i64> {
        let schema = self.schema();
        if schema.entity(&new.entity).is_none() {
            return Err(Error::NotFound(format!("no entity type '{}'", new.entity)));
        }
        let perm = access.permission(&new.entity);
        if !(perm.create || perm.update) || new.entity == "user" {
            return Err(Error::Forbidden(format!(
                "you may not import into '{}'",
                new.entity
            )));
        }
        self.write(|tx| {
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
             WHERE (?1 OR created_by = ?2) AND (?3 IS NULL OR entity = ?3)
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
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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
        let (status, may_follow): (ImportStatus, &[&str]) = match pass {
            ImportPass::Check => (ImportStatus::Checking, &["uploaded", "checked"]),
            ImportPass::Import => (ImportStatus::Running, &["uploaded", "checked"]),
        };
        let changed = self.write(|tx| {
            Ok(tx.execute(
                &format!(
                    "UPDATE imports SET status = ?2, options = ?3, rows_done = 0, inserted = 0,
                     updated = 0, failed = 0, errors = '[]', finished_at = NULL
                     WHERE id = ?1 AND status IN ({})",
                    may_follow
                        .iter()
                        .map(|s| format!("'{s}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (id, status.as_str(), options.to_string()),
            )?)
        })?;
        if changed == 0 {
            return Err(Error::conflict(match log.status {
                ImportStatus::Checking | ImportStatus::Running => {
                    "this import is going through its rows already".to_string()
                }
                _ => "this import has been written already; upload the file again to import it \
                      again"
                    .to_string(),
            }));
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
            tx.prepare_cached(
                "UPDATE imports SET rows_done = ?2, inserted = ?3, updated = ?4, failed = ?5,
                 errors = ?6 WHERE id = ?1",
            )?
            .execute((
                id,
                n(counts.rows_done),
                n(counts.inserted),
                n(counts.updated),
                n(counts.failed),
                serde_json::to_string(&errors).unwrap_or_else(|_| "[]".into()),
            ))?;
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

    /// Ends a pass: a dry run as checked, an import as done.
    pub fn finish_import_pass(&self, id: i64, pass: ImportPass) -> Result<()> {
        let status = match pass {
            ImportPass::Check => ImportStatus::Checked,
            ImportPass::Import => ImportStatus::Done,
        };
        self.write(|tx| {
            tx.execute(
                "UPDATE imports SET status = ?2, finished_at = ?3 WHERE id = ?1",
                (id, status.as_str(), db::now_text()),
            )?;
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
                "UPDATE imports SET status = ?2, finished_at = ?3 WHERE id = ?1",
                (id, status.as_str(), db::now_text()),
            )?;
            Ok(())
        })
    }

    /// Marks passes that were going when the server stopped (called once when it starts): a dry run goes back to
    /// uploaded (nothing of it was kept), an import is interrupted (what it committed stays,
    /// and can be undone).
    pub fn interrupt_imports(&self) -> Result<()> {
        self.write(|tx| {
            tx.execute_batch(
                "UPDATE imports SET status = 'uploaded' WHERE status = 'checking';
                 UPDATE imports SET status = 'interrupted' WHERE status = 'running';",
            )?;
            Ok(())
        })
    }

    /// Undoes a finished import as one batch, as the caller: the records it created are
    /// deleted and the records it updated get their earlier values back — unless changed
    /// since (or refused for another reason, such as a record others now reference), which
    /// are left as they are and listed.
    pub fn undo_import(&self, access: &Access, id: i64) -> Result<UndoReport> {
        let log = self.import_log(access, id)?;
        let claimed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE imports SET status = 'undone', undone_by = ?2, undone_at = ?3
                 WHERE id = ?1 AND status IN ('done', 'interrupted')",
                (id, access.user_id, db::now_text()),
            )?)
        })?;
        if claimed == 0 {
            return Err(Error::conflict(match log.status {
                ImportStatus::Undone => "this import has been undone already",
                _ => "only a finished import can be undone",
            }));
        }
        type Done = (i64, String, i64, Option<String>);
        let rows: Vec<Done> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT record_id, action, version, before FROM import_rows
                 WHERE import_id = ?1 ORDER BY seq DESC",
            )?;
            let rows =
                stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        let mut report = UndoReport::default();
        for chunk in rows.chunks(500) {
            let scope = self.begin_call()?;
            for (record_id, action, version, before) in chunk {
                let outcome = if action == "insert" {
                    self.delete(access, &log.entity, *record_id, *version)
                        .map(|()| true)
                } else {
                    let before: Map<String, Json> = before
                        .as_deref()
                        .and_then(|b| serde_json::from_str(b).ok())
                        .unwrap_or_default();
                    self.update(access, &log.entity, *record_id, *version, &before)
                        .map(|_| false)
                };
                match outcome {
                    Ok(true) => report.deleted += 1,
                    Ok(false) => report.restored += 1,
                    Err(e) => {
                        let changed_since = matches!(e, Error::StaleVersion { .. });
                        let (en, zh) = if changed_since {
                            (
                                "changed since the import; left as it is".to_string(),
                                "导入后已被修改，保持不变".to_string(),
                            )
                        } else {
                            (describe(&e, Locale::En), describe(&e, Locale::ZhCn))
                        };
                        report.skipped.push(UndoSkip {
                            record_id: *record_id,
                            en,
                            zh,
                        });
                    }
                }
            }
            scope.finish(true)?;
        }
        let stored = serde_json::to_string(&report).unwrap_or_default();
        self.write(|tx| {
            tx.execute(
                "UPDATE imports SET undo_report = ?2 WHERE id = ?1",
                (id, stored),
            )?;
            Ok(())
        })?;
        Ok(report)
    }

    /// Remembers the options last used with a file layout (the mapping above all).
    pub fn remember_import_layout(&self, entity: &str, layout: &str, options: &Json) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO import_layouts (entity, layout, options, updated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (entity, layout) DO UPDATE SET options = ?3, updated_at = ?4",
                (entity, layout, options.to_string(), db::now_text()),
            )?;
            Ok(())
        })
    }

    /// The options last used with a file layout, if any.
    pub fn remembered_import_layout(&self, entity: &str, layout: &str) -> Result<Option<Json>> {
        self.read(|c| {
            let text: Option<String> = c
                .query_row(
                    "SELECT options FROM import_layouts WHERE entity = ?1 AND layout = ?2",
                    (entity, layout),
                    |r| r.get(0),
                )
                .optional()?;
            Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
        })
    }
}
