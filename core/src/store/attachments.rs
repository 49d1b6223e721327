//! Files attached to records, on every entity type: kept in the database beside the record (a
//! backup holds them; every host of a shared database serves them), at most
//! [`MAX_ATTACHMENT_BYTES`] each and [`MAX_ATTACHMENTS`] per record. Reading one needs read on
//! its record (in scope); attaching one needs update on it (never on a user); removing one
//! needs update too, and to have attached it (or to be an administrator). The content type is
//! sniffed from the bytes, never taken from the uploader, and only images and PDF are ever
//! shown inline — nothing attached is served as HTML. Deleting the record deletes its files;
//! attaching and removing are in the record's history.

use super::integrity::read_only;
use super::records::{entity_for, load, write_history};
use super::scope::in_scope;
use super::Store;
use crate::access::EntityPermission;
use crate::db::{Conn, OptionalExtension};
use crate::schema::{FieldType, SharedEntity};
use crate::value::Value;
use crate::{db, Access, Error, Reason, Result};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The largest file one attachment holds (10 MiB).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// The most files one record keeps.
pub const MAX_ATTACHMENTS: usize = 100;
/// The longest file name kept (characters).
const MAX_NAME_CHARS: usize = 200;

/// What is known of an attached file (its bytes come with [`Store::attachment`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentInfo {
    pub id: i64,
    pub entity: String,
    pub record_id: i64,
    /// The file's name as uploaded, without any folder.
    pub name: String,
    /// Sniffed from the bytes: an image type, `application/pdf`, or
    /// `application/octet-stream`.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_by: Option<i64>,
    pub created_at: String,
}

impl AttachmentInfo {
    /// Whether a browser may show it in place (an image or a PDF); anything else is only ever
    /// downloaded.
    pub fn inline(&self) -> bool {
        self.content_type.starts_with("image/") || self.content_type == "application/pdf"
    }
}

/// The type of a file from its first bytes: PNG, JPEG, GIF, WebP, PDF — else opaque bytes.
pub fn sniff(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "image/gif"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else {
        "application/octet-stream"
    }
}

/// Characters that change how a name reads without being seen: bidirectional overrides and
/// isolates (`invoice\u{202e}fdp.exe` shows as `invoiceexe.pdf`), zero-width characters, the BOM.
pub(crate) fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{00ad}')
}

/// A file name as kept: its last path part, control and invisible characters dropped, trimmed,
/// at most 200 characters (none left: `None`).
pub fn clean_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last
        .chars()
        .filter(|c| !c.is_control() && !invisible(*c))
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim().trim_start_matches('.').trim().to_string();
    (!name.is_empty()).then_some(name)
}

const COLUMNS: &str =
    "id, entity, record_id, name, content_type, size, sha256, created_by, created_at";

fn from_row(r: &crate::db::Row<'_>) -> crate::db::DbResult<AttachmentInfo> {
    Ok(AttachmentInfo {
        id: r.get(0)?,
        entity: r.get(1)?,
        record_id: r.get(2)?,
        name: r.get(3)?,
        content_type: r.get(4)?,
        size: r.get(5)?,
        sha256: r.get(6)?,
        created_by: r.get(7)?,
        created_at: r.get(8)?,
    })
}

fn info(conn: &Conn, id: i64) -> Result<Option<AttachmentInfo>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM attachments WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

fn not_found(id: i64) -> Error {
    Error::NotFound(format!("no attachment with id {id}"))
}

/// Notes an attachment added or removed in its record's history (no new version), under
/// `key`: `attachment`, or the file field that names it — so that whoever may not see that
/// field does not read the file's name in the history either.
#[allow(clippy::too_many_arguments)]
fn note_in_history(
    conn: &Conn,
    entity: &str,
    record_id: i64,
    version: i64,
    user: Option<i64>,
    name: &str,
    added: bool,
    key: &str,
) -> Result<()> {
    let (old, new) = if added {
        (serde_json::Value::Null, json!(name))
    } else {
        (json!(name), serde_json::Value::Null)
    };
    let changes = [(key.to_string(), [old, new])].into();
    let action = if added { "attach" } else { "detach" };
    write_history(conn, entity, record_id, version, action, user, &changes)
}

