//! Webhooks: subscriptions an administrator defines (an entity type, the events — created,
//! updated, deleted — and an optional condition on the record, as workflows write them) and,
//! for each matching write, a delivery in the outbox written in the same transaction as the
//! write (`store/outbox.rs`); the delivery log, retries and replay (`outbox.rs`). Sending is the host's: it claims due deliveries, signs and posts them,
//! and reports each attempt back.

use crate::db;
use crate::db::Row;
use crate::store::Store;
use crate::users::random_token;
use crate::workflow::Condition;
use crate::{Access, Error, FieldErrors, Reason, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

mod outbox;
pub use outbox::{Attempt, Delivery, DueDelivery};

/// The events a webhook may subscribe to.
pub const EVENTS: &[&str] = &["created", "updated", "deleted"];

/// One subscription.
#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    /// Where deliveries are posted (`https://…`; `http://` only to this machine).
    pub url: String,
    pub entity: String,
    /// Some of `created`, `updated`, `deleted`.
    pub events: Vec<String>,
    /// Only records for which this holds (after the write; before it for a delete).
    pub filter: Option<Condition>,
    /// The key of the HMAC-SHA256 signature (shown to administrators, who set up receivers).
    pub secret: String,
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: String,
}

/// A subscription as an administrator writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub name: String,
    pub url: String,
    pub entity: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub filter: Option<Json>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

const COLUMNS: &str =
    "id, name, url, entity, events, filter, secret, active, created_by, created_at";

fn from_row(r: &Row<'_>) -> crate::db::DbResult<Webhook> {
    let filter: Option<String> = r.get(5)?;
    Ok(Webhook {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        entity: r.get(3)?,
        events: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        filter: filter.and_then(|f| serde_json::from_str(&f).ok()),
        secret: r.get(6)?,
        active: r.get(7)?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
    })
}

