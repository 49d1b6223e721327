//! How a list narrowed by full-text search (`q`) runs: a bounded walk in the list's order
//! first, then, when that finds too little, from the matches themselves.
//!
//! Walking is right when matches are dense, reading the matches when they are sparse; no one
//! plan is right for both. PostgreSQL estimates how many records match several words as if
//! the words were independent: for common words that never occur together it expects many
//! matches and walks the list's order, looking each record up in the full-text table, to the
//! end of the table (2.5 s at a million records). SQLite reads every match of `MATCH` first
//! and then looks each one's record up to sort them: 170 ms for a word in one record in
//! twelve at a million, 750 ms for one in three records in four. So the walk is bounded: the
//! first [`WALK`] records in the list's order are tried, and if they hold a full page it is
//! the page. Otherwise the matches are sparse (fewer than a page in [`WALK`] records), and the
//! query is run again with an order no index gives, so that the database reads every match
//! (and every other filter's) before it sorts. Either way the work is bounded by [`WALK`] or
//! by the number of matches.
//!
//! On SQLite the walk's matches are read only between the smallest and the largest id walked
//! (FTS5 reads that stretch of each word's list): a list in the order records were made reads
//! a few thousand matches, not every one. A list in another order spreads its ids over the
//! table and still reads every match once, but sorts none of them.

use crate::db::{ddl, Value as Sql};
use crate::schema::Column;

/// How many records, in the list's order, the first try walks; also how many of a type's
/// newest full-text entries the global search tries first (in unit tests: few, so that their
/// lists and searches take both tries).
pub(crate) const WALK: usize = if cfg!(test) { 4 } else { 5_000 };

/// The condition a full-text search adds to a list query (its one parameter: the FTS5
/// expression).
pub(super) fn condition(entity: &str) -> String {
    matching(entity, "")
}

/// `id IN` the matches of the full-text table, narrowed by `more` (a condition on `rowid`).
fn matching(entity: &str, more: &str) -> String {
    format!(
        "id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?{more})",
        fts = ddl::fts_table(entity)
    )
}

/// Takes the full-text condition off the end of a list query's conditions (where
/// `conditions` puts it, with its parameter last), returning its parameter.
pub(super) fn take(entity: &str, conds: &mut Vec<String>, params: &mut Vec<Sql>) -> Option<Sql> {
    if conds.last()? != &condition(entity) {
        return None;
    }
    conds.pop();
    params.pop()
}

/// The full-text condition on SQLite for records of a table named `walked` (its one
/// parameter: the FTS5 expression): only the matches between the smallest and largest id
/// walked are read.
fn within_walked(entity: &str) -> String {
    matching(
        entity,
        " AND rowid >= (SELECT MIN(id) FROM walked) AND rowid <= (SELECT MAX(id) FROM walked)",
    )
}

/// What a list's first try walks: its select list, table, `WHERE` clause (without the
/// full-text condition) and order, and its sort's column.
pub(super) struct Walk<'a> {
    pub select: &'a str,
    pub table: &'a str,
    pub where_: &'a str,
    pub order: &'a str,
    pub col: &'a str,
}

/// The first try: the list's first [`WALK`] records in its order, then those that match, in
/// the same order (`by_id`: the list is sorted by id alone; `dir`: `ASC` or `DESC`). The
/// rows hold the select list and the sort's column last. On SQLite only ids and keys are
/// walked (the sort's index holds both) and the page's records are read by id.
pub(super) fn walked(
    entity: &str,
    walk: &Walk,
    by_id: bool,
    dir: &str,
    limit: usize,
    sqlite: bool,
) -> String {
    let Walk {
        select,
        table,
        where_,
        order,
        col,
    } = walk;
    let key_order = |id: &str| {
        if by_id {
            format!("{id} {dir}")
        } else {
            format!("qg_key {dir}, {id} {dir}")
        }
    };
    if sqlite {
        return format!(
            "WITH walked AS MATERIALIZED \
             (SELECT id, {col} AS qg_key FROM {table} {where_} ORDER BY {order} LIMIT {WALK}), \
             page AS MATERIALIZED (SELECT id AS qg_id, qg_key FROM walked WHERE {cond} \
             ORDER BY {walked_order} LIMIT {limit}) \
             SELECT {select}, qg_key FROM page JOIN {table} ON {table}.id = page.qg_id \
             ORDER BY {page_order}",
            cond = within_walked(entity),
            walked_order = key_order("id"),
            page_order = key_order("qg_id"),
        );
    }
    format!(
        "SELECT * FROM (SELECT {select}, {col} AS qg_key FROM {table} {where_} ORDER BY {order} \
         LIMIT {WALK}) AS walked WHERE {cond} ORDER BY {key_order} LIMIT {limit}",
        cond = condition(entity),
        key_order = key_order("id"),
    )
}

