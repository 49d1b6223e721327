//! The hosts serving one database. Each joins with an id of its own, says every few seconds
//! that it is still there, and leaves when it stops; work a host runs (a job's run, an
//! import's pass) names it, so that another host takes over the work of a host that is gone.
//! Turns: work that one host does at a time (a scheduled job's run, sending mail).
//! Seen, gone, a turn or a lease due, a login lockout over: these times are read on the
//! database's clock ([`SharedClock`]), so that hosts whose own clocks disagree still agree on
//! them; so are session, token and invitation expiry and webhook retries.

use super::Store;
use crate::db::{self, span, Conn};
use crate::Result;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// A host not seen for this long is gone: its work is taken over by another. Long, since a
/// heartbeat is a write and waits for the one writer of the database (a long plugin upgrade,
/// say); work taken over is fenced anyway (a job's step, an import's chunk of a host taken for
/// gone fails and stops it).
pub const HOST_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a host says it is still there.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// A host serving the database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostRow {
    /// Its id, made when it joined.
    pub id: String,
    /// The qingguan version it runs.
    pub version: String,
    /// When it joined.
    pub started_at: String,
    /// When it last said it is there.
    pub seen_at: String,
}

/// The database's clock as this host reads it: its own clock plus the difference to the
/// database's, measured when it joins and with every heartbeat (one query). On SQLite the
/// database's clock is this machine's.
#[derive(Debug, Default)]
pub(crate) struct SharedClock {
    /// The database's clock minus this host's, in microseconds.
    offset_us: AtomicI64,
    /// Tests set this host's clock wrong by this much.
    #[cfg(test)]
    pub(crate) skew_us: AtomicI64,
}

impl SharedClock {
    /// This host's own clock.
    fn local(&self) -> DateTime<Utc> {
        #[cfg(test)]
        return Utc::now() + chrono::Duration::microseconds(self.skew_us.load(Ordering::Relaxed));
        #[cfg(not(test))]
        Utc::now()
    }
}

/// SQL that is true when the host named in `column` is gone (none named, or not seen since
/// parameter `?{param}`, bound to [`Store::live_since`]).
pub(crate) fn gone(column: &str, param: usize) -> String {
    format!(
        "({column} IS NULL OR NOT EXISTS (SELECT 1 FROM hosts
          WHERE hosts.id = {column} AND hosts.seen_at >= ?{param}))"
    )
}

impl Store {
    /// Now, on the database's clock (as last measured): the time to compare with what other
    /// hosts wrote (a turn's due time, a lease, a host last seen).
    pub fn shared_now(&self) -> DateTime<Utc> {
        self.clock.local()
            + chrono::Duration::microseconds(self.clock.offset_us.load(Ordering::Relaxed))
    }

    /// Measures the database's clock against this host's, on `conn` (the writer, already
    /// held: no wait for a connection is timed): the query's answer against the middle of the
    /// time it took. A failed measurement keeps the last one and leaves the transaction
    /// usable: on PostgreSQL, where a failed statement aborts its transaction, it runs in a
    /// savepoint of its own.
    fn measure_database_clock(&self, conn: &Conn) {
        let sql = if self.is_postgres() {
            "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
        } else {
            "SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"
        };
        self.measure_clock_by(conn, sql);
    }

