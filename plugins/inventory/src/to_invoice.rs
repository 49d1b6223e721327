//! What there is to invoice, for finance: delivered sales lines (customer invoices) and
//! received purchase lines (supplier bills), over the orders the caller may see, each with its
//! net unit price and the product's tax rate. Finance subtracts what it already invoiced.

use crate::orders::{self, Kind};
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// Products' tax rates (as text; none where a product names none), read once each.
#[derive(Default)]
struct Rates(BTreeMap<i64, Option<String>>);

impl Rates {
    fn of(&mut self, product: i64) -> Option<String> {
        self.0
            .entry(product)
            .or_insert_with(|| {
                host::elevated()
                    .get("product", product)
                    .ok()
                    .and_then(|p| p.decimal("tax_rate"))
                    .map(|r| r.normalize().to_string())
            })
            .clone()
    }
}

/// Delivered sales lines: order, customer, product, delivered and returned quantities, net
/// unit price, the product's tax rate; `{customer?}`.
pub fn delivered_lines(customer: Option<i64>) -> Result<Value> {
    let mut out = Vec::new();
    let mut rates = Rates::default();
    for (id, order) in crate::reports::visible_orders()? {
        if customer.is_some_and(|c| order.i64("customer") != Some(c)) {
            continue;
        }
        for line in orders::lines(Kind::Sales, id)? {
            let delivered = line.decimal("delivered").unwrap_or_default();
            if delivered.is_zero() {
                continue;
            }
            let q = line.decimal("quantity").unwrap_or(Decimal::ONE);
            let unit = if q.is_zero() {
                Decimal::ZERO
            } else {
                orders::line_amount(&line) / q
            };
            let product = line.i64("product").unwrap_or_default();
            out.push(json!({
                "order": id,
                "number": order.str("number"),
                "tax_rate": rates.of(product),
                "customer": order.i64("customer"),
                "line": line.id,
                "product": line.i64("product"),
                "delivered": delivered.normalize().to_string(),
                "returned": line.decimal("returned").unwrap_or_default().normalize().to_string(),
                "net_unit_price": crate::ledger::round(unit, 4).normalize().to_string(),
            }));
        }
    }
    Ok(json!(out))
}

/// Received purchase lines: order, supplier (id and name), product (id and name), received
/// and returned quantities, the order's unit price (net), the product's tax rate;
/// `{supplier?}`.
pub fn received_lines(supplier: Option<i64>) -> Result<Value> {
    let mut q = Query::new().sort("id");
    if let Some(s) = supplier {
        q = q.eq("supplier", s);
    }
    let mut out = Vec::new();
    let mut rates = Rates::default();
    let mut names: BTreeMap<(&str, i64), String> = BTreeMap::new();
    let mut name = |entity: &'static str, id: i64| -> String {
        names
            .entry((entity, id))
            .or_insert_with(|| {
                host::elevated()
                    .get(entity, id)
                    .ok()
                    .and_then(|r| r.str("name").map(str::to_string))
                    .unwrap_or_default()
            })
            .clone()
    };
    for order in host::query_all("purchase_order", &q)? {
        let supplier = order.i64("supplier").unwrap_or_default();
        for line in orders::lines(Kind::Purchase, order.id)? {
            let received = line.decimal("received").unwrap_or_default();
            if received.is_zero() {
                continue;
            }
            let product = line.i64("product").unwrap_or_default();
            out.push(json!({
                "order": order.id,
                "number": order.str("number"),
                "supplier": supplier,
                "supplier_name": name("supplier", supplier),
                "line": line.id,
                "product": product,
                "product_name": name("product", product),
                "received": received.normalize().to_string(),
                "returned": line.decimal("returned").unwrap_or_default().normalize().to_string(),
                "unit_price": line.decimal("price").unwrap_or_default().normalize().to_string(),
                "tax_rate": rates.of(product),
            }));
        }
    }
    Ok(json!(out))
}
