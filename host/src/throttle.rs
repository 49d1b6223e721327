//! Login throttling: failed logins counted per account and per client address, each locked
//! out for a while after too many (the lockout doubling with every further failure, up to a
//! cap), and a bound on how many password checks (argon2id, ~19 MiB each) run at once.
//!
//! The API login, the UI login form and the one-time welcome link go through the same
//! `LoginGuard`. The counts are kept in memory and in the database (`login_failures`), so
//! that an account or an address locked out on one host is locked out on every host serving
//! the database. Behind a reverse proxy or load balancer, the address is the client's only
//! when the proxy is trusted (`--trusted-proxy`, see [`crate::proxies`]); otherwise every
//! client behind it shares the proxy's address. A refused login gets
//! 429 with `Retry-After`; attempts refused this way check no password and count for nothing,
//! so they neither cost memory nor extend a lockout. A lockout never passes `max_lockout`, and
//! a key with no failure for `max_lockout` starts afresh, so an attacker hammering one account
//! delays its real user by at most one lockout at a time, never forever.

use crate::error::ApiError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most keys (accounts, addresses) tracked at once; past it, only locked keys are kept.
const MAX_KEYS: usize = 50_000;

/// Limits on logins (part of [`crate::Config`]).
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Failed logins to one account (from anywhere) before it is locked out.
    pub account_failures: u32,
    /// Failed logins from one client address (to any account) before it is locked out.
    /// IPv6 addresses count per /64.
    pub address_failures: u32,
    /// The first lockout; every further failure doubles it.
    pub lockout: Duration,
    /// The longest lockout. A key with no failure for this long is forgotten.
    pub max_lockout: Duration,
    /// Password checks that may run at once (each holds ~19 MiB while it runs).
    pub concurrent_hashes: usize,
    /// How long a login waits for a free password-check slot before it is refused.
    pub hash_wait: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            account_failures: 5,
            address_failures: 30,
            lockout: Duration::from_secs(30),
            max_lockout: Duration::from_secs(15 * 60),
            concurrent_hashes: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            hash_wait: Duration::from_secs(2),
        }
    }
}

/// A login refused before its password was checked: 429 with `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    /// When to try again.
    pub retry_after: Duration,
    /// Refused for lack of a password-check slot rather than for failures.
    pub busy: bool,
}

impl Refused {
    /// `Retry-After` in whole seconds (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }

    /// Adds `Retry-After` to a response.
    pub fn decorate(&self, mut resp: Response) -> Response {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs()),
        );
        resp
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let message = if self.busy {
            "too many logins at once; try again shortly"
        } else {
            "too many failed logins; try again later"
        };
        self.decorate(
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
                .into_response(),
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last_failure: Instant,
}

