//! What was written since: a token per entity type that every write to its records renews, and
//! a log of which records were written, whoever writes — triggers on the type's table (this
//! host, the command line, a statement from any connection all fire them) set the token to a
//! new random number and log the record's id. Read with SQLite's schema version beside them,
//! and only for a type seen to have all three triggers at that version (a trigger dropped, or a
//! table made anew by hand, leaves the type with none to tell), they tell that a type's records
//! are as they were when they were read last, or that only records an entry neither read nor
//! would read now were written (what a record or a list page kept in memory asks:
//! `store/kept_by_state.rs`).
//!
//! A token is random, not counted: a database restored from a backup holds tokens of the
//! records it holds, and a count would come round to a number read before for other records.
//! For the same reason each logged write has a random mark: a place in the log read before is
//! still this history's only where the same mark is there. The log keeps the newest writes
//! (`KEPT_CHANGES` and more; the oldest let go in steps, by the triggers themselves).
//! SQLite only: nothing is kept in memory on PostgreSQL.

use super::{Conn, DbResult, Value as Sql};
use std::collections::HashMap;
use std::sync::Mutex;

/// The table of tokens, one row per entity type.
pub(super) const TABLE: &str = "record_writes";

/// The log of writes, a row per record written: its type, its id and a random mark.
pub(super) const CHANGES: &str = "record_changes";

/// How many of the newest writes the log keeps at least.
const KEPT_CHANGES: i64 = 4_096;

/// The log lets its oldest go once every this many writes, this many at a time.
const LET_GO_EVERY: i64 = 256;

/// The most writes an entry is checked against in SQL: one stamped before more writes than
/// this is read again (checking would cost more than reading). The copy of the log held in
/// memory (`recent_writes.rs`) holds twice as many, checked without a statement.
pub(crate) const SPAN: i64 = 256;

/// The writes that renew a token, a trigger each.
const OPS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

/// The trigger that renews `entity`'s token and logs the record at each `op`.
fn trigger_name(entity: &str, op: &str) -> String {
    format!("qg_writes_{entity}_{}", op.to_ascii_lowercase())
}

/// The name of the trigger before writes were logged (renewing the token alone): dropped.
fn former_trigger_name(entity: &str, op: &str) -> String {
    format!("qg_written_{entity}_{}", op.to_ascii_lowercase())
}

/// What the trigger of `op` does: renews `entity`'s token and logs each record id the write
/// touched (an update that changes the id, both).
fn trigger_body(entity: &str, op: &str) -> String {
    let log = |id: &str| {
        format!(
            "INSERT INTO {CHANGES} (entity, record_id, mark) VALUES ('{entity}', {id}, random());"
        )
    };
    let logged = match op {
        "INSERT" => log("NEW.id"),
        "DELETE" => log("OLD.id"),
        _ => format!(
            "{} INSERT INTO {CHANGES} (entity, record_id, mark)
             SELECT '{entity}', NEW.id, random() WHERE NEW.id IS NOT OLD.id;",
            log("OLD.id")
        ),
    };
    format!("UPDATE {TABLE} SET token = random() WHERE entity = '{entity}'; {logged}")
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
         CREATE TABLE IF NOT EXISTS {CHANGES} (
             seq       INTEGER PRIMARY KEY,
             entity    TEXT NOT NULL,
             record_id INTEGER NOT NULL,
             mark      INTEGER NOT NULL
         );
         CREATE TRIGGER IF NOT EXISTS qg_record_changes_let_go AFTER INSERT ON {CHANGES}
         WHEN NEW.seq % {LET_GO_EVERY} = 0
         BEGIN DELETE FROM {CHANGES} WHERE seq <= NEW.seq - {KEPT_CHANGES}; END;
         INSERT OR IGNORE INTO {TABLE} (entity, token) VALUES ('{entity}', random());"
    );
    for op in OPS {
        sql.push_str(&format!(
            "DROP TRIGGER IF EXISTS {};
             CREATE TRIGGER IF NOT EXISTS {} AFTER {op} ON {table} BEGIN {} END;",
            former_trigger_name(entity, op),
            trigger_name(entity, op),
            trigger_body(entity, op),
        ));
    }
    conn.execute_batch(&sql)
}

