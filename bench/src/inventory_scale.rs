//! Inventory at scale: a back-dated receipt re-valuing 100,000 later deliveries of one product
//! (one transaction, inside one call), that product's level now and at a date once the ledger
//! holds them, and the stock report over 10,000 products in 5 warehouses. Everything is posted
//! through the plugin's own actions; only the order lines are written straight to the store.

use crate::report::Report;
use qingguan_core::Access;
use qingguan_runtime::CallCtx;
use qingguan_tests::TestServer;
use serde_json::json;
use std::time::Instant;

/// Days since 2026-01-01 as a date of 2026 (day 0 is 01-01).
fn day_of_2026(mut day: u32) -> String {
    let months = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for (m, len) in months.iter().enumerate() {
        if day < *len {
            return format!("2026-{:02}-{:02}", m + 1, day + 1);
        }
        day -= len;
    }
    "2026-12-31".into()
}

/// 100,000 deliveries of one product over ten months, then a receipt dated before them all.
pub(crate) fn back_dated(
    server: &TestServer,
    warehouse: i64,
    supplier: i64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let later = crate::env_size("QG_BENCH_LATER", 100_000);
    let store = &server.store;
    let system = Access::system();
    let create = |entity: &str, v: serde_json::Value| crate::create_as_system(store, entity, v);
    let ctx = CallCtx::for_user(store, 1)?;
    let calls = server.plugins.calls();
    let action = |entity: &str, name: &str, id: i64, input: serde_json::Value| {
        calls.action(
            "inventory",
            name,
            entity,
            id,
            &input.to_string(),
            ctx.clone(),
        )
    };
    let product = create(
        "product",
        json!({"sku": "B-BACK", "name": "Back-dated", "unit": "pcs", "purchase_price": "10"}),
    )?;
    let customer = create(
        "customer",
        json!({"name": "Bench buyer", "kind": "company", "status": "lead"}),
    )?;
    let receipt = |qty: usize, price: &str, date: &str| -> anyhow::Result<f64> {
        let po = create(
            "purchase_order",
            json!({"supplier": supplier, "warehouse": warehouse}),
        )?;
        create(
            "purchase_line",
            json!({"order": po, "product": product, "quantity": qty.to_string(), "price": price}),
        )?;
        action("purchase_order", "approve", po, json!({}))?;
        let t = Instant::now();
        action("purchase_order", "receive", po, json!({ "date": date }))?;
        Ok(t.elapsed().as_secs_f64() * 1e3)
    };
    receipt(later * 2, "10", "2026-01-01")?;
    // Orders of 200 lines (the most one order takes), each confirmed and delivered in full on
    // its day: 2026-01-05 onwards, a few hundred deliveries a day.
    let t = Instant::now();
    let per_order = 200;
    let orders = later.div_ceil(per_order);
    for k in 0..orders {
        let so = create(
            "sales_order",
            json!({"customer": customer, "warehouse": warehouse}),
        )?;
        for _ in 0..per_order.min(later - k * per_order) {
            create(
                "sales_line",
                json!({"order": so, "product": product, "quantity": "1", "price": "20"}),
            )?;
        }
        action("sales_order", "confirm", so, json!({}))?;
        let day = day_of_2026(4 + (k * 300 / orders) as u32);
        action("sales_order", "deliver", so, json!({ "date": day }))?;
    }
    eprintln!("delivered {later} lines in {:.1?}", t.elapsed());
    let ask = |at: Option<&str>| -> anyhow::Result<()> {
        let mut args = json!({"product": product, "warehouse": warehouse});
        if let Some(at) = at {
            args["at"] = json!(at);
        }
        let out = calls.ask("inventory", "stock", &args.to_string(), ctx.clone())?;
        anyhow::ensure!(out.contains("quantity"), "stock answer: {out}");
        Ok(())
    };
    let now = crate::median_ms(51, |_| ask(None))?;
    let at = crate::median_ms(51, |_| ask(Some("2026-06-30")))?;
    report.add(
        "inventory",
        &format!("level and value of one product with {later} ledger lines, now"),
        now,
        "ms",
        Some((
            "the same at a date (2026-06-30), summed from the ledger",
            at,
        )),
        "median of 51 `stock` questions; now is the kept level (one key-value read), budget < 5 ms",
    );
    match receipt(later, "14", "2026-01-03") {
        Ok(ms) => {
            let revals = store.count(
                &system,
                "stock_move",
                &qingguan_core::ListQuery::from_pairs([
                    ("kind", "revaluation"),
                    ("product", product.to_string().as_str()),
                ])?,
            )?;
            report.add(
                "inventory",
                &format!("back-dated receipt re-valuing {later} later deliveries, one transaction"),
                ms,
                "ms",
                None,
                &format!(
                    "the receive action in all: the later movements read as one grouped sum each, {revals} revaluation lines (a day's movements of a kind, ≤ 500 a line); budget < 2,000 ms"
                ),
            );
        }
        Err(e) => {
            eprintln!("back-dated receipt failed: {e:#}");
            report.add(
                "inventory",
                &format!("back-dated receipt re-valuing {later} later deliveries — FAILED"),
                f64::NAN,
                "ms",
                None,
                &format!("{e:#}"),
            );
        }
    }
    Ok(())
}

