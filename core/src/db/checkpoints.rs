//! Checkpoints of SQLite's write-ahead log on a thread of their own. By SQLite's default, the
//! connection whose commit brings the log past 1,000 pages copies the log back into the
//! database file then and there — megabytes written and two `fsync`s inside that commit,
//! while every call waiting for the writer waits with it. The store's writer instead asks this
//! thread to: each commit reports the log's size, and once the log holds 1,000 frames more than
//! were last copied or asked for, the thread is asked (so each checkpoint copies a page written
//! many times once). While commits go on, a checkpoint never catches up with the log's end,
//! and the log starts over only after a checkpoint that did, at the writer's next transaction:
//! so from 10,000 pages the writer's commits checkpoint inside themselves (what remains to copy
//! then is the last thousand frames or so) until the log starts over. The log file keeps the
//! size it grew to (about 40 MB at 4 KiB pages) — as with SQLite's default, where it stays at
//! the size of its largest burst. A reader that holds a snapshot keeps any checkpoint from
//! copying what it may still read, as before. A checkpoint changes nothing a commit promised:
//! a committed transaction is in the log whether or not it has been copied yet.

use super::conn::Conn;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// The log's size in pages from which a commit asks for a checkpoint (SQLite's default
/// `wal_autocheckpoint`).
pub(crate) const ASK_FROM: i32 = 1000;

/// The log's size in pages from which the writer's commit checkpoints itself.
pub(crate) const ITSELF_FROM: i32 = 10 * ASK_FROM;

/// What the writer's commits and the thread share.
#[derive(Debug, Default)]
struct Shared {
    /// A checkpoint was asked for and not yet begun; or the thread is to stop.
    asks: Mutex<Asks>,
    woken: Condvar,
    /// Checkpoints run aside (off: the writer's commits checkpoint at [`ASK_FROM`], as by
    /// SQLite's default — for measuring against).
    aside: AtomicBool,
    /// Times a commit asked, and checkpoints the thread ran.
    asked: AtomicU64,
    done: AtomicU64,
    /// The log's frames as the last commit reported them (fewer: the log started over).
    log: AtomicI32,
    /// The log's frames at the last ask, and those the last checkpoint left copied: a commit
    /// asks again once the log holds [`ASK_FROM`] frames more than the larger. (Counting from
    /// the ask too keeps a reader's snapshot, which stops checkpoints short, from having
    /// every commit ask.)
    asked_at: AtomicI32,
    copied: AtomicI32,
}

impl Shared {
    /// What a commit that left the log `pages` frames long does: asks the thread, or not;
    /// answers whether the commit is to checkpoint itself.
    fn after_commit(&self, pages: i32) -> bool {
        if pages < self.log.swap(pages, Relaxed) {
            // The log started over: what was counted in the one before counts no more.
            self.asked_at.store(0, Relaxed);
            self.copied.store(0, Relaxed);
        }
        if !self.aside.load(Relaxed) {
            return pages >= ASK_FROM;
        }
        if pages >= ITSELF_FROM {
            return true; // not the thread's: two checkpoints at once, one would fail busy
        }
        let since = self.asked_at.load(Relaxed).max(self.copied.load(Relaxed));
        if pages - since.min(pages) >= ASK_FROM {
            self.asked_at.store(pages, Relaxed);
            self.ask();
        }
        false
    }
}

#[derive(Debug, Default)]
struct Asks {
    asked: bool,
    stop: bool,
}

/// The thread that checkpoints a database's log, and the writer's hook that asks it to.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, with a connection of its own to the database at `path`, and has
    /// every commit of `writer` report the log's size to it. Where the thread can't be had
    /// (no connection, no thread), the writer's commits checkpoint as by SQLite's default.
    pub(crate) fn start(path: &Path, writer: &mut Conn) -> Checkpointer {
        let shared = Arc::new(Shared::default());
        let runner = shared.clone();
        let thread = super::open(path, 1000)
            .map_err(|e| e.to_string())
            .and_then(|conn| {
                std::thread::Builder::new()
                    .name("qg-checkpoints".into())
                    .spawn(move || runner.run(conn))
                    .map_err(|e| e.to_string())
            });
        let thread = match thread {
            Ok(thread) => {
                shared.aside.store(true, Relaxed);
                Some(thread)
            }
            Err(e) => {
                tracing::warn!(error = %e, "no checkpoint thread: commits checkpoint the log");
                None
            }
        };
        let asker = shared.clone();
        writer.on_commit_log(move |pages| asker.after_commit(pages));
        Checkpointer { shared, thread }
    }

    /// Checkpoints run aside (the default), or inside the writer's commits (for measuring).
    pub(crate) fn set_aside(&self, on: bool) {
        self.shared
            .aside
            .store(on && self.thread.is_some(), Relaxed);
    }

    /// Checkpoints the thread has run.
    pub(crate) fn done(&self) -> u64 {
        self.shared.done.load(Relaxed)
    }

    /// Times a commit asked the thread for a checkpoint.
    #[cfg(test)]
    fn asked(&self) -> u64 {
        self.shared.asked.load(Relaxed)
    }

    /// The log's frames as the last commit reported them.
    #[cfg(test)]
    fn log(&self) -> i32 {
        self.shared.log.load(Relaxed)
    }
}