/// Whether a URL may receive deliveries: HTTPS anywhere, plain HTTP only on this machine.
fn url_allowed(url: &str) -> bool {
    if url.len() > 2000 || url.chars().any(char::is_whitespace) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        return !authority.is_empty() && !authority.contains(['@', '\\']);
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // `user@host`: the host is after the `@`; no userinfo at all keeps it unambiguous.
    if authority.contains(['@', '\\']) {
        return false;
    }
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map(|(h, _)| h)
        .unwrap_or(authority);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

impl Store {
    /// Every subscription (administrators).
    pub fn webhooks(&self, access: &Access) -> Result<Vec<Webhook>> {
        access.require_admin()?;
        self.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"))?;
            let rows = stmt.query_map([], from_row)?;
            Ok(rows.collect::<crate::db::DbResult<Vec<_>>>()?)
        })
    }

    /// One subscription (administrators).
    pub fn webhook(&self, access: &Access, id: i64) -> Result<Webhook> {
        access.require_admin()?;
        self.read(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"),
                [id],
                from_row,
            )
            .map_err(|_| Error::NotFound(format!("no webhook with id {id}")))
        })
    }

    fn check_webhook(&self, input: &WebhookInput) -> Result<Option<String>> {
        let mut errors = FieldErrors::new();
        if input.name.trim().is_empty() || input.name.chars().count() > 100 {
            errors.insert("name".into(), Reason::LengthBetween { min: 1, max: 100 });
        }
        if !url_allowed(&input.url) {
            errors.insert(
                "url".into(),
                Reason::text("an https:// address (http:// only to localhost)"),
            );
        }
        let schema = self.schema();
        let entity = schema.entity(&input.entity);
        if entity.is_none() {
            errors.insert(
                "entity".into(),
                Reason::UnknownEntity {
                    name: input.entity.clone(),
                },
            );
        }
        if input.events.is_empty() || input.events.iter().any(|e| !EVENTS.contains(&e.as_str())) {
            errors.insert(
                "events".into(),
                Reason::NotOption {
                    value: input.events.join(","),
                    options: EVENTS.iter().map(|s| s.to_string()).collect(),
                },
            );
        }
        let filter = match (&input.filter, entity) {
            (None | Some(Json::Null), _) => None,
            (Some(f), Some(e)) => match serde_json::from_value::<Condition>(f.clone()) {
                Ok(c) => match c.validate(e) {
                    Ok(()) => Some(f.to_string()),
                    Err(why) => {
                        errors.insert("filter".into(), Reason::BadWorkflow { detail: why });
                        None
                    }
                },
                Err(why) => {
                    errors.insert(
                        "filter".into(),
                        Reason::BadWorkflow {
                            detail: why.to_string(),
                        },
                    );
                    None
                }
            },
            (Some(_), None) => None,
        };
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(Error::validation(errors))
        }
    }

    /// Adds a subscription (administrators); its signing secret is made here.
    pub fn create_webhook(&self, access: &Access, input: &WebhookInput) -> Result<Webhook> {
        access.require_admin()?;
        let filter = self.check_webhook(input)?;
        let id = self.write(|tx| {
            tx.execute(
                "INSERT INTO webhooks (name, url, entity, events, filter, secret, active,
                 created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                (
                    input.name.trim(),
                    &input.url,
                    &input.entity,
                    serde_json::to_string(&input.events).unwrap_or_default(),
                    filter,
                    format!("whsec_{}", random_token()),
                    input.active,
                    access.user_id,
                    db::now_text(),
                ),
            )?;
            let id = tx.last_insert_rowid();
            crate::audit::by(
                tx,
                access,
                "webhook_created",
                input.name.trim(),
                &audit_detail(input),
            )?;
            Ok(id)
        })?;
        self.load_webhooks()?;
        self.webhook(access, id)
    }

    /// Replaces a subscription's settings (its secret stays).
    pub fn update_webhook(
        &self,
        access: &Access,
        id: i64,
        input: &WebhookInput,
    ) -> Result<Webhook> {
        access.require_admin()?;
        let filter = self.check_webhook(input)?;
        let n = self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "webhook_changed",
                input.name.trim(),
                &serde_json::json!({"id": id, "now": audit_detail(input)}),
            )?;
            let n = tx.execute(
                "UPDATE webhooks SET name = ?2, url = ?3, entity = ?4, events = ?5, filter = ?6,
                 active = ?7 WHERE id = ?1",
                (
                    id,
                    input.name.trim(),
                    &input.url,
                    &input.entity,
                    serde_json::to_string(&input.events).unwrap_or_default(),
                    filter,
                    input.active,
                ),
            )?;
            if n == 0 {
                // No such webhook: the entry written above goes with this transaction.
                return Err(Error::NotFound(format!("no webhook with id {id}")));
            }
            Ok(n)
        })?;
        if n == 0 {
            return Err(Error::NotFound(format!("no webhook with id {id}")));
        }
        self.load_webhooks()?;
        self.webhook(access, id)
    }

    /// Gives a subscription a new signing secret (the old one stops signing at once: the
    /// receiver is set up with the new one).
    pub fn rotate_webhook_secret(&self, access: &Access, id: i64) -> Result<Webhook> {
        access.require_admin()?;
        let n = self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "webhook_secret_rotated",
                &id.to_string(),
                &serde_json::json!({}),
            )?;
            let n = tx.execute(
                "UPDATE webhooks SET secret = ?2 WHERE id = ?1",
                (id, format!("whsec_{}", random_token())),
            )?;
            if n == 0 {
                return Err(Error::NotFound(format!("no webhook with id {id}")));
            }
            Ok(n)
        })?;
        if n == 0 {
            return Err(Error::NotFound(format!("no webhook with id {id}")));
        }
        self.webhook(access, id)
    }

    /// Removes a subscription with its deliveries.
    pub fn delete_webhook(&self, access: &Access, id: i64) -> Result<()> {
        access.require_admin()?;
        let n = self.write(|tx| {
            let n = tx.execute("DELETE FROM webhooks WHERE id = ?1", [id])?;
            if n > 0 {
                crate::audit::by(
                    tx,
                    access,
                    "webhook_removed",
                    &id.to_string(),
                    &serde_json::json!({}),
                )?;
            }
            Ok(n)
        })?;
        if n == 0 {
            return Err(Error::NotFound(format!("no webhook with id {id}")));
        }
        self.load_webhooks()
    }
}

/// A subscription's settings as the audit log keeps them: not its secret, and its address
/// without query or fragment (some receivers carry a credential there, and the log is never
/// edited).
fn audit_detail(input: &WebhookInput) -> serde_json::Value {
    let url = input.url.split(['?', '#']).next().unwrap_or_default();
    serde_json::json!({"url": url, "entity": input.entity, "events": input.events,
                       "active": input.active})
}

#[cfg(test)]
mod tests {
    use super::url_allowed;

    #[test]
    fn https_anywhere_http_only_here() {
        assert!(url_allowed("https://example.com/hook"));
        assert!(url_allowed("http://127.0.0.1:8081/hook"));
        assert!(url_allowed("http://localhost/hook"));
        assert!(!url_allowed("http://example.com/hook"));
        assert!(!url_allowed("http://127.0.0.1.evil.com/x"));
        assert!(!url_allowed(
            "http://127.0.0.1:80@169.254.169.254/latest/meta-data/"
        ));
        assert!(!url_allowed("http://localhost@evil.com/"));
        assert!(!url_allowed("http://localhost:x/"));
        assert!(!url_allowed("ftp://example.com"));
        assert!(!url_allowed("https://"));
        assert!(!url_allowed("https://a b"));
    }
}
