//! Input of a write read against its entity type: typed values, an owner change, required
//! fields and the rules the core enforces on its own entity types.

use super::Store;
use crate::record::Record;
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

/// Reads input against an entity; every field that does not fit is reported at once.
pub(super) fn parse_input(e: &Entity, input: &Map<String, Json>) -> Result<Parsed> {
    let (parsed, errors) = parse_collect(e, input);
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(Error::validation(errors))
    }
}

/// Reads the input of a write whose record would otherwise hold `base` (the current values on
/// an update, nothing on a create). Refused input is reported with everything else wrong with
/// it in one go: each value that does not fit its field, and each required field that would
/// be left empty — so a form is not corrected in rounds.
pub(super) fn parse_write(
    e: &Entity,
    input: &Map<String, Json>,
    base: &BTreeMap<String, Value>,
) -> Result<Parsed> {
    let (parsed, mut errors) = parse_collect(e, input);
    // Made by the system (numbered, computed): a write may repeat the value, never change it.
    for (name, value) in &parsed.values {
        let had = base.get(name).unwrap_or(&Value::Null);
        if e.field(name).is_some_and(|f| f.def.computed()) && value != had {
            errors.insert(name.clone(), Reason::SystemColumn);
        }
    }
    if errors.is_empty() {
        return Ok(parsed);
    }
    let mut would_be = base.clone();
    would_be.extend(parsed.values);
    for (field, why) in missing_required(e, &would_be) {
        errors.entry(field).or_insert(why);
    }
    Err(Error::validation(errors))
}

/// The values that fit and the reasons of those that do not.
fn parse_collect(e: &Entity, input: &Map<String, Json>) -> (Parsed, FieldErrors) {
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
    (Parsed { values, owner }, errors)
}

pub(super) fn to_map(values: &BTreeMap<String, Value>) -> Map<String, Json> {
    values
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect()
}

/// Gives each field left empty on a create its default value, if it has one (visible,
/// writable fields only: a hidden or retired field is not the creator's to fill).
pub(super) fn fill_defaults(e: &Entity, values: &mut BTreeMap<String, Value>) {
    for f in e.visible_fields() {
        let Some(d) = &f.def.default else { continue };
        if values.get(&f.def.name).is_some_and(|v| !v.is_null()) {
            continue;
        }
        // Checked when it was set; one that no longer fits (an option since removed) is skipped.
        if let Ok(v) = Value::from_json(&f.def, d) {
            values.insert(f.def.name.clone(), v);
        }
    }
}

/// Required fields (visible, not retired) left empty.
pub(super) fn missing_required(e: &Entity, values: &BTreeMap<String, Value>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for f in &e.fields {
        let missing = values.get(&f.def.name).is_none_or(Value::is_null);
        if f.def.required && !f.hidden && !f.retired && missing {
            errors.insert(f.def.name.clone(), Reason::Required);
        }
    }
    errors
}

/// Runs a check whose field errors join `errors` (to be reported with the rest); any other
/// refusal stands on its own.
pub(super) fn gather(errors: &mut FieldErrors, check: Result<()>) -> Result<()> {
    match check {
        Ok(()) => Ok(()),
        Err(Error::Validation { fields, .. }) => {
            for (field, why) in fields {
                errors.entry(field).or_insert(why);
            }
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// Rules the core enforces on its own entity types. On `user`: only administrators change
/// roles, and only administrators manage administrators — a signed-in user without the
/// administrator flag (HR, say) may not update a user whose role is an administrator role
/// (deactivate, rename, move them: that could lock the install's administrators out), nor
/// give anyone a role. The system and plugins are not restricted. `current` is the record
/// before an update (`None` on create).
pub(super) fn core_rules(
    store: &Store,
    access: &Access,
    e: &Entity,
    current: Option<&Record>,
    changed: &BTreeMap<String, Value>,
) -> Result<()> {
    super::exchange_rates::check(store, e, current, changed)?;
    if e.name == "activity" {
        // What it is about is checked when it is set (a note stays on a record deleted since).
        if current.is_some()
            && !changed.contains_key("about_entity")
            && !changed.contains_key("about_id")
        {
            return Ok(());
        }
        // What it is about, as it would be after the write.
        let mut values: BTreeMap<String, Value> =
            current.map(|c| c.values.clone()).unwrap_or_default();
        values.extend(changed.clone());
        return store.check_about(access, &values);
    }
    if e.name != "user" {
        return Ok(());
    }
    let restricted = access.user_id.is_some() && !access.is_admin();
    if let Some(role) = changed.get("role") {
        if restricted {
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
    // A person's e-mail is where invitations and notifications go: only they or an
    // administrator change it (else whoever may edit users could redirect an invitation).
    if restricted && changed.contains_key("email") {
        let own = current.is_some_and(|c| Some(c.id) == access.user_id);
        if !own {
            return Err(Error::Forbidden(
                "only the person or an administrator may change an e-mail address".into(),
            ));
        }
    }
    let is_admin = |r: &Record| match r.get("role") {
        Value::Text(name) => store.role(name).is_some_and(|role| role.admin),
        _ => false,
    };
    if restricted && current.is_some_and(is_admin) {
        return Err(Error::Forbidden(
            "only administrators may change an administrator's account".into(),
        ));
    }
    Ok(())
}
