//! Conditions on a record's fields, combined with all/any: `amount > 5000`, `discount >= 10`,
//! `status in [a, b]`, `reviewer is set`. Values compare as numbers when both are numbers,
//! as dates or text otherwise — no expression language, nothing executed.

use crate::schema::Entity;
use crate::value::Value;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A condition on a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    /// Every one holds.
    All {
        /// The conditions.
        all: Vec<Condition>,
    },
    /// At least one holds.
    Any {
        /// The conditions.
        any: Vec<Condition>,
    },
    /// A field compared with a value.
    Field {
        /// The field.
        field: String,
        /// The comparison.
        op: Compare,
        /// The value (a list for `in`; none for `set` and `not_set`).
        #[serde(default)]
        value: Json,
    },
}

/// How a field compares with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Set,
    NotSet,
}

impl Condition {
    /// Checks that every field named exists.
    pub(crate) fn validate(&self, e: &Entity) -> Result<(), String> {
        match self {
            Condition::All { all: list } | Condition::Any { any: list } => {
                list.iter().try_for_each(|c| c.validate(e))
            }
            Condition::Field { field, op, value } => {
                if e.field(field).is_none() {
                    return Err(format!("no field '{field}'"));
                }
                if *op == Compare::In && !value.is_array() {
                    return Err(format!("'in' on '{field}' needs a list"));
                }
                Ok(())
            }
        }
    }

    /// The fields it reads, added to `out`.
    pub fn fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::All { all: list } | Condition::Any { any: list } => {
                list.iter().for_each(|c| c.fields(out))
            }
            Condition::Field { field, .. } => out.push(field),
        }
    }

    /// Whether the record's values satisfy it.
    pub fn holds(&self, values: &BTreeMap<String, Value>) -> bool {
        match self {
            Condition::All { all } => all.iter().all(|c| c.holds(values)),
            Condition::Any { any } => any.iter().any(|c| c.holds(values)),
            Condition::Field { field, op, value } => {
                let v = values.get(field).cloned().unwrap_or(Value::Null);
                let have = v.to_json();
                match op {
                    Compare::Set => !v.is_null(),
                    Compare::NotSet => v.is_null(),
                    Compare::In => value.as_array().is_some_and(|l| {
                        l.iter().any(|x| order(&have, x) == Some(Ordering::Equal))
                    }),
                    _ if v.is_null() => false,
                    Compare::Eq => order(&have, value) == Some(Ordering::Equal),
                    Compare::Ne => order(&have, value) != Some(Ordering::Equal),
                    Compare::Gt => order(&have, value) == Some(Ordering::Greater),
                    Compare::Gte => matches!(
                        order(&have, value),
                        Some(Ordering::Greater | Ordering::Equal)
                    ),
                    Compare::Lt => order(&have, value) == Some(Ordering::Less),
                    Compare::Lte => {
                        matches!(order(&have, value), Some(Ordering::Less | Ordering::Equal))
                    }
                }
            }
        }
    }
}

fn number(j: &Json) -> Option<Decimal> {
    match j {
        Json::Number(n) => n.to_string().parse().ok(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Compares a stored value with a definition's value: as numbers when both read as numbers,
/// else as booleans or text (ISO dates order as text).
fn order(have: &Json, want: &Json) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (number(have), number(want)) {
        return Some(a.cmp(&b));
    }
    match (have, want) {
        (Json::Bool(a), Json::Bool(b)) => Some(a.cmp(b)),
        (Json::String(a), Json::String(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn compares_numbers_as_numbers_and_combines() {
        let c: Condition = serde_json::from_value(json!({"all": [
            {"field": "amount", "op": "gt", "value": 5000},
            {"any": [{"field": "stage", "op": "in", "value": ["won", "negotiation"]},
                     {"field": "reviewer", "op": "set"}]}
        ]}))
        .unwrap();
        let big = Value::Decimal("5000.01".parse().unwrap());
        let small = Value::Decimal("999".parse().unwrap());
        let won = Value::Text("won".into());
        assert!(c.holds(&values(&[("amount", big.clone()), ("stage", won.clone())])));
        // 999 < 5000 although "999" > "5000" as text.
        assert!(!c.holds(&values(&[("amount", small), ("stage", won)])));
        assert!(!c.holds(&values(&[
            ("amount", big.clone()),
            ("stage", Value::Text("lost".into()))
        ])));
        assert!(c.holds(&values(&[("amount", big), ("reviewer", Value::Ref(3))])));
        assert!(
            !c.holds(&values(&[])),
            "an empty amount is not above anything"
        );
    }
}
