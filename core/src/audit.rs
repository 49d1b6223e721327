//! The administrators' audit log: sign-ins (also failed ones, with the address), schema changes,
//! roles, users and plugins — who, when, from where, what. Entries are written in the same
//! transaction as what they record (a change that rolls back leaves none), and are never
//! edited: the table's triggers refuse updates and deletions, and no function here offers one.
//! Only administrators read it.

use crate::db;
use crate::db::Conn;
use crate::store::Store;
use crate::{Access, Error, Reason, Result};
use serde::Serialize;
use serde_json::Value as Json;

/// The actions recorded, as stored (the UI words them in the reader's language).
pub const ACTIONS: &[&str] = &[
    "login",
    "login_failed",
    "entity_created",
    "entity_relabelled",
    "field_added",
    "field_changed",
    "field_retired",
    "field_restored",
    "layout_set",
    "role_saved",
    "user_created",
    "user_changed",
    "password_set",
    "plugin_installed",
    "plugin_install_refused",
    "plugin_enabled",
    "plugin_disabled",
    "plugin_rolled_back",
    "plugin_removed",
    "plugin_configured",
    "workflow_saved",
    "workflow_removed",
    "webhook_created",
    "webhook_changed",
    "webhook_secret_rotated",
    "webhook_removed",
    "api_token_issued",
    "api_token_revoked",
    "settings_changed",
];

/// One entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who (none: the system, the command line, or nobody signed in).
    pub actor: Option<i64>,
    /// Their username then.
    pub actor_name: String,
    /// The client's address, when known.
    pub address: String,
    /// One of [`ACTIONS`].
    pub action: String,
    /// What it was about: `customer.discount`, a username, a plugin id.
    pub target: String,
    /// The particulars, as JSON.
    pub detail: Json,
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// One action.
    pub action: Option<String>,
    /// One actor (user id).
    pub actor: Option<i64>,
    /// Text in the target, the actor's name, the address or the particulars.
    pub text: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// To this day, inclusive.
    pub to: Option<String>,
    /// Entries older than this id (paging, newest first).
    pub before: Option<i64>,
    /// At most this many (1–1,000; default 100).
    pub limit: Option<usize>,
}

/// Records an entry on the writer connection, inside the caller's transaction.
pub(crate) fn record(
    c: &Conn,
    actor: Option<i64>,
    address: &str,
    action: &str,
    target: &str,
    detail: &Json,
) -> Result<()> {
    debug_assert!(ACTIONS.contains(&action), "unknown audit action {action}");
    c.prepare_cached(
        "INSERT INTO audit_log (at, actor, actor_name, address, action, target, detail)
         VALUES (?1, ?2, COALESCE((SELECT c_username FROM r_user WHERE id = ?2), ''), ?3, ?4, ?5, ?6)",
    )?
    .execute((
        db::now_text(),
        actor,
        address,
        action,
        target,
        detail.to_string(),
    ))?;
    Ok(())
}

/// [`record`] for a change made with `access` (its user, no address).
pub(crate) fn by(
    c: &Conn,
    access: &Access,
    action: &str,
    target: &str,
    detail: &Json,
) -> Result<()> {
    record(c, access.user_id, "", action, target, detail)
}

/// A user's username (empty for an unknown id), for an entry's target.
pub(crate) fn username(c: &Conn, id: i64) -> Result<String> {
    use crate::db::OptionalExtension;
    Ok(
        c.prepare_cached("SELECT c_username FROM r_user WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten()
            .unwrap_or_default(),
    )
}

fn day(field: &str, v: &Option<String>) -> Result<Option<String>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| Some(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| Error::bad_param(field, Reason::NotDate)),
    }
}

impl Store {
    /// Records an event the host sees (a sign-in, a plugin operation) in its own transaction —
    /// or the current call's, inside one.
    pub fn audit(
        &self,
        actor: Option<i64>,
        address: &str,
        action: &str,
        target: &str,
        detail: &Json,
    ) -> Result<()> {
        if !ACTIONS.contains(&action) {
            return Err(Error::bad_param(
                "action",
                Reason::NotOption {
                    value: action.to_string(),
                    options: ACTIONS.iter().map(|a| a.to_string()).collect(),
                },
            ));
        }
        self.write(|c| record(c, actor, address, action, target, detail))
    }

