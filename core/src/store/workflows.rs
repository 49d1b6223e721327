//! Workflows in the store: definitions (administrators set them per entity type, cached in
//! memory), the guard every write passes, and transitions made by people — at once, or by
//! asking for an approval (`approvals.rs` decides them).

use super::approvals::{
    about, history_note, read_approval, set_waiting, tell_waiting, StorePeople,
};
use super::Store;
use crate::db;
use crate::db::{Conn, OptionalExtension};
use crate::record::Record;
use crate::schema::Entity;
use crate::value::Value;
use crate::workflow::guard;
use crate::workflow::{Transition, Workflow};
use crate::{Access, Error, Reason, Result};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The workflows in effect, by entity type.
pub(super) type Workflows = Arc<BTreeMap<String, Arc<Workflow>>>;

/// A transition as a person sees it on a record.
#[derive(Debug, Clone, Serialize)]
pub struct OpenTransition {
    /// Machine name.
    pub name: String,
    /// Label in the viewer's language.
    pub label: String,
    /// The state it leads to.
    pub to: String,
    /// Whether it asks for approval rather than changing the state at once.
    pub needs_approval: bool,
}

pub use super::approvals::{Approval, Decision};

/// A record's workflow as its viewer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordWorkflow {
    pub state_field: String,
    pub state: Option<String>,
    /// Transitions the viewer may make now.
    pub transitions: Vec<OpenTransition>,
    /// The approval the record waits for, if any.
    pub pending: Option<Approval>,
    /// Every approval the record has had, newest first.
    pub approvals: Vec<Approval>,
}

/// What a transition did.
#[derive(Debug, Clone)]
pub enum TransitionOutcome {
    /// The state changed.
    Done(Record),
    /// An approval was asked for.
    Asked(Approval),
}

impl Store {
    /// Loads the workflows from the database into the cache.
    pub(super) fn load_workflows(&self) -> Result<()> {
        let defs: Vec<(String, String)> = self.read(|c| {
            let mut stmt = c.prepare("SELECT entity, definition FROM workflows")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<crate::db::DbResult<_>>()?;
            Ok(rows)
        })?;
        let mut map = BTreeMap::new();
        for (entity, text) in defs {
            match serde_json::from_str::<Workflow>(&text) {
                Ok(wf) => {
                    map.insert(entity, Arc::new(wf));
                }
                Err(e) => tracing::warn!(%entity, "a stored workflow does not parse: {e}"),
            }
        }
        *self.workflows.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
        Ok(())
    }

    /// The workflow of an entity type, if it has one.
    pub fn workflow(&self, entity: &str) -> Option<Arc<Workflow>> {
        self.workflows
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(entity)
            .cloned()
    }

    /// Every workflow, by entity type.
    pub fn workflows(&self) -> BTreeMap<String, Arc<Workflow>> {
        (**self.workflows.read().unwrap_or_else(|e| e.into_inner())).clone()
    }

    /// Sets (or replaces) an entity type's workflow: administrators only; checked against the
    /// entity type first.
    pub fn set_workflow(
        &self,
        access: &Access,
        entity: &str,
        definition: &Json,
    ) -> Result<Workflow> {
        if !access.is_admin() {
            return Err(Error::Forbidden(
                "only administrators define workflows".into(),
            ));
        }
        let schema = self.schema();
        let e = schema
            .entity(entity)
            .ok_or_else(|| Error::NotFound(format!("no entity type '{entity}'")))?;
        let wf = Workflow::from_json(definition)?;
        wf.validate(e)?;
        self.check_people(&wf)?;
        let text = serde_json::to_string(&wf).unwrap_or_default();
        self.write(|c| {
            // The definition it replaces, for the audit log: a weakened condition or a dropped
            // approval shows there, not only the transitions' names.
            let before: Option<String> = c
                .prepare_cached("SELECT definition FROM workflows WHERE entity = ?1")?
                .query_row([entity], |r| r.get(0))
                .optional()?;
            c.execute(
                "INSERT INTO workflows (entity, definition, updated_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (entity) DO UPDATE SET definition = excluded.definition,
                   updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                (entity, &text, access.user_id, db::now_text()),
            )?;
            let names: Vec<&str> = wf.transitions.iter().map(|t| t.name.as_str()).collect();
            crate::audit::by(
                c,
                access,
                "workflow_saved",
                entity,
                &serde_json::json!({
                    "state_field": wf.state_field,
                    "transitions": names,
                    "before": before.and_then(|t| serde_json::from_str::<Json>(&t).ok()),
                    "after": wf,
                }),
            )?;
            Ok(())
        })?;
        self.load_workflows()?;
        Ok(wf)
    }

