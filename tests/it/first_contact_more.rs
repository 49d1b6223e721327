//! More findings of the first-contact review of the sales and appraisal plugins, each driven
//! over HTTP: overdue follow-ups computed from their due date (no job needed), marking a deal
//! lost with its reason asked for, HR setting every bonus base of a cycle at once, proposing
//! the cascaded targets as they stand, and the sales dashboard over a chosen period.

use qingguan_core::Access;
use qingguan_tests::{customer, install, Client, Resp, TestServer};
use serde_json::{json, Map, Value};

/// Today (UTC) as days since 1970-01-01.
fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    secs.div_euclid(86_400)
}

/// `YYYY-MM-DD` of a day number.
fn day(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn json_get(c: &Client, path: &str) -> Resp {
    c.send(reqwest::Method::GET, path, |r| {
        r.header("accept", "application/json")
    })
}

fn json_post(c: &Client, path: &str, body: &Value) -> Resp {
    c.send(reqwest::Method::POST, path, |r| {
        r.header("accept", "application/json").json(body)
    })
}

/// POSTs a url-encoded form (as a plugin page's form does) without following the redirect
/// that answers it: `(status, location, body)`.
fn post_form(base: &str, c: &Client, path: &str, body: &str) -> (u16, String, String) {
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{base}{path}"))
        .bearer_auth(c.token.as_deref().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, location, r.text().unwrap_or_default())
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

fn sales_server() -> (TestServer, Client) {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    (s, admin)
}

/// Finding 1: a follow-up whose next step was due yesterday is overdue at once — in the
/// stored flag (list and filter), in the plugin's overdue list and in the dashboard widget —
/// without the hourly job having run.
#[test]
fn overdue_followups_show_at_once_from_their_due_date() {
    let (s, _admin) = sales_server();
    let (amy, _) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "east");
    let c = amy.create("customer", customer("Acme"));
    let t = today();
    let late = amy.create(
        "followup",
        json!({"subject": "Call back about the quote", "kind": "call", "customer": c["id"],
               "happened_on": day(t - 3), "next_on": day(t - 1)}),
    );
    assert_eq!(late["overdue"], true, "overdue when written: {late}");
    let done = amy.create(
        "followup",
        json!({"subject": "Finished", "kind": "call", "customer": c["id"],
               "happened_on": day(t - 3), "next_on": day(t - 1), "done": true}),
    );
    assert_eq!(done["overdue"], false);
    let soon = amy.create(
        "followup",
        json!({"subject": "Later", "kind": "visit", "customer": c["id"], "next_on": day(t + 2)}),
    );
    assert_eq!(soon["overdue"], false);

    let listed = records(&amy, "followup", "overdue=true");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], late["id"]);

    // Computed at read time from the due date.
    let mine = ok(json_get(&amy, "/api/v1/plugins/sales/overdue"));
    let ids: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, vec![&late["id"]], "{mine}");
    // One day late — two if the run crossed midnight since `t`.
    let late_by = mine["items"][0]["days_overdue"].as_i64().unwrap_or(0);
    assert_eq!(late_by, 1 + (today() - t), "{mine}");
    assert!(ok(json_get(&bob, "/api/v1/plugins/sales/overdue"))["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let page = amy.get("/api/v1/plugins/sales/overdue");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("Call back about the quote") && !page.text.contains("Finished"),
        "{}",
        page.text
    );

    // The dashboard widget, in amy's web UI session.
    let login = s.anonymous().post(
        "/api/v1/auth/login",
        &json!({"username": "amy", "password": qingguan_tests::USER_PASSWORD}),
    );
    let cookie = format!("qg_session={}", login.body["token"].as_str().unwrap());
    let home = s
        .anonymous()
        .send(reqwest::Method::GET, "/", |r| r.header("cookie", &cookie));
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(
        home.text.contains("My overdue follow-ups")
            && home.text.contains("Call back about the quote"),
        "{}",
        home.text
    );

    // Postponing the next step clears it at once.
    let moved = amy.patch_v(
        &format!("/api/v1/records/followup/{}", late["id"]),
        late["version"].as_i64().unwrap(),
        &json!({"next_on": day(t + 1)}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["overdue"], false);
    assert!(ok(json_get(&amy, "/api/v1/plugins/sales/overdue"))["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Finding 2: "Mark lost" without a reason says which input it needs (`reason`); a plugin
/// page asks for it and marks the deal lost; a drag to lost names that page.
#[test]
fn marking_a_deal_lost_asks_for_its_reason() {
    let (s, _admin) = sales_server();
    let (amy, _) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "east");
    let c = amy.create("customer", customer("Acme"));
    let d = amy.create(
        "deal",
        json!({"title": "ERP", "customer": c["id"], "stage": "proposal", "amount": "1000"}),
    );
    let id = d["id"].as_i64().unwrap();
    let action = format!("/api/v1/records/deal/{id}/actions/sales/mark_lost");

    let bare = amy.post(&action, &json!({}));
    assert_eq!(bare.error_code(422), "rejected");
    assert!(
        bare.body["error"]["fields"]["reason"].is_string(),
        "{}",
        bare.text
    );
    assert!(
        bare.text.contains(&format!("/p/sales/lose?deal={id}")),
        "{}",
        bare.text
    );
    let bogus = amy.post(&action, &json!({"reason": "weather"}));
    assert_eq!(bogus.error_code(422), "rejected");
    assert!(bogus.body["error"]["fields"]["reason"].is_string());

    // A drag to "lost" on the kanban: the refusal names the page that asks for the reason.
    let drag = amy.patch_v(
        &format!("/api/v1/records/deal/{id}"),
        1,
        &json!({"stage": "lost"}),
    );
    assert_eq!(drag.error_code(422), "rejected");
    assert!(
        drag.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("/p/sales/lose?deal={id}")),
        "{}",
        drag.text
    );

    // The page: a form with the reasons.
    let form = amy.get(&format!("/api/v1/plugins/sales/lose?deal={id}"));
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(
        form.text.contains("name=\"reason\"")
            && form.text.contains("value=\"competitor\"")
            && form.text.contains("ERP")
            && form.text.contains("method=\"post\""),
        "{}",
        form.text
    );
    // Without a deal: a choice of the user's open deals (the menu entry).
    let pick = amy.get("/api/v1/plugins/sales/lose");
    assert_eq!(pick.status, 200, "{}", pick.text);
    assert!(pick.text.contains("name=\"deal\"") && pick.text.contains("ERP"));
    // Another rep cannot see the deal, nor mark it lost.
    assert_eq!(
        bob.get(&format!("/api/v1/plugins/sales/lose?deal={id}"))
            .status,
        404
    );
    assert!(!bob.get("/api/v1/plugins/sales/lose").text.contains("ERP"));
    let theirs = json_post(
        &bob,
        "/api/v1/plugins/sales/lose",
        &json!({"deal": id, "reason": "price"}),
    );
    assert_eq!(theirs.status, 404, "{}", theirs.text);

    // Posting the form without a reason: 422 naming the field, nothing written.
    let (status, _, text) = post_form(
        &s.url,
        &amy,
        "/api/v1/plugins/sales/lose",
        &format!("deal={id}&reason="),
    );
    assert_eq!(status, 422, "{text}");
    assert!(
        text.contains("name=\"reason\"") && text.contains("reason: required"),
        "{text}"
    );
    assert_eq!(
        amy.get(&format!("/api/v1/records/deal/{id}")).body["stage"],
        "proposal"
    );
    // The form: marks it lost, notes the words, and goes back to the page.
    let (status, location, text) = post_form(
        &s.url,
        &amy,
        "/api/v1/plugins/sales/lose",
        &format!("deal={id}&reason=competitor&note=went+with+Acme+Soft"),
    );
    assert_eq!(status, 303, "{text}");
    assert_eq!(location, format!("/lose?deal={id}&done=1"));
    let lost = amy.get(&format!("/api/v1/records/deal/{id}")).body;
    assert_eq!(lost["stage"], "lost");
    assert_eq!(lost["lost_reason"], "competitor");
    assert!(lost["closed_on"].is_string());
    assert!(lost["notes"]
        .as_str()
        .unwrap()
        .contains("went with Acme Soft"));
    let done = amy.get(&format!("/api/v1/plugins/sales/lose?deal={id}&done=1"));
    assert!(
        done.text.contains(&format!("/e/deal/{id}")),
        "{}",
        done.text
    );

    // The action with a reason, and the JSON form for API clients.
    let d2 = amy.create(
        "deal",
        json!({"title": "CRM", "customer": c["id"], "stage": "lead"}),
    );
    let r = ok(amy.post(
        &format!("/api/v1/records/deal/{}/actions/sales/mark_lost", d2["id"]),
        &json!({"reason": "no_budget"}),
    ));
    assert_eq!(r["stage"], "lost");
    let d3 = amy.create(
        "deal",
        json!({"title": "OA", "customer": c["id"], "stage": "lead"}),
    );
    let r = ok(json_post(
        &amy,
        "/api/v1/plugins/sales/lose",
        &json!({"deal": d3["id"], "reason": "price"}),
    ));
    assert_eq!(r["stage"], "lost");
    assert_eq!(r["lost_reason"], "price");
}

/// A small company for the appraisal findings: lena manages ann and ben (sales, north);
/// hilda runs HR.
struct Company {
    _s: TestServer,
    url: String,
    hr: Client,
    lena: Client,
    ann_id: i64,
    ben_id: i64,
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
    let (_ann, ann_id) = s.user("ann", "sales", "north");
    let (_ben, ben_id) = s.user("ben", "sales", "north");
    let (hr, _) = s.user("hilda", "hr", "hq");
    let sys = Access::system();
    for uid in [ann_id, ben_id] {
        let u = s.store.get(&sys, "user", uid).unwrap();
        let mut patch = Map::new();
        patch.insert("manager".into(), json!(lena_id));
        s.store
            .update(&sys, "user", uid, u.version, &patch)
            .unwrap();
    }
    let profile = hr.create(
        "job_profile",
        json!({"name": "Sales rep", "roles": "sales", "kpi_weight": 70}),
    );
    Company {
        url: s.url.clone(),
        _s: s,
        hr,
        lena,
        ann_id,
        ben_id,
        profile,
    }
}

impl Company {
    fn kpi(&self, name: &str, source: &str, target: Value) {
        self.hr.create(
            "kpi",
            json!({"profile": self.profile["id"], "name": name, "weight": 50, "source": source,
                   "rule": "linear", "cap": 150, "default_target": target}),
        );
    }

    /// A started cycle and the appraisals of ann and ben.
    fn cycle(&self) -> (i64, i64, i64) {
        let c = self.hr.create(
            "appraisal_cycle",
            json!({"name": "2026 Q4", "period": "quarter", "starts_on": "2026-10-01"}),
        )["id"]
            .as_i64()
            .unwrap();
        ok(json_post(
            &self.hr,
            "/api/v1/plugins/appraisal/cycle",
            &json!({"cycle": c, "op": "start"}),
        ));
        let of = |p: i64| {
            records(&self.hr, "appraisal", &format!("cycle={c}&person={p}"))[0]["id"]
                .as_i64()
                .unwrap()
        };
        (c, of(self.ann_id), of(self.ben_id))
    }
}

/// Finding 3: HR sets the bonus base of everyone in a cycle in one request (a table form on
/// the HR overview), all or nothing, with a field error per refused row.
#[test]
fn hr_sets_every_bonus_base_of_a_cycle_at_once() {
    let co = company();
    co.kpi("Won revenue", "sales/won_revenue", json!("100000"));
    let (c, a_ann, a_ben) = co.cycle();
    let bases = "/api/v1/plugins/appraisal/bases";
    let base_of =
        |a: i64| co.hr.get(&format!("/api/v1/records/appraisal/{a}")).body["bonus_base"].clone();

    let page = co
        .hr
        .get(&format!("/api/v1/plugins/appraisal/hr?cycle={c}"));
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("action=\"bases\"")
            && page.text.contains(&format!("name=\"bases.{a_ann}\""))
            && page.text.contains(&format!("name=\"bases.{a_ben}\"")),
        "{}",
        page.text
    );

    // One bad row refuses the whole table; every bad row is named.
    let other = co.hr.create(
        "appraisal_cycle",
        json!({"name": "Other", "period": "quarter", "starts_on": "2026-07-01"}),
    )["id"]
        .as_i64()
        .unwrap();
    let bad = json_post(
        &co.hr,
        bases,
        &json!({"cycle": c, "bases": {a_ann.to_string(): "10000", a_ben.to_string(): "lots", "999999": "1"}}),
    );
    assert_eq!(bad.error_code(422), "rejected");
    let fields = &bad.body["error"]["fields"];
    assert!(fields[format!("bases.{a_ben}")].is_string(), "{}", bad.text);
    assert!(fields["bases.999999"].is_string(), "{}", bad.text);
    assert!(
        fields.get(format!("bases.{a_ann}")).is_none(),
        "{}",
        bad.text
    );
    assert!(base_of(a_ann).is_null(), "nothing written");
    let wrong_cycle = json_post(
        &co.hr,
        bases,
        &json!({"cycle": other, "bases": {a_ann.to_string(): "1"}}),
    );
    assert_eq!(wrong_cycle.error_code(422), "rejected");
    assert!(wrong_cycle.body["error"]["fields"][format!("bases.{a_ann}")].is_string());

    // Only HR.
    let manager = json_post(
        &co.lena,
        bases,
        &json!({"cycle": c, "bases": {a_ann.to_string(): "1"}}),
    );
    assert_eq!(manager.status, 403, "{}", manager.text);

    let done = ok(json_post(
        &co.hr,
        bases,
        &json!({"cycle": c, "bases": {a_ann.to_string(): "10000", a_ben.to_string(): 8000.5}}),
    ));
    assert_eq!(done["updated"], 2, "{done}");
    assert_eq!(base_of(a_ann), "10000.00");
    assert_eq!(base_of(a_ben), "8000.50");

    // The page's form: url-encoded, back to the overview; an empty cell clears a base.
    let (status, location, text) = post_form(
        &co.url,
        &co.hr,
        bases,
        &format!("cycle={c}&bases.{a_ann}=12%2C000&bases.{a_ben}="),
    );
    assert_eq!(status, 303, "{text}");
    assert_eq!(location, format!("/hr?cycle={c}"));
    assert_eq!(base_of(a_ann), "12000.00");
    assert!(base_of(a_ben).is_null());
    let (status, _, text) = post_form(
        &co.url,
        &co.hr,
        bases,
        &format!("cycle={c}&bases.{a_ann}=-5"),
    );
    assert_eq!(status, 422, "{text}");
    assert!(
        text.contains(&format!("bases.{a_ann}: must be a number"))
            && text.contains("action=\"bases\""),
        "{text}"
    );
    assert_eq!(base_of(a_ann), "12000.00", "nothing written");
}

/// Finding 4: a manager who accepts the cascaded targets proposes them without resending
/// them; a target still missing is named.
#[test]
fn proposing_without_targets_proposes_the_cascaded_ones() {
    let co = company();
    co.kpi("Won revenue", "sales/won_revenue", json!("100000"));
    co.kpi("Visits", "sales/followups", json!("40"));
    let (_c, a_ann, _a_ben) = co.cycle();
    let proposed = ok(json_post(
        &co.lena,
        "/api/v1/plugins/appraisal/targets",
        &json!({"appraisal": a_ann}),
    ));
    assert_eq!(proposed["status"], "proposed");
    let a = co
        .hr
        .get(&format!("/api/v1/records/appraisal/{a_ann}"))
        .body;
    assert_eq!(a["status"], "proposed");
    let log = a["negotiation"].as_str().unwrap();
    assert!(
        log.contains("Won revenue 100000") && log.contains("Visits 40"),
        "the log names what was proposed: {log}"
    );

    // A KPI without a default target: proposing as is names what is missing.
    let co = company();
    co.kpi("Won revenue", "sales/won_revenue", json!("100000"));
    co.kpi("Quality", "manual", Value::Null);
    let (_c, a_ann, _) = co.cycle();
    let missing = json_post(
        &co.lena,
        "/api/v1/plugins/appraisal/targets",
        &json!({"appraisal": a_ann}),
    );
    assert_eq!(missing.error_code(422), "rejected");
    let quality = records(&co.hr, "appraisal_target", &format!("appraisal={a_ann}"))
        .into_iter()
        .find(|t| t["kpi_name"] == "Quality")
        .unwrap();
    assert!(missing.body["error"]["fields"][format!("target_{}", quality["id"])].is_string());
}

/// Finding 5: the sales dashboard shows a chosen period — a month, quarter or year (of any
/// date) or a custom range — with links on the page; without parameters it is unchanged.
#[test]
fn the_sales_dashboard_shows_a_chosen_period() {
    let (s, admin) = sales_server();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let c = admin.create("customer", customer("Acme"));
    let this_year: i64 = day(today())[..4].parse().unwrap();
    let ly = this_year - 1;
    admin.create(
        "deal",
        json!({"title": "Old win", "customer": c["id"], "stage": "won", "amount": "4321",
               "opened_on": format!("{ly}-01-02"), "closed_on": format!("{ly}-01-15"), "owner": amy_id}),
    );
    let dash = |q: &str| {
        let r = amy.get(&format!("/api/v1/plugins/sales/dashboard{q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        r.text
    };
    let default = dash("");
    assert!(!default.contains("4321"), "{default}");
    assert!(
        default.contains("Ranking this quarter") && default.contains("Won revenue by month"),
        "{default}"
    );
    for p in [
        "period=month",
        "period=quarter",
        "period=year",
        "name=\"from\"",
    ] {
        assert!(default.contains(p), "link {p}: {default}");
    }
    let last_year = dash(&format!("?period=year&at={ly}-06-30"));
    assert!(
        last_year.contains("4321")
            && last_year.contains(&format!("{ly}-01-01"))
            && last_year.contains(&format!("{ly}-12-31")),
        "{last_year}"
    );
    // Previous / next links move by one period.
    assert!(
        last_year.contains(&format!("period=year&amp;at={}-01-01", ly - 1))
            && last_year.contains(&format!("period=year&amp;at={this_year}-01-01")),
        "{last_year}"
    );
    let month = dash(&format!("?period=month&at={ly}-01-20"));
    assert!(month.contains("4321"), "{month}");
    let quarter = dash(&format!("?period=quarter&at={ly}-04-01"));
    assert!(!quarter.contains("4321"), "{quarter}");
    let custom = dash(&format!("?from={ly}-01-10&to={ly}-02-10"));
    assert!(custom.contains("4321"), "{custom}");
    let bad = amy.get("/api/v1/plugins/sales/dashboard?from=2026-02-30x&to=2026-01-01");
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("from"), "{}", bad.text);
}

/// An action that needs input asks for exactly it on the record's page: "Mark lost…" opens a
/// small form with the reason (a choice) and a note, and marks the deal lost with them.
#[test]
fn an_action_asks_for_its_inputs_on_the_record_page() {
    let (s, _admin) = sales_server();
    let (amy, _) = s.user("amy", "sales", "east");
    let c = amy.create("customer", customer("Acme"));
    let d = amy.create(
        "deal",
        json!({"title": "ERP", "customer": c["id"], "stage": "proposal", "amount": "1000"}),
    );
    let id = d["id"].as_i64().unwrap();
    let ui = s.ui_login("amy", qingguan_tests::USER_PASSWORD);
    let page = ui.get(&format!("/e/deal/{id}"), "zh-CN");
    assert!(
        page.text.contains("data-action=\"mark_lost\"")
            && page.text.contains("<select name=\"reason\" required>")
            && page.text.contains("竞争对手"),
        "{}",
        page.text
    );
    let path = format!("/e/deal/{id}/action/sales/mark_lost");
    let without = ui.post(&path, "zh-CN", &[]);
    assert_eq!(without.status, 422, "{}", without.text);
    let done = ui.post(
        &path,
        "zh-CN",
        &[
            ("reason", "competitor"),
            ("note", "对手降价"),
            ("stage", "won"),
        ],
    );
    assert_eq!(done.status, 200, "{}", done.text);
    let deal = amy.get(&format!("/api/v1/records/deal/{id}")).body;
    assert_eq!(deal["stage"], "lost", "{deal}");
    assert_eq!(deal["lost_reason"], "competitor");
}
