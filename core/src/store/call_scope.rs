//! A plugin call's writes as one transaction: a [`CallScope`] opened around a call begins the
//! transaction lazily, at the call's first write (a call that only reads never takes the
//! writer), and its end commits or rolls back everything written since — the call's own writes,
//! the writes of hooks they ran and of plugins it asked. Scopes opened inside one that already
//! writes are savepoints: a failing nested call undoes only its own part.

use super::Store;
use crate::{Error, Result};
use parking_lot::{ArcReentrantMutexGuard, RawMutex, RawThreadId};
use rusqlite::Connection;
use std::cell::RefCell;

type WriterGuard = ArcReentrantMutexGuard<RawMutex, RawThreadId, RefCell<Connection>>;

/// One open scope on this thread.
struct Frame {
    /// The store it belongs to (its address).
    store: usize,
    /// Set on the outermost frame once the transaction has begun: the writer, held until the
    /// frame ends.
    owner: Option<WriterGuard>,
    /// Set on an inner frame once the transaction has begun: its savepoint.
    savepoint: Option<String>,
}

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// An open call scope; end it with [`CallScope::finish`]. Dropping it unfinished (a panic)
/// rolls back.
#[must_use = "a call scope must be finished to commit"]
pub struct CallScope<'a> {
    store: &'a Store,
    depth: usize,
    finished: bool,
}

impl std::fmt::Debug for CallScope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallScope")
            .field("depth", &self.depth)
            .finish()
    }
}

impl Store {
    fn key(&self) -> usize {
        self as *const Store as usize
    }

    /// Opens a call scope on this thread: writes made on this thread until it is finished
    /// commit or roll back together.
    pub fn begin_call(&self) -> Result<CallScope<'_>> {
        let savepoint = if self.in_batch_here() {
            let name = format!("qg_call_{}", FRAMES.with(|f| f.borrow().len()));
            self.writer
                .lock()
                .borrow()
                .execute_batch(&format!("SAVEPOINT {name}"))?;
            Some(name)
        } else {
            None
        };
        let depth = FRAMES.with(|f| {
            let mut f = f.borrow_mut();
            f.push(Frame {
                store: self.key(),
                owner: None,
                savepoint,
            });
            f.len()
        });
        Ok(CallScope {
            store: self,
            depth,
            finished: false,
        })
    }

    /// Begins the transaction of the open call scopes on this thread, if there are any and it
    /// has not begun: the outermost takes the writer, the inner ones set savepoints.
    pub(super) fn join_call_scope(&self) -> Result<()> {
        if self.in_batch_here() {
            return Ok(());
        }
        let key = self.key();
        let pending = FRAMES.with(|f| f.borrow().iter().any(|fr| fr.store == key));
        if !pending {
            return Ok(());
        }
        let guard = self.writer.lock_arc();
        guard.borrow().execute_batch("BEGIN IMMEDIATE")?;
        self.set_batch(true);
        FRAMES.with(|f| -> Result<()> {
            let mut frames = f.borrow_mut();
            let mut guard = Some(guard);
            for (i, fr) in frames.iter_mut().enumerate() {
                if fr.store != key {
                    continue;
                }
                match guard.take() {
                    Some(g) => fr.owner = Some(g),
                    None => {
                        let name = format!("qg_call_{i}");
                        self.writer
                            .lock()
                            .borrow()
                            .execute_batch(&format!("SAVEPOINT {name}"))?;
                        fr.savepoint = Some(name);
                    }
                }
            }
            Ok(())
        })
    }
}

