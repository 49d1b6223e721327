//! A sales order from a won deal: the deal's customer and amount carried over, once per deal.

use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// A sales order from a won deal: its customer, its amount to be covered by the lines.
pub fn from_deal(deal_id: i64, warehouse: i64) -> Result<Record> {
    // The writer first: two requests for one deal cannot both find no order.
    host::begin_write()?;
    let deal = host::get("deal", deal_id)?;
    if deal.str("stage") != Some("won") {
        return Err(Error::invalid(t(
            "only a won deal becomes an order",
            "只有赢单的商机可以生成订单",
        ))
        .field("deal", t("the deal is not won", "商机尚未赢单")));
    }
    let existing = host::query(
        "sales_order",
        &Query::new().elevated().eq("deal", deal_id).limit(1),
    )?;
    if let Some(o) = existing.items.first() {
        return Err(Error::Conflict(t(
            &format!(
                "deal #{deal_id} already has sales order {}",
                o.str("number").unwrap_or("")
            ),
            &format!(
                "商机 #{deal_id} 已有销售订单 {}",
                o.str("number").unwrap_or("")
            ),
        )));
    }
    let order = host::create(
        "sales_order",
        &json!({
            "customer": deal.i64("customer"),
            "warehouse": warehouse,
        }),
    )?;
    host::elevated().update(
        "sales_order",
        order.id,
        order.version,
        // The amount in the deal's own currency, which is named beside it.
        &json!({"deal": deal_id, "deal_amount": deal.decimal("amount").unwrap_or_default().to_string(),
                "deal_currency": deal.str("currency")}),
    )
}
