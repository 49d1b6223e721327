//! Back-dated postings, kept right without editing the ledger: after stock comes in on an
//! earlier date, every later outgoing movement of that product in that warehouse is valued
//! again at the moving average as it now stands then. The differences are posted as
//! `revaluation` lines — quantity 0, one line per posting date and kind of movement corrected
//! (at most 500 movements each), the line's `corrects` naming each movement and its change
//! (`id:change …`), its `source` that of the first movement it corrects (the kind of document
//! the books book it against), its reason naming the back-dated document that caused it. A
//! transfer that left at another value carries the difference to its other half, and the
//! receiving warehouse is re-valued from that date too. It all happens in the posting's own transaction: the
//! back-dated receipt and its consequences commit together.
//!
//! The later movements are read as one grouped sum per movement (`posted_on`, `id`, `kind` →
//! quantity, value), not as records, so 100,000 of them are one pass.

use crate::money::round;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::{BTreeMap, BTreeSet};

/// Movements one revaluation line corrects at most.
const PER_LINE: usize = 500;
/// Movement ids read in one grouped sum (the host returns at most 100,000 groups).
const ID_WINDOW: i64 = 90_000;

/// One later movement, as the ledger holds it.
struct Later {
    id: i64,
    kind: String,
    on: String,
    quantity: Decimal,
    value: Decimal,
    /// For a revaluation line written before lines named several movements.
    revalues: Option<i64>,
}

impl Later {
    /// Whether its value follows the average when it was posted (the others carry their own
    /// value: receipts at their price, reversals as the exact opposite, transfers in at what
    /// left the other warehouse).
    fn follows_average(&self) -> bool {
        self.quantity < Decimal::ZERO
            && matches!(
                self.kind.as_str(),
                "delivery" | "transfer_out" | "return_out" | "adjustment"
            )
    }
}

/// A product's movements in a warehouse from a date on, in posting order (date, then id).
fn later_movements(product: i64, warehouse: i64, from: &str) -> Result<Vec<Later>> {
    let q = Query::new()
        .elevated()
        .eq("product", product)
        .eq("warehouse", warehouse)
        .gte("posted_on", from);
    let bounds = host::aggregate(
        "stock_move",
        &q,
        &[],
        &[Metric::Count, Metric::Min("id"), Metric::Max("id")],
    )?;
    let Some(b) = bounds.first().filter(|b| b.i64(0).unwrap_or(0) > 0) else {
        return Ok(Vec::new());
    };
    let (first, last) = (b.i64(1).unwrap_or(0), b.i64(2).unwrap_or(0));
    let mut out = Vec::new();
    let mut lo = first;
    while lo <= last {
        let window = q.clone().gte("id", lo).lt("id", lo + ID_WINDOW);
        for g in host::aggregate(
            "stock_move",
            &window,
            &["posted_on", "id", "kind"],
            &[
                Metric::Sum("quantity"),
                Metric::Sum("value"),
                Metric::Max("revalues"),
            ],
        )? {
            out.push(Later {
                on: g.group[0].as_str().unwrap_or_default().to_string(),
                id: g.group[1].as_i64().unwrap_or_default(),
                kind: g.group[2].as_str().unwrap_or_default().to_string(),
                quantity: g.decimal(0).unwrap_or_default(),
                value: g.decimal(1).unwrap_or_default(),
                revalues: g.i64(2),
            });
        }
        lo += ID_WINDOW;
    }
    out.sort_by(|a, b| (&a.on, a.id).cmp(&(&b.on, b.id)));
    Ok(out)
}

/// The movements a revaluation line corrects and by how much: `corrects` (`id:change …`), or
/// `revalues` and its value (lines written before lines named several movements).
fn corrected_by(line: &Record) -> Vec<(i64, Decimal)> {
    if let Some(id) = line.i64("revalues") {
        return vec![(id, line.decimal("value").unwrap_or_default())];
    }
    line.str("corrects")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pair| {
            let (id, change) = pair.split_once(':')?;
            Some((id.parse().ok()?, change.parse().ok()?))
        })
        .collect()
}

/// What revaluations corrected of some movements of one product in one warehouse, by
/// movement (a reversal or a customer return gives back exactly the value that left).
pub fn corrections(
    product: i64,
    warehouse: i64,
    moves: &[&Record],
) -> Result<BTreeMap<i64, Decimal>> {
    let ids: BTreeSet<i64> = moves.iter().map(|m| m.id).collect();
    let dates: BTreeSet<&str> = moves.iter().filter_map(|m| m.str("posted_on")).collect();
    let mut out = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    // A revaluation line carries the date of the movements it corrects.
    let lines = host::query_all(
        "stock_move",
        &Query::new()
            .elevated()
            .eq("product", product)
            .eq("warehouse", warehouse)
            .eq("kind", "revaluation")
            .in_list("posted_on", dates),
    )?;
    for line in &lines {
        for (id, change) in corrected_by(line) {
            if ids.contains(&id) {
                *out.entry(id).or_default() += change;
            }
        }
    }
    Ok(out)
}

