//! Bad input of every kind gets a JSON error with the right 4xx status and writes nothing.

use qingguan::Config;
use qingguan_tests::{customer, Client, TestServer};
use serde_json::{json, Value};

fn count(c: &Client, entity: &str) -> usize {
    let r = c.get(&format!("/api/v1/records/{entity}?limit=200"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().unwrap().len()
}

fn raw_post(
    c: &Client,
    path: &str,
    body: &'static str,
    content_type: &str,
) -> qingguan_tests::Resp {
    let ct = content_type.to_string();
    c.send(reqwest::Method::POST, path, move |r| {
        r.header("content-type", ct).body(body)
    })
}

#[test]
fn malformed_and_mistyped_bodies() {
    let s = TestServer::start();
    let c = s.admin();
    let p = "/api/v1/records/customer";
    assert_eq!(
        raw_post(&c, p, "{\"name\": ", "application/json").error_code(400),
        "malformed_json"
    );
    assert_eq!(
        raw_post(&c, p, "name=x", "application/x-www-form-urlencoded").error_code(400),
        "content_type"
    );
    assert_eq!(
        raw_post(&c, p, "[1, 2]", "application/json").error_code(422),
        "invalid_body"
    );
    assert_eq!(
        raw_post(&c, p, "\"text\"", "application/json").error_code(422),
        "invalid_body"
    );

    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"name": 42, "kind": "company", "status": "lead"}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "robot", "status": "lead"}),
            "kind",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "nope": 1}),
            "nope",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "tags": ["gold"]}),
            "tags",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "tags": "vip"}),
            "tags",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "email": "not-an-email"}),
            "email",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "website": "javascript:alert(1)"}),
            "website",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "phone": "call me"}),
            "phone",
        ),
        (
            json!({"name": "x".repeat(501), "kind": "company", "status": "lead"}),
            "name",
        ),
        (json!({"kind": "company", "status": "lead"}), "name"),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "id": 5}),
            "id",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "version": 5}),
            "version",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "owner": "me"}),
            "owner",
        ),
        (
            json!({"name": "x", "kind": "company", "status": "lead", "owner": 999}),
            "owner",
        ),
        (
            json!({"name": "nul\u{0}byte", "kind": "company", "status": "lead"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let r = c.post(p, &body);
        assert_eq!(r.error_code(422), "validation_failed", "{body}");
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "no message for {field}: {}",
            r.text
        );
    }
    assert_eq!(count(&c, "customer"), 0, "nothing was written");

    let ok = c.create("customer", customer("Acme"));
    let path = format!("{p}/{}", ok["id"]);
    let bad = c.patch_v(&path, 1, &json!({"status": "gone", "name": "Renamed"}));
    assert_eq!(bad.error_code(422), "validation_failed");
    let after = c.get(&path);
    assert_eq!(after.body["name"], "Acme", "no partial update");
    assert_eq!(after.body["version"], 1);
    assert_eq!(
        c.patch_v(&path, 1, &json!({"name": null})).error_code(422),
        "validation_failed"
    );
    let r = c.send(reqwest::Method::PATCH, &path, |r| {
        r.header("If-Match", "soon").json(&json!({}))
    });
    assert_eq!(r.error_code(400), "bad_request");
    assert_eq!(
        c.get("/api/v1/records/customer/abc").error_code(400),
        "bad_request"
    );
    assert_eq!(
        c.get("/api/v1/records/customer/999").error_code(404),
        "not_found"
    );
    assert_eq!(
        c.get("/api/v1/records/nothing").error_code(404),
        "not_found"
    );
    assert_eq!(
        c.post("/api/v1/records/nothing", &json!({}))
            .error_code(404),
        "not_found"
    );
    assert_eq!(
        c.get("/api/v1/no/such/endpoint").error_code(404),
        "not_found"
    );
    assert_eq!(
        c.post("/api/v1/records/user", &json!({"username": "x"}))
            .error_code(403),
        "forbidden"
    );
}

