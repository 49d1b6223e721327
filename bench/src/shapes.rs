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
