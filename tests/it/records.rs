//! Creating, reading, updating and deleting records, versions and history.

use qingguan_tests::{customer, TestServer};
use serde_json::json;

#[test]
fn crud_with_versions_and_history() {
    let s = TestServer::start();
    let c = s.admin();
    let r = c.post(
        "/api/v1/records/customer",
        &json!({
            "name": "杭州恒信科技有限公司", "kind": "company", "status": "lead",
            "tags": ["vip"], "email": "info@hengxin.example", "website": "https://hengxin.example"
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""));
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/records/customer/{id}")
    );
    assert_eq!(r.body["version"], 1);
    assert!(r.body["owner"].is_i64());

    let path = format!("/api/v1/records/customer/{id}");
    let got = c.get(&path);
    assert_eq!(got.body["name"], "杭州恒信科技有限公司");
    assert_eq!(got.body["tags"], json!(["vip"]));

    assert_eq!(
        c.patch(&path, &json!({"status": "customer"}))
            .error_code(400),
        "bad_request"
    );
    let up = c.patch_v(
        &path,
        1,
        &json!({"status": "customer", "phone": "+86 571 8888 0000"}),
    );
    assert_eq!(up.status, 200, "{}", up.text);
    assert_eq!(up.body["version"], 2);
    assert_eq!(up.header("etag").as_deref(), Some("\"2\""));
    let stale = c.patch_v(&path, 1, &json!({"status": "inactive"}));
    assert_eq!(stale.error_code(409), "stale_version");
    assert_eq!(
        c.get(&path).body["status"],
        "customer",
        "the stale write changed nothing"
    );

    let h = c.get(&format!("{path}/history"));
    let items = h.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "create");
    assert_eq!(items[1]["changes"]["status"], json!(["lead", "customer"]));
    assert_eq!(
        items[1]["changes"]["phone"],
        json!([null, "+86 571 8888 0000"])
    );
    assert!(items[1]["user_id"].is_i64());

    assert_eq!(c.delete_v(&path, 1).error_code(409), "stale_version");
    assert_eq!(c.delete_v(&path, 2).status, 204);
    assert_eq!(c.get(&path).error_code(404), "not_found");
    let h = c.get(&format!("{path}/history"));
    assert_eq!(
        h.body["items"].as_array().unwrap().len(),
        3,
        "history outlives the record"
    );
}

#[test]
fn contacts_reference_customers_and_protect_them() {
    let s = TestServer::start();
    let c = s.admin();
    let cust = c.create("customer", customer("Acme"));
    let cid = cust["id"].as_i64().unwrap();
    let contact = c.create(
        "contact",
        json!({"name": "Zhang Wei", "customer": cid, "title": "CEO"}),
    );
    let dangling = c.post(
        "/api/v1/records/contact",
        &json!({"name": "Nobody", "customer": 9999}),
    );
    assert_eq!(dangling.error_code(422), "validation_failed");
    assert!(dangling.body["error"]["fields"]["customer"]
        .as_str()
        .unwrap()
        .contains("9999"));
    let del = c.delete_v(&format!("/api/v1/records/customer/{cid}"), 1);
    assert_eq!(del.error_code(409), "conflict");
    assert!(del.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("contact"));
    let list = c.get(&format!("/api/v1/records/contact?customer={cid}"));
    assert_eq!(list.body["items"][0]["id"], contact["id"]);
}