    /// [`Self::measure_database_clock`] with the query that reads the database's clock in
    /// microseconds.
    fn measure_clock_by(&self, conn: &Conn, sql: &str) {
        let savepoint = self.is_postgres() && conn.execute_batch("SAVEPOINT clock").is_ok();
        let before = self.clock.local();
        let database: std::result::Result<i64, _> = conn.query_row(sql, [], |r| r.get(0));
        let after = self.clock.local();
        if savepoint {
            let end = if database.is_ok() {
                "RELEASE SAVEPOINT clock"
            } else {
                "ROLLBACK TO SAVEPOINT clock; RELEASE SAVEPOINT clock"
            };
            if let Err(e) = conn.execute_batch(end) {
                tracing::warn!(error = %e, "cannot end the clock's savepoint");
            }
        }
        match database {
            Ok(database) => {
                let middle = before + (after - before) / 2;
                let offset = database - middle.timestamp_micros();
                self.clock.offset_us.store(offset, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the database's clock"),
        }
    }

    /// Hosts seen at or after this are there.
    pub(crate) fn live_since(&self) -> String {
        db::time_text(self.shared_now() - span(HOST_TIMEOUT))
    }

    /// Joins the hosts serving this database and returns this host's id (one per store: a
    /// second call returns the first id). On SQLite one process serves a data directory (it
    /// holds its lock), so any other host recorded there is gone and is forgotten.
    pub fn join_hosts(&self, version: &str) -> Result<String> {
        if let Some(id) = self.host.get() {
            return Ok(id.clone());
        }
        let id = crate::users::random_token()[..16].to_string();
        self.write(|tx| {
            self.measure_database_clock(tx);
            let now = db::time_text(self.shared_now());
            if !self.is_postgres() {
                tx.execute("DELETE FROM hosts", [])?;
            }
            tx.execute(
                "INSERT INTO hosts (id, version, started_at, seen_at) VALUES (?1, ?2, ?3, ?3)",
                (&id, version, &now),
            )?;
            Ok(())
        })?;
        let _ = self.host.set(id);
        Ok(self.host.get().cloned().unwrap_or_default())
    }

    /// This host's id, once joined.
    pub fn host_id(&self) -> Option<&str> {
        self.host.get().map(String::as_str)
    }

    /// Says this host is still there (joining again if it was taken for gone), and forgets
    /// hosts not seen for a day.
    pub fn heartbeat(&self, version: &str) -> Result<()> {
        let Some(id) = self.host_id() else {
            return Ok(());
        };
        self.write(|tx| {
            // The time once the writer is ours: a wait for it is not counted as seen.
            self.measure_database_clock(tx);
            let now = self.shared_now();
            let seen = tx.execute(
                "UPDATE hosts SET seen_at = ?2 WHERE id = ?1",
                (id, db::time_text(now)),
            )?;
            if seen == 0 {
                tracing::warn!(
                    "this host was taken for gone (not seen for a while); joining again"
                );
                tx.execute(
                    "INSERT INTO hosts (id, version, started_at, seen_at) VALUES (?1, ?2, ?3, ?3)",
                    (id, version, db::time_text(now)),
                )?;
            }
            tx.execute(
                "DELETE FROM hosts WHERE seen_at < ?1",
                [db::time_text(now - chrono::Duration::days(1))],
            )?;
            Ok(())
        })
    }

    /// Leaves the hosts (when the server stops): its work is taken over at once, and its
    /// leases are free.
    pub fn leave_hosts(&self) -> Result<()> {
        let Some(id) = self.host_id() else {
            return Ok(());
        };
        self.write(|tx| {
            tx.execute("DELETE FROM hosts WHERE id = ?1", [id])?;
            tx.execute(
                "DELETE FROM turns WHERE host = ?1 AND name LIKE 'lease:%'",
                [id],
            )?;
            Ok(())
        })
    }

    /// The hosts serving the database now, longest serving first.
    pub fn live_hosts(&self) -> Result<Vec<HostRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, version, started_at, seen_at FROM hosts WHERE seen_at >= ?1
                 ORDER BY started_at, id",
            )?;
            let rows = stmt
                .query_map([self.live_since()], |r| {
                    Ok(HostRow {
                        id: r.get(0)?,
                        version: r.get(1)?,
                        started_at: r.get(2)?,
                        seen_at: r.get(3)?,
                    })
                })?
                .collect::<db::DbResult<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Takes the turn `name` if it is due, for `every`: of all hosts asking, one gets each
    /// turn. The first time a turn is asked for, its clock starts: it is due `every` later.
    /// Returns whether this host has the turn, and when the next one is due.
    pub fn take_turn(&self, name: &str, every: Duration) -> Result<(bool, DateTime<Utc>)> {
        let now = self.shared_now();
        let next = now + span(every);
        self.write(|tx| {
            let first = tx.execute(
                "INSERT INTO turns (name, host, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
                (name, self.host_id(), db::time_text(next)),
            )?;
            if first == 1 {
                return Ok((false, next));
            }
            let taken = tx.execute(
                "UPDATE turns SET host = ?2, until = ?3 WHERE name = ?1 AND until <= ?4",
                (
                    name,
                    self.host_id(),
                    db::time_text(next),
                    db::time_text(now),
                ),
            )?;
            if taken == 1 {
                return Ok((true, next));
            }
            let until: String =
                tx.query_row("SELECT until FROM turns WHERE name = ?1", [name], |r| {
                    r.get(0)
                })?;
            Ok((false, db::parse_time(&until)))
        })
    }

    /// Holds (or renews) the lease `name` for `hold` if no other host holds it: the work it
    /// guards runs on one host at a time, and moves to another host when its holder stops
    /// renewing or leaves. Returns whether this host holds it.
    pub fn hold_lease(&self, name: &str, hold: Duration) -> Result<bool> {
        let Some(id) = self.host_id() else {
            return Ok(true); // not serving with others (a store of its own)
        };
        let name = &format!("lease:{name}");
        let now = self.shared_now();
        let until = db::time_text(now + span(hold));
        self.write(|tx| {
            let held = tx.execute(
                "UPDATE turns SET host = ?2, until = ?3
                 WHERE name = ?1 AND (host = ?2 OR until <= ?4)",
                (name, id, &until, db::time_text(now)),
            )?;
            if held == 1 {
                return Ok(true);
            }
            Ok(tx.execute(
                "INSERT INTO turns (name, host, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
                (name, id, &until),
            )? == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::tests::store;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    /// Two minutes: longer than a host's timeout and than the turn and lease below.
    const OFF: i64 = 120_000_000;

    #[test]
    fn hosts_whose_clocks_disagree_go_by_the_databases() {
        let (place, a) = store();
        let fast = place.open_again();
        fast.clock.skew_us.store(OFF, Ordering::Relaxed);
        a.join_hosts("t").unwrap();
        fast.join_hosts("t").unwrap();
        // A turn is due a minute after it is first asked for: a host whose clock runs two
        // minutes ahead does not take it at once.
        let minute = Duration::from_secs(60);
        assert!(!a.take_turn("job", minute).unwrap().0);
        assert!(!fast.take_turn("job", minute).unwrap().0, "not due yet");
        // A lease held by one host is not free to the one ahead.
        assert!(a.hold_lease("mail", minute).unwrap());
        assert!(!fast.hold_lease("mail", minute).unwrap(), "still held");
        // Both agree on now within the time a query takes, though their clocks do not.
        let gap = (fast.shared_now() - a.shared_now())
            .num_milliseconds()
            .abs();
        assert!(gap < 1_000, "{gap} ms apart");

        // A host whose clock runs two minutes behind is seen as there when it says so.
        if a.is_postgres() {
            let slow = place.open_again();
            slow.clock.skew_us.store(-OFF, Ordering::Relaxed);
            slow.join_hosts("t").unwrap();
            slow.heartbeat("t").unwrap();
            let live = a.live_hosts().unwrap();
            assert!(
                live.iter().any(|h| Some(h.id.as_str()) == slow.host_id()),
                "{live:?}"
            );
            assert_eq!(
                slow.live_hosts().unwrap().len(),
                3,
                "and it sees the others"
            );
        }
    }

    /// A session made on a host whose clock runs behind lasts its time on every host, and
    /// one made elsewhere is not taken for expired there early: expiry goes by the database's
    /// clock. The skews are the stores' own clocks' (what shared time is measured from); the
    /// last part sets a measured offset directly, which code reading the system clock fails.
    #[test]
    fn sessions_expire_by_the_databases_clock_not_a_hosts() {
        let (place, a) = store();
        let slow = place.open_again();
        slow.clock.skew_us.store(-OFF, Ordering::Relaxed);
        let fast = place.open_again();
        fast.clock.skew_us.store(OFF, Ordering::Relaxed);
        for s in [&a, &slow, &fast] {
            s.join_hosts("t").unwrap();
        }
        let amy = crate::store::tests::user(&a, "amy", "sales", "east")
            .user_id
            .unwrap();
        let minute = chrono::Duration::minutes(1);
        // Made two minutes "in the past" by the slow host's clock, it would be over already.
        let made = slow.create_session(amy, minute).unwrap();
        for s in [&a, &slow, &fast] {
            assert!(s.session(&made.token).is_ok(), "still valid");
        }
        // Made on a host two minutes ahead: not over on the others either way.
        let ahead = fast.create_session(amy, minute).unwrap();
        for s in [&a, &slow, &fast] {
            assert!(s.session(&ahead.token).is_ok());
        }
        // And a session past its time is over on the host two minutes behind.
        let short = a.create_session(amy, chrono::Duration::seconds(1)).unwrap();
        std::thread::sleep(Duration::from_millis(1_100));
        assert!(
            slow.session(&short.token).is_err(),
            "over by the database's clock"
        );
        // The database's clock, not the system's: a host that measured the database two
        // minutes ahead of itself finds a session of one minute over at once. (Reading the
        // system clock, it would still be valid.)
        a.clock.offset_us.store(OFF, Ordering::Relaxed);
        let fresh = slow.create_session(amy, minute).unwrap();
        assert!(slow.session(&fresh.token).is_ok());
        assert!(
            a.session(&fresh.token).is_err(),
            "over on the database's clock"
        );
    }

    /// A serving host whose connection dropped while a newer version migrated the database
    /// writes nothing more once it reconnects, and says so, rather than writing to a schema it
    /// does not know.
    #[test]
    fn a_host_superseded_while_its_connection_was_down_writes_nothing_more() {
        let (place, first) = store();
        if !first.is_postgres() {
            return;
        }
        drop(first);
        let s = crate::Store::open(place.options().to_serve()).unwrap();
        let pid: i32 = s
            .write(|tx| Ok(tx.query_row("SELECT pg_backend_pid()", [], |r| r.get(0))?))
            .unwrap();
        // A newer version migrates (the schema's version moves on), and the host's writer
        // connection is cut meanwhile.
        let other = place.open_again();
        other
            .write(|tx| {
                tx.execute("UPDATE qg_schema_version SET version = version + 1", [])?;
                tx.query_row("SELECT pg_terminate_backend(?1)", [pid], |r| {
                    r.get::<_, bool>(0)
                })?;
                Ok(())
            })
            .unwrap();
        assert!(!s.superseded());
        // The first write meets the cut connection; the next reconnects and finds the newer
        // schema; every one after is refused too.
        let cut = s.kv_set(
            "p",
            "a",
            b"1",
            crate::plugins::KvQuota { keys: 9, bytes: 99 },
        );
        assert!(cut.is_err());
        for _ in 0..2 {
            let refused = s
                .kv_set(
                    "p",
                    "a",
                    b"1",
                    crate::plugins::KvQuota { keys: 9, bytes: 99 },
                )
                .unwrap_err();
            assert!(refused.to_string().contains("newer version"), "{refused}");
        }
        assert!(s.superseded());
        // Reads too: its schema is not the database's any more.
        assert!(s.kv_get("p", "a").is_err());
        assert_eq!(other.kv_get("p", "a").unwrap(), None, "nothing written");
    }

    #[test]
    fn a_failed_clock_reading_keeps_the_last_and_the_write_around_it_commits() {
        let (_place, a) = store();
        a.join_hosts("t").unwrap();
        let id = a.host_id().unwrap().to_string();
        let offset = a.clock.offset_us.load(Ordering::Relaxed);
        a.write(|tx| {
            // Fails on both backends: PostgreSQL refuses to divide by zero (and would abort
            // the transaction), SQLite answers NULL, which is no number of microseconds.
            a.measure_clock_by(tx, "SELECT CAST(1/0 AS BIGINT)");
            tx.execute("UPDATE hosts SET version = 'after' WHERE id = ?1", [&id])?;
            Ok(())
        })
        .unwrap();
        assert_eq!(a.clock.offset_us.load(Ordering::Relaxed), offset);
        let version: String = a
            .read(|c| {
                Ok(
                    c.query_row("SELECT version FROM hosts WHERE id = ?1", [&id], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(version, "after");
    }

    #[test]
    fn each_turn_goes_to_one_host_and_a_lease_stays_with_its_holder() {
        let (place, a) = store();
        let b = place.open_again();
        a.join_hosts("t").unwrap();
        b.join_hosts("t").unwrap();
        let every = Duration::from_millis(300);
        // First sight starts the clock.
        assert!(!a.take_turn("job", every).unwrap().0);
        assert!(!b.take_turn("job", every).unwrap().0);
        std::thread::sleep(Duration::from_millis(350));
        // Due: the first host to ask takes the turn (the next due a minute on), not the other.
        let minute = Duration::from_secs(60);
        let (got_b, _) = b.take_turn("job", minute).unwrap();
        let (got_a, next) = a.take_turn("job", minute).unwrap();
        assert!(got_b && !got_a, "one turn, one host");
        assert!(next > chrono::Utc::now() + chrono::Duration::seconds(50));

        assert!(a.hold_lease("mail", Duration::from_secs(60)).unwrap());
        assert!(!b.hold_lease("mail", Duration::from_secs(60)).unwrap());
        assert!(
            a.hold_lease("mail", Duration::from_secs(60)).unwrap(),
            "renewed"
        );
        let hosts = a.live_hosts().unwrap();
        if a.is_postgres() {
            assert_eq!(hosts.len(), 2);
        }
        a.leave_hosts().unwrap();
        assert!(
            b.hold_lease("mail", Duration::from_secs(60)).unwrap(),
            "a host that leaves lets go of its leases"
        );
        assert!(a
            .live_hosts()
            .unwrap()
            .iter()
            .all(|h| Some(h.id.as_str()) != a.host_id()));
    }

    #[test]
    fn an_import_of_a_host_taken_for_gone_is_interrupted_and_its_pass_there_stops() {
        use crate::imports::{ImportCounts, ImportPass, NewImport};
        let (place, a) = store();
        let b = place.open_again();
        a.join_hosts("t").unwrap();
        let admin = crate::store::tests::user(&a, "ann", "admin", "hq");
        let id = a
            .new_import(
                &admin,
                NewImport {
                    entity: "customer".into(),
                    file_name: "c.csv".into(),
                    file_kind: "csv".into(),
                    layout: "name".into(),
                    total_rows: 1,
                    bytes: b"name\nAcme\n".to_vec(),
                },
            )
            .unwrap();
        a.begin_import_pass(&admin, id, ImportPass::Import, &serde_json::json!({}))
            .unwrap();
        let counts = ImportCounts {
            rows_done: 1,
            ..Default::default()
        };
        a.record_import_progress(id, counts, &[]).unwrap();
        if a.is_postgres() {
            b.join_hosts("t").unwrap();
            b.interrupt_imports().unwrap();
            assert_eq!(
                a.import_log(&admin, id).unwrap().status.as_str(),
                "running",
                "a is there"
            );
        }
        // a is gone (not seen for a minute, or left): b interrupts its import.
        a.leave_hosts().unwrap();
        b.interrupt_imports().unwrap();
        assert_eq!(
            a.import_log(&admin, id).unwrap().status.as_str(),
            "interrupted"
        );
        // a's pass, still going, is fenced off.
        assert!(a.record_import_progress(id, counts, &[]).is_err());
        assert!(a.finish_import_pass(id, ImportPass::Import).is_err());
        assert_eq!(
            a.import_log(&admin, id).unwrap().status.as_str(),
            "interrupted"
        );
    }
}
