//! Statements from the journal: the balance sheet at a date (assets = liabilities + equity +
//! the profit not yet closed into equity) and cash by month (库存现金 and 银行存款) with a chart.

use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::{bars, escape as esc};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

fn accounts() -> Result<BTreeMap<i64, Record>> {
    Ok(host::query_all("account", &Query::new().elevated())?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// The balance sheet at `at`.
pub fn balance_sheet(at: &str) -> Result<Value> {
    let accounts = accounts()?;
    let mut by: BTreeMap<i64, Decimal> = BTreeMap::new(); // debit − credit
    for ((a, _), (d, c)) in crate::books::sums("1000-01-01", at, None, false)? {
        *by.entry(a).or_default() += d - c;
    }
    let mut groups: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut totals: BTreeMap<&str, Decimal> = BTreeMap::new();
    for (id, net) in &by {
        let Some(a) = accounts.get(id) else { continue };
        let kind = a.str("kind").unwrap_or("asset");
        let (group, amount) = match kind {
            "asset" => ("assets", *net),
            "liability" => ("liabilities", -*net),
            "equity" => ("equity", -*net),
            "revenue" => ("profit", -*net),
            _ => ("profit", -*net),
        };
        *totals.entry(group).or_default() += amount;
        if group != "profit" && !amount.is_zero() {
            groups.entry(group).or_default().push(
                json!({"code": a.str("code"), "name": a.str("name"), "amount": amount.to_string()}),
            );
        }
    }
    let get = |k: &str| totals.get(k).copied().unwrap_or_default();
    Ok(json!({
        "at": at,
        "assets": groups.get("assets"), "liabilities": groups.get("liabilities"), "equity": groups.get("equity"),
        "total_assets": get("assets").to_string(),
        "total_liabilities": get("liabilities").to_string(),
        "total_equity": get("equity").to_string(),
        "profit": get("profit").to_string(),
        "balanced": get("assets") == get("liabilities") + get("equity") + get("profit"),
    }))
}

/// The balance sheet as a page.
pub fn balance_sheet_page(at: &str) -> Result<String> {
    let b = balance_sheet(at)?;
    let mut s = format!(
        "<h1>{} · {}</h1>",
        esc(&t("Balance sheet", "资产负债表")),
        esc(at)
    );
    for (key, title) in [
        ("assets", t("Assets", "资产")),
        ("liabilities", t("Liabilities", "负债")),
        ("equity", t("Equity", "所有者权益")),
    ] {
        s.push_str(&format!(
            "<h2>{}</h2><table class=\"records\"><tbody>",
            esc(&title)
        ));
        for r in b[key].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(r["code"].as_str().unwrap_or("")),
                esc(r["name"].as_str().unwrap_or("")),
                esc(r["amount"].as_str().unwrap_or(""))
            ));
        }
        s.push_str(&format!(
            "</tbody><tfoot><tr><th colspan=\"2\">{}</th><th>{}</th></tr></tfoot></table>",
            esc(&t("Total", "合计")),
            esc(b[&format!("total_{key}")].as_str().unwrap_or(""))
        ));
    }
    s.push_str(&format!(
        "<p>{}: <strong>{}</strong></p>",
        esc(&t("Profit not yet closed into equity", "未结转利润")),
        esc(b["profit"].as_str().unwrap_or(""))
    ));
    Ok(s)
}

/// Cash (库存现金 and 银行存款) by month in [from, to]: in, out, and the balance at month end.
pub fn cash(from: &str, to: &str) -> Result<Value> {
    let accounts = accounts()?;
    let cash: Vec<i64> = accounts
        .values()
        .filter(|a| matches!(a.str("code"), Some("1001") | Some("1002")))
        .map(|a| a.id)
        .collect();
    let mut opening = Decimal::ZERO;
    let mut months: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    let sums = if cash.is_empty() {
        crate::books::Sums::new()
    } else {
        crate::books::sums("1000-01-01", to, Some(&cash), true)?
    };
    for ((_, on), (d, c)) in sums {
        if on.as_str() < from {
            opening += d - c;
        } else {
            let m = months.entry(on[..7].to_string()).or_default();
            m.0 += d;
            m.1 += c;
        }
    }
    let mut balance = opening;
    let rows: Vec<Value> = months
        .into_iter()
        .map(|(month, (i, o))| {
            balance += i - o;
            json!({"month": month, "in": i.to_string(), "out": o.to_string(), "balance": balance.to_string()})
        })
        .collect();
    Ok(json!({"from": from, "to": to, "opening": opening.to_string(), "months": rows}))
}

