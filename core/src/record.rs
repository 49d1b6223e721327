//! Records of any entity type, and the history of their changes.

use crate::schema::{Entity, SharedEntity};
use crate::value::Value;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// One record: the system columns every record has, plus its field values — by field name in a
/// [`Record`], in its type's field order in an [`OrderedRecord`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOf<V> {
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
    /// Field values.
    pub values: V,
}

/// A record with its field values by field name (every field of the entity, nulls included).
pub type Record = RecordOf<BTreeMap<String, Value>>;

/// A record as read for writing straight out: its values in the field order of the entity
/// type it was read with, no map built. Only an [`OrderedPage`] holds them, beside that type.
pub type OrderedRecord = RecordOf<Vec<Value>>;

/// Field values a record holds, looked up by a field's position in its type and its name.
pub trait FieldValues {
    /// The value of the field at position `at` of the type, named `name` (`Null` if absent).
    fn value_of(&self, at: usize, name: &str) -> &Value;
}

impl FieldValues for BTreeMap<String, Value> {
    fn value_of(&self, _: usize, name: &str) -> &Value {
        self.get(name).unwrap_or(&Value::Null)
    }
}

impl FieldValues for Vec<Value> {
    fn value_of(&self, at: usize, _: &str) -> &Value {
        self.get(at).unwrap_or(&Value::Null)
    }
}

impl OrderedRecord {
    /// The record with its values by field name; `entity` is the type it was read with.
    pub(crate) fn keyed(self, entity: &Entity) -> Record {
        debug_assert_eq!(self.values.len(), entity.fields.len());
        let values = entity
            .fields
            .iter()
            .map(|f| f.def.name.clone())
            .zip(self.values)
            .collect();
        RecordOf {
            entity: self.entity,
            id: self.id,
            version: self.version,
            owner: self.owner,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_by: self.updated_by,
            updated_at: self.updated_at,
            values,
        }
    }
}

/// One page of a list read in field order, beside the entity type (as the caller sees it) its
/// records were read with.
#[derive(Debug, Clone)]
pub struct OrderedPage {
    /// The type the records' values follow (only the store pairs them).
    pub(crate) entity: SharedEntity,
    /// The records, in the list's order.
    pub(crate) items: Vec<OrderedRecord>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub(crate) next_cursor: Option<String>,
}

impl OrderedPage {
    /// The page's records as the API shows them ([`Record::as_api`]'s form).
    pub fn api_items(&self) -> Vec<ApiRecord<'_, Vec<Value>>> {
        self.items
            .iter()
            .map(|record| {
                debug_assert_eq!(record.values.len(), self.entity.fields.len());
                ApiRecord {
                    record,
                    entity: &self.entity,
                }
            })
            .collect()
    }

    /// The cursor of the next page; `None` on the last page.
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    /// The page with each record's values by field name.
    pub fn keyed(self) -> crate::Page {
        let entity = self.entity;
        crate::Page {
            items: self.items.into_iter().map(|r| r.keyed(&entity)).collect(),
            next_cursor: self.next_cursor,
        }
    }
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

    /// The record as the API shows it ([`Record::to_json`]'s keys and values, in its order),
    /// serialized directly instead of through a JSON tree.
    pub fn as_api<'a>(&'a self, entity: &'a Entity) -> ApiRecord<'a, BTreeMap<String, Value>> {
        ApiRecord {
            record: self,
            entity,
        }
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

/// A record in the API's JSON form, serialized without building a JSON tree
/// ([`Record::as_api`]).
#[derive(Debug)]
pub struct ApiRecord<'a, V> {
    record: &'a RecordOf<V>,
    entity: &'a Entity,
}

impl<V: FieldValues> serde::Serialize for ApiRecord<'_, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.record;
        let mut m = s.serialize_map(Some(7 + self.entity.fields.len()))?;
        m.serialize_entry("id", &r.id)?;
        m.serialize_entry("version", &r.version)?;
        m.serialize_entry("owner", &r.owner)?;
        m.serialize_entry("created_by", &r.created_by)?;
        m.serialize_entry("created_at", &Millis(r.created_at))?;
        m.serialize_entry("updated_by", &r.updated_by)?;
        m.serialize_entry("updated_at", &Millis(r.updated_at))?;
        for (at, f) in self.entity.fields.iter().enumerate() {
            m.serialize_entry(&f.def.name, r.values.value_of(at, &f.def.name))?;
        }
        m.end()
    }
}

/// A record time as the API writes it (RFC 3339, milliseconds, `Z`).
struct Millis(DateTime<Utc>);

impl serde::Serialize for Millis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::time_text::serialize_instant(self.0, true, s)
    }
}

fn opt(v: Option<i64>) -> Json {
    v.map(Json::from).unwrap_or(Json::Null)
}

pub(crate) fn time(t: DateTime<Utc>) -> Json {
    Json::String(crate::time_text::instant_text(t, true))
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
    /// The id of the record this entry was written for, when that record was later merged
    /// into this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Store, StoreOptions};

    #[test]
    fn written_directly_it_is_the_same_json_as_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap();
        let schema = store.schema();
        let entity = schema.entity("customer").unwrap();
        let mut values = BTreeMap::new();
        for (i, f) in entity.fields.iter().enumerate() {
            let v = match i % 6 {
                0 => Value::Text(format!("文本 \"{i}\"\n")),
                1 => Value::Decimal("1234.50".parse().unwrap()),
                2 => Value::Date(chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()),
                3 => Value::Multi(vec!["a".into(), "b".into()]),
                4 => Value::Ref(7),
                _ => Value::Null,
            };
            values.insert(f.def.name.clone(), v);
        }
        let at = DateTime::parse_from_rfc3339("2026-11-30T08:09:10.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let r = Record {
            entity: "customer".into(),
            id: 42,
            version: 3,
            owner: Some(2),
            created_by: None,
            created_at: at,
            updated_by: Some(1),
            updated_at: at,
            values,
        };
        let direct = serde_json::to_string(&r.as_api(entity)).unwrap();
        let parsed: Json = serde_json::from_str(&direct).unwrap();
        assert_eq!(parsed, r.to_json(entity));
        assert!(
            direct.starts_with("{\"id\":42,\"version\":3,\"owner\":2,"),
            "{direct}"
        );
        assert!(
            direct.contains("\"created_at\":\"2026-11-30T08:09:10.123Z\""),
            "{direct}"
        );
    }
}
