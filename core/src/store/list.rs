//! Running list queries: typed filters, scope, full-text, sort and keyset pagination.

use super::records::{entity_for, entity_seen};
use super::scope::scope_condition;
use super::stretch::where_clause;
use super::text_match;
use super::Store;
use crate::db::sql::like_pattern;
use crate::db::Value as Sql;
use crate::db::{ddl, sql};
use crate::query::{ListQuery, Op, Page, MAX_FILTERS, MAX_FILTER_VALUES};
use crate::record::OrderedPage;
use crate::schema::{Entity, FieldDef, FieldType};
use crate::search::match_expression;
use crate::value::Value;
use crate::{Access, Error, Reason, Result};

/// Most values an `in` filter may list.
const MAX_IN_VALUES: usize = 1000;

/// The definition a system column is typed with, or a field's definition.
pub(super) fn column_def(e: &Entity, name: &str) -> Option<FieldDef> {
    let sys = |kind| Some(FieldDef::new(name, kind, name, name));
    match name {
        "id" | "version" => sys(FieldType::Integer),
        "owner" | "created_by" | "updated_by" => sys(FieldType::User),
        "created_at" | "updated_at" => sys(FieldType::Datetime),
        _ => e.field(name).map(|f| f.def.clone()),
    }
}

/// A cursor's value is of the kind the sort column stores (a text where numbers are kept is a
/// damaged cursor — on PostgreSQL it could not even be compared).
pub(super) fn fits_column(e: &Entity, field: &str, v: &Sql) -> bool {
    let column = column_def(e, field).map(|d| d.kind.info().column);
    matches!(
        (v, column),
        (Sql::Null, _)
            | (_, None)
            | (Sql::Integer(_), Some(crate::schema::Column::Integer))
            | (Sql::Text(_), Some(crate::schema::Column::Text))
    )
}

/// A filter value typed for SQL. Datetime filters also accept a plain date (midnight UTC).
fn typed(def: &FieldDef, raw: &str, param: &str) -> Result<Sql> {
    let parsed = Value::parse_str(def, raw).or_else(|e| {
        if def.kind == FieldType::Datetime {
            let day = FieldDef::new(&def.name, FieldType::Date, "", "");
            match Value::parse_str(&day, raw) {
                Ok(Value::Date(d)) => Ok(Value::DateTime(
                    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
                )),
                _ => Err(e),
            }
        } else {
            Err(e)
        }
    });
    let v = parsed.map_err(|why| Error::bad_param(param, why))?;
    if v.is_null() {
        return Err(Error::bad_param(param, Reason::FilterNeedsValue));
    }
    Ok(sql::to_sql(def, &v))
}

/// Refuses more filters, or more filter values, than one statement can hold.
fn check_filter_count(query: &ListQuery) -> Result<()> {
    if query.filters.len() > MAX_FILTERS {
        return Err(Error::bad_param(
            "filters",
            Reason::TooManyFilters { max: MAX_FILTERS },
        ));
    }
    let values: usize = query
        .filters
        .iter()
        .map(|f| match f.op {
            Op::In => f.value.split(',').count(),
            _ => 1,
        })
        .sum();
    if values > MAX_FILTER_VALUES {
        return Err(Error::bad_param(
            "filters",
            Reason::TooManyFilterValues {
                max: MAX_FILTER_VALUES,
            },
        ));
    }
    Ok(())
}

