//! The appraisal plugin, compiled from `plugins/appraisal` with the sales and growth-rule
//! plugins, run in the real runtime over HTTP: one quarter appraised end to end on known CRM
//! data, every KPI actual, score, grade and bonus checked against figures worked out by hand
//! below; the negotiation, 360° privacy, permissions, the snapshot at close, the CSV export
//! and the carry-over of improvement items.

use qingguan_core::Access;
use qingguan_tests::{customer, install, Client, Resp, TestServer};
use serde_json::{json, Map, Value};

/// A POST to one of appraisal's routes as an API client (JSON in, JSON out).
fn act(c: &Client, path: &str, body: Value) -> Resp {
    c.send(
        reqwest::Method::POST,
        &format!("/api/v1/plugins/appraisal{path}"),
        |r| r.header("accept", "application/json").json(&body),
    )
}

fn ok(r: Resp) -> Value {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn records(c: &Client, entity: &str, query: &str) -> Vec<Value> {
    let r = c.get(&format!(
        "/api/v1/records/{entity}?limit=200&sort=id&{query}"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

fn set_manager(s: &TestServer, user: i64, manager: i64) {
    let sys = Access::system();
    let u = s.store.get(&sys, "user", user).unwrap();
    let mut patch = Map::new();
    patch.insert("manager".into(), json!(manager));
    s.store
        .update(&sys, "user", user, u.version, &patch)
        .unwrap();
}

/// A won (or lost) deal closed on a given day, created by its owner.
fn deal(
    c: &Client,
    customer: &Value,
    stage: &str,
    amount: &str,
    opened: &str,
    closed: &str,
) -> Value {
    deal_owned(c, None, customer, stage, amount, opened, closed)
}

/// A deal created by `c` for `owner` (or for `c` itself): a rep cannot reference a customer
/// they cannot read, so an administrator records a deal on a colleague's customer for them.
fn deal_owned(
    c: &Client,
    owner: Option<i64>,
    customer: &Value,
    stage: &str,
    amount: &str,
    opened: &str,
    closed: &str,
) -> Value {
    let mut d = json!({"title": format!("{stage} {amount} {closed}"), "customer": customer["id"], "stage": stage,
                       "amount": amount, "opened_on": opened, "closed_on": closed});
    if stage == "lost" {
        d["lost_reason"] = json!("price");
    }
    if let Some(o) = owner {
        d["owner"] = json!(o);
    }
    c.create("deal", d)
}

fn followups(c: &Client, customer: &Value, days: &[&str]) {
    followups_owned(c, None, customer, days);
}

fn followups_owned(c: &Client, owner: Option<i64>, customer: &Value, days: &[&str]) {
    for day in days {
        let mut f = json!({"subject": "call", "kind": "call", "customer": customer["id"], "happened_on": day, "done": true});
        if let Some(o) = owner {
            f["owner"] = json!(o);
        }
        c.create("followup", f);
    }
}

fn kpis(result: &Value) -> Vec<(String, String, String, String, String)> {
    result["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&k["name"]),
                s(&k["target"]),
                s(&k["actual"]),
                s(&k["attainment"]),
                s(&k["score"]),
            )
        })
        .collect()
}

fn k(
    name: &str,
    target: &str,
    actual: &str,
    attainment: &str,
    score: &str,
) -> (String, String, String, String, String) {
    (
        name.into(),
        target.into(),
        actual.into(),
        attainment.into(),
        score.into(),
    )
}

#[test]
fn a_quarter_appraised_end_to_end_matches_the_figures_worked_out_by_hand() {
    let s = TestServer::start();
    let admin = s.admin();
    for p in [
        "qingguan-sales",
        "qingguan-growth-rule",
        "qingguan-appraisal",
    ] {
        let r = install(&admin, p, true);
        assert_eq!(r.status, 201, "{p}: {}", r.text);
    }
    let (lena, lena_id) = s.user("lena", "manager", "north");
    let (ann, ann_id) = s.user("ann", "sales", "north");
    let (ben, ben_id) = s.user("ben", "sales", "north");
    let (hr, _) = s.user("hilda", "hr", "hq");
    set_manager(&s, ann_id, lena_id);
    set_manager(&s, ben_id, lena_id);

    // --- Known CRM data -------------------------------------------------------------
    // Q1 2025. Ann: won 100,000 (C1) + 80,000 (C2) + 20,000 (C4) = 200,000; a lost deal (C3).
    // C4 was already won in Q4 2024, so Ann's new customers are C1 and C2 = 2.
    // Ben: won 60,000 (C3, its first win: new) + 30,000 (C1, first won by Ann: not new)
    // = 90,000, new customers 1; a lost deal. Team north in Q1: 290,000.
    // Q4 2024 (the previous quarter): Ann 50,000 (C4) + Ben 200,000 (C5) = 250,000.
    let c: Vec<Value> = (1..=5)
        .map(|i| ann.create("customer", customer(&format!("客户{i}"))))
        .collect();
    deal(&ann, &c[3], "won", "50000", "2024-12-01", "2024-12-20");
    deal(&ann, &c[0], "won", "100000", "2025-01-05", "2025-01-15");
    deal(&ann, &c[1], "won", "80000", "2025-01-20", "2025-02-10");
    deal(&ann, &c[2], "lost", "10000", "2025-02-01", "2025-03-01");
    deal(&ann, &c[3], "won", "20000", "2025-03-01", "2025-03-20");
    deal(&ann, &c[0], "won", "999999", "2025-03-25", "2025-04-02"); // after the cycle
    let bc: Vec<Value> = (0..3)
        .map(|i| ben.create("customer", customer(&format!("本客户{i}"))))
        .collect();
    let _ = bc;
    // Ben's deals on Ann's customers (which he cannot read) are recorded for him.
    let for_ben = Some(ben_id);
    deal_owned(
        &admin,
        for_ben,
        &c[2],
        "won",
        "60000",
        "2025-02-01",
        "2025-02-20",
    );
    deal_owned(
        &admin,
        for_ben,
        &c[0],
        "won",
        "30000",
        "2025-02-15",
        "2025-03-05",
    );
    deal_owned(
        &admin,
        for_ben,
        &c[4],
        "lost",
        "5000",
        "2025-01-02",
        "2025-01-20",
    );
    deal_owned(
        &admin,
        for_ben,
        &c[4],
        "won",
        "200000",
        "2024-10-15",
        "2024-11-11",
    );
    // Follow-ups in Q1: Ann 5, Ben 3 (and one each outside the quarter).
    followups(
        &ann,
        &c[0],
        &[
            "2025-01-03",
            "2025-01-20",
            "2025-02-02",
            "2025-03-01",
            "2025-03-31",
            "2025-04-01",
        ],
    );
    followups_owned(
        &admin,
        for_ben,
        &c[2],
        &["2025-01-10", "2025-02-11", "2025-03-12", "2024-12-31"],
    );

    // --- HR sets up profiles, grade table (default S/A/B/C/D) and the cycle -------------
    let rep = hr.create(
        "job_profile",
        json!({"name": "Sales rep", "roles": "sales", "kpi_weight": 70,
        "manager_weight": 50, "peer_weight": 20, "self_weight": 10, "subordinate_weight": 20}),
    );
    for v in [
        json!({"name": "Won revenue", "weight": 50, "source": "sales/won_revenue", "rule": "linear", "cap": 120}),
        json!({"name": "New customers", "weight": 20, "source": "sales/new_customers", "rule": "bands", "bands": "50:60, 80:80, 100:100, 130:120", "default_target": "2"}),
        json!({"name": "Follow-ups", "weight": 10, "source": "sales/followups", "rule": "linear", "cap": 110, "default_target": "4"}),
        json!({"name": "Satisfaction", "weight": 20, "source": "manual", "rule": "linear", "cap": 110, "default_target": "90"}),
    ] {
        let mut v = v;
        v["profile"] = rep["id"].clone();
        hr.create("kpi", v);
    }
    hr.create(
        "quality_item",
        json!({"profile": rep["id"], "name": "Attitude", "weight": 60}),
    );
    hr.create(
        "quality_item",
        json!({"profile": rep["id"], "name": "Teamwork", "weight": 40}),
    );
    let lead = hr.create(
        "job_profile",
        json!({"name": "Team lead", "roles": "manager", "kpi_weight": 60,
        "manager_weight": 50, "peer_weight": 0, "self_weight": 10, "subordinate_weight": 40}),
    );
    hr.create("kpi", json!({"profile": lead["id"], "name": "Team revenue", "weight": 70, "source": "sales/won_revenue", "scope": "team", "rule": "linear", "cap": 120}));
    hr.create("kpi", json!({"profile": lead["id"], "name": "Team growth", "weight": 30, "source": "sales/won_revenue", "scope": "team", "rule": "plugin", "rule_plugin": "growth_rule/score", "cap": 150}));
    hr.create(
        "quality_item",
        json!({"profile": lead["id"], "name": "Leadership", "weight": 100}),
    );
    // A bad KPI definition is refused with the field named.
    let bad = hr.post("/api/v1/records/kpi", &json!({"profile": rep["id"], "name": "X", "weight": 5, "source": "manual", "rule": "bands", "bands": "80-60"}));
    assert_eq!(bad.error_code(422), "rejected");
    assert!(
        bad.body["error"]["fields"]["bands"].is_string(),
        "{}",
        bad.text
    );

    let cycle = hr.create(
        "appraisal_cycle",
        json!({"name": "2025 Q1", "period": "quarter", "starts_on": "2025-01-01"}),
    );
    assert_eq!(
        cycle["ends_on"], "2025-03-31",
        "the quarter's end is filled in"
    );
    assert_eq!(cycle["stage"], "plan");
    let cid = cycle["id"].as_i64().unwrap();
    // Company → team cascade: team north 300,000, split over its two reps.
    hr.create(
        "cycle_target",
        json!({"cycle": cid, "source": "sales/won_revenue", "target": "300000"}),
    );
    hr.create(
        "cycle_target",
        json!({"cycle": cid, "team": "north", "source": "sales/won_revenue", "target": "300000"}),
    );
    // Stages change only through the workflow.
    let jump = hr.patch_v(
        &format!("/api/v1/records/appraisal_cycle/{cid}"),
        1,
        &json!({"stage": "closed"}),
    );
    assert_eq!(jump.status, 422, "{}", jump.text);
    assert_eq!(
        act(&ann, "/cycle", json!({"cycle": cid, "op": "start"})).status,
        403,
        "only HR starts cycles"
    );
    let started = ok(act(&hr, "/cycle", json!({"cycle": cid, "op": "start"})));
    assert_eq!(started["created"], 3);
    assert_eq!(
        ok(act(&hr, "/cycle", json!({"cycle": cid, "op": "start"})))["created"],
        0,
        "idempotent"
    );

    let appraisals = records(&hr, "appraisal", &format!("cycle={cid}"));
    let of = |uid: i64| {
        appraisals.iter().find(|a| a["person"] == uid).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (a_ann, a_ben, a_lena) = (of(ann_id), of(ben_id), of(lena_id));
    for (a, base) in [(a_ann, "10000"), (a_ben, "8000"), (a_lena, "20000")] {
        let r = hr.get(&format!("/api/v1/records/appraisal/{a}")).body;
        let p = hr.patch_v(
            &format!("/api/v1/records/appraisal/{a}"),
            r["version"].as_i64().unwrap(),
            &json!({"bonus_base": base}),
        );
        assert_eq!(p.status, 200, "{}", p.text);
    }
    let targets = |a: i64| records(&hr, "appraisal_target", &format!("appraisal={a}"));
    let tid = |a: i64, name: &str| {
        targets(a).iter().find(|t| t["kpi_name"] == name).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let cascaded: Vec<(Value, Value)> = targets(a_ann)
        .iter()
        .map(|t| (t["kpi_name"].clone(), t["target"].clone()))
        .collect();
    assert_eq!(
        cascaded,
        vec![
            (json!("Won revenue"), json!("150000.00")),
            (json!("New customers"), json!("2.00")),
            (json!("Follow-ups"), json!("4.00")),
            (json!("Satisfaction"), json!("90.00")),
        ],
        "team target split over the team's two reps; defaults for the rest"
    );

    // --- Plan: propose, object, revise, agree --------------------------------------------
    let propose = |a: i64, revenue: &str| {
        let mut body = json!({"appraisal": a, "comment": "cascaded"});
        for t in targets(a) {
            body[format!("target_{}", t["id"])] = t["target"].clone();
        }
        if a != a_lena {
            body[format!("target_{}", tid(a, "Won revenue"))] = json!(revenue);
        }
        body
    };
    assert_eq!(
        act(&ann, "/targets", propose(a_ann, "150000")).status,
        403,
        "a person does not set their own targets"
    );
    let mut bad_target = propose(a_ann, "150000");
    bad_target[format!("target_{}", tid(a_ann, "Won revenue"))] = json!("lots");
    let r = act(&lena, "/targets", bad_target);
    assert_eq!(r.status, 422, "{}", r.text);
    ok(act(&lena, "/targets", propose(a_ann, "150000")));
    // Ann is told, with a link to her appraisal.
    let told = crate::outreach::plugin_notes(&ann);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        told[0]["link"],
        format!("/p/appraisal/appraisal?id={a_ann}")
    );
    assert!(
        told[0]["params"]["en"]
            .as_str()
            .unwrap()
            .contains("proposed your targets for"),
        "{told:?}"
    );
    ok(act(&lena, "/targets", propose(a_ben, "150000")));
    ok(act(&hr, "/targets", propose(a_lena, "")));
    assert_eq!(
        ok(act(
            &ann,
            "/respond",
            json!({"appraisal": a_ann, "decision": "accept"})
        ))["status"],
        "agreed"
    );
    assert_eq!(
        act(
            &ann,
            "/respond",
            json!({"appraisal": a_ben, "decision": "accept"})
        )
        .status,
        403,
        "only Ben answers for Ben"
    );
    assert_eq!(
        act(
            &ben,
            "/respond",
            json!({"appraisal": a_ben, "decision": "object"})
        )
        .status,
        422,
        "an objection needs a comment"
    );
    let objected = ok(act(
        &ben,
        "/respond",
        json!({"appraisal": a_ben, "decision": "object",
        "comment": "150k is too high with C5 gone", "resources": "a presales engineer"}),
    ));
    assert_eq!(objected["status"], "objected");
    // Lena, Ben's manager, hears of the objection.
    assert!(
        crate::outreach::plugin_notes(&lena)
            .iter()
            .any(|n| n["params"]["en"]
                .as_str()
                .unwrap()
                .contains("objected to the targets")
                && n["link"] == format!("/p/appraisal/appraisal?id={a_ben}")),
        "{:?}",
        crate::outreach::plugin_notes(&lena)
    );
    let early = act(&hr, "/cycle", json!({"cycle": cid, "op": "advance"}));
    assert_eq!(early.status, 409, "{}", early.text);
    assert!(
        early.text.contains("ben"),
        "names who has not agreed: {}",
        early.text
    );
    let seen = hr.get(&format!("/api/v1/records/appraisal/{a_ben}")).body["version"].clone();
    ok(act(&lena, "/targets", propose(a_ben, "120000")));
    let stale = act(
        &ben,
        "/respond",
        json!({"appraisal": a_ben, "decision": "accept", "version": seen}),
    );
    assert_eq!(
        stale.status, 409,
        "accepting targets that changed meanwhile: {}",
        stale.text
    );
    ok(act(
        &ben,
        "/respond",
        json!({"appraisal": a_ben, "decision": "accept", "comment": "ok"}),
    ));
    ok(act(
        &lena,
        "/respond",
        json!({"appraisal": a_lena, "decision": "accept"}),
    ));
    let ben_rec = hr.get(&format!("/api/v1/records/appraisal/{a_ben}")).body;
    let log = ben_rec["negotiation"].as_str().unwrap();
    assert!(
        log.contains("objected: 150k is too high")
            && log.contains("a presales engineer")
            && log.contains("Won revenue 120000"),
        "{log}"
    );
    assert_eq!(
        ok(act(
            &hr,
            "/cycle",
            json!({"cycle": cid, "op": "advance", "stage": "plan"})
        ))["stage"],
        "appraise"
    );
    // Every rater is told how many ratings they owe: Ann rates herself, Ben (peer) and Lena
    // (subordinate).
    let owed: Vec<Value> = crate::outreach::plugin_notes(&ann)
        .into_iter()
        .filter(|n| n["params"]["en"].as_str().unwrap().contains("360° ratings"))
        .collect();
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert!(
        owed[0]["params"]["en"]
            .as_str()
            .unwrap()
            .ends_with("you have 3 to give"),
        "{owed:?}"
    );
    assert_eq!(owed[0]["link"], "/p/appraisal/me");
    let twice = act(
        &hr,
        "/cycle",
        json!({"cycle": cid, "op": "advance", "stage": "plan"}),
    );
    assert_eq!(
        twice.status, 409,
        "a second click on a stale page does not skip a stage: {}",
        twice.text
    );

    // --- Appraise: manual actuals, 360° ratings --------------------------------------------
    let r = act(
        &ben,
        "/actuals",
        json!({"appraisal": a_ben, format!("actual_{}", tid(a_ben, "Satisfaction")): "99"}),
    );
    assert_eq!(r.status, 403, "people do not enter their own actuals");
    let r = act(
        &lena,
        "/actuals",
        json!({"appraisal": a_ann, format!("actual_{}", tid(a_ann, "Won revenue")): "1"}),
    );
    assert_eq!(
        r.status, 422,
        "CRM-sourced actuals cannot be typed in: {}",
        r.text
    );
    let closing_early = act(&hr, "/cycle", json!({"cycle": cid, "op": "advance"}));
    assert_eq!(
        closing_early.status, 409,
        "manual actuals missing: {}",
        closing_early.text
    );
    ok(act(
        &lena,
        "/actuals",
        json!({"appraisal": a_ann, format!("actual_{}", tid(a_ann, "Satisfaction")): "99"}),
    ));
    ok(act(
        &lena,
        "/actuals",
        json!({"appraisal": a_ben, format!("actual_{}", tid(a_ben, "Satisfaction")): "81"}),
    ));

    // Rating fields are keyed by the qualitative item's id, in HR's order.
    let item_ids = |profile: &Value| -> Vec<i64> {
        records(&hr, "quality_item", &format!("profile={}", profile["id"]))
            .iter()
            .map(|q| q["id"].as_i64().unwrap())
            .collect()
    };
    let (rep_items, lead_items) = (item_ids(&rep), item_ids(&lead));
    let rate = |c: &Client, a: i64, group: &str, scores: &[i64]| {
        let mut body = json!({"appraisal": a, "group": group, "comment": "fine"});
        let ids = if a == a_lena { &lead_items } else { &rep_items };
        for (id, n) in ids.iter().zip(scores) {
            body[format!("score_{id}")] = json!(n);
        }
        act(c, "/rate", body)
    };
    // Items in the profile's order: Attitude, Teamwork (rep); Leadership (lead).
    assert_eq!(
        rate(&ann, a_ann, "manager", &[5, 5]).status,
        403,
        "Ann is not her own manager"
    );
    assert_eq!(
        rate(&ann, a_ann, "self", &[4, 9]).status,
        422,
        "scores are 1-5"
    );
    ok(rate(&ann, a_ann, "self", &[3, 3]));
    ok(rate(&ann, a_ann, "self", &[4, 5])); // changed her mind: replaces, not adds
    ok(rate(&lena, a_ann, "manager", &[5, 4]));
    ok(rate(&ben, a_ann, "peer", &[3, 4]));
    ok(rate(&ben, a_ben, "self", &[3, 3]));
    ok(rate(&lena, a_ben, "manager", &[3, 4]));
    ok(rate(&ann, a_ben, "peer", &[4, 4]));
    ok(rate(&lena, a_lena, "self", &[4]));
    ok(rate(&ann, a_lena, "subordinate", &[5]));
    ok(rate(&ben, a_lena, "subordinate", &[4]));
    assert_eq!(
        rate(&ann, a_lena, "peer", &[1]).status,
        403,
        "a subordinate is not a peer"
    );

    // --- Today's standing equals the final figures (the period is over) -----------------------
    let live = ok(act(&hr, "/cycle", json!({"cycle": cid, "op": "compute"})));
    let again = ok(act(&hr, "/cycle", json!({"cycle": cid, "op": "compute"})));
    assert_eq!(
        live, again,
        "re-running the computation gives the same result"
    );
    assert_eq!(
        ok(act(
            &hr,
            "/cycle",
            json!({"cycle": cid, "op": "advance", "confirm": "yes"})
        ))["stage"],
        "feedback"
    );

    let results = hr.get(&format!("/api/v1/plugins/appraisal/results?cycle={cid}"));
    assert_eq!(results.status, 200, "{}", results.text);
    let res = |a: i64| {
        results.body["appraisals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["appraisal"] == a)
            .unwrap()
            .clone()
    };
    let (ra, rb, rl) = (res(a_ann), res(a_ben), res(a_lena));

    // Ann. Won revenue 200,000 / 150,000 = 133.33% → linear, capped at 120.
    // New customers 2 / 2 = 100% → band 100:100 → 100. Follow-ups 5 / 4 = 125% → cap 110.
    // Satisfaction 99 / 90 = 110% → 110.
    // KPI = (50×120 + 20×100 + 10×110 + 20×110) / 100 = 113.
    assert_eq!(
        kpis(&ra),
        vec![
            k("Won revenue", "150000", "200000", "133.33", "120"),
            k("New customers", "2", "2", "100", "100"),
            k("Follow-ups", "4", "5", "125", "110"),
            k("Satisfaction", "90", "99", "110", "110"),
        ]
    );
    assert_eq!(ra["kpi_score"], "113");
    // 360°: self (4,5) → (60×80 + 40×100)/100 = 88; manager (5,4) → 92; the peer group has
    // one rater (Ben), below the anonymity minimum of 2: not counted.
    // (50×92 + 10×88) / 60 = 91.333 → 91.33. Total = (70×113 + 30×91.33)/100 = 106.499 → 106.5 → S.
    assert_eq!(ra["groups"], json!({"manager": "92", "self": "88"}));
    assert_eq!(ra["raters"], json!({"manager": 1, "peer": 1, "self": 1}));
    assert_eq!(ra["quality_score"], "91.33");
    assert_eq!(
        (ra["score"].as_str(), ra["grade"].as_str()),
        (Some("106.5"), Some("S"))
    );
    assert_eq!(
        (ra["coefficient"].as_str(), ra["bonus"].as_str()),
        (Some("1.5"), Some("15000"))
    );

    // Ben. 90,000 / 120,000 = 75% → 75. New 1 / 2 = 50% → band 50:60 → 60.
    // Follow-ups 3 / 4 = 75%. Satisfaction 81 / 90 = 90%.
    // KPI = (50×75 + 20×60 + 10×75 + 20×90)/100 = 75. 360°: self (3,3) 60, manager (3,4) 68,
    // one peer (not counted) → (50×68 + 10×60)/60 = 66.67. Total (70×75 + 30×66.67)/100
    // = 72.501 → 72.5 → B.
    assert_eq!(
        kpis(&rb),
        vec![
            k("Won revenue", "120000", "90000", "75", "75"),
            k("New customers", "2", "1", "50", "60"),
            k("Follow-ups", "4", "3", "75", "75"),
            k("Satisfaction", "90", "81", "90", "90"),
        ]
    );
    assert_eq!(
        (rb["kpi_score"].as_str(), rb["quality_score"].as_str()),
        (Some("75"), Some("66.67"))
    );
    assert_eq!(
        (
            rb["score"].as_str(),
            rb["grade"].as_str(),
            rb["bonus"].as_str()
        ),
        (Some("72.5"), Some("B"), Some("8000"))
    );

    // Lena, the lead: the team's figures. Team revenue 290,000 / 300,000 = 96.67% → 96.67.
    // Growth (from the growth_rule plugin): 100 × 290,000 / 250,000 (Q4 2024) = 116.
    // KPI = (70×96.67 + 30×116)/100 = 102.469 → 102.47. 360°: self 4 → 80; subordinates
    // (5+4)/2 = 4.5 → 90; (10×80 + 40×90)/50 = 88. Total (60×102.47 + 40×88)/100 = 96.682
    // → 96.68 → S; bonus 20,000 × 1.5 = 30,000.
    assert_eq!(
        kpis(&rl),
        vec![
            k("Team revenue", "300000", "290000", "96.67", "96.67"),
            k("Team growth", "300000", "290000", "96.67", "116"),
        ]
    );
    assert_eq!(
        (rl["kpi_score"].as_str(), rl["quality_score"].as_str()),
        (Some("102.47"), Some("88"))
    );
    assert_eq!(
        (
            rl["score"].as_str(),
            rl["grade"].as_str(),
            rl["bonus"].as_str()
        ),
        (Some("96.68"), Some("S"), Some("30000"))
    );

    // The records carry the same figures (for lists, reports and payroll).
    let ann_rec = hr.get(&format!("/api/v1/records/appraisal/{a_ann}")).body;
    assert_eq!(
        (
            ann_rec["score"].as_str(),
            ann_rec["grade"].as_str(),
            ann_rec["status"].as_str()
        ),
        (Some("106.50"), Some("S"), Some("scored"))
    );

    // --- Closed scores do not move --------------------------------------------------------
    deal(&ann, &c[1], "won", "500000", "2025-03-01", "2025-03-30");
    let r = hr.patch_v(
        &format!(
            "/api/v1/records/grade_band/{}",
            records(&hr, "grade_band", "grade=S")[0]["id"]
        ),
        1,
        &json!({"coefficient": "3"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        hr.get(&format!("/api/v1/plugins/appraisal/results?cycle={cid}"))
            .body,
        results.body,
        "the snapshot stands"
    );
    let recompute = ok(act(&hr, "/cycle", json!({"cycle": cid, "op": "compute"})));
    assert_eq!(recompute, results.body);

    // --- Who sees what ------------------------------------------------------------------------
    assert_eq!(
        ben.get(&format!("/api/v1/records/appraisal/{a_ann}"))
            .status,
        404,
        "Ben cannot see Ann's appraisal"
    );
    assert_eq!(
        lena.get(&format!("/api/v1/records/appraisal/{a_ann}"))
            .status,
        404,
        "managers read through the pages"
    );
    assert_eq!(
        lena.get(&format!("/api/v1/plugins/appraisal/appraisal?id={a_ann}"))
            .status,
        200,
        "her manager can"
    );
    assert_eq!(
        ann.post(
            "/api/v1/plugins/appraisal/queries/results",
            &json!({"cycle": cid})
        )
        .status,
        403,
        "queries check the caller too"
    );
    assert_eq!(
        ben.post(
            "/api/v1/plugins/appraisal/queries/standing",
            &json!({"appraisal": a_ann})
        )
        .status,
        403
    );
    let own = ann.post(
        "/api/v1/plugins/appraisal/queries/standing",
        &json!({"appraisal": a_ann}),
    );
    assert_eq!(
        (own.status, own.body["score"].as_str()),
        (200, Some("106.5")),
        "{}",
        own.text
    );
    assert_eq!(
        hr.get(&format!("/api/v1/plugins/appraisal/appraisal?id={a_ann}"))
            .status,
        200
    );
    assert_eq!(
        ann.get(&format!("/api/v1/plugins/appraisal/results?cycle={cid}"))
            .status,
        403
    );
    let ann_ratings = records(&ann, "rating", "");
    assert!(
        !ann_ratings.is_empty() && ann_ratings.iter().all(|r| r["rater"] == ann_id),
        "Ann sees only ratings she gave"
    );
    let page = ann.get(&format!("/api/v1/plugins/appraisal/appraisal?id={a_ann}"));
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("106.5") && page.text.contains("fewer than 2 raters"),
        "{}",
        page.text
    );
    assert!(
        !page.text.contains(">68<"),
        "one peer's rating is not shown to the person"
    );
    let tamper = ann.patch_v(
        &format!("/api/v1/records/appraisal/{a_ann}"),
        ann_rec["version"].as_i64().unwrap(),
        &json!({"score": "120"}),
    );
    assert_eq!(tamper.status, 403, "{}", tamper.text);
    let admin_rec = admin
        .get(&format!("/api/v1/records/appraisal/{a_ann}"))
        .body;
    let tamper = admin.patch_v(
        &format!("/api/v1/records/appraisal/{a_ann}"),
        admin_rec["version"].as_i64().unwrap(),
        &json!({"grade": "A"}),
    );
    assert!(
        (400..500).contains(&tamper.status),
        "scores change only through the workflow: {}",
        tamper.text
    );
    assert_eq!(
        hr.get(&format!("/api/v1/records/appraisal/{a_ann}")).body["grade"],
        "S"
    );

    // --- Feedback, export, improve, carry-over ---------------------------------------------
    assert_eq!(
        act(
            &ann,
            "/feedback",
            json!({"appraisal": a_ann, "feedback": "x"})
        )
        .status,
        403
    );
    for (a, by) in [(a_ann, &lena), (a_ben, &lena), (a_lena, &hr)] {
        let mut body = json!({"appraisal": a, "feedback": "went through the figures", "feedback_on": "2025-04-10"});
        if a == a_ben {
            body["item_1"] = json!("Two new accounts a month");
            body["due_1"] = json!("2025-06-30");
        }
        ok(act(by, "/feedback", body));
    }
    // Headings in the reader's language; the machine keys for a program (`keys=true`).
    let heading = |c: &qingguan_tests::Client, keys: &str| -> String {
        let r = c.get(&format!(
            "/api/v1/plugins/appraisal/export.csv?cycle={cid}{keys}"
        ));
        assert_eq!(r.status, 200, "{}", r.text);
        r.text
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        heading(&hr, ""),
        "Cycle,Employee,Username,Team,Position,KPI score,Quality score,Score,Grade,Coefficient,Bonus base,Bonus"
    );
    let csv = hr.get(&format!(
        "/api/v1/plugins/appraisal/export.csv?cycle={cid}&keys=true"
    ));
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "cycle,employee,username,team,position,kpi_score,quality_score,score,grade,coefficient,bonus_base,bonus"
    );
    let zh = hr.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}));
    assert_eq!(zh.status, 200, "{}", zh.text);
    assert_eq!(
        heading(&hr, ""),
        "考核周期,员工,用户名,团队,职务,KPI 得分,素质得分,总分,等级,系数,奖金基数,奖金"
    );
    assert_eq!(heading(&hr, "&keys=true"), lines[0]);
    let en = hr.patch("/api/v1/auth/me", &json!({"locale": "en"}));
    assert_eq!(en.status, 200, "{}", en.text);
    assert!(
        lines.contains(&"2025 Q1,ann,ann,north,Sales rep,113,91.33,106.5,S,1.5,10000,15000"),
        "{}",
        csv.text
    );
    assert!(
        lines.contains(&"2025 Q1,ben,ben,north,Sales rep,75,66.67,72.5,B,1,8000,8000"),
        "{}",
        csv.text
    );
    assert!(
        lines.contains(&"2025 Q1,lena,lena,north,Team lead,102.47,88,96.68,S,1.5,20000,30000"),
        "{}",
        csv.text
    );
    assert_eq!(
        ann.get(&format!("/api/v1/plugins/appraisal/export.csv?cycle={cid}"))
            .status,
        403
    );
    ok(act(&hr, "/cycle", json!({"cycle": cid, "op": "advance"})));
    ok(act(&hr, "/cycle", json!({"cycle": cid, "op": "advance"})));
    assert_eq!(
        hr.get(&format!("/api/v1/records/appraisal_cycle/{cid}"))
            .body["stage"],
        "closed"
    );

    let next = hr.create(
        "appraisal_cycle",
        json!({"name": "2025 Q2", "period": "quarter", "starts_on": "2025-04-01"}),
    );
    ok(act(
        &hr,
        "/cycle",
        json!({"cycle": next["id"], "op": "start"}),
    ));
    let b2 = records(
        &hr,
        "appraisal",
        &format!("cycle={}&person={ben_id}", next["id"]),
    )[0]["id"]
        .clone();
    let items = records(&hr, "improvement", &format!("person={ben_id}"));
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["carried_to"], b2,
        "open improvement items carry into the next plan"
    );
    let me = ben.get("/api/v1/plugins/appraisal/me");
    assert!(
        me.text.contains("Two new accounts a month") && me.text.contains("2025 Q1"),
        "{}",
        me.text
    );

    // HR adds a newcomer by hand: the appraisal is hers (owner), with the profile's targets.
    let (dora, dora_id) = s.user("dora", "sales", "north");
    let added = hr.create(
        "appraisal",
        json!({"cycle": next["id"], "person": dora_id, "profile": rep["id"]}),
    );
    assert_eq!(added["status"], "draft");
    let mine = dora.get(&format!("/api/v1/records/appraisal/{}", added["id"]));
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.body["owner"], dora_id);
    assert_eq!(
        records(
            &hr,
            "appraisal_target",
            &format!("appraisal={}", added["id"])
        )
        .len(),
        4
    );
    let twice = hr.post(
        "/api/v1/records/appraisal",
        &json!({"cycle": next["id"], "person": dora_id, "profile": rep["id"]}),
    );
    assert_eq!(
        twice.status, 422,
        "one appraisal per person and cycle: {}",
        twice.text
    );
}