/// Cash by month as a page with a chart of the month-end balances.
pub fn cash_page(from: &str, to: &str) -> Result<String> {
    let c = cash(from, to)?;
    let f = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let rows: Vec<(String, f64, String)> = c["months"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["month"].as_str().unwrap_or("").to_string(),
                f(&m["balance"]).max(0.0),
                m["balance"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut s = format!("<h1>{}</h1>", esc(&t("Cash by month", "月度现金")));
    if rows.is_empty() {
        s.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t(
                "No cash movements in this period.",
                "该期间没有现金变动。"
            ))
        ));
        return Ok(s);
    }
    s.push_str(&bars(&t("Cash at month end", "月末现金余额"), &rows));
    s.push_str(&format!("<table class=\"records\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(&t("Month", "月份")), esc(&t("In", "收入")), esc(&t("Out", "支出")), esc(&t("Balance", "余额"))));
    for m in c["months"].as_array().into_iter().flatten() {
        let v = |k: &str| esc(m[k].as_str().unwrap_or(""));
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            v("month"),
            v("in"),
            v("out"),
            v("balance")
        ));
    }
    s.push_str("</tbody></table>");
    Ok(s)
}

/// A customer's statement: posted invoices (+), credit notes and payments (−) in date order with
/// the running balance — what the customer owes — one statement per currency the customer
/// deals in, each in that currency (as the documents were issued): `lines` and `balance` in
/// the company currency, `others` the rest (`{currency, lines, balance}`).
pub fn customer_statement(customer: i64) -> Result<Value> {
    host::get("customer", customer)?;
    host::query("invoice", &Query::new().limit(1))?; // the caller must read invoices
                                                     // Per currency: (date, id, number, amount).
    let mut by: BTreeMap<String, Vec<(String, i64, String, Decimal)>> = BTreeMap::new();
    for inv in host::query_all(
        "invoice",
        &Query::new().elevated().eq("customer", customer).in_list(
            "status",
            ["posted", "partly_paid", "overdue", "paid", "applied"],
        ),
    )? {
        // A credit note lowers what the customer owes.
        let sign = if inv.str("kind") == Some("credit_note") {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        by.entry(crate::fx::currency_of(&inv)).or_default().push((
            inv.str("issued_on").unwrap_or_default().to_string(),
            inv.id,
            inv.str("number").unwrap_or_default().to_string(),
            sign * inv.decimal("total").unwrap_or_default(),
        ));
    }
    for p in host::query_all(
        "payment",
        &Query::new()
            .elevated()
            .eq("customer", customer)
            .eq("status", "posted"),
    )? {
        by.entry(crate::fx::currency_of(&p)).or_default().push((
            p.str("received_on").unwrap_or_default().to_string(),
            p.id,
            p.str("number").unwrap_or_default().to_string(),
            -p.decimal("amount").unwrap_or_default(),
        ));
    }
    let statement = |mut rows: Vec<(String, i64, String, Decimal)>| {
        rows.sort();
        let mut balance = Decimal::ZERO;
        let lines: Vec<Value> = rows
            .into_iter()
            .map(|(on, _, number, amount)| {
                balance += amount;
                json!({"date": on, "document": number, "amount": amount.to_string(), "balance": balance.to_string()})
            })
            .collect();
        (lines, balance)
    };
    let company = crate::fx::company();
    let (lines, balance) = statement(by.remove(&company).unwrap_or_default());
    let others: Vec<Value> = by
        .into_iter()
        .map(|(currency, rows)| {
            let (lines, balance) = statement(rows);
            json!({"currency": currency, "lines": lines, "balance": balance.to_string()})
        })
        .collect();
    Ok(
        json!({"customer": customer, "currency": company, "lines": lines,
              "balance": balance.to_string(), "others": others}),
    )
}

/// The statement as a page: a table per currency.
pub fn customer_statement_page(customer: i64) -> Result<String> {
    let st = customer_statement(customer)?;
    let name = host::get("customer", customer)?
        .str("name")
        .unwrap_or("")
        .to_string();
    let mut s = format!(
        "<h1>{} · {}</h1>",
        esc(&t("Statement", "对账单")),
        esc(&name)
    );
    let table = |s: &mut String, currency: &str, part: &Value| {
        s.push_str(&format!(
            "<table class=\"records\" data-currency=\"{}\"><caption>{}</caption><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            esc(currency), esc(currency), esc(&t("Date", "日期")), esc(&t("Document", "单据")), esc(&t("Amount", "金额")), esc(&t("Balance", "余额"))
        ));
        for l in part["lines"].as_array().into_iter().flatten() {
            s.push_str(&crate::page::row(
                l,
                &["date", "document", "amount", "balance"],
            ));
        }
        s.push_str(&format!(
            "</tbody><tfoot><tr><th colspan=\"3\">{}</th><th>{}</th></tr></tfoot></table>",
            esc(&t("Owed", "应收余额")),
            esc(part["balance"].as_str().unwrap_or(""))
        ));
    };
    table(&mut s, st["currency"].as_str().unwrap_or(""), &st);
    for other in st["others"].as_array().into_iter().flatten() {
        table(&mut s, other["currency"].as_str().unwrap_or(""), other);
    }
    Ok(s)
}
