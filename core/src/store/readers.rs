//! The store's reader connections: kept idle for reuse, and — on PostgreSQL, where each one is
//! a server process — no more open at once than the cap: a reader waits for one to come back
//! rather than opening another past it. A read made inside another read on the same thread
//! (which holds its connection) opens one past the cap instead of waiting for itself. A
//! connection is leased: it goes back when the lease ends, however the read ends (a panic
//! included), so the count of open connections never leaks. Renewing the pool (after the
//! planner's statistics were refreshed) closes the connections opened before.

use crate::db::Conn;
use crate::Result;
use std::cell::Cell;
use std::sync::{Condvar, Mutex};

/// Most reader connections open at once on PostgreSQL (its default `max_connections` is 100;
/// each host also holds a writer, and CLI commands connect too).
pub(super) const POSTGRES_READERS: usize = 32;

thread_local! {
    /// Reader connections this thread holds now (of any store).
    static HELD: Cell<usize> = const { Cell::new(0) };
}

#[derive(Default)]
struct Pool {
    /// Idle connections and the generation each was opened in.
    idle: Vec<(u64, Conn)>,
    /// Connections open, idle or leased.
    open: usize,
    /// Bumped by [`Readers::renew`]: a connection of an older one is closed when it is back.
    generation: u64,
}

/// Reader connections.
#[derive(Default)]
pub(super) struct Readers {
    pool: Mutex<Pool>,
    returned: Condvar,
}

/// A reader connection, given back when dropped.
pub(super) struct Lease<'r> {
    readers: &'r Readers,
    conn: Option<Conn>,
    /// The pool's generation when the connection was opened.
    generation: u64,
    max_idle: usize,
    /// Closed when given back rather than kept idle.
    discard: bool,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl Lease<'_> {
    /// Closes the connection when the lease ends (it is broken).
    pub(super) fn discard(&mut self) {
        self.discard = true;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        HELD.with(|h| h.set(h.get().saturating_sub(1)));
        let mut pool = self.readers.pool.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.generation == pool.generation;
        match self.conn.take() {
            Some(conn) if current && !self.discard && pool.idle.len() < self.max_idle => {
                pool.idle.push((self.generation, conn))
            }
            _ => pool.open = pool.open.saturating_sub(1),
        }
        drop(pool);
        self.readers.returned.notify_one();
    }
}

impl Readers {
    /// An idle connection, a new one (`connect`) if fewer than `cap` are open (or this thread
    /// already holds one), or else the next one given back. Kept idle afterwards if fewer
    /// than `max_idle` are.
    pub(super) fn take(
        &self,
        cap: usize,
        max_idle: usize,
        connect: impl Fn() -> Result<Conn>,
    ) -> Result<Lease<'_>> {
        let nested = HELD.with(Cell::get) > 0;
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let (generation, conn) = loop {
            if let Some(idle) = pool.idle.pop() {
                break idle;
            }
            if pool.open < cap || nested {
                pool.open += 1;
                let generation = pool.generation;
                drop(pool);
                match connect() {
                    Ok(conn) => break (generation, conn),
                    Err(e) => {
                        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
                        pool.open = pool.open.saturating_sub(1);
                        drop(pool);
                        self.returned.notify_one();
                        return Err(e);
                    }
                }
            }
            pool = self.returned.wait(pool).unwrap_or_else(|e| e.into_inner());
        };
        HELD.with(|h| h.set(h.get() + 1));
        Ok(Lease {
            readers: self,
            conn: Some(conn),
            generation,
            max_idle,
            discard: false,
        })
    }

    /// Closes every idle connection, and each leased one when it comes back: the next reads
    /// open new ones. SQLite reads the planner's statistics when a connection loads the schema,
    /// and keeps each cached statement's plan, so connections opened before the statistics
    /// were refreshed would go on planning for the table as it was (a count planned at 10,000
    /// rows walking a million).
    pub(super) fn renew(&self) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        pool.generation += 1;
        let closed = std::mem::take(&mut pool.idle);
        pool.open = pool.open.saturating_sub(closed.len());
        drop(pool);
        drop(closed);
        self.returned.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn conn() -> Result<Conn> {
        let dir = tempfile::tempdir().unwrap();
        crate::db::open(&dir.path().join("r.db"), 1000)
    }

    fn open(readers: &Readers) -> usize {
        readers.pool.lock().unwrap().open
    }

    #[test]
    fn no_more_than_the_cap_are_open_and_a_reader_waits_for_one_back() {
        let readers = Arc::new(Readers::default());
        let a = readers.take(2, 8, conn).unwrap();
        let held = {
            let readers = readers.clone();
            // Another thread holds the second one.
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let (took, taken) = std::sync::mpsc::channel();
            let t = std::thread::spawn(move || {
                let mut b = readers.take(2, 8, conn).unwrap();
                took.send(()).unwrap();
                rx.recv().unwrap();
                b.discard(); // broken: closed, which frees its place
            });
            taken.recv().unwrap();
            (t, tx)
        };
        let waiting = {
            let readers = readers.clone();
            std::thread::spawn(move || readers.take(2, 8, conn).map(|_| ()))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(
            !waiting.is_finished(),
            "a third reader waits at a cap of two"
        );
        assert_eq!(open(&readers), 2);
        drop(a);
        waiting.join().unwrap().unwrap();
        held.1.send(()).unwrap();
        held.0.join().unwrap();
        assert_eq!(
            open(&readers),
            1,
            "the discarded one was closed; one stays idle"
        );
    }

    #[test]
    fn a_read_inside_a_read_opens_one_past_the_cap_at_once() {
        let readers = Readers::default();
        let outer = readers.take(1, 8, conn).unwrap();
        let inner = readers.take(1, 8, conn).unwrap();
        assert_eq!(open(&readers), 2);
        drop(inner);
        drop(outer);
        assert_eq!(open(&readers), 2, "both kept idle");
    }

    #[test]
    fn a_read_that_panics_gives_its_connection_back() {
        let readers = Readers::default();
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _lease = readers.take(1, 0, conn).unwrap();
            panic!("a read that panics");
        }));
        assert!(failed.is_err());
        assert_eq!(open(&readers), 0, "closed (no idle room), not leaked");
        HELD.with(|h| assert_eq!(h.get(), 0));
        // The cap of one is free again: this does not wait.
        drop(readers.take(1, 0, conn).unwrap());
    }

    #[test]
    fn renewing_closes_the_idle_connections_and_each_leased_one_when_it_is_back() {
        let readers = Readers::default();
        let marked = |lease: &Lease| {
            lease
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_temp_master WHERE name = 'marker'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap()
                == 1
        };
        // Two connections, each marked with a table of its own (temporary tables belong to
        // their connection); one goes back idle, the other stays leased.
        let idle = readers.take(4, 4, conn).unwrap();
        let leased = readers.take(4, 4, conn).unwrap();
        for lease in [&idle, &leased] {
            lease.execute_batch("CREATE TEMP TABLE marker (x)").unwrap();
        }
        drop(idle);
        assert_eq!(open(&readers), 2);
        readers.renew();
        assert_eq!(open(&readers), 1, "the idle one is closed");
        assert!(marked(&leased), "the leased one reads on");
        drop(leased);
        assert_eq!(open(&readers), 0, "closed when back, not kept idle");
        let fresh = readers.take(4, 4, conn).unwrap();
        assert!(!marked(&fresh), "a new connection");
        drop(fresh);
        assert_eq!(open(&readers), 1, "one of the new generation is kept idle");
    }
}