/// The stock report over 10,000 products in 5 warehouses (50,000 levels, one receipt each).
pub(crate) fn stock_report(server: &TestServer, report: &mut Report) -> anyhow::Result<()> {
    let store = &server.store;
    let create = |entity: &str, v: serde_json::Value| crate::create_as_system(store, entity, v);
    let ctx = CallCtx::for_user(store, 1)?;
    let calls = server.plugins.calls();
    let t = Instant::now();
    let supplier = create("supplier", json!({"name": "Report supplier"}))?;
    let products: Vec<i64> = (0..10_000)
        .map(|i| {
            create(
                "product",
                json!({"sku": format!("R-{i}"), "name": format!("报表商品 {i}"), "unit": "pcs", "purchase_price": "8", "reorder_point": "3"}),
            )
        })
        .collect::<anyhow::Result<_>>()?;
    let mut warehouses = Vec::new();
    for w in 0..5 {
        let wh = create(
            "warehouse",
            json!({"code": format!("R{w}"), "name": format!("Report {w}")}),
        )?;
        warehouses.push(wh);
        for chunk in products.chunks(200) {
            let po = create(
                "purchase_order",
                json!({"supplier": supplier, "warehouse": wh}),
            )?;
            for (i, p) in chunk.iter().enumerate() {
                create(
                    "purchase_line",
                    json!({"order": po, "product": p, "quantity": (1 + (i + w) % 9).to_string(), "price": "8.25"}),
                )?;
            }
            let run = |name: &str, input: &str| {
                calls.action("inventory", name, "purchase_order", po, input, ctx.clone())
            };
            run("approve", "{}")?;
            run("receive", r#"{"date":"2026-02-01"}"#)?;
        }
    }
    eprintln!("stock report data (50,000 levels) in {:.1?}", t.elapsed());
    let admin = server.admin();
    let page = |query: &str| -> anyhow::Result<()> {
        let r = admin.send(
            reqwest::Method::GET,
            &format!("/api/v1/plugins/inventory/stock{query}"),
            |r| r.header("accept", "application/json"),
        );
        anyhow::ensure!(r.status == 200, "stock report: {} {}", r.status, r.text);
        Ok(())
    };
    let one = crate::median_ms(5, |_| page(&format!("?warehouse={}", warehouses[2])))?;
    let all = crate::median_ms(5, |_| page(""))?;
    report.add(
        "inventory",
        "stock report, one warehouse of 10,000 products (JSON over HTTP)",
        one,
        "ms",
        Some(("all 5 warehouses, 50,000 rows", all)),
        "median of 5; the ledger grouped by product and warehouse, reservations, product names; budget < 200 ms for 10,000 × 5",
    );
    Ok(())
}
