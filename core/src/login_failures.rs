//! Failed logins counted in the database, per key (an account, a client address), so that a
//! lockout made on one host holds on every host serving the database. The rule — how many
//! failures, how long a lockout, doubling up to a cap — is the caller's (the host's login
//! throttle, which keeps the same counts in memory as well).

use crate::db::{self, span, OptionalExtension};
use crate::store::Store;
use crate::Result;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// When failures lock a key out, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct LockoutRule {
    /// Failures before the key is locked out.
    pub limit: u32,
    /// The first lockout; every further failure doubles it.
    pub lockout: Duration,
    /// The longest lockout. A key with no failure for this long starts afresh.
    pub max_lockout: Duration,
}

impl Store {
    /// How long the longest lockout among `keys` has left, if any of them is locked out.
    pub fn login_locked(&self, keys: &[&str]) -> Result<Option<Duration>> {
        let now = self.shared_now();
        let until: Vec<String> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT locked_until FROM login_failures
                 WHERE key = ?1 AND locked_until IS NOT NULL",
            )?;
            let mut found = Vec::new();
            for key in keys {
                if let Some(u) = stmt.query_row([key], |r| r.get(0)).optional()? {
                    found.push(u);
                }
            }
            Ok(found)
        })?;
        Ok(until
            .iter()
            .map(|u| db::parse_time(u))
            .filter(|u| *u > now)
            .max()
            .and_then(|u| (u - now).to_std().ok()))
    }

    /// Counts a failed login against each key, locking it out by its rule (one transaction).
    pub fn login_failed(&self, keys: &[(&str, LockoutRule)]) -> Result<()> {
        let now = self.shared_now();
        self.write(|tx| {
            for (key, rule) in keys {
                count_failure(tx, key, rule, now)?;
            }
            Ok(())
        })
    }

    /// Forgets `key`'s failures (a login that succeeded).
    pub fn login_succeeded(&self, key: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM login_failures WHERE key = ?1", [key])?;
            Ok(())
        })
    }

    /// Drops keys with no lockout left and no failure for `quiet`; returns how many.
    pub fn purge_login_failures(&self, quiet: Duration) -> Result<usize> {
        let now = self.shared_now();
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM login_failures WHERE last_failure < ?1
                 AND (locked_until IS NULL OR locked_until < ?2)",
                (db::time_text(now - span(quiet)), db::time_text(now)),
            )?)
        })
    }
}

/// Counts one failure against `key` inside the caller's transaction.
fn count_failure(tx: &db::Conn, key: &str, rule: &LockoutRule, now: DateTime<Utc>) -> Result<()> {
    let row: Option<(i64, Option<String>, String)> = tx
        .prepare_cached(
            "SELECT failures, locked_until, last_failure FROM login_failures
             WHERE key = ?1",
        )?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (mut failures, mut locked_until) = match &row {
        Some((f, until, last)) => {
            let until = until.as_deref().map(db::parse_time);
            let locked = until.is_some_and(|u| u > now);
            let quiet = now - db::parse_time(last) >= span(rule.max_lockout);
            if !locked && quiet {
                (0, None)
            } else {
                (*f, until)
            }
        }
        None => (0, None),
    };
    failures = failures.saturating_add(1);
    if failures >= i64::from(rule.limit.max(1)) {
        let doublings = (failures - i64::from(rule.limit.max(1))).min(31) as u32;
        let lock = rule
            .lockout
            .saturating_mul(1u32 << doublings)
            .min(rule.max_lockout);
        locked_until = Some(now + span(lock));
    }
    let until: Option<String> = locked_until.map(|u: DateTime<Utc>| db::time_text(u));
    tx.execute(
        "INSERT INTO login_failures (key, failures, locked_until, last_failure)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET failures = ?2, locked_until = ?3,
           last_failure = ?4",
        (key, failures, until, db::time_text(now)),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::LockoutRule;
    use std::time::Duration;

    #[test]
    fn a_lockout_counted_on_one_host_holds_on_another_and_a_success_forgets_it() {
        let (place, a) = crate::store::tests::store();
        let b = place.open_again();
        let rule = LockoutRule {
            limit: 3,
            lockout: Duration::from_secs(10),
            max_lockout: Duration::from_secs(60),
        };
        let key = || "user:amy";
        a.login_failed(&[("user:amy", rule)]).unwrap();
        b.login_failed(&[("user:amy", rule)]).unwrap();
        assert_eq!(b.login_locked(&[key()]).unwrap(), None);
        a.login_failed(&[("user:amy", rule)]).unwrap();
        let left = b.login_locked(&[key()]).unwrap().expect("locked on b");
        assert!(
            left > Duration::from_secs(9) && left <= Duration::from_secs(10),
            "{left:?}"
        );
        b.login_failed(&[("user:amy", rule)]).unwrap();
        let left = a.login_locked(&[key()]).unwrap().expect("locked on a");
        assert!(left > Duration::from_secs(19), "doubled: {left:?}");
        for _ in 0..40 {
            a.login_failed(&[("user:amy", rule)]).unwrap();
        }
        let left = a.login_locked(&[key()]).unwrap().unwrap();
        assert!(left <= Duration::from_secs(60), "capped: {left:?}");
        assert_eq!(a.login_locked(&["addr:10.0.0.1"]).unwrap(), None);
        b.login_succeeded("user:amy").unwrap();
        assert_eq!(a.login_locked(&[key()]).unwrap(), None);
        assert_eq!(a.purge_login_failures(Duration::ZERO).unwrap(), 0);
    }

    #[test]
    fn one_failure_counts_against_every_key_and_the_longest_lockout_answers() {
        let (place, a) = crate::store::tests::store();
        let b = place.open_again();
        let rule = |limit| LockoutRule {
            limit,
            lockout: Duration::from_secs(10),
            max_lockout: Duration::from_secs(60),
        };
        // The address locks after 2, the account after 3: two failures lock the address only.
        for _ in 0..2 {
            a.login_failed(&[("user:amy", rule(3)), ("addr:10.0.0.1", rule(2))])
                .unwrap();
        }
        assert_eq!(b.login_locked(&["user:amy"]).unwrap(), None);
        assert!(b.login_locked(&["addr:10.0.0.1"]).unwrap().is_some());
        assert!(b
            .login_locked(&["user:bob", "addr:10.0.0.1"])
            .unwrap()
            .is_some());
        assert_eq!(
            b.login_locked(&["user:amy", "addr:10.0.0.2"]).unwrap(),
            None
        );
        // A third: the account locks for 10 s, the address's lockout doubles to 20 s; the
        // longer answers.
        b.login_failed(&[("user:amy", rule(3)), ("addr:10.0.0.1", rule(2))])
            .unwrap();
        let left = a
            .login_locked(&["user:amy", "addr:10.0.0.1"])
            .unwrap()
            .unwrap();
        assert!(left > Duration::from_secs(19), "{left:?}");
        let left = a.login_locked(&["user:amy"]).unwrap().unwrap();
        assert!(left <= Duration::from_secs(10), "{left:?}");
    }
}
