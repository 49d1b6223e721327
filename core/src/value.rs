//! Typed field values and their conversion from JSON and from query strings.

use crate::schema::{FieldDef, FieldType};
use crate::time_text;
use crate::Reason;
use chrono::{DateTime, NaiveDate, Utc};
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

/// The API's JSON form ([`Value::to_json`]), written straight to a serializer: no JSON tree is
/// built on the way (the list and read hot path).
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Text(t) => s.serialize_str(t),
            Value::Integer(i) | Value::Ref(i) => s.serialize_i64(*i),
            Value::Decimal(d) => s.collect_str(d),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Date(d) => time_text::serialize_date(*d, s),
            Value::DateTime(t) => time_text::serialize_instant(*t, false, s),
            Value::Multi(v) => v.serialize(s),
        }
    }
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
            Value::Date(d) => Json::String(time_text::date_text(*d)),
            Value::DateTime(t) => Json::String(time_text::instant_text(*t, false)),
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
    pub fn from_json(def: &FieldDef, v: &Json) -> Result<Value, Reason> {
        let value = match (def.kind, v) {
            (_, Json::Null) => Value::Null,
            (_, Json::String(s)) if s.trim().is_empty() => Value::Null,
            (FieldType::Integer, Json::Number(n)) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => return Err(Reason::NotInteger),
            },
            (FieldType::File, Json::Number(n)) => match n.as_i64() {
                Some(i) if i > 0 => Value::Integer(i),
                _ => return Err(Reason::NotRecordId),
            },
            (
                FieldType::Decimal | FieldType::Percent | FieldType::Formula | FieldType::Currency,
                Json::Number(n),
            ) => parse_decimal(&n.to_string(), def)?,
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
                        _ => return Err(Reason::NotOptionList),
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
                _ => return Err(Reason::NotRecordId),
            },
            (
                FieldType::Text
                | FieldType::LongText
                | FieldType::Decimal
                | FieldType::Percent
                | FieldType::Currency
                | FieldType::Formula
                | FieldType::AutoNumber
                | FieldType::Date
                | FieldType::Datetime
                | FieldType::Select
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url,
                Json::String(s),
            ) => Value::parse_str(def, s)?,
            (kind, _) => return Err(Reason::WrongType { expected: kind }),
        };
        value.check_bounds(def)?;
        Ok(value)
    }

    /// Converts a value typed as text (a query parameter, a form input, a CSV cell).
    pub fn parse_str(def: &FieldDef, s: &str) -> Result<Value, Reason> {
        if s.trim().is_empty() {
            return Ok(Value::Null);
        }
        if s.contains('\0') {
            return Err(Reason::ContainsNul);
        }
        let t = s.trim();
        let v = match def.kind {
            FieldType::Text | FieldType::LongText | FieldType::AutoNumber => {
                Value::Text(s.to_string())
            }
            FieldType::Integer => t
                .parse::<i64>()
                .map(Value::Integer)
                .map_err(|_| Reason::NotInteger)?,
            FieldType::File => match t.trim_start_matches('#').parse::<i64>() {
                Ok(i) if i > 0 => Value::Integer(i),
                _ => return Err(Reason::NotRecordId),
            },
            FieldType::Decimal | FieldType::Formula => parse_decimal(t, def)?,
            // `12.5` or, as people write it, `12.5%`.
            FieldType::Percent => parse_decimal(t.strip_suffix('%').unwrap_or(t).trim_end(), def)?,
            // `1234.50` or, as people write money, `¥1,234.50`, `US$99`, `1,234.5 元`.
            FieldType::Currency => parse_decimal(
                &crate::currency::plain_amount(t, def.currency.as_deref()),
                def,
            )?,
            // The words people type in either language (a list filter, a CSV cell).
            FieldType::Boolean => match t.to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" | "y" | "是" | "真" | "对" => Value::Bool(true),
                "false" | "0" | "off" | "no" | "n" | "否" | "假" | "不是" => Value::Bool(false),
                _ => return Err(Reason::NotBoolean),
            },
            FieldType::Date => parse_date(t).map(Value::Date).ok_or(Reason::NotDate)?,
            FieldType::Datetime => parse_datetime(t)
                .map(Value::DateTime)
                .ok_or(Reason::NotDatetime)?,
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
                _ => return Err(Reason::NotRecordId),
            },
            FieldType::Email => {
                if !is_email(t) {
                    return Err(Reason::NotEmail);
                }
                Value::Text(t.to_string())
            }
            FieldType::Phone => {
                if !is_phone(t) {
                    return Err(Reason::NotPhone);
                }
                Value::Text(t.to_string())
            }
            FieldType::Url => {
                if !is_url(t) {
                    return Err(Reason::NotUrl);
                }
                Value::Text(t.to_string())
            }
        };
        Ok(v)
    }

    /// Checks `min`/`max` (value for numbers, length for text) and the default text limits.
    pub fn check_bounds(&self, def: &FieldDef) -> Result<(), Reason> {
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
                    return Err(Reason::TooLong { max });
                }
                if let Some(min) = def.min {
                    if (n as f64) < min {
                        return Err(Reason::TooShort {
                            min: min.to_string(),
                        });
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

fn bounds(def: &FieldDef, x: f64) -> Result<(), Reason> {
    if let Some(min) = def.min {
        if x < min {
            return Err(Reason::AtLeast {
                min: min.to_string(),
            });
        }
    }
    if let Some(max) = def.max {
        if x > max {
            return Err(Reason::AtMost {
                max: max.to_string(),
            });
        }
    }
    Ok(())
}

fn check_option(def: &FieldDef, v: &str) -> Result<(), Reason> {
    if def.options.iter().any(|o| o.value == v) {
        Ok(())
    } else {
        Err(Reason::NotOption {
            value: v.to_string(),
            options: def.options.iter().map(|o| o.value.clone()).collect(),
        })
    }
}

/// Largest magnitude a decimal may have so that it fits the stored scaled integer.
pub(crate) const DECIMAL_LIMIT: i64 = 1_000_000_000_000;

fn parse_decimal(s: &str, def: &FieldDef) -> Result<Value, Reason> {
    let d = Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .map_err(|_| Reason::NotDecimal)?;
    let scale = def.effective_scale();
    let d = d.normalize();
    if d.scale() > scale {
        return Err(Reason::TooManyDecimals { scale });
    }
    if d.abs() >= Decimal::from(DECIMAL_LIMIT) {
        return Err(Reason::TooLarge {
            limit: DECIMAL_LIMIT,
        });
    }
    let mut d = d;
    d.rescale(scale);
    Ok(Value::Decimal(d))
}

/// Parses a calendar date written `YYYY-MM-DD`, strictly: a four-digit year from 0001, a
/// two-digit month and day, and a date the calendar has (`2026-02-31` is none). The one
/// date rule of the core, for values and filters alike; chrono's `%Y-%m-%d` alone would
/// read `20-10-16` as the year 20 and `2026-2-3` as a date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        let part = &b[from..to];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    if year == 0 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Parses a date-time: RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` in UTC. Its date follows
/// [`parse_date`].
fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    s.get(..10).and_then(parse_date)?;
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

/// `total / count`, rounded half away from zero to two places more than a field's `scale` (at
/// least two), as text — how averages of amounts are given; `None` when it cannot be computed.
pub(crate) fn average(total: rust_decimal::Decimal, count: i64, scale: u32) -> Option<String> {
    let places = (scale + 2).max(2);
    let mut avg = total
        .checked_div(rust_decimal::Decimal::from(count))?
        .round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    avg.rescale(places);
    Some(avg.to_string())
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
        assert_eq!(
            Value::from_json(&f(FieldType::Integer), &json!("5")),
            Err(Reason::WrongType {
                expected: FieldType::Integer
            })
        );
        assert_eq!(
            Value::from_json(&f(FieldType::Integer), &json!(1.5)),
            Err(Reason::NotInteger)
        );
        assert_eq!(
            Value::from_json(&f(FieldType::Boolean), &json!("true")),
            Err(Reason::WrongType {
                expected: FieldType::Boolean
            })
        );
        let not_option = Value::from_json(&f(FieldType::Select), &json!("c")).unwrap_err();
        assert_eq!(
            not_option,
            Reason::NotOption {
                value: "c".into(),
                options: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(not_option.to_string(), "'c' is not one of: a, b");
        assert_eq!(
            Value::from_json(&f(FieldType::MultiSelect), &json!(["a", "a", "b"])),
            Ok(Value::Multi(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            Value::from_json(&f(FieldType::Text), &json!("")),
            Ok(Value::Null)
        );
        assert_eq!(
            Value::from_json(&f(FieldType::Reference), &json!(0)),
            Err(Reason::NotRecordId)
        );
        assert_eq!(
            Value::from_json(&f(FieldType::MultiSelect), &json!([1])),
            Err(Reason::NotOptionList)
        );
    }

    #[test]
    fn decimals_are_exact() {
        let d = FieldDef::new("amount", FieldType::Decimal, "A", "A");
        let v = Value::from_json(&d, &json!("0.1")).unwrap();
        assert_eq!(v.to_json(), json!("0.10"));
        let v = Value::from_json(&d, &json!(1234.5)).unwrap();
        assert_eq!(v.to_json(), json!("1234.50"));
        assert_eq!(
            Value::from_json(&d, &json!("1.234")),
            Err(Reason::TooManyDecimals { scale: 2 })
        );
        assert_eq!(
            Value::from_json(&d, &json!("1e20")),
            Err(Reason::TooLarge {
                limit: DECIMAL_LIMIT
            })
        );
        assert_eq!(Value::from_json(&d, &json!("abc")), Err(Reason::NotDecimal));
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
        assert_eq!(Value::parse_str(&e, "a@b"), Err(Reason::NotEmail));
        let u = f(FieldType::Url);
        assert_eq!(
            Value::parse_str(&u, "javascript:alert(1)"),
            Err(Reason::NotUrl)
        );
        assert!(Value::parse_str(&u, "https://qingguan.example").is_ok());
        let p = f(FieldType::Phone);
        assert!(Value::parse_str(&p, "+86 138-0000-0000").is_ok());
        assert_eq!(Value::parse_str(&p, "call me"), Err(Reason::NotPhone));
        assert_eq!(
            Value::parse_str(&f(FieldType::Date), "31/01/2026"),
            Err(Reason::NotDate)
        );
        assert_eq!(
            Value::parse_str(&f(FieldType::Boolean), "maybe"),
            Err(Reason::NotBoolean)
        );
        // What the Chinese message asks for ("是" or "否") is what it takes, and English words
        // in any case.
        for (typed, want) in [("是", true), ("否", false), ("Yes", true), ("FALSE", false)] {
            assert_eq!(
                Value::parse_str(&f(FieldType::Boolean), typed),
                Ok(Value::Bool(want)),
                "{typed}"
            );
        }
        assert_eq!(
            Value::parse_str(&f(FieldType::Text), "a\0b"),
            Err(Reason::ContainsNul)
        );
        let dt = f(FieldType::Datetime);
        assert_eq!(Value::parse_str(&dt, "soon"), Err(Reason::NotDatetime));
        assert_eq!(
            Value::parse_str(&dt, "2026-01-02T08:00:00+08:00")
                .unwrap()
                .to_json(),
            json!("2026-01-02T00:00:00Z")
        );
    }

    #[test]
    fn dates_are_strictly_yyyy_mm_dd() {
        let day = f(FieldType::Date);
        for bad in [
            "20-10-16",
            "2026-2-3",
            "2026-02-31",
            "2025-02-29",
            "0000-01-01",
            "+2026-02-03",
            "02026-02-03",
            "2026-02-03T00:00",
            "2026/02/03",
            "２０２６-02-03",
        ] {
            assert_eq!(Value::parse_str(&day, bad), Err(Reason::NotDate), "{bad}");
            assert_eq!(
                Value::from_json(&day, &json!(bad)),
                Err(Reason::NotDate),
                "{bad}"
            );
        }
        assert_eq!(
            Value::parse_str(&day, "2024-02-29").unwrap().to_json(),
            json!("2024-02-29")
        );
        assert_eq!(
            Value::parse_str(&day, "0001-01-01").unwrap().to_json(),
            json!("0001-01-01")
        );
        let dt = f(FieldType::Datetime);
        for bad in ["20-10-16T10:00", "2026-02-31T10:00:00Z", "2026-2-3T10:00"] {
            assert_eq!(
                Value::parse_str(&dt, bad),
                Err(Reason::NotDatetime),
                "{bad}"
            );
        }
        assert!(Value::parse_str(&dt, "2026-02-03T10:00").is_ok());
    }

    #[test]
    fn bounds_apply() {
        let mut d = FieldDef::new("n", FieldType::Integer, "N", "N");
        d.min = Some(0.0);
        d.max = Some(10.0);
        assert_eq!(
            Value::from_json(&d, &json!(11)),
            Err(Reason::AtMost { max: "10".into() })
        );
        let err = Value::from_json(&d, &json!(-1)).unwrap_err();
        assert_eq!(err, Reason::AtLeast { min: "0".into() });
        assert_eq!(err.to_string(), "must be at least 0");
        let mut t = FieldDef::new("t", FieldType::Text, "T", "T");
        assert_eq!(
            Value::from_json(&t, &json!("x".repeat(501))),
            Err(Reason::TooLong { max: 500 })
        );
        t.min = Some(2.0);
        assert_eq!(
            Value::from_json(&t, &json!("x")).map_err(|r| r.to_string()),
            Err("must be at least 2 characters".to_string())
        );
        assert!(Value::from_json(&t, &json!("名".repeat(500))).is_ok());
    }
}
