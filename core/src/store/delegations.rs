//! Delegation while away: someone decides a person's approvals — those waiting now and those
//! to come — until a day; ending it takes them back.

use super::Store;
use crate::db::OptionalExtension;
use crate::value::Value;
use crate::{Access, Error, Reason, Result};
use serde::Serialize;

/// A person's delegation while away.
#[derive(Debug, Clone, Serialize)]
pub struct Delegation {
    /// Who decides in their place.
    pub delegate: i64,
    /// The last day (inclusive, UTC).
    pub until: String,
}

impl Store {
    /// Delegates (person → delegate) in effect today.
    pub(super) fn active_delegates(&self) -> Result<std::collections::BTreeMap<i64, i64>> {
        let today = chrono::Utc::now().date_naive().to_string();
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT user_id, delegate_id FROM delegations WHERE until >= ?1")?;
            let map = stmt
                .query_map([&today], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<crate::db::DbResult<_>>()?;
            Ok(map)
        })
    }

    /// The caller's delegation, if any is in effect.
    pub fn delegation(&self, access: &Access) -> Result<Option<Delegation>> {
        let Some(me) = access.user_id else {
            return Ok(None);
        };
        let today = chrono::Utc::now().date_naive().to_string();
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT delegate_id, until FROM delegations WHERE user_id = ?1 AND until >= ?2",
            )?
            .query_row((me, &today), |r| {
                Ok(Delegation {
                    delegate: r.get(0)?,
                    until: r.get(1)?,
                })
            })
            .optional()?)
        })
    }

    /// While the caller is away (until `until`, inclusive), `delegate` decides their approvals
    /// too — those waiting now and those to come; `None` ends the delegation.
    pub fn set_delegation(&self, access: &Access, delegation: Option<(i64, &str)>) -> Result<()> {
        let me = access
            .user_id
            .ok_or_else(|| Error::Forbidden("delegations are people's".into()))?;
        let Some((delegate, until)) = delegation else {
            return self.write(|c| {
                c.execute("DELETE FROM delegations WHERE user_id = ?1", [me])?;
                c.execute(
                    "DELETE FROM approval_waiting WHERE for_user = ?1 AND user_id <> ?1",
                    [me],
                )?;
                Ok(())
            });
        };
        let day = crate::value::parse_date(until)
            .ok_or_else(|| Error::field("until", Reason::NotDate))?;
        let today = chrono::Utc::now().date_naive();
        if day < today {
            return Err(Error::field(
                "until",
                Reason::AtLeast {
                    min: today.to_string(),
                },
            ));
        }
        let person = self.get(&Access::system(), "user", delegate).ok();
        let active = person.is_some_and(|p| p.get("active") != &Value::Bool(false));
        if !active || delegate == me {
            return Err(Error::field("delegate", Reason::NotUserId));
        }
        self.write(|c| {
            c.execute(
                "INSERT INTO delegations (user_id, delegate_id, until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id) DO UPDATE SET delegate_id = excluded.delegate_id,
                   until = excluded.until",
                (me, delegate, day.to_string()),
            )?;
            // The delegate joins what waits for this person now — never a request of their own.
            c.execute(
                "DELETE FROM approval_waiting WHERE for_user = ?1 AND user_id <> ?1",
                [me],
            )?;
            c.execute(
                "INSERT OR IGNORE INTO approval_waiting (approval_id, user_id, for_user)
                 SELECT w.approval_id, ?2, ?1 FROM approval_waiting w
                 JOIN approvals a ON a.id = w.approval_id
                 WHERE w.user_id = ?1 AND w.for_user = ?1 AND a.requested_by IS NOT ?2",
                (me, delegate),
            )?;
            Ok(())
        })
    }
}
