//! A plugin call's writes as one transaction: a [`CallScope`] opened around a call begins the
//! transaction lazily, at the call's first write (a call that only reads never takes the
//! writer), and its end commits or rolls back everything written since — the call's own writes,
//! the writes of hooks they ran and of plugins it asked. Scopes opened inside one that already
//! writes are savepoints: a failing nested call undoes only its own part.

use super::group_commit::{Ending, Group, WriterGuard, JOINED};
use super::Store;
use crate::{Error, Result};
use std::cell::RefCell;
use std::sync::Arc;

/// One open scope on this thread.
struct Frame {
    /// The store it belongs to (its address).
    store: usize,
    /// Set on the outermost frame once the transaction has begun: the writer, held until the
    /// frame ends.
    owner: Option<WriterGuard>,
    /// Set on the outermost frame when its transaction was left open by another call (group
    /// commit): the group it joined.
    group: Option<Arc<Group>>,
    /// The scope commits on its own, never in a group (bulk work, plugin calls), so that no
    /// short call waits for it.
    alone: bool,
    /// Set on an inner frame once the transaction has begun: its savepoint.
    savepoint: Option<String>,
    /// What to do once this frame's writes are committed for good (passed to the enclosing
    /// frame when this one is nested; dropped if it rolls back).
    on_commit: Vec<Box<dyn FnOnce()>>,
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
    /// Scopes live on one thread's stack of frames: never `Send`.
    _not_send: std::marker::PhantomData<*const ()>,
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
        self.open_call(false)
    }

    /// [`Store::begin_call`] for a call that may run long — a chunk of an import, a job's step,
    /// a plugin's call (its length is the plugin's, up to its time limit): as the outermost
    /// scope its transaction is never shared with other calls (group commit), so that no short
    /// write's acknowledgement waits for it.
    pub fn begin_call_alone(&self) -> Result<CallScope<'_>> {
        self.open_call(true)
    }

    fn open_call(&self, alone: bool) -> Result<CallScope<'_>> {
        let savepoint = if self.in_batch_here() {
            let name = format!("qg_call_{}", FRAMES.with(|f| f.borrow().len()));
            self.writer
                .lock()
                .borrow()
                .execute_kept(&format!("SAVEPOINT {name}"))?;
            Some(name)
        } else {
            None
        };
        let depth = FRAMES.with(|f| {
            let mut f = f.borrow_mut();
            f.push(Frame {
                store: self.key(),
                owner: None,
                group: None,
                alone,
                savepoint,
                on_commit: Vec::new(),
            });
            f.len()
        });
        Ok(CallScope {
            store: self,
            depth,
            finished: false,
            _not_send: std::marker::PhantomData,
        })
    }

    /// Runs `f` in a call scope of its own: everything it writes on this thread commits if
    /// it returns `Ok`, and none of it otherwise.
    pub(crate) fn atomically<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let scope = self.begin_call()?;
        let out = f();
        scope.finish(out.is_ok())?;
        out
    }

    /// Takes the writer for the open call scope now, as its first write would: reads after it
    /// see every committed write and nothing else commits until the scope ends. Nothing to do
    /// outside a call scope or once the transaction has begun.
    pub fn begin_write(&self) -> Result<()> {
        self.join_call_scope()
    }

    /// Runs `f` once the writes made so far on this thread are committed for good: at the end
    /// of the outermost open call scope if it commits (never if it rolls back), or now when no
    /// scope is open. For work that must not see, or announce, writes that may yet be undone
    /// (delivering a plugin's events).
    pub fn after_commit(&self, f: impl FnOnce() + 'static) {
        let key = self.key();
        let f: Box<dyn FnOnce()> = Box::new(f);
        let queued = FRAMES.with(|frames| {
            match frames
                .borrow_mut()
                .iter_mut()
                .rev()
                .find(|fr| fr.store == key)
            {
                Some(frame) => {
                    frame.on_commit.push(f);
                    None
                }
                None => Some(f),
            }
        });
        if let Some(f) = queued {
            f();
        }
    }

    /// Whether the schema or role caches were refreshed since this was last asked (clears it).
    pub(crate) fn take_cache_refresh(&self) -> bool {
        self.caches_in_tx
            .swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether this thread holds the writer now (an open call scope has begun writing, or a
    /// transaction runs here): other writers wait until it ends, so nothing slow — a network
    /// request — should happen meanwhile.
    pub fn holds_writer(&self) -> bool {
        self.in_batch_here()
    }

    /// Whether writes on this thread now would be part of an open call scope (so that work
    /// which must outlive a rollback — recording a plugin as faulted — is done elsewhere).
    pub fn in_call_scope(&self) -> bool {
        let key = self.key();
        self.in_batch_here() || FRAMES.with(|f| f.borrow().iter().any(|fr| fr.store == key))
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
        let guard = self.writer_for_call();
        let alone = FRAMES.with(|f| {
            f.borrow()
                .iter()
                .find(|fr| fr.store == key)
                .is_some_and(|fr| fr.alone)
        });
        let mut joined = if alone {
            self.commit_open_group(&guard.borrow());
            None
        } else {
            self.take_open_group()
        };
        if let Some(group) = joined.take_if(|_| {
            let conn = guard.borrow();
            conn.is_autocommit() || conn.is_broken()
        }) {
            // The transaction left open has ended (the database rolled it back, or the
            // connection was lost): its group failed, and this call begins its own.
            group.settle(Err("the transaction was rolled back by the database".into()));
        }
        if let Some(group) = &joined {
            // Another call's transaction, left open for this one: this call's part is a
            // savepoint of it.
            let conn = guard.borrow();
            if let Err(e) = conn.execute_kept(&format!("SAVEPOINT {JOINED}")) {
                let _ = conn.execute_batch("ROLLBACK");
                group.settle(Err(e.to_string()));
                return Err(e.into());
            }
        } else {
            self.revive_writer(&guard)?;
            guard.borrow().execute_kept("BEGIN IMMEDIATE")?;
        }
        self.set_batch(true);
        FRAMES.with(|f| -> Result<()> {
            let mut frames = f.borrow_mut();
            let mut guard = Some(guard);
            for (i, fr) in frames.iter_mut().enumerate() {
                if fr.store != key {
                    continue;
                }
                match guard.take() {
                    Some(g) => {
                        fr.owner = Some(g);
                        fr.group = joined.take();
                    }
                    None => {
                        let name = format!("qg_call_{i}");
                        self.writer
                            .lock()
                            .borrow()
                            .execute_kept(&format!("SAVEPOINT {name}"))?;
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
        let key = self.store.key();
        let frame = FRAMES.with(|f| {
            let mut f = f.borrow_mut();
            // Scopes end in the order they began (they are stack values of one thread); a
            // frame that is not this scope's is left alone rather than ending someone else's.
            if f.len() == self.depth && f.last().is_some_and(|fr| fr.store == key) {
                f.pop()
            } else {
                tracing::error!(
                    depth = self.depth,
                    open = f.len(),
                    "call scope ended out of order"
                );
                None
            }
        });
        let Some(mut frame) = frame else {
            return Err(Error::Database("call scope ended out of order".into()));
        };
        let store = self.store;
        let mut on_commit = std::mem::take(&mut frame.on_commit);
        if !commit {
            on_commit.clear();
        }
        // Nested in another scope of this store: its after-commit work waits for that one.
        if !on_commit.is_empty() {
            on_commit =
                FRAMES.with(
                    |f| match f.borrow_mut().iter_mut().rev().find(|fr| fr.store == key) {
                        Some(parent) => {
                            parent.on_commit.append(&mut on_commit);
                            Vec::new()
                        }
                        None => on_commit,
                    },
                );
        }
        let ended = if let Some(name) = frame.savepoint {
            let writer = store.writer.lock();
            let conn = writer.borrow();
            let ended = if commit {
                conn.execute_kept(&format!("RELEASE {name}"))
            } else {
                conn.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))
            };
            ended.map_err(Error::from)
        } else if let Some(guard) = frame.owner {
            store.set_batch(false);
            let ending = if commit {
                Ending::Commit
            } else {
                Ending::RollBack
            };
            // Taken while the writer is held: once it is let go of, the flag is the next
            // call's.
            let refreshed = store.take_cache_refresh();
            let may_pass = !refreshed && !store.settings_changed_here() && !frame.alone;
            let end = store.end_call(guard, frame.group, ending, may_pass);
            if (!commit || end.is_err()) && refreshed {
                // Schema and role changes refresh the caches as they are made (reading their
                // own uncommitted state); undone, the caches must be read again (from what is
                // committed: outside the transaction, nothing notes a refresh).
                store.refresh_schema()?;
                store.read(|c| store.reload_roles(c))?;
            }
            end
        } else {
            // The transaction never began in this scope: nothing to end.
            Ok(())
        };
        if ended.is_ok() {
            for f in on_commit {
                f();
            }
        }
        ended
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

    #[test]
    fn after_commit_work_waits_for_the_outermost_commit_and_is_dropped_on_rollback() {
        use std::cell::RefCell;
        use std::rc::Rc;
        let (_d, s) = store();
        let log = Rc::new(RefCell::new(Vec::new()));
        let note = |what: &'static str| {
            let log = log.clone();
            move || log.borrow_mut().push(what)
        };
        s.after_commit(note("no scope: now"));
        assert_eq!(*log.borrow(), ["no scope: now"]);

        let outer = s.begin_call().unwrap();
        s.kv_set("p", "a", b"1", Q).unwrap();
        let inner = s.begin_call().unwrap();
        s.after_commit(note("inner, kept"));
        inner.finish(true).unwrap();
        let dropped = s.begin_call().unwrap();
        s.after_commit(note("inner, rolled back"));
        dropped.finish(false).unwrap();
        assert_eq!(
            log.borrow().len(),
            1,
            "nothing runs before the outer commit"
        );
        outer.finish(true).unwrap();
        assert_eq!(*log.borrow(), ["no scope: now", "inner, kept"]);

        let outer = s.begin_call().unwrap();
        let inner = s.begin_call().unwrap();
        s.after_commit(note("outer rolls back"));
        inner.finish(true).unwrap();
        outer.finish(false).unwrap();
        assert_eq!(log.borrow().len(), 2);
    }

    #[test]
    fn hook_writes_and_the_record_write_are_one() {
        use crate::hooks::{HookError, Hooks, WriteEvent};
        use std::sync::Arc;
        // A before-write hook that writes to kv; the record write then fails (a required
        // field is missing), so the hook's write must not survive.
        struct Scribbler(Arc<Store>);
        impl Hooks for Scribbler {
            fn before_write(
                &self,
                _: &WriteEvent<'_>,
                _: &mut serde_json::Map<String, serde_json::Value>,
            ) -> Result<(), HookError> {
                self.0.kv_set("hook", "wrote", b"1", Q).unwrap();
                Ok(())
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap());
        s.set_hooks(Arc::new(Scribbler(s.clone())));
        let admin = crate::Access::system();
        let refused = s.create(&admin, "customer", &serde_json::Map::new());
        assert!(refused.is_err());
        assert_eq!(
            s.kv_get("hook", "wrote").unwrap(),
            None,
            "undone with the record"
        );
        let input = serde_json::json!({"name": "Acme", "kind": "company", "status": "lead"});
        s.create(&admin, "customer", input.as_object().unwrap())
            .unwrap();
        assert!(s.kv_get("hook", "wrote").unwrap().is_some());
        s.set_hooks(Arc::new(crate::hooks::NoHooks));
    }
}
