//! Overdue invoices tell their customer's owner (contract 1.3 notices): a job walks the open
//! invoices past their due date, 200 a step, marks them overdue, and notifies the rep
//! responsible for the customer once per invoice and due date (kept in kv), with the number,
//! the customer, the day it fell due and what is still owed; then it marks the supplier bills
//! past their due date overdue (cursor `b:<id>` while it walks bills).

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::outreach::{self, Notice};
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// Invoices looked at per step.
const STEP: u32 = 200;

fn told_key(invoice: i64, due: &str) -> String {
    format!("overdue_told:{invoice}:{due}")
}

/// One step of the `overdue_reminders` job.
pub fn overdue_reminders(cursor: Option<&str>) -> Result<JobProgress> {
    if let Some(after) = cursor.and_then(|c| c.strip_prefix("b:")) {
        return overdue_bills(after.parse().unwrap_or(0));
    }
    let after: i64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let today = dates::format(dates::today());
    let page = host::query(
        "invoice",
        &Query::new()
            .elevated()
            .eq("kind", "invoice")
            .in_list("status", crate::sides::OPEN)
            .lt("due_on", today.as_str())
            .gt("id", after)
            .sort("id")
            .limit(STEP),
    )?;
    let ids: Vec<i64> = page
        .items
        .iter()
        .filter_map(|i| i.i64("customer"))
        .collect();
    let customers: BTreeMap<i64, Record> =
        host::records_by_id("customer", &ids, &Query::new().elevated())?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let mut told = 0;
    for inv in &page.items {
        mark_overdue(crate::sides::SALES.document, inv)?;
        let due = inv.str("due_on").unwrap_or_default();
        let balance = inv.decimal("balance").unwrap_or_default();
        let Some(c) = inv.i64("customer").and_then(|c| customers.get(&c)) else {
            continue;
        };
        let Some(owner) = c.owner else { continue };
        let key = told_key(inv.id, due);
        if balance <= Decimal::ZERO || host::kv_get(&key)?.is_some() {
            continue;
        }
        let (number, name) = (
            inv.str("number").unwrap_or_default(),
            c.str("name").unwrap_or_default(),
        );
        // In the invoice's currency, named when it is not the company's.
        let amount = match crate::fx::currency_of(inv) {
            c if c == crate::fx::company() => balance.round_dp(2).to_string(),
            c => format!("{c} {}", balance.round_dp(2)),
        };
        let n = Notice::new(format!(
            "Invoice {number} to {name} fell due on {due}: {amount} still owed"
        ))
        .zh(format!(
            "发票 {number}（{name}）已于 {due} 到期，尚欠 {amount}"
        ))
        .link(format!("/e/invoice/{}", inv.id));
        match outreach::notify_users(&[owner], &n) {
            Ok(()) => {
                told += 1;
                host::kv_set(&key, b"1")?;
            }
            // The rep has left: not told, so the customer's next owner will be.
            Err(Error::Invalid { fields, .. }) if fields.iter().any(|(f, _)| f == "users") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(match (page.items.last(), page.next_cursor) {
        (Some(last), Some(_)) => JobProgress::more(last.id.to_string(), told),
        // The bills next.
        _ => JobProgress::more("b:0".to_string(), told),
    })
}

/// A posted document past its due date with something owed is overdue.
fn mark_overdue(entity: &str, doc: &Record) -> Result<()> {
    if doc.str("status") == Some("overdue") {
        return Ok(());
    }
    host::elevated().update(entity, doc.id, doc.version, &json!({"status": "overdue"}))?;
    Ok(())
}

/// One step over the supplier bills past their due date: marked overdue.
fn overdue_bills(after: i64) -> Result<JobProgress> {
    let today = dates::format(dates::today());
    let page = host::query(
        crate::sides::PURCHASES.document,
        &Query::new()
            .elevated()
            .in_list("status", ["posted", "partly_paid"])
            .lt("due_on", today.as_str())
            .gt("id", after)
            .sort("id")
            .limit(STEP),
    )?;
    for bill in &page.items {
        mark_overdue(crate::sides::PURCHASES.document, bill)?;
    }
    Ok(match (page.items.last(), page.next_cursor) {
        (Some(last), Some(_)) => JobProgress::more(format!("b:{}", last.id), 0),
        _ => JobProgress::done(0),
    })
}