/// What the records of some types were written in: the schema version, each type's token,
/// and the newest write logged (its place and mark; `None`: none logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    pub(super) schema_version: i64,
    pub(super) tokens: Vec<i64>,
    pub(super) last: Option<(i64, i64)>,
}

impl Written {
    /// Whether it tells the same as `kept`: the same schema version and tokens, so no record
    /// of its types was written between the two (whatever the log's newest write).
    pub(crate) fn same_tokens(&self, kept: &Written) -> bool {
        self.schema_version == kept.schema_version && self.tokens == kept.tokens
    }
}

/// What a list page read of its own type's records — the first of the types it was stamped
/// with — for telling whether writes of that type since left it as it is.
#[derive(Debug)]
pub(crate) struct RowsRead<'a> {
    /// The type's table.
    pub table: &'a str,
    /// The ids of the records it read (without repeats), as a JSON array.
    pub ids: &'a str,
    /// How many there are.
    pub count: usize,
    /// The conditions a record passes to be read by the entry (which read the first records
    /// in some order that pass them), and their parameters.
    pub conds: &'a [String],
    pub params: &'a [Sql],
    /// Conditions (with their parameters) a record passes when it comes after the last the
    /// entry read in that order: then it can't change what was read.
    pub after: Vec<(String, Vec<Sql>)>,
}

/// The types seen to have every trigger that renews their token, at one schema version (which
/// moves whenever a trigger or table is made or dropped): asked of the schema once per version.
/// Beside each, whether its table has a unique index (other than its ids'): an `INSERT OR
/// REPLACE` that conflicts on one deletes the record it replaces without a trigger, so the log
/// names the record written and not the one gone.
#[derive(Debug, Default)]
pub(crate) struct Watched(Mutex<Option<(i64, HashMap<String, bool>)>>);

impl Watched {
    pub(crate) fn all_seen(&self, schema_version: i64, entities: &[&str]) -> bool {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        seen.as_ref().is_some_and(|(version, types)| {
            *version == schema_version && entities.iter().all(|e| types.contains_key(*e))
        })
    }

    /// Whether every record of `entity` deleted is logged at `schema_version`: its table has
    /// no unique index a replacing insert could delete another record by. `false` where
    /// not known (the type not seen at that version).
    pub(crate) fn deletes_logged(&self, schema_version: i64, entity: &str) -> bool {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        seen.as_ref().is_some_and(|(version, types)| {
            *version == schema_version && types.get(entity) == Some(&false)
        })
    }

    fn saw(&self, schema_version: i64, entity: &str, unique_indexes: bool) {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen
            .as_ref()
            .is_none_or(|(version, _)| *version != schema_version)
        {
            *seen = Some((schema_version, HashMap::new()));
        }
        if let Some((_, types)) = seen.as_mut() {
            types.insert(entity.to_string(), unique_indexes);
        }
    }
}

/// The schema version and the tokens of `entities` now, read in one statement; `None` where a
/// type has no token or lacks a trigger (dropped, or its table made anew by hand: nothing can
/// be told of its writes), or the tokens can't be read (the table gone). What is kept is then
/// its state's alone, and reads go on.
pub(crate) fn now(conn: &Conn, entities: &[&str], watched: &Watched) -> Option<Written> {
    let read = read(conn, entities).and_then(|w| watched_only(conn, w, entities, watched));
    read.unwrap_or_else(|error| {
        tracing::debug!(%error, "the write tokens could not be read");
        None
    })
}

/// `written`, where every one of `entities` is seen to have its triggers at its schema version.
fn watched_only(
    conn: &Conn,
    written: Option<Written>,
    entities: &[&str],
    watched: &Watched,
) -> DbResult<Option<Written>> {
    match written {
        Some(w) if !watched.all_seen(w.schema_version, entities) => {
            Ok(watch(conn, entities, w.schema_version, watched)?.then_some(w))
        }
        other => Ok(other),
    }
}

/// The columns that tell what the types named by `placeholders` (one each, in order) were
/// written in: the schema version, each type's token, the newest write logged.
fn columns<'a>(placeholders: impl IntoIterator<Item = &'a str>) -> String {
    let mut sql = "(SELECT schema_version FROM pragma_schema_version)".to_string();
    for placeholder in placeholders {
        sql.push_str(&format!(
            ", (SELECT token FROM {TABLE} WHERE entity = {placeholder})"
        ));
    }
    sql.push_str(LAST_CHANGE);
    sql
}

