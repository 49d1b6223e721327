//! Profit and loss for any period (利润表): revenue and expense accounts from the trial balance
//! of the period, so it is reproducible from the journal and agrees with the trial balance's
//! profit.

use crate::reports;
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// Revenue (credits less debits) and expenses (debits less credits) per account in [from, to].
pub fn profit_and_loss(from: &str, to: &str) -> Result<Value> {
    let tb = reports::trial_balance(from, to)?;
    let (mut revenue, mut expenses) = (Vec::new(), Vec::new());
    let (mut total_revenue, mut total_expenses) = (Decimal::ZERO, Decimal::ZERO);
    for row in tb["rows"].as_array().into_iter().flatten() {
        let (d, c) = (
            decimal_of(&row["debit"]).unwrap_or_default(),
            decimal_of(&row["credit"]).unwrap_or_default(),
        );
        let line = |amount: Decimal| json!({"code": row["code"], "name": row["name"], "amount": amount.to_string()});
        match row["kind"].as_str() {
            Some("revenue") => {
                total_revenue += c - d;
                revenue.push(line(c - d));
            }
            Some("expense") => {
                total_expenses += d - c;
                expenses.push(line(d - c));
            }
            _ => {}
        }
    }
    Ok(json!({
        "from": from, "to": to, "revenue": revenue, "expenses": expenses,
        "total_revenue": total_revenue.to_string(),
        "total_expenses": total_expenses.to_string(),
        "profit": (total_revenue - total_expenses).to_string(),
    }))
}

/// The profit and loss as a page, with the period's form.
pub fn profit_and_loss_page(from: &str, to: &str) -> Result<String> {
    let pl = profit_and_loss(from, to)?;
    let mut s = format!(
        "<h1>{}</h1><form method=\"get\" class=\"filters\"><label>{} <input type=\"date\" name=\"from\" value=\"{}\"></label> <label>{} <input type=\"date\" name=\"to\" value=\"{}\"></label> <button>{}</button></form><table class=\"records\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(&t("Profit and loss", "利润表")),
        esc(&t("From", "从")),
        esc(from),
        esc(&t("To", "至")),
        esc(to),
        esc(&t("Show", "查询")),
        esc(&t("Code", "科目代码")),
        esc(&t("Account", "科目")),
        esc(&t("Amount", "金额")),
    );
    let section = |s: &mut String, title: String, rows: &Value, total: &Value| {
        s.push_str(&format!("<tr><th colspan=\"3\">{}</th></tr>", esc(&title)));
        for r in rows.as_array().into_iter().flatten() {
            s.push_str(&crate::page::row(r, &["code", "name", "amount"]));
        }
        s.push_str(&format!(
            "<tr><td></td><th>{}</th><th>{}</th></tr>",
            esc(&t("Total", "合计")),
            esc(total.as_str().unwrap_or(""))
        ));
    };
    section(
        &mut s,
        t("Revenue", "收入"),
        &pl["revenue"],
        &pl["total_revenue"],
    );
    section(
        &mut s,
        t("Expenses", "费用"),
        &pl["expenses"],
        &pl["total_expenses"],
    );
    s.push_str(&format!(
        "</tbody><tfoot><tr><td></td><th>{}</th><th>{}</th></tr></tfoot></table>",
        esc(&t("Profit for the period", "本期利润")),
        esc(pl["profit"].as_str().unwrap_or(""))
    ));
    Ok(s)
}
