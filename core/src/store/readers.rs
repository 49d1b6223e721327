//! The store's reader connections: kept idle for reuse, and — on PostgreSQL, where each one is
//! a server process — no more open at once than the cap: a reader waits for one to come back
//! rather than opening another past it. The cap is soft: a reader that has waited
//! [`PATIENCE`] opens one anyway, so that a read made inside another read (holding its
//! connection) can never wait for itself.

use crate::db::Conn;
use crate::Result;
use std::sync::{Condvar, Mutex};

/// Most reader connections open at once on PostgreSQL (its default `max_connections` is 100;
/// each host also holds a writer, and CLI commands connect too).
pub(super) const POSTGRES_READERS: usize = 32;

/// How long a reader waits at the cap before opening a connection past it.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Default)]
struct Pool {
    idle: Vec<Conn>,
    /// Connections open, idle or in use.
    open: usize,
}

/// Reader connections.
#[derive(Default)]
pub(super) struct Readers {
    pool: Mutex<Pool>,
    returned: Condvar,
}

impl Readers {
    /// An idle connection, a new one (`connect`) if fewer than `cap` are open, or else the
    /// next one given back (a new one past the cap after [`PATIENCE`]).
    pub(super) fn take(&self, cap: usize, connect: impl Fn() -> Result<Conn>) -> Result<Conn> {
        let started = std::time::Instant::now();
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(conn);
            }
            let waited = started.elapsed();
            if pool.open < cap || waited >= PATIENCE {
                pool.open += 1;
                drop(pool);
                return connect().inspect_err(|_| self.closed());
            }
            pool = self
                .returned
                .wait_timeout(pool, PATIENCE - waited)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Gives a connection back: kept idle if fewer than `max_idle` are, closed otherwise — or
    /// if it is broken.
    pub(super) fn give_back(&self, conn: Conn, broken: bool, max_idle: usize) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if !broken && pool.idle.len() < max_idle {
            pool.idle.push(conn);
        } else {
            pool.open = pool.open.saturating_sub(1);
        }
        drop(pool);
        self.returned.notify_one();
    }

    fn closed(&self) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        pool.open = pool.open.saturating_sub(1);
        drop(pool);
        self.returned.notify_one();
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

    #[test]
    fn no_more_than_the_cap_are_open_and_a_reader_waits_for_one_back() {
        let readers = Arc::new(Readers::default());
        let a = readers.take(2, conn).unwrap();
        let b = readers.take(2, conn).unwrap();
        let waiting = {
            let readers = readers.clone();
            std::thread::spawn(move || readers.take(2, conn).map(|_| ()))
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !waiting.is_finished(),
            "a third reader waits at a cap of two"
        );
        assert_eq!(readers.pool.lock().unwrap().open, 2);
        readers.give_back(a, false, 8);
        waiting.join().unwrap().unwrap();
        // A broken connection is closed, which frees its place.
        readers.give_back(b, true, 8);
        assert_eq!(readers.pool.lock().unwrap().open, 1);
    }

    #[test]
    fn a_reader_that_has_waited_long_enough_opens_one_past_the_cap() {
        let readers = Readers::default();
        let _held = readers.take(1, conn).unwrap();
        let started = std::time::Instant::now();
        let _inner = readers.take(1, conn).unwrap(); // as a read inside a read would
        assert!(started.elapsed() >= PATIENCE);
        assert_eq!(readers.pool.lock().unwrap().open, 2);
    }
}
