//! Tests of records kept: the WAL index read as the database's state, and records kept across
//! commits that don't write them.

use super::*;

fn header(change: u8) -> Vec<u8> {
    let mut h = vec![0u8; HEADER];
    h[8] = change;
    h[IS_INIT] = 1;
    h
}

fn shm_with(bytes: &[u8]) -> (tempfile::TempDir, File) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db-shm");
    std::fs::write(&path, bytes).unwrap();
    let file = File::open(&path).unwrap();
    (dir, file)
}

#[test]
fn a_header_is_a_state_only_when_whole() {
    let whole = [header(3), header(3)].concat();
    let (_d, f) = shm_with(&whole);
    assert_eq!(read_state(&f).unwrap()[8], 3);
    // A commit under way: the second copy written, the first not yet.
    let torn = [header(3), header(4)].concat();
    let (_d, f) = shm_with(&torn);
    assert!(read_state(&f).is_none());
    // Not initialised, or too short to hold both copies.
    let mut uninit = header(3);
    uninit[IS_INIT] = 0;
    let (_d, f) = shm_with(&[uninit.clone(), uninit].concat());
    assert!(read_state(&f).is_none());
    let (_d, f) = shm_with(&header(3));
    assert!(read_state(&f).is_none());
}

#[test]
fn a_real_wal_index_changes_with_every_commit_of_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut a = crate::db::open(&path, 1000).unwrap();
    a.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .unwrap();
    let kept = KeptRecords::new(&mut a);
    let before = kept.state().expect("a WAL index after a commit");
    assert_eq!(kept.state(), Some(before), "nothing changed");
    // A reader changes nothing.
    let b = crate::db::open(&path, 1000).unwrap();
    let _: i64 = b.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(kept.state(), Some(before));
    // Another connection's commit does.
    b.execute("UPDATE t SET x = 2", []).unwrap();
    let after = kept.state().unwrap();
    assert_ne!(after, before);
    // So does the first connection's, on a table the other one has read from.
    a.execute("UPDATE t SET x = 3", []).unwrap();
    let third = kept.state().unwrap();
    assert_ne!(third, after);
    // Writing back what is there writes no page (SQLite skips it): nothing to see.
    a.execute("UPDATE t SET x = 3", []).unwrap();
    assert_eq!(kept.state(), Some(third));
    kept.set_on(false);
    assert!(kept.state().is_none(), "off, nothing is given out");
}

/// A stale index under `name`: a whole header that no commit will change.
fn stale_index(name: &Path) {
    std::fs::write(name, [header(9), header(9)].concat()).unwrap();
}

#[test]
fn the_index_is_the_one_sqlite_uses_whatever_name_the_database_is_opened_by() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.db");
    crate::db::open(&real, 1000)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER)")
        .unwrap();
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    stale_index(&dir.path().join("link.db-shm"));
    let mut by_link = crate::db::open(&link, 1000).unwrap();
    let kept = KeptRecords::new(&mut by_link);
    let before = kept.state().expect("the index beside the real file");
    by_link.execute("INSERT INTO t VALUES (1)", []).unwrap();
    let after = kept.state().unwrap();
    assert_ne!(after, before, "a commit is seen");
    let real_index = File::open(dir.path().join("real.db-shm")).unwrap();
    assert_eq!(read_state(&real_index), Some(after));
}

#[test]
fn an_index_sqlite_does_not_use_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    crate::db::open(&path, 1000)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER)")
        .unwrap();
    // Opened alone, SQLite keeps its WAL index in its own memory: a file left beside the
    // database by an earlier run is no one's.
    let uri = format!("file:{}?vfs=unix-excl", path.display());
    let mut alone = crate::db::open(Path::new(&uri), 1000).unwrap();
    alone
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; INSERT INTO t VALUES (1);")
        .unwrap();
    stale_index(&dir.path().join("t.db-shm"));
    let kept = KeptRecords::new(&mut alone);
    assert!(kept.state().is_none(), "nothing is given out");
}

