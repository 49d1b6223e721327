//! The sales plugin, compiled from `plugins/sales` and run in the real runtime: stage rules,
//! the won-deal hook, follow-ups, targets, and its figures checked against hand-computed
//! values on known data.

use qingguan_tests::{customer, install, Client, TestServer};
use serde_json::{json, Value};

fn ask(c: &Client, query: &str, args: Value) -> Value {
    let r = c.post(&format!("/api/v1/plugins/sales/queries/{query}"), &args);
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.body
}

#[test]
fn pipeline_rules_and_the_won_deal_hook() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "east");
    let c1 = amy.create("customer", customer("恒信科技"));
    assert_eq!(c1["status"], "lead");

    let d = amy.create(
        "deal",
        json!({"title": "ERP", "customer": c1["id"], "stage": "lead", "amount": "1000"}),
    );
    assert_eq!(d["probability"], 10);
    assert_eq!(d["currency"], "CNY");
    assert!(d["opened_on"].is_string());
    assert_eq!(d["owner"], amy_id);
    let path = format!("/api/v1/records/deal/{}", d["id"]);

    let no_amount = amy.post(
        "/api/v1/records/deal",
        &json!({"title": "X", "customer": c1["id"], "stage": "won"}),
    );
    assert_eq!(no_amount.error_code(422), "rejected");
    assert!(no_amount.body["error"]["fields"]["amount"].is_string());
    let no_reason = amy.patch_v(&path, 1, &json!({"stage": "lost"}));
    assert_eq!(no_reason.error_code(422), "rejected");
    assert!(no_reason.body["error"]["fields"]["lost_reason"].is_string());
    let zh = s.store.set_user_locale(amy_id, qingguan_core::Locale::ZhCn);
    assert!(zh.is_ok());
    let zh_err = amy.patch_v(&path, 1, &json!({"stage": "lost"}));
    assert_eq!(
        zh_err.body["error"]["fields"]["lost_reason"], "输单时必填",
        "messages follow the user's language"
    );

    let won = amy.post(&format!("{path}/actions/sales/mark_won"), &json!({}));
    assert_eq!(won.status, 200, "{}", won.text);
    assert_eq!(won.body["stage"], "won");
    assert!(won.body["closed_on"].is_string());
    let d2 = amy.get(&path).body;
    assert_eq!(d2["probability"], 100);
    assert_eq!(
        amy.get(&format!("/api/v1/records/customer/{}", c1["id"]))
            .body["status"],
        "customer",
        "won deal → customer"
    );

    let reopened = amy.patch_v(
        &path,
        d2["version"].as_i64().unwrap(),
        &json!({"stage": "negotiation"}),
    );
    assert_eq!(reopened.status, 200, "{}", reopened.text);
    assert!(reopened.body["closed_on"].is_null());
    assert_eq!(reopened.body["probability"], 75);

    // Reps see only their own deals; a rep cannot act on another's deal.
    assert!(bob.get("/api/v1/records/deal").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(bob.get(&path).error_code(404), "not_found");
    assert_eq!(
        bob.post(
            &format!("{path}/actions/sales/mark_lost"),
            &json!({"reason": "price"})
        )
        .error_code(404),
        "not_found"
    );

    // Administrators configure the pipeline: a new stage, and probabilities.
    let mut stages = admin.get("/api/v1/entities/deal").body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "stage")
        .unwrap()["options"]
        .clone();
    stages.as_array_mut().unwrap().insert(
        2,
        json!({"value": "demo", "label": {"en": "Demo", "zh-CN": "产品演示"}}),
    );
    let r = admin.patch(
        "/api/v1/entities/deal/fields/stage",
        &json!({"options": stages}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let cfg = admin.put("/api/v1/plugins/sales/config", &json!({"probabilities": {"lead": 5, "demo": 40, "qualified": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}}));
    assert_eq!(cfg.status, 200, "{}", cfg.text);
    let demo = amy.create(
        "deal",
        json!({"title": "Demo", "customer": c1["id"], "stage": "demo"}),
    );
    assert_eq!(demo["probability"], 40);
    assert_eq!(
        amy.create(
            "deal",
            json!({"title": "L", "customer": c1["id"], "stage": "lead"})
        )["probability"],
        5
    );
}

#[test]
fn followups_targets_and_overdue() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let c = amy.create("customer", customer("Acme"));
    let bad = amy.post("/api/v1/records/followup", &json!({"subject": "call", "kind": "call", "customer": c["id"], "happened_on": "2026-03-10", "next_on": "2026-03-01"}));
    assert_eq!(bad.error_code(422), "rejected");
    assert!(bad.body["error"]["fields"]["next_on"].is_string());
    let late = amy.create("followup", json!({"subject": "call", "kind": "call", "customer": c["id"], "happened_on": "2026-01-10", "next_on": "2026-01-20"}));
    assert_eq!(late["overdue"], true, "overdue as soon as written");
    let fine = amy.create(
        "followup",
        json!({"subject": "visit", "kind": "visit", "customer": c["id"], "next_on": "2999-01-01"}),
    );
    assert!(fine["happened_on"].is_string(), "dated today by default");
    assert_eq!(
        admin
            .post(
                "/api/v1/plugins/sales/jobs/mark_overdue?wait=true",
                &json!({})
            )
            .status,
        200
    );
    let overdue = amy.get("/api/v1/records/followup?overdue=true");
    let items = overdue.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], late["id"]);
    let done = amy.patch_v(
        &format!("/api/v1/records/followup/{}", late["id"]),
        items[0]["version"].as_i64().unwrap(),
        &json!({"done": true}),
    );
    assert_eq!(done.body["overdue"], false);

    let t = amy.post(
        "/api/v1/records/sales_target",
        &json!({"person": amy_id, "period": "quarter", "starts_on": "2026-02-01", "amount": "100"}),
    );
    assert_eq!(t.error_code(422), "rejected");
    assert!(t.body["error"]["fields"]["starts_on"].is_string());
    let none = amy.post(
        "/api/v1/records/sales_target",
        &json!({"period": "month", "starts_on": "2026-01-01", "amount": "100"}),
    );
    assert_eq!(none.error_code(422), "rejected");
    let t = admin.create("sales_target", json!({"person": amy_id, "period": "month", "starts_on": "2026-01-01", "amount": "800", "owner": amy_id}));
    assert_eq!(t["name"], format!("2026-01 #{amy_id}"));
    admin.create("deal", json!({"title": "W", "customer": c["id"], "stage": "won", "amount": "1000.50", "opened_on": "2026-01-02", "closed_on": "2026-01-10", "owner": amy_id}));
    let targets = amy.send(reqwest::Method::GET, "/api/v1/plugins/sales/targets", |r| {
        r.header("accept", "application/json")
    });
    assert_eq!(targets.status, 200, "{}", targets.text);
    assert_eq!(targets.body[0]["actual"], "1000.50");
    assert_eq!(targets.body[0]["target"], "800.00");
    assert_eq!(targets.body[0]["attainment"], 125.1);
    let dash = amy.get("/api/v1/plugins/sales/dashboard");
    assert_eq!(dash.status, 200);
    assert!(dash
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(dash.text.contains("<svg") && dash.text.contains("Won revenue by month"));
}