impl Shared {
    fn ask(&self) {
        self.asked.fetch_add(1, Relaxed);
        let mut asks = self.asks.lock().unwrap_or_else(|e| e.into_inner());
        if !asks.asked {
            asks.asked = true;
            self.woken.notify_one();
        }
    }

    fn run(&self, conn: Conn) {
        loop {
            {
                let mut asks = self.asks.lock().unwrap_or_else(|e| e.into_inner());
                while !asks.asked && !asks.stop {
                    asks = self.woken.wait(asks).unwrap_or_else(|e| e.into_inner());
                }
                if asks.stop {
                    return;
                }
                asks.asked = false;
            }
            // Passive: copies what no reader still needs, waits for no one. A checkpoint that
            // could not finish is asked for again by a later commit.
            match conn.checkpoint_passive() {
                Ok((_, copied)) => self.copied.store(copied.max(0), Relaxed),
                // Another connection checkpoints (the writer's commit, a CLI's store): its
                // copy counts as well.
                Err(e) if e.is_busy() => tracing::debug!("checkpoint: another one runs"),
                Err(e) => tracing::warn!(error = %e, "checkpoint of the write-ahead log failed"),
            }
            self.done.fetch_add(1, Relaxed);
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        {
            let mut asks = self.shared.asks.lock().unwrap_or_else(|e| e.into_inner());
            asks.stop = true;
            self.shared.woken.notify_one();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Writes about `pages` pages in one commit.
    fn write_pages(writer: &Conn, pages: u32) {
        writer
            .execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS filler(b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {pages})
                 INSERT INTO filler SELECT randomblob(4000) FROM n;"
            ))
            .unwrap();
    }

    fn file_pages(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len() / 4096
    }

    fn opened(dir: &tempfile::TempDir) -> (std::path::PathBuf, Conn, Checkpointer) {
        let path = dir.path().join("c.db");
        let mut writer = super::super::open(&path, 1000).unwrap();
        let checkpoints = Checkpointer::start(&path, &mut writer);
        (path, writer, checkpoints)
    }

    fn until(what: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !what() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        what()
    }

    #[test]
    fn the_thread_copies_the_log_into_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer, checkpoints) = opened(&dir);
        let before = file_pages(&path);
        write_pages(&writer, 1200); // past ASK_FROM, short of ITSELF_FROM
        assert_eq!(checkpoints.asked(), 1);
        assert!(until(|| checkpoints.done() == 1), "the thread ran");
        // Nothing but the thread copies pages into the file: the writer's commit was below
        // the size at which it checkpoints itself, and SQLite's own checkpoints are replaced.
        assert!(
            file_pages(&path) >= before + 1000,
            "{before} → {}",
            file_pages(&path)
        );
        drop(checkpoints); // the thread stops: the drop returns
    }

    #[test]
    fn without_the_thread_the_commit_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer, checkpoints) = opened(&dir);
        checkpoints.set_aside(false);
        let before = file_pages(&path);
        write_pages(&writer, 1200);
        // Copied by the commit itself, before it returned.
        assert!(file_pages(&path) >= before + 1000);
        assert_eq!((checkpoints.asked(), checkpoints.done()), (0, 0));
    }

    #[test]
    fn commits_ask_once_a_thousand_frames_more() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer, checkpoints) = opened(&dir);
        // A reader's snapshot from before the writes: no checkpoint can copy what follows it,
        // so only the count from the last ask keeps every commit from asking.
        let reader = super::super::open(&path, 1000).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        for _ in 0..20 {
            write_pages(&writer, 20);
        }
        assert_eq!(checkpoints.asked(), 0, "{} frames", checkpoints.log());
        write_pages(&writer, 700);
        assert_eq!(checkpoints.asked(), 1, "{} frames", checkpoints.log());
        write_pages(&writer, 500);
        assert_eq!(checkpoints.asked(), 1, "{} frames", checkpoints.log());
        write_pages(&writer, 600);
        assert_eq!(checkpoints.asked(), 2, "{} frames", checkpoints.log());
        reader.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn the_log_starts_over_past_ten_thousand_pages() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer, checkpoints) = opened(&dir);
        let mut longest = 0;
        for _ in 0..11 {
            write_pages(&writer, 1000);
            longest = longest.max(checkpoints.log());
        }
        assert!(longest >= ITSELF_FROM, "{longest}");
        // Small commits go on until one finds the log copied whole and starts it over (the
        // writer's own checkpoints, from ITSELF_FROM, copy what the thread has not).
        let started_over = until(|| {
            write_pages(&writer, 1);
            checkpoints.log() < ASK_FROM
        });
        assert!(started_over, "the log has {} frames", checkpoints.log());
        // The log's file stays at the size it grew to, which is bounded: ITSELF_FROM frames and
        // the commits that passed it (4 KiB pages, 24 bytes of frame header each, 32 of file
        // header) — about 40 MB.
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        let wal_bytes = std::fs::metadata(&wal).unwrap().len();
        let bound = (ITSELF_FROM as u64 + 2_000) * (4096 + 24) + 32;
        assert!(wal_bytes <= bound, "{wal_bytes} bytes > {bound}");
    }
}
