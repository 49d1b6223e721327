//! Records of any entity type, and the history of their changes.

use crate::schema::Entity;
use crate::value::Value;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// One record: the system columns every record has, plus its field values.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The entity type.
    pub entity: String,
    /// Id, unique within the entity type and never reused.
    pub id: i64,
    /// Incremented on every update; the `If-Match` value for the next write.
    pub version: i64,
    /// The user who owns the record (decides `own` and `team` scopes).
    pub owner: Option<i64>,
    /// Who created it.
    pub created_by: Option<i64>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who changed it last.
    pub updated_by: Option<i64>,
    /// When it was changed last.
    pub updated_at: DateTime<Utc>,
    /// Field values by field name (every field of the entity, nulls included).
    pub values: BTreeMap<String, Value>,
}

impl Record {
    /// A field's value (`Null` if absent).
    pub fn get(&self, field: &str) -> &Value {
        self.values.get(field).unwrap_or(&Value::Null)
    }

    /// The record as the API shows it: system columns then fields in schema order.
    pub fn to_json(&self, entity: &Entity) -> Json {
        let mut m = Map::new();
        m.insert("id".into(), Json::from(self.id));
        m.insert("version".into(), Json::from(self.version));
        m.insert("owner".into(), opt(self.owner));
        m.insert("created_by".into(), opt(self.created_by));
        m.insert("created_at".into(), time(self.created_at));
        m.insert("updated_by".into(), opt(self.updated_by));
        m.insert("updated_at".into(), time(self.updated_at));
        for f in &entity.fields {
            m.insert(f.def.name.clone(), self.get(&f.def.name).to_json());
        }
        Json::Object(m)
    }

    /// Field values as a JSON map (no system columns), as hooks see them.
    pub fn values_json(&self) -> Map<String, Json> {
        self.values
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect()
    }

    /// The record's title: its title field's text, or `#id`.
    pub fn title(&self, entity: &Entity) -> String {
        entity
            .title_field
            .as_deref()
            .map(|f| self.get(f).to_text())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| format!("#{}", self.id))
    }
}

fn opt(v: Option<i64>) -> Json {
    v.map(Json::from).unwrap_or(Json::Null)
}

pub(crate) fn time(t: DateTime<Utc>) -> Json {
    Json::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// One change in a record's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoryEntry {
    /// Sequence number of the entry.
    pub id: i64,
    /// The record's version after the change (for a delete: the version deleted).
    pub version: i64,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// Who made the change (none for system changes).
    pub user_id: Option<i64>,
    /// When.
    pub at: String,
    /// Field → `[old, new]`.
    pub changes: BTreeMap<String, [Json; 2]>,
}
