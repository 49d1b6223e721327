//! What records and list pages are kept in, and when one kept is still what the database holds.
//! Each entry is stamped with the state of the database it was read in (the WAL index header,
//! `kept_records.rs`) and the write tokens of the types it read (`db/record_writes.rs`), read
//! before its first statement. It is given out at once while the header reads the same; after
//! a commit, only if none of its types was written since, or only records of its own type
//! that it neither read nor would read now, and it is then stamped anew. The writes since are
//! looked for first in a copy of the log read once per commit and shared by every entry
//! (`db/recent_writes.rs`: no statement of the entry's own); what it can't tell — a page
//! beside writes of its own type, whose conditions the records written must be tested
//! against, stamped before the oldest write the copy holds — is asked of the database (one
//! small read instead of the entry's). Entries are let go as newer ones need the room, and all
//! at once when the schema changes (each holds a snapshot of the schema its type is part of).

use super::Store;
use crate::db::recent_writes::{Seen, Since};
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
    /// since, or only records of its own that it neither read nor would read now (`record`:
    /// the one record it is; `rows`: what a page read; neither: what it read of its own type
    /// can't be told apart, any write of it counts). `state` was read before the writes are:
    /// what they tell held when it was the state. `read` says `types` and `rows`, asked only
    /// after a commit (not while the entry is in its state: the way of every request between
    /// two commits). The writes are first looked for in the copy of the log read once per
    /// commit ([`Store::writes_seen`]); only what it can't tell costs a statement.
    pub(super) fn still_holds<'a>(
        &self,
        kept: &Stamp,
        state: &State,
        record: Option<i64>,
        read: impl FnOnce() -> (Vec<&'a str>, Option<RowsRead<'a>>),
    ) -> Result<Holds> {
        if kept.state == *state {
            return Ok(Holds::InItsState);
        }
        let Some(written) = &kept.written else {
            return Ok(Holds::No);
        };
        let (types, rows) = read();
        let again = |written| {
            Holds::Again(Stamp {
                state: *state,
                written: Some(written),
            })
        };
        if let Some(seen) = self.writes_seen(state)? {
            let watched = &self.kept.watched;
            match seen.since(written, &types, record) {
                Since::Unwritten(now) => return Ok(again(now)),
                // Told apart only where no record of its type is deleted unlogged.
                Since::OthersOfItsOwn(now) if record.is_some() => {
                    let apart = watched.deletes_logged(seen.schema_version(), types[0]);
                    return Ok(if apart { again(now) } else { Holds::No });
                }
                Since::Written => return Ok(Holds::No),
                // What can't be told apart is told by the tokens, which the copy holds.
                Since::Unknown if rows.is_none() => {
                    let now = seen.same_tokens(written, &types);
                    return Ok(now.map_or(Holds::No, again));
                }
                Since::OthersOfItsOwn(_) | Since::Unknown => {}
            }
        }
        let watched = &self.kept.watched;
        let now = self.read(|c| {
            let now = record_writes::holds_since(c, &types, watched, written, rows.as_ref());
            Ok(now.filter(|_| c.is_autocommit()))
        })?;
        Ok(now.map_or(Holds::No, again))
    }

    /// What the records of `types` were written in now (`None` if that can't be told): as the
    /// copy of the log read in `state` saw it, if there is one, else read.
    pub(super) fn records_written(&self, types: &[&str], state: &State) -> Result<Option<Written>> {
        let watched = &self.kept.watched;
        let seen = read_in(
            &self.kept.recent.lock().unwrap_or_else(|e| e.into_inner()),
            state,
        );
        if let Some(seen) = seen.filter(|s| watched.all_seen(s.schema_version(), types)) {
            return Ok(seen.now(types));
        }
        self.read(|c| Ok(record_writes::now(c, types, watched).filter(|_| c.is_autocommit())))
    }

    /// The newest writes logged as read in `state` or later: the copy read last if it was
    /// read in `state` or in the state now, else read now (one statement, for every entry
    /// asked for in a new state). `None` where the log can't be read. Held under a lock while
    /// read: the other requests that would each have read it wait for it instead.
    fn writes_seen(&self, state: &State) -> Result<Option<Arc<Seen>>> {
        let mut recent = self.kept.recent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(seen) = read_in(&recent, state) {
            return Ok(Some(seen));
        }
        // Read before the log: what it tells held when this was the state.
        let Some(now) = self.kept.state() else {
            return Ok(None);
        };
        // The copy was read in the state now, so after `state` (asked for by a request that
        // read it before another's read the copy): as good as one read now.
        if let Some(seen) = read_in(&recent, &now) {
            return Ok(Some(seen));
        }
        let before = recent.as_ref().map(|(_, seen)| seen.clone());
        let seen = self.read(|c| {
            let seen = Seen::read(c, before.as_deref()).map_err(|error| {
                tracing::debug!(%error, "the writes logged could not be read");
            });
            Ok(seen.ok().filter(|_| c.is_autocommit()))
        })?;
        let seen = seen.map(Arc::new);
        *recent = seen.clone().map(|seen| (now, seen));
        Ok(seen)
    }
}

/// The copy of the log held, if it was read in `state`.
fn read_in(recent: &Option<(State, Arc<Seen>)>, state: &State) -> Option<Arc<Seen>> {
    let (label, seen) = recent.as_ref()?;
    (label == state).then(|| seen.clone())
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
