//! Findings of a first-contact review (an SME owner's first hour) of the appraisal and sales
//! plugins, each driven through the plugins' routes and queries over HTTP: a cycle planned
//! for a future quarter, the close of the scores, scores shown before a cycle is appraised,
//! the precision of the figures a KPI uses, the rating form's fields and the sales targets
//! page.

use qingguan_core::Access;
use qingguan_tests::{customer, install, Client, Resp, TestServer};
use serde_json::{json, Map, Value};

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

/// A small company: lena manages ann (sales, north); hilda runs HR.
struct Company {
    _s: TestServer,
    _admin: Client,
    hr: Client,
    lena: Client,
    ann: Client,
    ann_id: i64,
    profile: Value,
}

fn company() -> Company {
    let s = TestServer::start();
    let admin = s.admin();
    for p in ["qingguan-sales", "qingguan-appraisal"] {
        let r = install(&admin, p, true);
        assert_eq!(r.status, 201, "{p}: {}", r.text);
    }
    let (lena, lena_id) = s.user("lena", "manager", "north");
    let (ann, ann_id) = s.user("ann", "sales", "north");
    let (hr, _) = s.user("hilda", "hr", "hq");
    let sys = Access::system();
    let u = s.store.get(&sys, "user", ann_id).unwrap();
    let mut patch = Map::new();
    patch.insert("manager".into(), json!(lena_id));
    s.store
        .update(&sys, "user", ann_id, u.version, &patch)
        .unwrap();
    let profile = hr.create(
        "job_profile",
        json!({"name": "Sales rep", "roles": "sales", "kpi_weight": 70}),
    );
    Company {
        _s: s,
        _admin: admin,
        hr,
        lena,
        ann,
        ann_id,
        profile,
    }
}

impl Company {
    fn kpi(&self, name: &str, source: &str, target: &str) {
        self.hr.create(
            "kpi",
            json!({"profile": self.profile["id"], "name": name, "weight": 100, "source": source,
                   "rule": "linear", "cap": 150, "default_target": target}),
        );
    }

    fn item(&self, name: &str) -> i64 {
        self.hr.create(
            "quality_item",
            json!({"profile": self.profile["id"], "name": name, "weight": 50}),
        )["id"]
            .as_i64()
            .unwrap()
    }

    /// A cycle with ann's appraisal created (returns the cycle and appraisal ids).
    fn cycle(&self, name: &str, body: Value) -> (i64, i64) {
        let mut body = body;
        body["name"] = json!(name);
        let c = self.hr.create("appraisal_cycle", body)["id"]
            .as_i64()
            .unwrap();
        ok(act(&self.hr, "/cycle", json!({"cycle": c, "op": "start"})));
        let a = records(
            &self.hr,
            "appraisal",
            &format!("cycle={c}&person={}", self.ann_id),
        )[0]["id"]
            .as_i64()
            .unwrap();
        (c, a)
    }

    /// Lena proposes ann's targets as cascaded, ann accepts, HR starts appraising.
    fn agree_and_appraise(&self, c: i64, a: i64) {
        let mut body = json!({"appraisal": a});
        for t in records(&self.hr, "appraisal_target", &format!("appraisal={a}")) {
            body[format!("target_{}", t["id"])] = t["target"].clone();
        }
        ok(act(&self.lena, "/targets", body));
        ok(act(
            &self.ann,
            "/respond",
            json!({"appraisal": a, "decision": "accept"}),
        ));
        assert_eq!(
            ok(act(
                &self.hr,
                "/cycle",
                json!({"cycle": c, "op": "advance", "stage": "plan"})
            ))["stage"],
            "appraise"
        );
    }
}

