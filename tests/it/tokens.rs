//! API tokens: scoped to entity types and read or write, never more than their user may do,
//! expiring, revocable at once, shown once, listed without their secret — and no way to mint
//! or manage tokens with a token.

use qingguan_tests::{customer, Client, TestServer};
use serde_json::json;

fn with_token(s: &TestServer, secret: &str) -> Client {
    let mut c = s.anonymous();
    c.token = Some(secret.to_string());
    c
}

#[test]
fn a_token_does_what_its_scopes_and_its_user_allow_and_stops_when_revoked() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let mine = amy.create("customer", customer("Amy's"));
    admin.create("customer", customer("Not Amy's"));

    // Issued from a session: the secret once, then never again.
    let issued = amy.post(
        "/api/v1/tokens",
        &json!({"name": "nightly sync", "scopes": ["customer:read", "contact:write"], "days": 30}),
    );
    assert_eq!(issued.status, 201, "{}", issued.text);
    let secret = issued.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("qgt_") && secret.len() > 40);
    assert_eq!(issued.body["token"]["kind"], "personal");
    let id = issued.body["token"]["id"].as_i64().unwrap();
    let listed = amy.get("/api/v1/tokens");
    assert!(
        !listed.text.contains(&secret),
        "never listed: {}",
        listed.text
    );
    assert_eq!(listed.body["items"][0]["name"], "nightly sync");
    assert!(listed.body["items"][0]["last_used_at"].is_null());

    let t = with_token(&s, &secret);
    let read = t.get("/api/v1/records/customer");
    assert_eq!(read.status, 200, "{}", read.text);
    let items = read.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "amy's scope, not more: {}", read.text);
    assert_eq!(items[0]["id"], mine["id"]);
    assert_eq!(
        t.post("/api/v1/records/customer", &customer("x")).status,
        403,
        "read only"
    );
    let contact = t.post(
        "/api/v1/records/contact",
        &json!({"name": "王五", "customer": mine["id"]}),
    );
    assert_eq!(contact.status, 201, "contact:write: {}", contact.text);
    assert_eq!(contact.body["owner"], amy_id);
    assert_eq!(
        t.get("/api/v1/records/deal").status,
        404,
        "no such type without plugins"
    );
    assert!(amy.get("/api/v1/tokens").body["items"][0]["last_used_at"].is_string());

    // A token cannot mint or manage tokens.
    let minted = t.post(
        "/api/v1/tokens",
        &json!({"name": "more", "scopes": ["*:write"]}),
    );
    assert_eq!(minted.error_code(403), "forbidden");
    assert_eq!(t.get("/api/v1/tokens").status, 403);

    // Revoked: refused at once, as an unknown token is.
    let revoke = amy.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        |r| r,
    );
    assert_eq!(revoke.status, 204, "{}", revoke.text);
    assert_eq!(
        t.get("/api/v1/records/customer").error_code(401),
        "unauthenticated"
    );
    assert_eq!(
        with_token(&s, "qgt_made_up")
            .get("/api/v1/records/customer")
            .status,
        401
    );
    // A token is no session cookie.
    let as_cookie = s
        .anonymous()
        .send(reqwest::Method::GET, "/api/v1/records/customer", |r| {
            r.header("cookie", format!("qg_session={secret}"))
        });
    assert_eq!(as_cookie.status, 401);
}

