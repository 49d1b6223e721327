//! Imports of a spreadsheet into an entity type, as the core keeps them: the log (who, when,
//! which file, the options of the last pass, counts, the rows refused and why in both
//! languages), the uploaded file, what each imported row did — so that a whole import can be
//! undone as one batch — and the column mapping remembered per file layout. Reading files and
//! turning cells into values is the host's; every row is written through the ordinary create
//! and update, so validation, permissions, hooks and workflows apply as to any write.

use crate::db::{Conn, OptionalExtension, Row};
use crate::{Access, Error, Locale, Reason, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

mod log;
mod undo;
pub use undo::UndoPlan;

/// The most refused rows an import keeps (the counts stay exact past it).
pub const MAX_KEPT_ERRORS: usize = 1000;
/// The most records an undo lists as left alone (the count stays exact past it).
pub const MAX_KEPT_SKIPS: usize = 1000;
/// The most files one person may have uploaded and not yet imported.
pub const MAX_PENDING_IMPORTS: i64 = 10;

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
    /// The undo is going through the records the import wrote.
    Undoing,
    /// The undo stopped part-way (the server stopped, or it failed): some records are undone.
    /// Only undoing it again — to the end — is offered; it is never resumed.
    UndoStopped,
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
            ImportStatus::Undoing => "undoing",
            ImportStatus::UndoStopped => "undo_stopped",
            ImportStatus::Undone => "undone",
        }
    }

    pub(crate) fn parse(s: &str) -> ImportStatus {
        match s {
            "checking" => ImportStatus::Checking,
            "checked" => ImportStatus::Checked,
            "running" => ImportStatus::Running,
            "done" => ImportStatus::Done,
            "interrupted" => ImportStatus::Interrupted,
            "undoing" => ImportStatus::Undoing,
            "undo_stopped" => ImportStatus::UndoStopped,
            "undone" => ImportStatus::Undone,
            _ => ImportStatus::Uploaded,
        }
    }

    /// Whether a pass or an undo is going through the rows now.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            ImportStatus::Checking | ImportStatus::Running | ImportStatus::Undoing
        )
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
    /// Records left as they are, and why (the first [`MAX_KEPT_SKIPS`]).
    pub skipped: Vec<UndoSkip>,
    /// How many records were left as they are.
    #[serde(default)]
    pub skipped_total: usize,
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

impl ImportLog {
    /// Why no pass may start over this import now, if it may not: one is going, or its rows
    /// were written (once per upload).
    pub fn pass_refusal(&self) -> Option<Error> {
        match self.status {
            ImportStatus::Uploaded | ImportStatus::Checked => None,
            ImportStatus::Checking | ImportStatus::Running => Some(Error::conflict(
                "this import is going through its rows already",
            )),
            _ => Some(Error::conflict(
                "this import has been written already; upload the file again to import it again",
            )),
        }
    }
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

pub(super) const COLUMNS: &str =
    "id, entity, file_name, file_kind, layout, created_by, created_at, status, \
    options, total_rows, rows_done, inserted, updated, failed, errors, finished_at, undone_by, \
    undone_at, undo_report";

pub(super) fn from_row(r: &Row<'_>) -> crate::db::DbResult<ImportLog> {
    let json = |i: usize| -> crate::db::DbResult<Json> {
        let text: String = r.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or(Json::Null))
    };
    let count = |i: usize| -> crate::db::DbResult<usize> {
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

pub(super) fn load(c: &Conn, id: i64) -> Result<Option<ImportLog>> {
    let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()?)
}

/// An import the caller may see: their own, or any for an administrator.
pub(super) fn visible(access: &Access, log: Option<ImportLog>, id: i64) -> Result<ImportLog> {
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
