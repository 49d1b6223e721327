//! Reports reproducible from the journal: the trial balance for any period (debits equal
//! credits), profit for the period (revenue less expense), and receivables and payables aging
//! by due date. (The figures appraisal asks for are `kpi.rs`.)

use crate::sides::{Side, SALES};
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Metric, Query};
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

/// Open receivables by customer (or payables by supplier) and age (days past due at `at`):
/// current, 1–30, 31–60, 61–90, over 90.
pub fn aging(side: &Side, at: &str) -> Result<Value> {
    let today = dates::parse(at).unwrap_or_else(dates::today);
    // One grouped sum per age bucket (by due date), over the documents the caller may see.
    // A document without a due date is due at once (current).
    let open = || Query::new().in_list("status", ["posted", "partly_paid"]);
    let day = |late: i64| dates::format(today - late);
    let buckets: [Query; 6] = [
        open().gte("due_on", day(0)),
        open().is_null("due_on"),
        open().lt("due_on", day(0)).gte("due_on", day(30)),
        open().lt("due_on", day(30)).gte("due_on", day(60)),
        open().lt("due_on", day(60)).gte("due_on", day(90)),
        open().lt("due_on", day(90)),
    ];
    // Keyed by the party's text form: a customer's id, a supplier's name.
    let mut by: BTreeMap<String, (Value, [Decimal; 5])> = BTreeMap::new();
    for (i, q) in buckets.iter().enumerate() {
        let bucket = i.saturating_sub(1);
        for g in host::aggregate(side.document, q, &[side.party], &[Metric::Sum("balance")])? {
            let party = g.group.first().cloned().unwrap_or(Value::Null);
            by.entry(party.to_string())
                .or_insert_with(|| (party, Default::default()))
                .1[bucket] += g.decimal(0).unwrap_or_default();
        }
    }
    let names: BTreeMap<i64, String> = {
        let ids: Vec<i64> = by.values().filter_map(|(p, _)| p.as_i64()).collect();
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
    let mut totals = [Decimal::ZERO; 5];
    let rows: Vec<Value> = by
        .values()
        .map(|(party, b)| {
            for (i, v) in b.iter().enumerate() {
                totals[i] += *v;
            }
            let name = match party {
                Value::String(s) => Some(s.clone()),
                other => other.as_i64().and_then(|id| names.get(&id).cloned()),
            };
            json!({(side.party): party, "name": name, "buckets": b.iter().map(|v| v.to_string()).collect::<Vec<_>>()})
        })
        .collect();
    Ok(
        json!({"at": dates::format(today), "rows": rows, "totals": totals.iter().map(|v| v.to_string()).collect::<Vec<_>>()}),
    )
}

/// The aging as a page.
pub fn aging_page(side: &Side, at: &str) -> Result<String> {
    let a = aging(side, at)?;
    let party = side.party_word();
    let title = if side.document == SALES.document {
        t("Receivables aging", "应收账龄")
    } else {
        t("Payables aging", "应付账龄")
    };
    let heads = [
        t(&capitalised(party), party),
        t("Not due", "未到期"),
        t("1–30 days", "1–30天"),
        t("31–60 days", "31–60天"),
        t("61–90 days", "61–90天"),
        t("Over 90 days", "90天以上"),
    ];
    let mut s = format!(
        "<h1>{}</h1><table class=\"records\"><thead><tr>",
        esc(&title)
    );
    for h in &heads {
        s.push_str(&format!("<th>{}</th>", esc(h)));
    }
    s.push_str("</tr></thead><tbody>");
    for r in a["rows"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "<tr><td>{}</td>",
            esc(r["name"].as_str().unwrap_or(""))
        ));
        for b in r["buckets"].as_array().into_iter().flatten() {
            s.push_str(&format!("<td>{}</td>", esc(b.as_str().unwrap_or(""))));
        }
        s.push_str("</tr>");
    }
    s.push_str(&format!(
        "</tbody><tfoot><tr><th>{}</th>",
        esc(&t("Total", "合计"))
    ));
    for b in a["totals"].as_array().into_iter().flatten() {
        s.push_str(&format!("<th>{}</th>", esc(b.as_str().unwrap_or(""))));
    }
    s.push_str("</tr></tfoot></table>");
    Ok(s)
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
