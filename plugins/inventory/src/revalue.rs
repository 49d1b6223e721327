//! Back-dated postings, kept right without editing the ledger: after stock comes in on an
//! earlier date, every later outgoing movement of that product in that warehouse is valued
//! again at the moving average as it now stands then, and each difference is posted as a
//! `revaluation` line (quantity 0, the value difference, the date of the movement it corrects,
//! `revalues` = its id). A transfer that leaves at another value carries the difference to its
//! other half, and the receiving warehouse is re-valued from that date too. It all happens in
//! the posting's own transaction: the back-dated receipt and its consequences commit together.

use crate::money::round;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::*;
use std::collections::{BTreeMap, BTreeSet};

/// Movements whose value follows the average when they were posted (the others carry their
/// own value: receipts at their price, reversals as the exact opposite, transfers in at what
/// left the other warehouse).
fn follows_average(m: &Record) -> bool {
    let out = m.decimal("quantity").unwrap_or_default() < Decimal::ZERO;
    out && matches!(
        m.str("kind"),
        Some("delivery") | Some("transfer_out") | Some("return_out") | Some("adjustment")
    )
}

/// Quantity and value before a date.
fn balance_before(product: i64, warehouse: i64, date: &str) -> Result<(Decimal, Decimal)> {
    let rows = host::aggregate(
        "stock_move",
        &Query::new()
            .elevated()
            .eq("product", product)
            .eq("warehouse", warehouse)
            .lt("posted_on", date),
        &[],
        &[Metric::Sum("quantity"), Metric::Sum("value")],
    )?;
    let g = rows.first();
    Ok((
        g.and_then(|g| g.decimal(0)).unwrap_or_default(),
        g.and_then(|g| g.decimal(1)).unwrap_or_default(),
    ))
}

fn post_revaluation(m: &Record, delta: Decimal) -> Result<()> {
    let line = host::elevated().create(
        "stock_move",
        &json!({
            "product": m.i64("product"),
            "warehouse": m.i64("warehouse"),
            "kind": "revaluation",
            "quantity": "0",
            "unit_cost": "0",
            "value": delta.to_string(),
            "posted_on": m.str("posted_on"),
            "source": m.str("source"),
            "source_line": m.i64("source_line"),
            "revalues": m.id,
            "reason": qingguan_plugin_sdk::text::t("re-valued after a back-dated posting", "倒记账后成本重估"),
        }),
    )?;
    crate::feed::record(&line);
    Ok(())
}

/// Re-values a product's movements in a warehouse from `from` on; then, for every transfer
/// whose value changed, its other half and that warehouse. Returns the revaluation lines
/// posted.
pub fn revalue(product: i64, warehouse: i64, from: &str) -> Result<usize> {
    let mut work: Vec<(i64, String)> = vec![(warehouse, from.to_string())];
    let mut done: BTreeSet<(i64, String)> = BTreeSet::new();
    let mut posted = 0;
    while let Some((w, date)) = work.pop() {
        if !done.insert((w, date.clone())) {
            continue;
        }
        let (n, carried) = revalue_one(product, w, &date)?;
        posted += n;
        for (source, delta, on) in carried {
            // The other half of the transfer: it came in at what left, so it moves by the
            // same amount the other way round.
            let halves = host::query_all(
                "stock_move",
                &Query::new()
                    .elevated()
                    .eq("source", source.as_str())
                    .eq("kind", "transfer_in")
                    .eq("product", product),
            )?;
            if let Some(into) = halves.first() {
                post_revaluation(into, -delta)?;
                posted += 1;
                work.push((into.i64("warehouse").unwrap_or_default(), on));
            }
        }
    }
    Ok(posted)
}

/// A transfer out whose value changed: its source, the change, its date.
type Carried = (String, Decimal, String);

/// One warehouse: lines posted, and the transfers out whose value changed.
fn revalue_one(product: i64, warehouse: i64, from: &str) -> Result<(usize, Vec<Carried>)> {
    let all = host::query_all(
        "stock_move",
        &Query::new()
            .elevated()
            .eq("product", product)
            .eq("warehouse", warehouse)
            .gte("posted_on", from)
            .sort("id"),
    )?;
    // What earlier revaluations already corrected, by the movement they correct.
    let mut corrected: BTreeMap<i64, Decimal> = BTreeMap::new();
    let mut moves: Vec<&Record> = Vec::new();
    for m in &all {
        match (m.str("kind"), m.i64("revalues")) {
            (Some("revaluation"), Some(target)) => {
                *corrected.entry(target).or_default() += m.decimal("value").unwrap_or_default();
            }
            _ => moves.push(m),
        }
    }
    moves.sort_by(|a, b| (a.str("posted_on"), a.id).cmp(&(b.str("posted_on"), b.id)));
    let (mut q, mut v) = balance_before(product, warehouse, from)?;
    // Revaluations posted before `from` of movements from `from` on cannot exist (they carry
    // their movement's date), so the opening balance is right as it is.
    let mut posted = 0;
    let mut carried = Vec::new();
    for m in moves {
        let qty = m.decimal("quantity").unwrap_or_default();
        let mut value = m.decimal("value").unwrap_or_default()
            + corrected.get(&m.id).copied().unwrap_or_default();
        if follows_average(m) && q > Decimal::ZERO {
            let out = -qty;
            let expected = if out >= q { -v } else { -round(out * v / q, 2) };
            if expected != value {
                let delta = expected - value;
                post_revaluation(m, delta)?;
                posted += 1;
                if m.str("kind") == Some("transfer_out") {
                    if let Some(source) = m.str("source") {
                        carried.push((
                            source.to_string(),
                            delta,
                            m.str("posted_on").unwrap_or(from).to_string(),
                        ));
                    }
                }
                value = expected;
            }
        }
        q += qty;
        v += value;
    }
    Ok((posted, carried))
}
