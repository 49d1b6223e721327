//! Slow movers: stock on hand that has not sold for a while — per product and warehouse, the
//! days since its last delivery (or, never sold, since it first came in), at least a given
//! number of days at a date, longest first, with what is on hand and (for whoever may see
//! values) what it is worth. From the ledger: one grouped sum of levels, one grouped latest
//! delivery date, one grouped first movement date.

use crate::stock::{levels, names, num, sees_values};
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// The most rows the report lists.
const MAX_ROWS: usize = 500;

/// Stock that has not sold for a while: where, days idle, never sold at all, quantity, value.
struct Idle {
    at: (i64, i64),
    days: i64,
    never: bool,
    quantity: Decimal,
    value: Decimal,
}

/// A date per (product, warehouse): the latest or earliest movement of the kinds asked.
fn dates_by(kind: Option<&str>, at: &str, latest: bool) -> Result<BTreeMap<(i64, i64), i64>> {
    let mut q = Query::new().elevated().lte("posted_on", at);
    if let Some(k) = kind {
        q = q.eq("kind", k);
    }
    let metric = if latest {
        Metric::Max("posted_on")
    } else {
        Metric::Min("posted_on")
    };
    let mut out = BTreeMap::new();
    for g in host::aggregate("stock_move", &q, &["product", "warehouse"], &[metric])? {
        let (Some(p), Some(w)) = (g.group[0].as_i64(), g.group[1].as_i64()) else {
            continue;
        };
        if let Some(d) = g
            .values
            .first()
            .and_then(Value::as_str)
            .and_then(dates::parse)
        {
            out.insert((p, w), d);
        }
    }
    Ok(out)
}

/// Stock on hand at `at` that has not sold for at least `days` days, longest first.
pub fn report(at: &str, days: i64) -> Result<Value> {
    host::query("product", &Query::new().limit(1))?; // the caller must read products
    let on = dates::parse(at).unwrap_or_else(dates::today);
    let at = dates::format(on);
    let values = sees_values();
    let sold = dates_by(Some("delivery"), &at, true)?;
    let first = dates_by(None, &at, false)?;
    let mut slow: Vec<Idle> = Vec::new();
    for ((p, w), level) in levels(Some(&at), None, None)? {
        if level.balance.quantity <= Decimal::ZERO {
            continue;
        }
        let (since, never) = match (sold.get(&(p, w)), first.get(&(p, w))) {
            (Some(d), _) => (*d, false),
            (None, Some(d)) => (*d, true),
            (None, None) => continue,
        };
        let idle = on - since;
        if idle >= days {
            slow.push(Idle {
                at: (p, w),
                days: idle,
                never,
                quantity: level.balance.quantity,
                value: level.balance.value,
            });
        }
    }
    slow.sort_by(|a, b| {
        b.days
            .cmp(&a.days)
            .then(b.value.cmp(&a.value))
            .then(a.at.cmp(&b.at))
    });
    let total = slow.len();
    slow.truncate(MAX_ROWS);
    let ids: Vec<i64> = slow.iter().map(|i| i.at.0).collect();
    let products: BTreeMap<i64, Record> =
        host::records_by_id("product", &ids, &Query::new().elevated())?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
    let warehouses = names("warehouse", "code")?;
    let rows: Vec<Value> = slow
        .iter()
        .filter_map(|i| {
            let (p, w) = (&i.at.0, &i.at.1);
            let (idle, never, quantity, value) = (&i.days, &i.never, &i.quantity, &i.value);
            let product = products.get(p)?;
            let mut row = json!({
                "product": p, "sku": product.str("sku"), "name": product.str("name"),
                "warehouse": w, "warehouse_code": warehouses.get(w).map(|x| x.0.clone()),
                "on_hand": num(*quantity), "days": idle, "never_sold": never,
            });
            if values {
                row["value"] = json!(value.to_string());
            }
            Some(row)
        })
        .collect();
    Ok(json!({"at": at, "days": days, "rows": rows, "total_rows": total}))
}

/// The slow movers page: the threshold and date to choose, then the table.
pub fn page(at: &str, days: i64) -> Result<String> {
    let data = report(at, days)?;
    let values = sees_values();
    let mut s = format!(
        "<h1>{}</h1><form method=\"get\" class=\"inline-form\"><label>{} <input type=\"number\" name=\"days\" min=\"0\" max=\"3650\" value=\"{}\"></label> <label>{} <input type=\"date\" name=\"at\" value=\"{}\"></label> <button>{}</button></form>",
        esc(&t("Slow movers", "滞销商品")),
        esc(&t("Not sold for at least (days)", "至少多少天未售出")),
        days,
        esc(&t("At", "截至")),
        esc(data["at"].as_str().unwrap_or("")),
        esc(&t("Show", "查看")),
    );
    let rows = data["rows"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        s.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t(
                "Everything on hand has sold recently.",
                "库存商品近期均有销售。"
            ))
        ));
        return Ok(s);
    }
    let mut heads = vec![
        t("SKU", "编码"),
        t("Product", "商品"),
        t("Warehouse", "仓库"),
        t("On hand", "现存量"),
        t("Days without a sale", "未售天数"),
    ];
    if values {
        heads.push(t("Value", "金额"));
    }
    s.push_str("<table class=\"records\"><thead><tr>");
    for h in heads {
        s.push_str(&format!("<th>{}</th>", esc(&h)));
    }
    s.push_str("</tr></thead><tbody>");
    let never = t("never sold", "从未售出");
    for r in &rows {
        let c = |k: &str| esc(r[k].as_str().unwrap_or(""));
        s.push_str(&format!(
            "<tr data-product=\"{}\"><td>{}</td><td><a href=\"movements?product={}&warehouse={}\">{}</a></td><td>{}</td><td>{}</td><td>{}{}</td>",
            r["product"], c("sku"), r["product"], r["warehouse"], c("name"), c("warehouse_code"), c("on_hand"), r["days"],
            if r["never_sold"] == true { format!(" <small class=\"muted\">({})</small>", esc(&never)) } else { String::new() },
        ));
        if values {
            s.push_str(&format!("<td>{}</td>", c("value")));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    if data["total_rows"].as_u64().unwrap_or(0) > rows.len() as u64 {
        s.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t(
                &format!("The {} longest of {}.", rows.len(), data["total_rows"]),
                &format!(
                    "仅列出最久的 {} 项（共 {} 项）。",
                    rows.len(),
                    data["total_rows"]
                ),
            ))
        ));
    }
    Ok(s)
}
