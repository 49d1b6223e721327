//! Embedded, numbered migrations, tracked with `PRAGMA user_version`.

use crate::db::Conn;
use crate::{Error, Result};

/// The migrations whose SQL SQLite alone reads (triggers), in PostgreSQL's own dialect.
const POSTGRES_FORMS: &[(i64, &str)] = &[
    (
        5,
        include_str!("../../migrations/postgres/0005_plugin_kv_usage.sql"),
    ),
    (
        16,
        include_str!("../../migrations/postgres/0016_audit_log.sql"),
    ),
    (
        24,
        include_str!("../../migrations/postgres/0024_search_pairs.sql"),
    ),
    (
        25,
        include_str!("../../migrations/postgres/0025_keys_in_order.sql"),
    ),
    (
        26,
        include_str!("../../migrations/postgres/0026_search_rebuild_progress.sql"),
    ),
    (
        27,
        include_str!("../../migrations/postgres/0027_kv_key_bytes.sql"),
    ),
];

/// `(version, sql)` in order. Never edit a released entry; append a new one. On PostgreSQL
/// each runs translated (`dialect.rs`), or in its form from [`POSTGRES_FORMS`].
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_plugins.sql")),
    (3, include_str!("../../migrations/0003_overlay_options.sql")),
    (4, include_str!("../../migrations/0004_saved_views.sql")),
    (5, include_str!("../../migrations/0005_plugin_kv_usage.sql")),
    (6, include_str!("../../migrations/0006_plugin_jobs.sql")),
    (7, include_str!("../../migrations/0007_field_defaults.sql")),
    (8, include_str!("../../migrations/0008_workflows.sql")),
    (9, include_str!("../../migrations/0009_notifications.sql")),
    (10, include_str!("../../migrations/0010_imports.sql")),
    (11, include_str!("../../migrations/0011_api_tokens.sql")),
    (12, include_str!("../../migrations/0012_webhooks.sql")),
    (13, include_str!("../../migrations/0013_invitations.sql")),
    (14, include_str!("../../migrations/0014_attachments.sql")),
    (
        15,
        include_str!("../../migrations/0015_notification_links.sql"),
    ),
    (16, include_str!("../../migrations/0016_audit_log.sql")),
    (17, include_str!("../../migrations/0017_sequences.sql")),
    (18, include_str!("../../migrations/0018_reports.sql")),
    (19, include_str!("../../migrations/0019_report_pins.sql")),
    (20, include_str!("../../migrations/0020_merges.sql")),
    (
        21,
        include_str!("../../migrations/0021_undo_in_background.sql"),
    ),
    (
        22,
        include_str!("../../migrations/0022_attachment_fields.sql"),
    ),
    (23, include_str!("../../migrations/0023_hosts.sql")),
    (24, include_str!("../../migrations/0024_search_pairs.sql")),
    (25, include_str!("../../migrations/0025_keys_in_order.sql")),
    (
        26,
        include_str!("../../migrations/0026_search_rebuild_progress.sql"),
    ),
    (27, include_str!("../../migrations/0027_kv_key_bytes.sql")),
    (28, include_str!("../../migrations/0028_filter_columns.sql")),
];

