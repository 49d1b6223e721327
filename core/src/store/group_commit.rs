//! Group commit: a call that has written while other calls wait for the writer leaves its
//! transaction open for the next one instead of committing it, and returns once a later call
//! commits the whole group. Each call's part is its own savepoint, so a failing call undoes only
//! its part; a commit that fails fails every call of the group, and no call returns before the
//! commit that holds its writes (an acknowledged write survives a crash as before). Many
//! concurrent writes then share one commit: one write of the changed pages, one flush of the
//! search index, one fsync on PostgreSQL.

use super::Store;
use crate::db::Conn;
use crate::{Error, Result};
use parking_lot::{ArcReentrantMutexGuard, RawMutex, RawThreadId};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The writer connection, held by a call scope, and since when.
pub(super) struct WriterGuard {
    conn: ArcReentrantMutexGuard<RawMutex, RawThreadId, RefCell<Conn>>,
    since: Instant,
}

impl WriterGuard {
    fn new(conn: ArcReentrantMutexGuard<RawMutex, RawThreadId, RefCell<Conn>>) -> WriterGuard {
        WriterGuard {
            conn,
            since: Instant::now(),
        }
    }
}

impl std::ops::Deref for WriterGuard {
    type Target = RefCell<Conn>;
    fn deref(&self) -> &RefCell<Conn> {
        &self.conn
    }
}

/// The most calls one commit holds: the first call of a group waits for every later one.
const MOST_CALLS: usize = 32;

/// How long after its first call ended a group takes more: the first call's wait is about this
/// plus the last call's own time.
const MOST_WAIT: Duration = Duration::from_millis(20);

/// The savepoint that keeps a joining call's part of a group its own.
pub(super) const JOINED: &str = "qg_group";

/// The calls whose writes one transaction holds, and how it ended.
#[derive(Debug, Default)]
pub(crate) struct Group {
    /// Calls that finished their part and wait for the commit.
    waiting: AtomicUsize,
    /// When the first of them finished.
    since: OnceLock<Instant>,
    outcome: Mutex<Option<std::result::Result<(), String>>>,
    ended: Condvar,
}

impl Group {
    /// Waits until the transaction holding this call's writes ends.
    fn wait(&self) -> Result<()> {
        let mut outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(end) = outcome.as_ref() {
                return end.clone().map_err(Error::Database);
            }
            outcome = self.ended.wait(outcome).unwrap_or_else(|e| e.into_inner());
        }
    }

    pub(super) fn settle(&self, end: std::result::Result<(), String>) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(end);
        self.ended.notify_all();
    }
}

/// The store's side of group commit.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    /// Calls waiting for the writer to begin their transaction (`join_call_scope`).
    waiting: AtomicUsize,
    /// The line of calls waiting for the writer (`writer_for_call`).
    line: Mutex<()>,
    /// The transaction left open for the next call, with its group.
    open: Mutex<Option<Arc<Group>>>,
    /// Transactions committed, and calls whose writes they held (for measuring).
    commits: AtomicU64,
    calls: AtomicU64,
    /// Nanoseconds call scopes held the writer, from taking it to letting it go (for
    /// measuring).
    held_nanos: AtomicU64,
    /// Every call commits alone (for measuring against).
    alone: AtomicBool,
}

/// What a call that ends does with the transaction it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Keep this call's writes.
    Commit,
    /// Undo this call's writes (and keep the group's earlier ones).
    RollBack,
}

impl Store {
    /// Call scopes' transactions committed and the calls they held, since the store opened:
    /// how many calls shared a commit (writes outside call scopes and `Store::transaction`
    /// are not counted).
    pub fn commit_groups(&self) -> (u64, u64) {
        (
            self.group.commits.load(SeqCst),
            self.group.calls.load(SeqCst),
        )
    }

    /// How long call scopes have held the writer in all since the store opened, each from
    /// taking it to letting it go (writes outside call scopes are not counted): beside
    /// [`Store::commit_groups`], how much of the time the one writer was busy, and how long
    /// each call kept the others waiting.
    pub fn writer_held(&self) -> Duration {
        Duration::from_nanos(self.group.held_nanos.load(SeqCst))
    }

