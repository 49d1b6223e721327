//! Telling people when a posting takes a product's stock in a warehouse below its reorder
//! point (contract 1.3 notices): the role named in the configuration (`low_stock_role`,
//! `manager` by default; empty: nobody) hears of it once per crossing, in both languages,
//! with a link to the product — written with the posting, so a posting that fails tells no one.

use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::outreach::{self, Notice};
use qingguan_plugin_sdk::*;

/// After an outgoing posting took the quantity on hand from `before` to `after`: notifies the
/// configured role when that crossed the product's reorder point.
pub fn crossed(product: i64, warehouse: i64, before: Decimal, after: Decimal) -> Result<()> {
    if after >= before {
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
    let p = host::elevated().get("product", product)?;
    let Some(point) = p.decimal("reorder_point") else {
        return Ok(());
    };
    if !(before >= point && after < point) {
        return Ok(());
    }
    let w = host::elevated().get("warehouse", warehouse)?;
    let (name, sku, place) = (
        p.str("name").unwrap_or_default().to_string(),
        p.str("sku").unwrap_or_default().to_string(),
        w.str("name").unwrap_or_default().to_string(),
    );
    let (after, point) = (after.normalize(), point.normalize());
    let notice = Notice::new(format!(
        "{name} ({sku}) in {place}: {after} on hand, below its reorder point of {point}"
    ))
    .zh(format!(
        "{name}（{sku}）在{place}的库存为 {after}，已低于再订货点 {point}"
    ))
    .link(format!("/e/product/{product}"));
    match outreach::notify_role(&role, &notice) {
        Ok(_) => Ok(()),
        // A role renamed since the configuration was written: the posting stands, the log says so.
        Err(Error::Invalid { fields, .. }) if fields.iter().any(|(f, _)| f == "role") => {
            host::log_warn(&format!(
                "low stock not announced to role '{role}' (configuration low_stock_role): no such role, or too many holders"
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}
