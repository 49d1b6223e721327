//! The inventory group: ledger lines posted through the plugin (a purchase order received in
//! one action, every line a moving-average posting) next to plain record creates, and the
//! level and value of one product read from the ledger once it holds many lines; then the
//! figures at scale (`inventory_scale`).

use crate::report::Report;
use qingguan_runtime::CallCtx;
use qingguan_tests::TestServer;
use serde_json::json;
use std::time::Instant;

pub(crate) fn inventory(server: &TestServer, report: &mut Report) -> anyhow::Result<()> {
    let r = qingguan_tests::install(&server.admin(), "qingguan-inventory", true);
    anyhow::ensure!(r.status == 201, "install inventory: {}", r.text);
    let store = &server.store;
    let create = |entity: &str, v: serde_json::Value| crate::create_as_system(store, entity, v);
    let warehouse = create("warehouse", json!({"code": "B1", "name": "Bench"}))?;
    let supplier = create("supplier", json!({"name": "Bench supplier"}))?;
    let products: Vec<i64> = (0..50)
        .map(|i| create("product", json!({"sku": format!("B-{i}"), "name": format!("Bench {i}"), "unit": "pcs", "purchase_price": "10", "reorder_point": "100"})))
        .collect::<anyhow::Result<_>>()?;
    let ctx = CallCtx::for_user(store, 1)?;
    let calls = server.plugins.calls();
    // 40 orders × 200 lines, each received in one action (one transaction).
    let (orders, per_order) = (40, 200);
    let mut posting = 0.0;
    for o in 0..orders {
        let po = create(
            "purchase_order",
            json!({"supplier": supplier, "warehouse": warehouse}),
        )?;
        for l in 0..per_order {
            create(
                "purchase_line",
                json!({"order": po, "product": products[l % products.len()], "quantity": "3", "price": format!("{}.50", 10 + (o + l) % 7)}),
            )?;
        }
        calls.action(
            "inventory",
            "approve",
            "purchase_order",
            po,
            "{}",
            ctx.clone(),
        )?;
        let t = Instant::now();
        calls.action(
            "inventory",
            "receive",
            "purchase_order",
            po,
            r#"{"date":"2026-11-01"}"#,
            ctx.clone(),
        )?;
        posting += t.elapsed().as_secs_f64();
    }
    let lines = f64::from((orders * per_order) as u32);
    let plain_n = 2000;
    let t = Instant::now();
    for i in 0..plain_n {
        create("supplier", json!({"name": format!("S{i}")}))?;
    }
    let plain = f64::from(plain_n) / t.elapsed().as_secs_f64();
    report.add(
        "inventory",
        "ledger lines posted through the plugin (receipts, moving average)",
        lines / posting,
        "lines/s",
        Some(("plain record creates through the store", plain)),
        "each line: balance read, ledger line, receipt count on the PO line; budget ≥ 2,000/s",
    );
    let outgoing = deliveries(server, warehouse, &products)?;
    report.add(
        "inventory",
        "ledger lines posted out through the plugin (deliveries of confirmed orders)",
        outgoing,
        "lines/s",
        Some(("plain record creates through the store", plain)),
        "each line: balance, cost, ledger line, delivered count; the reservations read once per delivery for the low-stock notice; 20 other orders stay open; budget ≥ 2,000/s",
    );
    // One product's level and value from the ledger (it now has lines / 50 movements).
    let runs = 51;
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let out = calls.ask(
            "inventory",
            "stock",
            &json!({"product": products[7], "warehouse": warehouse}).to_string(),
            ctx.clone(),
        )?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(out.contains("quantity"), "stock answer: {out}");
    }
    times.sort_by(f64::total_cmp);
    report.add(
        "inventory",
        &format!(
            "stock level and value of one product ({} ledger lines in all)",
            lines as u64
        ),
        times[runs / 2],
        "ms",
        None,
        "median; the `stock` query other plugins ask (the kept level: one key-value read)",
    );
    crate::inventory_scale::back_dated(server, warehouse, supplier, report)?;
    crate::inventory_scale::stock_report(server, report)?;
    Ok(())
}

/// Deliveries posted per second: 20 orders of 200 lines delivered in one action each, while
/// 20 more orders stay confirmed (so reservations are not empty). Stock and reorder points are
/// set by the receipts before (480 of each product, reorder point 100).
fn deliveries(server: &TestServer, warehouse: i64, products: &[i64]) -> anyhow::Result<f64> {
    let store = &server.store;
    let create = |entity: &str, v: serde_json::Value| crate::create_as_system(store, entity, v);
    let customer = create(
        "customer",
        json!({"name": "Bench buyer", "kind": "company", "status": "customer"}),
    )?;
    let ctx = CallCtx::for_user(store, 1)?;
    let calls = server.plugins.calls();
    let per_order = 200;
    let mut orders = Vec::new();
    for _ in 0..40 {
        let so = create(
            "sales_order",
            json!({"customer": customer, "warehouse": warehouse}),
        )?;
        for l in 0..per_order {
            create(
                "sales_line",
                json!({"order": so, "product": products[l % products.len()], "quantity": "1", "price": "20"}),
            )?;
        }
        calls.action("inventory", "confirm", "sales_order", so, "{}", ctx.clone())?;
        orders.push(so);
    }
    let mut posting = 0.0;
    for so in &orders[..20] {
        let t = Instant::now();
        calls.action(
            "inventory",
            "deliver",
            "sales_order",
            *so,
            r#"{"date":"2026-11-02"}"#,
            ctx.clone(),
        )?;
        posting += t.elapsed().as_secs_f64();
    }
    Ok(f64::from(20 * per_order as u32) / posting)
}
