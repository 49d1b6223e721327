//! Mapping between [`Value`]s and stored values, per field type.

use super::{Value as Sql, ValueRef};
use crate::schema::{FieldDef, FieldType};
use crate::value::{decimal_to_scaled, scaled_to_decimal, Value};

/// The SQLite value stored for a field value.
pub(crate) fn to_sql(def: &FieldDef, v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::Text(s) => Sql::Text(s.clone()),
        Value::Integer(i) | Value::Ref(i) => Sql::Integer(*i),
        Value::Decimal(d) => Sql::Integer(decimal_to_scaled(d, def.effective_scale())),
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Date(d) => Sql::Text(d.to_string()),
        Value::DateTime(t) => Sql::Text(super::time_text(*t)),
        Value::Multi(v) => Sql::Text(serde_json::to_string(v).unwrap_or_default()),
    }
}

/// The field value a stored SQLite value stands for. Unreadable values become `Null` rather
/// than failing the whole read (they can only come from outside tampering).
pub(crate) fn from_sql(def: &FieldDef, v: ValueRef<'_>) -> Value {
    match (def.kind, v) {
        (_, ValueRef::Null) => Value::Null,
        (FieldType::Integer | FieldType::File, ValueRef::Integer(i)) => Value::Integer(i),
        (
            FieldType::Decimal | FieldType::Percent | FieldType::Formula | FieldType::Currency,
            ValueRef::Integer(i),
        ) => Value::Decimal(scaled_to_decimal(i, def.effective_scale())),
        (FieldType::Boolean, ValueRef::Integer(i)) => Value::Bool(i != 0),
        (FieldType::Reference | FieldType::User, ValueRef::Integer(i)) => Value::Ref(i),
        (FieldType::Date, ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .and_then(crate::time_text::parse_date)
            .map(Value::Date)
            .unwrap_or(Value::Null),
        (FieldType::Datetime, ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .map(|s| Value::DateTime(super::parse_time(s)))
            .unwrap_or(Value::Null),
        (FieldType::MultiSelect, ValueRef::Text(t)) => serde_json::from_slice(t)
            .map(Value::Multi)
            .unwrap_or(Value::Null),
        (_, ValueRef::Text(t)) => Value::Text(match std::str::from_utf8(t) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(t).into_owned(),
        }),
        (_, ValueRef::Integer(i)) => Value::Integer(i),
        (_, ValueRef::Real(r)) => Value::Text(r.to_string()),
        (_, ValueRef::Blob(_)) => Value::Null,
    }
}

/// A stored value as JSON (for cursors).
pub(crate) fn sql_to_json(v: &Sql) -> serde_json::Value {
    match v {
        Sql::Null => serde_json::Value::Null,
        Sql::Integer(i) => (*i).into(),
        Sql::Real(r) => serde_json::Number::from_f64(*r)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Sql::Text(s) => s.clone().into(),
        Sql::Blob(_) => serde_json::Value::Null,
    }
}

/// A cursor's JSON value back as a stored value.
pub(crate) fn json_to_sql(v: &serde_json::Value) -> Option<Sql> {
    match v {
        serde_json::Value::Null => Some(Sql::Null),
        serde_json::Value::Number(n) => n.as_i64().map(Sql::Integer),
        serde_json::Value::String(s) => Some(Sql::Text(s.clone())),
        _ => None,
    }
}

/// A `LIKE` pattern matching `s` anywhere, with `%`, `_` and `\\` escaped (`ESCAPE '\\'`).
pub(crate) fn like_pattern(s: &str) -> String {
    let mut out = String::from("%");
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
