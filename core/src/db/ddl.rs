//! Table and column DDL for record tables. Names are validated machine names, so they are
//! safe to splice into SQL; values are always bound.
//!
//! Storage names never collide, whatever entity types and fields are called: machine names
//! are `a-z`, `0-9` and `_`, so an index name separates entity and columns with `:` (which no
//! machine name contains), and a full-text table ends in `_fts`, which none of the shadow
//! tables FTS5 derives from a table's name (`<name>_data`, `_idx`, `_content`, `_docsize`,
//! `_config`) does — so no entity's full-text table is another's shadow table.

use crate::db::Conn;
use crate::schema::{Column, FieldDef, FieldType};
use crate::{Error, Reason, Result};

/// The table holding an entity type's records.
pub(crate) fn table(entity: &str) -> String {
    format!("r_{entity}")
}

/// The full-text table of an entity type (rowid = record id).
pub(crate) fn fts_table(entity: &str) -> String {
    format!("search_{entity}_fts")
}

/// The name of an index on an entity type's table: `{kind}_{entity}:{column}:…`, quoted.
pub(super) fn index_name(kind: &str, entity: &str, columns: &[&str]) -> String {
    format!("\"{kind}_{entity}:{}\"", columns.join(":"))
}

/// Creates (empty) the full-text table of an entity type if missing. On PostgreSQL it is a
/// table of record ids and their text, with the text's terms (`simple`: every CJK character
/// and Latin word, lowercased, with positions; ASCII punctuation separates words, as FTS5's
/// tokenizer has it, rather than making hyphenated words, signed numbers or addresses) in a
/// GIN index.
pub(crate) fn ensure_fts(conn: &Conn, entity: &str) -> Result<()> {
    if conn.is_postgres() {
        let fts = fts_table(entity);
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {fts} (
                rowid BIGINT PRIMARY KEY,
                body  TEXT NOT NULL,
                terms tsvector GENERATED ALWAYS AS
                    (to_tsvector('simple',
                        regexp_replace(left(body, 200000), '[[:punct:]]+', ' ', 'g'))) STORED
            );
            CREATE INDEX IF NOT EXISTS \"{fts}:terms\" ON {fts} USING gin (terms);"
        ))?;
        return Ok(());
    }
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE IF NOT EXISTS {} USING fts5(
            body, content = '', contentless_delete = 1,
            tokenize = 'unicode61 remove_diacritics 2'
        );",
        fts_table(entity)
    ))?;
    Ok(())
}

/// The column of a field; system columns keep their own names.
pub(crate) fn column(field: &str) -> String {
    if crate::schema::validate_system_column(field) {
        field.to_string()
    } else {
        format!("c_{field}")
    }
}

fn sql_type(kind: FieldType) -> &'static str {
    match kind.info().column {
        Column::Integer => "INTEGER",
        Column::Text => "TEXT",
    }
}

/// The system columns every record table indexes (a list may walk them like a field's index).
pub(crate) const SYSTEM_INDEXED: [&str; 3] = ["owner", "created_at", "updated_at"];

/// Creates the record table, its system indexes and its full-text table if missing.
pub(crate) fn ensure_table(conn: &Conn, entity: &str) -> Result<()> {
    let t = table(entity);
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {t} (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            version     INTEGER NOT NULL DEFAULT 1,
            owner       INTEGER,
            created_by  INTEGER,
            created_at  TEXT NOT NULL,
            updated_by  INTEGER,
            updated_at  TEXT NOT NULL
        );"
    ))?;
    // Its indexes, the system columns' with the fields', come from `keep_field_indexes` once
    // its fields are declared.
    super::record_writes::ensure(conn, entity, &t)?;
    ensure_fts(conn, entity)
}

/// Makes the write tokens and their triggers (`record_writes.rs`) of every type whose table
/// there is, at start-up: a database made before there were tokens gets them, and a type's table
/// made again by hand gets its triggers back.
pub(crate) fn ensure_tables_watched(conn: &Conn) -> Result<()> {
    if conn.is_postgres() {
        return Ok(());
    }
    let names: Vec<String> = conn
        .prepare("SELECT name FROM schema_entities")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<crate::db::DbResult<_>>()?;
    let mut exists =
        conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?;
    for name in names {
        let t = table(&name);
        if exists.exists([&t])? {
            super::record_writes::ensure(conn, &name, &t)?;
        }
    }
    Ok(())
}

