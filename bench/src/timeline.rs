//! A record's timeline at 10,000 entries (7,000 changes and 3,000 activities about it): its
//! first page of 50 as the store reads it, over HTTP, and on the record's page — next to a
//! read of the record by id over HTTP in the same run.

use crate::{median_ms, report::Report};
use qingguan_tests::TestServer;
use serde_json::{json, Map, Value};

pub fn timeline(server: &TestServer, report: &mut Report) -> anyhow::Result<()> {
    let store = &server.store;
    let admin = server.admin();
    let me = store
        .user_id("admin")?
        .ok_or_else(|| anyhow::anyhow!("no admin"))?;
    let (access, _) = store.access_for(me)?;
    let body = |v: Value| -> Map<String, Value> { v.as_object().cloned().unwrap_or_default() };
    let c = store.create(
        &access,
        "customer",
        &body(json!({"name": "恒信科技 (timeline)", "kind": "company", "status": "lead"})),
    )?;
    let id = c.id;
    let mut version = c.version;
    for i in 0..7_000 {
        let r = store.update(
            &access,
            "customer",
            id,
            version,
            &body(json!({"notes": format!("step {i}")})),
        )?;
        version = r.version;
        if i % 7 < 3 {
            store.create(
                &access,
                "activity",
                &body(json!({"kind": "call", "subject": format!("call {i}"),
                             "about_entity": "customer", "about_id": id})),
            )?;
        }
    }
    let first = store.timeline_page(&access, "customer", id, 50, None)?;
    anyhow::ensure!(first.items.len() == 50 && first.next.is_some(), "no page");
    let in_store = median_ms(21, |_| {
        store.timeline_page(&access, "customer", id, 50, None)?;
        Ok(())
    })?;
    let http = median_ms(21, |_| {
        let r = admin.get(&format!("/api/v1/records/customer/{id}/timeline?limit=50"));
        anyhow::ensure!(r.status == 200, "{}", r.text);
        Ok(())
    })?;
    // What the record page read before timelines were paged: the whole history.
    let whole = median_ms(5, |_| {
        let h = store.history(&access, "customer", id)?;
        anyhow::ensure!(h.len() > 7_000, "history");
        Ok(())
    })?;
    let ui = server.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let page = median_ms(11, |_| {
        let r = ui.get(&format!("/e/customer/{id}"), "zh-CN");
        anyhow::ensure!(r.status == 200, "{}", r.status);
        Ok(())
    })?;
    let read = median_ms(21, |_| {
        let r = admin.get(&format!("/api/v1/records/customer/{id}"));
        anyhow::ensure!(r.status == 200, "{}", r.text);
        Ok(())
    })?;
    report.add(
        "timeline",
        "first page of 50 of a 10,000-entry timeline, store",
        in_store,
        "ms",
        Some(("GET the record over HTTP", read)),
        "budget < 50 ms",
    );
    report.add(
        "timeline",
        "the whole history of that record (what the page read before paging)",
        whole,
        "ms",
        Some(("first page, store", in_store)),
        "median of 5",
    );
    report.add(
        "timeline",
        "the same page over HTTP (GET …/timeline?limit=50)",
        http,
        "ms",
        Some(("GET the record over HTTP", read)),
        "median of 21",
    );
    report.add(
        "timeline",
        "the record's page (UI, zh-CN) with that timeline",
        page,
        "ms",
        Some(("GET the record over HTTP", read)),
        "median of 11",
    );
    Ok(())
}
