//! Saved list views: a user's named query strings per entity type.

use crate::db::OptionalExtension;
use crate::store::Store;
use crate::{Error, Reason, Result};

/// Longest name of a saved view, in characters.
const MAX_VIEW_NAME_CHARS: usize = 60;
/// Longest query string of a saved view, in bytes.
const MAX_VIEW_QUERY_BYTES: usize = 2000;

/// A saved list view: a name for a list query string.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SavedView {
    /// Id.
    pub id: i64,
    /// Entity type.
    pub entity: String,
    /// Name the user gave it.
    pub name: String,
    /// The list query string (filters, sort, search).
    pub query: String,
}

impl Store {
    /// A user's saved views of an entity type, by name.
    pub fn saved_views(&self, user_id: i64, entity: &str) -> Result<Vec<SavedView>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, entity, name, query FROM saved_views WHERE user_id = ?1 AND entity = ?2 ORDER BY name",
            )?;
            let rows = stmt
                .query_map((user_id, entity), |r| {
                    Ok(SavedView { id: r.get(0)?, entity: r.get(1)?, name: r.get(2)?, query: r.get(3)? })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Saves (or replaces) a named view; the query must parse as a list query.
    pub fn save_view(&self, user_id: i64, entity: &str, name: &str, query: &str) -> Result<()> {
        let name = check_name(name)?;
        if query.len() > MAX_VIEW_QUERY_BYTES {
            return Err(Error::field(
                "query",
                Reason::QueryTooLong {
                    max: MAX_VIEW_QUERY_BYTES,
                },
            ));
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO saved_views (user_id, entity, name, query) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, entity, name) DO UPDATE SET query = ?4",
                (user_id, entity, name, query),
            )?;
            Ok(())
        })
    }

    /// Renames one of a user's saved views. A view of another user is answered like a
    /// missing one ([`Error::NotFound`]); a name another of the user's views of the same type
    /// already has is a conflict on `name`.
    pub fn rename_view(&self, user_id: i64, id: i64, name: &str) -> Result<()> {
        let name = check_name(name)?;
        self.write(|tx| {
            let entity: Option<String> = tx
                .prepare_cached("SELECT entity FROM saved_views WHERE id = ?1 AND user_id = ?2")?
                .query_row((id, user_id), |r| r.get(0))
                .optional()?;
            let Some(entity) = entity else {
                return Err(Error::NotFound(format!("no saved view with id {id}")));
            };
            let taken: Option<i64> = tx
                .prepare_cached(
                    "SELECT id FROM saved_views WHERE user_id = ?1 AND entity = ?2 AND name = ?3 AND id != ?4",
                )?
                .query_row((user_id, &entity, name, id), |r| r.get(0))
                .optional()?;
            if taken.is_some() {
                return Err(Error::conflict_on(
                    "name",
                    Reason::Duplicate {
                        name: name.to_string(),
                    },
                ));
            }
            tx.execute(
                "UPDATE saved_views SET name = ?3 WHERE id = ?1 AND user_id = ?2",
                (id, user_id, name),
            )?;
            Ok(())
        })
    }

    /// Deletes one of a user's saved views; a view of another user is answered like a
    /// missing one ([`Error::NotFound`]) and stays.
    pub fn delete_view(&self, user_id: i64, id: i64) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM saved_views WHERE id = ?1 AND user_id = ?2",
                (id, user_id),
            )?;
            if n == 0 {
                return Err(Error::NotFound(format!("no saved view with id {id}")));
            }
            Ok(())
        })
    }
}

/// A view name trimmed, or why it is refused.
fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_VIEW_NAME_CHARS {
        return Err(Error::field(
            "name",
            Reason::LengthBetween {
                min: 1,
                max: MAX_VIEW_NAME_CHARS,
            },
        ));
    }
    Ok(name)
}