    /// Entries matching `q`, newest first (administrators only).
    pub fn audit_entries(&self, access: &Access, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        access.require_admin()?;
        if let Some(a) = q.action.as_deref().filter(|a| !a.is_empty()) {
            if !ACTIONS.contains(&a) {
                return Err(Error::bad_param(
                    "action",
                    Reason::NotOption {
                        value: a.to_string(),
                        options: ACTIONS.iter().map(|a| a.to_string()).collect(),
                    },
                ));
            }
        }
        let from = day("from", &q.from)?;
        let to = day("to", &q.to)?.map(|d| format!("{d}T23:59:59.999999999Z"));
        let limit = q.limit.unwrap_or(100).clamp(1, 1000) as i64;
        let text = q
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                let escaped = t
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            });
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, actor, actor_name, address, action, target, detail FROM audit_log
                 WHERE (action = ?1 OR ?1 IS NULL)
                   AND (actor = ?2 OR ?2 IS NULL)
                   AND (target LIKE ?3 ESCAPE '\\' OR actor_name LIKE ?3 ESCAPE '\\'
                        OR address LIKE ?3 ESCAPE '\\' OR detail LIKE ?3 ESCAPE '\\' OR ?3 IS NULL)
                   AND (at >= ?4 OR ?4 IS NULL)
                   AND (at <= ?5 OR ?5 IS NULL)
                   AND (id < ?6 OR ?6 IS NULL)
                 ORDER BY id DESC LIMIT ?7",
            )?;
            let rows = stmt
                .query_map(
                    (
                        q.action.as_deref().filter(|a| !a.is_empty()),
                        q.actor,
                        text.as_deref(),
                        from.as_deref(),
                        to.as_deref(),
                        q.before,
                        limit,
                    ),
                    |r| {
                        let detail: String = r.get(7)?;
                        Ok(AuditEntry {
                            id: r.get(0)?,
                            at: r.get(1)?,
                            actor: r.get(2)?,
                            actor_name: r.get(3)?,
                            address: r.get(4)?,
                            action: r.get(5)?,
                            target: r.get(6)?,
                            detail: serde_json::from_str(&detail).unwrap_or(Json::Null),
                        })
                    },
                )?
                .collect::<crate::db::DbResult<_>>()?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreOptions;
    use serde_json::json;

    #[test]
    fn entries_are_found_and_never_edited() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap();
        s.audit(None, "10.0.0.7", "login_failed", "amy", &json!({}))
            .unwrap();
        s.audit(
            Some(1),
            "",
            "plugin_enabled",
            "sales",
            &json!({"version": "1.0.0"}),
        )
        .unwrap();
        assert!(s.audit(None, "", "made_up", "", &json!({})).is_err());
        let admin = Access::system();
        let all = s.audit_entries(&admin, &AuditQuery::default()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].action, "plugin_enabled", "newest first");
        let found = |q: AuditQuery| s.audit_entries(&admin, &q).unwrap().len();
        assert_eq!(
            found(AuditQuery {
                text: Some("10.0.0".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            found(AuditQuery {
                text: Some("%".into()),
                ..Default::default()
            }),
            0,
            "% is a character"
        );
        assert_eq!(
            found(AuditQuery {
                action: Some("login_failed".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            found(AuditQuery {
                before: Some(all[0].id),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            found(AuditQuery {
                to: Some("2000-01-01".into()),
                ..Default::default()
            }),
            0
        );
        assert!(s
            .audit_entries(
                &admin,
                &AuditQuery {
                    from: Some("yesterday".into()),
                    ..Default::default()
                }
            )
            .is_err());
        // Not even the database's own writer changes or deletes an entry.
        let edit = s.write(|c| {
            c.execute("UPDATE audit_log SET actor_name = 'someone else'", [])?;
            Ok(())
        });
        assert!(edit.unwrap_err().to_string().contains("never edited"));
        let delete = s.write(|c| {
            c.execute("DELETE FROM audit_log", [])?;
            Ok(())
        });
        assert!(delete.is_err());
        assert_eq!(
            s.audit_entries(&admin, &AuditQuery::default())
                .unwrap()
                .len(),
            2
        );
    }
}