#[test]
fn figures_match_hand_computed_values() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (_bob, bob_id) = s.user("bob", "sales", "east");
    let (_wes, wes_id) = s.user("wes", "sales", "west");
    let c1 = admin.create("customer", customer("C1"));
    let c2 = admin.create("customer", customer("C2"));
    let c3 = admin.create("customer", customer("C3"));
    let deal = |owner: i64, c: &Value, stage: &str, amount: &str, opened: &str, closed: &str| {
        let mut v = json!({"title": "d", "customer": c["id"], "stage": stage, "amount": amount, "opened_on": opened, "closed_on": closed, "owner": owner});
        if stage == "lost" {
            v["lost_reason"] = json!("price");
        }
        admin.create("deal", v);
    };
    // amy: three wins in Q1 2026 (one customer already won in December), one loss.
    deal(amy_id, &c1, "won", "1000.50", "2026-01-01", "2026-01-10");
    deal(amy_id, &c1, "won", "2000.00", "2026-02-10", "2026-02-20");
    deal(amy_id, &c1, "lost", "50", "2026-02-01", "2026-02-25");
    deal(amy_id, &c3, "won", "500", "2025-12-01", "2025-12-15");
    deal(amy_id, &c3, "won", "300", "2026-03-01", "2026-03-05");
    // bob: one win on the last day of the quarter, one loss.
    deal(bob_id, &c2, "won", "99.99", "2026-03-01", "2026-03-31");
    deal(bob_id, &c2, "lost", "10", "2025-12-20", "2026-01-05");
    // wes (another team): a win in April, outside the quarter.
    deal(wes_id, &c2, "won", "7000", "2026-04-01", "2026-04-02");
    for (owner, day) in [
        (amy_id, "2026-01-15"),
        (amy_id, "2026-03-31"),
        (amy_id, "2026-04-01"),
        (bob_id, "2026-02-02"),
    ] {
        admin.create("followup", json!({"subject": "f", "kind": "call", "customer": c1["id"], "happened_on": day, "owner": owner}));
    }
    let q1 = |extra: Value| {
        let mut a = json!({"from": "2026-01-01", "to": "2026-03-31"});
        a.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        a
    };
    let amy_q = q1(json!({"owner": amy_id}));
    assert_eq!(
        ask(&admin, "won_revenue", amy_q.clone())["value"],
        "3300.50"
    );
    assert_eq!(ask(&admin, "deals_won", amy_q.clone())["value"], 3);
    assert_eq!(ask(&admin, "win_rate", amy_q.clone())["value"], 75.0);
    assert_eq!(
        ask(&admin, "new_customers", amy_q.clone())["value"],
        1,
        "C1 is new; C3 was won in December"
    );
    assert_eq!(ask(&admin, "followups", amy_q.clone())["value"], 2);
    assert_eq!(
        ask(&admin, "avg_days_to_close", amy_q)["value"],
        23.0 / 3.0,
        "(9 + 10 + 4) / 3, unrounded"
    );
    let bob_q = q1(json!({"owner": bob_id}));
    assert_eq!(ask(&admin, "won_revenue", bob_q.clone())["value"], "99.99");
    assert_eq!(ask(&admin, "win_rate", bob_q.clone())["value"], 50.0);
    assert_eq!(ask(&admin, "new_customers", bob_q.clone())["value"], 1);
    assert_eq!(ask(&admin, "avg_days_to_close", bob_q)["value"], 30.0);
    assert_eq!(
        ask(&admin, "won_revenue", q1(json!({"team": "east"})))["value"],
        "3400.49"
    );
    assert_eq!(
        ask(&admin, "won_revenue", q1(json!({"team": "nobody"})))["value"],
        "0"
    );
    assert_eq!(
        ask(&admin, "won_revenue", q1(json!({})))["value"],
        "3400.49",
        "everyone, Q1"
    );
    let summary = ask(&admin, "summary", q1(json!({})));
    let owners = summary["owners"].as_array().unwrap();
    assert_eq!(owners.len(), 2);
    let amy_row = owners.iter().find(|o| o["owner"] == amy_id).unwrap();
    assert_eq!(amy_row["won_revenue"], "3300.50");
    assert_eq!(amy_row["followups"], 2);
    // Asked directly, a rep sees only their own figures.
    let own = ask(&amy, "summary", q1(json!({})));
    assert_eq!(own["owners"].as_array().unwrap().len(), 1);
    // … and asking for a colleague's is refused, not answered with a misleading 0.
    let colleague = amy.post(
        "/api/v1/plugins/sales/queries/won_revenue",
        &q1(json!({"owner": bob_id})),
    );
    assert_eq!(colleague.error_code(403), "forbidden", "{}", colleague.text);
    // Bad arguments are field errors.
    let bad = amy.post(
        "/api/v1/plugins/sales/queries/won_revenue",
        &json!({"from": "soon", "to": "2026-01-01"}),
    );
    assert_eq!(bad.error_code(422), "rejected");
    assert!(bad.body["error"]["fields"]["from"].is_string());
}
