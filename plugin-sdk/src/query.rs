//! Typed queries: conditions on fields with typed values, sort, paging, search, the scope a
//! read runs with, and aggregate metrics — what the host receives as WIT variants and records,
//! never as strings it re-parses.

use crate::bindings::qingguan::plugin1_2_0::types as wit;

/// A value to compare a field with: typed, so that the host never guesses.
///
/// ```
/// # use qingguan_plugin_sdk::{host::FilterValue, date::Date, Decimal};
/// assert_eq!(FilterValue::from("won"), FilterValue::Text("won".into()));
/// assert_eq!(FilterValue::from(7), FilterValue::Integer(7));
/// assert_eq!(FilterValue::from(Date::parse("2026-03-31").unwrap()), FilterValue::Date(Date::parse("2026-03-31").unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    /// Text, select keys, e-mail and phone values (and dates or decimals written as text).
    Text(String),
    /// Integers, references and users (ids).
    Integer(i64),
    /// Exact decimals and money.
    Decimal(crate::Decimal),
    /// Yes or no.
    Boolean(bool),
    /// A calendar date.
    Date(crate::date::Date),
}

impl From<&str> for FilterValue {
    fn from(s: &str) -> Self {
        FilterValue::Text(s.to_string())
    }
}
impl From<String> for FilterValue {
    fn from(s: String) -> Self {
        FilterValue::Text(s)
    }
}
impl From<&String> for FilterValue {
    fn from(s: &String) -> Self {
        FilterValue::Text(s.clone())
    }
}
impl From<i64> for FilterValue {
    fn from(n: i64) -> Self {
        FilterValue::Integer(n)
    }
}
impl From<i32> for FilterValue {
    fn from(n: i32) -> Self {
        FilterValue::Integer(n.into())
    }
}
impl From<u32> for FilterValue {
    fn from(n: u32) -> Self {
        FilterValue::Integer(n.into())
    }
}
impl From<bool> for FilterValue {
    fn from(b: bool) -> Self {
        FilterValue::Boolean(b)
    }
}
impl From<crate::Decimal> for FilterValue {
    fn from(d: crate::Decimal) -> Self {
        FilterValue::Decimal(d)
    }
}
impl From<crate::date::Date> for FilterValue {
    fn from(d: crate::date::Date) -> Self {
        FilterValue::Date(d)
    }
}

impl FilterValue {
    fn to_wit(&self) -> wit::Value {
        match self {
            FilterValue::Text(s) => wit::Value::Text(s.clone()),
            FilterValue::Integer(n) => wit::Value::Integer(*n),
            FilterValue::Decimal(d) => wit::Value::Decimal(d.to_string()),
            FilterValue::Boolean(b) => wit::Value::Boolean(*b),
            FilterValue::Date(d) => wit::Value::Date(wit::Date {
                year: d.year,
                month: d.month,
                day: d.day,
            }),
        }
    }
}

/// Whose access a read or write runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The calling user's (the default): only what their role lets them see and change. In
    /// calls no user caused (install, jobs, events) the plugin's own grant.
    #[default]
    Caller,
    /// The plugin's own grant whoever called; needs the `elevate` capability.
    Elevated,
}

impl Scope {
    pub(crate) fn to_wit(self) -> wit::Scope {
        match self {
            Scope::Caller => wit::Scope::Caller,
            Scope::Elevated => wit::Scope::Elevated,
        }
    }
}

/// A list query: typed conditions, sort, page size, cursor, search, and whose access it reads
/// with (the calling user's unless [`Query::elevated`]).
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let won = host::query_all("deal", &host::Query::new().eq("stage", "won").gte("closed_on", "2026-01-01"))?;
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Query {
    filters: Vec<wit::Filter>,
    sort: Option<wit::Sort>,
    limit: Option<u32>,
    cursor: Option<String>,
    search: Option<String>,
    scope: Scope,
}

impl Query {
    /// An empty query (newest first, 50 per page, as the calling user).
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new();
    /// ```
    pub fn new() -> Query {
        Query::default()
    }

    fn cond(mut self, field: &str, condition: wit::Condition) -> Query {
        self.filters.push(wit::Filter {
            field: field.into(),
            condition,
        });
        self
    }

    /// `field` equals `value`.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().eq("stage", "won").eq("owner", 3);
    /// ```
    pub fn eq(self, field: &str, value: impl Into<FilterValue>) -> Query {
        self.cond(field, wit::Condition::Eq(value.into().to_wit()))
    }

    /// `field` differs from `value`.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().ne("stage", "lost");
    /// ```
    pub fn ne(self, field: &str, value: impl Into<FilterValue>) -> Query {
        self.cond(field, wit::Condition::Ne(value.into().to_wit()))
    }

