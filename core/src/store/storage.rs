//! Upkeep of an entity type's storage: rebuilding its full-text index from its records,
//! moving an install made before storage names were collision-free (see `db::ddl`) to the
//! current names, and rebuilding PostgreSQL's full-text tables when their terms change.

use super::records::{from_row, select_list};
use super::{registry, Store};
use crate::db::ddl;
use crate::db::Conn;
use crate::schema::{Entity, EntityDef};
use crate::search::index_text;
use crate::{Access, Error, Result};

/// Records read at a time while rebuilding a full-text table (a few in unit tests, so that
/// they cross pages).
const REBUILD_PAGE: usize = if cfg!(test) { 3 } else { 5_000 };

/// Drops an entity type's full-text table and fills a new one from its records: whatever the
/// old index held (stale or damaged entries), the new one holds exactly the records' text —
/// none for a type kept out of the index. Returns the number of records indexed.
pub(super) fn rebuild_search(conn: &Conn, e: &Entity) -> Result<usize> {
    empty_search(conn, e)?;
    let mut n = 0;
    let mut after = i64::MIN;
    loop {
        let (in_page, last) = index_page(conn, e, after)?;
        n += in_page;
        match last {
            Some(last) => after = last,
            None => return Ok(n),
        }
    }
}

/// Makes an entity type's full-text table afresh, empty.
fn empty_search(conn: &Conn, e: &Entity) -> Result<()> {
    // Entries waiting for the commit are of records the rebuild reads anyway.
    crate::db::search_waiting::forget_type(conn, &e.name)?;
    let fts = ddl::fts_table(&e.name);
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {fts}"))?;
    ddl::ensure_fts(conn, &e.name)
}

/// Indexes one page of an entity type's records, those with an id after `after`, into its
/// full-text table (none for a type kept out of the index). Returns how many were read and,
/// when the page was full, the last id (where the next page starts). In pages because
/// PostgreSQL's client holds a statement's whole answer in memory.
fn index_page(conn: &Conn, e: &Entity, after: i64) -> Result<(usize, Option<i64>)> {
    if !e.searchable {
        return Ok((0, None)); // kept out of the index: the table stays empty
    }
    let fts = ddl::fts_table(&e.name);
    // On PostgreSQL a row already there (a rebuild carried on after a stop) is replaced.
    let replace = if conn.is_postgres() {
        " ON CONFLICT (rowid) DO UPDATE SET body = excluded.body"
    } else {
        ""
    };
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO {fts} (rowid, body) VALUES (?1, ?2){replace}"
    ))?;
    let mut select = conn.prepare_cached(&format!(
        "SELECT {} FROM {} WHERE id > ?1 ORDER BY id LIMIT {REBUILD_PAGE}",
        select_list(e),
        ddl::table(&e.name)
    ))?;
    let mut rows = select.query([after])?;
    let (mut in_page, mut last) = (0, after);
    while let Some(row) = rows.next()? {
        let r = from_row(e, &row)?;
        let body = index_text(e, &r.values, conn.is_postgres());
        if !body.is_empty() {
            insert.execute((r.id, body))?;
        }
        last = r.id;
        in_page += 1;
    }
    Ok((in_page, (in_page == REBUILD_PAGE).then_some(last)))
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
        registry::keep_field_indexes(conn, &e.name)?;
        rebuild_search(conn, e)?;
    }
    tracing::info!(
        renamed = old.len(),
        "moved indexes and full-text tables to collision-free names"
    );
    Ok(())
}

/// The terms PostgreSQL's full-text tables hold: 1, single CJK characters; 2, pairs of
/// adjacent ones too (`search.rs`). Recorded in `search_format` (migration 24).
const SEARCH_FORMAT: i64 = 2;

