//! List queries: filters with operators, one sort key, keyset cursors and page size, parsed
//! from `field=value`, `field[op]=value`, `sort=-field`, `limit`, `cursor` and `q` pairs.

use crate::record::Record;
use crate::{Error, Reason, Result};

/// Default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page size.
pub const MAX_LIMIT: usize = 200;
/// Most filters one list, count or aggregate may have: all of them are one SQL expression,
/// and SQLite refuses expressions past its depth limit.
pub const MAX_FILTERS: usize = 50;
/// Most values the filters of one query may give together (each `in` value counts): SQLite
/// binds at most 32,766 parameters to one statement.
pub const MAX_FILTER_VALUES: usize = 10_000;

/// A comparison operator of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal (nulls count as not equal).
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// One of a comma-separated list.
    In,
    /// Text contains (case-insensitive for ASCII), or a multi-select holds the value.
    Contains,
    /// `true`: has no value; `false`: has a value.
    Null,
}

impl Op {
    /// Parses an operator name.
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "in" => Op::In,
            "contains" => Op::Contains,
            "null" => Op::Null,
            _ => return None,
        })
    }

    /// The operator's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::In => "in",
            Op::Contains => "contains",
            Op::Null => "null",
        }
    }
}

/// One filter condition; the value is text, typed against the field when the query runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Field name (or a system column).
    pub field: String,
    /// Operator.
    pub op: Op,
    /// Raw value.
    pub value: String,
}

/// The sort order: a field and a direction; ties are broken by id in the same direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// Field name or system column.
    pub field: String,
    /// Descending when true.
    pub descending: bool,
}

impl SortKey {
    /// `field` or `-field`.
    pub fn as_param(&self) -> String {
        if self.descending {
            format!("-{}", self.field)
        } else {
            self.field.clone()
        }
    }
}

/// A parsed list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// All conditions must hold.
    pub filters: Vec<Filter>,
    /// Sort order (default: newest id first).
    pub sort: SortKey,
    /// Page size, 1..=200.
    pub limit: usize,
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Full-text search within this entity type.
    pub q: Option<String>,
    /// Only records with an approval waiting for the caller (`waiting=me`).
    pub waiting_for_me: bool,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filters: Vec::new(),
            sort: SortKey {
                field: "id".into(),
                descending: true,
            },
            limit: DEFAULT_LIMIT,
            cursor: None,
            q: None,
            waiting_for_me: false,
        }
    }
}

impl ListQuery {
    /// Parses decoded query-string pairs. Field names are checked later, against the schema.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<ListQuery>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut q = ListQuery::default();
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            match k {
                "limit" => {
                    q.limit = v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            Error::bad_param(
                                "limit",
                                Reason::NumberBetween {
                                    min: 1,
                                    max: MAX_LIMIT,
                                },
                            )
                        })?;
                }
                "sort" => {
                    let (field, descending) = match v.strip_prefix('-') {
                        Some(f) => (f, true),
                        None => (v, false),
                    };
                    if field.is_empty() {
                        return Err(Error::bad_param("sort", Reason::NoSortField));
                    }
                    q.sort = SortKey {
                        field: field.to_string(),
                        descending,
                    };
                }
                "cursor" => q.cursor = Some(v.to_string()).filter(|c| !c.is_empty()),
                "waiting" => match v {
                    "me" => q.waiting_for_me = true,
                    "" => {}
                    _ => {
                        return Err(Error::bad_param(
                            "waiting",
                            Reason::NotOption {
                                value: v.to_string(),
                                options: vec!["me".into()],
                            },
                        ))
                    }
                },
                "q" => q.q = Some(v.to_string()).filter(|s| !s.trim().is_empty()),
                _ => {
                    let (field, op) = match k.split_once('[') {
                        Some((f, rest)) => {
                            let op = rest
                                .strip_suffix(']')
                                .and_then(Op::parse)
                                .ok_or_else(|| Error::bad_param(k, Reason::UnknownOperator))?;
                            (f, op)
                        }
                        None => (k, Op::Eq),
                    };
                    q.filters.push(Filter {
                        field: field.to_string(),
                        op,
                        value: v.to_string(),
                    });
                }
            }
        }
        Ok(q)
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    /// The records, in order.
    pub items: Vec<Record>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs() {
        let q = ListQuery::from_pairs([
            ("status", "lead"),
            ("amount[gte]", "10"),
            ("sort", "-name"),
            ("limit", "20"),
        ])
        .unwrap();
        assert_eq!(q.filters.len(), 2);
        assert_eq!(q.filters[1].op, Op::Gte);
        assert_eq!(q.sort.as_param(), "-name");
        assert_eq!(q.limit, 20);
        assert!(ListQuery::from_pairs([("limit", "0")]).is_err());
        assert!(ListQuery::from_pairs([("limit", "201")]).is_err());
        assert!(ListQuery::from_pairs([("x[like]", "1")]).is_err());
        assert!(ListQuery::from_pairs([("x[eq", "1")]).is_err());
    }
}
