//! Typed field values and their conversion from JSON and from query strings.

use crate::schema::{FieldDef, FieldType};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::Value as Json;
use std::str::FromStr;

/// Longest single-line text unless the field says otherwise.
pub const TEXT_MAX_CHARS: usize = 500;
/// Longest long text unless the field says otherwise.
pub const LONG_TEXT_MAX_CHARS: usize = 100_000;

/// A typed value of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// Text, long text, select, e-mail, phone and URL values.
    Text(String),
    /// Integer values.
    Integer(i64),
    /// Exact decimal values.
    Decimal(Decimal),
    /// Boolean values.
    Bool(bool),
    /// Calendar dates.
    Date(NaiveDate),
    /// Instants, in UTC.
    DateTime(DateTime<Utc>),
    /// Multi-select values.
    Multi(Vec<String>),
    /// Reference and user values: a record id.
    Ref(i64),
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The JSON form used by the API: decimals as strings, dates as ISO strings.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Text(s) => Json::String(s.clone()),
            Value::Integer(i) | Value::Ref(i) => Json::from(*i),
            Value::Decimal(d) => Json::String(d.to_string()),
            Value::Bool(b) => Json::Bool(*b),
            Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(t) => Json::String(t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            Value::Multi(v) => Json::Array(v.iter().cloned().map(Json::String).collect()),
        }
    }

    /// Plain text for search indexing and CSV: empty for null.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Multi(v) => v.join(", "),
            other => match other.to_json() {
                Json::String(s) => s,
                j => j.to_string(),
            },
        }
    }

    /// Converts an API value for `def`, strictly: JSON types must match the field type.
    /// `null` and `""` mean no value.
    pub fn from_json(def: &FieldDef, v: &Json) -> Result<Value, String> {
        let value = match (def.kind, v) {
            (_, Json::Null) => Value::Null,
            (_, Json::String(s)) if s.trim().is_empty() => Value::Null,
            (FieldType::Integer, Json::Number(n)) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => return Err("must be a whole number".into()),
            },
            (FieldType::Decimal, Json::Number(n)) => parse_decimal(&n.to_string(), def)?,
            (FieldType::Boolean, Json::Bool(b)) => Value::Bool(*b),
            (FieldType::MultiSelect, Json::Array(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Json::String(s) => {
                            check_option(def, s)?;
                            if !out.contains(s) {
                                out.push(s.clone());
                            }
                        }
                        _ => return Err("must be a list of option values".into()),
                    }
                }
                if out.is_empty() {
                    Value::Null
                } else {
                    Value::Multi(out)
                }
            }
            (FieldType::Reference | FieldType::User, Json::Number(n)) => match n.as_i64() {
                Some(i) if i > 0 => Value::Ref(i),
                _ => return Err("must be a record id".into()),
            },
            (
                FieldType::Text
                | FieldType::LongText
                | FieldType::Decimal
                | FieldType::Date
                | FieldType::Datetime
                | FieldType::Select
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url,
                Json::String(s),
            ) => Value::parse_str(def, s)?,
            (kind, _) => return Err(format!("must be {}", expected(kind))),
        };
        value.check_bounds(def)?;
        Ok(value)
    }

    /// Converts a value typed as text (a query parameter, a form input, a CSV cell).
    pub fn parse_str(def: &FieldDef, s: &str) -> Result<Value, String> {
        if s.trim().is_empty() {
            return Ok(Value::Null);
        }
        if s.contains('\0') {
            return Err("must not contain NUL characters".into());
        }
        let t = s.trim();
        let v = match def.kind {
            FieldType::Text | FieldType::LongText => Value::Text(s.to_string()),
            FieldType::Integer => t
                .parse::<i64>()
                .map(Value::Integer)
                .map_err(|_| "must be a whole number".to_string())?,
            FieldType::Decimal => parse_decimal(t, def)?,
            FieldType::Boolean => match t {
                "true" | "1" | "on" | "yes" => Value::Bool(true),
                "false" | "0" | "off" | "no" => Value::Bool(false),
                _ => return Err("must be true or false".into()),
            },
            FieldType::Date => NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(Value::Date)
                .map_err(|_| "must be a date YYYY-MM-DD".to_string())?,
            FieldType::Datetime => parse_datetime(t)
                .map(Value::DateTime)
                .ok_or_else(|| "must be a date-time such as 2026-01-31T09:30:00Z".to_string())?,
            FieldType::Select => {
                check_option(def, t)?;
                Value::Text(t.to_string())
            }
            FieldType::MultiSelect => {
                let mut out: Vec<String> = Vec::new();
                for part in t.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    check_option(def, part)?;
                    if !out.iter().any(|o| o == part) {
                        out.push(part.to_string());
                    }
                }
                Value::Multi(out)
            }
            FieldType::Reference | FieldType::User => match t.parse::<i64>() {
                Ok(i) if i > 0 => Value::Ref(i),
                _ => return Err("must be a record id".into()),
            },
            FieldType::Email => {
                if !is_email(t) {
                    return Err("must be an e-mail address".into());
                }
                Value::Text(t.to_string())
            }
            FieldType::Phone => {
                if !is_phone(t) {
                    return Err("must be a phone number (digits, spaces, + - ( ) only)".into());
                }
                Value::Text(t.to_string())
            }
            FieldType::Url => {
                if !is_url(t) {
                    return Err("must be an http:// or https:// address".into());
                }
                Value::Text(t.to_string())
            }
        };
        Ok(v)
    }

    /// Checks `min`/`max` (value for numbers, length for text) and the default text limits.
    pub fn check_bounds(&self, def: &FieldDef) -> Result<(), String> {
        match self {
            Value::Text(s) if def.kind.is_textual() => {
                let n = s.chars().count();
                let cap = if def.kind == FieldType::LongText {
                    LONG_TEXT_MAX_CHARS
                } else {
                    TEXT_MAX_CHARS
                };
                let max = def.max.map(|m| m as usize).unwrap_or(cap).min(cap);
                if n > max {
                    return Err(format!("must be at most {max} characters"));
                }
                if let Some(min) = def.min {
                    if (n as f64) < min {
                        return Err(format!("must be at least {min} characters"));
                    }
                }
            }
            Value::Integer(i) => bounds(def, *i as f64)?,
            Value::Decimal(d) => bounds(def, d.to_string().parse::<f64>().unwrap_or(0.0))?,
            _ => {}
        }
        Ok(())
    }
}

