//! Records read lately, each kept with the state of the database it was read in, so that
//! reading the same record again before anything has changed takes no read transaction (SQLite
//! takes its WAL read lock for every one: the largest cost of a read that is ours).
//!
//! The state is the header of SQLite's WAL index (the `-shm` file beside the database), which
//! every commit rewrites — a commit of any connection, of this process or of another (a CLI
//! command) — and which is read here without a lock, as SQLite's own readers first read it.
//! A record kept in one state is given out only while the header still reads the same. The
//! header is read before the read transaction begins: a commit that ends in between makes the
//! kept copy stale at once rather than late. Where the header can't be read whole (no WAL
//! index, a copy torn by a commit under way), nothing is given out or kept. The index read is
//! the one SQLite named after the file it opened, and only once a commit is seen to change it.
//! PostgreSQL's hosts share no such header, so there nothing is kept at all.
//!
//! After a commit, a record is given out again if no record of its type was written since
//! (its type's write token, `db/record_writes.rs`, read before the record was: see
//! `kept_by_state.rs`), and stamped anew. Writes of other records of its type are not told
//! apart: checking the writes logged costs a statement, as reading the record does.

use super::kept_by_state::{KeptByState, Stamp, State, Weighed, HEADER};
use crate::db::{record_writes, Conn};
use crate::record::Record;
use crate::schema::{Entity, Schema, SharedEntity};
use crate::value::Value;
use bytes::Bytes;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

/// Where the header says it has been initialised (`isInit`).
const IS_INIT: usize = 12;

/// The memory records kept may take, about (each record and its JSON counted).
const KEPT_BYTES: u64 = 64 << 20;

/// The records kept when they are of a usual size (a few dozen fields).
const USUAL_COUNT: usize = 16_384;

/// A record larger than this is read each time rather than kept (long texts, many fields).
const LARGEST_KEPT: u64 = 256 << 10;

/// A kept record's place: its type as its reader sees it (schema snapshot, place) and its id.
type Key = (usize, usize, i64);

/// A record kept: the type as its reader saw it, when it was read, and its API JSON once
/// rendered.
#[derive(Debug)]
pub(super) struct KeptRecord {
    view: SharedEntity,
    pub(super) stamp: Stamp,
    pub(super) record: Arc<Record>,
    json: OnceLock<Bytes>,
    /// The memory it takes, about, its JSON included: fixed when kept (the cache's weight
    /// may not change).
    bytes: u64,
}

impl KeptRecord {
    /// The record as the API writes it, rendered the first time it is asked for.
    pub(super) fn json(&self) -> Bytes {
        self.json
            .get_or_init(|| render(&self.record, &self.view))
            .clone()
    }
}

/// A record as the API writes it ([`Record::as_api`]).
pub(super) fn render(record: &Record, view: &Entity) -> Bytes {
    // Serializing a record writes only strings and numbers: it can't fail.
    serde_json::to_vec(&record.as_api(view))
        .unwrap_or_default()
        .into()
}

/// The memory a record takes, about, and as much again for its JSON.
fn size_of(record: &Record) -> u64 {
    let values: usize = record
        .values
        .iter()
        .map(|(name, value)| {
            let held = match value {
                Value::Text(t) => t.len(),
                Value::Multi(items) => items.iter().map(|i| i.len() + 24).sum(),
                _ => 0,
            };
            name.len() + held + 64
        })
        .sum();
    2 * (values + 256) as u64
}

impl Weighed for KeptRecord {
    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The records kept, and the WAL index they are checked against.
pub(super) struct KeptRecords {
    /// The WAL index, opened read-only; `None` on PostgreSQL or where it can't be used.
    shm: Option<Arc<File>>,
    kept: KeptByState<Key, KeptRecord>,
    on: AtomicBool,
    /// The types seen to have their write tokens' triggers (for records and pages alike).
    pub(super) watched: record_writes::Watched,
}

impl KeptRecords {
    /// Records of the database `writer` is connected to, checked against the WAL index
    /// SQLite uses for it: the one named after the file SQLite opened, and only once a commit
    /// of `writer` has been seen to change it there. On PostgreSQL, or where the index can't
    /// be found or isn't seen to change, nothing is kept.
    pub(super) fn new(writer: &mut Conn) -> Self {
        let shm = writer
            .sqlite_file()
            .and_then(|database| {
                let mut name = database.into_os_string();
                name.push("-shm");
                wal_index(Path::new(&name))
            })
            .filter(|shm| follows_commits(writer, shm));
        KeptRecords {
            shm,
            kept: KeptByState::new(USUAL_COUNT, KEPT_BYTES, LARGEST_KEPT),
            on: AtomicBool::new(true),
            watched: Default::default(),
        }
    }

    /// Keeps records (the default) or not (every read reads the database; for measuring).
    pub(super) fn set_on(&self, on: bool) {
        self.on.store(on, Relaxed);
        if !on {
            self.kept.clear();
        }
    }

    /// The database's state now, if known: read before a read begins, it says what that read
    /// may be kept for.
    pub(super) fn state(&self) -> Option<State> {
        if !self.on.load(Relaxed) {
            return None;
        }
        read_state(self.shm.as_ref()?)
    }

    /// The record `id` of `view`, if one was kept, whatever its stamp.
    pub(super) fn get(&self, view: &SharedEntity, id: i64) -> Option<Arc<KeptRecord>> {
        let (schema, at) = view.identity();
        // The key names the view: the entry holds its snapshot, whose address is so never
        // another's while the entry lives.
        self.kept.get(&(schema, at, id))
    }

