//! Reports derived from the ledger and the orders: low stock (with the scheduled job that
//! announces it), sales by product and customer for a period, and one product's movements as
//! a page.

use crate::orders;
use crate::stock;
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::{bars, escape as esc};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::{BTreeMap, BTreeSet};

/// Products whose available quantity is below their reorder point, by warehouse.
pub fn low_stock() -> Result<Vec<Value>> {
    host::query("product", &Query::new().limit(1))?; // the caller must read products
    let points: BTreeMap<i64, (String, String, Decimal)> = host::query_all(
        "product",
        &Query::new().elevated().not_null("reorder_point"),
    )?
    .into_iter()
    .filter_map(|p| {
        let point = p.decimal("reorder_point")?;
        let text = |f: &str| p.str(f).unwrap_or_default().to_string();
        Some((p.id, (text("sku"), text("name"), point)))
    })
    .collect();
    let warehouses = stock::names("warehouse", "code")?;
    let mut rows = Vec::new();
    for ((p, w), level) in stock::levels(None, None, None)? {
        let Some((sku, name, point)) = points.get(&p) else {
            continue;
        };
        if level.available() < *point {
            rows.push(json!({
                "product": p, "warehouse": w, "sku": sku, "name": name,
                "warehouse_code": warehouses.get(&w).map(|x| x.0.clone()),
                "available": stock::num(level.available()),
                "reorder_point": stock::num(*point),
                "low": true,
            }));
        }
    }
    Ok(rows)
}

/// The low-stock page (and dashboard widget).
pub fn low_stock_page() -> Result<String> {
    let rows = low_stock()?;
    let mut s = format!(
        "<h2>{}</h2>",
        esc(&t("Below reorder point", "低于再订货点"))
    );
    if rows.is_empty() {
        s.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t("Nothing is running low.", "没有低于再订货点的商品。"))
        ));
        return Ok(s);
    }
    s.push_str(&format!(
        "<table class=\"records\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(&t("Product", "商品")),
        esc(&t("Warehouse", "仓库")),
        esc(&t("Available", "可用量")),
        esc(&t("Reorder point", "再订货点")),
    ));
    for r in &rows {
        let text = |k: &str| esc(r[k].as_str().unwrap_or(""));
        s.push_str(&format!(
            "<tr><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            text("sku"),
            text("name"),
            text("warehouse_code"),
            text("available"),
            text("reorder_point")
        ));
    }
    s.push_str("</tbody></table>");
    Ok(s)
}

/// The daily job: what is low now is kept (`low_stock:last`) and announced as the
/// `inventory.low_stock` event, the seam a notifications module subscribes to.
pub fn low_stock_job() -> Result<JobProgress> {
    let rows = low_stock()?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| json!({"product": r["product"], "warehouse": r["warehouse"], "sku": r["sku"], "available": r["available"]}))
        .collect();
    host::kv_set(
        "low_stock:last",
        json!({"on": dates::format(dates::today()), "items": items})
            .to_string()
            .as_bytes(),
    )?;
    if !items.is_empty() {
        host::emit("inventory.low_stock", &json!({"items": items}))?;
    }
    Ok(JobProgress::done(items.len() as u64))
}

