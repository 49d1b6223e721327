//! Which of a sorted list's filters match so many rows that SQLite should walk the sort's index
//! and test each row (finding a page after a few hundred rows), rather than collect every match
//! through the filter's own index and sort them all. Each filter an index could serve — an
//! equality, `in` or range on an indexed field other than the sort's — is counted, within the
//! caller's scope, up to a cap of √(51·T) rows (T the table's size, from its largest id; a page
//! of 50 needs about 51·T/N rows walked when N match, sorting N costs about N): a filter that
//! reaches the cap is kept off its index (`+col`). What a count said is kept for a minute.

use super::list::conditions;
use super::Store;
use crate::access::EntityPermission;
use crate::db::ddl;
use crate::query::{Filter, ListQuery, Op};
use crate::schema::Entity;
use crate::{Access, Result};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a count stands.
const KEPT: Duration = Duration::from_secs(60);
/// Counts kept at most (all are dropped when full).
const MAX_KEPT: usize = 2_000;

/// Counts already made: the probe's SQL and parameters → whether it reached the cap, when.
pub(crate) type Counts = HashMap<String, (bool, Instant)>;

impl Store {
    /// For each filter of `query` (in order), whether to keep it off its index when the list
    /// walks `sort_field`'s index.
    pub(super) fn unselective_filters(
        &self,
        access: &Access,
        e: &Entity,
        perm: &EntityPermission,
        entity: &str,
        query: &ListQuery,
        sort_field: &str,
    ) -> Result<Vec<bool>> {
        let indexable = |f: &Filter| {
            f.field != sort_field
                && matches!(f.op, Op::Eq | Op::In | Op::Lt | Op::Lte | Op::Gt | Op::Gte)
                && (ddl::SYSTEM_INDEXED.contains(&f.field.as_str())
                    || e.field(&f.field)
                        .is_some_and(|x| x.def.is_indexed() && !x.def.kind.info().multi))
        };
        if !query.filters.iter().any(indexable) {
            return Ok(vec![]);
        }
        let table = ddl::table(entity);
        // The table's size is read only when a count is not already known (a list page
        // whose counts are kept reads nothing more).
        let mut cap: Option<i64> = None;
        let mut out = Vec::with_capacity(query.filters.len());
        for f in &query.filters {
            if !indexable(f) {
                out.push(false);
                continue;
            }
            let one = ListQuery {
                filters: vec![f.clone()],
                ..ListQuery::default()
            };
            let Some((conds, params)) = conditions(access, e, perm, entity, &one, &[])? else {
                out.push(false);
                continue;
            };
            let where_ = conds.join(" AND ");
            let key = format!("{table} {where_} {params:?}");
            let now = Instant::now();
            let known = self
                .selectivity
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .filter(|(_, at)| now.duration_since(*at) < KEPT)
                .map(|(many, _)| *many);
            if let Some(many) = known {
                out.push(many);
                continue;
            }
            let cap = match cap {
                Some(c) => c,
                None => {
                    let size: i64 = self.read(|c| {
                        Ok(
                            c.prepare_cached(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"))?
                                .query_row([], |r| r.get(0))?,
                        )
                    })?;
                    *cap.insert(((51.0 * size as f64).sqrt() as i64).max(200))
                }
            };
            let sql =
                format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {where_} LIMIT {cap}) AS counted");
            let n: i64 = self.read(|c| {
                Ok(c.prepare_cached(&sql)?
                    .query_row(crate::db::params_from_iter(params), |r| r.get(0))?)
            })?;
            let mut counts = self.selectivity.lock().unwrap_or_else(|e| e.into_inner());
            if counts.len() >= MAX_KEPT {
                counts.clear();
            }
            counts.insert(key, (n >= cap, now));
            out.push(n >= cap);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::records::entity_seen;
    use crate::store::tests::{store, user};
    use crate::{Access, ListQuery};
    use serde_json::json;

    /// The columns of the customers' status index: its key and the id, then the owner and the
    /// type's first four indexed few-valued fields.
    const STATUS_INDEX: [&str; 6] = [
        "c_status",
        "id",
        "owner",
        "c_kind",
        "c_industry",
        "c_source",
    ];

    #[test]
    fn a_filter_matching_many_rows_walks_the_sort_index_and_a_rare_one_its_own() {
        let (_dir, s) = store();
        let system = Access::system();
        // 2,000 customers: "customer" on all but five, which are "inactive". The cap is
        // √(51 × 2,000) ≈ 319 rows.
        s.transaction(|| {
            for i in 0..2_000 {
                let status = if i % 400 == 0 { "inactive" } else { "customer" };
                s.create(
                    &system,
                    "customer",
                    json!({"name": format!("c{i}"), "status": status})
                        .as_object()
                        .unwrap(),
                )?;
            }
            Ok::<(), crate::Error>(())
        })
        .unwrap();
        let off = |access: &Access, pairs: &[(&str, &str)]| {
            let q = ListQuery::from_pairs(pairs.iter().copied()).unwrap();
            let (e, perm) = entity_seen(&s, access, "customer").unwrap();
            s.unselective_filters(access, &e, &perm, "customer", &q, "name")
                .unwrap()
        };
        assert_eq!(off(&system, &[("status", "customer")]), vec![true]);
        assert_eq!(off(&system, &[("status", "inactive")]), vec![false]);
        assert_eq!(
            off(
                &system,
                &[("status", "customer"), ("kind", "company"), ("name", "c1")]
            ),
            vec![true, true, false],
            "the sort's own field keeps its index"
        );
        // Counted within the caller's scope: a rep with none of them finds few.
        let rep = user(&s, "amy", "sales", "east");
        assert_eq!(off(&rep, &[("status", "customer")]), vec![false]);
        // And the list is the same either way.
        let q = ListQuery::from_pairs([("status", "inactive"), ("sort", "-name")]).unwrap();
        assert_eq!(
            listed_names(&s, &system, &q),
            ["c800", "c400", "c1600", "c1200", "c0"]
        );
    }

    /// The names of the customers a list query returns.
    fn listed_names(s: &crate::Store, access: &Access, q: &ListQuery) -> Vec<String> {
        s.list(access, "customer", q)
            .unwrap()
            .items
            .iter()
            .map(|r| r.get("name").to_text())
            .collect()
    }

    /// The columns of the index whose name starts with `prefix` (SQLite).
    fn index_columns(s: &crate::Store, prefix: &str) -> Option<Vec<String>> {
        s.read(|c| {
            let names: Vec<String> = c
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE ?1")?
                .query_map([format!("{prefix}%")], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let Some(name) = names.first() else {
                return Ok(None);
            };
            let columns = c
                .prepare(&format!("PRAGMA index_info(\"{name}\")"))?
                .query_map([], |r| r.get::<_, String>(2))?
                .collect::<Result<_, _>>()?;
            Ok(Some(columns))
        })
        .unwrap()
    }

    #[test]
    fn a_count_of_two_filters_reads_one_index_and_an_old_install_gets_such_indexes_at_open() {
        let (_dir, s) = store();
        if s.is_postgres() {
            return; // the plans and the index lists read here are SQLite's
        }
        let system = Access::system();
        // Each index carries, after its key and the id, the owner and the type's first four
        // indexed few-valued fields (kind, status, industry, source).
        assert_eq!(
            index_columns(&s, "ix_customer:status:+").unwrap(),
            STATUS_INDEX
        );
        assert_eq!(
            index_columns(&s, "ix_customer:name:+").unwrap(),
            [
                "c_name",
                "id",
                "owner",
                "c_kind",
                "c_status",
                "c_industry",
                "c_source"
            ]
        );
        let plan = |sql: &str| -> String {
            s.read(|c| {
                let rows: Vec<String> = c
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?
                    .query_map([], |r| r.get(3))?
                    .collect::<Result<_, _>>()?;
                Ok(rows.join("; "))
            })
            .unwrap()
        };
        let count = "SELECT COUNT(*) FROM r_customer
                     WHERE c_status = 'customer' AND c_industry = 'retail' AND owner = 7";
        assert!(plan(count).contains("COVERING INDEX"), "{}", plan(count));
        // A list walking its sort's index tests the filters there: the same rows either way.
        for i in 0..60 {
            let industry = ["retail", "food", "other"][i % 3];
            s.create(
                &system,
                "customer",
                json!({"name": format!("c{i:02}"), "status": "customer", "industry": industry})
                    .as_object()
                    .unwrap(),
            )
            .unwrap();
        }
        let q = ListQuery::from_pairs([("industry", "food"), ("sort", "-name"), ("limit", "5")])
            .unwrap();
        assert_eq!(
            listed_names(&s, &system, &q),
            ["c58", "c55", "c52", "c49", "c46"]
        );
        assert_eq!(s.count(&system, "customer", &q).unwrap(), 20);
        // An install whose indexes hold only their key gets the wide ones at its next open.
        let path = s.path().to_path_buf();
        s.write(|tx| {
            let wide: Vec<String> = tx
                .prepare("SELECT name FROM sqlite_master WHERE name LIKE 'ix_customer:%'")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for name in wide {
                tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
            }
            tx.execute_batch(
                "CREATE INDEX \"ix_customer:status\" ON r_customer (c_status);
                 CREATE INDEX \"ix_customer:owner\" ON r_customer (owner);",
            )?;
            Ok(())
        })
        .unwrap();
        drop(s);
        let s = crate::Store::open(crate::StoreOptions::new(&path)).unwrap();
        let old: i64 = s
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM sqlite_master
                     WHERE name IN ('ix_customer:status', 'ix_customer:owner')",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(old, 0, "the single-column indexes are gone");
        assert_eq!(
            index_columns(&s, "ix_customer:status:+").unwrap(),
            STATUS_INDEX
        );
        assert_eq!(
            index_columns(&s, "ix_customer:owner:+").unwrap(),
            [
                "owner",
                "id",
                "c_kind",
                "c_status",
                "c_industry",
                "c_source"
            ]
        );
        assert!(index_columns(&s, "ix_customer:created_at:+").is_some());
        assert_eq!(s.count(&system, "customer", &q).unwrap(), 20);
    }

    #[test]
    fn after_the_statistics_are_refreshed_reads_use_connections_that_loaded_them() {
        let (_dir, s) = store();
        if s.is_postgres() {
            return; // PostgreSQL plans with its statistics as they are
        }
        // A temporary table belongs to the connection that made it.
        s.read(|c| Ok(c.execute_batch("CREATE TEMP TABLE marker (x)")?))
            .unwrap();
        let marked = || -> i64 {
            s.read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM sqlite_temp_master WHERE name = 'marker'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap()
        };
        assert_eq!(marked(), 1, "the idle reader is used again");
        s.optimize().unwrap();
        assert_eq!(marked(), 0, "a reader opened after the statistics");
    }
}