/// The names of the indexes on a table.
pub(super) fn index_names(conn: &Conn, table: &str) -> Result<Vec<String>> {
    let sql = if conn.is_postgres() {
        "SELECT indexname FROM pg_indexes WHERE tablename = ?1 AND schemaname = current_schema()"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1"
    };
    let names = conn
        .prepare(sql)?
        .query_map([table], |r| r.get::<_, String>(0))?
        .collect::<crate::db::DbResult<_>>()?;
    Ok(names)
}

/// Existing column names of a record table.
pub(crate) fn columns(conn: &Conn, entity: &str) -> Result<Vec<String>> {
    if conn.is_postgres() {
        let names = conn
            .prepare(
                "SELECT column_name FROM information_schema.columns
                 WHERE table_name = ?1 AND table_schema = current_schema()",
            )?
            .query_map([table(entity)], |r| r.get::<_, String>(0))?
            .collect::<crate::db::DbResult<_>>()?;
        return Ok(names);
    }
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", table(entity)))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

/// Adds the column for a field if missing, and its unique index; whether the column
/// is new (what existing records should hold in it is the store's business).
pub(crate) fn ensure_column(conn: &Conn, entity: &str, def: &FieldDef) -> Result<bool> {
    let t = table(entity);
    let c = column(&def.name);
    let added = !columns(conn, entity)?.contains(&c);
    if added {
        conn.execute_batch(&format!(
            "ALTER TABLE {t} ADD COLUMN {c} {}",
            sql_type(def.kind)
        ))?;
    }
    let ux = index_name("ux", entity, &[&def.name]);
    if def.is_unique() {
        conn.execute_batch(&format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {ux} ON {t} ({c})"
        ))
        .map_err(|e| match e {
            e if e.is_constraint_violation() => Error::conflict_on(
                "unique",
                Reason::SharedValues {
                    entity: entity.to_string(),
                    field: def.name.clone(),
                },
            ),
            other => other.into(),
        })?;
    } else {
        conn.execute_batch(&format!("DROP INDEX IF EXISTS {ux}"))?;
    }
    // Its plain index, if it has one, comes from `keep_field_indexes`.
    Ok(added)
}

/// Drops the composite indexes of an entity type's table that its definition no longer declares
/// (a plugin upgrade that replaced one), so writes stop maintaining them.
pub(crate) fn drop_undeclared_composites(
    conn: &Conn,
    entity: &str,
    declared: &[Vec<String>],
) -> Result<()> {
    let keep: Vec<String> = declared
        .iter()
        .map(|cols| {
            let names: Vec<&str> = cols.iter().map(String::as_str).collect();
            index_name("cx", entity, &names)
                .trim_matches('"')
                .to_string()
        })
        .collect();
    let prefix = format!("cx_{entity}:");
    let existing = index_names(conn, table(entity).trim_matches('"'))?;
    for name in existing {
        if name.starts_with(&prefix) && !keep.contains(&name) {
            conn.execute_batch(&format!("DROP INDEX IF EXISTS \"{name}\""))?;
        }
    }
    Ok(())
}

/// Creates a composite index over some columns (declared by an entity definition; names are
/// checked before they get here).
pub(crate) fn ensure_composite_index(conn: &Conn, entity: &str, columns: &[String]) -> Result<()> {
    let cols: Vec<String> = columns.iter().map(|c| column(c)).collect();
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let name = index_name("cx", entity, &names);
    conn.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS {name} ON {} ({})",
        table(entity),
        cols.join(", ")
    ))?;
    Ok(())
}

/// Keeps exactly the report indexes `wanted` on an entity type's table (each a list of
/// columns: a saved report's groupings then the field it sums), so that a report reads one
/// index instead of every row; indexes no report needs any more are dropped.
pub(crate) fn keep_report_indexes(conn: &Conn, entity: &str, wanted: &[Vec<String>]) -> Result<()> {
    let mut keep = Vec::new();
    let present = columns(conn, entity)?;
    for columns in wanted {
        let cols: Vec<String> = columns.iter().map(|c| column(c)).collect();
        // A report naming a field since removed keeps no index (it no longer runs either).
        if !cols.iter().all(|c| present.contains(c)) {
            continue;
        }
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let name = index_name("rx", entity, &names);
        conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS {name} ON {} ({})",
            table(entity),
            cols.join(", ")
        ))?;
        keep.push(name.trim_matches('"').to_string());
    }
    let prefix = format!("rx_{entity}:");
    let existing = index_names(conn, &table(entity))?;
    for name in existing {
        if name.starts_with(&prefix) && !keep.contains(&name) {
            conn.execute_batch(&format!("DROP INDEX IF EXISTS \"{name}\""))?;
        }
    }
    Ok(())
}