#[test]
fn administration_needs_the_admin_scope_and_service_tokens_come_from_administrators() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, _) = s.user("amy", "sales", "east");
    let (_sync, sync_id) = s.user("erp-sync", "manager", "east");

    // An administrator's token without `admin` is no administrator.
    let plain = admin.post(
        "/api/v1/tokens",
        &json!({"name": "reports", "scopes": ["*:read"]}),
    );
    let t = with_token(&s, plain.body["secret"].as_str().unwrap());
    assert_eq!(t.get("/api/v1/records/customer").status, 200);
    assert_eq!(
        t.get("/api/v1/workflows").status,
        403,
        "administrators only"
    );
    assert_eq!(
        t.post("/api/v1/records/customer", &customer("x")).status,
        403
    );
    let full = admin.post(
        "/api/v1/tokens",
        &json!({"name": "ops", "scopes": ["admin", "*:write"]}),
    );
    let ops = with_token(&s, full.body["secret"].as_str().unwrap());
    assert_eq!(ops.get("/api/v1/workflows").status, 200);

    // A service token for an integration user, issued by the administrator.
    let service = admin.post(
        "/api/v1/tokens",
        &json!({"name": "ERP", "scopes": ["customer:write"], "user_id": sync_id, "days": 365}),
    );
    assert_eq!(service.status, 201, "{}", service.text);
    assert_eq!(service.body["token"]["kind"], "service");
    let erp = with_token(&s, service.body["secret"].as_str().unwrap());
    let created = erp.post("/api/v1/records/customer", &customer("From ERP"));
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["created_by"], sync_id);

    // A rep issues only their own, with no admin scope; bad requests say which part is wrong.
    let theirs = amy.post(
        "/api/v1/tokens",
        &json!({"name": "x", "scopes": ["*:read"], "user_id": sync_id}),
    );
    assert_eq!(theirs.error_code(403), "forbidden");
    let bad = amy.post(
        "/api/v1/tokens",
        &json!({"name": "", "scopes": ["admin", "nothing:read", "customer:all"], "days": 5000}),
    );
    assert_eq!(bad.error_code(422), "validation_failed");
    for f in ["name", "scopes", "days"] {
        assert!(
            bad.body["error"]["fields"][f].is_string(),
            "{f}: {}",
            bad.text
        );
    }
    // Amy cannot revoke the administrator's token, nor see it.
    let admin_token = plain.body["token"]["id"].as_i64().unwrap();
    let r = amy.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/tokens/{admin_token}"),
        |r| r,
    );
    assert_eq!(r.status, 404);
    assert!(amy.get("/api/v1/tokens").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(t.get("/api/v1/records/customer").status, 200, "still valid");
}

#[test]
fn an_expired_token_is_refused() {
    let s = TestServer::start();
    let admin = s.admin();
    let issued = admin.post(
        "/api/v1/tokens",
        &json!({"name": "short", "scopes": ["*:read"], "days": 1}),
    );
    let secret = issued.body["secret"].as_str().unwrap().to_string();
    let id = issued.body["token"]["id"].as_i64().unwrap();
    // Time passes: the token's expiry moved into the past, as a day later it would be.
    s.execute_sql(
        "UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE id = ?1",
        &[id.into()],
    );
    assert_eq!(
        with_token(&s, &secret)
            .get("/api/v1/records/customer")
            .status,
        401
    );
}

#[test]
fn a_person_creates_and_revokes_a_token_in_the_web_ui() {
    let s = TestServer::start();
    let (amy, _) = s.user("amy", "sales", "east");
    amy.create("customer", customer("Amy's"));
    let ui = s.ui_login("amy", qingguan_tests::USER_PASSWORD);
    let page = ui.get("/tokens", "zh-CN");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("API 令牌") && page.text.contains("name=\"scope.customer\""),
        "{}",
        page.text
    );
    let created = ui.post(
        "/tokens",
        "zh-CN",
        &[
            ("name", "报表脚本"),
            ("days", "30"),
            ("scope.customer", "read"),
            ("scope.contact", ""),
        ],
    );
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.text.contains("只显示这一次"), "{}", created.text);
    let secret = created
        .text
        .split("data-secret>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret, once")
        .to_string();
    let t = with_token(&s, &secret);
    assert_eq!(t.get("/api/v1/records/customer").status, 200);
    assert_eq!(t.get("/api/v1/records/contact").status, 403);
    let again = ui.get("/tokens", "zh-CN");
    assert!(!again.text.contains(&secret), "shown once only");
    assert!(
        again.text.contains("报表脚本") && again.text.contains("customer:read"),
        "{}",
        again.text
    );
    let bad = ui.post("/tokens", "zh-CN", &[("name", "nothing"), ("days", "30")]);
    assert_eq!(bad.status, 422, "no scope: {}", bad.text);
    assert!(bad.text.contains("必填"), "{}", bad.text);

    let id = amy.get("/api/v1/tokens").body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let revoked = ui.post(&format!("/tokens/{id}/revoke"), "zh-CN", &[]);
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert!(revoked.text.contains("已吊销"), "{}", revoked.text);
    assert_eq!(t.get("/api/v1/records/customer").status, 401);
}

