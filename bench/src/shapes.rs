//! Every list shape the list UI can produce, at scale: a sort on any indexed field — the
//! system's `created_at`, `updated_at` and `owner` included, either way — with no filter, one or
//! two equalities on few-valued fields, an equality with a range on another field, or a range
//! alone; the first page of 50 and the next one, through the store (the HTTP layer adds the same
//! work to every shape). Each shape's time is set beside a read by id in the same run.

use crate::median_ms;
use crate::report::Report;
use qingguan_core::{Access, ListQuery, Store};

/// The sorts a list's column headings give (each way for the system times).
const SORTS: &[&str] = &[
    "name",
    "-name",
    "-created_at",
    "created_at",
    "-updated_at",
    "owner",
    "-signed_on",
    "revenue",
    "status",
];

/// The filters: none, few-valued equalities, an equality with a range on another field, a
/// range alone, a person's records, full-text searches.
const FILTERS: &[(&str, &[(&str, &str)])] = &[
    ("no filter", &[]),
    ("status", &[("status", "lead")]),
    (
        "status + industry",
        &[("status", "lead"), ("industry", "food")],
    ),
    (
        "industry + created_at range",
        &[("industry", "food"), ("created_at[gt]", "2026-01-01")],
    ),
    (
        "status + signed_on range",
        &[("status", "inactive"), ("signed_on[gte]", "2025-06-01")],
    ),
    (
        "signed_on range (1 month)",
        &[
            ("signed_on[gte]", "2023-03-01"),
            ("signed_on[lt]", "2023-04-01"),
        ],
    ),
    ("owner + status", &[("owner", "7"), ("status", "customer")]),
    // Full-text: a word in one name in twelve, two that are never in one name, a CJK phrase
    // in three names in four.
    ("q=Trading", &[("q", "Trading")]),
    (
        "q=Trading Foods (never together)",
        &[("q", "Trading Foods")],
    ),
    (
        "q=有限公司 + status",
        &[("q", "有限公司"), ("status", "lead")],
    ),
];

/// Pages deep in a list: after the first record that a filter on the sort's field gives (a
/// cursor holds the sort, not the filters, so it goes on in the unfiltered list sorted the same
/// way), nine records in ten or more from the top. A descending sort on a field that may be
/// empty goes on in two stretches (the values below the cursor's, then the empty ones); the
/// ascending one is there to compare.
const DEEP: &[(&str, (&str, &str))] = &[
    ("-name", ("name[lt]", "C")),
    ("-signed_on", ("signed_on[lt]", "2021-06-01")),
    ("-revenue", ("revenue[lt]", "20000")),
    ("revenue", ("revenue[gt]", "180000")),
];

/// Runs the matrix over the `size` customers seeded.
pub fn shapes(store: &Store, size: usize, report: &mut Report) -> anyhow::Result<()> {
    let system = Access::system();
    let pk = median_ms(101, |i| {
        store.get(&system, "customer", 1 + (i as i64 * 7919) % size as i64)?;
        Ok(())
    })?;
    let mut worst = (0.0f64, String::new());
    for (label, filter) in FILTERS {
        let mut row_worst = (0.0f64, "");
        let mut cells = Vec::new();
        for sort in SORTS {
            let mut pairs: Vec<(&str, &str)> = filter.to_vec();
            pairs.push(("sort", sort));
            pairs.push(("limit", "50"));
            let ms = median_ms(5, |_| {
                let mut q = ListQuery::from_pairs(pairs.iter().copied())?;
                let first = store.list(&system, "customer", &q)?;
                if first.next_cursor.is_some() {
                    q.cursor = first.next_cursor;
                    store.list(&system, "customer", &q)?;
                }
                Ok(())
            })? / 2.0;
            cells.push(format!("{sort} {ms:.1}"));
            if ms > row_worst.0 {
                row_worst = (ms, sort);
            }
        }
        eprintln!("shapes   {label} @ {size}: {}", cells.join(" · "));
        report.add(
            "shapes",
            &format!("{label}, slowest sort ({}) @ {size}", row_worst.1),
            row_worst.0,
            "ms/page",
            Some(("read by id", pk)),
            "budget < 20 ms for every shape",
        );
        if row_worst.0 > worst.0 {
            worst = (row_worst.0, format!("{label}, sort {}", row_worst.1));
        }
        // The list's total ("10,000+"), which the list UI counts beside every page.
        if filter.iter().any(|(k, _)| *k == "q") {
            let q = ListQuery::from_pairs(filter.iter().copied())?;
            let ms = median_ms(5, |_| {
                store.count_up_to(&system, "customer", &q, 10_000)?;
                Ok(())
            })?;
            report.add(
                "shapes",
                &format!("{label}: count up to 10,000 @ {size}"),
                ms,
                "ms",
                Some(("read by id", pk)),
                "what the list UI counts beside the page",
            );
        }
    }
    let mut cells = Vec::new();
    for (sort, filter) in DEEP {
        let mut q = ListQuery::from_pairs([*filter, ("sort", sort), ("limit", "1")])?;
        q.cursor = store.list(&system, "customer", &q)?.next_cursor;
        anyhow::ensure!(q.cursor.is_some(), "no record deep in {sort}");
        q.filters.clear();
        q.limit = 50;
        let ms = median_ms(5, |_| {
            let page = store.list(&system, "customer", &q)?;
            anyhow::ensure!(page.items.len() == 50, "a deep page of {sort} is full");
            Ok(())
        })?;
        cells.push(format!("{sort} {ms:.1}"));
        report.add(
            "shapes",
            &format!("a page deep in the list, sort {sort} @ {size}"),
            ms,
            "ms/page",
            Some(("read by id", pk)),
            &format!("after the first record of {}={}", filter.0, filter.1),
        );
        if ms > worst.0 {
            worst = (ms, format!("a page deep in the list, sort {sort}"));
        }
    }
    eprintln!(
        "shapes   a page deep in the list @ {size}: {}",
        cells.join(" · ")
    );
    report.add(
        "shapes",
        &format!("slowest shape of all: {} @ {size}", worst.1),
        worst.0,
        "ms/page",
        Some(("read by id", pk)),
        "budget < 20 ms",
    );
    Ok(())
}