/// The columns that tell what `entity` was written in, to be read in the same statement as a
/// row of its (one snapshot): its name is the statement's parameter `?{param}`. Read them with
/// [`written_with`].
pub(crate) fn written_columns(param: usize) -> String {
    columns([format!("?{param}").as_str()])
}

/// What `entity` was written in, from [`written_columns`] at column `first` of `row`; as
/// [`now`], `None` where that can't be told.
pub(crate) fn written_with(
    conn: &Conn,
    row: &super::Row<'_>,
    first: usize,
    entity: &str,
    watched: &Watched,
) -> DbResult<Option<Written>> {
    let written = written_from(row, first, 1)?;
    watched_only(conn, written, &[entity], watched)
}

/// Whether every one of `entities` has its three triggers at `schema_version` (remembered in
/// `watched` when so).
fn watch(conn: &Conn, entities: &[&str], schema_version: i64, watched: &Watched) -> DbResult<bool> {
    for entity in entities {
        let names: Vec<String> = OPS.iter().map(|op| trigger_name(entity, op)).collect();
        let (version, present, unique): (i64, i64, i64) = conn.query_row(
            "SELECT (SELECT schema_version FROM pragma_schema_version),
                    (SELECT COUNT(*) FROM sqlite_master
                     WHERE type = 'trigger' AND name IN (?1, ?2, ?3)
                       AND sql LIKE '%INSERT INTO record_changes%'),
                    (SELECT COUNT(*) FROM pragma_index_list(
                        (SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name = ?1))
                     WHERE \"unique\" AND origin <> 'pk')",
            (&names[0], &names[1], &names[2]),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        if version != schema_version || present != OPS.len() as i64 {
            return Ok(false);
        }
        watched.saw(schema_version, entity, unique > 0);
    }
    Ok(true)
}

fn read(conn: &Conn, entities: &[&str]) -> DbResult<Option<Written>> {
    let sql = format!("SELECT {}", columns(entities.iter().map(|_| "?")));
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_row(super::params_from_iter(entities.iter().copied()), |row| {
        written_at(row, entities.len())
    })
}

/// The newest write logged, its place and its mark: two columns.
const LAST_CHANGE: &str = ", (SELECT max(seq) FROM record_changes),
    (SELECT mark FROM record_changes WHERE seq = (SELECT max(seq) FROM record_changes))";

/// What the row's first columns tell: the schema version, `types` tokens, the newest write
/// logged ([`LAST_CHANGE`]); `None` if a type has no token.
fn written_at(row: &super::Row<'_>, types: usize) -> DbResult<Option<Written>> {
    written_from(row, 0, types)
}

/// [`written_at`] from the row's column `first` on.
fn written_from(row: &super::Row<'_>, first: usize, types: usize) -> DbResult<Option<Written>> {
    let schema_version: i64 = row.get(first)?;
    let tokens = (first + 1..=first + types)
        .map(|at| row.get::<_, Option<i64>>(at))
        .collect::<DbResult<Option<Vec<i64>>>>()?;
    let seq: Option<i64> = row.get(first + types + 1)?;
    let mark: Option<i64> = row.get(first + types + 2)?;
    Ok(tokens.map(|tokens| Written {
        schema_version,
        tokens,
        last: seq.zip(mark),
    }))
}

/// What `entities` were written in now, if an entry stamped `kept` (read before the entry was,
/// with these types, the first its own) is still what the database holds: none of the types
/// was written since; or only the first, and only records the entry neither read nor would
/// read now (`rows`; `None`: none can be told apart), in at most [`SPAN`] writes. The answer
/// is the entry's new stamp, read in the same statement as the writes were checked. `None`
/// where that can't be told.
pub(crate) fn holds_since(
    conn: &Conn,
    entities: &[&str],
    watched: &Watched,
    kept: &Written,
    rows: Option<&RowsRead<'_>>,
) -> Option<Written> {
    let (Some(rows), Some(last)) = (rows, kept.last) else {
        return now(conn, entities, watched).filter(|now| now.same_tokens(kept));
    };
    let checked = written_apart(conn, entities, kept, last, rows);
    checked.unwrap_or_else(|error| {
        tracing::debug!(%error, "the writes logged could not be read");
        None
    })
}

/// [`holds_since`] where the entry tells what it read: the writes logged after `seq` (whose
/// mark was `mark`) checked in one statement — one snapshot — unless its own type's token
/// says none was. The schema version is the stamp's, whose triggers were seen then.
fn written_apart(
    conn: &Conn,
    entities: &[&str],
    kept: &Written,
    (seq, mark): (i64, i64),
    rows: &RowsRead<'_>,
) -> DbResult<Option<Written>> {
    let table = rows.table;
    let own = Sql::Text(entities[0].to_string());
    let span_end = seq.saturating_add(SPAN);
    let mut params: Vec<Sql> = entities.iter().map(|e| Sql::Text(e.to_string())).collect();
    let mut sql = format!("SELECT {}", columns(entities.iter().map(|_| "?")));
    // What follows is asked only where the type's own token moved.
    let when_written = |then: &str, otherwise: &str, sql: &mut String, params: &mut Vec<Sql>| {
        sql.push_str(&format!(
            ", CASE WHEN (SELECT token FROM {TABLE} WHERE entity = ?) IS NOT ?
               THEN {then} ELSE {otherwise} END"
        ));
        params.extend([own.clone(), Sql::Integer(kept.tokens[0])]);
    };
    // Whether the place read is still this history's, and how many writes were logged
    // since (a place is one more than the last: none missing from the log, as after a part
    // of it deleted by hand, when they are as many as the places).
    let mark_at = format!("(SELECT mark FROM {CHANGES} WHERE seq = ?)");
    when_written(&mark_at, "NULL", &mut sql, &mut params);
    params.push(Sql::Integer(seq));
    when_written(
        &format!("(SELECT COUNT(*) FROM {CHANGES} WHERE seq > ? AND seq <= ?)"),
        "0",
        &mut sql,
        &mut params,
    );
    params.extend([Sql::Integer(seq), Sql::Integer(span_end)]);
    // Whether a record written since is one the entry read, or would read now.
    let mut touched = format!(
        "EXISTS (SELECT 1 FROM {CHANGES} AS qg_change
                 WHERE qg_change.seq > ? AND qg_change.seq <= ? AND qg_change.entity = ?
                   AND (qg_change.record_id IN (SELECT value FROM json_each(?))
                        OR EXISTS (SELECT 1 FROM {table} WHERE id = qg_change.record_id"
    );
    for cond in rows.conds {
        touched.push_str(&format!(" AND ({cond})"));
    }
    if !rows.after.is_empty() {
        let after: Vec<String> = rows
            .after
            .iter()
            .map(|(c, _)| format!("({c}) IS TRUE"))
            .collect();
        touched.push_str(&format!(" AND NOT ({})", after.join(" OR ")));
    }
    touched.push_str(")))");
    when_written(&touched, "0", &mut sql, &mut params);
    params.extend([
        Sql::Integer(seq),
        Sql::Integer(span_end),
        own.clone(),
        Sql::Text(rows.ids.to_string()),
    ]);
    params.extend(rows.params.iter().cloned());
    params.extend(
        rows.after
            .iter()
            .flat_map(|(_, values)| values.iter().cloned()),
    );
    // Whether every record it read is still there (a `REPLACE` deletes what it replaces
    // without a trigger: only the insert is logged).
    when_written(
        &format!("(SELECT COUNT(*) FROM {table} WHERE id IN (SELECT value FROM json_each(?)))"),
        "NULL",
        &mut sql,
        &mut params,
    );
    params.push(Sql::Text(rows.ids.to_string()));
    let types = entities.len();
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_row(super::params_from_iter(params), |row| {
        let Some(now) = written_at(row, types)? else {
            return Ok(None);
        };
        let mark_then: Option<i64> = row.get(types + 3)?;
        let logged: i64 = row.get(types + 4)?;
        let touched: bool = row.get(types + 5)?;
        let present: Option<i64> = row.get(types + 6)?;
        let unwritten = now.tokens[0] == kept.tokens[0];
        let since = now.last.and_then(|(last, _)| last.checked_sub(seq));
        let apart = mark_then == Some(mark)
            && since.is_some_and(|since| (0..=SPAN).contains(&since) && logged == since)
            && !touched
            && present == Some(rows.count as i64);
        let holds = now.schema_version == kept.schema_version
            && now.tokens.len() == kept.tokens.len()
            && now.tokens[1..] == kept.tokens[1..]
            && (unwritten || apart);
        Ok(holds.then_some(now))
    })
}
