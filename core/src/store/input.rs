//! Input of a write read against its entity type: typed values, an owner change, required
//! fields and the rules the core enforces on its own entity types.

use super::Store;
use crate::schema::Entity;
use crate::value::Value;
use crate::{Access, Error, FieldErrors, Reason, Result};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// Input parsed against an entity: field values and an optional owner change.
pub(super) struct Parsed {
    pub(super) values: BTreeMap<String, Value>,
    pub(super) owner: Option<Option<i64>>,
}

pub(super) fn parse_input(e: &Entity, input: &Map<String, Json>) -> Result<Parsed> {
    let mut errors = FieldErrors::new();
    let mut values = BTreeMap::new();
    let mut owner = None;
    for (k, v) in input {
        if k == "owner" {
            match v {
                Json::Null => owner = Some(None),
                Json::Number(n) if n.as_i64().is_some_and(|i| i > 0) => owner = Some(n.as_i64()),
                _ => {
                    errors.insert(k.clone(), Reason::NotUserId);
                }
            }
            continue;
        }
        if crate::schema::validate_system_column(k) {
            errors.insert(k.clone(), Reason::SystemColumn);
            continue;
        }
        let Some(f) = e.field(k) else {
            errors.insert(
                k.clone(),
                Reason::NoField {
                    entity: e.name.clone(),
                    field: k.clone(),
                },
            );
            continue;
        };
        if f.retired {
            errors.insert(k.clone(), Reason::Retired);
            continue;
        }
        match Value::from_json(&f.def, v) {
            Ok(val) => {
                values.insert(k.clone(), val);
            }
            Err(why) => {
                errors.insert(k.clone(), why);
            }
        }
    }
    if errors.is_empty() {
        Ok(Parsed { values, owner })
    } else {
        Err(Error::validation(errors))
    }
}

pub(super) fn to_map(values: &BTreeMap<String, Value>) -> Map<String, Json> {
    values
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect()
}

pub(super) fn check_required(e: &Entity, values: &BTreeMap<String, Value>) -> Result<()> {
    let mut errors = FieldErrors::new();
    for f in &e.fields {
        let missing = values.get(&f.def.name).is_none_or(Value::is_null);
        if f.def.required && !f.hidden && !f.retired && missing {
            errors.insert(f.def.name.clone(), Reason::Required);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(errors))
    }
}

/// Rules the core enforces on its own entity types.
pub(super) fn core_rules(
    store: &Store,
    access: &Access,
    e: &Entity,
    changed: &BTreeMap<String, Value>,
) -> Result<()> {
    if e.name == "user" {
        if let Some(role) = changed.get("role") {
            if access.user_id.is_some() && !access.is_admin() {
                return Err(Error::Forbidden(
                    "only administrators may change roles".into(),
                ));
            }
            if let Value::Text(r) = role {
                if store.role(r).is_none() {
                    return Err(Error::field("role", Reason::NoRole { role: r.clone() }));
                }
            }
        }
    }
    Ok(())
}