impl CallScope<'_> {
    /// Ends the scope: `commit` keeps what it wrote, otherwise all of it is undone. A commit
    /// that fails rolls back and returns why.
    pub fn finish(mut self, commit: bool) -> Result<()> {
        self.finished = true;
        self.end(commit)
    }

    fn end(&mut self, commit: bool) -> Result<()> {
        let frame = FRAMES.with(|f| {
            let mut f = f.borrow_mut();
            debug_assert_eq!(f.len(), self.depth, "call scopes end in order");
            f.pop()
        });
        let Some(frame) = frame else { return Ok(()) };
        let store = self.store;
        if let Some(name) = frame.savepoint {
            let writer = store.writer.lock();
            let conn = writer.borrow();
            let sql = if commit {
                format!("RELEASE {name}")
            } else {
                format!("ROLLBACK TO {name}; RELEASE {name}")
            };
            return conn.execute_batch(&sql).map_err(Error::from);
        }
        let Some(guard) = frame.owner else {
            return Ok(());
        };
        store.set_batch(false);
        let end = if commit {
            guard.borrow().execute_batch("COMMIT")
        } else {
            guard.borrow().execute_batch("ROLLBACK")
        };
        if end.is_err() {
            let _ = guard.borrow().execute_batch("ROLLBACK");
        }
        drop(guard);
        if !commit || end.is_err() {
            // Schema and role changes refresh the caches as they are made (reading their own
            // uncommitted state); undone, the caches must be read again.
            store.refresh_schema()?;
            store.read(|c| store.reload_roles(c))?;
        }
        end.map_err(Error::from)
    }
}

impl Drop for CallScope<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.end(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::plugins::KvQuota;
    use crate::{Store, StoreOptions};

    const Q: KvQuota = KvQuota {
        keys: 100,
        bytes: 10_000,
    };

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap();
        (dir, s)
    }

    #[test]
    fn a_scope_commits_or_rolls_back_all_its_writes() {
        let (_d, s) = store();
        let scope = s.begin_call().unwrap();
        s.kv_set("p", "a", b"1", Q).unwrap();
        s.kv_set("p", "b", b"2", Q).unwrap();
        scope.finish(false).unwrap();
        assert_eq!(s.kv_get("p", "a").unwrap(), None, "rolled back");
        assert_eq!(s.kv_get("p", "b").unwrap(), None);

        let scope = s.begin_call().unwrap();
        s.kv_set("p", "a", b"1", Q).unwrap();
        s.kv_set("p", "b", b"2", Q).unwrap();
        scope.finish(true).unwrap();
        assert_eq!(s.kv_get("p", "b").unwrap().unwrap(), b"2");
    }

    #[test]
    fn a_failing_inner_scope_undoes_only_its_own_part() {
        let (_d, s) = store();
        let outer = s.begin_call().unwrap();
        let inner = s.begin_call().unwrap();
        s.kv_set("p", "inner-before-outer-wrote", b"1", Q).unwrap();
        inner.finish(false).unwrap();
        s.kv_set("p", "outer", b"1", Q).unwrap();
        let inner = s.begin_call().unwrap();
        s.kv_set("p", "inner", b"1", Q).unwrap();
        inner.finish(false).unwrap();
        let kept = s.begin_call().unwrap();
        s.kv_set("p", "kept", b"1", Q).unwrap();
        kept.finish(true).unwrap();
        outer.finish(true).unwrap();
        assert_eq!(s.kv_get("p", "inner-before-outer-wrote").unwrap(), None);
        assert_eq!(s.kv_get("p", "inner").unwrap(), None);
        assert!(s.kv_get("p", "outer").unwrap().is_some());
        assert!(s.kv_get("p", "kept").unwrap().is_some());
    }

    #[test]
    fn a_scope_that_only_reads_leaves_the_writer_free_and_a_dropped_one_rolls_back() {
        let (_d, s) = store();
        let s = std::sync::Arc::new(s);
        let scope = s.begin_call().unwrap();
        assert_eq!(s.kv_get("p", "a").unwrap(), None);
        let other = s.clone();
        std::thread::spawn(move || other.kv_set("p", "x", b"1", Q).unwrap())
            .join()
            .unwrap();
        scope.finish(true).unwrap();
        {
            let _scope = s.begin_call().unwrap();
            s.kv_set("p", "a", b"1", Q).unwrap();
        }
        assert_eq!(s.kv_get("p", "a").unwrap(), None);
        assert!(s.kv_get("p", "x").unwrap().is_some());
    }
}
