//! Full-text entries of records created in the open transaction (SQLite): the transaction's
//! first goes straight into its type's full-text table; the later ones wait in a temporary table
//! of the writer's connection (`temp.search_waiting`: in memory, never in the database file) to
//! be written into their tables just before the transaction commits. FTS5 writes the entries it
//! holds to disk as a new segment at every savepoint, and every write inside a call is one:
//! written as they were made, each create became a segment of its own, and merging those cost
//! more as the index grew (creates over HTTP fell from 3,656/s to 508/s between 0 and 600,000
//! customers). Waiting here — in a table a savepoint's rollback undoes like any other, and that
//! a crash empties with the transaction it belonged to — a commit's new entries reach the index
//! in two segments, however many calls shared it. A read on the writer inside a transaction
//! writes them first, so that it finds them. PostgreSQL writes its entries as they are made.

use super::{ddl, Conn, DbResult};

/// Makes the writer connection's table of waiting entries (SQLite).
pub(crate) fn prepare(conn: &Conn) -> DbResult<()> {
    if conn.is_postgres() {
        return Ok(());
    }
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS search_waiting (
             entity TEXT NOT NULL,
             record INTEGER NOT NULL,
             body   TEXT NOT NULL,
             PRIMARY KEY (entity, record)
         ) WITHOUT ROWID",
    )
}

/// The most entries that wait at once: a transaction that creates more (a plugin's long call)
/// writes them into the index as it goes, so the waiting table stays small in memory.
const MOST_WAITING: u32 = if cfg!(test) { 3 } else { 5_000 };

/// Where the open transaction's new full-text entries went.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Pending {
    /// One went straight into the index.
    written: bool,
    /// Some were queued (and, after a savepoint rolled back, may still wait).
    queued: bool,
    /// Queued since the waiting entries were last written.
    waiting: u32,
}

/// Queues the full-text entry of a record created in the open transaction, unless it is the
/// transaction's first: `false`, and the caller writes that one straight into the index (a write
/// alone gains nothing from waiting: its entry is one segment either way).
pub(crate) fn wait(conn: &Conn, entity: &str, id: i64, body: &str) -> DbResult<bool> {
    let mut pending = conn.search_pending().get();
    if !pending.written {
        pending.written = true;
        conn.search_pending().set(pending);
        return Ok(false);
    }
    if pending.waiting >= MOST_WAITING {
        write_waiting(conn, false)?;
        pending.waiting = 0;
    }
    conn.prepare_cached("INSERT INTO search_waiting (entity, record, body) VALUES (?1, ?2, ?3)")?
        .execute((entity, id, body))?;
    pending.queued = true;
    pending.waiting += 1;
    conn.search_pending().set(pending);
    Ok(true)
}

fn may_wait(conn: &Conn) -> bool {
    conn.search_pending().get().queued
}

/// Drops a record's waiting entry, if it has one (it is being changed or deleted, and its
/// entry is written anew or not at all).
pub(crate) fn forget(conn: &Conn, entity: &str, id: i64) -> DbResult<()> {
    if may_wait(conn) {
        conn.prepare_cached("DELETE FROM search_waiting WHERE entity = ?1 AND record = ?2")?
            .execute((entity, id))?;
    }
    Ok(())
}

/// Drops every waiting entry of a type whose full-text table is made afresh or dropped.
pub(crate) fn forget_type(conn: &Conn, entity: &str) -> DbResult<()> {
    if may_wait(conn) {
        conn.execute("DELETE FROM search_waiting WHERE entity = ?1", [entity])?;
    }
    Ok(())
}