/// The first try at a capped count: how many records pass `conds` (the `WHERE` clause
/// without the full-text condition) up to `walk`, and how many of those match. When fewer
/// than `walk` pass, that is the count; otherwise it says how common the matches are.
pub(super) fn sampled(entity: &str, table: &str, conds: &str, walk: usize, sqlite: bool) -> String {
    let cond = if sqlite {
        within_walked(entity)
    } else {
        condition(entity)
    };
    format!(
        "WITH walked AS MATERIALIZED (SELECT id FROM {table} {conds} LIMIT {walk})
         SELECT (SELECT COUNT(*) FROM walked), (SELECT COUNT(*) FROM walked WHERE {cond})"
    )
}

/// How many records a second sample on SQLite walks to count past `cap` when the first
/// found `matched` of `walked` matching, if that is few enough to be cheaper than reading
/// every match: the count of dense matches is then bounded by the records walked.
pub(super) fn resample(walked: i64, matched: i64, cap: i64) -> Option<usize> {
    if matched == 0 {
        return None;
    }
    // A quarter more than the sample's rate needs, so that a slightly thinner stretch still
    // gets past the cap.
    let needed = (cap.saturating_add(1)).saturating_mul(walked) / matched;
    let walk = needed.saturating_add(needed / 4);
    (walk <= 4 * WALK as i64).then_some(walk as usize)
}

/// Whether matches are common enough (one record in ten or more among those walked) for a
/// count capped at `cap` to walk the records until it has `cap + 1`: about `10 × cap` records
/// if the sample is like the rest. Rarer ones are counted, all of them, from the full-text
/// index: at a million records and the lists' cap of 10,000, under 100,000 either way (on
/// PostgreSQL; SQLite's capped count reads the matches first anyway). (With
/// a cap under 500 a sample of 5,000 holding more than the cap has answered already, and one
/// holding fewer is never dense: such counts are always made from the index.)
pub(super) fn dense(walked: i64, matched: i64) -> bool {
    matched.saturating_mul(10) >= walked
}

/// A sort key no index gives (its value unchanged; `stored`: how the column is stored): an
/// order by it makes the database read every record that passes the conditions, by whichever
/// index (or the full-text table) narrows them most, and sort those.
pub(super) fn unindexed(column: &str, stored: Column) -> String {
    if stored == Column::Text {
        format!("({column} || '')")
    } else {
        format!("({column} + 0)")
    }
}

#[cfg(test)]
mod tests {
    use crate::store::tests::{store, user};
    use crate::{Access, ListQuery, Store};
    use serde_json::json;

    fn create(s: &Store, who: &Access, name: &str) -> i64 {
        let fields = json!({"name": name, "kind": "company", "status": "lead"});
        s.create(who, "customer", fields.as_object().unwrap())
            .unwrap()
            .id
    }

    /// A second sample is taken only when it should pass the cap within four walks' length,
    /// with a quarter to spare; never for no matches.
    #[test]
    fn a_second_sample_is_taken_only_for_dense_matches() {
        use super::{resample, WALK};
        let walk = WALK as i64;
        assert_eq!(resample(walk, 0, 10), None);
        // Half of the walk matched, cap 3 in unit tests' walk of 4: (3 + 1) × 2, and a quarter.
        assert_eq!(resample(walk, walk / 2, walk - 1), Some(10));
        // One in four: 4 × (cap + 1) = 16 for a cap of 3, 20 with the quarter: too long.
        assert_eq!(resample(walk, 1, walk - 1), None);
        assert_eq!(resample(walk, walk, walk - 1), Some(5));
        assert_eq!(resample(walk, 1, i64::MAX), None);
    }

