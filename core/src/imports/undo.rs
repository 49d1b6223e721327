//! Undoing an import as one batch: claimed and planned at once (so a refusal is immediate),
//! then gone through in chunks — on the caller's thread or in the background.

use super::*;
use crate::db;
use crate::store::Store;
use serde_json::Map;

/// An undo that has been claimed (the import is `undoing`) and is ready to go through the
/// records: what to do to each, last written first.
#[derive(Debug)]
pub struct UndoPlan {
    id: i64,
    entity: String,
    /// The status the undo started from (`done` or `interrupted`).
    from: ImportStatus,
    records: Vec<(i64, Undo)>,
}

impl UndoPlan {
    /// The import being undone.
    pub fn import_id(&self) -> i64 {
        self.id
    }
}

/// What undoing one record means: delete it (the import created it) or give its fields their
/// values from before the import's first write, at the version of its last write.
#[derive(Debug)]
struct Undo {
    inserted: bool,
    before: Map<String, Json>,
    version: i64,
}

/// An undo that stops: `undo_stopped` if a chunk of it was committed (its report written),
/// else back to the status it started from. For one import (`?1`) or, with `?1` NULL, every
/// undo going when the server stopped.
pub(crate) const STOP_UNDO: &str = "UPDATE imports SET
        status = CASE WHEN undo_report IS NULL THEN COALESCE(undo_from, 'done') ELSE 'undo_stopped' END,
        undone_by = CASE WHEN undo_report IS NULL THEN NULL ELSE undone_by END,
        undone_at = CASE WHEN undo_report IS NULL THEN NULL ELSE undone_at END
     WHERE status = 'undoing' AND (id = ?1 OR ?1 IS NULL)";

/// One row an import wrote: record id, action, version after, fields before.
type Done = (i64, String, i64, Option<String>);

