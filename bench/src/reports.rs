//! Reports over the seeded customers: one grouping and a sum (revenue by status), run as the
//! store runs a saved report and over HTTP, next to the same grouped sum in raw SQL on the
//! same database (SQLite's file, or the PostgreSQL database).

use crate::{median_ms, report::Report};
use qingguan_core::reports::{Chart, ReportDef};
use qingguan_tests::TestServer;

pub fn reports(server: &TestServer, size: usize, report: &mut Report) -> anyhow::Result<()> {
    let store = &server.store;
    let admin = server.admin();
    let me = store
        .user_id("admin")?
        .ok_or_else(|| anyhow::anyhow!("no admin"))?;
    let (access, _) = store.access_for(me)?;
    let def = ReportDef {
        name: format!("revenue by status @ {size}"),
        entity: "customer".into(),
        filter: String::new(),
        group_by: vec!["status".into()],
        metric: "sum:revenue".into(),
        chart: Chart::Bar,
        shared_with: vec![],
    };
    let id = store.create_report(&access, &def)?.id;
    let mut db = crate::raw::RawDb::open(server)?;
    let raw = median_ms(11, |_| {
        let n = db.rows(
            "SELECT c_status, SUM(c_revenue) FROM r_customer GROUP BY c_status ORDER BY c_status",
        )?;
        anyhow::ensure!(n > 0, "no groups");
        Ok(())
    })?;
    let run = median_ms(11, |_| {
        let (_, rows) = store.run_report(&access, id)?;
        anyhow::ensure!(!rows.is_empty(), "no rows");
        Ok(())
    })?;
    let http = median_ms(11, |_| {
        let r = admin.get(&format!("/api/v1/reports/{id}"));
        anyhow::ensure!(r.status == 200, "{}", r.text);
        Ok(())
    })?;
    report.add(
        "reports",
        &format!("revenue by status (group by one field + sum) @ {size}, store"),
        run,
        "ms",
        Some(("the same grouped sum in raw SQL", raw)),
        "budget < 200 ms at 1,000,000",
    );
    report.add(
        "reports",
        &format!("the same report over HTTP (GET /api/v1/reports/{{id}}) @ {size}"),
        http,
        "ms",
        Some(("raw SQL", raw)),
        "median of 11",
    );
    Ok(())
}
