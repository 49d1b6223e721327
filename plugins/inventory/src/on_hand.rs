//! The stock on hand report: every product's level in every warehouse (or one), now or at a
//! date, with reservations, availability, low-stock marks and — for whoever may see them —
//! average costs and values; in pages of 200 rows, the total value over all of them.

use crate::stock::{levels, names, num, sees_values, Level};
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::{BTreeMap, BTreeSet};

/// Rows on one page of the report.
pub const PAGE_ROWS: usize = 200;

/// One page of the stock report as JSON: its rows, the page and pages, and — for whoever may
/// see values — the total value of everything on hand (every page).
pub fn report(at: Option<&str>, warehouse: Option<i64>, page: usize) -> Result<Value> {
    host::query("product", &Query::new().limit(1))?; // the caller must read products
    let values = sees_values();
    let warehouses = names("warehouse", "code")?;
    let levels = levels(at, None, warehouse)?;
    let total_value: Decimal = levels.values().map(|l| l.balance.value).sum();
    // A page past the last is empty (a client reading "until empty" stops there).
    let pages = levels.len().div_ceil(PAGE_ROWS).max(1);
    let window: Vec<(&(i64, i64), &Level)> = levels
        .iter()
        .skip(page * PAGE_ROWS)
        .take(PAGE_ROWS)
        .collect();
    let ids: BTreeSet<i64> = window.iter().map(|((p, _), _)| *p).collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    let products: BTreeMap<i64, Record> =
        host::records_by_id("product", &ids, &Query::new().elevated())?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
    let mut rows = Vec::new();
    for ((p, w), level) in window {
        let Some(product) = products.get(p) else {
            continue;
        };
        let reorder = product.decimal("reorder_point");
        let low = reorder.is_some_and(|r| level.available() < r);
        let mut row = json!({
            "product": p,
            "sku": product.str("sku"),
            "name": product.str("name"),
            "unit": product.str("unit"),
            "warehouse": w,
            "warehouse_code": warehouses.get(w).map(|x| x.0.clone()),
            "on_hand": num(level.balance.quantity),
            "reserved": num(level.reserved),
            "available": num(level.available()),
            "low": low,
        });
        if values {
            row["unit_cost"] = json!(level.balance.unit_cost().map(num));
            row["value"] = json!(level.balance.value.to_string());
        }
        rows.push(row);
    }
    let mut out = json!({
        "rows": rows, "at": at, "page": page, "pages": pages, "total_rows": levels.len(),
    });
    if values {
        out["total_value"] = json!(total_value.to_string());
    }
    Ok(out)
}

/// The stock page: a table of one page, the total value, low-stock rows marked, links to the
/// pages before and after.
pub fn page(at: Option<&str>, warehouse: Option<i64>, page: usize) -> Result<String> {
    let data = report(at, warehouse, page)?;
    let values = data.get("total_value").is_some();
    let mut s = format!("<h1>{}</h1>", esc(&t("Stock on hand", "库存")));
    s.push_str("<table class=\"records\"><thead><tr>");
    let mut heads = vec![
        t("SKU", "编码"),
        t("Product", "商品"),
        t("Warehouse", "仓库"),
        t("On hand", "现存量"),
        t("Reserved", "已预留"),
        t("Available", "可用量"),
    ];
    if values {
        heads.push(t("Avg. cost", "平均成本"));
        heads.push(t("Value", "金额"));
    }
    for h in heads {
        s.push_str(&format!("<th>{}</th>", esc(&h)));
    }
    s.push_str("</tr></thead><tbody>");
    let low = t("below reorder point", "低于再订货点");
    for r in data["rows"].as_array().into_iter().flatten() {
        let cell = |k: &str| esc(r[k].as_str().unwrap_or(""));
        s.push_str(&format!(
            "<tr{}><td>{}</td><td><a href=\"movements?product={}&warehouse={}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td>",
            if r["low"] == true { " class=\"low\"" } else { "" },
            cell("sku"),
            r["product"],
            r["warehouse"],
            cell("name"),
            cell("warehouse_code"),
            cell("on_hand"),
            cell("reserved"),
            cell("available"),
            if r["low"] == true { format!(" <span class=\"field-error\">{}</span>", esc(&low)) } else { String::new() },
        ));
        if values {
            s.push_str(&format!(
                "<td>{}</td><td>{}</td>",
                cell("unit_cost"),
                cell("value")
            ));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s.push_str(&pager(&data, at, warehouse));
    if let Some(v) = data.get("total_value").and_then(Value::as_str) {
        s.push_str(&format!(
            "<p>{}: <strong>{}</strong></p>",
            esc(&t("Total value", "库存总金额")),
            esc(v)
        ));
    }
    Ok(s)
}

/// "Page 2 of 250" with links to the pages before and after (the date and warehouse kept).
fn pager(data: &Value, at: Option<&str>, warehouse: Option<i64>) -> String {
    let page = data["page"].as_u64().unwrap_or(0);
    let pages = data["pages"].as_u64().unwrap_or(1);
    if pages <= 1 {
        return String::new();
    }
    let mut keep = String::new();
    if let Some(at) = at {
        keep.push_str(&format!("&at={}", esc(at)));
    }
    if let Some(w) = warehouse {
        keep.push_str(&format!("&warehouse={w}"));
    }
    let link =
        |to: u64, label: &str| format!("<a href=\"stock?page={to}{keep}\">{}</a>", esc(label));
    let mut s = String::from("<p class=\"pager\">");
    if page > 0 {
        s.push_str(&link(page - 1, &t("← Previous", "← 上一页")));
        s.push(' ');
    }
    s.push_str(&esc(&t(
        &format!(
            "Page {} of {} ({} rows)",
            page + 1,
            pages,
            data["total_rows"]
        ),
        &format!(
            "第 {} / {} 页（共 {} 行）",
            page + 1,
            pages,
            data["total_rows"]
        ),
    )));
    if page + 1 < pages {
        s.push(' ');
        s.push_str(&link(page + 1, &t("Next →", "下一页 →")));
    }
    s.push_str("</p>");
    s
}
