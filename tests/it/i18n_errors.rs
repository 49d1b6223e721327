//! Field errors reach each user in their language: the core gives reasons as codes with
//! parameters, and the API and the UI render them per locale (the walk over every code in
//! both locales is the core's unit test `reason::tests`).

use qingguan_tests::{TestServer, USER_PASSWORD};
use serde_json::json;

#[test]
fn api_and_ui_field_errors_come_in_the_callers_language() {
    let s = TestServer::start();
    let admin = s.admin();
    let score = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "score", "type": "integer", "label": {"en": "Score", "zh-CN": "评分"},
                "min": 0, "max": 100}),
    );
    assert_eq!(score.status, 201, "{}", score.text);
    let (rep, _) = s.user("li", "sales", "east");
    let bad = json!({"name": "Acme", "kind": "company", "status": "lead", "score": 500});
    let bad_email = json!({"name": "Acme", "kind": "company", "status": "lead", "email": "nope"});

    let en = rep.post("/api/v1/records/customer", &bad);
    assert_eq!(en.error_code(422), "validation_failed");
    assert_eq!(en.body["error"]["fields"]["score"], "must be at most 100");

    let chosen = rep.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}));
    assert_eq!(chosen.status, 200, "{}", chosen.text);
    let zh = rep.post("/api/v1/records/customer", &bad);
    assert_eq!(zh.error_code(422), "validation_failed");
    assert_eq!(
        zh.body["error"]["fields"]["score"], "不能大于 100",
        "{}",
        zh.text
    );
    let zh = rep.post("/api/v1/records/customer", &bad_email);
    assert_eq!(zh.body["error"]["fields"]["email"], "必须是有效的邮箱地址");
    // Another user's language is their own.
    let en = admin.post("/api/v1/records/customer", &bad);
    assert_eq!(en.body["error"]["fields"]["score"], "must be at most 100");
    assert_eq!(
        admin.get("/api/v1/records/customer").body["items"],
        json!([]),
        "nothing was written"
    );

    // The same reason in the web UI's form, for the Chinese user.
    let login = s.anonymous().post(
        "/api/v1/auth/login",
        &json!({"username": "li", "password": USER_PASSWORD}),
    );
    let cookie = format!("qg_session={}", login.body["token"].as_str().unwrap());
    let csrf = login.body["csrf_token"].as_str().unwrap().to_string();
    let page = rep.send(reqwest::Method::POST, "/e/customer/new", |r| {
        r.header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "csrf={csrf}&name=Acme&kind=company&status=lead&score=500"
            ))
    });
    assert_eq!(page.status, 422, "{}", page.text);
    assert!(page.text.contains("不能大于 100"), "{}", page.text);
    assert!(!page.text.contains("must be at most"), "{}", page.text);
}
