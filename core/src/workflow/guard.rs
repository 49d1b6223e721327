//! The check every record write passes when its entity type has a workflow: a change of the
//! state field must be a transition the writer may make (its condition holding, no approval
//! needed), a state's locked fields stay, a state's required fields are filled on entering it.
//! Only the core itself and the plugin that declares the type (its own rules) write past it.

use super::{Transition, Who, Workflow};
use crate::error::FieldErrors;
use crate::record::Record;
use crate::schema::{Entity, Origin};
use crate::value::Value;
use crate::{Access, Reason};
use std::collections::BTreeMap;

/// What the guard needs to know about people: a user's manager.
pub(crate) trait People {
    /// The manager of a user, if any.
    fn manager_of(&self, user: i64) -> Option<i64>;
}

/// Whether a write by `access` is outside workflows: the core's own writes and the declaring
/// plugin's.
pub(crate) fn exempt(access: &Access, e: &Entity) -> bool {
    if access.user_id.is_none() && access.role.name == "system" {
        return true;
    }
    matches!((&e.origin, access.plugin()), (Origin::Plugin(p), Some(q)) if p == q)
}

/// The state a record is in.
pub(crate) fn state_of<'a>(wf: &Workflow, values: &'a BTreeMap<String, Value>) -> Option<&'a str> {
    match values.get(&wf.state_field) {
        Some(Value::Text(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// Whether `who` includes the acting user, for a record with these owner and values.
pub(crate) fn matches(
    who: &[Who],
    access: &Access,
    owner: Option<i64>,
    values: &BTreeMap<String, Value>,
    people: &dyn People,
) -> bool {
    let Some(me) = access.user_id else {
        return false;
    };
    who.is_empty()
        || who.iter().any(|w| match w {
            Who::Role(r) => access.role.name == *r,
            Who::User(u) => *u == me,
            Who::Owner => owner == Some(me),
            Who::OwnerManager => owner.and_then(|o| people.manager_of(o)) == Some(me),
            Who::UserField(f) => values.get(f) == Some(&Value::Ref(me)),
        })
}

/// The record as it stands before a write: who may move it is decided on this (its owner and
/// user fields now), so that one write cannot make the writer eligible and move the state.
pub(crate) struct Before<'a> {
    pub owner: Option<i64>,
    pub values: &'a BTreeMap<String, Value>,
    /// The fields hidden from the caller (see `Entity::hidden_from`).
    pub hidden: &'a std::collections::BTreeSet<String>,
}

/// The transitions leaving `from` the writer may make: who on the record `before` the write,
/// the condition on the record after it (`values`).
pub(crate) fn open_transitions<'a>(
    wf: &'a Workflow,
    access: &Access,
    before: &Before<'_>,
    from: Option<&str>,
    values: &BTreeMap<String, Value>,
    people: &dyn People,
) -> Vec<&'a Transition> {
    wf.transitions
        .iter()
        .filter(|t| t.leaves(from))
        // A transition decided by a field hidden from the caller is not theirs to make:
        // whether it is open would tell them about the field.
        .filter(|t| !t.reads().iter().any(|f| before.hidden.contains(*f)))
        .filter(|t| matches(&t.who, access, before.owner, before.values, people))
        .filter(|t| t.when.as_ref().is_none_or(|c| c.holds(values)))
        .collect()
}

/// Checks a write of `values` (the whole record after the write) over `current` (none for a
/// create); `pending`: whether the record waits for an approval. Field reasons, or none.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check(
    wf: &Workflow,
    access: &Access,
    current: Option<&Record>,
    owner: Option<i64>,
    values: &BTreeMap<String, Value>,
    pending: bool,
    people: &dyn People,
    hidden: &std::collections::BTreeSet<String>,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let from = current.and_then(|c| state_of(wf, &c.values));
    let to = state_of(wf, values);
    if let (Some(c), Some(state)) = (current, from) {
        for f in wf.rules(state).locked {
            if f != wf.state_field && values.get(&f).unwrap_or(&Value::Null) != c.get(&f) {
                errors.insert(
                    f,
                    Reason::LockedInState {
                        state: state.to_string(),
                    },
                );
            }
        }
    }
    let moved = from != to;
    let creating_in_initial = current.is_none() && (to.is_none() || to == wf.initial.as_deref());
    if moved && !creating_in_initial {
        let field = wf.state_field.clone();
        if pending {
            errors.insert(field, Reason::ApprovalPending);
            return errors;
        }
        let Some(to_state) = to else {
            errors.insert(
                field,
                Reason::NoTransition {
                    from: from.unwrap_or("").into(),
                    to: String::new(),
                },
            );
            return errors;
        };
        let before = match current {
            Some(c) => Before {
                owner: c.owner,
                values: &c.values,
                hidden,
            },
            None => Before {
                owner,
                values,
                hidden,
            },
        };
        let open: Vec<&Transition> = open_transitions(wf, access, &before, from, values, people)
            .into_iter()
            .filter(|t| t.to == to_state)
            .collect();
        if open.is_empty() {
            errors.insert(
                field,
                Reason::NoTransition {
                    from: from.unwrap_or("").into(),
                    to: to_state.into(),
                },
            );
            return errors;
        }
        if open.iter().all(|t| !t.approval.is_empty()) {
            errors.insert(
                field,
                Reason::NeedsApproval {
                    transition: open[0].label.en.clone(),
                },
            );
            return errors;
        }
    }
    if let Some(state) = to.filter(|_| moved || current.is_none()) {
        for f in wf.rules(state).required {
            if values.get(&f).is_none_or(Value::is_null) {
                errors.insert(f, Reason::Required);
            }
        }
    }
    errors
}