    /// Turns group commit off (`false`: every call commits alone, as a baseline to measure
    /// against) or back on.
    pub fn set_group_commit(&self, on: bool) {
        self.group.alone.store(!on, SeqCst);
    }

    /// Takes the writer to begin a call's transaction. While others hold it, this call counts
    /// as waiting (a call ending meanwhile leaves its transaction open for it) and waits in
    /// line: one waiting call at a time spins for the writer, the others sleep — sixteen
    /// calls spinning for one connection spent a tenth of the machine yielding to each other.
    pub(super) fn writer_for_call(&self) -> WriterGuard {
        if let Some(guard) = self.writer.try_lock_arc() {
            return WriterGuard::new(guard);
        }
        self.group.waiting.fetch_add(1, SeqCst);
        let guard = {
            let _turn = self.group.line.lock().unwrap_or_else(|e| e.into_inner());
            self.writer.lock_arc()
        };
        self.group.waiting.fetch_sub(1, SeqCst);
        WriterGuard::new(guard)
    }

    /// The group whose transaction is open on the writer for this call to join (the writer
    /// is held), if a call left one.
    pub(super) fn take_open_group(&self) -> Option<Arc<Group>> {
        self.group
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Commits the transaction a call left open, if any (the writer is held): before work that
    /// does not join a group begins its own.
    pub(super) fn commit_open_group(&self, conn: &Conn) {
        if let Some(group) = self.take_open_group() {
            let end = commit(conn);
            if end.is_ok() {
                self.counted(group.waiting.load(SeqCst));
            }
            group.settle(end.map_err(|e| e.to_string()));
        }
    }

    /// Counts a commit holding `calls` calls' writes.
    fn counted(&self, calls: usize) {
        self.group.commits.fetch_add(1, SeqCst);
        self.group.calls.fetch_add(calls as u64, SeqCst);
    }

    /// Ends the transaction of a call scope's outermost frame, whose writer `guard` it lets
    /// go of: this call's part is kept or undone; then the transaction is committed, or left
    /// open for a waiting call while this one waits for its group's commit. `joined`: the
    /// group this call joined (its part is the savepoint [`JOINED`]). `may_pass`: nothing this
    /// call did needs a commit of its own (a changed setting or schema does).
    pub(super) fn end_call(
        &self,
        guard: WriterGuard,
        joined: Option<Arc<Group>>,
        ending: Ending,
        may_pass: bool,
    ) -> Result<()> {
        let conn = guard.borrow();
        let after = self.end_transaction(&conn, joined, ending, may_pass);
        if !matches!(after, After::Wait(_)) {
            self.settings_after_transaction();
        }
        drop(conn);
        let since = guard.since;
        drop(guard);
        let held = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.group.held_nanos.fetch_add(held, SeqCst);
        match after {
            After::Ended(end, tell) => {
                // Told only now that the writer is free: woken while this call held it, the
                // group's calls would take the CPU from it (a dozen threads at once, each
                // ahead of it), and the next writer would wait for them.
                drop(tell);
                end
            }
            After::Wait(group) => group.wait(),
        }
    }

    fn end_transaction(
        &self,
        conn: &Conn,
        joined: Option<Arc<Group>>,
        mut ending: Ending,
        may_pass: bool,
    ) -> After {
        // On PostgreSQL a failed statement that was let pass leaves the transaction aborted
        // (and savepoint statements are only sent with the next one): checked before this
        // call's part stays in a transaction other calls share, so that the failure is this
        // call's alone.
        let mut own_failure = None;
        // Read once: a call that comes to wait after the check is not passed to.
        let others_wait = self.group.waiting.load(SeqCst) > 0;
        let shared = joined.is_some() || others_wait;
        if ending == Ending::Commit && shared && self.is_postgres() {
            if let Err(e) = conn.execute_batch("SELECT 1") {
                own_failure = Some(Error::from(e));
                ending = Ending::RollBack;
            }
        }
        let own = joined.as_ref().map(|_| match ending {
            Ending::Commit => conn.execute_kept(&format!("RELEASE {JOINED}")),
            Ending::RollBack => {
                conn.execute_batch(&format!("ROLLBACK TO {JOINED}; RELEASE {JOINED}"))
            }
        });
        let earlier = joined.as_ref().map_or(0, |g| g.waiting.load(SeqCst));
        if conn.is_autocommit() || matches!(own, Some(Err(_))) {
            // The database ended the transaction itself (an I/O error, a full disk), or this
            // call's part could not be told apart: nothing of the group is kept.
            let _ = conn.execute_batch("ROLLBACK");
            let why = "the transaction was rolled back by the database; the write is lost";
            return After::Ended(
                Err(Error::Database(why.into())),
                Tell(joined.map(|group| (group, Err(why.into())))),
            );
        }
        if ending == Ending::RollBack && earlier == 0 {
            let end = conn.execute_batch("ROLLBACK").map_err(Error::from);
            return After::Ended(own_failure.map_or(end, Err), Tell(None));
        }
        let pass = ending == Ending::Commit
            && may_pass
            && !self.group.alone.load(SeqCst)
            && others_wait
            && earlier + 1 < MOST_CALLS
            && joined
                .as_ref()
                .and_then(|g| g.since.get())
                .is_none_or(|t| t.elapsed() < MOST_WAIT);
        if pass {
            // A group is made only when a call first passes its transaction on.
            let group = joined.unwrap_or_default();
            group.since.get_or_init(Instant::now);
            group.waiting.fetch_add(1, SeqCst);
            *self.group.open.lock().unwrap_or_else(|e| e.into_inner()) = Some(group.clone());
            return After::Wait(group);
        }
        let end = commit(conn);
        if end.is_ok() {
            self.counted(earlier + usize::from(ending == Ending::Commit));
        }
        let tell = Tell(joined.map(|group| {
            let outcome = end.as_ref().map(|_| ()).map_err(|e| e.to_string());
            (group, outcome)
        }));
        let own = match ending {
            Ending::Commit => end,
            // This call's part was undone whatever became of the others'.
            Ending::RollBack => own_failure.map_or(Ok(()), Err),
        };
        After::Ended(own, tell)
    }
}

/// What is left to do once a call has ended its part of a transaction.
enum After {
    /// The transaction ended (committed or rolled back) with this outcome for the call; and
    /// the group whose calls wait for that end, with what to tell them once the writer is let
    /// go of.
    Ended(Result<()>, Tell),
    /// The transaction was left open for the next call: wait for the group's commit.
    Wait(Arc<Group>),
}

/// A group's calls, to be told how their transaction ended when this is dropped: after the
/// writer is let go of, or — should the call unwind before that — as it unwinds, so that no
/// call of the group waits for ever.
struct Tell(Option<(Arc<Group>, std::result::Result<(), String>)>);

impl Drop for Tell {
    fn drop(&mut self) {
        if let Some((group, outcome)) = self.0.take() {
            group.settle(outcome);
        }
    }
}

/// Commits the open transaction (its waiting full-text entries first); rolls back if the
/// commit fails.
fn commit(conn: &Conn) -> Result<()> {
    let end = conn.commit().map_err(Error::from);
    if end.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    end
}

#[cfg(test)]
mod tests {
    use super::SeqCst;
    use crate::plugins::KvQuota;
    use crate::store::tests::store;
    use crate::{CallScope, Store};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    const Q: KvQuota = KvQuota {
        keys: 100,
        bytes: 10_000,
    };

