//! The outbox of webhook deliveries: claiming the due ones (with a lease, so a delivery being
//! sent is not sent twice, and one whose sender died is sent again), recording each attempt
//! and what the receiver answered, retrying with backoff, the delivery log, and replay.

use super::*;
use crate::db::OptionalExtension;

/// How long a claimed delivery is left to its sender before another may take it (longer
/// than a batch can take).
const LEASE_SECONDS: i64 = 600;
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 10;

/// A delivery as the log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub entity: String,
    pub record_id: i64,
    /// `pending`, `delivered` or `failed` (given up after [`MAX_ATTEMPTS`]).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
    /// The attempts, oldest first (in a single delivery's view).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tries: Vec<Attempt>,
}

/// One attempt to deliver.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub at: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub millis: i64,
}

/// A delivery claimed for sending, with what sending needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub payload: String,
    pub attempts: i64,
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event, entity, record_id, status, attempts, \
    next_attempt_at, last_status, last_error, created_at, delivered_at";

fn delivery(r: &Row<'_>) -> crate::db::DbResult<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        event: r.get(2)?,
        entity: r.get(3)?,
        record_id: r.get(4)?,
        status: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get(7)?,
        last_status: r.get(8)?,
        last_error: r.get(9)?,
        created_at: r.get(10)?,
        delivered_at: r.get(11)?,
        tries: Vec::new(),
    })
}

impl Store {
    /// Claims up to `limit` due deliveries of active webhooks, oldest first, leaving out those
    /// of the webhooks in `busy` (this sender is still sending to them, and each webhook's
    /// deliveries go out in order): each is leased for ten minutes, so no other sender takes it
    /// meanwhile and a crashed sender's is sent again.
    pub fn claim_deliveries(&self, limit: usize, busy: &[i64]) -> Result<Vec<DueDelivery>> {
        let now = self.shared_now();
        let lease = db::time_text(now + chrono::Duration::seconds(LEASE_SECONDS));
        let not_busy = if busy.is_empty() {
            String::new()
        } else {
            let mut busy = busy.to_vec();
            busy.sort_unstable();
            let ids: Vec<String> = busy.iter().map(i64::to_string).collect();
            format!("AND d.webhook_id NOT IN ({})", ids.join(", "))
        };
        let sql = format!(
            "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, d.attempts
                 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                 WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND w.active <> 0
                 {not_busy}
                 ORDER BY d.next_attempt_at, d.id LIMIT ?2"
        );
        self.write(|tx| {
            // Cached only without webhooks left out: their ids make each text one of many.
            let mut stmt = if busy.is_empty() {
                tx.prepare_cached(&sql)?
            } else {
                tx.prepare(&sql)?
            };
            let due = stmt
                .query_map(
                    (db::time_text(now), i64::try_from(limit).unwrap_or(50)),
                    |r| {
                        Ok(DueDelivery {
                            id: r.get(0)?,
                            webhook_id: r.get(1)?,
                            url: r.get(2)?,
                            secret: r.get(3)?,
                            event: r.get(4)?,
                            payload: r.get(5)?,
                            attempts: r.get(6)?,
                        })
                    },
                )?
                .collect::<crate::db::DbResult<Vec<_>>>()?;
            for d in &due {
                tx.prepare_cached(
                    "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id = ?1",
                )?
                .execute((d.id, &lease))?;
            }
            Ok(due)
        })
    }

