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

/// The writer connection, held by a call scope, and since when; and the call's turn in the
/// line, if it waited in it (given back after the writer: fields drop in this order).
pub(super) struct WriterGuard {
    conn: ArcReentrantMutexGuard<RawMutex, RawThreadId, RefCell<Conn>>,
    since: Instant,
    _turn: Option<Turn>,
}

impl WriterGuard {
    fn new(
        conn: ArcReentrantMutexGuard<RawMutex, RawThreadId, RefCell<Conn>>,
        turn: Option<Turn>,
    ) -> WriterGuard {
        WriterGuard {
            conn,
            since: Instant::now(),
            _turn: turn,
        }
    }
}

impl std::ops::Deref for WriterGuard {
    type Target = RefCell<Conn>;
    fn deref(&self) -> &RefCell<Conn> {
        &self.conn
    }
}

/// The line of calls waiting for the writer. The call whose turn it is waits for the writer
/// itself and keeps its turn until it lets the writer go; the others sleep until then. A
/// hand-over normally wakes one thread, once the writer is free (a call arriving just then
/// may take the writer or the turn first; the woken one sleeps again).
#[derive(Debug, Default)]
pub(crate) struct Line {
    /// Whether a call has its turn, and how many calls sleep waiting for theirs.
    state: Mutex<(bool, usize)>,
    free: Condvar,
}

impl Line {
    /// Waits for this call's turn.
    fn take(self: &Arc<Line>) -> Turn {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.0 {
            state.1 += 1;
            state = self.free.wait(state).unwrap_or_else(|e| e.into_inner());
            state.1 -= 1;
        }
        state.0 = true;
        Turn(self.clone())
    }
}

/// A call's turn in the line, given back (waking the next call) when dropped.
pub(super) struct Turn(Arc<Line>);

impl Drop for Turn {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 = false;
        let sleeping = state.1 > 0;
        drop(state);
        if sleeping {
            self.0.free.notify_one();
        }
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
    line: Arc<Line>,
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
    /// taking it to letting it go (writes outside call scopes, and a call whose transaction
    /// failed to begin, are not counted): beside [`Store::commit_groups`], how much of the
    /// time the one writer was busy, and how long each call held it.
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
    /// line: one waiting call at a time waits for the writer itself, the others sleep —
    /// sixteen calls spinning for one connection spent a tenth of the machine yielding to each
    /// other. The call keeps its turn while it holds the writer, so the next in line is woken
    /// once, when the writer is free, not twice (once as this call takes it, to spin and sleep
    /// again on the writer, and once as it lets it go).
    pub(super) fn writer_for_call(&self) -> WriterGuard {
        if let Some(guard) = self.writer.try_lock_arc() {
            return WriterGuard::new(guard, None);
        }
        self.group.waiting.fetch_add(1, SeqCst);
        let turn = self.group.line.take();
        let guard = self.writer.lock_arc();
        self.group.waiting.fetch_sub(1, SeqCst);
        WriterGuard::new(guard, Some(turn))
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
        // Read before the writer is let go of: the waiting call it wakes may take this
        // thread's core before it reads the clock again.
        let held = u64::try_from(guard.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        drop(guard);
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
#[path = "group_commit_tests.rs"]
mod tests;
