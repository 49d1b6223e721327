//! Logging in, sessions, cookies, CSRF.

use qingguan_tests::{customer, TestServer, ADMIN_PASSWORD};
use serde_json::json;

#[test]
fn health_and_openapi_need_no_login() {
    let s = TestServer::start();
    let c = s.anonymous();
    let h = c.get("/api/v1/health");
    assert_eq!(h.status, 200);
    assert_eq!(h.body["status"], "ok");
    let doc = c.get("/api/v1/openapi.json");
    assert_eq!(doc.status, 200);
    for path in [
        "/records/{entity}",
        "/records/{entity}/{id}",
        "/auth/login",
        "/search",
        "/entities/{entity}/fields",
    ] {
        assert!(doc.body["paths"][path].is_object(), "openapi lacks {path}");
    }
    assert!(doc.body["paths"]["/records/{entity}/{id}"]["patch"].is_object());
    // Paths are relative to the document's one server, the API's prefix.
    assert_eq!(doc.body["servers"][0]["url"], "/api/v1");
    let paths = doc.body["paths"].as_object().expect("paths");
    assert!(paths.len() > 50, "{}", paths.len());
    assert!(
        paths
            .keys()
            .all(|p| p.starts_with('/') && !p.starts_with("/api/")),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    let cust = &doc.body["components"]["schemas"]["record.customer"];
    assert_eq!(
        cust["properties"]["status"]["enum"],
        json!(["lead", "customer", "inactive"])
    );
}

#[test]
fn login_logout_and_me() {
    let s = TestServer::start();
    let anon = s.anonymous();
    assert_eq!(
        anon.get("/api/v1/records/customer").error_code(401),
        "unauthenticated"
    );
    let bad = anon.post(
        "/api/v1/auth/login",
        &json!({"username": "admin", "password": "nope"}),
    );
    assert_eq!(bad.error_code(401), "unauthenticated");
    let ghost = anon.post(
        "/api/v1/auth/login",
        &json!({"username": "ghost", "password": "nope"}),
    );
    assert_eq!(
        ghost.body["error"]["message"], bad.body["error"]["message"],
        "no user enumeration"
    );
    let missing = anon.post("/api/v1/auth/login", &json!({"username": "admin"}));
    assert_eq!(missing.error_code(422), "invalid_body");

    let ok = anon.post(
        "/api/v1/auth/login",
        &json!({"username": "admin", "password": ADMIN_PASSWORD}),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    let cookie = ok.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(ok.body["csrf_token"].as_str().unwrap().len() > 20);
    assert_eq!(ok.body["user"]["admin"], true);

    let admin = s.admin();
    let me = admin.get("/api/v1/auth/me");
    assert_eq!(me.body["username"], "admin");
    assert_eq!(me.body["permissions"]["customer"]["delete"], true);
    let loc = admin.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}));
    assert_eq!(loc.body["locale"], "zh-CN", "{}", loc.text);
    assert_eq!(
        admin
            .patch("/api/v1/auth/me", &json!({"locale": "fr"}))
            .error_code(422),
        "validation_failed"
    );
    assert_eq!(admin.post("/api/v1/auth/logout", &json!({})).status, 204);
    assert_eq!(
        admin.get("/api/v1/auth/me").error_code(401),
        "unauthenticated"
    );
}

#[test]
fn cookie_sessions_need_the_csrf_token_to_change_things() {
    let s = TestServer::start();
    let anon = s.anonymous();
    let ok = anon.post(
        "/api/v1/auth/login",
        &json!({"username": "admin", "password": ADMIN_PASSWORD}),
    );
    let cookie = ok.header("set-cookie").unwrap();
    let session = cookie.split(';').next().unwrap().to_string();
    let csrf = ok.body["csrf_token"].as_str().unwrap().to_string();
    let read = anon.send(reqwest::Method::GET, "/api/v1/auth/me", |r| {
        r.header("cookie", &session)
    });
    assert_eq!(read.status, 200);
    let no_token = anon.send(reqwest::Method::POST, "/api/v1/records/customer", |r| {
        r.header("cookie", &session).json(&customer("Forged"))
    });
    assert_eq!(no_token.error_code(403), "csrf");
    let with_token = anon.send(reqwest::Method::POST, "/api/v1/records/customer", |r| {
        r.header("cookie", &session)
            .header("x-csrf-token", &csrf)
            .json(&customer("Real"))
    });
    assert_eq!(with_token.status, 201, "{}", with_token.text);
    let list = s.admin().get("/api/v1/records/customer");
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "the forged write left nothing"
    );
}

#[test]
fn ui_forms_without_the_csrf_token_change_nothing() {
    let s = TestServer::start();
    let admin = s.admin();
    let cookie = format!("qg_session={}", admin.token.clone().unwrap());
    let post = |body: &'static str| {
        admin.send(reqwest::Method::POST, "/e/customer/new", |r| {
            r.header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        })
    };
    let forged = post("name=Forged&kind=company&status=lead");
    assert_eq!(forged.status, 403, "{}", forged.text);
    let wrong = post("csrf=not-the-token&name=Forged&kind=company&status=lead");
    assert_eq!(wrong.status, 403);
    assert!(admin.get("/api/v1/records/customer").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let no_session = s
        .anonymous()
        .send(reqwest::Method::GET, "/e/customer", |r| {
            r.header("cookie", "qg_session=bogus")
        });
    assert_eq!(no_session.status, 200, "redirected to the login page");
    assert!(no_session.text.contains("name=\"password\""));
}

#[test]
fn users_are_administered_through_the_api() {
    let s = TestServer::start();
    let admin = s.admin();
    let short = admin.post(
        "/api/v1/users",
        &json!({"username": "amy", "password": "short", "role": "sales"}),
    );
    assert_eq!(short.error_code(422), "validation_failed");
    assert!(short.body["error"]["fields"]["password"].is_string());
    let bad_role = admin.post(
        "/api/v1/users",
        &json!({"username": "amy", "password": "long-enough", "role": "king"}),
    );
    assert_eq!(bad_role.error_code(422), "validation_failed");
    let ok = admin.post(
        "/api/v1/users",
        &json!({"username": "amy", "password": "long-enough", "role": "sales", "team": "east"}),
    );
    assert_eq!(ok.status, 201, "{}", ok.text);
    let dup = admin.post(
        "/api/v1/users",
        &json!({"username": "amy", "password": "long-enough", "role": "sales"}),
    );
    assert_eq!(dup.error_code(409), "conflict");
    let amy = s.login("amy", "long-enough");
    assert_eq!(
        amy.post(
            "/api/v1/users",
            &json!({"username": "bob", "password": "long-enough", "role": "admin"})
        )
        .error_code(403),
        "forbidden"
    );
    let id = ok.body["id"].as_i64().unwrap();
    // Deactivated users cannot log in.
    let v = ok.body["version"].as_i64().unwrap();
    assert_eq!(
        admin
            .patch_v(
                &format!("/api/v1/records/user/{id}"),
                v,
                &json!({"active": false})
            )
            .status,
        200
    );
    let denied = s.anonymous().post(
        "/api/v1/auth/login",
        &json!({"username": "amy", "password": "long-enough"}),
    );
    assert_eq!(denied.error_code(401), "unauthenticated");
    let roles = admin.get("/api/v1/roles");
    assert!(roles
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "manager"));
}