impl Store {
    /// The files of a record named in file fields the caller's role hides: like the fields,
    /// not theirs to see.
    fn hidden_files(&self, access: &Access, entity: &str, record_id: i64) -> Result<Vec<i64>> {
        let schema = self.schema();
        let Some(e) = schema.entity(entity) else {
            return Ok(vec![]);
        };
        let Some(hidden) = e.hidden_from(&access.role) else {
            return Ok(vec![]);
        };
        let names: Vec<&str> = e
            .fields
            .iter()
            .filter(|f| f.def.kind == FieldType::File && hidden.contains(&f.def.name))
            .map(|f| f.def.name.as_str())
            .collect();
        if names.is_empty() {
            return Ok(vec![]);
        }
        let record = self.read(|c| load(c, e, record_id))?;
        let mut ids: Vec<i64> = record
            .map(|r| {
                names
                    .iter()
                    .filter_map(|n| match r.get(n) {
                        Value::Integer(i) => Some(*i),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        // …and the files uploaded through such a field, whatever it names now.
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, field FROM attachments WHERE entity = ?1 AND record_id = ?2
                 AND field IS NOT NULL",
            )?;
            let rows = stmt.query_map((entity, record_id), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (id, field) = row?;
                if names.contains(&field.as_str()) && !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Ok(())
        })?;
        Ok(ids)
    }

    /// Deletes a deleted record's files (in the delete's transaction).
    pub(super) fn delete_attachments_of(
        &self,
        conn: &Conn,
        entity: &str,
        record_id: i64,
    ) -> Result<()> {
        conn.prepare_cached("DELETE FROM attachments WHERE entity = ?1 AND record_id = ?2")?
            .execute((entity, record_id))?;
        Ok(())
    }

    /// The type, if the caller may attach files to its records: update on it, not retired,
    /// not users.
    fn attachable(
        &self,
        access: &Access,
        entity: &str,
    ) -> Result<(SharedEntity, EntityPermission)> {
        if entity == "user" {
            return Err(Error::Forbidden("files are not attached to users".into()));
        }
        let schema = self.schema();
        let (e, perm) = entity_for(&schema, access, entity, "update", |p| p.update)?;
        if e.retired {
            return Err(read_only(&e));
        }
        Ok((e, perm))
    }

    /// Whether the caller may attach a file to a record (update on it, in scope; not a user's
    /// record — people's files are HR's business, not everyone's): asked before an upload is
    /// read, and again when it is written.
    pub fn may_attach(&self, access: &Access, entity: &str, record_id: i64) -> Result<()> {
        let (e, perm) = self.attachable(access, entity)?;
        self.read(|c| {
            load(c, &e, record_id)?
                .filter(|r| in_scope(c, access, &perm, r).unwrap_or(false))
                .map(|_| ())
                .ok_or_else(|| Error::NotFound(format!("no {entity} with id {record_id}")))
        })
    }

    /// Attaches a file to a record the caller may update.
    pub fn attach(
        &self,
        access: &Access,
        entity: &str,
        record_id: i64,
        name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentInfo> {
        self.attach_noted(access, entity, record_id, name, bytes, "attachment")
    }

    /// [`Store::attach`], the history note under `key`.
    fn attach_noted(
        &self,
        access: &Access,
        entity: &str,
        record_id: i64,
        name: &str,
        bytes: &[u8],
        key: &str,
    ) -> Result<AttachmentInfo> {
        // The record itself is checked in the write (in scope, there).
        let (e, perm) = self.attachable(access, entity)?;
        let name = clean_name(name).ok_or_else(|| Error::field("name", Reason::Required))?;
        if bytes.is_empty() {
            return Err(Error::field("file", Reason::Required));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(Error::field(
                "file",
                Reason::TooManyBytes {
                    max: MAX_ATTACHMENT_BYTES,
                },
            ));
        }
        let content_type = sniff(bytes);
        let sha256: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let id = self.write(|tx| {
            let record = load(tx, &e, record_id)?
                .filter(|r| in_scope(tx, access, &perm, r).unwrap_or(false))
                .ok_or_else(|| Error::NotFound(format!("no {entity} with id {record_id}")))?;
            let count: i64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM attachments WHERE entity = ?1 AND record_id = ?2",
                )?
                .query_row((entity, record_id), |r| r.get(0))?;
            if count as usize >= MAX_ATTACHMENTS {
                return Err(Error::conflict_on(
                    "file",
                    Reason::TooManyAttachments {
                        max: MAX_ATTACHMENTS,
                    },
                ));
            }
            let through_field = (key != "attachment").then_some(key);
            tx.prepare_cached(
                "INSERT INTO attachments
                   (entity, record_id, name, content_type, size, sha256, data, created_by,
                    created_at, field)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute((
                entity,
                record_id,
                &name,
                content_type,
                bytes.len() as i64,
                &sha256,
                bytes,
                access.user_id,
                db::now_text(),
                through_field,
            ))?;
            let id = tx.last_insert_rowid();
            note_in_history(
                tx,
                entity,
                record_id,
                record.version,
                access.user_id,
                &name,
                true,
                key,
            )?;
            Ok(id)
        })?;
        self.read(|c| info(c, id)?.ok_or_else(|| not_found(id)))
    }

    /// Attaches a file and names it in the record's file field `field`, in one transaction
    /// (the file the field held before stays among the record's files): the upload and the
    /// field's change are each in the history; the field's rules (hidden, read-only), hooks
    /// and workflows apply as to any change of it.
    pub fn attach_to_field(
        &self,
        access: &Access,
        entity: &str,
        record_id: i64,
        field: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentInfo> {
        self.may_attach_to_field(access, entity, field)?;
        self.atomically(|| {
            let info = self.attach_noted(access, entity, record_id, name, bytes, field)?;
            let version = self.get(access, entity, record_id)?.version;
            let patch: serde_json::Map<String, serde_json::Value> =
                [(field.to_string(), json!(info.id))].into_iter().collect();
            self.update(access, entity, record_id, version, &patch)?;
            Ok(info)
        })
    }

    /// Whether `field` is a file field of the type as the caller sees it (asked before an
    /// upload is read).
    pub fn may_attach_to_field(&self, access: &Access, entity: &str, field: &str) -> Result<()> {
        let schema = self.schema_for(access);
        match schema.entity(entity).and_then(|e| e.field(field)) {
            // The role's view marks what the role may not change.
            Some(f) if f.def.kind == FieldType::File && f.def.readonly => {
                Err(Error::field(field, Reason::ReadOnlyForRole))
            }
            Some(f) if f.def.kind == FieldType::File && !f.retired => Ok(()),
            Some(f) if f.retired => Err(Error::field(field, Reason::Retired)),
            Some(f) => Err(Error::field(
                field,
                Reason::WrongType {
                    expected: f.def.kind,
                },
            )),
            None => Err(Error::field(
                field,
                Reason::NoField {
                    entity: entity.to_string(),
                    field: field.to_string(),
                },
            )),
        }
    }

    /// The files attached to a record the caller may read, oldest first.
    pub fn attachments(
        &self,
        access: &Access,
        entity: &str,
        record_id: i64,
    ) -> Result<Vec<AttachmentInfo>> {
        self.get(access, entity, record_id)?;
        let hidden = self.hidden_files(access, entity, record_id)?;
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM attachments WHERE entity = ?1 AND record_id = ?2 ORDER BY id"
            ))?;
            let rows = stmt
                .query_map((entity, record_id), from_row)?
                .collect::<crate::db::DbResult<Vec<_>>>()?;
            Ok(rows
                .into_iter()
                .filter(|a| !hidden.contains(&a.id))
                .collect())
        })
    }

