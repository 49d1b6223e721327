//! The appraisal group: one quarter for 50 people with 6 KPIs each, scored from the sales
//! plugin's figures over the deals the sales group generated — starting the cycle, computing
//! it (today's standing, and updating the stored figures), and closing the scores — next to
//! the one sales question that dominates it.

use crate::median_ms;
use crate::report::Report;
use qingguan_core::{Access, ListQuery};
use qingguan_runtime::CallCtx;
use qingguan_tests::TestServer;
use serde_json::{json, Value};
use std::time::Instant;

/// Calls one of appraisal's routes as a user (JSON in and out, as the API does).
fn call(
    server: &TestServer,
    user: i64,
    method: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let ctx = CallCtx::for_user(&server.store, user)?;
    Ok(server
        .plugins
        .calls()
        .call_json("appraisal", method, path, &body, ctx)?)
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
    // Rating items are keyed by their id.
    let attitude = create(
        server,
        "quality_item",
        json!({"profile": profile, "name": "Attitude", "weight": 50}),
    )?;
    let teamwork = create(
        server,
        "quality_item",
        json!({"profile": profile, "name": "Teamwork", "weight": 50}),
    )?;
    let cycle = create(
        server,
        "appraisal_cycle",
        json!({"name": "2026 Q2", "period": "quarter", "starts_on": "2026-04-01"}),
    )?;
    let post = |user: i64, path: &str, body: Value| call(server, user, "POST", path, body);
    // Closing the scores asks for a confirmation, before the period ends an explicit one.
    let cycle_op = |op: &str| {
        post(
            hr,
            "/cycle",
            json!({"cycle": cycle, "op": op, "confirm": "yes", "early": "yes"}),
        )
    };

    let t = Instant::now();
    let started = cycle_op("start")?;
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
    let person_of = |a: &qingguan_core::Record| a.get("person").to_json().as_i64().unwrap_or(0);
    for a in &list {
        post(hr, "/targets", json!({"appraisal": a.id}))?;
        post(
            person_of(a),
            "/respond",
            json!({"appraisal": a.id, "decision": "accept"}),
        )?;
    }
    cycle_op("advance")?;
    for a in &list {
        let mut body = json!({"appraisal": a.id, "group": "self"});
        body[format!("score_{attitude}")] = json!(4);
        body[format!("score_{teamwork}")] = json!(3);
        post(person_of(a), "/rate", body)?;
    }
    let baseline = median_ms(3, |_| {
        server.plugins.calls().ask(
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
            hr,
            "GET",
            &format!("/results?cycle={cycle}"),
            json!({}),
        )?;
        Ok(())
    })?;
    let compute = median_ms(3, |_| {
        cycle_op("compute")?;
        Ok(())
    })?;
    let t = Instant::now();
    cycle_op("advance")?;
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
