//! A token per entity type that every write to its records renews, whoever writes: triggers on
//! the type's table (this host, the command line, a statement from any connection all fire
//! them) set it to a new random number. Read with SQLite's schema version beside it, and only
//! for a type seen to have all three triggers at that version (a trigger dropped, or a table
//! made anew by hand, leaves the type with none to tell), it tells that a type's records are as
//! they were when it was read last, though the database changed meanwhile (what a record or a
//! list page kept in memory asks: `store/kept_by_state.rs`).
//!
//! A token is random, not counted: a database restored from a backup holds tokens of the
//! records it holds, and a count would come round to a number read before for other records.
//! SQLite only: nothing is kept in memory on PostgreSQL.

use super::{Conn, DbResult};
use std::collections::HashSet;
use std::sync::Mutex;

/// The table of tokens, one row per entity type.
const TABLE: &str = "record_writes";

/// The writes that renew a token, a trigger each.
const OPS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

/// The trigger that renews `entity`'s token at each `op`.
fn trigger_name(entity: &str, op: &str) -> String {
    format!("qg_written_{entity}_{}", op.to_ascii_lowercase())
}

/// Makes the token of `entity`, whose records `table` holds, and the triggers that renew it
/// where missing (SQLite; a no-op on PostgreSQL). Called wherever a record table is made, and at
/// every start for every type (`ddl::ensure_tables_watched`).
pub(crate) fn ensure(conn: &Conn, entity: &str, table: &str) -> DbResult<()> {
    if conn.is_postgres() {
        return Ok(());
    }
    // Entity names are machine names (`a-z`, `0-9`, `_`): safe inside a literal.
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (
             entity TEXT PRIMARY KEY,
             token  INTEGER NOT NULL
         ) WITHOUT ROWID;
         INSERT OR IGNORE INTO {TABLE} (entity, token) VALUES ('{entity}', random());"
    );
    for op in OPS {
        sql.push_str(&format!(
            "CREATE TRIGGER IF NOT EXISTS {} AFTER {op} ON {table}
             BEGIN UPDATE {TABLE} SET token = random() WHERE entity = '{entity}'; END;",
            trigger_name(entity, op)
        ));
    }
    conn.execute_batch(&sql)
}

/// What the records of some types were written in: the schema version, then each type's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    schema_version: i64,
    tokens: Vec<i64>,
}

/// The types seen to have every trigger that renews their token, at one schema version (which
/// moves whenever a trigger or table is made or dropped): asked of the schema once per version.
#[derive(Debug, Default)]
pub(crate) struct Watched(Mutex<Option<(i64, HashSet<String>)>>);

impl Watched {
    fn all_seen(&self, schema_version: i64, entities: &[&str]) -> bool {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        seen.as_ref().is_some_and(|(version, types)| {
            *version == schema_version && entities.iter().all(|e| types.contains(*e))
        })
    }

    fn saw(&self, schema_version: i64, entities: &[&str]) {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen
            .as_ref()
            .is_none_or(|(version, _)| *version != schema_version)
        {
            *seen = Some((schema_version, HashSet::new()));
        }
        if let Some((_, types)) = seen.as_mut() {
            types.extend(entities.iter().map(|e| e.to_string()));
        }
    }
}

/// The schema version and the tokens of `entities` now, read in one statement; `None` where a
/// type has no token or lacks a trigger (dropped, or its table made anew by hand: nothing can
/// be told of its writes), or the tokens can't be read (the table gone). What is kept is then
/// its state's alone, and reads go on.
pub(crate) fn now(conn: &Conn, entities: &[&str], watched: &Watched) -> Option<Written> {
    let read = read(conn, entities).and_then(|written| match written {
        Some(w) if !watched.all_seen(w.schema_version, entities) => {
            Ok(watch(conn, entities, w.schema_version, watched)?.then_some(w))
        }
        other => Ok(other),
    });
    read.unwrap_or_else(|error| {
        tracing::debug!(%error, "the write tokens could not be read");
        None
    })
}

/// Whether every one of `entities` has its three triggers at `schema_version` (remembered in
/// `watched` when so).
fn watch(conn: &Conn, entities: &[&str], schema_version: i64, watched: &Watched) -> DbResult<bool> {
    for entity in entities {
        let names: Vec<String> = OPS.iter().map(|op| trigger_name(entity, op)).collect();
        let (version, present): (i64, i64) = conn.query_row(
            "SELECT (SELECT schema_version FROM pragma_schema_version),
                    (SELECT COUNT(*) FROM sqlite_master
                     WHERE type = 'trigger' AND name IN (?1, ?2, ?3))",
            (&names[0], &names[1], &names[2]),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if version != schema_version || present != OPS.len() as i64 {
            return Ok(false);
        }
    }
    watched.saw(schema_version, entities);
    Ok(true)
}

fn read(conn: &Conn, entities: &[&str]) -> DbResult<Option<Written>> {
    let mut sql = "SELECT (SELECT schema_version FROM pragma_schema_version)".to_string();
    for at in 1..=entities.len() {
        sql.push_str(&format!(
            ", (SELECT token FROM {TABLE} WHERE entity = ?{at})"
        ));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_row(super::params_from_iter(entities.iter().copied()), |row| {
        let schema_version: i64 = row.get(0)?;
        let tokens = (1..=entities.len())
            .map(|at| row.get::<_, Option<i64>>(at))
            .collect::<DbResult<Option<Vec<i64>>>>()?;
        Ok(tokens.map(|tokens| Written {
            schema_version,
            tokens,
        }))
    })
}