/// Finding 1 (and 3): HR plans next quarter. Every page still works and says the cycle has
/// not started; no source is asked for a period that ends before it starts; the cycle can be
/// cancelled with its appraisals.
#[test]
fn a_cycle_planned_for_a_future_quarter_shows_not_started_and_can_be_deleted() {
    let co = company();
    co.kpi("Won revenue", "sales/won_revenue", "100000");
    co.item("Attitude");
    let (c, a) = co.cycle(
        "2999 Q1",
        json!({"period": "quarter", "starts_on": "2999-01-01"}),
    );
    for (who, path) in [
        (&co.ann, "/me".to_string()),
        (&co.ann, "/widget".to_string()),
        (&co.ann, format!("/appraisal?id={a}")),
        (&co.lena, "/team".to_string()),
        (&co.hr, format!("/hr?cycle={c}")),
    ] {
        let r = who.get(&format!("/api/v1/plugins/appraisal{path}"));
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(
            r.text.contains("not started") && !r.text.contains("before 'from'"),
            "{path}: {}",
            r.text
        );
    }
    // Finding 3: in the plan stage the person sees the targets, not a score, grade or bonus.
    let page = co
        .ann
        .get(&format!("/api/v1/plugins/appraisal/appraisal?id={a}"));
    assert!(
        page.text.contains("100000") && !page.text.contains("class=\"tiles\""),
        "targets, no score tiles: {}",
        page.text
    );
    let plan = ok(co
        .hr
        .get(&format!("/api/v1/plugins/appraisal/results?cycle={c}")));
    assert_eq!(plan["appraisals"][0]["score"], Value::Null, "{plan}");
    assert_eq!(plan["appraisals"][0]["kpis"][0]["target"], "100000");
    // Appraised before it starts: zero actuals, no source asked.
    co.agree_and_appraise(c, a);
    let early = ok(co
        .hr
        .get(&format!("/api/v1/plugins/appraisal/results?cycle={c}")));
    let first = &early["appraisals"][0];
    assert_eq!(first["kpis"][0]["actual"], "0", "{early}");
    assert!(
        first["notes"].to_string().contains("not started"),
        "{early}"
    );
    assert_eq!(
        co.ann.get("/api/v1/plugins/appraisal/me").status,
        200,
        "the appraise stage before the start works too"
    );
    // Cancelled: the confirmation says what goes; then the cycle goes with its appraisals.
    let unconfirmed = act(&co.hr, "/cycle", json!({"cycle": c, "op": "delete"}));
    assert_eq!(unconfirmed.status, 409, "{}", unconfirmed.text);
    assert!(
        unconfirmed.text.contains("1 appraisals"),
        "{}",
        unconfirmed.text
    );
    let confirm_page = co.hr.get(&format!(
        "/api/v1/plugins/appraisal/hr?cycle={c}&confirm=delete"
    ));
    assert!(confirm_page
        .text
        .contains("Delete the cycle and its appraisals"));
    assert_eq!(
        act(
            &co.ann,
            "/cycle",
            json!({"cycle": c, "op": "delete", "confirm": "yes"})
        )
        .status,
        403
    );
    let gone = ok(act(
        &co.hr,
        "/cycle",
        json!({"cycle": c, "op": "delete", "confirm": "yes"}),
    ));
    assert_eq!(gone["appraisals"], 1);
    assert!(records(&co.hr, "appraisal", &format!("cycle={c}")).is_empty());
    assert!(records(&co.hr, "appraisal_target", &format!("appraisal={a}")).is_empty());
    assert_eq!(
        co.hr
            .get(&format!("/api/v1/records/appraisal_cycle/{c}"))
            .status,
        404
    );
    // Through the records API too: a planned cycle with appraisals, and one appraisal.
    let (c2, a2) = co.cycle(
        "2999 Q2",
        json!({"period": "quarter", "starts_on": "2999-04-01"}),
    );
    let rec = co.hr.get(&format!("/api/v1/records/appraisal/{a2}")).body;
    let del = co.hr.delete_v(
        &format!("/api/v1/records/appraisal/{a2}"),
        rec["version"].as_i64().unwrap(),
    );
    assert_eq!(
        del.status, 204,
        "an appraisal of a planned cycle: {}",
        del.text
    );
    assert!(records(&co.hr, "appraisal_target", &format!("appraisal={a2}")).is_empty());
    let cyc = co
        .hr
        .get(&format!("/api/v1/records/appraisal_cycle/{c2}"))
        .body;
    ok(act(&co.hr, "/cycle", json!({"cycle": c2, "op": "start"})));
    let del = co.hr.delete_v(
        &format!("/api/v1/records/appraisal_cycle/{c2}"),
        cyc["version"].as_i64().unwrap(),
    );
    assert_eq!(
        del.status, 204,
        "a planned cycle with appraisals: {}",
        del.text
    );
    assert!(records(&co.hr, "appraisal", &format!("cycle={c2}")).is_empty());
}