    /// Keeps `record` of `view`, read in a transaction begun after `stamp` was read (unless it
    /// is too large to be worth it); `schema` is the schema now.
    pub(super) fn keep(
        &self,
        view: &SharedEntity,
        stamp: Stamp,
        record: Record,
        schema: Arc<Schema>,
    ) -> Arc<KeptRecord> {
        let (at_schema, at) = view.identity();
        let key = (at_schema, at, record.id);
        let kept = KeptRecord {
            view: view.clone(),
            stamp,
            bytes: size_of(&record),
            record: Arc::new(record),
            json: OnceLock::new(),
        };
        self.kept.keep(key, kept, schema)
    }

    /// Keeps `kept` again, stamped `stamp` (found to hold then).
    pub(super) fn keep_again(&self, kept: &KeptRecord, stamp: Stamp, schema: Arc<Schema>) {
        let (at_schema, at) = kept.view.identity();
        let again = KeptRecord {
            view: kept.view.clone(),
            stamp,
            record: kept.record.clone(),
            json: kept.json.clone(),
            bytes: kept.bytes,
        };
        self.kept
            .keep((at_schema, at, kept.record.id), again, schema);
    }
}

/// Whether a commit of `writer` is seen in `shm`: the WAL index SQLite keeps for it is that
/// file (not one left beside another name of the database, nor an index SQLite keeps in its
/// own memory instead). The commit rewrites the schema version as it is, which changes
/// nothing but the database's state.
fn follows_commits(writer: &mut Conn, shm: &File) -> bool {
    let Some(before) = read_state(shm) else {
        return false;
    };
    // Read and written back in one transaction that holds the write lock throughout: another
    // process's migration can't commit in between and be undone by the write.
    let committed = writer.immediate_transaction().and_then(|tx| {
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
        tx.commit()
    });
    committed.is_ok() && read_state(shm).is_some_and(|after| after != before)
}

/// The WAL index files this process has opened, by device and inode, each opened once and
/// never closed: closing any descriptor of a file lets go of every POSIX lock the process
/// holds on it — SQLite's own locks on the WAL index among them, which other processes rely
/// on. One descriptor per database the process opens.
#[cfg(unix)]
static WAL_INDEXES: std::sync::Mutex<std::collections::BTreeMap<(u64, u64), Arc<File>>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// The WAL index at `path`, opened read-only once for the process.
#[cfg(unix)]
fn wal_index(path: &Path) -> Option<Arc<File>> {
    use std::os::unix::fs::MetadataExt;
    let identity = |m: std::fs::Metadata| (m.dev(), m.ino());
    let mut opened = WAL_INDEXES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = std::fs::metadata(path)
        .ok()
        .and_then(|m| opened.get(&identity(m)))
    {
        return Some(known.clone());
    }
    let file = File::open(path).ok()?;
    let Ok(metadata) = file.metadata() else {
        std::mem::forget(file); // never closed (above)
        return None;
    };
    match opened.entry(identity(metadata)) {
        std::collections::btree_map::Entry::Occupied(known) => {
            std::mem::forget(file);
            Some(known.get().clone())
        }
        std::collections::btree_map::Entry::Vacant(place) => {
            Some(place.insert(Arc::new(file)).clone())
        }
    }
}

#[cfg(not(unix))]
fn wal_index(_path: &Path) -> Option<Arc<File>> {
    None // elsewhere nothing is kept
}

/// The WAL index header, when both its copies read the same and it is initialised.
fn read_state(shm: &File) -> Option<State> {
    let mut both = [0u8; 2 * HEADER];
    read_at(shm, &mut both)?;
    let (first, second) = both.split_at(HEADER);
    if first != second || first[IS_INIT] != 1 {
        return None;
    }
    first.try_into().ok()
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8]) -> Option<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, 0).ok()
}

#[cfg(not(unix))]
fn read_at(_file: &File, _buf: &mut [u8]) -> Option<()> {
    None // elsewhere nothing is kept
}

#[cfg(all(test, unix))]
mod tests {
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

    /// A record kept outlives commits that write no record of its type, whoever commits; a
    /// write to any record of its type, from any connection, has it read again.
    #[test]
    fn a_record_outlives_commits_that_write_none_of_its_type() {
        let (place, store) = crate::store::tests::store();
        if store.is_postgres() {
            return; // nothing is kept there
        }
        let sys = crate::Access::system();
        let make = |name: &str| {
            let input = serde_json::json!({"name": name, "kind": "company"});
            store
                .create(&sys, "customer", input.as_object().unwrap())
                .unwrap()
                .id
        };
        let (id, other) = (make("Acme"), make("Other"));
        let read = || store.get_json(&sys, "customer", id).unwrap();
        let same =
            |a: &crate::RecordJson, b: &crate::RecordJson| a.json.as_ptr() == b.json.as_ptr();
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
        // Another customer, from that connection: read again, the same record.
        let rename = "UPDATE r_customer SET c_name = ?1 WHERE id = ?2";
        outside.execute(rename, ("Other Ltd", other)).unwrap();
        let again = read();
        assert!(!same(&again, &first), "read again");
        assert_eq!(again.json, first.json);
        assert!(same(&read(), &again), "and kept");
        // Deleted and made again with the same id, by the database alone: read again.
        outside
            .execute_batch(&format!(
                "CREATE TEMP TABLE copied AS SELECT * FROM r_customer WHERE id = {id};
                 DELETE FROM r_customer WHERE id = {id};
                 UPDATE copied SET c_name = 'Acme Again';
                 INSERT INTO r_customer SELECT * FROM copied;"
            ))
            .unwrap();
        let name = || {
            store
                .get(&sys, "customer", id)
                .unwrap()
                .get("name")
                .to_text()
        };
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
}