/// The WHERE conditions of a list query (scope, filters, full-text); `None` when the search
/// text can match nothing. `off_index[i]` keeps filter `i` off its field's index (`+col`), so
/// that a sorted list walks its sort's index instead (see `selectivity.rs`).
#[allow(clippy::type_complexity)]
pub(super) fn conditions(
    access: &Access,
    e: &Entity,
    perm: &crate::access::EntityPermission,
    entity: &str,
    query: &ListQuery,
    off_index: &[bool],
) -> Result<Option<(Vec<String>, Vec<Sql>)>> {
    check_filter_count(query)?;
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<Sql> = Vec::new();
    let (scope, scope_params) = scope_condition(access, perm, "");
    if !scope.is_empty() {
        conds.push(scope);
        params.extend(scope_params);
    }
    for (i, f) in query.filters.iter().enumerate() {
        let plus = if off_index.get(i).copied().unwrap_or(false) {
            "+"
        } else {
            ""
        };
        let param = if f.op == Op::Eq {
            f.field.clone()
        } else {
            format!("{}[{}]", f.field, f.op.as_str())
        };
        let def = column_def(e, &f.field).ok_or_else(|| {
            Error::bad_param(
                &param,
                Reason::NoField {
                    entity: entity.to_string(),
                    field: f.field.clone(),
                },
            )
        })?;
        let col = ddl::column(&f.field);
        if f.value.contains('\0') {
            // No stored text holds one, and PostgreSQL could not even compare it.
            return Err(Error::bad_param(&param, Reason::ContainsNul));
        }
        let multi = def.kind.info().multi;
        match f.op {
            Op::Null => {
                let want = match f.value.as_str() {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    _ => return Err(Error::bad_param(&param, Reason::NotBoolean)),
                };
                conds.push(format!("{col} IS {}NULL", if want { "" } else { "NOT " }));
            }
            Op::Contains if multi => {
                let one = FieldDef {
                    kind: FieldType::Select,
                    ..def.clone()
                };
                let v = typed(&one, &f.value, &param)?;
                conds.push(format!(
                    "EXISTS (SELECT 1 FROM json_each({col}) WHERE value = ?)"
                ));
                params.push(v);
            }
            Op::Contains if def.kind.is_textual() || def.kind.info().options => {
                if f.value.is_empty() {
                    return Err(Error::bad_param(&param, Reason::NeedsValue));
                }
                conds.push(format!("{col} LIKE ? ESCAPE '\\'"));
                params.push(Sql::Text(like_pattern(&f.value)));
            }
            Op::Contains => {
                return Err(Error::bad_param(
                    &param,
                    Reason::NoContains { kind: def.kind },
                ));
            }
            _ if multi => return Err(Error::bad_param(&param, Reason::MultiSelectOps)),
            Op::In => {
                let parts: Vec<&str> = f
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                if parts.is_empty() || parts.len() > MAX_IN_VALUES {
                    return Err(Error::bad_param(
                        &param,
                        Reason::InListSize { max: MAX_IN_VALUES },
                    ));
                }
                let mut marks = Vec::new();
                for p in parts {
                    params.push(typed(&def, p, &param)?);
                    marks.push("?");
                }
                conds.push(format!("{plus}{col} IN ({})", marks.join(", ")));
            }
            Op::Ne => {
                params.push(typed(&def, &f.value, &param)?);
                conds.push(format!("({col} != ? OR {col} IS NULL)"));
            }
            op => {
                if matches!(op, Op::Lt | Op::Lte | Op::Gt | Op::Gte)
                    && def.kind == FieldType::Boolean
                {
                    return Err(Error::bad_param(&param, Reason::BooleanOps));
                }
                let sym = match op {
                    Op::Eq => "=",
                    Op::Lt => "<",
                    Op::Lte => "<=",
                    Op::Gt => ">",
                    _ => ">=",
                };
                params.push(typed(&def, &f.value, &param)?);
                conds.push(format!("{plus}{col} {sym} ?"));
            }
        }
    }
    if let Some(q) = &query.q {
        match match_expression(q) {
            // A caller whose role hides some of the type's fields searches only the fields
            // they see: the full-text index holds every field, so a match there could come
            // from a hidden one (and, tried term by term, spell it out).
            // A type kept out of the index is searched the same way, in its textual fields.
            Some(_) if super::field_rules::hides_any(access, entity) || !e.searchable => {
                if let Some((cond, more)) = super::field_rules::seen_text_condition(e, q, "") {
                    conds.push(cond);
                    params.extend(more);
                }
            }
            Some(m) => {
                conds.push(super::text_match::condition(entity));
                params.push(Sql::Text(m));
            }
            None => {
                return Ok(None);
            }
        }
    }
    Ok(Some((conds, params)))
}

