//! The write path's side of webhooks: the subscriptions in force, kept in memory (every write
//! asks), and a delivery put in the outbox — inside the write's own transaction — for each one
//! a create, update or delete matches. Managing subscriptions and sending are the `webhooks`
//! module's and the host's.

use super::Store;
use crate::db;
use crate::db::Conn;
use crate::record::Record;
use crate::schema::Entity;
use crate::workflow::Condition;
use crate::Result;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the write path needs of a subscription.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    id: i64,
    events: Vec<String>,
    filter: Option<Condition>,
}

/// The active subscriptions by entity type.
pub(crate) type Subscriptions = Arc<BTreeMap<String, Vec<Arc<Subscription>>>>;

impl Store {
    /// Reads the active subscriptions again (at start and after every change to them).
    pub(crate) fn load_webhooks(&self) -> Result<()> {
        let rows: Vec<(i64, String, String, Option<String>)> = self.read(|c| {
            let mut stmt =
                c.prepare("SELECT id, entity, events, filter FROM webhooks WHERE active <> 0")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<crate::db::DbResult<Vec<_>>>()?)
        })?;
        let mut map: BTreeMap<String, Vec<Arc<Subscription>>> = BTreeMap::new();
        for (id, entity, events, filter) in rows {
            map.entry(entity).or_default().push(Arc::new(Subscription {
                id,
                events: serde_json::from_str(&events).unwrap_or_default(),
                filter: filter.and_then(|f| serde_json::from_str(&f).ok()),
            }));
        }
        *self.webhooks.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
        Ok(())
    }

    fn subscriptions(&self, entity: &str) -> Vec<Arc<Subscription>> {
        self.webhooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(entity)
            .cloned()
            .unwrap_or_default()
    }

    /// Adds a delivery for every subscription this write matches, on the write's own
    /// connection (inside its transaction). `record` is the record after the write (before
    /// it, for a delete).
    pub(crate) fn enqueue_webhooks(
        &self,
        tx: &Conn,
        e: &Entity,
        event: &str,
        record: &Record,
        changes: Option<&BTreeMap<String, [Json; 2]>>,
    ) -> Result<()> {
        let hooks = self.subscriptions(&e.name);
        if hooks.is_empty() {
            return Ok(());
        }
        // Due at once, on the clock senders compare with.
        let now = db::time_text(self.shared_now());
        let mut body: Option<String> = None;
        for h in hooks {
            if !h.events.iter().any(|x| x == event) {
                continue;
            }
            if h.filter.as_ref().is_some_and(|f| !f.holds(&record.values)) {
                continue;
            }
            let payload = body.get_or_insert_with(|| {
                let mut p = json!({
                    "event": format!("record.{event}"),
                    "entity": e.name,
                    "record": record.to_json(e),
                    "at": now,
                });
                if let Some(c) = changes {
                    p["changes"] = json!(c);
                }
                p.to_string()
            });
            tx.prepare_cached(
                "INSERT INTO webhook_deliveries (webhook_id, event, entity, record_id, payload,
                 next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )?
            .execute((h.id, event, &e.name, record.id, payload.as_str(), &now))?;
        }
        Ok(())
    }
}
