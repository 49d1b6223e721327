//! Reading a record's change history: whole (oldest first) or a page of it (newest first) —
//! with the entries of the records merged into it.

use super::records::{entity_seen, load};
use super::scope::in_scope;
use super::Store;
use crate::record::HistoryEntry;
use crate::{Access, Error, Result};

/// A page of history as read, before the caller's field rules: how many rows were read and
/// the oldest row's id (where the next page starts).
pub(super) struct HistoryPage {
    /// The entries the caller may see, newest first.
    pub entries: Vec<HistoryEntry>,
    /// Rows read (hidden-only changes included).
    pub read: usize,
    /// The smallest row id read.
    pub oldest: Option<i64>,
}

impl Store {
    /// The history of a record, oldest first. Needs read permission and the record in scope;
    /// the history of a deleted record is visible to administrators only. Changes of fields
    /// the caller's role hides are left out.
    pub fn history(&self, access: &Access, entity: &str, id: i64) -> Result<Vec<HistoryEntry>> {
        let page = self.history_rows(access, entity, id, None, None)?;
        if page.read == 0 {
            return Err(Error::NotFound(format!("no {entity} with id {id}")));
        }
        let mut rows = page.entries;
        rows.reverse();
        Ok(rows)
    }

    /// At most `limit` of a record's history rows older than row `before` (all rows without
    /// it), newest first, as [`Store::history`] checks and redacts them.
    pub(super) fn history_rows(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        limit: Option<usize>,
        before: Option<i64>,
    ) -> Result<HistoryPage> {
        let schema = self.schema();
        let (e, perm) = entity_seen(self, access, entity)?;
        self.read(|c| {
            match load(c, &e, id)? {
                Some(r) if in_scope(c, access, &perm, &r)? => {}
                None if access.is_admin() => {}
                _ => return Err(Error::NotFound(format!("no {entity} with id {id}"))),
            }
            // The records merged into this one wrote part of its story.
            let mut ids = vec![id];
            ids.extend(super::merge::merged_ids(c, entity, id)?);
            let marks = vec!["?"; ids.len()].join(", ");
            let limit = limit.map_or(i64::MAX, |l| l as i64);
            let mut stmt = c.prepare_cached(&format!(
                "SELECT id, version, action, user_id, at, changes, record_id FROM history
                 WHERE entity = ? AND record_id IN ({marks}) AND id < ?
                 ORDER BY id DESC LIMIT ?"
            ))?;
            let params = std::iter::once(crate::db::Value::Text(entity.to_string()))
                .chain(ids.iter().map(|i| crate::db::Value::Integer(*i)))
                .chain([
                    crate::db::Value::Integer(before.unwrap_or(i64::MAX)),
                    crate::db::Value::Integer(limit),
                ]);
            let mut rows = stmt
                .query_map(crate::db::params_from_iter(params), |r| {
                    let changes: String = r.get(5)?;
                    let record_id: i64 = r.get(6)?;
                    Ok(HistoryEntry {
                        id: r.get(0)?,
                        version: r.get(1)?,
                        action: r.get(2)?,
                        user_id: r.get(3)?,
                        at: r.get(4)?,
                        changes: serde_json::from_str(&changes).unwrap_or_default(),
                        merged_from: (record_id != id).then_some(record_id),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let read = rows.len();
            let oldest = rows.last().map(|r| r.id);
            if let Some(whole) = schema.entity(entity) {
                super::field_rules::redact_history(access, whole, &mut rows);
            }
            Ok(HistoryPage {
                entries: rows,
                read,
                oldest,
            })
        })
    }
}