fn bounds(def: &FieldDef, x: f64) -> Result<(), String> {
    if let Some(min) = def.min {
        if x < min {
            return Err(format!("must be at least {min}"));
        }
    }
    if let Some(max) = def.max {
        if x > max {
            return Err(format!("must be at most {max}"));
        }
    }
    Ok(())
}

fn expected(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Integer => "a whole number",
        FieldType::Decimal => "a decimal number (string such as \"12.50\")",
        FieldType::Boolean => "true or false",
        FieldType::MultiSelect => "a list of option values",
        FieldType::Reference | FieldType::User => "a record id (number)",
        FieldType::Date => "a date string YYYY-MM-DD",
        FieldType::Datetime => "a date-time string",
        _ => "a string",
    }
}

fn check_option(def: &FieldDef, v: &str) -> Result<(), String> {
    if def.options.iter().any(|o| o.value == v) {
        Ok(())
    } else {
        let allowed: Vec<&str> = def.options.iter().map(|o| o.value.as_str()).collect();
        Err(format!("'{v}' is not one of: {}", allowed.join(", ")))
    }
}

/// Largest magnitude a decimal may have so that it fits the stored scaled integer.
const DECIMAL_LIMIT: i64 = 1_000_000_000_000;

fn parse_decimal(s: &str, def: &FieldDef) -> Result<Value, String> {
    let d = Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .map_err(|_| "must be a decimal number such as 1234.50".to_string())?;
    let scale = def.effective_scale();
    let d = d.normalize();
    if d.scale() > scale {
        return Err(format!("at most {scale} decimal places"));
    }
    if d.abs() >= Decimal::from(DECIMAL_LIMIT) {
        return Err(format!("must be less than {DECIMAL_LIMIT} in magnitude"));
    }
    let mut d = d;
    d.rescale(scale);
    Ok(Value::Decimal(d))
}

fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .map(|n| n.and_utc())
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    (3..=20).contains(&digits)
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +-()#.".contains(c) || c == 'x')
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/'))
        && s.len() <= 2000
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Scales a decimal to the integer stored in its column.
pub(crate) fn decimal_to_scaled(d: &Decimal, scale: u32) -> i64 {
    let mut d = *d;
    d.rescale(scale);
    let m = d.mantissa();
    m as i64
}

/// The decimal an integer column holds.
pub(crate) fn scaled_to_decimal(i: i64, scale: u32) -> Decimal {
    Decimal::new(i, scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(kind: FieldType) -> FieldDef {
        FieldDef::new("f", kind, "F", "F").options(&[("a", "A", "甲"), ("b", "B", "乙")])
    }

    #[test]
    fn strict_json_types() {
        assert_eq!(
            Value::from_json(&f(FieldType::Integer), &json!(5)),
            Ok(Value::Integer(5))
        );
        assert!(Value::from_json(&f(FieldType::Integer), &json!("5")).is_err());
        assert!(Value::from_json(&f(FieldType::Integer), &json!(1.5)).is_err());
        assert!(Value::from_json(&f(FieldType::Boolean), &json!("true")).is_err());
        assert!(Value::from_json(&f(FieldType::Select), &json!("c")).is_err());
        assert_eq!(
            Value::from_json(&f(FieldType::MultiSelect), &json!(["a", "a", "b"])),
            Ok(Value::Multi(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            Value::from_json(&f(FieldType::Text), &json!("")),
            Ok(Value::Null)
        );
        assert!(Value::from_json(&f(FieldType::Reference), &json!(0)).is_err());
    }

    #[test]
    fn decimals_are_exact() {
        let d = FieldDef::new("amount", FieldType::Decimal, "A", "A");
        let v = Value::from_json(&d, &json!("0.1")).unwrap();
        assert_eq!(v.to_json(), json!("0.10"));
        let v = Value::from_json(&d, &json!(1234.5)).unwrap();
        assert_eq!(v.to_json(), json!("1234.50"));
        assert!(Value::from_json(&d, &json!("1.234")).is_err());
        assert!(Value::from_json(&d, &json!("1e20")).is_err());
        let Value::Decimal(x) = Value::from_json(&d, &json!("-19.99")).unwrap() else {
            panic!()
        };
        assert_eq!(decimal_to_scaled(&x, 2), -1999);
        assert_eq!(scaled_to_decimal(-1999, 2), x);
    }

    #[test]
    fn formats() {
        let e = f(FieldType::Email);
        assert!(Value::parse_str(&e, "a@b.cn").is_ok());
        assert!(Value::parse_str(&e, "a@b").is_err());
        let u = f(FieldType::Url);
        assert!(Value::parse_str(&u, "javascript:alert(1)").is_err());
        assert!(Value::parse_str(&u, "https://qingguan.example").is_ok());
        let p = f(FieldType::Phone);
        assert!(Value::parse_str(&p, "+86 138-0000-0000").is_ok());
        assert!(Value::parse_str(&p, "call me").is_err());
        let dt = f(FieldType::Datetime);
        assert_eq!(
            Value::parse_str(&dt, "2026-01-02T08:00:00+08:00")
                .unwrap()
                .to_json(),
            json!("2026-01-02T00:00:00Z")
        );
    }

    #[test]
    fn bounds_apply() {
        let mut d = FieldDef::new("n", FieldType::Integer, "N", "N");
        d.min = Some(0.0);
        d.max = Some(10.0);
        assert!(Value::from_json(&d, &json!(11)).is_err());
        assert!(Value::from_json(&d, &json!(-1)).is_err());
        let t = FieldDef::new("t", FieldType::Text, "T", "T");
        assert!(Value::from_json(&t, &json!("x".repeat(501))).is_err());
        assert!(Value::from_json(&t, &json!("名".repeat(500))).is_ok());
    }
}