    /// Every role and person a definition names exists: a step naming nobody real would keep
    /// its records pending for ever.
    fn check_people(&self, wf: &Workflow) -> Result<()> {
        let roles = self.roles();
        for t in &wf.transitions {
            let whos = t
                .who
                .iter()
                .chain(t.approval.iter().flat_map(|s| &s.approvers));
            for w in whos {
                let missing = match w {
                    crate::workflow::Who::Role(r) if !roles.iter().any(|x| &x.name == r) => {
                        format!("no role '{r}'")
                    }
                    crate::workflow::Who::User(u)
                        if !self
                            .get(&Access::system(), "user", *u)
                            .is_ok_and(|r| r.get("active") != &Value::Bool(false)) =>
                    {
                        format!("no active user {u}")
                    }
                    _ => continue,
                };
                return Err(Error::field(
                    "definition",
                    crate::reason::Reason::BadWorkflow {
                        detail: format!("transition '{}': {missing}", t.name),
                    },
                ));
            }
        }
        Ok(())
    }

    /// Removes an entity type's workflow (pending approvals are cancelled).
    pub fn remove_workflow(&self, access: &Access, entity: &str) -> Result<()> {
        if !access.is_admin() {
            return Err(Error::Forbidden(
                "only administrators define workflows".into(),
            ));
        }
        let n = self.write(|c| {
            c.execute(
                "DELETE FROM approval_waiting WHERE approval_id IN
                   (SELECT id FROM approvals WHERE entity = ?1 AND status = 'pending')",
                [entity],
            )?;
            c.execute(
                "UPDATE approvals SET status = 'cancelled', decided_at = ?2
                 WHERE entity = ?1 AND status = 'pending'",
                (entity, db::now_text()),
            )?;
            let n = c.execute("DELETE FROM workflows WHERE entity = ?1", [entity])?;
            if n > 0 {
                crate::audit::by(
                    c,
                    access,
                    "workflow_removed",
                    entity,
                    &serde_json::json!({}),
                )?;
            }
            Ok(n)
        })?;
        self.load_workflows()?;
        if n == 0 {
            return Err(Error::NotFound(format!("'{entity}' has no workflow")));
        }
        Ok(())
    }

    fn pending_approval_id(&self, conn: &Conn, entity: &str, id: i64) -> Result<Option<i64>> {
        Ok(conn
            .prepare_cached(
                "SELECT id FROM approvals WHERE entity = ?1 AND record_id = ?2 AND status = 'pending'",
            )?
            .query_row((entity, id), |r| r.get(0))
            .optional()?)
    }

