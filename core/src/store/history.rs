//! Reading a record's change history.

use super::records::{entity_seen, load};
use super::scope::in_scope;
use super::Store;
use crate::record::HistoryEntry;
use crate::{Access, Error, Result};

impl Store {
    /// The history of a record, oldest first. Needs read permission and the record in scope;
    /// the history of a deleted record is visible to administrators only. Changes of fields
    /// the caller's role hides are left out.
    pub fn history(&self, access: &Access, entity: &str, id: i64) -> Result<Vec<HistoryEntry>> {
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
            let mut stmt = c.prepare_cached(&format!(
                "SELECT id, version, action, user_id, at, changes, record_id FROM history
                 WHERE entity = ? AND record_id IN ({marks}) ORDER BY id"
            ))?;
            let params = std::iter::once(rusqlite::types::Value::Text(entity.to_string()))
                .chain(ids.iter().map(|i| rusqlite::types::Value::Integer(*i)));
            let rows = stmt
                .query_map(rusqlite::params_from_iter(params), |r| {
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
            if rows.is_empty() {
                return Err(Error::NotFound(format!("no {entity} with id {id}")));
            }
            let mut rows = rows;
            if let Some(whole) = schema.entity(entity) {
                super::field_rules::redact_history(access, whole, &mut rows);
            }
            Ok(rows)
        })
    }
}
