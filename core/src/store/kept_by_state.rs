//! What records and list pages are kept in: entries each holding the state of the database
//! they were read in (the WAL index header, `kept_records.rs`), given out only while asked for
//! in that same state, weighed by the memory they take. An entry found in another state is let
//! go; one kept in a new state lets every entry kept before go (none of them can be given out
//! again, and each may hold a schema snapshot).

use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// The first part of the WAL index header (the file format's `WalIndexHdr`: change counter,
/// last frame, page count, salts and checksums); SQLite writes it twice, one copy after the
/// other, and a reader that finds the copies equal has read it whole.
pub(super) const HEADER: usize = 48;

/// The database's state, as the WAL index header tells it (read in `kept_records.rs`).
pub(super) type State = [u8; HEADER];

/// An entry of a [`KeptByState`]: the state it was read in and the memory it takes, about
/// (fixed when kept: the cache's weight may not change).
pub(super) trait Stated {
    fn state(&self) -> &State;
    fn bytes(&self) -> u64;
}

/// Weighs entries by the memory they take.
#[derive(Debug, Clone, Copy)]
pub(super) struct BySize;

impl<K, V: Stated> quick_cache::Weighter<K, Arc<V>> for BySize {
    fn weight(&self, _: &K, kept: &Arc<V>) -> u64 {
        kept.bytes()
    }
}

/// Entries kept by key, each with its state.
pub(super) struct KeptByState<K, V> {
    kept: quick_cache::sync::Cache<K, Arc<V>, BySize>,
    /// The state the last entry was kept in.
    last_kept: Mutex<Option<State>>,
    /// An entry larger than this is not kept.
    largest: u64,
}

impl<K: Eq + Hash + Clone, V: Stated> KeptByState<K, V> {
    /// About `usual` entries, at most about `bytes` of them, none larger than `largest`.
    pub(super) fn new(usual: usize, bytes: u64, largest: u64) -> Self {
        KeptByState {
            kept: quick_cache::sync::Cache::with_weighter(usual, bytes, BySize),
            last_kept: Mutex::new(None),
            largest,
        }
    }

    /// The entry under `key`, if kept in `state`; one kept in another is let go.
    pub(super) fn get(&self, key: &K, state: &State) -> Option<Arc<V>> {
        let kept = self.kept.get(key)?;
        if kept.state() == state {
            return Some(kept);
        }
        self.kept.remove_if(key, |k| k.state() != state);
        None
    }

    /// Keeps `value` under `key` (unless it is too large to be worth it), and gives it back.
    pub(super) fn keep(&self, key: K, value: V) -> Arc<V> {
        {
            let mut last = self.last_kept.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|last| last != *value.state()) {
                self.kept.clear();
            }
            *last = Some(*value.state());
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
