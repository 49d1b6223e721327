//! Grouped counts, sums, averages, minimums and maximums computed by the database, with the same
//! filters, full-text search and scope as lists — so that a figure over a million records is
//! one query, not a million records read.

use super::exchange_rates::{converted_avg, converted_decimal, no_rate, Conversion};
use super::list::{column_def, conditions};
use super::records::entity_seen;
use super::Store;
use crate::db::ValueRef;
use crate::db::{ddl, sql};
use crate::query::{Filter, ListQuery};
use crate::schema::{FieldDef, FieldType};
use crate::{Access, Error, Reason, Result};
use serde_json::{json, Value as Json};

/// A period a date or time is grouped by (`field:month`, `field:quarter`, `field:year`):
/// groups keyed `2026-03`, `2026-Q1`, `2026`, in order. A time is read in the install's time
/// zone, so a deal closed at 00:30 on 1 April in Beijing is April's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Month,
    Quarter,
    Year,
}

impl Bucket {
    /// The names a group spec may end in.
    pub const NAMES: [&'static str; 3] = ["month", "quarter", "year"];

    fn parse(s: &str) -> Option<Bucket> {
        match s {
            "month" => Some(Bucket::Month),
            "quarter" => Some(Bucket::Quarter),
            "year" => Some(Bucket::Year),
            _ => None,
        }
    }

    /// The SQL for the period of `day`, an expression giving `YYYY-MM-DD` text.
    fn sql(self, day: &str) -> String {
        match self {
            Bucket::Month => format!("substr({day}, 1, 7)"),
            Bucket::Year => format!("substr({day}, 1, 4)"),
            Bucket::Quarter => format!(
                "(substr({day}, 1, 4) || '-Q' || ((CAST(substr({day}, 6, 2) AS INTEGER) + 2) / 3))"
            ),
        }
    }
}

/// A group spec split: the field, and the period when it names one (`signed_on:month`).
pub fn split_group(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once(':') {
        Some((field, period)) => (field, Some(period)),
        None => (spec, None),
    }
}

/// Most groups one aggregate may return.
pub const MAX_GROUPS: usize = 100_000;
/// Most metrics one aggregate may compute.
const MAX_METRICS: usize = 20;
/// Most fields one aggregate may group by.
const MAX_GROUP_FIELDS: usize = 3;

/// What to compute for each group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    /// Number of records.
    Count,
    /// Sum of a number field; of a date field, the sum of its day numbers since 1970-01-01
    /// (so that `sum(closed) - sum(opened)` over the same records is their total span).
    Sum(String),
    /// Smallest value.
    Min(String),
    /// Largest value.
    Max(String),
    /// Average of a number field over the records that have a value (exact: the sum over
    /// the count, rounded to two places more than the field keeps, at least two).
    Avg(String),
}

impl Metric {
    /// Parses `count`, `sum:field`, `avg:field`, `min:field` or `max:field`.
    pub fn parse(s: &str) -> Result<Metric> {
        let bad = || {
            Error::bad_param(
                "metrics",
                Reason::BadMetric {
                    metric: s.to_string(),
                },
            )
        };
        match s.split_once(':') {
            None if s == "count" => Ok(Metric::Count),
            Some(("sum", f)) if !f.is_empty() => Ok(Metric::Sum(f.into())),
            Some(("min", f)) if !f.is_empty() => Ok(Metric::Min(f.into())),
            Some(("max", f)) if !f.is_empty() => Ok(Metric::Max(f.into())),
            Some(("avg", f)) if !f.is_empty() => Ok(Metric::Avg(f.into())),
            _ => Err(bad()),
        }
    }
}

/// A grouped aggregate over the records a list query would return.
#[derive(Debug, Clone, Default)]
pub struct AggregateQuery {
    /// All conditions must hold.
    pub filters: Vec<Filter>,
    /// Full-text search within the entity type.
    pub q: Option<String>,
    /// Up to three fields (or system columns such as `owner`) to group by; none for one row.
    /// A date or time may be grouped by a period: `signed_on:month`, `:quarter`, `:year`.
    pub group_by: Vec<String>,
    /// What to compute, at least one.
    pub metrics: Vec<Metric>,
}