/// The sales orders the caller may see (every order when `all`), of one owner if given.
fn orders_seen(all: bool, owner: Option<i64>) -> Result<BTreeMap<i64, Record>> {
    let mut q = Query::new().sort("id");
    if all {
        q = q.elevated();
    }
    if let Some(o) = owner {
        q = q.eq("owner", o);
    }
    Ok(host::query_all("sales_order", &q)?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}

/// The sales orders the caller may see.
pub(crate) fn visible_orders() -> Result<BTreeMap<i64, Record>> {
    orders_seen(false, None)
}

/// Delivered quantities and net revenue in a period, by product and by customer, over the
/// sales orders the caller may see (returns deducted).
pub fn sales(from: &str, to: &str) -> Result<Value> {
    sales_for(from, to, false, None)
}

/// [`sales`] over every order (`all`, for another plugin) or the caller's, of one owner if
/// given. Deliveries count, returns and reversals of deliveries count back.
pub fn sales_for(from: &str, to: &str, all: bool, owner: Option<i64>) -> Result<Value> {
    let orders = orders_seen(all, owner)?;
    let moves: Vec<Record> = host::query_all(
        "stock_move",
        &Query::new()
            .elevated()
            .in_list("kind", ["delivery", "return_in", "reversal"])
            .gte("posted_on", from)
            .lte("posted_on", to),
    )?
    .into_iter()
    .filter(|m| {
        m.str("source")
            .is_some_and(|s| s.starts_with("sales_order:"))
    })
    .collect();
    let line_ids: BTreeSet<i64> = moves.iter().filter_map(|m| m.i64("source_line")).collect();
    let mut lines: BTreeMap<i64, Record> = BTreeMap::new();
    for chunk in line_ids.into_iter().collect::<Vec<_>>().chunks(200) {
        for l in host::query_all(
            "sales_line",
            &Query::new().elevated().in_list("id", chunk.iter().copied()),
        )? {
            lines.insert(l.id, l);
        }
    }
    let mut by_product: BTreeMap<i64, (Decimal, Decimal)> = BTreeMap::new();
    let mut by_customer: BTreeMap<i64, Decimal> = BTreeMap::new();
    for m in &moves {
        let Some(line) = m.i64("source_line").and_then(|l| lines.get(&l)) else {
            continue;
        };
        let Some(order) = line.i64("order").and_then(|o| orders.get(&o)) else {
            continue;
        };
        let q = -m.decimal("quantity").unwrap_or_default();
        let net = orders::line_amount(line)
            / line
                .decimal("quantity")
                .filter(|q| !q.is_zero())
                .unwrap_or(Decimal::ONE)
            * q;
        let net = crate::ledger::round(net, 2);
        let p = by_product
            .entry(line.i64("product").unwrap_or_default())
            .or_default();
        p.0 += q;
        p.1 += net;
        *by_customer
            .entry(order.i64("customer").unwrap_or_default())
            .or_default() += net;
    }
    let names: BTreeMap<i64, String> = host::query_all("product", &Query::new().elevated())?
        .into_iter()
        .map(|p| {
            (
                p.id,
                format!(
                    "{} {}",
                    p.str("sku").unwrap_or(""),
                    p.str("name").unwrap_or("")
                ),
            )
        })
        .collect();
    let customers: BTreeMap<i64, String> = {
        let ids: Vec<i64> = by_customer.keys().copied().collect();
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(200) {
            for c in host::query_all(
                "customer",
                &Query::new().elevated().in_list("id", chunk.iter().copied()),
            )? {
                out.insert(c.id, c.str("name").unwrap_or("").to_string());
            }
        }
        out
    };
    Ok(json!({
        "from": from,
        "to": to,
        "products": by_product.iter().map(|(p, (q, r))| json!({"product": p, "name": names.get(p), "quantity": q.normalize().to_string(), "revenue": r.to_string()})).collect::<Vec<_>>(),
        "customers": by_customer.iter().map(|(c, r)| json!({"customer": c, "name": customers.get(c), "revenue": r.to_string()})).collect::<Vec<_>>(),
    }))
}

/// The sales report page: a period, bars by product, a table by customer.
pub fn sales_page(from: &str, to: &str) -> Result<String> {
    let data = sales(from, to)?;
    let f = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let mut s = format!(
        "<h1>{}</h1><form method=\"get\" class=\"inline-form\"><label>{} <input type=\"date\" name=\"from\" value=\"{}\"></label> <label>{} <input type=\"date\" name=\"to\" value=\"{}\"></label> <button>{}</button></form>",
        esc(&t("Sales by product", "商品销售")),
        esc(&t("From", "从")),
        esc(from),
        esc(&t("to", "至")),
        esc(to),
        esc(&t("Show", "查看")),
    );
    let rows: Vec<(String, f64, String)> = data["products"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_string(),
                f(&p["revenue"]),
                format!(
                    "{} · {}",
                    p["quantity"].as_str().unwrap_or(""),
                    p["revenue"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    if rows.is_empty() {
        s.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t(
                "Nothing was delivered in this period.",
                "该期间没有发货。"
            ))
        ));
        return Ok(s);
    }
    s.push_str(&bars(
        &t(
            "Net revenue by product (quantity · revenue)",
            "按商品的销售净额（数量 · 金额）",
        ),
        &rows,
    ));
    s.push_str(&format!(
        "<table class=\"records\"><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(&t("Customer", "客户")),
        esc(&t("Net revenue", "销售净额"))
    ));
    for c in data["customers"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(c["name"].as_str().unwrap_or("")),
            esc(c["revenue"].as_str().unwrap_or(""))
        ));
    }
    s.push_str("</tbody></table>");
    Ok(s)
}

