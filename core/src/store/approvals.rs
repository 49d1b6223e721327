//! Approvals of workflow transitions: who a step waits for (resolved when it begins, kept in
//! `approval_waiting` so "waiting for me" is one indexed read), decisions step by step (any or
//! all of a step's approvers; never the requester unless the step allows it), delegation while
//! away, and a history row for each request and decision. The last approval moves the state as
//! the core.

use super::Store;
use crate::db;
use crate::db::{Conn, OptionalExtension};
use crate::record::Record;
use crate::value::Value;
use crate::workflow::guard::People;
use crate::workflow::{ApprovalMode, ApprovalStep, Who};
use crate::{Access, Error, ListQuery, Reason, Result};
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

pub(super) fn read_approval(conn: &Conn, id: i64) -> Result<Option<Approval>> {
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
        .collect::<crate::db::DbResult<_>>()?;
    Ok(Some(a))
}

pub(super) fn history_note(
    conn: &Conn,
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
    /// Whether a user exists and is active.
    fn active_user(&self, id: i64) -> bool {
        self.get(&Access::system(), "user", id)
            .is_ok_and(|u| u.get("active") != &Value::Bool(false))
    }

    /// The active people `who` names for a record.
    fn resolve(&self, who: &[Who], r: &Record) -> Result<BTreeSet<i64>> {
        let named = self.named(who, r)?;
        Ok(named.into_iter().filter(|u| self.active_user(*u)).collect())
    }

    fn named(&self, who: &[Who], r: &Record) -> Result<BTreeSet<i64>> {
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
            let rows = self.read(|c| valid_waiting(c, a.id))?;
            let people: BTreeSet<i64> = rows.into_iter().map(|(u, _)| u).collect();
            a.waiting_for = people.into_iter().collect();
        }
        Ok(a)
    }

    /// Who a step waits for, as `(person, the approver they decide for)`: each approver (less
    /// the requester unless the step lets them approve their own request), and the delegate of
    /// each approver who is away (never the requester).
    pub(super) fn step_approvers(
        &self,
        step: &ApprovalStep,
        r: &Record,
        requester: Option<i64>,
    ) -> Result<BTreeSet<(i64, i64)>> {
        let mut people = self.resolve(&step.approvers, r)?;
        if !step.allow_self {
            if let Some(me) = requester {
                people.remove(&me);
            }
        }
        let delegates = self.active_delegates()?;
        let mut rows: BTreeSet<(i64, i64)> = people.iter().map(|p| (*p, *p)).collect();
        for p in &people {
            if let Some(d) = delegates.get(p) {
                if Some(*d) != requester && self.active_user(*d) {
                    rows.insert((*d, *p));
                }
            }
        }
        Ok(rows)
    }

    /// Approves or rejects the current step of an approval. The last approval makes the
    /// transition (as the core: the approvers need not be allowed to write the record). Checks
    /// and changes happen under the writer, so two approvers deciding at once are taken one
    /// after the other.
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
        let first = self
            .read(|c| read_approval(c, approval_id))?
            .filter(|a| a.status == "pending")
            .ok_or_else(|| Error::NotFound(format!("no pending approval {approval_id}")))?;
        let wf = self
            .workflow(&first.entity)
            .ok_or_else(|| Error::NotFound(format!("'{}' has no workflow", first.entity)))?;
        let t = wf
            .transition(&first.transition)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no transition '{}'", first.transition)))?;
        let field = wf.state_field.clone();
        let decision = if approve { "approve" } else { "reject" };
        // Read before taking the writer (reads inside it would need the writer's connection):
        // the record, and who the next step would wait for.
        let r = self.get(&Access::system(), &first.entity, first.record_id)?;
        let schema = self.schema();
        let next_people = match t.approval.get(first.step as usize + 1) {
            Some(next) => self.step_approvers(next, &r, first.requested_by)?,
            None => BTreeSet::new(),
        };
        // `Some(record)`: the last step approved, move the state; `Err` after the write: the
        // record left the state the approval was asked in, so the approval was cancelled.
        let mut moved_meanwhile = false;
        self.atomically(|| {
            let finish = self.write(|c| {
                let a = read_approval(c, approval_id)?
                    .filter(|a| a.status == "pending")
                    .ok_or_else(|| Error::NotFound(format!("no pending approval {approval_id}")))?;
                if a.step != first.step {
                    return Err(Error::conflict(
                        "the approval moved on meanwhile; open it again",
                    ));
                }
                let step = t
                    .approval
                    .get(a.step as usize)
                    .cloned()
                    .ok_or_else(|| Error::NotFound("the approval has no such step".into()))?;
                // The record as it is now, under the writer: a state change since `r` was read
                // cancels the approval rather than moving on from a stale copy.
                let now = schema
                    .entity(&a.entity)
                    .map(|e| super::records::load(c, e, a.record_id))
                    .transpose()?
                    .flatten();
                let state_now = now
                    .as_ref()
                    .and_then(|n| crate::workflow::guard::state_of(&wf, &n.values));
                if now.is_none() || state_now != a.from_state.as_deref() {
                    cancel(c, approval_id)?;
                    moved_meanwhile = true;
                    return Ok(None);
                }
                // An approval is for the transition as asked: if what it depends on changed
                // since (a claim's total grew past its band), approving it is refused.
                if let (true, Some(when), Some(n)) = (approve, t.when.as_ref(), now.as_ref()) {
                    if !when.holds(&n.values) {
                        return Err(Error::field("decision", Reason::ConditionChanged));
                    }
                }
                // Two steps are two people: whoever decided an earlier step (for themselves or
                // standing in for someone) does not decide a later one.
                if a
                    .decisions
                    .iter()
                    .any(|d| d.step < a.step && d.user_id == Some(me))
                {
                    return Err(Error::field("decision", Reason::NotApprover));
                }
                let rows = valid_waiting(c, approval_id)?;
                let acted_for: BTreeSet<i64> =
                    rows.iter().filter(|(u, _)| *u == me).map(|(_, f)| *f).collect();
                if acted_for.is_empty() {
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
                c.execute(
                    "INSERT INTO approval_decisions (approval_id, step, user_id, decision, comment, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    (approval_id, a.step, me, decision, comment, db::now_text()),
                )?;
                // Those decided for (and anyone standing in for them) wait no more.
                let left: BTreeSet<i64> = rows
                    .iter()
                    .map(|(_, f)| *f)
                    .filter(|f| !acted_for.contains(f))
                    .collect();
                let step_done = match step.mode {
                    ApprovalMode::Any => true,
                    ApprovalMode::All => left.is_empty(),
                };
                let last = a.step as usize + 1 >= t.approval.len();
                let (status, next) = match (approve, step_done, last) {
                    (false, _, _) => ("rejected", a.step),
                    (true, true, true) => ("approved", a.step),
                    (true, true, false) => ("pending", a.step + 1),
                    (true, false, _) => ("pending", a.step),
                };
                if status == "pending" && next == a.step {
                    for f in &acted_for {
                        c.execute(
                            "DELETE FROM approval_waiting WHERE approval_id = ?1 AND for_user = ?2",
                            (approval_id, f),
                        )?;
                    }
                } else if status == "pending" {
                    set_waiting(c, approval_id, &next_people)?;
                    tell_waiting(c, &next_people, &about(&r, &a.to_state))?;
                } else {
                    set_waiting(c, approval_id, &BTreeSet::new())?;
                    if let Some(requester) = a.requested_by {
                        let (mut params, link) = about(&r, &a.to_state);
                        params["by"] = json!(me);
                        params["comment"] = json!(comment);
                        let kind = if approve { "approval_approved" } else { "approval_rejected" };
                        crate::notifications::notify(c, requester, kind, &params, &link)?;
                    }
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
                Ok((status == "approved").then_some(now).flatten().map(|n| (n, a.to_state)))
            })?;
            if let Some((r, to)) = &finish {
                let patch = Map::from_iter([(field.clone(), Json::from(to.clone()))]);
                self.update(&Access::system(), &r.entity, r.id, r.version, &patch)?;
            }
            Ok(())
        })?;
        if moved_meanwhile {
            return Err(Error::conflict(
                "the record left the state this approval was asked in; the approval is cancelled",
            ));
        }
        let a = self
            .read(|c| read_approval(c, approval_id))?
            .ok_or_else(|| Error::Database("the approval vanished".into()))?;
        self.complete_approval(a)
    }

    /// The records of a type with an approval waiting for this person now (delegations
    /// included), at most 1,000.
    pub(crate) fn records_waiting_for(&self, access: &Access, entity: &str) -> Result<Vec<i64>> {
        let Some(me) = access.user_id else {
            return Ok(vec![]);
        };
        let today = chrono::Utc::now().date_naive().to_string();
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT DISTINCT a.record_id FROM approval_waiting w
                 JOIN approvals a ON a.id = w.approval_id
                 WHERE w.user_id = ?1 AND {VALID_ROW} AND a.entity = ?3 AND a.status = 'pending'
                 ORDER BY a.record_id LIMIT 1000"
            ))?;
            let ids = stmt
                .query_map((me, &today, entity), |r| r.get(0))?
                .collect::<crate::db::DbResult<_>>()?;
            Ok(ids)
        })
    }

    /// Pending approvals whose current step waits for this person (oldest first, at most
    /// 200).
    pub fn approvals_waiting_for(&self, access: &Access) -> Result<Vec<Approval>> {
        let Some(me) = access.user_id else {
            return Ok(vec![]);
        };
        let today = chrono::Utc::now().date_naive().to_string();
        let ids: Vec<i64> = self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT DISTINCT w.approval_id FROM approval_waiting w
                 WHERE w.user_id = ?1 AND {VALID_ROW} ORDER BY w.approval_id LIMIT 200"
            ))?;
            let ids = stmt
                .query_map((me, &today), |r| r.get(0))?
                .collect::<crate::db::DbResult<_>>()?;
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