/// On PostgreSQL, rebuilds every entity type's full-text table from its records when they
/// were written in an older [`SEARCH_FORMAT`]. Each page of records is its own transaction
/// under the writer lock, which also records where the rebuild has got to (`search_format`'s
/// `entity` and `after_id`): a host stopped during it carries on from there at its next
/// open, and a second host opening meanwhile takes its share of the pages. Types go in name
/// order. A no-op on SQLite and on every open after the rebuild has finished.
pub(super) fn upgrade_search_format(writer: &mut Conn) -> Result<()> {
    if !writer.is_postgres() {
        return Ok(());
    }
    let (mut pages, mut indexed) = (0usize, 0usize);
    // Read at the first page only: nothing changes definitions while the stores open.
    let mut schema = None;
    loop {
        let tx = writer.immediate_transaction()?;
        let (format, entity, after): (i64, Option<String>, Option<i64>) = tx.query_row(
            "SELECT format, entity, after_id FROM search_format",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        if format >= SEARCH_FORMAT {
            tx.commit()?;
            break;
        }
        if schema.is_none() {
            schema = Some(registry::load(&tx)?);
        }
        let mut types: Vec<&Entity> = schema.iter().flat_map(|s| s.entities()).collect();
        types.sort_by(|a, b| a.name.cmp(&b.name));
        // The type in progress; or, if it is gone, the next by name.
        let at = match &entity {
            None => 0,
            Some(name) => types.partition_point(|e| e.name < *name),
        };
        let Some(e) = types.get(at).copied() else {
            finish(&tx)?;
            tx.commit()?;
            break;
        };
        let continues = entity.as_deref() == Some(e.name.as_str()) && after.is_some();
        if !continues {
            empty_search(&tx, e)?;
        }
        let (n, last) = index_page(&tx, e, after.filter(|_| continues).unwrap_or(i64::MIN))?;
        let (next, next_after) = match last {
            Some(last) => (Some(e), Some(last)),
            None => (types.get(at + 1).copied(), None),
        };
        match next {
            Some(next) => tx.execute(
                "UPDATE search_format SET entity = ?1, after_id = ?2",
                (&next.name, next_after),
            )?,
            None => finish(&tx)?,
        };
        tx.commit()?;
        pages += 1;
        indexed += n;
        if next.is_none() {
            break;
        }
    }
    if pages > 0 {
        tracing::info!(
            indexed,
            pages,
            format = SEARCH_FORMAT,
            "rebuilt the full-text tables with pairs of CJK characters"
        );
    }
    Ok(())
}

/// Records that every full-text table holds the current format.
fn finish(tx: &Conn) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE search_format SET format = ?1, entity = NULL, after_id = NULL",
        [SEARCH_FORMAT],
    )?)
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

#[cfg(test)]
mod tests {
    use crate::store::tests::store;
    use crate::{Access, Store};
    use serde_json::json;

    fn create(s: &Store, name: &str) -> i64 {
        let values = json!({"name": name, "kind": "company", "status": "lead"});
        s.create(&Access::system(), "customer", values.as_object().unwrap())
            .unwrap()
            .id
    }

    fn found(s: &Store, q: &str) -> Vec<String> {
        let mut titles: Vec<String> = s
            .search(&Access::system(), q, 100)
            .unwrap()
            .into_iter()
            .map(|h| h.title)
            .collect();
        titles.sort();
        titles
    }

