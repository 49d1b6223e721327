//! Demo finance (财务管理), made through the finance plugin as the finance user would: an
//! invoice for each customer inventory delivered to, posted; payments received for most of
//! them (some in part), allocated; a supplier bill for what each supplier delivered, drafted
//! from inventory's receipts (goods against 暂估应付, the products' input VAT), posted, every
//! other one paid; one manual entry for rent.

use anyhow::{anyhow, Context};
use qingguan_core::{Access, ListQuery, Store};
use qingguan_runtime::{CallCtx, HttpRequest, PluginManager};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn act(
    plugins: &PluginManager,
    ctx: &CallCtx,
    entity: &str,
    id: i64,
    action: &str,
    input: Value,
) -> anyhow::Result<Value> {
    let out = plugins
        .calls()
        .action(
            "finance",
            action,
            entity,
            id,
            &input.to_string(),
            ctx.clone(),
        )
        .map_err(|e| anyhow!("demo {action} of {entity} {id}: {e:?}"))?;
    Ok(serde_json::from_str(&out).unwrap_or(Value::Null))
}

fn create(store: &Store, access: &Access, entity: &str, v: Value) -> anyhow::Result<i64> {
    let map = v.as_object().cloned().unwrap_or_default();
    Ok(store
        .create(access, entity, &map)
        .with_context(|| format!("demo {entity}"))?
        .id)
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// Seeds the demo's books; the `finance` user does the work.
pub fn seed_finance(store: &Store, plugins: &PluginManager) -> anyhow::Result<()> {
    let finance = store
        .user_id("finance")?
        .ok_or_else(|| anyhow!("the demo has no finance user"))?;
    let ctx = CallCtx::for_user(store, finance)?;
    let (access, _) = store.access_for(finance)?;
    let system = Access::system();
    let delivered = store
        .list(
            &system,
            "sales_order",
            &ListQuery::from_pairs([("limit", "50"), ("sort", "id")])?,
        )?
        .items;
    let customers: BTreeSet<i64> = delivered
        .iter()
        .filter(|o| {
            matches!(
                o.get("status").to_json().as_str(),
                Some("delivered") | Some("partial")
            )
        })
        .filter_map(|o| o.get("customer").to_json().as_i64())
        .collect();
    for (n, customer) in customers.into_iter().enumerate() {
        let req = HttpRequest {
            method: "POST".into(),
            path: "/invoice-deliveries".into(),
            body: json!({"customer": customer}).to_string().into_bytes(),
            ..Default::default()
        };
        let made = plugins
            .calls()
            .http("finance", req, ctx.clone())
            .map_err(|e| anyhow!("demo invoice for customer {customer}: {e}"))?;
        if made.status != 200 {
            continue;
        }
        let body: Value = serde_json::from_slice(&made.body).unwrap_or(Value::Null);
        let Some(invoice) = body["invoice"].as_i64() else {
            continue;
        };
        act(plugins, &ctx, "invoice", invoice, "post", json!({}))?;
        let total: f64 = body["total"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0);
        // Most are paid, one in three only in part, every fourth not yet.
        if n % 4 == 3 || total <= 0.0 {
            continue;
        }
        let amount = if n % 3 == 0 {
            (total / 2.0).floor()
        } else {
            total
        };
        let payment = create(
            store,
            &access,
            "payment",
            json!({"customer": customer, "received_on": day(-5 + (n % 5) as i64), "amount": format!("{amount:.2}"), "method": "bank"}),
        )?;
        act(plugins, &ctx, "payment", payment, "post", json!({}))?;
        act(
            plugins,
            &ctx,
            "payment",
            payment,
            "allocate",
            json!({"invoices": {invoice.to_string(): format!("{amount:.2}")}}),
        )?;
    }
    // Rent for the month: 管理费用 / 银行存款.
    let account = |code: &str| -> anyhow::Result<i64> {
        store
            .list(
                &system,
                "account",
                &ListQuery::from_pairs([("code", code)])?,
            )?
            .items
            .first()
            .map(|a| a.id)
            .ok_or_else(|| anyhow!("no account {code}"))
    };
    let entry = create(
        store,
        &access,
        "journal_entry",
        json!({"posted_on": day(-3), "memo": "办公室租金"}),
    )?;
    create(
        store,
        &access,
        "journal_line",
        json!({"entry": entry, "account": account("6602")?, "debit": "18000"}),
    )?;
    create(
        store,
        &access,
        "journal_line",
        json!({"entry": entry, "account": account("1002")?, "credit": "18000"}),
    )?;
    act(plugins, &ctx, "journal_entry", entry, "post", json!({}))?;
    seed_bills(store, plugins, &ctx, &access)
}

/// A bill for what each supplier delivered (drafted by finance from inventory's receipts, as a
/// clerk does with `bill-receipts`), posted; every other one paid.
fn seed_bills(
    store: &Store,
    plugins: &PluginManager,
    ctx: &CallCtx,
    access: &Access,
) -> anyhow::Result<()> {
    let system = Access::system();
    let suppliers = store
        .list(
            &system,
            "supplier",
            &ListQuery::from_pairs([("limit", "50"), ("sort", "id")])?,
        )?
        .items;
    for (n, supplier) in suppliers.iter().enumerate() {
        let req = HttpRequest {
            method: "POST".into(),
            path: "/bill-receipts".into(),
            body: json!({"supplier": supplier.id, "supplier_ref": format!("FP-{}", 8100 + n),
                         "issued_on": day(-20 + n as i64)})
            .to_string()
            .into_bytes(),
            ..Default::default()
        };
        let made = plugins
            .calls()
            .http("finance", req, ctx.clone())
            .map_err(|e| anyhow!("demo bill for supplier {}: {e}", supplier.id))?;
        if made.status != 200 {
            continue; // nothing received from this one
        }
        let body: Value = serde_json::from_slice(&made.body).unwrap_or(Value::Null);
        let Some(bill) = body["bill"].as_i64() else {
            continue;
        };
        act(plugins, ctx, "bill", bill, "post", json!({}))?;
        if n % 2 == 1 {
            continue;
        }
        let record = store.get(&system, "bill", bill)?;
        let payment = create(
            store,
            access,
            "payment_made",
            json!({"supplier": record.get("supplier").to_json(), "paid_on": day(-2),
                   "amount": record.get("total").to_json(), "method": "bank"}),
        )?;
        act(plugins, ctx, "payment_made", payment, "post", json!({}))?;
        act(
            plugins,
            ctx,
            "payment_made",
            payment,
            "allocate",
            json!({"bills": {bill.to_string(): record.get("total").to_json()}}),
        )?;
    }
    Ok(())
}
