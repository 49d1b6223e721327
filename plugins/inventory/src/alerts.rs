//! Telling people when a call takes a product's *available* stock in a warehouse (on hand less
//! what confirmed orders hold) below its reorder point — the measure the low-stock list uses —
//! through contract 1.3 notices: the role named in the configuration (`low_stock_role`,
//! `manager` by default; empty: nobody) hears of it once per crossing, in both languages,
//! with a link to the product. A posting out of stock and a confirmation that reserves stock
//! both count; a delivery of reserved stock does not (it was told when reserved). Written
//! with the call's writes, so a call that fails tells no one; a notice that cannot be written
//! is logged and never stops a posting.

use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::outreach::{self, Notice};
use qingguan_plugin_sdk::*;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// What this call did to one product in one warehouse: the quantity on hand before its first
/// change, and the reservations it released (deliveries of confirmed orders) and added
/// (confirmations) — so that what was available before is known from one reading of the
/// reservations at the end of the call, not one per posting.
#[derive(Debug, Clone, Copy, Default)]
struct Touched {
    on_hand_before: Decimal,
    released: Decimal,
    added: Decimal,
}

thread_local! {
    /// The pairs this call lowered (a fresh instance serves every call).
    static TOUCHED: RefCell<BTreeMap<(i64, i64), Touched>> = const { RefCell::new(BTreeMap::new()) };
}

fn touch(product: i64, warehouse: i64, on_hand: Decimal, change: impl FnOnce(&mut Touched)) {
    TOUCHED.with(|t| {
        let mut t = t.borrow_mut();
        let entry = t.entry((product, warehouse)).or_insert(Touched {
            on_hand_before: on_hand,
            ..Touched::default()
        });
        change(entry);
    });
}

/// Before a posting takes stock out: notes the quantity on hand (the first time in a call).
pub fn before_out(product: i64, warehouse: i64, on_hand: Decimal) {
    touch(product, warehouse, on_hand, |_| {});
}

/// A delivery of `quantity` against a confirmed order's line: it releases that much of the
/// reservation (noted after the posting, whose `before_out` came first).
pub fn released(product: i64, warehouse: i64, quantity: Decimal) {
    TOUCHED.with(|t| {
        if let Some(entry) = t.borrow_mut().get_mut(&(product, warehouse)) {
            entry.released += quantity;
        }
    });
}

/// Before an order reserves `quantity` with `on_hand` on hand.
pub fn reserving(product: i64, warehouse: i64, on_hand: Decimal, quantity: Decimal) {
    touch(product, warehouse, on_hand, |e| e.added += quantity);
}

/// At the end of a call that succeeded: what is available now for every pair the call
/// lowered — one reading of the reservations for them all — and a notice for each that
/// crossed its reorder point.
pub fn settle() -> Result<()> {
    let touched = TOUCHED.with(|t| std::mem::take(&mut *t.borrow_mut()));
    if touched.is_empty() {
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
    let mut products: Vec<i64> = touched.keys().map(|(p, _)| *p).collect();
    products.dedup();
    let reserved = crate::reservations::reserved_of(Some(&products))?;
    for ((product, warehouse), t) in touched {
        let on_hand = crate::bins::get(product, warehouse)?.balance.quantity;
        let held = reserved
            .get(&(product, warehouse))
            .copied()
            .unwrap_or_default();
        let held_before = held + t.released - t.added;
        let was = t.on_hand_before - held_before;
        crossed(&role, product, warehouse, was, on_hand, held)?;
    }
    Ok(())
}

/// At most this many characters of a name in a notice (a notice's text is limited).
const NAME_CHARS: usize = 60;

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(NAME_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
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
        short(p.str("name").unwrap_or_default()),
        short(p.str("sku").unwrap_or_default()),
        short(w.str("name").unwrap_or_default()),
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
    // A notice that cannot be written (a role renamed since the configuration was written,
    // too many holders) never stops the posting: the log says so.
    if let Err(e) = outreach::notify_role(role, &notice) {
        host::log_warn(&format!(
            "low stock not announced to role '{role}' (configuration low_stock_role): {e}"
        ));
    }
    Ok(())
}