impl Entry {
    fn remaining(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .map(|t| t.saturating_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    fn forgotten(&self, now: Instant, quiet: Duration) -> bool {
        self.remaining(now).is_none() && now.saturating_duration_since(self.last_failure) >= quiet
    }
}

/// Failure counts of one kind of key.
#[derive(Debug)]
struct Failures<K> {
    limit: u32,
    map: HashMap<K, Entry>,
}

impl<K: Hash + Eq> Failures<K> {
    fn new(limit: u32) -> Self {
        Failures {
            limit: limit.max(1),
            map: HashMap::new(),
        }
    }

    fn locked(&self, key: &K, now: Instant) -> Option<Duration> {
        self.map.get(key).and_then(|e| e.remaining(now))
    }

    fn fail(&mut self, key: K, now: Instant, limits: &LoginLimits) {
        if self.map.len() >= MAX_KEYS && !self.map.contains_key(&key) {
            self.map
                .retain(|_, e| !e.forgotten(now, limits.max_lockout));
            if self.map.len() >= MAX_KEYS {
                self.map.retain(|_, e| e.remaining(now).is_some());
            }
            if self.map.len() >= MAX_KEYS {
                return;
            }
        }
        let e = self.map.entry(key).or_insert(Entry {
            failures: 0,
            locked_until: None,
            last_failure: now,
        });
        if e.forgotten(now, limits.max_lockout) {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
        if e.failures >= self.limit {
            let doublings = (e.failures - self.limit).min(31);
            let lock = limits
                .lockout
                .saturating_mul(1u32 << doublings)
                .min(limits.max_lockout);
            e.locked_until = Some(now + lock);
        }
    }

    fn forget(&mut self, key: &K) {
        self.map.remove(key);
    }
}

/// Guards logins: lockouts per account and per client address, and the password-check slots.
#[derive(Debug)]
pub struct LoginGuard {
    limits: LoginLimits,
    /// The same counts in the database, so that a lockout holds on every host serving it.
    shared: Arc<qingguan_core::Store>,
    accounts: Mutex<Failures<String>>,
    addresses: Mutex<Failures<IpAddr>>,
    hashing: Arc<Semaphore>,
}

/// The key an address is counted under: IPv4 as is (also when IPv4-mapped), IPv6 per /64.
fn address_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn account_key(username: &str) -> String {
    username.trim().to_string()
}

/// An address's key in the database's counts.
fn shared_address_key(addr: IpAddr) -> String {
    format!("addr:{}", address_key(addr))
}

/// An account's key in the database's counts.
fn shared_account_key(username: &str) -> String {
    format!("user:{}", account_key(username))
}

impl LoginGuard {
    /// A guard with these limits.
    pub fn new(limits: LoginLimits, shared: Arc<qingguan_core::Store>) -> Self {
        LoginGuard {
            shared,
            accounts: Mutex::new(Failures::new(limits.account_failures)),
            addresses: Mutex::new(Failures::new(limits.address_failures)),
            hashing: Arc::new(Semaphore::new(limits.concurrent_hashes.max(1))),
            limits,
        }
    }

    fn check(&self, username: Option<&str>, addr: Option<IpAddr>) -> Result<(), Refused> {
        let now = Instant::now();
        let account = username.and_then(|u| lock(&self.accounts).locked(&account_key(u), now));
        let address = addr.and_then(|a| lock(&self.addresses).locked(&address_key(a), now));
        match account.max(address) {
            Some(retry_after) => Err(Refused {
                retry_after,
                busy: false,
            }),
            None => Ok(()),
        }
    }

    /// A password-check slot, waiting up to `hash_wait` for one.
    pub async fn slot(&self) -> Result<OwnedSemaphorePermit, Refused> {
        let busy = Refused {
            retry_after: Duration::from_secs(1),
            busy: true,
        };
        if let Ok(p) = self.hashing.clone().try_acquire_owned() {
            return Ok(p);
        }
        match tokio::time::timeout(self.limits.hash_wait, self.hashing.clone().acquire_owned())
            .await
        {
            Ok(Ok(p)) => Ok(p),
            _ => Err(busy),
        }
    }

    /// A password-check slot for work of a signed-in user (setting a password): waits as long
    /// as it takes, so such work never runs beside more than the allowed number of checks.
    pub async fn slot_waiting(&self) -> Option<OwnedSemaphorePermit> {
        self.hashing.clone().acquire_owned().await.ok()
    }

    /// Admits a login attempt for `username` from `addr`: refused while the account or the
    /// address is locked out, or when no password-check slot frees up in time. Hold the
    /// returned slot while checking the password.
    pub async fn enter(
        &self,
        username: &str,
        addr: Option<IpAddr>,
    ) -> Result<OwnedSemaphorePermit, Refused> {
        self.check(Some(username), addr)?;
        self.check_shared(Some(username), addr).await?;
        let permit = self.slot().await?;
        // Failures may have piled up while this attempt waited.
        self.check(Some(username), addr)?;
        Ok(permit)
    }

    /// Admits an anonymous attempt at a secret that names no account (a one-time link's
    /// token) from `addr`: refused while the address is locked out, or when no password-check
    /// slot frees up in time. Record a wrong secret with [`LoginGuard::failed_from`].
    pub async fn enter_from(&self, addr: Option<IpAddr>) -> Result<OwnedSemaphorePermit, Refused> {
        self.check(None, addr)?;
        self.check_shared(None, addr).await?;
        let permit = self.slot().await?;
        self.check(None, addr)?;
        Ok(permit)
    }

    /// The account's and the address's lockouts the database holds (counted on any host). A
    /// database that cannot be read refuses nothing: the counts in memory still hold.
    async fn check_shared(
        &self,
        username: Option<&str>,
        addr: Option<IpAddr>,
    ) -> Result<(), Refused> {
        let keys: Vec<String> = username
            .map(shared_account_key)
            .into_iter()
            .chain(addr.map(shared_address_key))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let store = self.shared.clone();
        let locked = tokio::task::spawn_blocking(move || {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            store.login_locked(&keys)
        });
        match locked.await {
            Ok(Ok(Some(retry_after))) => Err(Refused {
                retry_after,
                busy: false,
            }),
            Ok(Ok(None)) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the shared login lockouts");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the shared login lockouts panicked");
                Ok(())
            }
        }
    }

    /// Counts a failure in the database too, against the account (if any) and the address
    /// (if known), in one transaction. Blocking: call it off the async workers.
    fn fail_shared(&self, username: Option<&str>, addr: Option<IpAddr>) {
        let rule = |limit| qingguan_core::login_failures::LockoutRule {
            limit,
            lockout: self.limits.lockout,
            max_lockout: self.limits.max_lockout,
        };
        let account = username.map(shared_account_key);
        let address = addr.map(shared_address_key);
        let keys: Vec<(&str, _)> = account
            .as_deref()
            .map(|k| (k, rule(self.limits.account_failures)))
            .into_iter()
            .chain(
                address
                    .as_deref()
                    .map(|k| (k, rule(self.limits.address_failures))),
            )
            .collect();
        if let Err(e) = self.shared.login_failed(&keys) {
            tracing::warn!(error = %e, "cannot count a failed login in the database");
        }
    }

    /// Records a wrong secret from `addr` (it counts against the address only).
    /// Blocking (it writes the database): call it off the async workers.
    pub fn failed_from(&self, addr: Option<IpAddr>) {
        if let Some(a) = addr {
            lock(&self.addresses).fail(address_key(a), Instant::now(), &self.limits);
            self.fail_shared(None, Some(a));
        }
    }

    /// Records a failed login (wrong password, unknown or deactivated account alike).
    /// Blocking (it writes the database): call it off the async workers.
    pub fn failed(&self, username: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        lock(&self.accounts).fail(account_key(username), now, &self.limits);
        if let Some(a) = addr {
            lock(&self.addresses).fail(address_key(a), now, &self.limits);
        }
        self.fail_shared(Some(username), addr);
    }

    /// Records a successful login: the account's failures are forgiven (the address's are
    /// not, or one valid account would reset an attacker's count).
    pub fn succeeded(&self, username: &str) {
        lock(&self.accounts).forget(&account_key(username));
        if let Err(e) = self.shared.login_succeeded(&shared_account_key(username)) {
            tracing::warn!(error = %e, "cannot forget failed logins in the database");
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LoginLimits {
        LoginLimits {
            account_failures: 3,
            address_failures: 10,
            lockout: Duration::from_secs(10),
            max_lockout: Duration::from_secs(60),
            concurrent_hashes: 1,
            hash_wait: Duration::ZERO,
        }
    }

    #[test]
    fn lockout_doubles_up_to_the_cap_and_is_forgotten_after_quiet() {
        let l = limits();
        let mut f = Failures::<String>::new(3);
        let t0 = Instant::now();
        let k = || "amy".to_string();
        f.fail(k(), t0, &l);
        f.fail(k(), t0, &l);
        assert_eq!(f.locked(&k(), t0), None);
        f.fail(k(), t0, &l);
        assert_eq!(f.locked(&k(), t0), Some(Duration::from_secs(10)));
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(f.locked(&k(), t1), None);
        f.fail(k(), t1, &l);
        assert_eq!(f.locked(&k(), t1), Some(Duration::from_secs(20)));
        for _ in 0..40 {
            f.fail(k(), t1, &l);
        }
        assert_eq!(f.locked(&k(), t1), Some(Duration::from_secs(60)), "capped");
        let t2 = t1 + Duration::from_secs(120);
        assert_eq!(f.locked(&k(), t2), None);
        f.fail(k(), t2, &l);
        assert_eq!(f.locked(&k(), t2), None, "a quiet key starts afresh");
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        let m: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(address_key(m), "10.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let r = |ms| Refused {
            retry_after: Duration::from_millis(ms),
            busy: false,
        };
        assert_eq!(r(1).retry_after_secs(), 1);
        assert_eq!(r(1000).retry_after_secs(), 1);
        assert_eq!(r(1001).retry_after_secs(), 2);
    }
}