/// Finding 2: closing the scores needs a confirmation that names what is outstanding, and
/// before the period ends a second, explicit one.
#[test]
fn closing_scores_is_confirmed_and_names_whats_outstanding() {
    let co = company();
    co.kpi("Won revenue", "sales/won_revenue", "100000");
    co.item("Attitude");
    // A period still running (it ends far ahead).
    let (c, a) = co.cycle(
        "Running",
        json!({"period": "year", "starts_on": "2025-01-01", "ends_on": "2999-12-31"}),
    );
    co.agree_and_appraise(c, a);
    let page = co.hr.get(&format!(
        "/api/v1/plugins/appraisal/hr?cycle={c}&confirm=close"
    ));
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("360° ratings outstanding")
            && page.text.contains("lena (Manager)")
            && page.text.contains("name=\"early\""),
        "{}",
        page.text
    );
    let once = act(&co.hr, "/cycle", json!({"cycle": c, "op": "advance"}));
    assert_eq!(once.status, 409, "one click does not close: {}", once.text);
    assert!(
        once.text.contains("confirm") && once.text.contains("ann: lena (manager), ann (self)"),
        "{}",
        once.text
    );
    let confirmed = act(
        &co.hr,
        "/cycle",
        json!({"cycle": c, "op": "advance", "confirm": "yes"}),
    );
    assert_eq!(confirmed.status, 409, "{}", confirmed.text);
    assert!(
        confirmed.text.contains("2999-12-31") && confirmed.text.contains("early=yes"),
        "{}",
        confirmed.text
    );
    assert_eq!(
        co.hr
            .get(&format!("/api/v1/records/appraisal_cycle/{c}"))
            .body["stage"],
        "appraise"
    );
    assert_eq!(
        ok(act(
            &co.hr,
            "/cycle",
            json!({"cycle": c, "op": "advance", "confirm": "yes", "early": "yes"})
        ))["stage"],
        "feedback"
    );
    // A closed cycle is kept.
    let kept = act(
        &co.hr,
        "/cycle",
        json!({"cycle": c, "op": "delete", "confirm": "yes"}),
    );
    assert_eq!(kept.status, 409, "{}", kept.text);
}

/// Finding 4: sales hands over the win rate unrounded; appraisal rounds once.
#[test]
fn win_rate_is_handed_over_unrounded_and_rounded_once() {
    let co = company();
    co.kpi("Win rate", "sales/win_rate", "60");
    let cust = co.ann.create("customer", customer("C"));
    for (stage, amount) in [("won", "100"), ("won", "200"), ("lost", "50")] {
        let mut d = json!({"title": stage, "customer": cust["id"], "stage": stage, "amount": amount,
                           "opened_on": "2025-01-02", "closed_on": "2025-01-10"});
        if stage == "lost" {
            d["lost_reason"] = json!("price");
        }
        co.ann.create("deal", d);
    }
    let rate = co.ann.post(
        "/api/v1/plugins/sales/queries/win_rate",
        &json!({"owner": co.ann_id, "from": "2025-01-01", "to": "2025-01-31"}),
    );
    let v = rate.body["value"].as_f64().unwrap();
    assert!((v - 200.0 / 3.0).abs() < 1e-9, "unrounded: {}", rate.text);
    let (c, a) = co.cycle(
        "2025-01",
        json!({"period": "month", "starts_on": "2025-01-01"}),
    );
    co.agree_and_appraise(c, a);
    let res = ok(co
        .hr
        .get(&format!("/api/v1/plugins/appraisal/results?cycle={c}")));
    let k = &res["appraisals"][0]["kpis"][0];
    assert_eq!(
        (k["actual"].as_str(), k["attainment"].as_str()),
        (Some("66.67"), Some("111.12")),
        "66.67 / 60, not 66.7 / 60 = 111.17: {res}"
    );
}