#[test]
fn search_finds_chinese_and_latin_text() {
    let s = TestServer::start();
    let c = s.admin();
    c.create("customer", customer("杭州恒信科技有限公司"));
    c.create("customer", customer("Northwind Trading"));
    let cid = c.create("customer", customer("Other"))["id"]
        .as_i64()
        .unwrap();
    c.create("contact", json!({"name": "王芳", "customer": cid}));
    let hit = |q: &str| {
        let r = c.get(&format!("/api/v1/search?q={q}"));
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(hit("恒信"), vec!["杭州恒信科技有限公司"]);
    assert_eq!(hit("north"), vec!["Northwind Trading"]);
    assert_eq!(hit("王芳"), vec!["王芳"]);
    assert!(
        hit("信恒").is_empty(),
        "characters must be adjacent and in order"
    );
    assert_eq!(c.get("/api/v1/search?q=").error_code(400), "bad_request");
    let within = c.get("/api/v1/records/customer?q=northwind");
    assert_eq!(within.body["items"].as_array().unwrap().len(), 1);
}

#[test]
fn every_response_carries_a_distinct_request_id() {
    let s = qingguan_tests::TestServer::start();
    let admin = s.admin();
    let a = admin
        .get("/api/v1/records/customer")
        .header("x-request-id")
        .expect("id");
    let b = admin
        .get("/api/v1/nope")
        .header("x-request-id")
        .expect("id on errors too");
    assert_ne!(a, b);
    // Outside the API too: a page of the UI, and a path nothing serves.
    let page = admin.get("/login");
    assert_eq!(page.status, 200, "{}", page.text);
    let c = page.header("x-request-id").expect("id on the UI's pages");
    let none = admin.get("/no-such-page");
    assert_eq!(none.status, 404, "{}", none.text);
    let d = none.header("x-request-id").expect("id on the fallback");
    let ids = [&a, &b, &c, &d];
    for (i, x) in ids.iter().enumerate() {
        assert!(ids[i + 1..].iter().all(|y| y != x), "{ids:?}");
    }
    let sent = admin.send(reqwest::Method::GET, "/api/v1/records/customer", |r| {
        r.header("x-request-id", "trace-7")
    });
    assert_eq!(
        sent.header("x-request-id").as_deref(),
        Some("trace-7"),
        "a caller's id is kept"
    );
}

/// The API's routes answer at their whole paths; a path under `/api/v1` that none serves gets
/// the API's JSON 404, whatever its depth or method, and one outside the API the application's.
#[test]
fn paths_under_the_api_that_nothing_serves_get_the_apis_not_found() {
    let s = qingguan_tests::TestServer::start();
    let admin = s.admin();
    let made = admin.create("customer", json!({"name": "Routed"}));
    let path = format!("/api/v1/records/customer/{}", made["id"]);
    assert_eq!(admin.get(&path).body["name"], "Routed");
    for nothing in [
        "/api/v1",
        "/api/v1/nope",
        "/api/v1/records/customer/1/no/such/thing",
        "/api/v1/openapi.json/x",
    ] {
        let r = admin.get(nothing);
        assert_eq!(r.error_code(404), "not_found", "{nothing}");
        assert_eq!(
            r.body["error"]["message"], "no such API endpoint",
            "{nothing}"
        );
    }
    let r = admin.send(reqwest::Method::DELETE, "/api/v1/nope", |r| r);
    assert_eq!(r.error_code(404), "not_found");
    assert_eq!(r.body["error"]["message"], "no such API endpoint");
    // A route that does not take the method says which it takes.
    let r = admin.send(reqwest::Method::PUT, "/api/v1/records/customer", |r| r);
    assert_eq!(r.status, 405, "{}", r.text);
    let allowed = r.header("allow").expect("Allow");
    assert!(
        allowed.contains("GET") && allowed.contains("POST"),
        "{allowed}"
    );
    // Outside the API: the application's own 404, not the API's.
    let r = admin.get("/apix/v1/nope");
    assert_eq!(r.error_code(404), "not_found");
    assert_eq!(r.body["error"]["message"], "no such page");
}

/// A customer made with only a name — by a rep through the API, or by an integration — is a
/// company lead: the required kind and status have defaults on every path. An explicit value
/// wins, and a wrong one is still refused.
#[test]
fn a_customer_with_only_a_name_is_a_company_lead() {
    let s = TestServer::start();
    let (amy, _) = s.user("amy", "sales", "east");
    let c = amy.create("customer", json!({"name": "杭州恒信科技"}));
    assert_eq!(
        (&c["kind"], &c["status"]),
        (&json!("company"), &json!("lead")),
        "{c}"
    );
    let p = amy.create(
        "customer",
        json!({"name": "王先生", "kind": "person", "status": "customer"}),
    );
    assert_eq!(
        (&p["kind"], &p["status"]),
        (&json!("person"), &json!("customer"))
    );
    let bad = amy.post(
        "/api/v1/records/customer",
        &json!({"name": "x", "kind": "planet"}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(
        bad.body["error"]["fields"]["kind"].is_string(),
        "{}",
        bad.text
    );
}
