//! The appraisal group: one quarter for 50 people with 6 KPIs each, scored from the sales
//! plugin's figures over the deals the sales group generated — starting the cycle, computing
//! it (today's standing, and updating the stored figures), and closing the scores — next to
//! the one sales question that dominates it.

use crate::median_ms;
use crate::report::Report;
use qingguan::plugins::bindings::wit;
use qingguan::plugins::host_calls::CallUser;
use qingguan::plugins::loaded::CallCtx;
use qingguan_core::{Access, ListQuery, Locale};
use qingguan_tests::TestServer;
use serde_json::{json, Value};
use std::time::Instant;

fn as_user(server: &TestServer, id: i64) -> anyhow::Result<CallCtx> {
    let (access, info) = server.store.access_for(id)?;
    Ok(CallCtx {
        user: CallUser::Known(Box::new((access, info))),
        locale: Locale::En,
        asked_by: None,
    })
}

fn call(
    server: &TestServer,
    ctx: CallCtx,
    method: &str,
    path: &str,
    query: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let req = wit::HttpRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("accept".into(), "application/json".into()),
        ],
        body: body.to_string().into_bytes(),
    };
    let r = server.plugins.http("appraisal", req, ctx)?;
    anyhow::ensure!(
        r.status == 200,
        "appraisal {path}: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    Ok(serde_json::from_slice(&r.body)?)
}

fn create(server: &TestServer, entity: &str, v: Value) -> anyhow::Result<i64> {
    Ok(server
        .store
        .create(&Access::system(), entity, v.as_object().expect("object"))?
        .id)
}

/// Runs the group (the sales group must have generated the deals).
pub fn cycle(server: &TestServer, report: &mut Report, deals: usize) -> anyhow::Result<()> {
    let admin = server.admin();
    let r = qingguan_tests::install(&admin, "qingguan-appraisal", true);
    anyhow::ensure!(r.status == 201, "install appraisal: {}", r.text);
    let hr = server.store.user_id("admin")?.expect("admin");
    let profile = create(
        server,
        "job_profile",
        json!({"name": "Rep", "roles": "sales", "kpi_weight": 80}),
    )?;
    for (name, source, lower) in [
        ("Won revenue", "sales/won_revenue", false),
        ("Deals won", "sales/deals_won", false),
        ("Win rate", "sales/win_rate", false),
        ("New customers", "sales/new_customers", false),
        ("Follow-ups", "sales/followups", false),
        ("Days to close", "sales/avg_days_to_close", true),
    ] {
        create(
            server,
            "kpi",
            json!({"profile": profile, "name": name, "weight": 10 + name.len() as i64,
            "source": source, "rule": "linear", "cap": 120, "default_target": "100", "lower_is_better": lower}),
        )?;
    }
    create(
        server,
        "quality_item",
        json!({"profile": profile, "name": "Attitude", "weight": 50}),
    )?;
    create(
        server,
        "quality_item",
        json!({"profile": profile, "name": "Teamwork", "weight": 50}),
    )?;
    let cycle = create(
        server,
        "appraisal_cycle",
        json!({"name": "2026 Q2", "period": "quarter", "starts_on": "2026-04-01"}),
    )?;
    let hr_ctx = || as_user(server, hr);

    let t = Instant::now();
    let started = call(
        server,
        hr_ctx()?,
        "POST",
        "/cycle",
        "",
        json!({"cycle": cycle, "op": "start"}),
    )?;
    let start_ms = t.elapsed().as_secs_f64() * 1000.0;
    let people = started["appraisals"].as_i64().unwrap_or(0);
    anyhow::ensure!(people == 50, "expected 50 appraisals, got {started}");
    let list = server
        .store
        .list(
            &Access::system(),
            "appraisal",
            &ListQuery::from_pairs([("cycle", cycle.to_string().as_str()), ("limit", "200")])?,
        )?
        .items;
    for a in &list {
        let person = a.get("person").to_json().as_i64().unwrap_or(0);
        let id = a.id.to_string();
        call(
            server,
            hr_ctx()?,
            "POST",
            "/targets",
            "",
            json!({"appraisal": a.id}),
        )?;
        call(
            server,
            as_user(server, person)?,
            "POST",
            "/respond",
            "",
            json!({"appraisal": id, "decision": "accept"}),
        )?;
    }
    call(
        server,
        hr_ctx()?,
        "POST",
        "/cycle",
        "",
        json!({"cycle": cycle, "op": "advance"}),
    )?;
    for a in &list {
        let person = a.get("person").to_json().as_i64().unwrap_or(0);
        call(
            server,
            as_user(server, person)?,
            "POST",
            "/rate",
            "",
            json!({"appraisal": a.id, "group": "self", "score_0": 4, "score_1": 3}),
        )?;
    }
    let baseline = median_ms(3, |_| {
        server.plugins.ask(
            "sales",
            "summary",
            &json!({"from": "2026-04-01", "to": "2026-06-30"}).to_string(),
            CallCtx::system(),
        )?;
        Ok(())
    })?;
    let live = median_ms(3, |_| {
        call(
            server,
            hr_ctx()?,
            "GET",
            "/results",
            &format!("cycle={cycle}"),
            json!({}),
        )?;
        Ok(())
    })?;
    let compute = median_ms(3, |_| {
        call(
            server,
            hr_ctx()?,
            "POST",
            "/cycle",
            "",
            json!({"cycle": cycle, "op": "compute"}),
        )?;
        Ok(())
    })?;
    let t = Instant::now();
    call(
        server,
        hr_ctx()?,
        "POST",
        "/cycle",
        "",
        json!({"cycle": cycle, "op": "advance"}),
    )?;
    let close_ms = t.elapsed().as_secs_f64() * 1000.0;
    let deals = format!("{deals} deals");
    report.add(
        "appraisal",
        "start a cycle: 50 appraisals, 300 targets",
        start_ms,
        "ms",
        None,
        "profiles matched by role, cascaded targets, records written through the hooks",
    );
    report.add(
        "appraisal",
        &format!("sales summary for the quarter (baseline), {deals}"),
        baseline,
        "ms",
        None,
        "the one sales question the cycle asks",
    );
    report.add(
        "appraisal",
        &format!("compute a cycle: 50 people × 6 KPIs + 360°, {deals}"),
        live,
        "ms",
        Some(("sales summary", baseline)),
        "today's standing, nothing written (HR overview, results API)",
    );
    report.add(
        "appraisal",
        &format!("compute and store a cycle's figures, {deals}"),
        compute,
        "ms",
        Some(("sales summary", baseline)),
        "second and later runs write only what changed",
    );
    report.add(
        "appraisal",
        &format!("close the scores (final compute + snapshot), {deals}"),
        close_ms,
        "ms",
        Some(("sales summary", baseline)),
        "350 records written with their snapshot",
    );
    Ok(())
}