/// Finding 5: rating fields are keyed by the item's id, in the order HR created the items.
#[test]
fn rating_items_are_keyed_by_id_in_hrs_order() {
    let co = company();
    co.kpi("Won revenue", "sales/won_revenue", "100000");
    let teamwork = co.item("Teamwork");
    let attitude = co.item("Attitude");
    let (c, a) = co.cycle(
        "2025-02",
        json!({"period": "month", "starts_on": "2025-02-01"}),
    );
    co.agree_and_appraise(c, a);
    let form = co.ann.get(&format!(
        "/api/v1/plugins/appraisal/rate?appraisal={a}&group=self"
    ));
    assert_eq!(form.status, 200, "{}", form.text);
    let (t, at) = (
        form.text.find(&format!("name=\"score_{teamwork}\"")),
        form.text.find(&format!("name=\"score_{attitude}\"")),
    );
    assert!(
        t.is_some() && at.is_some() && t < at,
        "HR's order, keyed by id: {}",
        form.text
    );
    ok(act(
        &co.ann,
        "/rate",
        json!({"appraisal": a, "group": "self",
               format!("item_{teamwork}"): "Teamwork", format!("score_{teamwork}"): 5,
               format!("item_{attitude}"): "Attitude", format!("score_{attitude}"): 2}),
    ));
    let given: Vec<(String, i64)> = records(&co.ann, "rating", &format!("appraisal={a}"))
        .iter()
        .map(|r| {
            (
                r["item"].as_str().unwrap().to_string(),
                r["score"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        given,
        vec![("Teamwork".to_string(), 5), ("Attitude".to_string(), 2)]
    );
    let renamed = act(
        &co.ann,
        "/rate",
        json!({"appraisal": a, "group": "self",
               format!("item_{teamwork}"): "Team work", format!("score_{teamwork}"): 5,
               format!("score_{attitude}"): 2}),
    );
    assert_eq!(renamed.status, 409, "{}", renamed.text);
}

/// Finding 6: targets versus actuals is a page (zh/en), with JSON for API clients.
#[test]
fn sales_targets_are_a_page_with_a_chart_and_json_for_api_clients() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "east");
    let c = admin.create("customer", customer("Acme"));
    admin.create("sales_target", json!({"person": amy_id, "period": "month", "starts_on": "2026-01-01", "amount": "800", "owner": amy_id}));
    admin.create(
        "sales_target",
        json!({"team": "east", "period": "quarter", "starts_on": "2026-01-01", "amount": "4000"}),
    );
    admin.create("deal", json!({"title": "W", "customer": c["id"], "stage": "won", "amount": "1000.50", "opened_on": "2026-01-02", "closed_on": "2026-01-10", "owner": amy_id}));
    let page = amy.get("/api/v1/plugins/sales/targets");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(
        page.text.contains("<svg")
            && page.text.contains("Per person")
            && page.text.contains("125.1%")
            && page.text.contains("1000.5")
            && page.text.contains("amy"),
        "{}",
        page.text
    );
    // The administrator sees the team target with the team's figures too.
    let all = admin.get("/api/v1/plugins/sales/targets");
    assert!(
        all.text.contains("Per team") && all.text.contains("25.0%"),
        "{}",
        all.text
    );
    // Scoped: bob sees no target of amy's.
    let other = bob.get("/api/v1/plugins/sales/targets");
    assert!(!other.text.contains("125.1%"), "{}", other.text);
    let zh = s.store.set_user_locale(amy_id, qingguan_core::Locale::ZhCn);
    assert!(zh.is_ok());
    let amy_zh = s.login("amy", qingguan_tests::USER_PASSWORD);
    let zh_page = amy_zh.get("/api/v1/plugins/sales/targets");
    assert!(zh_page.text.contains("按人员"), "{}", zh_page.text);
    let api = amy.send(reqwest::Method::GET, "/api/v1/plugins/sales/targets", |r| {
        r.header("accept", "application/json")
    });
    assert_eq!(api.body[0]["attainment"], 125.1, "{}", api.text);
}