#[test]
fn a_token_never_manages_its_account_decides_approvals_or_runs_plugins_without_leave() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let issued = amy.post(
        "/api/v1/tokens",
        &json!({"name": "ro", "scopes": ["customer:read"]}),
    );
    let secret = issued.body["secret"].as_str().unwrap().to_string();
    let t = with_token(&s, &secret);
    for (method, path, body) in [
        (
            "POST",
            "/api/v1/approvals/1/decision".to_string(),
            json!({"decision": "approve"}),
        ),
        (
            "PUT",
            "/api/v1/approvals/delegation".to_string(),
            json!({"delegate": 1, "until": "2027-01-01"}),
        ),
        ("POST", "/api/v1/notifications/read".to_string(), json!({})),
        (
            "PUT",
            "/api/v1/notifications/choices".to_string(),
            json!({"approvals": "off"}),
        ),
        ("POST", "/api/v1/auth/logout".to_string(), json!({})),
        (
            "POST",
            format!("/api/v1/users/{amy_id}/password"),
            json!({"password": "pwned12345!", "current_password": qingguan_tests::USER_PASSWORD}),
        ),
        (
            "POST",
            "/api/v1/plugins/appraisal/rate".to_string(),
            json!({}),
        ),
        (
            "POST",
            "/api/v1/plugins/sales/queries/won_revenue".to_string(),
            json!({}),
        ),
        (
            "POST",
            "/api/v1/records/deal/1/actions/sales/mark_won".to_string(),
            json!({}),
        ),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = t.send(m, &path, |r| r.json(&body));
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
    }
    assert_eq!(
        t.get("/api/v1/auth/me").status,
        200,
        "reading who it is, is fine"
    );
    assert_eq!(t.get("/api/v1/notifications").status, 200);

    // A token used as a session cookie is refused, even right after it was used as a token.
    assert_eq!(t.get("/api/v1/records/customer").status, 200);
    let as_cookie = s
        .anonymous()
        .send(reqwest::Method::POST, "/api/v1/notifications/read", |r| {
            r.header("cookie", format!("qg_session={secret}"))
                .header("x-csrf-token", "")
        });
    assert_eq!(as_cookie.status, 401, "{}", as_cookie.text);

    // Writing users is administration, whatever else a token may write.
    let all = admin.post(
        "/api/v1/tokens",
        &json!({"name": "w", "scopes": ["*:write"]}),
    );
    let w = with_token(&s, all.body["secret"].as_str().unwrap());
    let amy_rec = admin.get(&format!("/api/v1/records/user/{amy_id}")).body;
    let v = amy_rec["version"].as_i64().unwrap();
    let r = w.patch_v(
        &format!("/api/v1/records/user/{amy_id}"),
        v,
        &json!({"active": false}),
    );
    assert_eq!(r.status, 403, "{}", r.text);

    // A name must read as it is.
    let bidi = amy.post(
        "/api/v1/tokens",
        &json!({"name": "evil\u{202e}gpj", "scopes": ["customer:read"]}),
    );
    assert_eq!(bidi.error_code(422), "validation_failed");

    // A password reset revokes the user's tokens: whoever took the account may hold one.
    let reset = admin.post(
        &format!("/api/v1/users/{amy_id}/password"),
        &json!({"password": "new-password-1"}),
    );
    assert_eq!(reset.status, 204, "{}", reset.text);
    assert_eq!(t.get("/api/v1/records/customer").status, 401);
}