    /// The name of attached file `id`, without asking whose it is: for showing the value of
    /// a file field on a record the caller was shown (that value is always a file of that
    /// record, and a field the role hides is never shown) — one read, not three, per cell.
    pub fn file_name(&self, id: i64) -> Result<Option<String>> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT name FROM attachments WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// What is known of one attached file, if the caller may read its record (else it does
    /// not exist).
    pub fn attachment_info(&self, access: &Access, id: i64) -> Result<AttachmentInfo> {
        let a = self.read(|c| info(c, id))?.ok_or_else(|| not_found(id))?;
        match self.get(access, &a.entity, a.record_id) {
            Ok(_)
                if self
                    .hidden_files(access, &a.entity, a.record_id)?
                    .contains(&id) =>
            {
                Err(not_found(id))
            }
            Ok(_) => Ok(a),
            Err(Error::NotFound(_) | Error::Forbidden(_)) => Err(not_found(id)),
            Err(e) => Err(e),
        }
    }

    /// One attached file and its bytes, if the caller may read its record (else it does not
    /// exist).
    pub fn attachment(&self, access: &Access, id: i64) -> Result<(AttachmentInfo, Vec<u8>)> {
        let a = self.attachment_info(access, id)?;
        let bytes: Vec<u8> = self
            .read(|c| {
                Ok(
                    c.prepare_cached("SELECT data FROM attachments WHERE id = ?1")?
                        .query_row([id], |r| r.get(0))
                        .optional()?,
                )
            })?
            .ok_or_else(|| not_found(id))?;
        Ok((a, bytes))
    }

