//! The finance group: invoices of five lines posted through the plugin (each a balanced journal
//! entry) next to plain record creates; receivables aging over the open invoices; the trial
//! balance and profit and loss for a year over a journal grown by posted manual entries, next
//! to the same grouped sum in raw SQL on the same database file.
//!
//! Sizes: `QG_BENCH_INVOICES` (default 20,000) and `QG_BENCH_JOURNAL_LINES` (default 100,000;
//! the figure is 1,000,000).

use crate::report::Report;
use qingguan_core::Access;
use qingguan_runtime::CallCtx;
use qingguan_tests::TestServer;
use serde_json::json;
use std::time::Instant;

pub(crate) fn finance(
    server: &TestServer,
    customers: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let r = qingguan_tests::install(&server.admin(), "qingguan-finance", true);
    anyhow::ensure!(r.status == 201, "install finance: {}", r.text);
    let (invoices, journal_lines) = (
        crate::env_size("QG_BENCH_INVOICES", 20_000),
        crate::env_size("QG_BENCH_JOURNAL_LINES", 100_000),
    );
    let store = &server.store;
    let system = Access::system();
    let create = |entity: &str, v: serde_json::Value| crate::create_as_system(store, entity, v);
    let ctx = CallCtx::for_user(store, 1)?;
    let calls = server.plugins.calls();
    let admin = server.admin();
    let get = |path: &str| -> anyhow::Result<()> {
        let r = admin.send(reqwest::Method::GET, path, |r| {
            r.header("accept", "application/json")
        });
        anyhow::ensure!(r.status == 200, "{path}: {} {}", r.status, r.text);
        Ok(())
    };

    // Invoices of five lines (13%, 9% and 6% tax) to 2,000 customers, issued over the year,
    // each posted.
    let t = Instant::now();
    let mut posting = 0.0;
    for i in 0..invoices {
        let issued = format!("2026-{:02}-{:02}", 1 + i % 11, 1 + i % 28);
        let inv = create(
            "invoice",
            json!({"customer": 1 + (i * 7919) % customers.min(2_000), "issued_on": issued}),
        )?;
        for l in 0..5 {
            let rate = ["13", "9", "6"][l % 3];
            create(
                "invoice_line",
                json!({"invoice": inv, "description": format!("Item {l}"), "quantity": (1 + l).to_string(), "unit_price": format!("{}.{:02}", 10 + i % 90, l * 7), "tax_rate": rate}),
            )?;
        }
        let t = Instant::now();
        calls.action("finance", "post", "invoice", inv, "{}", ctx.clone())?;
        posting += t.elapsed().as_secs_f64();
    }
    eprintln!(
        "{invoices} invoices drafted and posted in {:.1?}",
        t.elapsed()
    );
    let plain_n = 2000;
    let t = Instant::now();
    for i in 0..plain_n {
        create(
            "customer",
            json!({"name": format!("Plain {i}"), "kind": "company", "status": "lead"}),
        )?;
    }
    let plain = f64::from(plain_n) / t.elapsed().as_secs_f64();
    report.add(
        "finance",
        "invoices of 5 lines posted through the plugin",
        invoices as f64 / posting,
        "invoices/s",
        Some(("plain record creates through the store", plain)),
        "each: lines read, a numbered, balanced journal entry (receivable, revenue, tax by rate), the invoice's status; budget ≥ 1,000/s",
    );
    let aging = crate::median_ms(11, |_| get("/api/v1/plugins/finance/aging?at=2026-12-31"))?;
    report.add(
        "finance",
        &format!("receivables aging over {invoices} open invoices (JSON over HTTP)"),
        aging,
        "ms",
        None,
        "median of 11; one grouped sum of balances per age bucket; budget < 200 ms at 100,000",
    );

    // The journal grown to `journal_lines` by posted manual entries of 500 lines (6602 / 1002).
    let account = |code: &str| -> anyhow::Result<i64> {
        let page = store.list(
            &system,
            "account",
            &qingguan_core::ListQuery::from_pairs([("code", code)])?,
        )?;
        page.items
            .first()
            .map(|r| r.id)
            .ok_or_else(|| anyhow::anyhow!("account {code} is not seeded"))
    };
    let (expense, bank) = (account("6602")?, account("1002")?);
    let db = rusqlite::Connection::open(server.dir.path().join("qingguan.db"))?;
    let count_lines = || -> anyhow::Result<usize> {
        Ok(
            db.query_row("SELECT COUNT(*) FROM r_journal_line", [], |r| {
                r.get::<_, i64>(0)
            })? as usize,
        )
    };
    let t = Instant::now();
    let mut k = 0;
    while count_lines()? < journal_lines {
        let on = format!("2026-{:02}-{:02}", 1 + k % 11, 1 + k % 28);
        let je = create("journal_entry", json!({"posted_on": on, "memo": "bench"}))?;
        for l in 0..500 {
            let (acc, side) = if l % 2 == 0 {
                (expense, "debit")
            } else {
                (bank, "credit")
            };
            create(
                "journal_line",
                json!({"entry": je, "account": acc, side: format!("{}.{:02}", 1 + l / 2, k % 100)}),
            )?;
        }
        calls.action("finance", "post", "journal_entry", je, "{}", ctx.clone())?;
        k += 1;
    }
    let lines = count_lines()?;
    eprintln!("journal at {lines} lines in {:.1?}", t.elapsed());
    let raw = crate::median_ms(11, |_| {
        let mut stmt = db.prepare_cached(
            "SELECT c_account, SUM(c_debit), SUM(c_credit) FROM r_journal_line \
             WHERE c_posted_on BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY c_account",
        )?;
        let n = stmt.query_map([], |r| r.get::<_, i64>(0))?.count();
        anyhow::ensure!(n > 0, "no accounts");
        Ok(())
    })?;
    let tb = crate::median_ms(11, |_| {
        get("/api/v1/plugins/finance/trial-balance?from=2026-01-01&to=2026-12-31")
    })?;
    let pl = crate::median_ms(11, |_| {
        get("/api/v1/plugins/finance/profit-and-loss?from=2026-01-01&to=2026-12-31")
    })?;
    report.add(
        "finance",
        &format!("trial balance for the year over {lines} journal lines (JSON over HTTP)"),
        tb,
        "ms",
        Some(("the same grouped sum in raw SQL", raw)),
        "median of 11; budget < 100 ms at 1,000,000 lines",
    );
    // A period with ragged ends: whole months from their totals, the two ends from the lines.
    let ragged = crate::median_ms(11, |_| {
        get("/api/v1/plugins/finance/trial-balance?from=2026-01-15&to=2026-11-20")
    })?;
    report.add(
        "finance",
        &format!("trial balance 2026-01-15 – 2026-11-20 over {lines} journal lines (JSON over HTTP)"),
        ragged,
        "ms",
        Some(("the whole year's grouped sum in raw SQL", raw)),
        "median of 11; 9 whole months from their kept totals, the two part-months summed from the lines",
    );
    report.add(
        "finance",
        &format!("profit and loss for the year over {lines} journal lines (JSON over HTTP)"),
        pl,
        "ms",
        Some(("the same grouped sum in raw SQL", raw)),
        "median of 11; budget < 100 ms at 1,000,000 lines",
    );
    Ok(())
}