    /// The guard every create and update passes (see [`crate::workflow::guard`]).
    pub(super) fn workflow_guard(
        &self,
        access: &Access,
        e: &Entity,
        current: Option<&Record>,
        owner: Option<i64>,
        values: &BTreeMap<String, Value>,
    ) -> Result<()> {
        let Some(wf) = self.workflow(&e.name) else {
            return Ok(());
        };
        if guard::exempt(access, e) {
            return Ok(());
        }
        // Only a workflow with approval steps can have an approval pending: the others pay
        // no read for it on every write.
        let asks = wf.transitions.iter().any(|t| !t.approval.is_empty());
        let pending = match current {
            Some(c) if asks => self
                .read(|conn| self.pending_approval_id(conn, &e.name, c.id))?
                .is_some(),
            _ => false,
        };
        // While an approval is pending the record is what the approvers decide on: nothing of
        // it changes until they have.
        if let (true, Some(c)) = (pending, current) {
            let changed: crate::FieldErrors = values
                .iter()
                .filter(|(k, v)| c.get(k) != *v)
                .map(|(k, _)| (k.clone(), Reason::ApprovalPending))
                .collect();
            if !changed.is_empty() {
                return Err(Error::validation(changed));
            }
        }
        let hidden = e.hidden_from(&access.role).unwrap_or_default();
        let errors = guard::check(
            &wf,
            access,
            current,
            owner,
            values,
            pending,
            &StorePeople(self),
            &hidden,
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(errors))
        }
    }

    /// The fields of an entity type hidden from the caller (see `Entity::hidden_from`).
    fn hidden_fields(&self, access: &Access, entity: &str) -> std::collections::BTreeSet<String> {
        self.schema()
            .entity(entity)
            .and_then(|e| e.hidden_from(&access.role))
            .unwrap_or_default()
    }

    /// A record's workflow for its viewer: state, the transitions open to them, approvals.
    pub fn record_workflow(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
    ) -> Result<Option<RecordWorkflow>> {
        let r = self.get_whole(access, entity, id)?;
        let Some(wf) = self.workflow(entity) else {
            return Ok(None);
        };
        let hidden = self.hidden_fields(access, entity);
        // A state field the caller's role hides stays hidden here too: no state, no
        // transitions (which states they lead from and to would tell it), no approvals' states.
        let state_hidden = hidden.contains(&wf.state_field);
        let state = guard::state_of(&wf, &r.values).map(str::to_string);
        let may_update = access.permission(entity).update && !state_hidden;
        let transitions = if may_update {
            guard::open_transitions(
                &wf,
                access,
                &guard::Before {
                    owner: r.owner,
                    values: &r.values,
                    hidden: &hidden,
                },
                state.as_deref(),
                &r.values,
                &StorePeople(self),
            )
            .into_iter()
            .filter(|t| Some(&t.to) != state.as_ref())
            .map(|t| OpenTransition {
                name: t.name.clone(),
                label: t.label.get(access.locale).to_string(),
                to: t.to.clone(),
                needs_approval: !t.approval.is_empty(),
            })
            .collect()
        } else {
            vec![]
        };
        let ids: Vec<i64> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id FROM approvals WHERE entity = ?1 AND record_id = ?2 ORDER BY id DESC",
            )?;
            let ids = stmt
                .query_map((entity, id), |r| r.get(0))?
                .collect::<crate::db::DbResult<_>>()?;
            Ok(ids)
        })?;
        let mut approvals = Vec::new();
        for a in ids {
            if let Some(a) = self.read(|c| read_approval(c, a))? {
                approvals.push(self.complete_approval(a)?);
            }
        }
        let pending = approvals.iter().find(|a| a.status == "pending").cloned();
        let (state, pending, approvals) = if state_hidden {
            let blank = |mut a: crate::store::approvals::Approval| {
                a.from_state = None;
                a.to_state = String::new();
                a.transition = String::new();
                a
            };
            (
                None,
                pending.map(blank),
                approvals.into_iter().map(blank).collect(),
            )
        } else {
            (state, pending, approvals)
        };
        Ok(Some(RecordWorkflow {
            state_field: wf.state_field.clone(),
            state,
            transitions: if pending.is_some() {
                vec![]
            } else {
                transitions
            },
            pending,
            approvals,
        }))
    }

    /// Makes a transition on a record: at once, or by asking for its approval.
    pub fn make_transition(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        version: i64,
        name: &str,
        comment: &str,
    ) -> Result<TransitionOutcome> {
        let wf = self
            .workflow(entity)
            .ok_or_else(|| Error::NotFound(format!("'{entity}' has no workflow")))?;
        let t: Transition = wf
            .transition(name)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no transition '{name}'")))?;
        let r = self.get_whole(access, entity, id)?;
        if !access.permission(entity).update {
            return Err(Error::Forbidden(format!("you may not update {entity}")));
        }
        if r.version != version {
            return Err(Error::StaleVersion {
                expected: version,
                current: r.version,
            });
        }
        let from = guard::state_of(&wf, &r.values).map(str::to_string);
        let mut after = r.values.clone();
        after.insert(wf.state_field.clone(), Value::Text(t.to.clone()));
        let hidden = self.hidden_fields(access, entity);
        if hidden.contains(&wf.state_field) {
            return Err(Error::Forbidden(format!(
                "'{entity}' moves through states your role does not see"
            )));
        }
        let open = guard::open_transitions(
            &wf,
            access,
            &guard::Before {
                owner: r.owner,
                values: &r.values,
                hidden: &hidden,
            },
            from.as_deref(),
            &after,
            &StorePeople(self),
        )
        .iter()
        .any(|o| o.name == t.name);
        if !open {
            return Err(Error::field(
                wf.state_field.clone(),
                Reason::NoTransition {
                    from: from.clone().unwrap_or_default(),
                    to: t.to.clone(),
                },
            ));
        }
        if t.approval.is_empty() {
            let patch = Map::from_iter([(wf.state_field.clone(), Json::from(t.to.clone()))]);
            return self
                .update(access, entity, id, version, &patch)
                .map(TransitionOutcome::Done);
        }
        // Asked for approval: the state's required fields must already be there.
        let missing: crate::FieldErrors = wf
            .rules(&t.to)
            .required
            .into_iter()
            .filter(|f| after.get(f).is_none_or(Value::is_null))
            .map(|f| (f, Reason::Required))
            .collect();
        if !missing.is_empty() {
            return Err(Error::validation(missing));
        }
        // Every step must have someone to decide it, or the record would wait for ever.
        let mut first = BTreeSet::new();
        for (n, step) in t.approval.iter().enumerate() {
            let people = self.step_approvers(step, &r, access.user_id)?;
            if people.is_empty() {
                return Err(Error::field(
                    wf.state_field.clone(),
                    Reason::NoApprover { step: n as i64 + 1 },
                ));
            }
            if n == 0 {
                first = people;
            }
        }
        let approval_id = self.write(|c| {
            if self.pending_approval_id(c, entity, id)?.is_some() {
                return Err(Error::field(wf.state_field.clone(), Reason::ApprovalPending));
            }
            c.execute(
                "INSERT INTO approvals (entity, record_id, transition, from_state, to_state, step,
                   status, requested_by, requested_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, 'pending', ?6, ?7)",
                (entity, id, &t.name, &from, &t.to, access.user_id, db::now_text()),
            )?;
            let approval = c.last_insert_rowid();
            set_waiting(c, approval, &first)?;
            tell_waiting(c, &first, &about(&r, &t.to))?;
            history_note(
                c,
                &r,
                "approval_requested",
                access.user_id,
                json!({(wf.state_field.clone()): [from, t.to], "comment": [Json::Null, comment]}),
            )?;
            Ok(approval)
        })?;
        let a = self
            .read(|c| read_approval(c, approval_id))?
            .ok_or_else(|| Error::Database("the approval vanished".into()))?;
        self.complete_approval(a).map(TransitionOutcome::Asked)
    }
}
