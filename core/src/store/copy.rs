//! Moving an install from its SQLite file to a PostgreSQL database (`qingguan migrate`): every
//! table copied row for row in one PostgreSQL transaction — records, history, schema and its
//! overlay, users, sessions (unless left out), plugins with their kept versions and key-value
//! stores, settings — the full-text index rebuilt there from the records, and the row counts
//! of both sides compared before it commits. A failure leaves the target as it was.

use super::{registry, storage, Store, StoreOptions};
use crate::db::{self, Conn, Value};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// What a copy moved: rows per table (the same on both sides, or it would have failed).
#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    /// Records indexed for full-text search.
    pub indexed: usize,
}

/// Tables the target keeps up itself: usage totals (kept by a trigger as the key-value rows
/// arrive), and which hosts serve it and whose turn it is at what (its own hosts').
const KEPT_BY_TARGET: [&str; 3] = ["plugin_kv_usage", "hosts", "turns"];

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The source's tables to copy, with the statement that made each: not SQLite's own, not the
/// full-text tables nor their shadow tables (the index is rebuilt from the records), not the
/// tokens and log of record writes (`db/record_writes.rs`: SQLite's alone); a table
/// after every table it refers to, so that its references find their rows.
fn source_tables(src: &Conn) -> Result<Vec<(String, String)>> {
    let all: Vec<(String, String)> = src
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN ('record_writes', 'record_changes')
             ORDER BY name",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<db::DbResult<_>>()?;
    let virtual_tables: Vec<String> = all
        .iter()
        .filter(|(_, sql)| sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL TABLE"))
        .map(|(name, _)| name.clone())
        .collect();
    let tables: Vec<(String, String)> = all
        .into_iter()
        .filter(|(name, _)| {
            !virtual_tables
                .iter()
                .any(|v| name == v || name.starts_with(&format!("{v}_")))
        })
        .collect();
    let mut refers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, _) in &tables {
        let parents: Vec<String> = src
            .prepare(&format!("PRAGMA foreign_key_list({})", quoted(name)))?
            .query_map([], |r| r.get::<_, String>(2))?
            .collect::<db::DbResult<_>>()?;
        refers.insert(
            name.clone(),
            parents.into_iter().filter(|p| p != name).collect(),
        );
    }
    // Parents first; a cycle (none today) keeps name order for what is left.
    let mut ordered: Vec<(String, String)> = Vec::with_capacity(tables.len());
    let mut left = tables;
    while !left.is_empty() {
        let placed: Vec<&String> = ordered.iter().map(|(n, _)| n).collect();
        let ready = left.iter().position(|(name, _)| {
            refers[name]
                .iter()
                .all(|p| placed.contains(&p) || !refers.contains_key(p))
        });
        ordered.push(left.remove(ready.unwrap_or(0)));
    }
    Ok(ordered)
}

fn columns_of(src: &Conn, table: &str) -> Result<Vec<String>> {
    Ok(src
        .prepare(&format!("PRAGMA table_info({})", quoted(table)))?
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<db::DbResult<_>>()?)
}

fn count(conn: &Conn, table: &str) -> Result<u64> {
    let n: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM {}", quoted(table)),
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

fn target_has_table(dst: &Conn, table: &str) -> Result<bool> {
    Ok(dst
        .prepare("SELECT 1 FROM information_schema.tables WHERE table_name = ?1 AND table_schema = current_schema()")?
        .exists([table])?)
}

/// Adds the columns of a source table the target's lacks (custom fields), typed as in the
/// source.
fn add_missing_columns(src: &Conn, dst: &Conn, table: &str) -> Result<()> {
    let there: Vec<String> = dst
        .prepare(
            "SELECT column_name FROM information_schema.columns
             WHERE table_name = ?1 AND table_schema = current_schema()",
        )?
        .query_map([table], |r| r.get(0))?
        .collect::<db::DbResult<_>>()?;
    let declared: Vec<(String, String)> = src
        .prepare(&format!("PRAGMA table_info({})", quoted(table)))?
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?)))?
        .collect::<db::DbResult<_>>()?;
    for (column, kind) in declared {
        if !there.contains(&column) {
            dst.execute_batch(&format!(
                "ALTER TABLE {} ADD COLUMN {} {kind}",
                quoted(table),
                quoted(&column)
            ))?;
        }
    }
    Ok(())
}

/// Makes the source table's indexes the target lacks.
fn copy_indexes(src: &Conn, dst: &Conn, table: &str) -> Result<()> {
    let indexes: Vec<(String, String)> = src
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1
             AND sql IS NOT NULL",
        )?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<db::DbResult<_>>()?;
    for (name, sql) in indexes {
        let exists = dst
            .prepare(
                "SELECT 1 FROM pg_indexes WHERE indexname = ?1 AND schemaname = current_schema()",
            )?
            .exists([&name])?;
        if !exists {
            dst.execute_batch(&sql)?;
        }
    }
    Ok(())
}

