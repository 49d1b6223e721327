//! What confirmed, not fully delivered sales orders hold back, by product and warehouse:
//! reserved stock, which available stock (on hand less reserved) leaves out. It reads the
//! orders and their lines only, so that postings and their notices may ask without going
//! through the order logic.

use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// What a confirmed sales line still holds: ordered less delivered, never below zero.
fn held(line: &Record) -> Decimal {
    let ordered = line.decimal("quantity").unwrap_or_default();
    let delivered = line.decimal("delivered").unwrap_or_default();
    (ordered - delivered).max(Decimal::ZERO)
}

/// Reserved quantities by (product, warehouse): the open orders (confirmed or partly
/// delivered), then their lines — of the given products only, when named.
pub fn reserved_of(products: Option<&[i64]>) -> Result<BTreeMap<(i64, i64), Decimal>> {
    let open: BTreeMap<i64, i64> = host::query_all(
        "sales_order",
        &Query::new()
            .elevated()
            .in_list("status", ["confirmed", "partial"]),
    )?
    .into_iter()
    .map(|o| (o.id, o.i64("warehouse").unwrap_or_default()))
    .collect();
    let mut out = BTreeMap::new();
    if open.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = open.keys().copied().collect();
    for chunk in ids.chunks(200) {
        let mut q = Query::new()
            .elevated()
            .in_list("order", chunk.iter().copied());
        if let Some(p) = products {
            q = q.in_list("product", p.iter().copied());
        }
        for line in host::query_all("sales_line", &q)? {
            let Some(w) = line.i64("order").and_then(|o| open.get(&o)) else {
                continue;
            };
            let p = line.i64("product").unwrap_or_default();
            *out.entry((p, *w)).or_insert(Decimal::ZERO) += held(&line);
        }
    }
    Ok(out)
}
