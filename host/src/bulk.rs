//! Bulk work on a list's selected records: set one field, give them another owner, or delete
//! them — each record written on its own through the ordinary update or delete as the caller
//! (permissions, scopes, plugin hooks and workflows per record), and one report: how many were
//! done and, for each refused one, why in the caller's language.

use qingguan_core::imports::describe;
use qingguan_core::{Access, Error, Locale, Reason, Store, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// The most records one bulk request touches.
pub const MAX_RECORDS: usize = 500;

/// What to do to every selected record.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum BulkAction {
    /// Set `field` to `value` (JSON as the API writes it; `null` clears).
    Set {
        ids: Vec<i64>,
        field: String,
        #[serde(default)]
        value: Json,
    },
    /// Give them to another owner (a user id).
    Owner { ids: Vec<i64>, owner: i64 },
    /// Delete them.
    Delete { ids: Vec<i64> },
}

impl BulkAction {
    fn ids(&self) -> &[i64] {
        match self {
            BulkAction::Set { ids, .. }
            | BulkAction::Owner { ids, .. }
            | BulkAction::Delete { ids } => ids,
        }
    }
}

/// One refused record.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    pub id: i64,
    pub reason: String,
}

/// What a bulk request did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BulkReport {
    pub done: usize,
    pub refused: Vec<Refused>,
}

/// A value typed as text (a form's input) for `field` of `entity`, as JSON.
pub fn value_from_text(
    store: &Store,
    entity: &str,
    field: &str,
    text: &str,
) -> Result<Json, Error> {
    let schema = store.schema();
    let f = schema
        .entity(entity)
        .and_then(|e| e.field(field))
        .ok_or_else(|| {
            Error::field(
                "field",
                Reason::NoField {
                    entity: entity.into(),
                    field: field.into(),
                },
            )
        })?;
    Value::parse_str(&f.def, text)
        .map(|v| v.to_json())
        .map_err(|why| Error::field(field, why))
}

/// Does `action` to each selected record, as `access`.
pub fn run(
    store: &Store,
    access: &Access,
    entity: &str,
    action: &BulkAction,
    locale: Locale,
) -> Result<BulkReport, Error> {
    if store.schema().entity(entity).is_none() {
        return Err(Error::NotFound(format!("no entity type '{entity}'")));
    }
    let ids = action.ids();
    if ids.is_empty() {
        return Err(Error::field("ids", Reason::Required));
    }
    if ids.len() > MAX_RECORDS {
        return Err(Error::field(
            "ids",
            Reason::NumberBetween {
                min: 1,
                max: MAX_RECORDS,
            },
        ));
    }
    if let BulkAction::Set { field, .. } = action {
        let schema = store.schema_for(access);
        let known = schema
            .entity(entity)
            .is_some_and(|e| e.field(field).is_some());
        if !known {
            return Err(Error::field(
                "field",
                Reason::NoField {
                    entity: entity.into(),
                    field: field.clone(),
                },
            ));
        }
    }
    let mut report = BulkReport::default();
    let mut seen = std::collections::BTreeSet::new();
    for &id in ids {
        if !seen.insert(id) {
            continue;
        }
        let outcome = store.get(access, entity, id).and_then(|r| match action {
            BulkAction::Set { field, value, .. } => {
                let patch = Map::from_iter([(field.clone(), value.clone())]);
                store
                    .update(access, entity, id, r.version, &patch)
                    .map(|_| ())
            }
            BulkAction::Owner { owner, .. } => {
                let patch = Map::from_iter([("owner".to_string(), Json::from(*owner))]);
                store
                    .update(access, entity, id, r.version, &patch)
                    .map(|_| ())
            }
            BulkAction::Delete { .. } => store.delete(access, entity, id, r.version),
        });
        match outcome {
            Ok(()) => report.done += 1,
            Err(e) => report.refused.push(Refused {
                id,
                reason: describe(&e, locale),
            }),
        }
    }
    Ok(report)
}
