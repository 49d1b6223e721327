//! Approvals of workflow transitions: who a step waits for (resolved when it begins, kept in
//! `approval_waiting` so "waiting for me" is one indexed read), decisions step by step (any or
//! all of a step's approvers; never the requester unless the step allows it), delegation while
//! away, and a history row for each request and decision. The last approval moves the state as
//! the core.

use super::Store;
use crate::db;
use crate::record::Record;
use crate::value::Value;
use crate::workflow::guard::People;
use crate::workflow::{ApprovalMode, ApprovalStep, Who};
use crate::{Access, Error, ListQuery, Reason, Result};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeSet;

/// An approval, as shown on its record and in "waiting for me".
#[derive(Debug, Clone, Serialize)]
pub struct Approval {
    pub id: i64,
    pub entity: String,
    pub record_id: i64,
    pub transition: String,
    pub from_state: Option<String>,
    pub to_state: String,
    /// The current step (0-based) while pending.
    pub step: i64,
    pub steps: i64,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub requested_by: Option<i64>,
    pub requested_at: String,
    /// Who may decide the current step and has not yet.
    pub waiting_for: Vec<i64>,
    /// Every decision so far.
    pub decisions: Vec<Decision>,
}

/// One approver's decision.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub step: i64,
    pub user_id: Option<i64>,
    /// `approve` or `reject`.
    pub decision: String,
    pub comment: String,
    pub at: String,
}

pub(super) struct StorePeople<'a>(pub(super) &'a Store);

impl People for StorePeople<'_> {
    fn manager_of(&self, user: i64) -> Option<i64> {
        let r = self.0.get(&Access::system(), "user", user).ok()?;
        match r.get("manager") {
            Value::Ref(m) => Some(*m),
            _ => None,
        }
    }
}