/// One group: its key values (in `group_by` order) and its metrics (in `metrics` order),
/// as JSON like record fields (decimals and dates as strings).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AggregateRow {
    /// Group key.
    pub group: Vec<Json>,
    /// Metric values.
    pub values: Vec<Json>,
}

fn sum_json(def: &FieldDef, v: ValueRef<'_>) -> Json {
    match (def.kind, v) {
        (
            FieldType::Decimal | FieldType::Percent | FieldType::Formula | FieldType::Currency,
            ValueRef::Null,
        ) => {
            json!(crate::value::scaled_to_decimal(0, def.effective_scale()).to_string())
        }
        (_, ValueRef::Null) => json!(0),
        (
            FieldType::Decimal | FieldType::Percent | FieldType::Formula | FieldType::Currency,
            ValueRef::Integer(i),
        ) => {
            json!(crate::value::scaled_to_decimal(i, def.effective_scale()).to_string())
        }
        (_, ValueRef::Integer(i)) => json!(i),
        (_, ValueRef::Real(r)) => json!(r),
        _ => Json::Null,
    }
}

/// What one metric's column holds.
enum Column {
    Count,
    Sum(FieldDef),
    Plain(FieldDef),
    /// Two columns: the sum and the count of values.
    Avg(FieldDef),
    /// A sum, minimum or maximum of amounts in several currencies, each converted to the
    /// company currency (stored places plus the rate's), then a column naming a currency
    /// found without a rate (null when none was).
    Converted(FieldDef),
    /// An average of converted amounts: the converted sum, the count, the missing currency.
    ConvertedAvg(FieldDef),
}

/// An average from the stored (scaled) sum and the count of values: exact, rounded to two
/// places more than the field keeps (at least two); `null` without values.
fn avg_json(def: &FieldDef, sum: ValueRef<'_>, count: i64) -> Json {
    let ValueRef::Integer(sum) = sum else {
        return Json::Null;
    };
    if count == 0 {
        return Json::Null;
    }
    let scale = match def.kind {
        FieldType::Integer => 0,
        _ => def.effective_scale(),
    };
    crate::value::average(crate::value::scaled_to_decimal(sum, scale), count, scale)
        .map_or(Json::Null, Json::String)
}