/// Forms on plugin pages: posted through the UI with the page's CSRF token; without it, or
/// too large, nothing happens; a refused input shows the page again with the reason.
#[test]
fn plugin_page_forms_need_the_token_and_show_refusals() {
    let s = TestServer::start();
    let admin = s.admin();
    for p in ["qingguan-sales", "qingguan-appraisal"] {
        assert_eq!(install(&admin, p, true).status, 201);
    }
    let login = s.anonymous().post(
        "/api/v1/auth/login",
        &json!({"username": "admin", "password": qingguan_tests::ADMIN_PASSWORD}),
    );
    let cookie = format!("qg_session={}", login.body["token"].as_str().unwrap());
    let csrf = login.body["csrf_token"].as_str().unwrap().to_string();
    let cycle = admin.create(
        "appraisal_cycle",
        json!({"name": "Forms", "period": "month", "starts_on": "2025-05-01"}),
    );
    let form = |body: String| {
        admin.send(reqwest::Method::POST, "/p/appraisal/cycle", |r| {
            r.header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        })
    };
    let id = cycle["id"].as_i64().unwrap();
    let forged = form(format!("cycle={id}&op=advance&stage=plan"));
    assert_eq!(forged.status, 403, "{}", forged.text);
    let huge = form(format!(
        "csrf={csrf}&cycle={id}&op=advance&x={}",
        "a".repeat(300 * 1024)
    ));
    assert_eq!(huge.status, 413);
    let refused = form(format!("csrf={csrf}&cycle={id}&op=explode"));
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.text.contains("unknown operation") && refused.text.contains("<nav"),
        "shown inside the UI page"
    );
    let early = form(format!("csrf={csrf}&cycle={id}&op=advance&stage=plan"));
    assert_eq!(early.status, 409, "no appraisals yet: {}", early.text);
    assert_eq!(
        admin
            .get(&format!("/api/v1/records/appraisal_cycle/{id}"))
            .body["stage"],
        "plan"
    );
    // Accepted: the plugin redirects to its overview, which the UI serves.
    let ok = form(format!("csrf={csrf}&cycle={id}&op=compute"));
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(
        ok.text.contains("Create appraisals"),
        "followed to the HR overview"
    );
    // The API side refuses bad ids and unknown routes with clear errors.
    let bad_id = admin.send(
        reqwest::Method::POST,
        "/api/v1/plugins/appraisal/cycle",
        |r| {
            r.header("accept", "application/json")
                .json(&json!({"cycle": "abc", "op": "start"}))
        },
    );
    assert_eq!(bad_id.status, 422, "{}", bad_id.text);
    let nowhere = admin.send(
        reqwest::Method::POST,
        "/api/v1/plugins/appraisal/nowhere",
        |r| r.json(&json!({})),
    );
    assert_eq!(nowhere.status, 404, "{}", nowhere.text);
}
