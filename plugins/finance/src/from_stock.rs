//! Documents drafted from what inventory moved: a customer invoice for what was delivered to a
//! customer and not yet invoiced, a supplier bill for what was received from a supplier and not
//! yet billed (booked to 暂估应付, which the receipt credited). Without inventory, 404.

use crate::documents::{self, GRNI};
use crate::journal;
use crate::sides::{PURCHASES, SALES};
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// Asks inventory, saying plainly when it cannot answer (not installed, disabled, or a version
/// without the question), with the runtime's reason.
fn ask_inventory(query: &str, args: &Value) -> Result<Value> {
    host::ask("inventory", query, args).map_err(|e| match e {
        Error::NotFound(why) | Error::Denied(why) => Error::NotFound(t(
            &format!("the inventory plugin cannot answer ({why})"),
            &format!("进销存插件无法回答（{why}）"),
        )),
        other => other,
    })
}

/// How much of each inventory line the lines of `entity` already cover.
fn covered(entity: &str) -> Result<BTreeMap<i64, Decimal>> {
    let mut out: BTreeMap<i64, Decimal> = BTreeMap::new();
    for l in host::query_all(entity, &Query::new().elevated().not_null("source_line"))? {
        *out.entry(l.i64("source_line").unwrap_or_default())
            .or_default() += l.decimal("quantity").unwrap_or_default();
    }
    Ok(out)
}

/// `{"customer": id}`: a draft invoice for what inventory delivered to the customer and no
/// invoice has covered yet (delivered less returned less already invoiced, per line).
pub fn invoice_deliveries(input: &Value) -> Result<Value> {
    let customer = input
        .get("customer")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            Error::invalid(t("which customer?", "哪个客户？"))
                .field("customer", t("required", "必填"))
        })?;
    host::begin_write()?;
    host::get("customer", customer)?;
    let delivered = ask_inventory("delivered_lines", &json!({"customer": customer}))?;
    let invoiced = covered(SALES.line)?;
    let mut lines = Vec::new();
    for d in delivered.as_array().into_iter().flatten() {
        let line = d["line"].as_i64().unwrap_or_default();
        let q = decimal_of(&d["delivered"]).unwrap_or_default()
            - decimal_of(&d["returned"]).unwrap_or_default()
            - invoiced.get(&line).copied().unwrap_or_default();
        if q > Decimal::ZERO {
            lines.push((d.clone(), q));
        }
    }
    if lines.is_empty() {
        return Err(Error::invalid(t(
            "nothing delivered is left to invoice",
            "没有待开票的发货",
        )));
    }
    let invoice = host::create("invoice", &json!({"customer": customer}))?;
    for (d, q) in &lines {
        host::elevated().create(
            "invoice_line",
            &json!({
                "invoice": invoice.id,
                "description": format!("{} #{}", d["number"].as_str().unwrap_or(""), d["line"]),
                "quantity": q.normalize().to_string(),
                "unit_price": d["net_unit_price"],
                // The product's rate in inventory; 13% (goods) where it names none.
                "tax_rate": d["tax_rate"].as_str().unwrap_or("13"),
                "source_line": d["line"],
            }),
        )?;
    }
    documents::retotal(&SALES, invoice.id)?;
    let inv = host::elevated().get("invoice", invoice.id)?;
    Ok(
        json!({"invoice": inv.id, "number": inv.str("number"), "total": inv.decimal("total").map(|d| d.to_string())}),
    )
}

/// `{"supplier": id, "supplier_ref"?, "issued_on"?}` (the supplier as inventory knows it): a
/// draft bill for what was received from the supplier and not yet billed (received less
/// returned less already billed, per purchase line), at the order's prices and the products'
/// tax rates, each line booked to 暂估应付.
pub fn bill_receipts(input: &Value) -> Result<Value> {
    let supplier = input
        .get("supplier")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            Error::invalid(t("which supplier?", "哪个供应商？"))
                .field("supplier", t("required", "必填"))
        })?;
    host::begin_write()?;
    let received = ask_inventory("received_lines", &json!({"supplier": supplier}))?;
    let billed = covered(PURCHASES.line)?;
    let mut lines = Vec::new();
    for r in received.as_array().into_iter().flatten() {
        let line = r["line"].as_i64().unwrap_or_default();
        let q = decimal_of(&r["received"]).unwrap_or_default()
            - decimal_of(&r["returned"]).unwrap_or_default()
            - billed.get(&line).copied().unwrap_or_default();
        if q > Decimal::ZERO {
            lines.push((r.clone(), q));
        }
    }
    let Some(name) = lines
        .first()
        .and_then(|(r, _)| r["supplier_name"].as_str())
        .map(str::to_string)
    else {
        return Err(Error::invalid(t(
            "nothing received is left to bill",
            "没有待开票的采购入库",
        )));
    };
    let grni = journal::account(GRNI)?;
    let mut bill = json!({"supplier": name});
    for f in ["supplier_ref", "issued_on"] {
        if let Some(v) = input.get(f).filter(|v| v.is_string()) {
            bill[f] = v.clone();
        }
    }
    let bill = host::create(PURCHASES.document, &bill)?;
    for (r, q) in &lines {
        host::elevated().create(
            PURCHASES.line,
            &json!({
                "bill": bill.id,
                "description": format!(
                    "{} #{} {}",
                    r["number"].as_str().unwrap_or(""),
                    r["line"],
                    r["product_name"].as_str().unwrap_or("")
                ),
                "account": grni.id,
                "quantity": q.normalize().to_string(),
                "unit_price": r["unit_price"],
                "tax_rate": r["tax_rate"].as_str().unwrap_or("13"),
                "source_line": r["line"],
            }),
        )?;
    }
    documents::retotal(&PURCHASES, bill.id)?;
    let b = host::elevated().get(PURCHASES.document, bill.id)?;
    Ok(
        json!({"bill": b.id, "number": b.str("number"), "total": b.decimal("total").map(|d| d.to_string())}),
    )
}