impl Store {
    /// Computes grouped metrics over the records of an entity type the caller may read,
    /// within scope. Groups come sorted by their key.
    pub fn aggregate(
        &self,
        access: &Access,
        entity: &str,
        query: &AggregateQuery,
    ) -> Result<Vec<AggregateRow>> {
        let (e, perm) = entity_seen(self, access, entity)?;
        if query.metrics.is_empty() || query.metrics.len() > MAX_METRICS {
            return Err(Error::bad_param(
                "metrics",
                Reason::MetricCount { max: MAX_METRICS },
            ));
        }
        if query.group_by.len() > MAX_GROUP_FIELDS {
            return Err(Error::bad_param(
                "group_by",
                Reason::TooManyGroupFields {
                    max: MAX_GROUP_FIELDS,
                },
            ));
        }
        let field = |name: &str, param: &str| -> Result<FieldDef> {
            let def = column_def(&e, name).ok_or_else(|| {
                Error::bad_param(
                    param,
                    Reason::NoField {
                        entity: entity.to_string(),
                        field: name.to_string(),
                    },
                )
            })?;
            if !def.kind.info().orderable {
                return Err(Error::bad_param(
                    param,
                    Reason::NotGroupable { kind: def.kind },
                ));
            }
            Ok(def)
        };
        // Each group: its field, and the SQL that keys it (the column, or its period).
        let offset = self.time_zone()?.unwrap_or(0);
        let mut groups: Vec<(FieldDef, Option<Bucket>)> = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        for g in &query.group_by {
            let (name, period) = split_group(g);
            let def = field(name, "group_by")?;
            let col = ddl::column(&def.name);
            let bucket = match period {
                None => None,
                Some(p) => {
                    let b = Bucket::parse(p).ok_or_else(|| {
                        Error::bad_param(
                            "group_by",
                            Reason::NotOption {
                                value: p.to_string(),
                                options: Bucket::NAMES.iter().map(|n| n.to_string()).collect(),
                            },
                        )
                    })?;
                    if !matches!(def.kind, FieldType::Date | FieldType::Datetime) {
                        return Err(Error::bad_param(
                            "group_by",
                            Reason::NotGroupable { kind: def.kind },
                        ));
                    }
                    Some(b)
                }
            };
            keys.push(match (bucket, def.kind) {
                (None, _) => col,
                (Some(b), FieldType::Datetime) => b.sql(&format!(
                    "strftime('%Y-%m-%d', {col}, '{offset:+} minutes')"
                )),
                (Some(b), _) => b.sql(&col),
            });
            groups.push((def, bucket));
        }
        let mut select: Vec<String> = keys.clone();
        let mut kinds: Vec<Column> = Vec::new();
        // Amounts whose currency differs per record are converted to the company currency,
        // unless the groups are by that currency (each group then has one, and its own sums).
        let by_field: Vec<&str> = groups
            .iter()
            .filter(|(_, b)| b.is_none())
            .map(|(d, _)| d.name.as_str())
            .collect();
        let mut rates = None;
        let mut conversion = |def: &FieldDef| -> Result<Option<Conversion>> {
            let Some(code_field) = def.currency_field.as_deref() else {
                return Ok(None);
            };
            if def.kind != FieldType::Currency
                || by_field.contains(&code_field)
                || e.field(code_field).is_none()
            {
                return Ok(None);
            }
            if rates.is_none() {
                rates = Some(self.exchange_rates()?);
            }
            Ok(Some(Conversion::new(
                &ddl::column(code_field),
                self.company_currency()?,
                rates.as_ref().expect("read above"),
            )))
        };
        for m in &query.metrics {
            match m {
                Metric::Count => {
                    select.push("COUNT(*)".into());
                    kinds.push(Column::Count);
                }
                Metric::Avg(f) => {
                    let def = field(f, "metrics")?;
                    if !matches!(
                        def.kind,
                        FieldType::Integer
                            | FieldType::Decimal
                            | FieldType::Percent
                            | FieldType::Formula
                            | FieldType::Currency
                    ) {
                        return Err(Error::bad_param(
                            "metrics",
                            Reason::NoSum { kind: def.kind },
                        ));
                    }
                    let col = ddl::column(f);
                    if let Some(c) = conversion(&def)? {
                        select.push(format!(
                            "SUM({}), COUNT({col}), {}",
                            c.amount(&col),
                            c.missing_column(&col)
                        ));
                        kinds.push(Column::ConvertedAvg(def));
                        continue;
                    }
                    select.push(format!("SUM({col}), COUNT({col})"));
                    kinds.push(Column::Avg(def));
                }
                Metric::Sum(f) => {
                    let def = field(f, "metrics")?;
                    let col = ddl::column(f);
                    if let Some(c) = conversion(&def)? {
                        select.push(format!(
                            "SUM({}), {}",
                            c.amount(&col),
                            c.missing_column(&col)
                        ));
                        kinds.push(Column::Converted(def));
                        continue;
                    }
                    // Exact for integers and decimals: SUM over the stored (scaled) integers.
                    let expr = match def.kind {
                        FieldType::Integer
                        | FieldType::Decimal
                        | FieldType::Percent
                        | FieldType::Formula
                        | FieldType::Currency => {
                            format!("SUM({col})")
                        }
                        FieldType::Date => {
                            format!("SUM(CAST(julianday({col}) - 2440587.5 AS INTEGER))")
                        }
                        other => {
                            return Err(Error::bad_param("metrics", Reason::NoSum { kind: other }))
                        }
                    };
                    select.push(expr);
                    kinds.push(Column::Sum(def));
                }
                Metric::Min(f) | Metric::Max(f) => {
                    let def = field(f, "metrics")?;
                    let fun = if matches!(m, Metric::Min(_)) {
                        "MIN"
                    } else {
                        "MAX"
                    };
                    let col = ddl::column(f);
                    if let Some(c) = conversion(&def)? {
                        select.push(format!(
                            "{fun}({}), {}",
                            c.amount(&col),
                            c.missing_column(&col)
                        ));
                        kinds.push(Column::Converted(def));
                        continue;
                    }
                    select.push(format!("{fun}({col})"));
                    kinds.push(Column::Plain(def));
                }
            }
        }
        let list = ListQuery {
            filters: query.filters.clone(),
            q: query.q.clone(),
            ..ListQuery::default()
        };
        let Some((conds, params)) = conditions(access, &e, &perm, entity, &list, &[])? else {
            return Ok(vec![]);
        };
        let where_ = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let group_sql = if groups.is_empty() {
            String::new()
        } else {
            format!("GROUP BY {0} ORDER BY {0}", keys.join(", "))
        };
        let sql_text = format!(
            "SELECT {} FROM {} {where_} {group_sql} LIMIT {}",
            select.join(", "),
            ddl::table(entity),
            MAX_GROUPS + 1
        );
        let n = groups.len();
        let rows = self
            .read(|c| {
                let mut stmt = c.prepare_cached(&sql_text)?;
                let mut rows = stmt.query(crate::db::params_from_iter(params))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut group = Vec::with_capacity(n);
                    for (i, (d, bucket)) in groups.iter().enumerate() {
                        group.push(match bucket {
                            // A period's key is its text (`2026-03`).
                            Some(_) => match r.get_ref(i)? {
                                ValueRef::Text(t) => {
                                    Json::String(String::from_utf8_lossy(t).into())
                                }
                                _ => Json::Null,
                            },
                            None => sql::from_sql(d, r.get_ref(i)?).to_json(),
                        });
                    }
                    let mut values = Vec::with_capacity(kinds.len());
                    let mut at = n;
                    for kind in &kinds {
                        let v = r.get_ref(at)?;
                        values.push(match kind {
                            Column::Count => json!(r.get::<_, i64>(at)?),
                            Column::Sum(d) => sum_json(d, v),
                            Column::Plain(d) => sql::from_sql(d, v).to_json(),
                            Column::Avg(d) => {
                                at += 1;
                                avg_json(d, v, r.get::<_, i64>(at)?)
                            }
                            Column::Converted(d) => {
                                at += 1;
                                no_rate(r.get_ref(at)?)?;
                                match converted_decimal(d, v)? {
                                    Some(x) => json!(x.to_string()),
                                    // A sum over no values is zero, as for other amounts.
                                    None if matches!(
                                        query.metrics.get(values.len()),
                                        Some(Metric::Sum(_))
                                    ) =>
                                    {
                                        sum_json(d, ValueRef::Null)
                                    }
                                    None => Json::Null,
                                }
                            }
                            Column::ConvertedAvg(d) => {
                                let count = r.get::<_, i64>(at + 1)?;
                                no_rate(r.get_ref(at + 2)?)?;
                                at += 2;
                                converted_avg(d, v, count)?
                            }
                        });
                        at += 1;
                    }
                    out.push(AggregateRow { group, values });
                }
                Ok(out)
            })
            .map_err(|e| match e {
                // SQLite's "integer overflow"; PostgreSQL's "bigint out of range" (22003).
                Error::Database(m) if m.contains("overflow") || m.contains("(22003)") => {
                    Error::bad_param("metrics", Reason::SumTooLarge)
                }
                other => other,
            })?;
        if rows.len() > MAX_GROUPS {
            return Err(Error::bad_param(
                "group_by",
                Reason::TooManyGroups { max: MAX_GROUPS },
            ));
        }
        Ok(rows)
    }
}
