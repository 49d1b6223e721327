//! Reports reproducible from the journal: the trial balance for any period (debits equal
//! credits) and profit for the period (revenue less expense). (Receivables and payables aging
//! are `aging.rs`; the figures appraisal asks for are `kpi.rs`.)

use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// Per account: debits and credits of posted entries dated in [from, to].
pub fn trial_balance(from: &str, to: &str) -> Result<Value> {
    let accounts: BTreeMap<i64, Record> = host::query_all("account", &Query::new().elevated())?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let sums: BTreeMap<i64, (Decimal, Decimal)> = crate::books::sums(from, to, None, false)?
        .into_iter()
        .map(|((account, _), s)| (account, s))
        .collect();
    let (mut debit, mut credit, mut revenue, mut expense) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut rows = Vec::new();
    let mut by_code: Vec<(&i64, &(Decimal, Decimal))> = sums.iter().collect();
    by_code.sort_by_key(|(id, _)| {
        accounts
            .get(id)
            .and_then(|a| a.str("code"))
            .unwrap_or("")
            .to_string()
    });
    for (id, (d, c)) in by_code {
        let a = accounts.get(id);
        debit += *d;
        credit += *c;
        match a.and_then(|a| a.str("kind")) {
            Some("revenue") => revenue += *c - *d,
            Some("expense") => expense += *d - *c,
            _ => {}
        }
        rows.push(json!({
            "account": id,
            "code": a.and_then(|a| a.str("code")),
            "name": a.and_then(|a| a.str("name")),
            "kind": a.and_then(|a| a.str("kind")),
            "debit": d.to_string(),
            "credit": c.to_string(),
        }));
    }
    Ok(json!({
        "from": from, "to": to, "rows": rows,
        "total_debit": debit.to_string(), "total_credit": credit.to_string(),
        "profit": (revenue - expense).to_string(),
    }))
}

/// The trial balance as a page.
pub fn trial_balance_page(from: &str, to: &str) -> Result<String> {
    let tb = trial_balance(from, to)?;
    let mut s = format!(
        "<h1>{}</h1><form method=\"get\" class=\"inline-form\"><label>{} <input type=\"date\" name=\"from\" value=\"{}\"></label> <label>{} <input type=\"date\" name=\"to\" value=\"{}\"></label> <button>{}</button></form>",
        esc(&t("Trial balance", "试算平衡表")), esc(&t("From", "从")), esc(from), esc(&t("to", "至")), esc(to), esc(&t("Show", "查看"))
    );
    s.push_str(&format!("<table class=\"records\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(&t("Code", "代码")), esc(&t("Account", "科目")), esc(&t("Debit", "借方")), esc(&t("Credit", "贷方"))));
    for r in tb["rows"].as_array().into_iter().flatten() {
        s.push_str(&crate::page::row(r, &["code", "name", "debit", "credit"]));
    }
    s.push_str(&format!(
        "</tbody><tfoot><tr><th colspan=\"2\">{}</th><th>{}</th><th>{}</th></tr></tfoot></table><p>{}: <strong>{}</strong></p>",
        esc(&t("Total", "合计")),
        esc(tb["total_debit"].as_str().unwrap_or("")),
        esc(tb["total_credit"].as_str().unwrap_or("")),
        esc(&t("Profit for the period", "本期利润")),
        esc(tb["profit"].as_str().unwrap_or(""))
    ));
    Ok(s)
}