    /// Every page of a search list, `per` at a time, as (id, name).
    fn listed(s: &Store, who: &Access, q: &str, sort: &str, per: usize) -> Vec<(i64, String)> {
        let mut query =
            ListQuery::from_pairs([("q", q), ("sort", sort), ("limit", &per.to_string())]).unwrap();
        let mut out = Vec::new();
        loop {
            let page = s.list(who, "customer", &query).unwrap();
            assert!(page.items.len() <= per);
            for r in &page.items {
                let name = r.values["name"].to_text();
                out.push((r.id, name));
            }
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => return out,
            }
        }
    }

    /// Sparse, dense and never-together words give every match, in order, page by page, on
    /// both tries (four records are walked first in unit tests); counts and the global search
    /// agree.
    #[test]
    fn a_search_list_holds_every_match_whether_they_are_many_or_few() {
        let (_d, s) = store();
        let amy = user(&s, "amy", "sales", "east");
        let bob = user(&s, "bob", "sales", "east");
        let mut made: Vec<(i64, String, &Access)> = Vec::new();
        // Two rare old ones, then many that never hold both common words.
        for (i, name) in ["Zeta Old", "Zeta Older"].iter().enumerate() {
            let who = if i == 0 { &amy } else { &bob };
            made.push((create(&s, who, name), name.to_string(), who));
        }
        for i in 0..14 {
            let name = format!("{} {i:02}", if i % 2 == 0 { "Alpha" } else { "Beta" });
            let who = if i % 3 == 0 { &bob } else { &amy };
            made.push((create(&s, who, &name), name, who));
        }
        let expected = |word: &str, who: Option<&Access>, sort: &str| {
            let mut v: Vec<(i64, String)> = made
                .iter()
                .filter(|(_, n, w)| {
                    n.to_lowercase().contains(word) && who.is_none_or(|a| a.user_id == w.user_id)
                })
                .map(|(id, n, _)| (*id, n.clone()))
                .collect();
            match sort {
                "name" => v.sort_by(|a, b| a.1.cmp(&b.1)),
                "-name" => v.sort_by(|a, b| b.1.cmp(&a.1)),
                "id" => v.sort(),
                _ => v.sort_by_key(|r| std::cmp::Reverse(r.0)),
            }
            v
        };
        let admin = Access::system();
        for sort in ["name", "-name", "id", "-id", "-created_at"] {
            for per in [1, 2, 5] {
                for word in ["alpha", "beta", "zeta"] {
                    assert_eq!(
                        listed(&s, &admin, word, sort, per),
                        expected(word, None, sort),
                        "{word} by {sort}, {per} a page"
                    );
                }
                assert!(listed(&s, &admin, "alpha beta", sort, per).is_empty());
            }
            // A rep's own, within scope.
            assert_eq!(
                listed(&s, &amy, "zeta", sort, 1),
                expected("zeta", Some(&amy), sort),
                "{sort}"
            );
        }
        let count = |q: &str, cap| {
            let query = ListQuery::from_pairs([("q", q)]).unwrap();
            s.count_up_to(&admin, "customer", &query, cap).unwrap()
        };
        assert_eq!(count("alpha", 3), (3, true));
        // Caps a longer second sample can pass on SQLite, or not.
        for cap in 4..=6 {
            assert_eq!(count("alpha", cap), (cap, true), "{cap}");
            assert_eq!(count("beta", cap), (cap, true), "{cap}");
        }
        assert_eq!(count("alpha", 7), (7, false));
        assert_eq!(count("alpha", 100), (7, false));
        assert_eq!(count("zeta", 1), (1, true));
        assert_eq!(count("zeta", 2), (2, false));
        assert_eq!(count("alpha beta", 100), (0, false));
        // A rep counts only their own, whichever sample answers.
        let amy_alphas = expected("alpha", Some(&amy), "id").len() as i64;
        assert!(amy_alphas > 2, "{amy_alphas}");
        for cap in [1, 2, amy_alphas - 1, amy_alphas, 100] {
            let query = ListQuery::from_pairs([("q", "alpha")]).unwrap();
            assert_eq!(
                s.count_up_to(&amy, "customer", &query, cap).unwrap(),
                (cap.min(amy_alphas), cap < amy_alphas),
                "cap {cap}"
            );
        }
        // Fewer records pass the filters than a walk: counted there.
        let first_three =
            ListQuery::from_pairs([("q", "zeta"), ("id[lte]", &made[2].0.to_string())]).unwrap();
        assert_eq!(
            s.count_up_to(&admin, "customer", &first_three, 100)
                .unwrap(),
            (2, false)
        );
        // The global search: newest first, the old rare ones found past the newest entries.
        let found = |q: &str, limit| -> Vec<i64> {
            s.search(&admin, q, limit)
                .unwrap()
                .into_iter()
                .map(|h| h.id)
                .collect()
        };
        let ids = |word: &str| -> Vec<i64> {
            expected(word, None, "-id")
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        };
        assert_eq!(found("zeta", 10), ids("zeta"));
        assert_eq!(found("zeta", 1), ids("zeta")[..1]);
        assert_eq!(found("beta", 100), ids("beta"));
        assert_eq!(found("beta", 3), ids("beta")[..3]);
        assert!(found("alpha beta", 10).is_empty());
        let mine: Vec<i64> = s
            .search(&amy, "zeta", 10)
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(mine, vec![made[0].0]);
    }
}