/// A waiting row counts when it is the approver's own, or its delegation is still in effect
/// (`?2`: today).
const VALID_ROW: &str = "(w.user_id = w.for_user OR EXISTS (SELECT 1 FROM delegations d
     WHERE d.user_id = w.for_user AND d.delegate_id = w.user_id AND d.until >= ?2))";

/// Who an approval waits for now: `(person, the approver they decide for)`.
fn valid_waiting(c: &Conn, approval: i64) -> Result<BTreeSet<(i64, i64)>> {
    let today = chrono::Utc::now().date_naive().to_string();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT w.user_id, w.for_user FROM approval_waiting w WHERE w.approval_id = ?1 AND {VALID_ROW}"
    ))?;
    let rows = stmt
        .query_map((approval, &today), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::db::DbResult<_>>()?;
    Ok(rows)
}

/// Replaces who an approval waits for.
pub(super) fn set_waiting(c: &Conn, approval: i64, people: &BTreeSet<(i64, i64)>) -> Result<()> {
    c.prepare_cached("DELETE FROM approval_waiting WHERE approval_id = ?1")?
        .execute([approval])?;
    let mut insert = c.prepare_cached(
        "INSERT INTO approval_waiting (approval_id, user_id, for_user) VALUES (?1, ?2, ?3)",
    )?;
    for (p, f) in people {
        insert.execute((approval, p, f))?;
    }
    Ok(())
}

