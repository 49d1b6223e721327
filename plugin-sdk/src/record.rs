//! Records and field values, with typed accessors.

use crate::bindings::qingguan::plugin1_2_0::types as wit;
use crate::{Error, Result};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// A record as the host returns it.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let deal = host::get("deal", 7)?;
/// let amount = deal.decimal("amount").unwrap_or_default();
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Entity type.
    pub entity: String,
    /// Record id.
    pub id: i64,
    /// Version (pass to [`crate::host::update`]).
    pub version: i64,
    /// Owning user.
    pub owner: Option<i64>,
    /// Creator.
    pub created_by: Option<i64>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last editor.
    pub updated_by: Option<i64>,
    /// Last change, RFC 3339.
    pub updated_at: String,
    /// Field values.
    pub fields: Fields,
}

impl Record {
    pub(crate) fn from_wit(r: wit::EntityRecord) -> Result<Record> {
        Ok(Record {
            fields: Fields::parse(&r.fields)?,
            entity: r.entity,
            id: r.id,
            version: r.version,
            owner: r.owner,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        })
    }

    /// A field's value as text (text, select, date, decimal …).
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # let r: Record = unimplemented!();
    /// let stage = r.str("stage").unwrap_or("new");
    /// ```
    pub fn str(&self, field: &str) -> Option<&str> {
        self.fields.str(field)
    }

    /// A field's value as an integer (integer, reference and user fields).
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # let r: Record = unimplemented!();
    /// let customer_id = r.i64("customer");
    /// ```
    pub fn i64(&self, field: &str) -> Option<i64> {
        self.fields.i64(field)
    }

    /// A decimal field's exact value.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # let r: Record = unimplemented!();
    /// let total: Decimal = r.decimal("amount").unwrap_or_default();
    /// ```
    pub fn decimal(&self, field: &str) -> Option<Decimal> {
        self.fields.decimal(field)
    }

    /// A field's raw JSON value.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # let r: Record = unimplemented!();
    /// let tags = r.get("tags").and_then(|t| t.as_array());
    /// ```
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }
}

/// Field values of a record (a JSON object), with typed getters and change tracking.
///
/// ```
/// use qingguan_plugin_sdk::{Fields, json};
/// let mut f = Fields::from_value(json!({"amount": "12.50", "stage": "won"}));
/// assert_eq!(f.str("stage"), Some("won"));
/// assert_eq!(f.decimal("amount").unwrap().to_string(), "12.50");
/// f.set("stage", "lost");
/// assert!(f.changed());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fields {
    map: Map<String, Value>,
    changed: bool,
}

impl Fields {
    pub(crate) fn parse(json: &str) -> Result<Fields> {
        match crate::error::parse_json(json)? {
            Value::Object(map) => Ok(Fields {
                map,
                changed: false,
            }),
            Value::Null => Ok(Fields::default()),
            _ => Err(Error::failed("record fields must be a JSON object")),
        }
    }

    /// Fields from a JSON object (anything else gives no fields).
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// assert!(Fields::from_value(json!([1])).is_empty());
    /// ```
    pub fn from_value(v: Value) -> Fields {
        match v {
            Value::Object(map) => Fields {
                map,
                changed: false,
            },
            _ => Fields::default(),
        }
    }

    /// Whether there are no fields.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Fields;
    /// assert!(Fields::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A value; `None` when absent or null.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// let f = Fields::from_value(json!({"a": null}));
    /// assert!(f.get("a").is_none());
    /// ```
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// A value as text.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// assert_eq!(Fields::from_value(json!({"n": "x"})).str("n"), Some("x"));
    /// ```
    pub fn str(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(Value::as_str)
    }

    /// A value as an integer.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// assert_eq!(Fields::from_value(json!({"n": 3})).i64("n"), Some(3));
    /// ```
    pub fn i64(&self, field: &str) -> Option<i64> {
        self.get(field).and_then(Value::as_i64)
    }

    /// A value as a boolean.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// assert_eq!(Fields::from_value(json!({"b": true})).bool("b"), Some(true));
    /// ```
    pub fn bool(&self, field: &str) -> Option<bool> {
        self.get(field).and_then(Value::as_bool)
    }

    /// A decimal value (decimals travel as strings).
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// assert_eq!(Fields::from_value(json!({"d": "0.10"})).decimal("d").unwrap().to_string(), "0.10");
    /// ```
    pub fn decimal(&self, field: &str) -> Option<Decimal> {
        decimal_of(self.get(field)?)
    }

    /// Sets a value (marks the fields changed).
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// let mut f = Fields::default();
    /// f.set("stage", "won");
    /// assert_eq!(f.str("stage"), Some("won"));
    /// ```
    pub fn set(&mut self, field: &str, value: impl Into<Value>) {
        let value = value.into();
        if self.map.get(field) != Some(&value) {
            self.map.insert(field.to_string(), value);
            self.changed = true;
        }
    }

    /// Whether [`Fields::set`] changed anything.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// let mut f = Fields::from_value(json!({"a": 1}));
    /// f.set("a", 1);
    /// assert!(!f.changed());
    /// ```
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// The fields as JSON text.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// assert_eq!(Fields::from_value(json!({"a": 1})).to_json(), r#"{"a":1}"#);
    /// ```
    pub fn to_json(&self) -> String {
        Value::Object(self.map.clone()).to_string()
    }

    /// The underlying JSON object.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{Fields, json};
    /// assert_eq!(Fields::from_value(json!({"a": 1})).as_map().len(), 1);
    /// ```
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }
}

/// A JSON value as a decimal: a decimal string (as fields and aggregates carry them) or a
/// number (as plugins often answer); anything else is `None`.
///
/// ```
/// use qingguan_plugin_sdk::{decimal_of, json, Decimal};
/// assert_eq!(decimal_of(&json!("1200.50")), Some("1200.50".parse::<Decimal>().unwrap()));
/// assert_eq!(decimal_of(&json!(66.7)), Some("66.7".parse::<Decimal>().unwrap()));
/// assert_eq!(decimal_of(&json!(1e-7)), Some("0.0000001".parse::<Decimal>().unwrap()));
/// assert_eq!(decimal_of(&json!("x")), None);
/// ```
pub fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => {
            let text = n.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .ok()
        }
        _ => None,
    }
}
