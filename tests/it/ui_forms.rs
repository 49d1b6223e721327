//! Every form the web UI accepts, attacked: posted with the session cookie but without the
//! session's CSRF token (or with a wrong one) it changes nothing; an administration form
//! posted by a rep, token and all, is refused.

use qingguan_tests::{customer, Client, Resp, TestServer, USER_PASSWORD};
use serde_json::json;

/// A cookie session: the client, its cookie header and its CSRF token.
fn cookie_session(s: &TestServer, user: &str, password: &str) -> (Client, String, String) {
    let c = s.anonymous();
    let r = c.post(
        "/api/v1/auth/login",
        &json!({"username": user, "password": password}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_string();
    let csrf = r.body["csrf_token"].as_str().unwrap().to_string();
    (c, format!("qg_session={token}"), csrf)
}

fn post_form(c: &Client, cookie: &str, path: &str, body: String) -> Resp {
    c.send(reqwest::Method::POST, path, |r| {
        r.header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    })
}

/// `(path, body without the token)` for every url-encoded POST route of the UI.
fn forms(customer_id: i64) -> Vec<(String, String)> {
    let c = customer_id;
    [
        (
            "/e/customer/views",
            "name=Mine&query=status%3Dlead".to_string(),
        ),
        (
            "/e/customer/new",
            "name=Forged&kind=company&status=lead".into(),
        ),
        (
            &format!("/e/customer/{c}/edit") as &str,
            "version=1&name=Changed&kind=company&status=lead".into(),
        ),
        (&format!("/e/customer/{c}/delete"), "version=1".into()),
        (&format!("/e/customer/{c}/owner"), "version=1&owner=".into()),
        ("/e/customer/views/1/rename", "name=Renamed".into()),
        ("/e/customer/views/1/delete", String::new()),
        (&format!("/e/customer/{c}/action/good/flag"), String::new()),
        ("/p/good/echo", "x=1".into()),
        ("/lang", "locale=zh-CN&back=%2F".into()),
        ("/logout", String::new()),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b))
    .chain(admin_forms())
    .collect()
}

/// The administration forms.
fn admin_forms() -> Vec<(String, String)> {
    [
        (
            "/admin/users",
            "username=eve&password=long-enough-pw&role=admin",
        ),
        ("/admin/users/1/password", "password=taken-over-pw"),
        ("/admin/settings", "locale=zh-CN&time_zone=%2B03%3A00"),
        ("/admin/roles/sales", "customer_read=on&customer_scope=all"),
        (
            "/admin/studio",
            "name=thing&label_en=Thing&label_zh=%E7%89%A9",
        ),
        (
            "/admin/studio/customer/fields",
            "name=sneaky&type=text&label_en=Sneaky&label_zh=S",
        ),
        (
            "/admin/studio/customer/fields/phone",
            "label_en=Tel&hidden=true",
        ),
        (
            "/admin/studio/customer/layout",
            "layout=Main%3A+name&columns=name",
        ),
        ("/admin/plugins/sales/disable", ""),
        ("/admin/plugins/dismiss", "id=sales"),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b.to_string()))
    .collect()
}

#[test]
fn no_ui_form_changes_anything_without_the_session_token() {
    let s = TestServer::start();
    let admin = s.admin();
    let c = admin.create("customer", customer("Kept"));
    let id = c["id"].as_i64().unwrap();
    let (client, cookie, csrf) = cookie_session(&s, "admin", qingguan_tests::ADMIN_PASSWORD);
    for (path, body) in forms(id) {
        let none = post_form(&client, &cookie, &path, body.clone());
        assert_eq!(none.status, 403, "{path} without a token: {}", none.text);
        let sep = if body.is_empty() { "" } else { "&" };
        let wrong = post_form(&client, &cookie, &path, format!("{body}{sep}csrf=x{csrf}"));
        assert_eq!(
            wrong.status, 403,
            "{path} with a wrong token: {}",
            wrong.text
        );
    }
    // The multipart upload carries its token in the query string.
    let upload = client.send(reqwest::Method::POST, "/admin/plugins/upload", |r| {
        r.header("cookie", &cookie)
            .header("content-type", "multipart/form-data; boundary=X")
            .body("--X--\r\n")
    });
    assert_eq!(upload.status, 403, "{}", upload.text);

    // Nothing changed, and the session still works.
    let kept = admin.get(&format!("/api/v1/records/customer/{id}"));
    assert_eq!(kept.body["version"], 1, "{}", kept.text);
    assert_eq!(kept.body["name"], "Kept");
    let all = admin.get("/api/v1/records/customer");
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
    let users = admin.get("/api/v1/records/user?username=eve");
    assert!(
        users.body["items"].as_array().unwrap().is_empty(),
        "{}",
        users.text
    );
    assert_eq!(admin.get("/api/v1/entities/thing").status, 404);
    let schema = admin.get("/api/v1/entities/customer");
    assert!(!schema.text.contains("sneaky"));
    let me = post_form(
        &client,
        &cookie,
        "/lang",
        format!("locale=en&back=%2F&csrf={csrf}"),
    );
    assert_eq!(
        me.status, 200,
        "a correct token still works (followed to /): {}",
        me.text
    );
}

#[test]
fn administration_forms_refuse_a_rep_even_with_a_valid_token() {
    let s = TestServer::start();
    let admin = s.admin();
    s.user("rep", "sales", "east");
    let (client, cookie, csrf) = cookie_session(&s, "rep", USER_PASSWORD);
    for (path, body) in admin_forms() {
        let sep = if body.is_empty() { "" } else { "&" };
        let r = post_form(&client, &cookie, &path, format!("{body}{sep}csrf={csrf}"));
        assert_eq!(r.status, 403, "{path} as a rep: {}", r.text);
    }
    let upload = client.send(
        reqwest::Method::POST,
        &format!("/admin/plugins/upload?csrf={csrf}"),
        |r| {
            r.header("cookie", &cookie)
                .header("content-type", "multipart/form-data; boundary=X")
                .body("--X--\r\n")
        },
    );
    assert_eq!(upload.status, 403, "{}", upload.text);
    let users = admin.get("/api/v1/records/user?username=eve");
    assert!(users.body["items"].as_array().unwrap().is_empty());
    assert_eq!(admin.get("/api/v1/entities/thing").status, 404);
    assert!(!admin
        .get("/api/v1/entities/customer")
        .text
        .contains("sneaky"));
}