    /// Removes an attached file from a record the caller may update — a file they attached
    /// themselves, or any as an administrator: nobody else takes away what a colleague filed
    /// (a signed contract on a posted invoice).
    pub fn detach(&self, access: &Access, id: i64) -> Result<AttachmentInfo> {
        let a = self.read(|c| info(c, id))?.ok_or_else(|| not_found(id))?;
        // Unseen records' files do not exist for the caller.
        if self.get(access, &a.entity, a.record_id).is_err() {
            return Err(not_found(id));
        }
        if !access.is_admin() && (access.user_id.is_none() || a.created_by != access.user_id) {
            return Err(Error::Forbidden(
                "a file is removed by whoever attached it, or by an administrator".into(),
            ));
        }
        let schema = self.schema();
        let (e, perm) = entity_for(&schema, access, &a.entity, "update", |p| p.update)?;
        if e.retired {
            return Err(read_only(&e));
        }
        self.atomically(|| {
            self.begin_write()?;
            let record = self
                .read(|c| load(c, &e, a.record_id))?
                .filter(|r| {
                    self.read(|c| in_scope(c, access, &perm, r))
                        .unwrap_or(false)
                })
                .ok_or_else(|| not_found(id))?;
            // A file field naming the file is emptied first, as the caller changing it: their
            // field rules, the workflow's locks and plugins' hooks may refuse — and then the
            // file stays.
            let patch: serde_json::Map<String, serde_json::Value> = e
                .fields
                .iter()
                .filter(|f| f.def.kind == FieldType::File)
                .filter(|f| record.get(&f.def.name) == &Value::Integer(id))
                .map(|f| (f.def.name.clone(), serde_json::Value::Null))
                .collect();
            // Noted under the file field that named it, or that it was uploaded through.
            let through: Option<String> = self.read(|c| {
                Ok(
                    c.prepare_cached("SELECT field FROM attachments WHERE id = ?1")?
                        .query_row([id], |r| r.get(0))
                        .optional()?
                        .flatten(),
                )
            })?;
            let key = patch
                .keys()
                .next()
                .cloned()
                .or(through)
                .unwrap_or_else(|| "attachment".into());
            let version = if patch.is_empty() {
                record.version
            } else {
                self.update(access, &a.entity, a.record_id, record.version, &patch)?
                    .version
            };
            self.write(|tx| {
                let n = tx
                    .prepare_cached("DELETE FROM attachments WHERE id = ?1")?
                    .execute([id])?;
                if n == 0 {
                    return Err(not_found(id));
                }
                note_in_history(
                    tx,
                    &a.entity,
                    a.record_id,
                    version,
                    access.user_id,
                    &a.name,
                    false,
                    &key,
                )
            })
        })?;
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), "image/png");
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), "image/jpeg");
        assert_eq!(sniff(b"GIF89a..."), "image/gif");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff(b"%PDF-1.7"), "application/pdf");
        assert_eq!(sniff(b"<html><script>"), "application/octet-stream");
        assert_eq!(sniff(b"<svg onload=alert(1)>"), "application/octet-stream");
        assert_eq!(sniff(b""), "application/octet-stream");
    }

    #[test]
    fn names_lose_their_folders_and_controls() {
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(
            clean_name("C:\\docs\\合同.pdf").as_deref(),
            Some("合同.pdf")
        );
        assert_eq!(clean_name("a\r\nb.txt").as_deref(), Some("ab.txt"));
        assert_eq!(clean_name(" .hidden ").as_deref(), Some("hidden"));
        assert_eq!(clean_name("dir/"), None);
        assert_eq!(clean_name("  "), None);
        assert_eq!(
            clean_name("invoice\u{202e}fdp.exe").as_deref(),
            Some("invoicefdp.exe")
        );
        assert_eq!(clean_name("\u{200b}"), None);
        assert_eq!(clean_name("\u{feff}a.txt").as_deref(), Some("a.txt"));
        assert_eq!(clean_name(&"x".repeat(500)).map(|n| n.len()), Some(200));
    }
}
