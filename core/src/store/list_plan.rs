//! A list page's statements: made from a query (the caller's scope, filters, sort, cursor and
//! size in their text and parameters), then read stretch by stretch; and what the page depends
//! on, for keeping it (`kept_pages.rs`).

use super::keyset;
use super::list::{column_def, conditions, fits_column};
use super::records::{entity_seen, select_list};
use super::scope::{reads_users, scope_condition};
use super::stretch;
use super::text_match;
use super::Store;
use crate::db::record_writes::RowsRead;
use crate::db::Value as Sql;
use crate::db::{ddl, sql};
use crate::query::{ListQuery, Op};
use crate::record::OrderedPage;
use crate::schema::{Column, SharedEntity};
use crate::{Access, Error, Reason, Result};

/// A page as its statements read it: the page, whether each statement was one of its own (see
/// [`stretch::Read`]), the ids of the records they read (the one after the last included
/// among them: its presence said there were more), without repeats, and that one's sort key
/// and id.
pub(super) struct PlanRead {
    pub page: OrderedPage,
    pub own_statements: bool,
    pub ids: Vec<i64>,
    pub probe: Option<(Sql, i64)>,
}

impl Store {
    /// The statements that read a list page, and the type as the caller sees it (no statement
    /// when no record can match).
    pub(super) fn list_plan(
        &self,
        access: &Access,
        entity: &str,
        query: &ListQuery,
    ) -> Result<ListPlan> {
        let (e, perm) = entity_seen(self, access, entity)?;
        // Which records wait for the caller is in another table (its page is its state's).
        let waiting = query.waiting_for_me;
        let Some(query) = self.resolve_waiting(access, entity, query)? else {
            return Ok(ListPlan::empty(e));
        };
        let query = query.as_ref();
        let sort = &query.sort;
        let sort_def = column_def(&e, &sort.field).ok_or_else(|| {
            Error::bad_param(
                "sort",
                Reason::NoField {
                    entity: entity.to_string(),
                    field: sort.field.clone(),
                },
            )
        })?;
        let sorted_by_index = sort.field != "id"
            && (ddl::SYSTEM_INDEXED.contains(&sort.field.as_str())
                || e.field(&sort.field).is_some_and(|f| f.def.is_indexed()))
            && (query.q.is_none() || !self.is_postgres());
        // Filters matching many rows are kept off their indexes, so SQLite walks the sort's
        // (a full-text search's first try walks it too).
        let off_index = if sorted_by_index {
            self.unselective_filters(access, &e, &perm, entity, query, &sort.field)?
        } else {
            vec![]
        };
        let Some((mut conds, mut params)) =
            conditions(access, &e, &perm, entity, query, &off_index)?
        else {
            return Ok(ListPlan::empty(e));
        };
        // A full-text search is run in two tries (see `text_match.rs`).
        let text = text_match::take(entity, &mut conds, &mut params);
        if sort_def.kind.info().multi {
            return Err(Error::bad_param("sort", Reason::NotSortable));
        }
        let col = ddl::column(&sort.field);
        let dir = if sort.descending { "DESC" } else { "ASC" };
        let sort_param = sort.as_param();
        // Rows without a value come last in a descending sort, so a page after a cursor reads
        // them as a stretch of their own when its values run out — unless none can be in the
        // list (a system time, or a filter on the sort's field that no empty value passes: any
        // but `null` and `ne`, which keeps them), which saves the last page a statement.
        let no_nulls = matches!(sort.field.as_str(), "created_at" | "updated_at")
            || query
                .filters
                .iter()
                .any(|f| f.field == sort.field && !matches!(f.op, Op::Null | Op::Ne));
        // What comes after the cursor, as stretches read in turn (see `keyset.rs`).
        let stretches = match &query.cursor {
            None => vec![None],
            Some(c) => {
                let cur = keyset::decode_cursor(c, &sort_param)?;
                let v = sql::json_to_sql(&cur.v)
                    .filter(|v| fits_column(&e, &sort.field, v))
                    .ok_or_else(|| Error::bad_param("cursor", Reason::CursorDamaged))?;
                keyset::after(&col, sort.descending, no_nulls, v, cur.i)
                    .into_iter()
                    .map(Some)
                    .collect()
            }
        };
        let order = if sort.field == "id" {
            format!("id {dir}")
        } else {
            format!("{col} {dir}, id {dir}")
        };
        Ok(ListPlan {
            e,
            types_read: types_read(entity, &conds, access, &perm)
                .filter(|_| !waiting && query.q.is_none()),
            by_row: entity != "user" || !reads_users(access, &perm),
            read: Some(Statements {
                entity: entity.to_string(),
                table: ddl::table(entity),
                col,
                stored: sort_def.kind.info().column,
                dir,
                order,
                conds,
                params,
                text,
                stretches,
                sort_param,
                limit: query.limit,
            }),
        })
    }

