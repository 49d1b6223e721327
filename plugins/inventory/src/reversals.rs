//! What reversing a movement of an order does to its line: a receipt or delivery counts as not
//! moved again, a return as not returned — and a delivery whose goods came back cannot be
//! reversed before the return is.

use crate::orders::{refresh_status, Kind};
use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// Before a movement of an order is reversed: whether its line allows it (a delivery whose
/// goods came back must have its return reversed first).
pub fn check_reversal(
    kind: Option<&str>,
    source: Option<&str>,
    source_line: Option<i64>,
    quantity: Decimal,
) -> Result<()> {
    let (Some(source), Some(line_id), Some(kind)) = (source, source_line, kind) else {
        return Ok(());
    };
    let Some(order_kind) = source.split_once(':').and_then(|(e, _)| Kind::of_order(e)) else {
        return Ok(());
    };
    if !matches!(kind, "receipt" | "delivery") {
        return Ok(());
    }
    let line = host::elevated().get(order_kind.line(), line_id)?;
    let moved = line.decimal(order_kind.moved()).unwrap_or_default() - quantity.abs();
    if moved < line.decimal("returned").unwrap_or_default() {
        return Err(Error::invalid(t(
            "part of this has been returned; reverse the return first",
            "其中部分已退货，请先冲销退货",
        )));
    }
    Ok(())
}

/// After a movement of an order was reversed: its line counts it as not moved (a receipt or
/// delivery) or not returned (a return).
pub fn reversed(
    kind: Option<&str>,
    source: Option<&str>,
    source_line: Option<i64>,
    quantity: Decimal,
) -> Result<()> {
    let (Some(source), Some(line_id)) = (source, source_line) else {
        return Ok(());
    };
    let Some((entity, id)) = source.split_once(':') else {
        return Ok(());
    };
    let Some(order_kind) = Kind::of_order(entity) else {
        return Ok(());
    };
    let counter = match kind {
        Some("receipt") | Some("delivery") => order_kind.moved(),
        Some("return_in") | Some("return_out") => "returned",
        _ => return Ok(()),
    };
    let order_id: i64 = id.parse().unwrap_or_default();
    let line = host::elevated().get(order_kind.line(), line_id)?;
    let left = line.decimal(counter).unwrap_or_default() - quantity.abs();
    host::elevated().update(
        order_kind.line(),
        line.id,
        line.version,
        &json!({ counter: left.max(Decimal::ZERO).normalize().to_string() }),
    )?;
    refresh_status(order_kind, order_id).map(|_| ())
}
