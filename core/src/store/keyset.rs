//! Keyset pagination: a list's cursor (the sort, and the sort key and id of the last record
//! shown) and the conditions that select what comes after it, as stretches an index can walk.
//!
//! A list sorted by a field that may be empty puts the empty values first going up and last
//! going down. What follows a cursor is then one stretch of the sort's index and, after it,
//! the stretch of empty values: `(key, id) < (v, i) OR key IS NULL` going down. No database
//! walks an index for such an `OR`: SQLite and PostgreSQL both walked the index from the start
//! of the list and tested each entry, so a page at nine tenths of a million records read nine
//! hundred thousand entries (PostgreSQL 1.6 s, SQLite 67 ms on a bare table). Each stretch is
//! its own condition instead, read in turn until the page is full.

use crate::db::Value as Sql;
use crate::{Error, Reason, Result};
use base64::Engine;

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Cursor {
    s: String,
    /// The sort key of the last record shown, as stored.
    pub v: serde_json::Value,
    /// The id of the last record shown.
    pub i: i64,
}

fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(c).unwrap_or_default())
}

/// A list cursor that goes on after the record `id` whose sort column holds `value` (as
/// stored), for a list sorted by `sort`: where a page would end had it ended there.
pub(super) fn cursor_after(sort: &str, value: serde_json::Value, id: i64) -> String {
    encode_cursor(&Cursor {
        s: sort.to_string(),
        v: value,
        i: id,
    })
}

/// Reads a cursor given for a list sorted by `sort` (as the request writes it).
pub(super) fn decode_cursor(s: &str, sort: &str) -> Result<Cursor> {
    let bad = || Error::bad_param("cursor", Reason::BadCursor);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if c.s != sort {
        return Err(Error::bad_param("cursor", Reason::CursorSortMismatch));
    }
    Ok(c)
}

/// A condition on a list's rows with its parameters.
pub(super) type Stretch = (String, Vec<Sql>);

/// The stretches of a list that come after the record with sort key `v` and id `i`, in the
/// list's order: every row of the first comes before every row of the second. `col`: the sort's
/// column (`id`: the list is sorted by id alone); `no_nulls`: no row of the list can have an
/// empty key (a system time, or a filter on the sort's field that no empty value passes).
pub(super) fn after(col: &str, descending: bool, no_nulls: bool, v: Sql, i: i64) -> Vec<Stretch> {
    let id = Sql::Integer(i);
    if col == "id" {
        let cmp = if descending { "<" } else { ">" };
        return vec![(format!("id {cmp} ?"), vec![id])];
    }
    match (descending, v) {
        // Going up, empty keys come first: the rest of them, then every key.
        (false, Sql::Null) => vec![
            (format!("{col} IS NULL AND id > ?"), vec![id]),
            (format!("{col} IS NOT NULL"), vec![]),
        ],
        (false, v) => vec![(format!("({col}, id) > (?, ?)"), vec![v, id])],
        // Going down, empty keys come last.
        (true, Sql::Null) => vec![(format!("{col} IS NULL AND id < ?"), vec![id])],
        (true, v) if no_nulls => vec![(format!("({col}, id) < (?, ?)"), vec![v, id])],
        (true, v) => vec![
            (format!("({col}, id) < (?, ?)"), vec![v, id]),
            (format!("{col} IS NULL"), vec![]),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A descending list on a field that may be empty goes on in two stretches, the empty
    /// keys last; one that cannot be empty in one.
    #[test]
    fn a_descending_cursor_on_an_empty_able_field_is_two_stretches() {
        let v = || Sql::Text("m".into());
        let conds = |s: Vec<Stretch>| s.into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        assert_eq!(
            conds(after("c_name", true, false, v(), 7)),
            ["(c_name, id) < (?, ?)", "c_name IS NULL"]
        );
        assert_eq!(
            conds(after("c_name", true, true, v(), 7)),
            ["(c_name, id) < (?, ?)"]
        );
        assert_eq!(
            conds(after("c_name", false, false, Sql::Null, 7)),
            ["c_name IS NULL AND id > ?", "c_name IS NOT NULL"]
        );
        assert_eq!(
            conds(after("c_name", true, false, Sql::Null, 7)),
            ["c_name IS NULL AND id < ?"]
        );
        assert_eq!(conds(after("id", true, false, v(), 7)), ["id < ?"]);
        // No condition is an `OR`: each stretch is one walk of an index.
        for (desc, v) in [
            (true, v()),
            (false, v()),
            (true, Sql::Null),
            (false, Sql::Null),
        ] {
            for (c, _) in after("c_name", desc, false, v, 7) {
                assert!(!c.contains(" OR "), "{c}");
            }
        }
    }
}
