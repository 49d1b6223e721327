//! Reading one stretch of a list page (see `keyset.rs`): the first records in the list's order
//! that pass its conditions — in one statement, or for a full-text search in two tries (see
//! `text_match.rs`).

use super::records::ordered_from_row;
use super::{text_match, Store};
use crate::db::Value as Sql;
use crate::record::OrderedRecord;
use crate::schema::{Column, SharedEntity};
use crate::Result;

/// A sorted list, as its statements name it.
pub(super) struct Sorted<'a> {
    pub entity: &'a str,
    pub e: &'a SharedEntity,
    /// The select list ([`super::records::select_list`]).
    pub select: &'a str,
    pub table: &'a str,
    /// The sort's column (`id` for a list sorted by id alone) and how it is stored.
    pub col: &'a str,
    pub stored: Column,
    /// `ASC` or `DESC`.
    pub dir: &'a str,
    /// The `ORDER BY` clause that walks the sort's index.
    pub order: &'a str,
}

/// What a stretch gave: its first records, the sort key and id of the last of them, those of
/// the record after them if it holds more, and whether each statement was one of its own (no
/// transaction left open around it, whose snapshot may be older than the database's state).
pub(super) struct Read {
    pub items: Vec<OrderedRecord>,
    pub last: Option<(Sql, i64)>,
    pub more: Option<(Sql, i64)>,
    pub own_statements: bool,
}

impl Store {
    /// The first `want` records of `list` that pass `conds` (with `params`) and, if given,
    /// match the full-text expression `text`.
    pub(super) fn read_stretch(
        &self,
        list: &Sorted,
        mut conds: Vec<String>,
        mut params: Vec<Sql>,
        text: Option<Sql>,
        want: usize,
    ) -> Result<Read> {
        let Sorted {
            entity,
            e,
            select,
            table,
            col,
            stored,
            dir,
            order,
        } = *list;
        let limit = want + 1;
        let read = |sql: &str, params: Vec<Sql>| {
            self.read(|c| {
                let read = rows_of(c, e, sql, params, want)?;
                Ok(Read {
                    own_statements: read.own_statements && c.is_autocommit(),
                    ..read
                })
            })
        };
        let Some(text) = text else {
            let sql = format!(
                "SELECT {select}, {col} FROM {table} {} ORDER BY {order} LIMIT {limit}",
                where_clause(&conds)
            );
            return read(&sql, params);
        };
        // The first try: the first records in the list's order that match.
        let where_ = where_clause(&conds);
        let walk = text_match::Walk {
            select,
            table,
            where_: &where_,
            order,
            col,
        };
        let mut walk_params = params.clone();
        walk_params.push(text.clone());
        let sql = text_match::walked(entity, &walk, col == "id", dir, limit, !self.is_postgres());
        let first = read(&sql, walk_params)?;
        if first.more.is_some() {
            return Ok(first);
        }
        let own_first = first.own_statements;
        // Too few there: every match, sorted.
        conds.push(text_match::condition(entity));
        params.push(text);
        let unindexed = if col == "id" {
            format!("(id + 0) {dir}")
        } else {
            format!(
                "{} {dir}, (id + 0) {dir}",
                text_match::unindexed(col, stored)
            )
        };
        let sql = format!(
            "SELECT {select}, {col} FROM {table} {} ORDER BY {unindexed} LIMIT {limit}",
            where_clause(&conds)
        );
        let second = read(&sql, params)?;
        Ok(Read {
            own_statements: own_first && second.own_statements,
            ..second
        })
    }
}

/// A `WHERE` clause of all `conds` (none: empty).
pub(super) fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

/// The first `want` records of rows selected with the select list and the sort's column last
/// (one more than `want` asked for: its presence says there are more).
fn rows_of(
    c: &crate::db::Conn,
    e: &SharedEntity,
    sql: &str,
    params: Vec<Sql>,
    want: usize,
) -> Result<Read> {
    let sort_index = 7 + e.fields.len();
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(crate::db::params_from_iter(params))?;
    let mut items = Vec::with_capacity(want.min(64));
    let mut last = None;
    while let Some(row) = rows.next()? {
        if items.len() == want {
            return Ok(Read {
                items,
                last,
                more: Some((row.get(sort_index)?, row.get(0)?)),
                own_statements: true,
            });
        }
        let rec = ordered_from_row(e, &row)?;
        let key: Sql = row.get(sort_index)?;
        last = Some((key, rec.id));
        items.push(rec);
    }
    Ok(Read {
        items,
        last,
        more: None,
        own_statements: true,
    })
}