    /// Waits until `n` calls wait for the writer.
    fn until_waiting(s: &Store, n: usize) {
        let start = Instant::now();
        while s.group.waiting.load(SeqCst) != n {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no call came to wait"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn value(s: &Store, key: &str) -> Option<Vec<u8>> {
        s.kv_get("p", key).unwrap()
    }

    /// A call on another thread (a bulk one with `alone`) that writes `key` and then ends as
    /// `end` says; started while this thread holds the writer, it comes to wait for it.
    fn call_on_another_thread(
        s: &Arc<Store>,
        key: &'static str,
        alone: bool,
        end: impl FnOnce(CallScope<'_>) -> crate::Result<()> + Send + 'static,
    ) -> std::thread::JoinHandle<crate::Result<()>> {
        let s = s.clone();
        std::thread::spawn(move || {
            let scope = if alone {
                s.begin_call_alone()
            } else {
                s.begin_call()
            }
            .unwrap();
            s.kv_set("p", key, b"2", Q).unwrap();
            end(scope)
        })
    }

    fn commit_in_order(scope: CallScope<'_>) -> crate::Result<()> {
        scope.finish(true)
    }

    #[test]
    fn every_call_of_a_group_wakes_with_its_outcome_whenever_it_came_to_wait() {
        for end in [Ok(()), Err("disk full".to_string())] {
            let group = Arc::new(super::Group::default());
            let (came, arrived) = std::sync::mpsc::channel();
            let sleepers: Vec<_> = (0..12)
                .map(|_| {
                    let (group, came) = (group.clone(), came.clone());
                    std::thread::spawn(move || {
                        came.send(()).unwrap();
                        group.wait()
                    })
                })
                .collect();
            for _ in 0..12 {
                arrived.recv().unwrap();
            }
            // Most are asleep by now; a late one may not be: either way it sees the end.
            std::thread::sleep(Duration::from_millis(20));
            group.settle(end.clone());
            for sleeper in sleepers {
                let got = sleeper.join().unwrap().map_err(|e| e.to_string());
                assert_eq!(got.is_ok(), end.is_ok(), "{got:?}");
                if let Err(why) = got {
                    assert!(why.contains("disk full"), "{why}");
                }
            }
            let after = group.wait().map_err(|e| e.to_string());
            assert_eq!(
                after.is_ok(),
                end.is_ok(),
                "a call waiting after the end returns at once"
            );
        }
    }

    #[test]
    fn a_group_is_told_when_its_teller_is_dropped_even_in_a_panic() {
        let group = Arc::new(super::Group::default());
        let sleeper = {
            let group = group.clone();
            std::thread::spawn(move || group.wait())
        };
        let tell = super::Tell(Some((group, Err("unwound".into()))));
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _tell = tell;
            panic!("between the writer's release and the telling");
        }));
        assert!(unwound.is_err());
        let got = sleeper.join().unwrap().map_err(|e| e.to_string());
        assert!(got.is_err_and(|e| e.contains("unwound")));
    }