/// Copies one table's rows, in batches of one multi-row insert each.
fn copy_rows(src: &Conn, dst: &Conn, table: &str) -> Result<u64> {
    let cols = columns_of(src, table)?;
    let list: Vec<String> = cols.iter().map(|c| quoted(c)).collect();
    let list = list.join(", ");
    let mut read = src.prepare(&format!("SELECT {list} FROM {}", quoted(table)))?;
    let mut rows = read.query([])?;
    let per_batch = (1000 / cols.len().max(1)).max(1);
    let mut batch: Vec<Value> = Vec::new();
    let mut in_batch = 0;
    let mut copied = 0;
    let flush = |batch: &mut Vec<Value>, n: usize| -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let mut marks = Vec::with_capacity(n);
        for row in 0..n {
            let one: Vec<String> = (0..cols.len())
                .map(|c| format!("?{}", row * cols.len() + c + 1))
                .collect();
            marks.push(format!("({})", one.join(", ")));
        }
        dst.execute(
            &format!(
                "INSERT INTO {} ({list}) VALUES {}",
                quoted(table),
                marks.join(", ")
            ),
            db::params_from_iter(batch.drain(..)),
        )?;
        Ok(())
    };
    while let Some(row) = rows.next()? {
        for c in 0..cols.len() {
            batch.push(row.get_ref(c)?.to_owned());
        }
        in_batch += 1;
        copied += 1;
        if in_batch == per_batch {
            flush(&mut batch, in_batch)?;
            in_batch = 0;
        }
    }
    flush(&mut batch, in_batch)?;
    Ok(copied)
}

/// Moves identity columns past the ids copied in — and past every id SQLite ever gave
/// (`sqlite_sequence`: a deleted record's id is never given again, since history, imports and
/// merges still name it) — so that new rows take new ids.
fn advance_identities(src: &Conn, dst: &Conn) -> Result<()> {
    let given: BTreeMap<String, i64> = if src
        .prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")?
        .exists([])?
    {
        src.prepare("SELECT name, seq FROM sqlite_sequence")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<db::DbResult<_>>()?
    } else {
        BTreeMap::new()
    };
    let identities: Vec<(String, String)> = dst
        .prepare(
            "SELECT table_name, column_name FROM information_schema.columns
             WHERE is_identity = 'YES' AND table_schema = current_schema()",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<db::DbResult<_>>()?;
    for (table, column) in identities {
        dst.execute_batch_native(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           GREATEST(COALESCE((SELECT MAX({c}) FROM {t}), 0), {given}) + 1, false)",
            c = quoted(&column),
            t = quoted(&table),
            given = given.get(&table).copied().unwrap_or(0),
        ))?;
    }
    Ok(())
}

/// Copies the SQLite install at `source` (its database file) into the PostgreSQL database at
/// `target`, which must hold no install yet (an empty database, or one only opened). Sessions
/// are copied when `sessions` (users stay signed in). The source is only read; it must be at
/// this version's schema (serve it once with this version first).
pub fn copy_to_postgres(source: &Path, target: &str, sessions: bool) -> Result<CopyReport> {
    if !source.is_file() {
        return Err(Error::conflict(format!(
            "no database at {}",
            source.display()
        )));
    }
    let src = db::open_read_only(source)?;
    // One snapshot of the source for the whole copy, whatever else writes to it meanwhile.
    src.execute_batch("BEGIN")?;
    let version: i64 = src.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != db::migrations::newest() {
        return Err(Error::conflict(format!(
            "{} is at schema version {version}, this qingguan at {}: serve it once with this \
             version first",
            source.display(),
            db::migrations::newest()
        )));
    }
    // The target's tables, functions and triggers, made as a new install makes them.
    let fresh = Store::open(StoreOptions::postgres(target))?;
    let users: i64 =
        fresh.read(|c| Ok(c.query_row("SELECT COUNT(*) FROM r_user", [], |r| r.get(0))?))?;
    drop(fresh);
    if users > 0 {
        return Err(Error::conflict(
            "the target database already holds an install (it has users); copy into an empty one"
                .to_string(),
        ));
    }
    let mut dst = db::open_postgres(target)?;
    let tx = dst.immediate_transaction()?;
    let mut report = CopyReport::default();
    for (table, create) in source_tables(&src)? {
        if KEPT_BY_TARGET.contains(&table.as_str()) || (table == "sessions" && !sessions) {
            continue;
        }
        if target_has_table(&tx, &table)? {
            if count(&tx, &table)? > 0 {
                tx.execute_batch(&format!("DELETE FROM {}", quoted(&table)))?;
            }
            add_missing_columns(&src, &tx, &table)?;
        } else {
            tx.execute_batch(&create)?;
        }
        copy_indexes(&src, &tx, &table)?;
        let copied = copy_rows(&src, &tx, &table)?;
        let there = count(&tx, &table)?;
        if there != copied || there != count(&src, &table)? {
            return Err(Error::Database(format!(
                "{table}: {copied} rows read, {there} in the target; nothing was copied"
            )));
        }
        report.tables.insert(table, there);
    }
    advance_identities(&src, &tx)?;
    for e in registry::load(&tx)?.entities() {
        report.indexed += storage::rebuild_search(&tx, e)?;
    }
    tx.commit()?;
    Ok(report)
}