#[test]
fn oversize_bodies_are_refused() {
    let s = TestServer::start_with(Config {
        body_limit: 64 * 1024,
        ..Config::default()
    });
    let c = s.admin();
    let notes = "长".repeat(40_000);
    let r = c.post(
        "/api/v1/records/customer",
        &json!({"name": "Big", "kind": "company", "status": "lead", "notes": notes}),
    );
    assert_eq!(r.error_code(413), "body_too_large");
    assert_eq!(count(&c, "customer"), 0);
}

#[test]
fn hostile_strings_are_data() {
    let s = TestServer::start();
    let c = s.admin();
    let names = [
        "Robert'); DROP TABLE r_customer;--",
        "\" OR 1=1 --",
        "<script>alert('x')</script>",
        "emoji 🚀🇨🇳 and RTL مرحبا",
        "ﾃｽﾄ ｶﾀｶﾅ and combining é",
        "%_\\ like wildcards",
    ];
    for n in names {
        let r = c.create("customer", customer(n));
        assert_eq!(r["name"], n);
        let back = c.get(&format!("/api/v1/records/customer/{}", r["id"]));
        assert_eq!(back.body["name"], n);
    }
    assert_eq!(count(&c, "customer"), names.len(), "the table survived");
    let like = c.get("/api/v1/records/customer?name[contains]=%25_%5C");
    assert_eq!(
        like.body["items"].as_array().unwrap().len(),
        1,
        "LIKE wildcards are escaped: {}",
        like.text
    );
    let search = c.get("/api/v1/search?q=%22%20OR%201%3D1%20--");
    assert_eq!(search.status, 200, "{}", search.text);
    let emoji = c.get("/api/v1/search?q=%D9%85%D8%B1%D8%AD%D8%A8%D8%A7");
    assert_eq!(
        emoji.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        emoji.text
    );
}

#[test]
fn bad_queries_are_400() {
    let s = TestServer::start();
    let c = s.admin();
    c.create("customer", customer("Acme"));
    for (q, param) in [
        ("nope=1", "nope"),
        ("name[like]=x", "name[like]"),
        ("status=gone", "status"),
        ("created_at[gte]=yesterday", "created_at[gte]"),
        ("sort=-nope", "sort"),
        ("sort=tags", "sort"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("cursor=!!!", "cursor"),
        ("tags=vip", "tags"),
        ("name[null]=maybe", "name[null]"),
        ("kind[lt]=x", "kind[lt]"),
    ] {
        let r = c.get(&format!("/api/v1/records/customer?{q}"));
        assert_eq!(r.error_code(400), "bad_request", "{q}");
        assert!(
            r.body["error"]["fields"][param].is_string(),
            "{q}: {}",
            r.text
        );
    }
    let page = c.get("/api/v1/records/customer?limit=1&sort=name");
    let cursor = page.body["next_cursor"].as_str().map(String::from);
    assert!(cursor.is_none(), "one record, one page");
    let two = c.create("customer", customer("Beta"));
    assert!(two["id"].is_i64());
    let page = c.get("/api/v1/records/customer?limit=1&sort=name");
    let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
    let other_sort = c.get(&format!(
        "/api/v1/records/customer?limit=1&sort=-name&cursor={cursor}"
    ));
    assert_eq!(other_sort.error_code(400), "bad_request");
    // A forged cursor whose value is not of the sort column's kind is refused, not compared
    // (PostgreSQL could not compare it at all).
    for (sort, v) in [("name", json!(5)), ("owner", json!("abc"))] {
        use base64::Engine;
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"s": sort, "v": v, "i": 1}).to_string());
        let r = c.get(&format!(
            "/api/v1/records/customer?limit=1&sort={sort}&cursor={forged}"
        ));
        assert_eq!(r.error_code(400), "bad_request", "{sort}: {}", r.text);
    }
    // A NUL in a filter is refused (no stored text holds one; PostgreSQL could not compare it).
    for q in ["name[contains]=a%00", "name=%00", "status[in]=lead,%00"] {
        let nul = c.get(&format!("/api/v1/records/customer?{q}"));
        assert_eq!(nul.error_code(400), "bad_request", "{q}: {}", nul.text);
    }
}