impl Store {
    /// What an import wrote, in order.
    fn import_rows(&self, id: i64) -> Result<Vec<Done>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT record_id, action, version, before FROM import_rows
                 WHERE import_id = ?1 ORDER BY seq",
            )?;
            let rows =
                stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<crate::db::DbResult<Vec<_>>>()?)
        })
    }

    /// Claims an import for its undo (status `undoing`) and plans it, or says why not: the
    /// records it created are to be deleted and the records it updated to get their earlier
    /// values back. Refused up front when the caller could not delete (or update) what the
    /// import wrote, when it is not finished, or when it was undone already.
    pub fn begin_undo_import(&self, access: &Access, id: i64) -> Result<UndoPlan> {
        let log = self.import_log(access, id)?;
        if log.entity == "user" {
            return Err(Error::conflict(
                "imported users are not undone: deactivate the ones that should not be there",
            ));
        }
        let check = |rows: &[Done]| -> Result<()> {
            let perm = access.permission(&log.entity);
            if rows.iter().any(|r| r.1 == "insert") && !perm.delete {
                return Err(Error::Forbidden(format!(
                    "undoing this import deletes the {} records it created; only someone who \
                     may delete them can undo it",
                    log.entity
                )));
            }
            if rows.iter().any(|r| r.1 == "update") && !perm.update {
                return Err(Error::Forbidden(format!(
                    "undoing this import changes {} records back; only someone who may update \
                     them can undo it",
                    log.entity
                )));
            }
            Ok(())
        };
        // Refused before anything changes; checked again on what the claimed import wrote.
        check(&self.import_rows(id)?)?;
        let claimed = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE imports SET status = 'undoing', undo_from = status, undone_by = ?2,
                 undone_at = ?3, undo_report = NULL, host = ?4
                 WHERE id = ?1 AND status IN ('done', 'interrupted', 'undo_stopped')",
                (id, access.user_id, db::now_text(), self.host_id()),
            )?)
        })?;
        if claimed == 0 {
            return Err(Error::conflict(match log.status {
                ImportStatus::Undone => "this import has been undone already",
                ImportStatus::Undoing => "this import is being undone",
                ImportStatus::Checking | ImportStatus::Running => {
                    "this import is going through its rows; undo it when it has finished"
                }
                _ => "only a finished import can be undone",
            }));
        }
        // Claimed: nothing writes its rows any more. The plan is made from what it wrote now,
        // and from the status it was claimed in (not the one read before).
        let rows = self.import_rows(id)?;
        let from: String = self.read(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(undo_from, 'done') FROM imports WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?)
        })?;
        let from = ImportStatus::parse(&from);
        if let Err(e) = check(&rows) {
            // Nothing undone yet: back where it started.
            self.abandon_undo_import(id)?;
            return Err(e);
        }
        // Per record: what the import first did to it, the fields as they were before its first
        // write (the earliest value of each field wins), and its version after the last write.
        let mut order: Vec<i64> = Vec::new();
        let mut undo: std::collections::HashMap<i64, Undo> = Default::default();
        for (record_id, action, version, before) in rows {
            let before: Map<String, Json> = before
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or_default();
            match undo.get_mut(&record_id) {
                Some(u) => {
                    u.version = version;
                    for (k, v) in before {
                        u.before.entry(k).or_insert(v);
                    }
                }
                None => {
                    order.push(record_id);
                    undo.insert(
                        record_id,
                        Undo {
                            inserted: action == "insert",
                            before,
                            version,
                        },
                    );
                }
            }
        }
        // The last written first.
        order.reverse();
        let records = order
            .into_iter()
            .filter_map(|r| undo.remove(&r).map(|u| (r, u)))
            .collect();
        Ok(UndoPlan {
            id,
            entity: log.entity,
            from,
            records,
        })
    }

    /// Goes through a claimed undo's records in chunks of one transaction each (as the
    /// caller: permissions, hooks and workflows as for any write); a record changed since, or
    /// refused for another reason (such as others now referencing it), is left as it is and
    /// listed. Ends the import `undone` — or, when nothing could be undone, as it was, with
    /// the report saying why.
    pub fn run_undo_import(&self, access: &Access, plan: UndoPlan) -> Result<UndoReport> {
        let UndoPlan {
            id,
            entity,
            from,
            records,
        } = plan;
        let mut report = UndoReport::default();
        // Finishing an undo that stopped: a record it created that is gone was deleted by
        // that undo (or since) — either way, undone.
        let again = from == ImportStatus::UndoStopped;
        for chunk in records.chunks(500) {
            let scope = self.begin_call_alone()?;
            for (record_id, u) in chunk {
                let outcome = if u.inserted {
                    self.delete(access, &entity, *record_id, u.version)
                        .map(|()| true)
                } else {
                    self.update(access, &entity, *record_id, u.version, &u.before)
                        .map(|_| false)
                };
                match outcome {
                    Ok(true) => report.deleted += 1,
                    Ok(false) => report.restored += 1,
                    // Gone for everyone (not merely out of the caller's reach now).
                    Err(Error::NotFound(_))
                        if again
                            && u.inserted
                            && matches!(
                                self.get(&Access::system(), &entity, *record_id),
                                Err(Error::NotFound(_))
                            ) =>
                    {
                        report.deleted += 1
                    }
                    Err(e) => {
                        report.skipped_total += 1;
                        if report.skipped.len() >= MAX_KEPT_SKIPS {
                            continue;
                        }
                        let (en, zh) = match e {
                            Error::StaleVersion { .. } | Error::NotFound(_) if again => (
                                "changed since the import (or restored by the undo that stopped); left as it is".to_string(),
                                "导入后已被修改（或已由中途停止的撤销恢复），保持不变".to_string(),
                            ),
                            Error::StaleVersion { .. } | Error::NotFound(_) => (
                                "changed or deleted since the import; left as it is".to_string(),
                                "导入后已被修改或删除，保持不变".to_string(),
                            ),
                            other => (describe(&other, Locale::En), describe(&other, Locale::ZhCn)),
                        };
                        report.skipped.push(UndoSkip {
                            record_id: *record_id,
                            en,
                            zh,
                        });
                    }
                }
            }
            // How far it came, committed with the chunk: an undo stopped after this has
            // undone something, one stopped before it has not.
            let so_far = serde_json::to_string(&report).unwrap_or_default();
            self.write(|tx| {
                let ours = tx.execute(
                    "UPDATE imports SET undo_report = ?2
                     WHERE id = ?1 AND status = 'undoing' AND host IS ?3",
                    (id, &so_far, self.host_id()),
                )?;
                if ours == 0 {
                    return Err(Error::conflict(
                        "this undo was taken over (its host was taken for gone); it stops here"
                            .to_string(),
                    ));
                }
                Ok(())
            })?;
            scope.finish(true)?;
        }
        let stored = serde_json::to_string(&report).unwrap_or_default();
        // When nothing could be undone the import stays as it was — unless an undo already
        // took part of it away, which this run finished.
        let nothing_undone = report.deleted + report.restored == 0
            && report.skipped_total > 0
            && from != ImportStatus::UndoStopped;
        self.write(|tx| {
            if nothing_undone {
                tx.execute(
                    "UPDATE imports SET status = ?2, undone_by = NULL, undone_at = NULL,
                     undo_from = NULL, undo_report = ?3 WHERE id = ?1",
                    (id, from.as_str(), stored),
                )?;
            } else {
                tx.execute(
                    "UPDATE imports SET status = 'undone', undo_from = NULL, undo_report = ?2
                     WHERE id = ?1",
                    (id, stored),
                )?;
            }
            Ok(())
        })?;
        Ok(report)
    }

    /// Ends an undo that could not go on (its thread failed, or never started): stopped
    /// part-way when a chunk of it was committed — what was undone stays undone, and only
    /// undoing it again, to the end, is offered — else back where it started.
    pub fn abandon_undo_import(&self, id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(STOP_UNDO, [id])?;
            Ok(())
        })
    }
}