/// The newest schema version this build knows.
pub(crate) fn newest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// The schema version of the database: SQLite's `user_version`; on PostgreSQL a table of its
/// own (made at the first start).
fn schema_version(conn: &Conn) -> Result<i64> {
    if conn.is_postgres() {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS qg_schema_version (version BIGINT NOT NULL);
             INSERT INTO qg_schema_version (version)
                 SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM qg_schema_version);",
        )?;
        return Ok(conn.query_row("SELECT version FROM qg_schema_version", [], |r| r.get(0))?);
    }
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// The database's schema version, only read (0 before the first start), so that hosts may
/// ask at once.
fn stored_version(conn: &Conn) -> Result<i64> {
    if conn.is_postgres() {
        let made: bool = conn.query_row(
            "SELECT to_regclass('qg_schema_version') IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        if !made {
            return Ok(0);
        }
        let version: Option<i64> =
            conn.query_row("SELECT MAX(version) FROM qg_schema_version", [], |r| {
                r.get(0)
            })?;
        return Ok(version.unwrap_or(0));
    }
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Whether the database's schema is newer than this build's (a newer version migrated it).
pub(crate) fn newer(conn: &Conn) -> Result<bool> {
    Ok(stored_version(conn)? > newest())
}

/// Whether the database's schema is older than this build's (it needs migrating).
pub(crate) fn pending(conn: &Conn) -> Result<bool> {
    Ok(stored_version(conn)? < newest())
}

/// What a PostgreSQL database needs besides the migrations, made or replaced at every start
/// (in PostgreSQL's own dialect): `qg_search_query`, which reads the FTS5 expressions the
/// store writes (`"word"*` for a prefix, `"a b c"` for a phrase of CJK characters, joined by
/// spaces: all must match) as a tsquery over the terms `search.rs` indexes on PostgreSQL: a
/// phrase of one character is that character; of more, the pairs of adjacent characters,
/// each two positions after the last (the text holds `a ab b bc c`). It is named anew when
/// the terms it reads change, so that an older build started against the database (which
/// replaces its own, `qg_tsquery`, before it finds the schema too new) leaves it alone.
const POSTGRES_FUNCTIONS: &str = r#"
CREATE OR REPLACE FUNCTION qg_phrase(chars text[]) RETURNS text AS $fn$
    SELECT CASE WHEN cardinality(chars) = 0 THEN NULL
        WHEN cardinality(chars) = 1 THEN '''' || chars[1] || ''''
        WHEN bool_and(length(c) = 1) THEN (
            SELECT string_agg('''' || chars[i] || chars[i + 1] || '''', ' <2> ' ORDER BY i)
            FROM generate_series(1, cardinality(chars) - 1) AS i)
        ELSE array_to_string(ARRAY(SELECT '''' || c || '''' FROM unnest(chars) AS c), ' <-> ')
    END
    FROM unnest(chars) AS c
$fn$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION qg_search_query(expr text) RETURNS tsquery AS $fn$
    SELECT to_tsquery('simple', COALESCE(string_agg(
        CASE WHEN m[2] = '*' THEN '''' || m[1] || ''':*'
             ELSE qg_phrase(ARRAY(SELECT w FROM unnest(string_to_array(m[1], ' ')) AS w
                                  WHERE w <> ''))
        END, ' & '), ''))
    FROM regexp_matches(expr, '"([^"]*)"(\*?)', 'g') AS m
$fn$ LANGUAGE sql IMMUTABLE;

-- SQLite's date functions, as the store calls them: a stored date or time (ISO text, UTC) as
-- a Julian day, and formatted (`%Y %m %d %H %M %S`) after a modifier such as '+480 minutes'.
CREATE OR REPLACE FUNCTION julianday(t text) RETURNS double precision AS $fn$
    SELECT (extract(epoch FROM t::timestamptz) / 86400.0 + 2440587.5)::double precision
$fn$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION strftime(fmt text, t text, modifier text) RETURNS text AS $fn$
    SELECT to_char((t::timestamptz AT TIME ZONE 'UTC') + modifier::interval,
        replace(replace(replace(replace(replace(replace(fmt,
            '%Y', 'YYYY'), '%m', 'MM'), '%d', 'DD'), '%H', 'HH24'), '%M', 'MI'), '%S', 'SS'))
$fn$ LANGUAGE sql STABLE;

-- SQLite's JSON functions, as the store calls them: a member of a stored JSON object
-- (`'$.name'`), and the items of a stored JSON array as rows of one column, `value`.
CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text AS $fn$
    SELECT doc::jsonb #>> string_to_array(substr(path, 3), '.')
$fn$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION json_each(doc text) RETURNS TABLE (value text) AS $fn$
    SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(doc::jsonb) = 'array'
                                          THEN doc::jsonb ELSE '[]'::jsonb END)
$fn$ LANGUAGE sql IMMUTABLE;
"#;

/// Applies every migration newer than the database, each in its own transaction (on
/// PostgreSQL in its dialect, see `dialect.rs`).
pub(crate) fn run(conn: &mut Conn) -> Result<()> {
    let newest = newest();
    let too_new = |current: i64| {
        Error::Database(format!(
            "database schema version {current} is newer than this build supports ({newest}); \
             upgrade qingguan"
        ))
    };
    if conn.is_postgres() {
        // Under the writer lock, so that hosts starting together take turns. A build older
        // than the database replaces none of its functions: the hosts serving it use theirs.
        let tx = conn.immediate_transaction()?;
        let current = schema_version(&tx)?;
        if current > newest {
            return Err(too_new(current));
        }
        tx.execute_batch_native(POSTGRES_FUNCTIONS)?;
        tx.commit()?;
    }
    let current = schema_version(conn)?;
    if current > newest {
        return Err(too_new(current));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        // Under the writer lock: two hosts starting together take turns, and the second
        // finds the work done.
        let tx = conn.immediate_transaction()?;
        if tx.is_postgres() && schema_version(&tx)? >= *version {
            continue;
        }
        match POSTGRES_FORMS.iter().find(|(v, _)| v == version) {
            Some((_, own)) if tx.is_postgres() => tx.execute_batch_native(own)?,
            _ => tx.execute_batch(sql)?,
        }
        if tx.is_postgres() {
            tx.execute("UPDATE qg_schema_version SET version = ?1", [version])?;
        } else {
            tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
        }
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}