    /// The page `plan` reads, as its statements read it.
    pub(super) fn read_plan(&self, plan: &ListPlan) -> Result<PlanRead> {
        let e = &plan.e;
        let read = |items, next_cursor, own_statements, mut ids: Vec<i64>, probe| {
            ids.sort_unstable();
            ids.dedup();
            PlanRead {
                page: OrderedPage {
                    entity: e.clone(),
                    items,
                    next_cursor,
                },
                own_statements,
                ids,
                probe,
            }
        };
        let Some(s) = &plan.read else {
            return Ok(read(vec![], None, true, vec![], None));
        };
        let select = select_list(e);
        let list = stretch::Sorted {
            entity: &s.entity,
            e,
            select: &select,
            table: &s.table,
            col: &s.col,
            stored: s.stored,
            dir: s.dir,
            order: &s.order,
        };
        let cursor_after =
            |(v, i): (Sql, i64)| keyset::cursor_after(&s.sort_param, sql::sql_to_json(&v), i);
        let mut items: Vec<crate::record::OrderedRecord> = Vec::with_capacity(s.limit.min(64));
        let mut last: Option<(Sql, i64)> = None;
        let mut own_statements = true;
        for stretch in &s.stretches {
            let (mut conds, mut params) = (s.conds.clone(), s.params.clone());
            if let Some((cond, values)) = stretch {
                conds.push(cond.clone());
                params.extend(values.iter().cloned());
            }
            // A page filled by an earlier stretch asks this one only whether it holds more.
            let want = s.limit - items.len();
            let stretch_read = self.read_stretch(&list, conds, params, s.text.clone(), want)?;
            items.extend(stretch_read.items);
            last = stretch_read.last.or(last);
            own_statements &= stretch_read.own_statements;
            if let Some(probe) = stretch_read.more {
                let ids = items.iter().map(|r| r.id).chain([probe.1]).collect();
                let next = last.map(cursor_after);
                return Ok(read(items, next, own_statements, ids, Some(probe)));
            }
        }
        let ids = items.iter().map(|r| r.id).collect();
        Ok(read(items, None, own_statements, ids, None))
    }
}

/// A list page's statements, and the type as the caller sees it that their rows are read
/// with (see [`Store::list_plan`]).
pub(super) struct ListPlan {
    pub e: SharedEntity,
    /// The types whose records its statements read, if nothing else ([`types_read`]).
    pub types_read: Option<Vec<String>>,
    /// Whether a record's place in the page is decided by that record alone (and records of
    /// other types): no condition reads another record of its own type — the team scope of a
    /// list of users does.
    by_row: bool,
    /// `None`: no record can match (a search of nothing, no record waiting).
    read: Option<Statements>,
}

/// What a list page's statements are made of.
#[derive(Debug)]
struct Statements {
    entity: String,
    table: String,
    /// The sort's column, how it is stored, its direction, and the `ORDER BY` clause.
    col: String,
    stored: Column,
    dir: &'static str,
    order: String,
    /// The conditions every stretch shares, and their parameters.
    conds: Vec<String>,
    params: Vec<Sql>,
    /// A full-text search's match expression.
    text: Option<Sql>,
    /// What comes after the cursor, read in turn (`keyset.rs`).
    stretches: Vec<Option<keyset::Stretch>>,
    /// The sort as the next page's cursor names it.
    sort_param: String,
    limit: usize,
}

impl ListPlan {
    fn empty(e: SharedEntity) -> Self {
        ListPlan {
            e,
            types_read: None,
            by_row: false,
            read: None,
        }
    }

    /// What the page's statements read of its own type, for telling whether writes of it left
    /// the page as it is: the records read (`ids`, a JSON array of `count`), the conditions a
    /// record passes to be read by them — those every stretch shares, so any record a stretch
    /// would read passes them — and, where they read one more than the page (`probe`, its sort
    /// key and id), what a record passes when it sorts after that one: the statements never
    /// reach it. `None` where a record's place is not its own to decide (see `by_row`).
    pub(super) fn rows_read<'a>(
        &'a self,
        ids: &'a str,
        count: usize,
        probe: Option<&(Sql, i64)>,
    ) -> Option<RowsRead<'a>> {
        let s = self.read.as_ref().filter(|_| self.by_row)?;
        // An empty key is never told to come after (`no_nulls`): its record counts as one
        // that may come before.
        let after = probe.map_or_else(Vec::new, |(key, id)| {
            keyset::after(&s.col, s.dir == "DESC", true, key.clone(), *id)
        });
        Some(RowsRead {
            table: &s.table,
            ids,
            count,
            conds: &s.conds,
            params: &s.params,
            after,
        })
    }

    /// What the page read depends on besides the database and the type it is read with:
    /// every statement's text and parameters, and the page's size.
    pub(super) fn statements_key(&self) -> String {
        match &self.read {
            None => String::new(),
            Some(s) => format!("{s:?}"),
        }
    }
}

/// The types whose records a list page's statements read with `conds` — its own, and the
/// users' where the caller's team decides the scope — or `None` where a condition other than
/// the scope reads another table (no type's token speaks for it). A search's match is not among
/// `conds`: the caller leaves such pages out (its full-text table is written apart).
fn types_read(
    entity: &str,
    conds: &[String],
    access: &Access,
    perm: &crate::access::EntityPermission,
) -> Option<Vec<String>> {
    let (scope, _) = scope_condition(access, perm, "");
    let own_row = |c: &str| c == scope || !c.contains("SELECT") || c.contains("FROM json_each(");
    if !conds.iter().all(|c| own_row(c)) {
        return None;
    }
    let mut types = vec![entity.to_string()];
    if reads_users(access, perm) && entity != "user" {
        types.push("user".to_string());
    }
    Some(types)
}