#[test]
fn an_index_opened_by_two_stores_is_opened_once_and_never_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut a = crate::db::open(&path, 1000).unwrap();
    a.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
    let mut b = crate::db::open(&path, 1000).unwrap();
    let (first, second) = (KeptRecords::new(&mut a), KeptRecords::new(&mut b));
    let shm = first.shm.clone().unwrap();
    assert!(Arc::ptr_eq(&shm, second.shm.as_ref().unwrap()));
    drop((first, second));
    // Both gone, the process still holds the one descriptor: SQLite's locks stay.
    assert_eq!(Arc::strong_count(&shm), 2, "the table's and this one");
    b.execute("INSERT INTO t VALUES (1)", []).unwrap();
    assert!(read_state(&shm).is_some());
}

/// A customer named `name`, made by the system; its id.
fn customer(store: &crate::Store, name: &str) -> i64 {
    let input = serde_json::json!({"name": name, "kind": "company"});
    let sys = crate::Access::system();
    store
        .create(&sys, "customer", input.as_object().unwrap())
        .unwrap()
        .id
}

/// A store on SQLite (nothing is kept on PostgreSQL: `None`) with two customers, Acme and
/// Other; their ids.
fn two_customers() -> Option<(crate::store::tests::Place, crate::Store, i64, i64)> {
    let (place, store) = crate::store::tests::store();
    if store.is_postgres() {
        return None;
    }
    let (id, other) = (customer(&store, "Acme"), customer(&store, "Other"));
    Some((place, store, id, other))
}

/// A record kept outlives commits that don't write it, whoever commits; a write to it,
/// from any connection, has it read again.
#[test]
fn a_record_outlives_commits_that_do_not_write_it() {
    let Some((place, store, id, other)) = two_customers() else {
        return; // nothing is kept on PostgreSQL
    };
    let sys = crate::Access::system();
    let make = |name: &str| customer(&store, name);
    let read = || store.get_json(&sys, "customer", id).unwrap();
    let same = |a: &crate::RecordJson, b: &crate::RecordJson| a.json.as_ptr() == b.json.as_ptr();
    let first = read();
    assert!(same(&read(), &first));
    // A contact: another type.
    let contact = serde_json::json!({"name": "Lin", "customer": id});
    store
        .create(&sys, "contact", contact.as_object().unwrap())
        .unwrap();
    assert!(
        same(&read(), &first),
        "kept across a commit of another type"
    );
    let outside = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
    outside
        .execute("UPDATE r_contact SET c_title = 'CEO'", [])
        .unwrap();
    assert!(same(&read(), &first), "and of another connection");
    // Another customer, from that connection, and one made: kept (customers have no
    // unique index a replacing insert could delete this one by).
    let rename = "UPDATE r_customer SET c_name = ?1 WHERE id = ?2";
    outside.execute(rename, ("Other Ltd", other)).unwrap();
    make("Third");
    assert!(
        same(&read(), &first),
        "kept across writes of other customers"
    );
    // The type's token renewed by hand with no write logged: read again, the same record.
    outside
        .execute(
            "UPDATE record_writes SET token = token + 1 WHERE entity = 'customer'",
            [],
        )
        .unwrap();
    let again = read();
    assert!(!same(&again, &first), "read again");
    assert_eq!(again.json, first.json);
    assert!(same(&read(), &again), "and kept");
    // Changed by a statement that writes it among others.
    outside
        .execute("UPDATE r_customer SET c_name = c_name || '.'", [])
        .unwrap();
    let name_now = |store: &crate::Store| {
        store
            .get(&sys, "customer", id)
            .unwrap()
            .get("name")
            .to_text()
    };
    assert_eq!(name_now(&store), "Acme.");
    // Deleted and made again with the same id, by the database alone: read again.
    outside
        .execute_batch(&format!(
            "CREATE TEMP TABLE copied AS SELECT * FROM r_customer WHERE id = {id};
             DELETE FROM r_customer WHERE id = {id};
             UPDATE copied SET c_name = 'Acme Again';
             INSERT INTO r_customer SELECT * FROM copied;"
        ))
        .unwrap();
    let name = || name_now(&store);
    assert_eq!(name(), "Acme Again");
    // The record itself.
    outside.execute(rename, ("Acme Ltd", id)).unwrap();
    assert_eq!(name(), "Acme Ltd");
    // A trigger dropped by hand: the type's writes can't be told any more, so what is kept
    // of it is its state's alone.
    outside
        .execute_batch("DROP TRIGGER qg_writes_customer_update")
        .unwrap();
    assert_eq!(name(), "Acme Ltd");
    outside.execute(rename, ("Acme Co", id)).unwrap();
    assert_eq!(name(), "Acme Co");
    // Made again at the next start: kept across commits again.
    drop(store);
    let store = crate::Store::open(place.options()).unwrap();
    let read = || store.get_json(&sys, "customer", id).unwrap();
    let first = read();
    outside
        .execute("UPDATE r_contact SET c_title = 'CFO'", [])
        .unwrap();
    assert!(same(&read(), &first));
    outside.execute(rename, ("Acme Inc", id)).unwrap();
    assert_eq!(
        store
            .get(&sys, "customer", id)
            .unwrap()
            .get("name")
            .to_text(),
        "Acme Inc"
    );
}

