//! A record's row: the columns every SELECT lists, building a record from its row, loading one,
//! and what accompanies every write of it — its history row and its full-text entry.

use crate::db::{self, ddl, search_waiting, sql};
use crate::db::{Conn, OptionalExtension, Row, ValueRef};
use crate::record::{OrderedRecord, Record, RecordOf};
use crate::schema::Entity;
use crate::search::index_text;
use crate::value::Value;
use crate::Result;
use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// System columns in the order every SELECT lists them.
pub(super) const SYSTEM_SELECT: &str =
    "id, version, owner, created_by, created_at, updated_by, updated_at";

/// `SELECT` column list for an entity: system columns then every field column.
pub(super) fn select_list(e: &Entity) -> String {
    let mut s = SYSTEM_SELECT.to_string();
    for f in &e.fields {
        s.push_str(", ");
        s.push_str(&ddl::column(&f.def.name));
    }
    s
}

/// Builds a record from a row selected with [`select_list`].
pub(super) fn from_row(e: &Entity, row: &Row<'_>) -> crate::db::DbResult<Record> {
    record_of(e, row, |name, v| (name.to_string(), v))
}

/// Builds a record with its values in `e`'s field order from a row selected with
/// [`select_list`] (no map built: a list page written straight out).
pub(super) fn ordered_from_row(e: &Entity, row: &Row<'_>) -> crate::db::DbResult<OrderedRecord> {
    record_of(e, row, |_, v| v)
}

/// A record of a row selected with [`select_list`], its values collected from what `value`
/// makes of each field's name and value.
fn record_of<V, T>(
    e: &Entity,
    row: &Row<'_>,
    value: impl Fn(&str, Value) -> T,
) -> crate::db::DbResult<RecordOf<V>>
where
    V: FromIterator<T>,
{
    let values = e
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Ok(value(
                &f.def.name,
                sql::from_sql(&f.def, row.get_ref(7 + i)?),
            ))
        })
        .collect::<crate::db::DbResult<V>>()?;
    Ok(RecordOf {
        entity: e.name.clone(),
        id: row.get(0)?,
        version: row.get(1)?,
        owner: row.get(2)?,
        created_by: row.get(3)?,
        created_at: time_at(row, 4)?,
        updated_by: row.get(5)?,
        updated_at: time_at(row, 6)?,
        values,
    })
}

/// A stored time (RFC 3339 text) read in place, without copying the text out first.
fn time_at(row: &Row<'_>, column: usize) -> crate::db::DbResult<DateTime<Utc>> {
    if let ValueRef::Text(t) = row.get_ref(column)? {
        if let Ok(text) = std::str::from_utf8(t) {
            return Ok(db::parse_time(text));
        }
    }
    // Anything else is refused as a time column holding what no time is.
    row.get::<_, String>(column).map(|s| db::parse_time(&s))
}

/// Loads a record without any permission check.
pub(super) fn load(conn: &Conn, e: &Entity, id: i64) -> Result<Option<Record>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = ?1",
        select_list(e),
        ddl::table(&e.name)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt.query_row([id], |r| from_row(e, r)).optional()?)
}

pub(super) fn write_history(
    conn: &Conn,
    entity: &str,
    id: i64,
    version: i64,
    action: &str,
    user: Option<i64>,
    changes: &BTreeMap<String, [Json; 2]>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO history (entity, record_id, version, action, user_id, at, changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute((
        entity,
        id,
        version,
        action,
        user,
        db::now_text(),
        serde_json::to_string(changes).unwrap_or_default(),
    ))?;
    Ok(())
}

/// Replaces (or, with `None`, removes) a record's full-text entry. A new record has none to
/// remove (`fresh`), which saves a lookup on every create. A type kept out of the index has
/// none at all.
pub(super) fn write_search(
    conn: &Conn,
    e: &Entity,
    id: i64,
    values: Option<&BTreeMap<String, Value>>,
    fresh: bool,
) -> Result<()> {
    if !e.searchable {
        return Ok(());
    }
    let fts = ddl::fts_table(&e.name);
    // On SQLite a transaction's new records' entries after its first wait for the commit
    // (`db/search_waiting.rs`); a changed or deleted one is written now, its waiting entry
    // (made earlier in this transaction) dropped.
    let waits = !conn.is_postgres() && !conn.is_autocommit();
    if !fresh {
        if waits {
            search_waiting::forget(conn, &e.name, id)?;
        }
        conn.prepare_cached(&format!("DELETE FROM {fts} WHERE rowid = ?1"))?
            .execute([id])?;
    }
    if let Some(values) = values {
        let body = index_text(e, values, conn.is_postgres());
        let waited =
            !body.is_empty() && fresh && waits && search_waiting::wait(conn, &e.name, id, &body)?;
        if !body.is_empty() && !waited {
            conn.prepare_cached(&format!("INSERT INTO {fts} (rowid, body) VALUES (?1, ?2)"))?
                .execute((id, body))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::db::ddl;
    use crate::Access;
    use serde_json::json;

    /// A stored time that is not text a time can be read from (only tampering makes one) fails
    /// the read of its record, rather than reading as 1970; other records read on.
    #[test]
    fn a_stored_time_that_is_not_utf8_fails_its_read() {
        let (_dir, s) = crate::store::tests::store();
        if s.is_postgres() {
            return; // PostgreSQL's text columns refuse such bytes when written
        }
        let sys = Access::system();
        let input = json!({"name": "c", "kind": "company", "status": "lead"});
        let made: Vec<i64> = (0..2)
            .map(|_| {
                s.create(&sys, "customer", input.as_object().unwrap())
                    .unwrap()
                    .id
            })
            .collect();
        let sql = format!(
            "UPDATE {} SET updated_at = CAST(X'FF20' AS TEXT) WHERE id = ?1",
            ddl::table("customer")
        );
        s.write(|c| {
            c.execute(&sql, [made[0]])?;
            Ok(())
        })
        .unwrap();
        assert!(s.get(&sys, "customer", made[0]).is_err());
        let other = s.get(&sys, "customer", made[1]).unwrap();
        assert!(other.updated_at.timestamp() > 0);
    }
}