    /// Records an attempt: a 2xx answer delivers; anything else is retried after
    /// `retry_base` × 2^(attempts − 1) (at most an hour), and given up after
    /// [`MAX_ATTEMPTS`].
    pub fn record_attempt(
        &self,
        id: i64,
        status_code: Option<u16>,
        error: Option<&str>,
        millis: i64,
        retry_base: std::time::Duration,
    ) -> Result<()> {
        let now = self.shared_now();
        let ok = status_code.is_some_and(|s| (200..300).contains(&s));
        let error: Option<String> = error.map(|e| e.chars().take(500).collect());
        self.write(|tx| {
            // The webhook (and its deliveries) may have been removed meanwhile.
            let Some(attempts): Option<i64> = tx
                .query_row(
                    "SELECT attempts FROM webhook_deliveries WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?
            else {
                return Ok(());
            };
            let attempts = attempts + 1;
            tx.execute(
                "INSERT INTO webhook_attempts (delivery_id, at, status_code, error, millis)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (id, db::time_text(now), status_code, &error, millis),
            )?;
            if ok {
                tx.execute(
                    "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?2,
                     last_status = ?3, last_error = NULL, delivered_at = ?4 WHERE id = ?1",
                    (id, attempts, status_code, db::time_text(now)),
                )?;
                return Ok(());
            }
            let factor = 2u32.saturating_pow(u32::try_from(attempts - 1).unwrap_or(31));
            let wait = retry_base
                .saturating_mul(factor)
                .min(std::time::Duration::from_secs(3600));
            let next = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
            let status = if attempts >= MAX_ATTEMPTS {
                "failed"
            } else {
                "pending"
            };
            tx.execute(
                "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, last_status = ?4,
                 last_error = ?5, next_attempt_at = ?6 WHERE id = ?1",
                (
                    id,
                    status,
                    attempts,
                    status_code,
                    &error,
                    db::time_text(next),
                ),
            )?;
            Ok(())
        })
    }

    /// Whether a webhook still exists and is active (asked before each send: a webhook
    /// paused or removed after its deliveries were claimed sends nothing more).
    pub fn webhook_is_active(&self, id: i64) -> Result<bool> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT active FROM webhooks WHERE id = ?1")?
                    .query_row([id], |r| r.get::<_, bool>(0))
                    .optional()?
                    .unwrap_or(false),
            )
        })
    }

    /// Gives claimed deliveries back, due again at `at` (their webhook's receiver did not
    /// answer: the rest of its batch waits rather than each taking the time limit).
    pub fn postpone_deliveries(
        &self,
        ids: &[i64],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            for id in ids {
                tx.prepare_cached(
                    "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id = ?1 AND status = 'pending'",
                )?
                .execute((id, db::time_text(at)))?;
            }
            Ok(())
        })
    }

    /// Drops deliveries delivered or given up more than 30 days ago, with their attempts.
    pub fn purge_deliveries(&self) -> Result<usize> {
        let before = db::time_text(self.shared_now() - chrono::Duration::days(30));
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed')
                 AND created_at < ?1",
                [before],
            )?)
        })
    }

    /// A webhook's newest deliveries (administrators).
    pub fn deliveries(&self, access: &Access, webhook: i64, limit: usize) -> Result<Vec<Delivery>> {
        self.webhook(access, webhook)?;
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ?1
                 ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map((webhook, i64::try_from(limit).unwrap_or(100)), delivery)?;
            Ok(rows.collect::<crate::db::DbResult<Vec<_>>>()?)
        })
    }

    /// One delivery with its attempts (administrators).
    pub fn delivery(&self, access: &Access, id: i64) -> Result<Delivery> {
        access.require_admin()?;
        self.read(|c| {
            let mut d = c
                .query_row(
                    &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?1"),
                    [id],
                    delivery,
                )
                .map_err(|_| Error::NotFound(format!("no delivery with id {id}")))?;
            let mut stmt = c.prepare_cached(
                "SELECT at, status_code, error, millis FROM webhook_attempts
                 WHERE delivery_id = ?1 ORDER BY id",
            )?;
            d.tries = stmt
                .query_map([id], |r| {
                    Ok(Attempt {
                        at: r.get(0)?,
                        status_code: r.get(1)?,
                        error: r.get(2)?,
                        millis: r.get(3)?,
                    })
                })?
                .collect::<crate::db::DbResult<Vec<_>>>()?;
            Ok(d)
        })
    }

    /// Sends a delivery again, now — delivered, failed or pending alike (administrators).
    pub fn replay_delivery(&self, access: &Access, id: i64) -> Result<Delivery> {
        access.require_admin()?;
        let n = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0,
                 next_attempt_at = ?2, delivered_at = NULL WHERE id = ?1",
                (id, db::time_text(self.shared_now())),
            )?)
        })?;
        if n == 0 {
            return Err(Error::NotFound(format!("no delivery with id {id}")));
        }
        self.delivery(access, id)
    }
}