    #[test]
    fn the_writer_is_counted_as_held_from_a_calls_first_write_to_its_end() {
        let (_place, s) = store();
        let before = s.writer_held();
        let reads_only = s.begin_call().unwrap();
        value(&s, "k");
        reads_only.finish(true).unwrap();
        assert_eq!(
            s.writer_held(),
            before,
            "a call that only reads holds nothing"
        );

        let call = s.begin_call().unwrap();
        // Before its first write the call holds nothing: this wait is not counted.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(s.writer_held(), before, "counted before the call ended");
        s.kv_set("p", "k", b"1", Q).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        call.finish(true).unwrap();
        let held = s.writer_held() - before;
        assert!(held >= Duration::from_millis(20), "held {held:?}");
        assert!(
            held < Duration::from_millis(300),
            "the wait before the first write was counted: {held:?}"
        );
    }

    #[test]
    fn a_call_ending_while_another_waits_shares_that_calls_commit() {
        let (_place, s) = store();
        let s = Arc::new(s);
        let alone = s.begin_call().unwrap();
        s.kv_set("p", "alone", b"1", Q).unwrap();
        let before = s.commit_groups();
        alone.finish(true).unwrap();
        let after = s.commit_groups();
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (1, 1),
            "no one waited"
        );

        let first = s.begin_call().unwrap();
        s.kv_set("p", "first", b"1", Q).unwrap();
        let second = call_on_another_thread(&s, "second", false, commit_in_order);
        until_waiting(&s, 1);
        let before = s.commit_groups();
        // The second call waits for the writer: the first leaves the transaction to it and
        // returns once the second has committed both.
        first.finish(true).unwrap();
        // Woken only once the second call had let go of the writer: it is free now.
        assert!(
            s.writer.try_lock().is_some(),
            "woken while the writer was still held"
        );
        assert_eq!(value(&s, "first").unwrap(), b"1");
        assert_eq!(
            value(&s, "second").unwrap(),
            b"2",
            "committed with the first"
        );
        let after = s.commit_groups();
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (1, 2),
            "one commit"
        );
        second.join().unwrap().unwrap();
    }

    #[test]
    fn a_joining_call_that_fails_or_dies_undoes_only_its_own_part() {
        for dies in [false, true] {
            let (_place, s) = store();
            let s = Arc::new(s);
            let first = s.begin_call().unwrap();
            s.kv_set("p", "first", b"1", Q).unwrap();
            let (wrote, seen) = (std::sync::mpsc::channel(), std::sync::mpsc::channel());
            let observer = {
                let s = s.clone();
                std::thread::spawn(move || {
                    wrote.1.recv().unwrap();
                    // The first call has ended but its write waits in the open transaction.
                    let first = value(&s, "first");
                    seen.0.send(()).unwrap();
                    first
                })
            };
            let (wrote, seen) = (wrote.0, seen.1);
            let second = call_on_another_thread(&s, "second", false, move |scope| {
                wrote.send(()).unwrap();
                seen.recv().unwrap();
                if dies {
                    drop(scope); // as a panic would
                    Ok(())
                } else {
                    scope.finish(false)
                }
            });
            until_waiting(&s, 1);
            first.finish(true).unwrap();
            second.join().unwrap().unwrap();
            assert_eq!(
                observer.join().unwrap(),
                None,
                "the first call left its commit to the second"
            );
            assert_eq!(
                value(&s, "first").unwrap(),
                b"1",
                "the first call's part is kept"
            );
            assert_eq!(
                value(&s, "second"),
                None,
                "the failed call's part is undone"
            );
            // The writer is free and the store writes on.
            s.kv_set("p", "later", b"3", Q).unwrap();
            assert_eq!(value(&s, "later").unwrap(), b"3");
        }
    }

    #[test]
    fn a_write_outside_any_call_commits_a_transaction_left_open() {
        for in_transaction in [false, true] {
            left_open_then(in_transaction);
        }
    }

    fn left_open_then(in_transaction: bool) {
        let (_place, s) = store();
        let s = Arc::new(s);
        // A call ends while a caller seems to wait (it never comes): its transaction stays
        // open and it waits for the commit.
        s.group.waiting.fetch_add(1, SeqCst);
        let first = call_on_another_thread(&s, "first", false, commit_in_order);
        let start = Instant::now();
        while s
            .group
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
        {
            assert!(start.elapsed() < Duration::from_secs(20), "never left open");
            std::thread::sleep(Duration::from_millis(2));
        }
        s.group.waiting.fetch_sub(1, SeqCst);
        assert_eq!(value(&s, "first"), None, "not committed yet");
        assert!(!first.is_finished(), "the call waits for its commit");
        // A write of its own (no call scope), or a transaction, commits what was left open
        // first.
        if in_transaction {
            s.transaction(|| s.kv_set("p", "plain", b"2", Q)).unwrap();
        } else {
            s.kv_set("p", "plain", b"2", Q).unwrap();
        }
        first.join().unwrap().unwrap();
        assert_eq!(value(&s, "first").unwrap(), b"2");
        assert_eq!(value(&s, "plain").unwrap(), b"2");
    }

    #[test]
    fn a_call_alone_never_joins_a_group() {
        let (_place, s) = store();
        let s = Arc::new(s);
        let first = s.begin_call().unwrap();
        s.kv_set("p", "first", b"1", Q).unwrap();
        let bulk = call_on_another_thread(&s, "bulk", true, commit_in_order);
        until_waiting(&s, 1);
        let before = s.commit_groups();
        first.finish(true).unwrap();
        bulk.join().unwrap().unwrap();
        let after = s.commit_groups();
        // The first call left its transaction open for the call alone, which committed it before
        // beginning its own: two commits of one call each.
        assert_eq!((after.0 - before.0, after.1 - before.1), (2, 2));
        assert_eq!(value(&s, "bulk").unwrap(), b"2");

        // Nor does a call alone leave its own transaction open for a call that waits.
        let bulk = s.begin_call_alone().unwrap();
        s.kv_set("p", "bulk again", b"3", Q).unwrap();
        let short = call_on_another_thread(&s, "short", false, commit_in_order);
        until_waiting(&s, 1);
        let before = s.commit_groups();
        bulk.finish(true).unwrap();
        let committed_alone = s.commit_groups();
        assert_eq!(
            (committed_alone.0 - before.0, committed_alone.1 - before.1),
            (1, 1)
        );
        assert_eq!(
            value(&s, "bulk again").unwrap(),
            b"3",
            "committed on return"
        );
        short.join().unwrap().unwrap();
    }
}
