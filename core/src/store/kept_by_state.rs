//! What records and list pages are kept in, and when one kept is still what the database holds.
//! Each entry is stamped with the state of the database it was read in (the WAL index header,
//! `kept_records.rs`) and the write tokens of the types it read (`db/record_writes.rs`), read
//! before its first statement. It is given out at once while the header reads the same; after
//! a commit, only if none of its types was written since (one small read instead of the
//! entry's), or only records of its own type that it neither read nor would read now (the
//! writes logged, checked in one statement), and it is then stamped anew. Entries are let go as newer ones need
//! the room, and all at once when the schema changes (each holds a snapshot of the schema its
//! type is part of).

use super::Store;
use crate::db::record_writes::{self, RowsRead, Written};
use crate::schema::Schema;
use crate::Result;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// The first part of the WAL index header (the file format's `WalIndexHdr`: change counter,
/// last frame, page count, salts and checksums); SQLite writes it twice, one copy after the
/// other, and a reader that finds the copies equal has read it whole.
pub(super) const HEADER: usize = 48;

/// The database's state, as the WAL index header tells it (read in `kept_records.rs`).
pub(super) type State = [u8; HEADER];

/// When an entry was read: the database's state, and the write tokens of the types it read
/// (`None`: it read more than records, or they could not be told; then it is its state's alone).
#[derive(Debug, Clone)]
pub(super) struct Stamp {
    pub state: State,
    pub written: Option<Written>,
}

/// An entry of a [`KeptByState`]: the memory it takes, about (fixed when kept: the cache's
/// weight may not change).
pub(super) trait Weighed {
    fn bytes(&self) -> u64;
}

/// Weighs entries by the memory they take.
#[derive(Debug, Clone, Copy)]
pub(super) struct BySize;

impl<K, V: Weighed> quick_cache::Weighter<K, Arc<V>> for BySize {
    fn weight(&self, _: &K, kept: &Arc<V>) -> u64 {
        kept.bytes()
    }
}

/// Entries kept by key.
pub(super) struct KeptByState<K, V> {
    kept: quick_cache::sync::Cache<K, Arc<V>, BySize>,
    /// The schema the last entry was kept under.
    schema: Mutex<Option<Arc<Schema>>>,
    /// An entry larger than this is not kept.
    largest: u64,
}

impl<K: Eq + Hash + Clone, V: Weighed> KeptByState<K, V> {
    /// About `usual` entries, at most about `bytes` of them, none larger than `largest`.
    pub(super) fn new(usual: usize, bytes: u64, largest: u64) -> Self {
        KeptByState {
            kept: quick_cache::sync::Cache::with_weighter(usual, bytes, BySize),
            schema: Mutex::new(None),
            largest,
        }
    }

    /// The entry under `key`, whatever it was stamped with.
    pub(super) fn get(&self, key: &K) -> Option<Arc<V>> {
        self.kept.get(key)
    }

    /// Keeps `value` under `key` (unless it is too large to be worth it), having let every
    /// entry go if `schema` is not the one they were kept under, and gives it back.
    pub(super) fn keep(&self, key: K, value: V, schema: Arc<Schema>) -> Arc<V> {
        {
            let mut last = self.schema.lock().unwrap_or_else(|e| e.into_inner());
            if !last.as_ref().is_some_and(|last| Arc::ptr_eq(last, &schema)) {
                self.kept.clear();
                *last = Some(schema);
            }
        }
        let kept = Arc::new(value);
        if kept.bytes() <= self.largest {
            self.kept.insert(key, kept.clone());
        }
        kept
    }

    /// Lets every entry go.
    pub(super) fn clear(&self) {
        self.kept.clear();
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.kept.len()
    }

    #[cfg(test)]
    pub(super) fn weight(&self) -> u64 {
        self.kept.weight()
    }
}

/// Whether an entry is still what the database holds ([`Store::still_holds`]).
pub(super) enum Holds {
    /// It was read in the state asked of.
    InItsState,
    /// It holds, stamped anew.
    Again(Stamp),
    /// It is to be read again.
    No,
}

impl Store {
    /// Whether an entry stamped `kept` is what the database holds in `state`: it was read in
    /// it, or none of `types` — the types whose records it read, its own first — was written
    /// since, or only records of its own that it neither read nor would read now (`rows`;
    /// `None`: what it read of its own type can't be told apart, any write of it counts).
    /// `state` was read before the writes are: what they tell held when it was the state.
    /// `read` says `types` and `rows`, asked only after a commit (not while the entry is in
    /// its state: the way of every request between two commits).
    pub(super) fn still_holds<'a>(
        &self,
        kept: &Stamp,
        state: &State,
        read: impl FnOnce() -> (Vec<&'a str>, Option<RowsRead<'a>>),
    ) -> Result<Holds> {
        if kept.state == *state {
            return Ok(Holds::InItsState);
        }
        let Some(written) = &kept.written else {
            return Ok(Holds::No);
        };
        let (types, rows) = read();
        let watched = &self.kept.watched;
        let again = self.read(|c| {
            let again = record_writes::holds_since(c, &types, watched, written, rows.as_ref());
            Ok(again.filter(|_| c.is_autocommit()))
        })?;
        Ok(match again {
            Some(written) => Holds::Again(Stamp {
                state: *state,
                written: Some(written),
            }),
            None => Holds::No,
        })
    }

    /// What the records of `types` were written in now (`None` if that can't be told).
    pub(super) fn records_written(&self, types: &[&str]) -> Result<Option<Written>> {
        let watched = &self.kept.watched;
        self.read(|c| Ok(record_writes::now(c, types, watched).filter(|_| c.is_autocommit())))
    }
}

#[cfg(test)]
mod tests {
    /// A database of a build before writes were logged (`db/record_writes.rs`) has its types' former triggers (the
    /// token alone) replaced at the next start by the ones that log; a write is then logged.
    #[test]
    fn the_former_triggers_are_replaced_at_start() {
        let (place, store) = crate::store::tests::store();
        if store.is_postgres() {
            return; // no triggers there
        }
        drop(store);
        let raw = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
        let triggers = |like: &str| -> Vec<String> {
            let sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?1
                       ORDER BY name";
            let mut stmt = raw.prepare(sql).unwrap();
            let names = stmt.query_map([like], |r| r.get(0)).unwrap();
            names.map(Result::unwrap).collect()
        };
        let former = "qg_written_customer_%";
        raw.execute_batch(
            "DROP TRIGGER qg_writes_customer_insert;
             CREATE TRIGGER qg_written_customer_insert AFTER INSERT ON r_customer
             BEGIN UPDATE record_writes SET token = random() WHERE entity = 'customer'; END;",
        )
        .unwrap();
        assert_eq!(triggers(former), ["qg_written_customer_insert"]);
        let store = crate::Store::open(place.options()).unwrap();
        assert!(triggers(former).is_empty());
        assert_eq!(
            triggers("qg_writes_customer_%"),
            [
                "qg_writes_customer_delete",
                "qg_writes_customer_insert",
                "qg_writes_customer_update"
            ]
        );
        let input = serde_json::json!({"name": "Acme", "kind": "company"});
        let sys = crate::Access::system();
        let id = store
            .create(&sys, "customer", input.as_object().unwrap())
            .unwrap()
            .id;
        let logged: i64 = raw
            .query_row(
                "SELECT record_id FROM record_changes WHERE entity = 'customer'
                 ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(logged, id);
    }
}
