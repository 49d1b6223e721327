//! Workflows an administrator defines for an entity type without code: the states (values of
//! one select field), the transitions between them (who may make each, on what condition, with
//! which approval steps), the fields a state requires and the fields it locks. The store checks
//! every write against them ([`guard`]); approvals live in the store's `approvals` tables.

mod condition;
pub(crate) mod guard;

pub use condition::{Compare, Condition};

use crate::schema::{Entity, FieldType, Label};
use crate::{Error, Reason, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A workflow for one entity type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// The select field holding the state.
    pub state_field: String,
    /// The state a new record starts in (set when a create names none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<String>,
    /// Per state: fields required on entering it and fields locked while in it.
    #[serde(default)]
    pub states: BTreeMap<String, StateRules>,
    /// The transitions; a change of the state field must be one of them.
    pub transitions: Vec<Transition>,
}

/// What a state asks of a record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRules {
    /// Fields that must have a value when a record enters the state.
    #[serde(default)]
    pub required: Vec<String>,
    /// Fields that cannot change while a record is in the state.
    #[serde(default)]
    pub locked: Vec<String>,
}

/// One way from some states to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// Machine name, unique in the workflow (`submit`, `approve_discount`).
    pub name: String,
    /// The button's label.
    pub label: Label,
    /// The states it leaves from; empty: any state (including none).
    #[serde(default)]
    pub from: Vec<String>,
    /// The state it leads to.
    pub to: String,
    /// Who may make it; empty: anyone who may update the record.
    #[serde(default)]
    pub who: Vec<Who>,
    /// A condition on the record (after the change) that must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Approval steps, one after the other; the record keeps its state until the last
    /// approves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval: Vec<ApprovalStep>,
}

impl Transition {
    /// The fields that decide whether it is open: those its condition reads and the user
    /// fields naming who may make it.
    pub fn reads(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(c) = &self.when {
            c.fields(&mut out);
        }
        for w in &self.who {
            if let Who::UserField(f) = w {
                out.push(f.as_str());
            }
        }
        out
    }
}

/// A person or group, relative to a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// Anyone with this role.
    Role(String),
    /// This user.
    User(i64),
    /// The record's owner.
    Owner,
    /// The manager of the record's owner.
    OwnerManager,
    /// The user a user field of the record names.
    UserField(String),
}

/// One approval step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalStep {
    /// Who approves.
    pub approvers: Vec<Who>,
    /// `any`: one approval suffices; `all`: every approver must approve.
    #[serde(default)]
    pub mode: ApprovalMode,
    /// Whether the person who asked may approve their own request.
    #[serde(default)]
    pub allow_self: bool,
}

/// How many approvers a step needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// One approval.
    #[default]
    Any,
    /// Every approver's.
    All,
}

impl Workflow {
    /// Parses a definition from JSON, with the reason in `definition` when it is not one.
    pub fn from_json(json: &serde_json::Value) -> Result<Workflow> {
        serde_json::from_value(json.clone()).map_err(|e| {
            Error::field(
                "definition",
                Reason::BadWorkflow {
                    detail: e.to_string(),
                },
            )
        })
    }

    /// Checks the definition against the entity type: the state field is a select, every
    /// state is one of its options, every field named exists, names are unique.
    pub fn validate(&self, e: &Entity) -> Result<()> {
        let bad = |detail: String| Err(Error::field("definition", Reason::BadWorkflow { detail }));
        let Some(state) = e.field(&self.state_field) else {
            return bad(format!(
                "'{}' is not a field of {}",
                self.state_field, e.name
            ));
        };
        if state.def.kind != FieldType::Select {
            return bad(format!("'{}' is not a select field", self.state_field));
        }
        let options: Vec<&str> = state.def.options.iter().map(|o| o.value.as_str()).collect();
        let known_state = |s: &str| options.contains(&s);
        let mut named: Vec<&str> = self.states.keys().map(String::as_str).collect();
        named.extend(self.initial.as_deref());
        for t in &self.transitions {
            named.extend(t.from.iter().map(String::as_str));
            named.push(&t.to);
        }
        if let Some(s) = named.into_iter().find(|s| !known_state(s)) {
            return bad(format!("'{s}' is not an option of '{}'", self.state_field));
        }
        let field_named = |f: &str| e.field(f).is_some_and(|f| !f.retired);
        for (state, rules) in &self.states {
            if let Some(f) = rules
                .required
                .iter()
                .chain(&rules.locked)
                .find(|f| !field_named(f))
            {
                return bad(format!("state '{state}' names no field '{f}'"));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for t in &self.transitions {
            if t.name.is_empty() || !names.insert(t.name.as_str()) {
                return bad(format!(
                    "transition names must be unique and not empty: '{}'",
                    t.name
                ));
            }
            // Names travel in addresses (`/transitions/{name}`) and page attributes.
            if crate::schema::check_name(&t.name).is_err() {
                return bad(format!(
                    "transition '{}': a name is a-z, 0-9 and _, starting with a letter (at most 40)",
                    t.name
                ));
            }
            if let Some(c) = &t.when {
                c.validate(e)
                    .or_else(|detail| bad(format!("transition '{}': {detail}", t.name)))?;
            }
            let whos = t
                .who
                .iter()
                .chain(t.approval.iter().flat_map(|s| &s.approvers));
            for w in whos {
                if let Who::UserField(f) = w {
                    if e.field(f).is_none_or(|f| f.def.kind != FieldType::User) {
                        return bad(format!(
                            "transition '{}': '{f}' is not a user field",
                            t.name
                        ));
                    }
                }
            }
            if t.approval.iter().any(|s| s.approvers.is_empty()) {
                return bad(format!(
                    "transition '{}': an approval step names no approver",
                    t.name
                ));
            }
        }
        Ok(())
    }

    /// A transition by name.
    pub fn transition(&self, name: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.name == name)
    }

    /// The rules of a state (none when it has none).
    pub fn rules(&self, state: &str) -> StateRules {
        self.states.get(state).cloned().unwrap_or_default()
    }
}

impl Transition {
    /// Whether it leaves from `state` (`None`: the record has no state yet).
    pub fn leaves(&self, state: Option<&str>) -> bool {
        self.from.is_empty() || state.is_some_and(|s| self.from.iter().any(|f| f == s))
    }
}