    /// `field` is less than `value`.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().lt("due_on", "2026-07-01");
    /// ```
    pub fn lt(self, field: &str, value: impl Into<FilterValue>) -> Query {
        self.cond(field, wit::Condition::Lt(value.into().to_wit()))
    }

    /// `field` is at most `value`.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().lte("amount", 1000);
    /// ```
    pub fn lte(self, field: &str, value: impl Into<FilterValue>) -> Query {
        self.cond(field, wit::Condition::Lte(value.into().to_wit()))
    }

    /// `field` is greater than `value`.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().gt("amount", 1000);
    /// ```
    pub fn gt(self, field: &str, value: impl Into<FilterValue>) -> Query {
        self.cond(field, wit::Condition::Gt(value.into().to_wit()))
    }

    /// `field` is at least `value`.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().gte("closed_on", "2026-01-01");
    /// ```
    pub fn gte(self, field: &str, value: impl Into<FilterValue>) -> Query {
        self.cond(field, wit::Condition::Gte(value.into().to_wit()))
    }

    /// `field` is one of `values` (text values may not contain commas).
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().in_list("stage", ["won", "lost"]);
    /// ```
    pub fn in_list<V: Into<FilterValue>>(
        self,
        field: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Query {
        let values = values.into_iter().map(|v| v.into().to_wit()).collect();
        self.cond(field, wit::Condition::InList(values))
    }

    /// Text `field` contains `text` (case-insensitive).
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().contains("name", "杭州");
    /// ```
    pub fn contains(self, field: &str, text: &str) -> Query {
        self.cond(field, wit::Condition::Contains(text.into()))
    }

    /// `field` has no value.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().is_null("closed_on");
    /// ```
    pub fn is_null(self, field: &str) -> Query {
        self.cond(field, wit::Condition::IsNull)
    }

    /// `field` has a value.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().not_null("opened_on");
    /// ```
    pub fn not_null(self, field: &str) -> Query {
        self.cond(field, wit::Condition::NotNull)
    }

    /// Sorts by `field` (or `-field` for descending).
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().sort("-amount");
    /// ```
    pub fn sort(mut self, sort: &str) -> Query {
        let (field, descending) = match sort.strip_prefix('-') {
            Some(f) => (f, true),
            None => (sort, false),
        };
        self.sort = Some(wit::Sort {
            field: field.into(),
            descending,
        });
        self
    }

    /// Page size, 1 to 200.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().limit(200);
    /// ```
    pub fn limit(mut self, limit: u32) -> Query {
        self.limit = Some(limit);
        self
    }

    /// Continues after a previous page.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().cursor("abc");
    /// ```
    pub fn cursor(mut self, cursor: impl Into<String>) -> Query {
        self.cursor = Some(cursor.into());
        self
    }

    /// Full-text search within the entity type.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().search("杭州");
    /// ```
    pub fn search(mut self, text: &str) -> Query {
        self.search = Some(text.into());
        self
    }

    /// Reads with the plugin's own grant instead of the calling user's (needs the `elevate`
    /// capability; without it the query fails with [`Error::Denied`]).
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().elevated();
    /// ```
    pub fn elevated(mut self) -> Query {
        self.scope = Scope::Elevated;
        self
    }

    /// Reads as the calling user — the default; use it to undo [`Query::elevated`] on a
    /// query built for both.
    ///
    /// ```
    /// let q = qingguan_plugin_sdk::host::Query::new().elevated().as_user();
    /// ```
    pub fn as_user(self) -> Query {
        self.scope(Scope::Caller)
    }

    /// Reads with `scope`.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::host::{Query, Scope};
    /// let q = Query::new().scope(Scope::Caller);
    /// ```
    pub fn scope(mut self, scope: Scope) -> Query {
        self.scope = scope;
        self
    }

    pub(crate) fn to_wit(&self) -> wit::RecordQuery {
        wit::RecordQuery {
            filters: self.filters.clone(),
            sort: self.sort.clone(),
            limit: self.limit.unwrap_or(50),
            cursor: self.cursor.clone(),
            search: self.search.clone(),
            scope: self.scope.to_wit(),
        }
    }
}

/// What [`crate::host::aggregate`] computes per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    /// Number of records.
    Count,
    /// Sum of a number, decimal or date field (dates: the sum of their day numbers since
    /// 1970-01-01, so `Sum("closed_on")` minus `Sum("opened_on")` over the same records is
    /// their total span in days).
    Sum(&'static str),
    /// Smallest value.
    Min(&'static str),
    /// Largest value.
    Max(&'static str),
}

impl Metric {
    pub(crate) fn to_wit(&self) -> wit::Metric {
        match self {
            Metric::Count => wit::Metric::Count,
            Metric::Sum(f) => wit::Metric::Sum(f.to_string()),
            Metric::Min(f) => wit::Metric::Min(f.to_string()),
            Metric::Max(f) => wit::Metric::Max(f.to_string()),
        }
    }
}