/// A record of a type with a unique index other than its ids' (users: the username) is
/// read again after a write of any record of its type: an `INSERT OR REPLACE` by hand
/// that conflicts on the username deletes it, and only the record inserted is logged.
#[test]
fn a_record_a_replacing_insert_can_delete_unlogged_is_read_again_after_its_types_writes() {
    let (place, store) = crate::store::tests::store();
    if store.is_postgres() {
        return; // nothing is kept there
    }
    let sys = crate::Access::system();
    let amy = crate::store::tests::user(&store, "amy", "sales", "east");
    crate::store::tests::user(&store, "bob", "sales", "east");
    let id = amy.user_id.unwrap();
    let read = || store.get_json(&sys, "user", id);
    let first = read().unwrap();
    assert!(String::from_utf8_lossy(&first.json).contains("\"amy\""));
    let outside = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
    outside
        .execute(
            "UPDATE r_user SET c_display_name = 'Bob B' WHERE c_username = 'bob'",
            [],
        )
        .unwrap();
    let again = read().unwrap();
    assert_ne!(again.json.as_ptr(), first.json.as_ptr(), "read again");
    // Bob inserted again under amy's username: amy's row is replaced, unlogged.
    outside
        .execute_batch(
            "CREATE TEMP TABLE bob AS SELECT * FROM r_user WHERE c_username = 'bob';
             UPDATE bob SET c_username = 'amy';
             INSERT OR REPLACE INTO r_user SELECT * FROM bob;",
        )
        .unwrap();
    let gone: i64 = outside
        .query_row("SELECT COUNT(*) FROM r_user WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(gone, 0, "replaced");
    assert!(matches!(read(), Err(crate::Error::NotFound(_))));
}

/// With the tokens' table gone (dropped by hand), a record is still read — its token
/// can't be read with it — and what is kept of it is its state's alone.
#[test]
fn a_record_is_read_when_its_token_cannot_be() {
    let (place, store) = crate::store::tests::store();
    if store.is_postgres() {
        return; // nothing is kept there
    }
    let sys = crate::Access::system();
    let input = serde_json::json!({"name": "Acme", "kind": "company"});
    let id = store
        .create(&sys, "customer", input.as_object().unwrap())
        .unwrap()
        .id;
    let outside = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
    outside
        .execute_batch("DROP TABLE record_writes; CREATE TABLE scratch (x);")
        .unwrap();
    let read = || store.get_json(&sys, "customer", id).unwrap();
    let first = read();
    assert!(String::from_utf8_lossy(&first.json).contains("\"Acme\""));
    assert_eq!(
        read().json.as_ptr(),
        first.json.as_ptr(),
        "kept in its state"
    );
    outside
        .execute_batch("INSERT INTO scratch VALUES (1);")
        .unwrap();
    let again = read();
    assert_ne!(again.json.as_ptr(), first.json.as_ptr(), "read again");
    assert_eq!(again.json, first.json);
}

#[test]
fn what_is_kept_is_bounded_by_the_memory_it_takes() {
    let (_place, store) = crate::store::tests::store();
    if store.is_postgres() {
        return; // nothing is kept there
    }
    let system = crate::Access::system();
    let input = serde_json::json!({"name": "Acme", "kind": "company"});
    let created = store
        .create(&system, "customer", input.as_object().unwrap())
        .unwrap();
    let schema = store.schema();
    let view = schema.shared_entity("customer").unwrap();
    let state = store.kept.state().unwrap();
    let stamp = || super::Stamp {
        state,
        written: None,
    };
    let kept = &store.kept;
    // Too large to keep: read each time.
    let mut large = created.clone();
    large.id = 1_000_000;
    large
        .values
        .insert("notes".into(), Value::Text("华".repeat(100_000)));
    kept.keep(&view, stamp(), large, schema.clone());
    assert!(kept.get(&view, 1_000_000).is_none());
    // Many kept: no more than the budget.
    let notes = Value::Text("x".repeat(95_000));
    for id in 1..=400 {
        let mut record = created.clone();
        record.id = id;
        record.values.insert("notes".into(), notes.clone());
        kept.keep(&view, stamp(), record, schema.clone());
    }
    let (count, bytes) = (kept.kept.len(), kept.kept.weight());
    assert!(bytes <= KEPT_BYTES, "{bytes} kept");
    assert!((100..400).contains(&count), "{count} kept");
    // A record kept under another schema lets every one kept before go (each holds the
    // snapshot its type is part of).
    let other = std::sync::Arc::new((*schema).clone());
    let view = other.shared_entity("customer").unwrap();
    kept.keep(&view, stamp(), created.clone(), other.clone());
    assert_eq!(kept.kept.len(), 1);
    assert!(kept.get(&view, created.id).is_some());
}

/// A record kept is read again when the log it was stamped in is not this history's any more
/// (as after a backup restored, or the log's tail deleted and written again by hand): the
/// place it was stamped at holds another mark, even where the writes logged since don't name
/// it.
#[test]
fn a_record_is_read_again_when_the_log_is_another_history() {
    let Some((place, store, id, other)) = two_customers() else {
        return; // nothing is kept on PostgreSQL
    };
    let sys = crate::Access::system();
    let read = || store.get_json(&sys, "customer", id).unwrap();
    let first = read();
    let outside = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
    let newest = || -> i64 {
        outside
            .query_row("SELECT max(seq) FROM record_changes", [], |r| r.get(0))
            .unwrap()
    };
    let stamped = newest();
    // Another customer written: kept, and the copy of the log read.
    outside
        .execute(
            "UPDATE r_customer SET c_name = 'Other Ltd' WHERE id = ?1",
            [other],
        )
        .unwrap();
    assert_eq!(read().json.as_ptr(), first.json.as_ptr(), "kept");
    // The record changed, and the log from its stamp on written again naming only the other.
    outside
        .execute(
            "UPDATE r_customer SET c_name = 'Acme Ltd' WHERE id = ?1",
            [id],
        )
        .unwrap();
    let last = newest();
    outside
        .execute("DELETE FROM record_changes WHERE seq >= ?1", [stamped - 1])
        .unwrap();
    for seq in stamped - 1..=last {
        outside
            .execute(
                "INSERT INTO record_changes (seq, entity, record_id, mark)
                 VALUES (?1, 'customer', ?2, random())",
                (seq, other),
            )
            .unwrap();
    }
    let again = read();
    assert!(String::from_utf8_lossy(&again.json).contains("Acme Ltd"));
}
