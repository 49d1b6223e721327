//! Receivables by customer and payables by supplier, by age — days past due at a date:
//! current, 1–30, 31–60, 61–90, over 90. Today's aging sums the documents' kept balances; an
//! aging at an earlier date works each document's balance out as it was then — posted on or
//! before the date, less the payments received (or made) and allocated to it on or before it
//! and the credit notes issued on or before it — so a month-end aging read later says what it
//! said at month end. (Allocations are dated by when they were made, in UTC.)

use crate::sides::{Side, SALES};
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// Open amounts by party (keyed by its text form: a customer's id, a supplier's name) and
/// bucket.
type Buckets = BTreeMap<String, (Value, [Decimal; 5])>;

/// The bucket of a document due on `due` (none: due at once) at `at`.
fn bucket(due: Option<i64>, at: i64) -> usize {
    match due {
        None => 0,
        Some(d) if d >= at => 0,
        Some(d) => match at - d {
            ..=30 => 1,
            31..=60 => 2,
            61..=90 => 3,
            _ => 4,
        },
    }
}

/// Today: one grouped sum of kept balances per age bucket, over the documents the caller may
/// see.
fn kept_balances(side: &Side, today: i64) -> Result<Buckets> {
    // A document without a due date is due at once (current).
    let open = || Query::new().in_list("status", crate::sides::OPEN);
    let day = |late: i64| dates::format(today - late);
    let buckets: [Query; 6] = [
        open().gte("due_on", day(0)),
        open().is_null("due_on"),
        open().lt("due_on", day(0)).gte("due_on", day(30)),
        open().lt("due_on", day(30)).gte("due_on", day(60)),
        open().lt("due_on", day(60)).gte("due_on", day(90)),
        open().lt("due_on", day(90)),
    ];
    let mut by = Buckets::new();
    for (i, q) in buckets.iter().enumerate() {
        let bucket = i.saturating_sub(1);
        // In the company currency: each document's balance as booked.
        for (key, (party, sum)) in
            crate::fx::sum_kept(side.document, q, side.party, "balance_cc", "balance")?
        {
            by.entry(key)
                .or_insert_with(|| (party, Default::default()))
                .1[bucket] += sum;
        }
    }
    Ok(by)
}

/// At an earlier date: each document the caller may see, posted on or before `at`, less what
/// settled it on or before `at`.
fn balances_then(side: &Side, at: i64) -> Result<Buckets> {
    let day = dates::format(at);
    let docs: Vec<Record> = host::query_all(
        side.document,
        &Query::new()
            .in_list("status", ["posted", "partly_paid", "overdue", "paid"])
            .lte("issued_on", day.as_str())
            .sort("id"),
    )?
    .into_iter()
    .filter(|d| d.str("kind") != Some("credit_note"))
    .collect();
    let ids: Vec<i64> = docs.iter().map(|d| d.id).collect();
    let mut settled: BTreeMap<i64, Decimal> = BTreeMap::new();
    let mut payment_day: BTreeMap<i64, bool> = BTreeMap::new();
    for chunk in ids.chunks(200) {
        let allocations = host::query_all(
            side.allocation,
            &Query::new()
                .elevated()
                .in_list(side.document, chunk.iter().copied()),
        )?;
        let payments: Vec<i64> = allocations
            .iter()
            .filter_map(|a| a.i64("payment"))
            .filter(|p| !payment_day.contains_key(p))
            .collect();
        for pchunk in payments.chunks(200) {
            for p in host::query_all(
                side.payment,
                &Query::new()
                    .elevated()
                    .in_list("id", pchunk.iter().copied()),
            )? {
                let by_then = p.str(side.paid_on).is_some_and(|d| d <= day.as_str());
                payment_day.insert(p.id, by_then);
            }
        }
        for a in &allocations {
            // Settled by then: paid by then, and allocated by then (an old payment may be
            // allocated later; the aging of the earlier date did not see it).
            let allocated_then = a.created_at.get(..10).is_some_and(|d| d <= day.as_str());
            let counted = allocated_then
                && a.i64("payment")
                    .and_then(|p| payment_day.get(&p).copied())
                    .unwrap_or(false);
            if counted {
                *settled
                    .entry(a.i64(side.document).unwrap_or_default())
                    .or_default() += a.decimal("amount").unwrap_or_default();
            }
        }
        if side.document == SALES.document {
            for credit in host::query_all(
                side.document,
                &Query::new()
                    .elevated()
                    .eq("kind", "credit_note")
                    .in_list("credits", chunk.iter().copied())
                    .eq("status", "applied")
                    .lte("issued_on", day.as_str()),
            )? {
                *settled
                    .entry(credit.i64("credits").unwrap_or_default())
                    .or_default() += credit.decimal("total").unwrap_or_default();
            }
        }
    }
    let mut by = Buckets::new();
    for d in docs {
        let total = d.decimal("total").unwrap_or_default();
        let open = total - settled.get(&d.id).copied().unwrap_or_default();
        if open <= Decimal::ZERO {
            continue;
        }
        // In the company currency at the document's rate (all of it as booked when none of it
        // was settled by then).
        let open = if open == total {
            crate::fx::kept(&d, "total_cc", "total")
        } else {
            crate::fx::to_company(open, crate::fx::rate_of(&d))
        };
        let party = d.get(side.party).cloned().unwrap_or(Value::Null);
        let due = d.str("due_on").and_then(dates::parse);
        by.entry(party.to_string())
            .or_insert_with(|| (party, Default::default()))
            .1[bucket(due, at)] += open;
    }
    Ok(by)
}

/// Open receivables by customer (or payables by supplier) and age at `at` (today when it is
/// not a date; a date after today reads as today's balances aged at that date).
pub fn aging(side: &Side, at: &str) -> Result<Value> {
    let today = dates::today();
    let at = dates::parse(at).unwrap_or(today);
    let by = if at < today {
        balances_then(side, at)?
    } else {
        kept_balances(side, at)?
    };
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
        json!({"at": dates::format(at), "rows": rows, "totals": totals.iter().map(|v| v.to_string()).collect::<Vec<_>>()}),
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
        "<h1>{}</h1><form method=\"get\" class=\"inline-form\"><label>{} <input type=\"date\" name=\"at\" value=\"{}\"></label> <button>{}</button></form><table class=\"records\"><thead><tr>",
        esc(&title),
        esc(&t("As of", "截至")),
        esc(a["at"].as_str().unwrap_or("")),
        esc(&t("Show", "查看"))
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

#[cfg(test)]
mod tests {
    use super::bucket;

    #[test]
    fn days_past_due_fall_in_their_bucket() {
        let at = 100;
        assert_eq!(bucket(None, at), 0, "no due date: current");
        assert_eq!(bucket(Some(100), at), 0, "due today: current");
        assert_eq!(bucket(Some(99), at), 1);
        assert_eq!(bucket(Some(70), at), 1, "30 days");
        assert_eq!(bucket(Some(69), at), 2, "31 days");
        assert_eq!(bucket(Some(40), at), 2, "60 days");
        assert_eq!(bucket(Some(10), at), 3, "90 days");
        assert_eq!(bucket(Some(9), at), 4, "91 days");
    }
}
