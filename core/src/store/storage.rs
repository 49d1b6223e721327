//! Upkeep of an entity type's storage: rebuilding its full-text index from its records, and
//! moving an install made before storage names were collision-free (see `db::ddl`) to the
//! current names.

use super::records::{from_row, select_list};
use super::{registry, Store};
use crate::db::ddl;
use crate::db::Conn;
use crate::schema::{Entity, EntityDef};
use crate::search::index_text;
use crate::{Access, Error, Result};

/// Drops an entity type's full-text table and fills a new one from its records: whatever the
/// old index held (stale or damaged entries), the new one holds exactly the records' text —
/// none for a type kept out of the index. Returns the number of records indexed.
pub(super) fn rebuild_search(conn: &Conn, e: &Entity) -> Result<usize> {
    let fts = ddl::fts_table(&e.name);
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {fts}"))?;
    ddl::ensure_fts(conn, &e.name)?;
    if !e.searchable {
        return Ok(0); // kept out of the index: the table stays empty
    }
    let mut insert = conn.prepare(&format!("INSERT INTO {fts} (rowid, body) VALUES (?1, ?2)"))?;
    let mut select = conn.prepare(&format!(
        "SELECT {} FROM {} ORDER BY id",
        select_list(e),
        ddl::table(&e.name)
    ))?;
    let mut rows = select.query([])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let r = from_row(e, &row)?;
        let body = index_text(e, &r.values);
        if !body.is_empty() {
            insert.execute((r.id, body))?;
        }
        n += 1;
    }
    Ok(n)
}

/// Index and full-text table names made before names were collision-free: indexes of record
/// tables without a `:` in their name, and full-text tables named `fts_<entity>`.
fn old_names(conn: &Conn) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT type, name FROM sqlite_master
         WHERE (type = 'index' AND sql IS NOT NULL AND instr(name, ':') = 0
                AND tbl_name LIKE 'r\\_%' ESCAPE '\\')
            OR (type = 'table' AND name LIKE 'fts\\_%' ESCAPE '\\'
                AND sql LIKE 'CREATE VIRTUAL TABLE%')",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Moves storage made under the old names to the current ones, on `conn` (in the caller's
/// transaction): drops the old indexes and full-text tables, makes every entity type's
/// indexes again under their new names and rebuilds every full-text index from the records
/// (an old index may have been damaged by an entity type whose name collided with its
/// shadow tables). A no-op when nothing has an old name, which is every open after the first.
pub(super) fn upgrade_storage_names(conn: &Conn) -> Result<()> {
    if conn.is_postgres() {
        return Ok(()); // PostgreSQL installs began with the current names
    }
    let old = old_names(conn)?;
    if old.is_empty() {
        return Ok(());
    }
    for (kind, name) in &old {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let what = if kind == "index" { "INDEX" } else { "TABLE" };
        conn.execute_batch(&format!("DROP {what} IF EXISTS {quoted}"))?;
    }
    let schema = registry::load(conn)?;
    let mut defs = conn.prepare("SELECT name, def FROM schema_entities")?;
    let composite = defs
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    for e in schema.entities() {
        ddl::ensure_table(conn, &e.name)?;
        for f in &e.fields {
            match ddl::ensure_column(conn, &e.name, &f.def) {
                // Existing records sharing values of a unique field (possible only if an old
                // name collision dropped its unique index): the store still checks uniqueness
                // on every write, and the install must open.
                Err(err @ Error::Conflict { .. }) => tracing::warn!(
                    entity = %e.name, field = %f.def.name, error = %err,
                    "could not make a unique index under its new name"
                ),
                other => {
                    other?;
                }
            }
        }
        let indexes = composite
            .iter()
            .find(|(n, _)| n == &e.name)
            .and_then(|(_, def)| serde_json::from_str::<EntityDef>(def).ok())
            .map(|d| d.indexes)
            .unwrap_or_default();
        for ix in &indexes {
            ddl::ensure_composite_index(conn, &e.name, ix)?;
        }
        rebuild_search(conn, e)?;
    }
    tracing::info!(
        renamed = old.len(),
        "moved indexes and full-text tables to collision-free names"
    );
    Ok(())
}

impl Store {
    /// After definitions changed: the types of `names` put into (or taken out of) the
    /// full-text index, or given a numbered field whose new numbers its records now carry, get
    /// their index rebuilt from their records (or emptied), in the same batch as the
    /// definitions.
    pub(super) fn reindex_after_definitions(
        &self,
        before: &crate::schema::Schema,
        names: &[&str],
    ) -> Result<()> {
        let now = self.schema();
        for name in names {
            let (Some(was), Some(e)) = (before.entity(name), now.entity(name)) else {
                continue;
            };
            let numbered_added = e
                .fields
                .iter()
                .any(|f| f.def.numbered() && was.field(&f.def.name).is_none());
            if was.searchable != e.searchable || (numbered_added && e.searchable) {
                let e = e.clone();
                self.write(|tx| rebuild_search(tx, &e).map(|_| ()))?;
            }
        }
        Ok(())
    }

    /// Rebuilds an entity type's full-text index from its records (administrators only):
    /// the repair for an index that search finds damaged or out of step. Returns the number
    /// of records indexed.
    pub fn reindex(&self, access: &Access, entity: &str) -> Result<usize> {
        access.require_admin()?;
        let schema = self.schema();
        let e = schema
            .entity(entity)
            .ok_or_else(|| Error::NotFound(format!("no entity type '{entity}'")))?;
        self.write(|tx| rebuild_search(tx, e))
    }
}