    /// Chinese words are phrases of adjacent characters on both backends (on PostgreSQL
    /// through pairs of characters), as FTS5 reads them: spaces and punctuation between two
    /// characters do not part them, a word or the wrong order does.
    #[test]
    fn chinese_words_match_adjacent_characters_only() {
        let (_place, s) = store();
        for name in [
            "杭州恒信科技",
            "恒 信",
            "信恒",
            "贸易 上海",
            "上海贸易",
            "恒信Tech",
            "恒abc信",
            "恒、信科",
            "レオナルド・ダ・ヴィンチ",
        ] {
            create(&s, name);
        }
        let none = Vec::<String>::new();
        assert_eq!(
            found(&s, "恒信"),
            ["恒 信", "恒、信科", "恒信Tech", "杭州恒信科技"]
        );
        assert_eq!(
            found(&s, "信"),
            [
                "信恒",
                "恒 信",
                "恒abc信",
                "恒、信科",
                "恒信Tech",
                "杭州恒信科技"
            ]
        );
        assert_eq!(found(&s, "恒信科技"), ["杭州恒信科技"]);
        assert_eq!(found(&s, "恒信科"), ["恒、信科", "杭州恒信科技"]);
        assert_eq!(found(&s, "州恒信"), ["杭州恒信科技"]);
        assert_eq!(found(&s, "信科技杭"), none);
        assert_eq!(found(&s, "贸易 上海"), ["上海贸易", "贸易 上海"]);
        assert_eq!(found(&s, "易上"), ["贸易 上海"]);
        assert_eq!(found(&s, "海贸"), ["上海贸易"]);
        assert_eq!(found(&s, "贸易上海"), ["贸易 上海"]);
        assert_eq!(found(&s, "海贸易上"), none);
        // Kana, with the middle dot between words.
        assert_eq!(found(&s, "ダヴィンチ"), ["レオナルド・ダ・ヴィンチ"]);
        assert_eq!(
            found(&s, "レオナルド・ダ・ヴィンチ"),
            ["レオナルド・ダ・ヴィンチ"]
        );
        assert_eq!(found(&s, "ドダ"), ["レオナルド・ダ・ヴィンチ"]);
        assert_eq!(found(&s, "恒信 tech"), ["恒信Tech"]);
        assert_eq!(found(&s, "恒信te"), ["恒信Tech"]);
        // The list's own search (`q=` within a type) reads the same index.
        let q = crate::ListQuery {
            q: Some("恒信".into()),
            ..Default::default()
        };
        let listed = s.list(&Access::system(), "customer", &q).unwrap();
        assert_eq!(listed.items.len(), 4);
    }

    /// Puts `ids`' full-text rows back as they were before pairs (single characters only)
    /// and says the tables are of format 1, with the rebuild at `progress`.
    fn make_old(s: &Store, ids: &[i64], progress: (Option<&str>, Option<i64>)) {
        s.write(|tx| {
            tx.execute(
                "UPDATE search_format SET format = 1, entity = ?1, after_id = ?2",
                progress,
            )?;
            tx.execute("DELETE FROM search_customer_fts", [])?;
            for (i, id) in ids.iter().enumerate() {
                tx.execute(
                    "INSERT INTO search_customer_fts (rowid, body) VALUES (?1, ?2)",
                    (id, format!(" 杭  州  恒  信  {i} ")),
                )?;
            }
            Ok(())
        })
        .unwrap();
    }

