//! Telling people when a call takes a product's *available* stock in a warehouse (on hand less
//! what confirmed orders hold) below its reorder point — the measure the low-stock list uses —
//! through contract 1.3 notices: the role named in the configuration (`low_stock_role`,
//! `manager` by default; empty: nobody) hears of it once per crossing, in both languages,
//! with a link to the product. A posting out of stock and a confirmation that reserves stock
//! both count; a delivery of reserved stock does not (it was told when reserved). Written
//! with the call's writes, so a call that fails tells no one.

use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::outreach::{self, Notice};
use qingguan_plugin_sdk::*;
use std::cell::RefCell;
use std::collections::BTreeMap;

thread_local! {
    /// What was available before this call first lowered it, by (product, warehouse)
    /// (a fresh instance serves every call).
    static BEFORE: RefCell<BTreeMap<(i64, i64), Decimal>> = const { RefCell::new(BTreeMap::new()) };
}

fn watched(product: i64, warehouse: i64) -> bool {
    BEFORE.with(|b| b.borrow().contains_key(&(product, warehouse)))
}

fn keep(product: i64, warehouse: i64, available: Decimal) {
    BEFORE.with(|b| {
        b.borrow_mut()
            .entry((product, warehouse))
            .or_insert(available);
    });
}

/// Before a posting takes stock out: notes what was available, `on_hand` less what open
/// orders held then (read once per product and warehouse in a call).
pub fn before_out(product: i64, warehouse: i64, on_hand: Decimal) -> Result<()> {
    if watched(product, warehouse) {
        return Ok(());
    }
    let held = crate::reservations::reserved_of(Some(&[product]))?
        .get(&(product, warehouse))
        .copied()
        .unwrap_or_default();
    keep(product, warehouse, on_hand - held);
    Ok(())
}

/// Before an order reserves stock: notes what was available (already worked out).
pub fn before_reserving(product: i64, warehouse: i64, available: Decimal) {
    keep(product, warehouse, available);
}

/// At the end of a call that succeeded: what is available now for every pair the call
/// lowered, and a notice for each that crossed its reorder point.
pub fn settle() -> Result<()> {
    let before = BEFORE.with(|b| std::mem::take(&mut *b.borrow_mut()));
    if before.is_empty() {
        return Ok(());
    }
    let role = host::config()["low_stock_role"]
        .as_str()
        .unwrap_or("manager")
        .trim()
        .to_string();
    if role.is_empty() {
        return Ok(());
    }
    let products: Vec<i64> = before.keys().map(|(p, _)| *p).collect();
    let reserved = crate::reservations::reserved_of(Some(&products))?;
    for ((product, warehouse), was) in before {
        let on_hand = crate::bins::get(product, warehouse)?.balance.quantity;
        let held = reserved
            .get(&(product, warehouse))
            .copied()
            .unwrap_or_default();
        crossed(&role, product, warehouse, was, on_hand, held)?;
    }
    Ok(())
}

/// Tells `role` if available stock went from `was` to below the product's reorder point.
fn crossed(
    role: &str,
    product: i64,
    warehouse: i64,
    was: Decimal,
    on_hand: Decimal,
    held: Decimal,
) -> Result<()> {
    let now = on_hand - held;
    if now >= was {
        return Ok(());
    }
    let p = host::elevated().get("product", product)?;
    let Some(point) = p.decimal("reorder_point") else {
        return Ok(());
    };
    if !(was >= point && now < point) {
        return Ok(());
    }
    let w = host::elevated().get("warehouse", warehouse)?;
    let (name, sku, place) = (
        p.str("name").unwrap_or_default().to_string(),
        p.str("sku").unwrap_or_default().to_string(),
        w.str("name").unwrap_or_default().to_string(),
    );
    let (now, point, on_hand, held) = (
        now.normalize(),
        point.normalize(),
        on_hand.normalize(),
        held.normalize(),
    );
    let (en, zh) = if held.is_zero() {
        (
            format!(
                "{name} ({sku}) in {place}: {now} available, below its reorder point of {point}"
            ),
            format!("{name}（{sku}）在{place}的可用库存为 {now}，已低于再订货点 {point}"),
        )
    } else {
        (
            format!("{name} ({sku}) in {place}: {now} available ({on_hand} on hand, {held} reserved), below its reorder point of {point}"),
            format!("{name}（{sku}）在{place}的可用库存为 {now}（现存 {on_hand}，已预留 {held}），已低于再订货点 {point}"),
        )
    };
    let notice = Notice::new(en).zh(zh).link(format!("/e/product/{product}"));
    match outreach::notify_role(role, &notice) {
        Ok(_) => Ok(()),
        // A role renamed since the configuration was written: the call stands, the log says so.
        Err(Error::Invalid { fields, .. }) if fields.iter().any(|(f, _)| f == "role") => {
            host::log_warn(&format!(
                "low stock not announced to role '{role}' (configuration low_stock_role): no such role, or too many holders"
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}