/// What a notification about an approval on `r` says: the record (by type and id — its title
/// is looked up when read, with the reader's access, so nothing of a record they may not read
/// is kept for them) and the state asked for.
pub(super) fn about(r: &Record, to: &str) -> (Json, String) {
    (
        json!({"entity": r.entity, "id": r.id, "to": to}),
        format!("/e/{}/{}", r.entity, r.id),
    )
}

/// Tells the people an approval now waits for.
pub(super) fn tell_waiting(
    c: &Conn,
    people: &BTreeSet<(i64, i64)>,
    about: &(Json, String),
) -> Result<()> {
    let users: BTreeSet<i64> = people.iter().map(|(u, _)| *u).collect();
    for u in users {
        crate::notifications::notify(c, u, "approval_waiting", &about.0, &about.1)?;
    }
    Ok(())
}

/// Cancels an approval: the record left the state it was asked in.
fn cancel(c: &Conn, approval: i64) -> Result<()> {
    set_waiting(c, approval, &BTreeSet::new())?;
    c.execute(
        "UPDATE approvals SET status = 'cancelled', decided_at = ?2 WHERE id = ?1",
        (approval, db::now_text()),
    )?;
    Ok(())
}

impl Store {
    /// Cancels a deleted record's pending approval: nobody waits for it any more.
    pub(super) fn cancel_approvals_of(&self, c: &Conn, entity: &str, id: i64) -> Result<()> {
        c.prepare_cached(
            "DELETE FROM approval_waiting WHERE approval_id IN
               (SELECT id FROM approvals WHERE entity = ?1 AND record_id = ?2 AND status = 'pending')",
        )?
        .execute((entity, id))?;
        c.prepare_cached(
            "UPDATE approvals SET status = 'cancelled', decided_at = ?3
             WHERE entity = ?1 AND record_id = ?2 AND status = 'pending'",
        )?
        .execute((entity, id, db::now_text()))?;
        Ok(())
    }
}