    fn names(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("杭州恒信{i}")).collect()
    }

    /// A PostgreSQL install whose full-text tables hold single characters only (as made
    /// before pairs) is rebuilt at the next open, a page at a time (three records to a page
    /// in unit tests); SQLite's index needs nothing.
    #[test]
    fn full_text_tables_of_an_older_format_are_rebuilt_at_open() {
        let (place, s) = store();
        let ids: Vec<i64> = names(0..7).iter().map(|n| create(&s, n)).collect();
        if !s.is_postgres() {
            assert_eq!(found(&s, "恒信"), names(0..7));
            return;
        }
        make_old(&s, &ids, (None, None));
        assert!(found(&s, "恒信").is_empty(), "the old terms have no pairs");
        assert_eq!(found(&s, "恒").len(), 7);
        let again = place.open_again();
        assert_eq!(found(&again, "恒信"), names(0..7), "all three pages");
        assert_eq!(found(&s, "恒信"), names(0..7));
        let (format, entity): (i64, Option<String>) = again
            .read(|c| {
                Ok(
                    c.query_row("SELECT format, entity FROM search_format", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?,
                )
            })
            .unwrap();
        assert_eq!((format, entity), (super::SEARCH_FORMAT, None));
        // Every open after that leaves the tables alone (a row taken out stays out).
        s.write(|tx| Ok(tx.execute("DELETE FROM search_customer_fts", [])?))
            .unwrap();
        drop(place.open_again());
        assert!(found(&again, "恒信").is_empty(), "not rebuilt again");
    }

    /// A rebuild stopped part way (a host killed during it) carries on from the last page it
    /// committed: the records up to there are not indexed again, the rest are.
    #[test]
    fn a_rebuild_stopped_part_way_carries_on_where_it_was() {
        let (place, s) = store();
        if !s.is_postgres() {
            return;
        }
        let ids: Vec<i64> = names(0..7).iter().map(|n| create(&s, n)).collect();
        // Stopped after the customers' first page.
        make_old(&s, &ids, (Some("customer"), Some(ids[2])));
        drop(place.open_again());
        assert_eq!(
            found(&s, "恒信"),
            names(3..7),
            "the first page is not redone"
        );
        // Stopped after a type that is no longer there: the next type by name starts afresh.
        make_old(&s, &ids, (Some("currency_x"), None));
        drop(place.open_again());
        assert_eq!(found(&s, "恒信"), names(0..7));
    }

    /// The plan PostgreSQL makes for `sql` when told to avoid sorting: a `Sort` left in it
    /// means no index gives the order.
    fn plan(s: &Store, sql: &str) -> String {
        s.write(|tx| {
            tx.execute_batch_native("SET LOCAL enable_sort = off")?;
            let mut stmt = tx.prepare(&format!("EXPLAIN {sql}"))?;
            let lines = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(lines.join("\n"))
        })
        .unwrap()
    }

    /// On PostgreSQL, a list by id and a full-text search newest first read the key's index
    /// instead of sorting every row; indexes made before keys went without a `NULLS` clause are
    /// made again at the migration.
    #[test]
    fn orders_by_a_tables_key_walk_its_index() {
        let (place, s) = store();
        if !s.is_postgres() {
            return;
        }
        create(&s, "杭州恒信科技");
        for sql in [
            "SELECT id FROM r_customer ORDER BY id DESC LIMIT 51",
            "SELECT r.id FROM search_customer_fts JOIN r_customer r ON r.id = search_customer_fts.rowid
             WHERE search_customer_fts.terms @@ qg_search_query('\"恒 信\"') ORDER BY search_customer_fts.rowid DESC LIMIT 20",
            "SELECT id FROM history WHERE entity = 'customer' AND record_id = 1 ORDER BY id DESC LIMIT 5",
        ] {
            let plan = plan(&s, sql);
            assert!(!plan.contains("Sort"), "{sql}\n{plan}");
        }
        // An index as made before (its key told NULLS FIRST) is made again by the migration.
        s.write(|tx| {
            tx.execute_batch_native(
                "CREATE INDEX old_order ON r_customer (c_name NULLS FIRST, id NULLS FIRST);
                 UPDATE qg_schema_version SET version = 24;",
            )?;
            Ok(())
        })
        .unwrap();
        let again = place.open_again();
        let def: String = again
            .read(|c| {
                Ok(c.query_row(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'old_order'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert!(def.ends_with("(c_name NULLS FIRST, id)"), "{def}");
    }

    /// A build older than the database stops before it replaces the search function that
    /// the hosts serving the database use (its own reads other terms).
    #[test]
    fn an_older_build_leaves_the_search_function_alone() {
        let (place, s) = store();
        if !s.is_postgres() {
            return;
        }
        let marked = "CREATE OR REPLACE FUNCTION qg_search_query(expr text) RETURNS tsquery AS
             $fn$ SELECT 'marked'::tsquery $fn$ LANGUAGE sql IMMUTABLE";
        s.write(|tx| {
            tx.execute_batch_native(marked)?;
            tx.execute_batch_native("UPDATE qg_schema_version SET version = 9999")?;
            Ok(())
        })
        .unwrap();
        let err = Store::open(place.options()).unwrap_err().to_string();
        assert!(err.contains("newer than this build"), "{err}");
        let still: String = s
            .read(|c| Ok(c.query_row("SELECT qg_search_query('x')::text", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(still, "'marked'");
    }
}