/// One product's movements as a page (the JSON rows of [`stock::movements`]).
pub fn movements_page(
    product: i64,
    warehouse: Option<i64>,
    cursor: Option<&str>,
) -> Result<String> {
    let data = stock::movements(product, warehouse, cursor)?;
    let p = host::get("product", product)?;
    let values = stock::sees_values();
    let mut s = format!(
        "<h1>{} {}</h1><p><a href=\"stock\">{}</a></p><table class=\"records\"><thead><tr>",
        esc(p.str("sku").unwrap_or("")),
        esc(p.str("name").unwrap_or("")),
        esc(&t("Back to stock", "返回库存"))
    );
    let mut heads = vec![
        t("Date", "日期"),
        t("Kind", "类型"),
        t("Quantity", "数量"),
        t("Balance", "结存"),
    ];
    if values {
        heads.extend([
            t("Unit cost", "单位成本"),
            t("Value", "金额"),
            t("Balance value", "结存金额"),
        ]);
    }
    heads.push(t("Source", "来源"));
    for h in heads {
        s.push_str(&format!("<th>{}</th>", esc(&h)));
    }
    s.push_str("</tr></thead><tbody>");
    for r in data["rows"].as_array().into_iter().flatten() {
        let c = |k: &str| esc(r[k].as_str().unwrap_or(""));
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            c("posted_on"),
            esc(&kind_label(r["kind"].as_str().unwrap_or(""))),
            c("quantity"),
            c("balance")
        ));
        if values {
            s.push_str(&format!(
                "<td>{}</td><td>{}</td><td>{}</td>",
                c("unit_cost"),
                c("value"),
                c("balance_value")
            ));
        }
        s.push_str(&format!("<td>{}</td></tr>", c("source")));
    }
    s.push_str("</tbody></table>");
    let here = match warehouse {
        Some(w) => format!("movements?product={product}&warehouse={w}"),
        None => format!("movements?product={product}"),
    };
    let mut links = Vec::new();
    if cursor.is_some() {
        links.push(format!(
            "<a href=\"{here}\">{}</a>",
            esc(&t("← First", "← 第一页"))
        ));
    }
    if let Some(next) = data["next_cursor"].as_str() {
        links.push(format!(
            "<a href=\"{here}&cursor={}\">{}</a>",
            qingguan_plugin_sdk::http::encode(next),
            esc(&t("Later movements →", "后续流水 →"))
        ));
    }
    if !links.is_empty() {
        s.push_str(&format!("<p class=\"pager\">{}</p>", links.join(" ")));
    }
    Ok(s)
}

fn kind_label(kind: &str) -> String {
    match kind {
        "receipt" => t("Receipt", "采购入库"),
        "delivery" => t("Delivery", "销售出库"),
        "return_in" => t("Customer return", "销售退货"),
        "return_out" => t("Return to supplier", "采购退货"),
        "transfer_in" => t("Transfer in", "调拨入库"),
        "transfer_out" => t("Transfer out", "调拨出库"),
        "adjustment" => t("Stock count", "盘点调整"),
        "reversal" => t("Reversal", "冲销"),
        "revaluation" => t("Revaluation", "成本重估"),
        other => other.to_string(),
    }
}