/// Writes the waiting entries into their full-text tables, in id order (FTS5 writes what it
/// holds as a segment when ids come out of order). `at_commit`: the transaction commits next,
/// so nothing waits after this — inside it, a savepoint that rolls back may bring entries back,
/// and the next write, or the commit, looks again.
pub(crate) fn write_waiting(conn: &Conn, at_commit: bool) -> DbResult<()> {
    if conn.is_postgres() {
        return Ok(());
    }
    if may_wait(conn) {
        // The types that have entries waiting, from the table itself: after a rollback, a
        // type whose entries were undone may have lost its full-text table too (a plugin's,
        // purged).
        let types: Vec<String> = conn
            .prepare_cached("SELECT DISTINCT entity FROM search_waiting")?
            .query_map([], |r| r.get(0))?
            .collect::<DbResult<_>>()?;
        for entity in &types {
            conn.prepare_cached(&format!(
                "INSERT INTO \"{}\" (rowid, body)
                 SELECT record, body FROM search_waiting WHERE entity = ?1 ORDER BY record",
                // Quoted whatever the name holds (the store writes only its types' names).
                ddl::fts_table(entity).replace('"', "\"\"")
            ))?
            .execute([entity])?;
            conn.prepare_cached("DELETE FROM search_waiting WHERE entity = ?1")?
                .execute([entity])?;
        }
    }
    if at_commit {
        conn.search_pending().set(Pending::default());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::store::tests::store;
    use crate::{Access, ListQuery, Store};
    use serde_json::json;

    /// The ids of the customers a search for `q` finds, in id order.
    fn found(s: &Store, q: &str) -> Vec<i64> {
        let query = ListQuery::from_pairs([("q", q), ("sort", "id"), ("limit", "100")]).unwrap();
        let page = s.list(&Access::system(), "customer", &query).unwrap();
        page.items.iter().map(|r| r.id).collect()
    }

    fn create(s: &Store, name: &str) -> i64 {
        let input = json!({"name": name, "kind": "company", "status": "lead"});
        s.create(&Access::system(), "customer", input.as_object().unwrap())
            .unwrap()
            .id
    }

    /// Entries waiting on the writer (SQLite; none on PostgreSQL).
    fn waiting(s: &Store) -> i64 {
        if s.is_postgres() {
            return 0;
        }
        s.write(|c| Ok(c.query_row("SELECT count(*) FROM search_waiting", [], |r| r.get(0))?))
            .unwrap()
    }

    #[test]
    fn entries_made_in_a_transaction_are_found_in_it_and_after_it_and_undone_with_it() {
        let (_place, s) = store();
        // Created, changed and searched for inside one call: the search in the call finds the
        // call's records, each by its words as they stand.
        let scope = s.begin_call().unwrap();
        // The transaction's first entry goes straight into the index; the others wait.
        let first = create(&s, "Firstone Trading");
        let kept = create(&s, "Amberfield Trading");
        let renamed = create(&s, "Oldname Trading");
        let sys = Access::system();
        // Changed while its first entry waits (no read in between writes the entries).
        let patch = json!({"name": "Newname Trading"});
        s.update(&sys, "customer", renamed, 1, patch.as_object().unwrap())
            .unwrap();
        let deleted = create(&s, "Gonesoon Trading");
        s.delete(&sys, "customer", deleted, 1).unwrap();
        assert_eq!(
            found(&s, "Trading"),
            vec![first, kept, renamed],
            "inside the call"
        );
        assert_eq!(found(&s, "Oldname"), Vec::<i64>::new());
        let later = create(&s, "Latecomer Trading");
        let another = create(&s, "Secondlate Trading");
        if !s.is_postgres() {
            // Creates leave their entries waiting: no segment of the index each.
            assert_eq!(waiting(&s), 2);
        }
        scope.finish(true).unwrap();
        assert_eq!(
            found(&s, "Trading"),
            vec![first, kept, renamed, later, another]
        );
        assert_eq!(found(&s, "Newname"), vec![renamed]);
        assert_eq!(found(&s, "Oldname"), Vec::<i64>::new());
        assert_eq!(found(&s, "Gonesoon"), Vec::<i64>::new());
        assert_eq!(waiting(&s), 0, "nothing waits after the commit");

        // A call that rolls back takes its entries with it, and a record made after it (which
        // may take the same id) is found by its own words only.
        let scope = s.begin_call().unwrap();
        let undone = create(&s, "Phantom Holdings");
        scope.finish(false).unwrap();
        let next = create(&s, "Realfirm Holdings");
        assert_eq!(
            found(&s, "Phantom"),
            Vec::<i64>::new(),
            "id {undone} undone"
        );
        assert_eq!(found(&s, "Holdings"), vec![next]);

        // A nested call that fails undoes its own entry, also after the outer call searched
        // (which wrote the waiting entries into the index inside the nested savepoint).
        let outer = s.begin_call().unwrap();
        let first = create(&s, "Keepme Partners");
        let inner = s.begin_call().unwrap();
        let dropped = create(&s, "Dropme Partners");
        assert_eq!(found(&s, "Partners"), vec![first, dropped]);
        inner.finish(false).unwrap();
        let second = create(&s, "Alsokept Partners");
        outer.finish(true).unwrap();
        assert_eq!(found(&s, "Partners"), vec![first, second]);
        assert_eq!(waiting(&s), 0);
    }

    #[test]
    fn a_type_purged_after_its_entries_were_rolled_back_is_purged() {
        // A plugin's call created one of its records and failed; then the plugin is removed
        // with its data. Its full-text table goes: nothing may still want to write into it.
        let (_place, s) = store();
        let plugin = crate::schema::Origin::Plugin("p".into());
        s.apply_base(&plugin, &[crate::store::tests::titled("p_box")])
            .unwrap();
        let scope = s.begin_call().unwrap();
        for title in ["Undone box", "Another undone box"] {
            let input = json!({ "title": title });
            s.create(&Access::system(), "p_box", input.as_object().unwrap())
                .unwrap();
        }
        if !s.is_postgres() {
            assert_eq!(waiting(&s), 1, "the second entry waited");
        }
        scope.finish(false).unwrap();
        s.purge_origin(&plugin).unwrap();
        let kept = create(&s, "After the purge");
        assert_eq!(found(&s, "purge"), vec![kept]);
    }

    #[test]
    fn a_transaction_that_creates_many_records_writes_its_entries_as_it_goes() {
        let (_place, s) = store();
        for commit in [true, false] {
            let scope = s.begin_call().unwrap();
            let made: Vec<i64> = (0..9)
                .map(|i| create(&s, &format!("Batchco{commit} {i}")))
                .collect();
            // Never more than three wait (the limit in tests), whatever the call made.
            assert!(waiting(&s) <= 3, "{}", waiting(&s));
            scope.finish(commit).unwrap();
            let expected = if commit { made } else { Vec::new() };
            assert_eq!(found(&s, &format!("Batchco{commit}")), expected);
            assert_eq!(waiting(&s), 0);
        }
    }
}