pub(super) fn read_approval(conn: &Connection, id: i64) -> Result<Option<Approval>> {
    let row = conn
        .prepare_cached(
            "SELECT id, entity, record_id, transition, from_state, to_state, step, status,
                    requested_by, requested_at FROM approvals WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Approval {
                id: r.get(0)?,
                entity: r.get(1)?,
                record_id: r.get(2)?,
                transition: r.get(3)?,
                from_state: r.get(4)?,
                to_state: r.get(5)?,
                step: r.get(6)?,
                steps: 0,
                status: r.get(7)?,
                requested_by: r.get(8)?,
                requested_at: r.get(9)?,
                waiting_for: vec![],
                decisions: vec![],
            })
        })
        .optional()?;
    let Some(mut a) = row else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT step, user_id, decision, comment, at FROM approval_decisions
         WHERE approval_id = ?1 ORDER BY id",
    )?;
    a.decisions = stmt
        .query_map([id], |r| {
            Ok(Decision {
                step: r.get(0)?,
                user_id: r.get(1)?,
                decision: r.get(2)?,
                comment: r.get(3)?,
                at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(a))
}

pub(super) fn history_note(
    conn: &Connection,
    r: &Record,
    action: &str,
    user: Option<i64>,
    changes: Json,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO history (entity, record_id, version, action, user_id, at, changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute((
        &r.entity,
        r.id,
        r.version,
        action,
        user,
        db::now_text(),
        changes.to_string(),
    ))?;
    Ok(())
}

impl Store {
    /// The people `who` names for a record, asked for by `requester`.
    fn resolve(&self, who: &[Who], r: &Record) -> Result<BTreeSet<i64>> {
        let mut out = BTreeSet::new();
        for w in who {
            match w {
                Who::User(u) => {
                    out.insert(*u);
                }
                Who::Owner => out.extend(r.owner),
                Who::OwnerManager => {
                    out.extend(r.owner.and_then(|o| StorePeople(self).manager_of(o)));
                }
                Who::UserField(f) => {
                    if let Value::Ref(u) = r.get(f) {
                        out.insert(*u);
                    }
                }
                Who::Role(role) => {
                    let q = ListQuery::from_pairs([("role", role.as_str()), ("limit", "200")])?;
                    for u in self.list(&Access::system(), "user", &q)?.items {
                        if u.get("active") != &Value::Bool(false) {
                            out.insert(u.id);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Fills in an approval's step count and who the current step waits for.
    pub(super) fn complete_approval(&self, mut a: Approval) -> Result<Approval> {
        let wf = self.workflow(&a.entity);
        let t = wf.as_ref().and_then(|wf| wf.transition(&a.transition));
        a.steps = t.map(|t| t.approval.len() as i64).unwrap_or(0);
        if a.status == "pending" {
            a.waiting_for = self.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT user_id FROM approval_waiting WHERE approval_id = ?1 ORDER BY user_id",
                )?;
                let ids = stmt
                    .query_map([a.id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(ids)
            })?;
        }
        Ok(a)
    }

    /// The people a step waits for: its approvers, less the requester unless the step lets
    /// them approve their own request.
    pub(super) fn step_approvers(
        &self,
        step: &ApprovalStep,
        r: &Record,
        requester: Option<i64>,
    ) -> Result<BTreeSet<i64>> {
        let mut people = self.resolve(&step.approvers, r)?;
        if !step.allow_self {
            if let Some(me) = requester {
                people.remove(&me);
            }
        }
        // Whoever is away is joined by their delegate.
        let delegates = self.active_delegates()?;
        let extra: Vec<i64> = people
            .iter()
            .filter_map(|p| delegates.get(p).copied())
            .filter(|d| step.allow_self || Some(*d) != requester)
            .collect();
        people.extend(extra);
        Ok(people)
    }

    /// Approves or rejects the current step of an approval. The last approval makes the
    /// transition (as the core: the approvers need not be allowed to write the record).
    pub fn decide_approval(
        &self,
        access: &Access,
        approval_id: i64,
        approve: bool,
        comment: &str,
    ) -> Result<Approval> {
        let me = access
            .user_id
            .ok_or_else(|| Error::Forbidden("approvals are decided by people".into()))?;
        let a = self
            .read(|c| read_approval(c, approval_id))?
            .filter(|a| a.status == "pending")
            .ok_or_else(|| Error::NotFound(format!("no pending approval {approval_id}")))?;
        let wf = self
            .workflow(&a.entity)
            .ok_or_else(|| Error::NotFound(format!("'{}' has no workflow", a.entity)))?;
        let t = wf
            .transition(&a.transition)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no transition '{}'", a.transition)))?;
        let step = t
            .approval
            .get(a.step as usize)
            .cloned()
            .ok_or_else(|| Error::NotFound("the approval has no such step".into()))?;
        let r = self.get(&Access::system(), &a.entity, a.record_id)?;
        let waiting = self.complete_approval(a.clone())?.waiting_for;
        if !waiting.contains(&me) {
            let already = a
                .decisions
                .iter()
                .any(|d| d.step == a.step && d.user_id == Some(me));
            return Err(if already {
                Error::conflict("you have decided this step already")
            } else if Some(me) == a.requested_by && !step.allow_self {
                Error::field("decision", Reason::SelfApproval)
            } else {
                Error::field("decision", Reason::NotApprover)
            });
        }
        let decision = if approve { "approve" } else { "reject" };
        // A delegate decides for the people they stand in for, as well as for themselves.
        let delegates = self.active_delegates()?;
        let decided_for: BTreeSet<i64> = waiting
            .iter()
            .copied()
            .filter(|u| *u == me || delegates.get(u) == Some(&me))
            .collect();
        let step_done = match step.mode {
            ApprovalMode::Any => true,
            ApprovalMode::All => waiting.iter().all(|u| decided_for.contains(u)),
        };
        let last = a.step as usize + 1 >= t.approval.len();
        let next_people = match t.approval.get(a.step as usize + 1) {
            Some(next) if approve && step_done => self.step_approvers(next, &r, a.requested_by)?,
            _ => BTreeSet::new(),
        };
        let field = wf.state_field.clone();
        self.atomically(|| {
            self.write(|c| {
                c.execute(
                    "INSERT INTO approval_decisions (approval_id, step, user_id, decision, comment, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    (approval_id, a.step, me, decision, comment, db::now_text()),
                )?;
                let (status, next) = match (approve, step_done, last) {
                    (false, _, _) => ("rejected", a.step),
                    (true, true, true) => ("approved", a.step),
                    (true, true, false) => ("pending", a.step + 1),
                    (true, false, _) => ("pending", a.step),
                };
                match (status, next == a.step) {
                    ("pending", true) => {
                        for u in &decided_for {
                            c.execute(
                                "DELETE FROM approval_waiting WHERE approval_id = ?1 AND user_id = ?2",
                                (approval_id, u),
                            )?;
                        }
                    }
                    ("pending", false) => set_waiting(c, approval_id, &next_people)?,
                    _ => set_waiting(c, approval_id, &BTreeSet::new())?,
                }
                c.execute(
                    "UPDATE approvals SET status = ?2, step = ?3,
                       decided_at = CASE WHEN ?2 = 'pending' THEN NULL ELSE ?4 END WHERE id = ?1",
                    (approval_id, status, next, db::now_text()),
                )?;
                history_note(
                    c,
                    &r,
                    if approve { "approved" } else { "rejected" },
                    Some(me),
                    json!({"step": [Json::Null, a.step + 1], "comment": [Json::Null, comment]}),
                )?;
                Ok(())
            })?;
            if approve && step_done && last {
                let patch = Map::from_iter([(field.clone(), Json::from(a.to_state.clone()))]);
                let system = Access::system();
                self.update(&system, &a.entity, a.record_id, r.version, &patch)?;
            }
            Ok(())
        })?;
        let a = self
            .read(|c| read_approval(c, approval_id))?
            .ok_or_else(|| Error::Database("the approval vanished".into()))?;
        self.complete_approval(a)
    }

    /// Pending approvals whose current step waits for this person (oldest first, at most
    /// 200).
    pub fn approvals_waiting_for(&self, access: &Access) -> Result<Vec<Approval>> {
        let Some(me) = access.user_id else {
            return Ok(vec![]);
        };
        let ids: Vec<i64> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT approval_id FROM approval_waiting WHERE user_id = ?1
                 ORDER BY approval_id LIMIT 200",
            )?;
            let ids = stmt
                .query_map([me], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(a) = self.read(|c| read_approval(c, id))? {
                out.push(self.complete_approval(a)?);
            }
        }
        Ok(out)
    }
}

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
    fn active_delegates(&self) -> Result<std::collections::BTreeMap<i64, i64>> {
        let today = chrono::Utc::now().date_naive().to_string();
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT user_id, delegate_id FROM delegations WHERE until >= ?1")?;
            let map = stmt
                .query_map([&today], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
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
            c.execute(
                "INSERT OR IGNORE INTO approval_waiting (approval_id, user_id)
                 SELECT approval_id, ?2 FROM approval_waiting WHERE user_id = ?1",
                (me, delegate),
            )?;
            Ok(())
        })
    }
}

/// Replaces who an approval waits for.
pub(super) fn set_waiting(c: &Connection, approval: i64, people: &BTreeSet<i64>) -> Result<()> {
    c.prepare_cached("DELETE FROM approval_waiting WHERE approval_id = ?1")?
        .execute([approval])?;
    let mut insert =
        c.prepare_cached("INSERT INTO approval_waiting (approval_id, user_id) VALUES (?1, ?2)")?;
    for p in people {
        insert.execute((approval, p))?;
    }
    Ok(())
}
