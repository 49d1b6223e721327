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
//! After a commit, a record is given out again if it was not written since — the writes
//! logged (`db/record_writes.rs`), as the copy read once per commit holds them
//! (`db/recent_writes.rs`), checked in memory: see `kept_by_state.rs` — and stamped anew.
//! Where its type has a unique index (other than its ids'), a replacing insert can delete it
//! unlogged: then a write of any record of its type has it read again (its type's token).

use super::kept_by_state::{KeptByState, Stamp, State, Weighed, HEADER};
use crate::db::recent_writes::Seen;
use crate::db::{record_writes, Conn};
use crate::record::Record;
use crate::schema::{Entity, Schema, SharedEntity};
use crate::value::Value;
use bytes::Bytes;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

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
    /// The newest writes logged, as read last, and the state read before them (for records
    /// and pages alike: `kept_by_state.rs`).
    pub(super) recent: Mutex<Option<(State, Arc<Seen>)>>,
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
            recent: Mutex::new(None),
        }
    }

    /// Keeps records (the default) or not (every read reads the database; for measuring).
    pub(super) fn set_on(&self, on: bool) {
        self.on.store(on, Relaxed);
        if !on {
            self.kept.clear();
            *self.recent.lock().unwrap_or_else(|e| e.into_inner()) = None;
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
#[path = "kept_records_tests.rs"]
mod tests;