impl Store {
    /// A query with `waiting=me` turned into what it means — `id in (…)` of the records with
    /// an approval waiting for the caller; `None` when there are none.
    pub(super) fn resolve_waiting<'q>(
        &self,
        access: &Access,
        entity: &str,
        query: &'q ListQuery,
    ) -> Result<Option<std::borrow::Cow<'q, ListQuery>>> {
        if !query.waiting_for_me {
            return Ok(Some(std::borrow::Cow::Borrowed(query)));
        }
        let ids = self.records_waiting_for(access, entity)?;
        if ids.is_empty() {
            return Ok(None);
        }
        let mut q = query.clone();
        q.waiting_for_me = false;
        q.filters.push(crate::Filter {
            field: "id".into(),
            op: crate::Op::In,
            value: ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
        });
        Ok(Some(std::borrow::Cow::Owned(q)))
    }

    /// Counts the records a list query would return (all pages), within scope.
    pub fn count(&self, access: &Access, entity: &str, query: &ListQuery) -> Result<i64> {
        let Some(query) = self.resolve_waiting(access, entity, query)? else {
            entity_for(&self.schema(), access, entity, "read", |p| p.read)?;
            return Ok(0);
        };
        let query = query.as_ref();
        let (e, perm) = entity_seen(self, access, entity)?;
        let Some((conds, params)) = conditions(access, &e, &perm, entity, query, &[])? else {
            return Ok(0);
        };
        let sql = format!(
            "SELECT COUNT(*) FROM {} {}",
            ddl::table(entity),
            where_clause(&conds)
        );
        self.read(|c| {
            Ok(c.prepare_cached(&sql)?
                .query_row(crate::db::params_from_iter(params), |r| r.get(0))?)
        })
    }

    /// Counts like [`Store::count`] but stops after `cap` records: `(n, true)` means "more
    /// than `cap`". Bounded cost for screens that show a total over millions of records.
    pub fn count_up_to(
        &self,
        access: &Access,
        entity: &str,
        query: &ListQuery,
        cap: i64,
    ) -> Result<(i64, bool)> {
        let Some(query) = self.resolve_waiting(access, entity, query)? else {
            entity_for(&self.schema(), access, entity, "read", |p| p.read)?;
            return Ok((0, false));
        };
        let query = query.as_ref();
        let (e, perm) = entity_seen(self, access, entity)?;
        let Some((mut conds, mut params)) = conditions(access, &e, &perm, entity, query, &[])?
        else {
            return Ok((0, false));
        };
        let cap = cap.max(0);
        let table = ddl::table(entity);
        let count = |sql: &str, params: Vec<Sql>| -> Result<i64> {
            self.read(|c| {
                Ok(c.prepare_cached(sql)?
                    .query_row(crate::db::params_from_iter(params), |r| r.get(0))?)
            })
        };
        // A full-text search is counted in two tries (see `text_match.rs`): the first records
        // say how common the matches are, and so which count to run.
        let mut capped = true;
        if let Some(text) = text_match::take(entity, &mut conds, &mut params) {
            let sqlite = !self.is_postgres();
            let sample = |walk: usize| -> Result<(i64, i64)> {
                let mut sample_params = params.clone();
                sample_params.push(text.clone());
                let sql = text_match::sampled(entity, &table, &where_clause(&conds), walk, sqlite);
                self.read(|c| {
                    Ok(c.prepare_cached(&sql)?
                        .query_row(crate::db::params_from_iter(sample_params), |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })?)
                })
            };
            let (walked, matched) = sample(text_match::WALK)?;
            if walked < text_match::WALK as i64 || matched > cap {
                // Every record walked, or more than enough matched among them.
                return Ok((matched.min(cap), matched > cap));
            }
            // SQLite reads every match to count them: when they are dense, a longer walk
            // that holds more than the cap is cheaper.
            if let Some(walk) = text_match::resample(walked, matched, cap).filter(|_| sqlite) {
                let (walked, matched) = sample(walk)?;
                if walked < walk as i64 || matched > cap {
                    return Ok((matched.min(cap), matched > cap));
                }
            }
            // SQLite's capped count reads the matches first and stops at the cap: never
            // slower than counting every one of them.
            capped = sqlite || text_match::dense(walked, matched);
            conds.push(text_match::condition(entity));
            params.push(text);
        }
        if !capped {
            // Sparse matches: all counted from the full-text index.
            let sql = format!("SELECT COUNT(*) FROM {table} {}", where_clause(&conds));
            let n = count(&sql, params)?;
            return Ok((n.min(cap), n > cap));
        }
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {table} {} LIMIT {}) AS counted",
            where_clause(&conds),
            cap + 1
        );
        let n = count(&sql, params)?;
        Ok((n.min(cap), n > cap))
    }

    /// Lists records of an entity type the caller may read, within scope.
    pub fn list(&self, access: &Access, entity: &str, query: &ListQuery) -> Result<Page> {
        Ok(self.list_ordered(access, entity, query)?.keyed())
    }

    /// [`Store::list`] with each record's values in the field order of the type as the caller
    /// sees it (the page holds that type): a page written straight out builds no maps.
    pub fn list_ordered(
        &self,
        access: &Access,
        entity: &str,
        query: &ListQuery,
    ) -> Result<OrderedPage> {
        let plan = self.list_plan(access, entity, query)?;
        Ok(self.read_plan(&plan)?.page)
    }
}
