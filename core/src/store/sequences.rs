//! Auto-numbers: each new record's number taken from its field's sequence inside the write
//! that makes the record (one writer, so two records never get the same one), and numbers for
//! the records that existed before the field.

use crate::db::ddl;
use crate::db::Conn;
use crate::schema::{Entity, FieldDef, NumberFormat};
use crate::value::Value;
use crate::Result;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The next value of a sequence (1 for a new scope).
fn next(conn: &Conn, entity: &str, field: &str, scope: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO sequences (entity, field, scope, last) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (entity, field, scope) DO UPDATE SET last = sequences.last + 1
             RETURNING last",
        )?
        .query_row((entity, field, scope), |r| r.get(0))?)
}

fn format_of(def: &FieldDef) -> NumberFormat {
    def.format
        .as_deref()
        .and_then(|f| NumberFormat::parse(f).ok())
        .unwrap_or_default()
}

/// Gives a new record of `e` made on `today` the next number of each auto-number field.
pub(super) fn number_new(
    conn: &Conn,
    e: &Entity,
    values: &mut BTreeMap<String, Value>,
    today: NaiveDate,
) -> Result<()> {
    for f in e.fields.iter().filter(|f| f.def.numbered() && !f.retired) {
        let format = format_of(&f.def);
        let n = next(conn, &e.name, f.name(), &format.scope(today))?;
        values.insert(f.def.name.clone(), Value::Text(format.render(today, n)));
    }
    Ok(())
}

/// Numbers the records of `entity` that have no number in field `def`, oldest first, each
/// dated by the day it was made (UTC).
pub(crate) fn number_existing(conn: &Conn, entity: &str, def: &FieldDef) -> Result<()> {
    let format = format_of(def);
    let column = ddl::column(&def.name);
    let table = ddl::table(entity);
    let rows: Vec<(i64, String)> = conn
        .prepare(&format!(
            "SELECT id, created_at FROM {table} WHERE {column} IS NULL ORDER BY id"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::db::DbResult<_>>()?;
    let mut update = conn.prepare(&format!("UPDATE {table} SET {column} = ?1 WHERE id = ?2"))?;
    for (id, created) in rows {
        let day = crate::db::parse_time(&created).date_naive();
        let n = next(conn, entity, &def.name, &format.scope(day))?;
        update.execute((format.render(day, n), id))?;
    }
    Ok(())
}