/// Posts the revaluation line of some movements of one kind on one date.
fn post_revaluation(
    product: i64,
    warehouse: i64,
    on: &str,
    kind: &str,
    changes: &[(i64, Decimal)],
    cause: &str,
) -> Result<()> {
    let total: Decimal = changes.iter().map(|(_, d)| *d).sum();
    let corrects: Vec<String> = changes.iter().map(|(id, d)| format!("{id}:{d}")).collect();
    let n = changes.len();
    // The source is that of the movements corrected (their kind of document: what the books
    // book it against — finance before 1.2 reads only this); the late document is the reason.
    let source = match changes.first() {
        Some((first, _)) => host::elevated()
            .get("stock_move", *first)?
            .str("source")
            .unwrap_or_default()
            .to_string(),
        None => String::new(),
    };
    let line = host::elevated().create(
        "stock_move",
        &json!({
            "product": product,
            "warehouse": warehouse,
            "kind": "revaluation",
            "quantity": "0",
            "unit_cost": "0",
            "value": total.to_string(),
            "posted_on": on,
            "source": source,
            "revalued_kind": kind,
            "corrects": corrects.join(" "),
            "reason": t(
                &format!("{n} movement(s) re-valued after the back-dated {cause}"),
                &format!("因倒记账单据 {cause} 重估 {n} 笔流水的成本"),
            ),
        }),
    )?;
    crate::feed::record(&line);
    crate::bins::add(line.id, product, warehouse, Decimal::ZERO, total, on)
}

/// Re-values a product's movements in a warehouse from `from` on, after a posting from
/// `cause`; then, for every transfer whose value changed, its other half and that warehouse.
/// Returns the movements re-valued.
pub fn revalue(product: i64, warehouse: i64, from: &str, cause: &str) -> Result<usize> {
    let mut work: Vec<(i64, String)> = vec![(warehouse, from.to_string())];
    let mut done: BTreeSet<(i64, String)> = BTreeSet::new();
    let mut changed = 0;
    while let Some((w, date)) = work.pop() {
        if !done.insert((w, date.clone())) {
            continue;
        }
        let (n, carried) = revalue_one(product, w, &date, cause)?;
        changed += n;
        for (transfer_out, delta, on) in carried {
            // The other half of the transfer: it came in at what left, so it moves by the
            // same amount the other way round.
            let source = host::elevated().get("stock_move", transfer_out)?;
            let halves = host::query(
                "stock_move",
                &Query::new()
                    .elevated()
                    .eq("source", source.str("source").unwrap_or_default())
                    .eq("kind", "transfer_in")
                    .eq("product", product)
                    .limit(1),
            )?;
            if let Some(into) = halves.items.first() {
                let to = into.i64("warehouse").unwrap_or_default();
                post_revaluation(product, to, &on, "transfer_in", &[(into.id, -delta)], cause)?;
                changed += 1;
                work.push((to, on));
            }
        }
    }
    Ok(changed)
}

/// A transfer out whose value changed: its id, the change, its date.
type Carried = (i64, Decimal, String);

/// One warehouse: movements re-valued, and the transfers out whose value changed.
fn revalue_one(
    product: i64,
    warehouse: i64,
    from: &str,
    cause: &str,
) -> Result<(usize, Vec<Carried>)> {
    let all = later_movements(product, warehouse, from)?;
    // What earlier revaluations already corrected, by the movement they correct. Lines that
    // name several movements are read for their `corrects`.
    let mut corrected: BTreeMap<i64, Decimal> = BTreeMap::new();
    let mut grouped: Vec<i64> = Vec::new();
    for m in all.iter().filter(|m| m.kind == "revaluation") {
        match m.revalues {
            Some(target) => *corrected.entry(target).or_default() += m.value,
            None => grouped.push(m.id),
        }
    }
    for ids in grouped.chunks(1_000) {
        let lines = host::query_all(
            "stock_move",
            &Query::new().elevated().in_list("id", ids.to_vec()),
        )?;
        for line in &lines {
            for (id, change) in corrected_by(line) {
                *corrected.entry(id).or_default() += change;
            }
        }
    }
    let (mut q, mut v) = balance_before(product, warehouse, from)?;
    // Revaluations of movements from `from` on carry their movement's date, so none posted
    // before `from` belongs here: the opening balance is right as it is.
    let mut changes: BTreeMap<(String, String), Vec<(i64, Decimal)>> = BTreeMap::new();
    let mut carried = Vec::new();
    let mut n = 0;
    for m in all.iter().filter(|m| m.kind != "revaluation") {
        let mut value = m.value + corrected.get(&m.id).copied().unwrap_or_default();
        if m.follows_average() && q > Decimal::ZERO {
            let out = -m.quantity;
            let expected = if out >= q { -v } else { -round(out * v / q, 2) };
            if expected != value {
                let delta = expected - value;
                changes
                    .entry((m.on.clone(), m.kind.clone()))
                    .or_default()
                    .push((m.id, delta));
                n += 1;
                if m.kind == "transfer_out" {
                    carried.push((m.id, delta, m.on.clone()));
                }
                value = expected;
            }
        }
        q += m.quantity;
        v += value;
    }
    for ((on, kind), list) in &changes {
        for chunk in list.chunks(PER_LINE) {
            post_revaluation(product, warehouse, on, kind, chunk, cause)?;
        }
    }
    Ok((n, carried))
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
