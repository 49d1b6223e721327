//! What an administrator and their people missed in the web UI at first contact (issue #21):
//! giving a record to someone else within the role's reach, renaming and deleting one's own
//! saved views, a new user's manager and an administrator's password reset, the install's
//! language and time zone, a customer's quick actions, and the first administrator made in
//! the browser — each with its refusals.

use qingguan_core::Locale;
use qingguan_tests::{customer, install, Resp, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::json;

const ZH: &str = "zh-CN,zh;q=0.9,en;q=0.8";

fn owner_of(s: &TestServer, entity: &str, id: i64) -> i64 {
    let r = s.admin().get(&format!("/api/v1/records/{entity}/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["owner"].as_i64().expect("an owner")
}

#[test]
fn the_owner_is_changed_within_the_roles_reach_and_refused_beside_the_picker_beyond_it() {
    let s = TestServer::start();
    let (_mia, mia_id) = s.user("mia", "manager", "east");
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (_bob, bob_id) = s.user("bob", "sales", "east");
    let (_wes, wes_id) = s.user("wes", "sales", "west");
    let acme = amy.create("customer", customer("Acme"))["id"]
        .as_i64()
        .unwrap();
    let path = format!("/e/customer/{acme}/owner");

    // The team's manager sees a picker of the team (not the west), and gives it to Bob.
    let mia = s.ui_login("mia", USER_PASSWORD);
    let page = mia.get(&format!("/e/customer/{acme}"), "");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains(&format!("action=\"{path}\"")),
        "{}",
        page.text
    );
    for id in [mia_id, amy_id, bob_id] {
        assert!(
            page.text.contains(&format!("<option value=\"{id}\"")),
            "{id}"
        );
    }
    assert!(!page.text.contains(&format!("<option value=\"{wes_id}\"")));
    let moved = mia.post(
        &path,
        "",
        &[("version", "1"), ("owner", &bob_id.to_string())],
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(owner_of(&s, "customer", acme), bob_id);

    // Beyond the team: refused beside the picker, in the user's language; nothing changes.
    let out = mia.post(
        &path,
        ZH,
        &[("version", "2"), ("owner", &wes_id.to_string())],
    );
    assert_eq!(out.status, 422, "{}", out.text);
    assert!(
        out.text.contains("只能把记录分配给你权限范围内的用户"),
        "{}",
        out.text
    );
    assert!(out.text.contains("class=\"field-error\""), "{}", out.text);
    assert_eq!(owner_of(&s, "customer", acme), bob_id);
    // A stale version changes nothing either, and says why.
    let stale = mia.post(
        &path,
        "",
        &[("version", "1"), ("owner", &amy_id.to_string())],
    );
    assert_eq!(stale.status, 409, "{}", stale.text);
    assert_eq!(owner_of(&s, "customer", acme), bob_id);
    // Not a user id: a reason, not a 500.
    let junk = mia.post(&path, "", &[("version", "2"), ("owner", "bob")]);
    assert_eq!(junk.status, 422, "{}", junk.text);

    // A rep reaches only their own records: no picker on them, and a form posted by hand
    // giving one away is refused beside the field.
    let mine = amy.create("customer", customer("Mine"))["id"]
        .as_i64()
        .unwrap();
    let amy_ui = s.ui_login("amy", USER_PASSWORD);
    let page = amy_ui.get(&format!("/e/customer/{mine}"), "");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains(&format!("/e/customer/{mine}/owner")));
    let path = format!("/e/customer/{mine}/owner");
    let out = amy_ui.post(
        &path,
        "en",
        &[("version", "1"), ("owner", &bob_id.to_string())],
    );
    assert_eq!(out.status, 422, "{}", out.text);
    let why = "you may only assign records within your scope";
    assert!(out.text.contains(why), "{}", out.text);
    assert_eq!(owner_of(&s, "customer", mine), amy_id);
    // A record she cannot see at all is not found.
    let theirs = amy_ui.post(
        &format!("/e/customer/{acme}/owner"),
        "",
        &[("version", "2"), ("owner", &amy_id.to_string())],
    );
    assert_eq!(theirs.status, 404, "{}", theirs.text);
    assert_eq!(owner_of(&s, "customer", acme), bob_id);

    // The administrator may give it to anyone, across teams.
    let admin = s.ui_login("admin", ADMIN_PASSWORD);
    let path = format!("/e/customer/{acme}/owner");
    let r = admin.post(
        &path,
        "",
        &[("version", "2"), ("owner", &wes_id.to_string())],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(owner_of(&s, "customer", acme), wes_id);
}

fn view_names(s: &TestServer, user: i64) -> Vec<String> {
    s.store
        .saved_views(user, "customer")
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect()
}

#[test]
fn saved_views_are_renamed_and_deleted_by_their_owner_only() {
    let s = TestServer::start();
    let (_amy, amy_id) = s.user("amy", "sales", "east");
    s.user("bob", "sales", "east");
    let amy = s.ui_login("amy", USER_PASSWORD);
    for name in ["Leads", "Won"] {
        let r = amy.post(
            "/e/customer/views",
            "",
            &[("name", name), ("query", "status=lead")],
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let views = s.store.saved_views(amy_id, "customer").unwrap();
    let leads = views.iter().find(|v| v.name == "Leads").unwrap().id;
    let list = amy.get("/e/customer", "");
    assert!(list
        .text
        .contains(&format!("/e/customer/views/{leads}/rename")));
    assert!(list
        .text
        .contains(&format!("/e/customer/views/{leads}/delete")));

    let rename = format!("/e/customer/views/{leads}/rename");
    let r = amy.post(
        &rename,
        "",
        &[("name", "Hot leads"), ("back", "status=lead")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Hot leads"), "{}", r.text);
    assert_eq!(view_names(&s, amy_id), ["Hot leads", "Won"]);
    // An empty name and a name taken: refused in the user's language, nothing renamed.
    let r = amy.post(&rename, ZH, &[("name", "  ")]);
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("视图名称：长度必须是 1 到 60 个字符"),
        "{}",
        r.text
    );
    let r = amy.post(&rename, "", &[("name", "Won")]);
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(view_names(&s, amy_id), ["Hot leads", "Won"]);
    // A "back" that would break the redirect is re-encoded, never a 500.
    let r = amy.post(
        &rename,
        "",
        &[("name", "Hot leads"), ("back", "a=1\r\nX: y")],
    );
    assert_eq!(r.status, 200, "{}", r.text);

    // Another user can neither rename nor delete it: as if it did not exist.
    let bob = s.ui_login("bob", USER_PASSWORD);
    let r = bob.post(&rename, "", &[("name", "Mine now")]);
    assert_eq!(r.status, 404, "{}", r.text);
    let r = bob.post(&format!("/e/customer/views/{leads}/delete"), "", &[]);
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(view_names(&s, amy_id), ["Hot leads", "Won"]);

    // Its owner deletes it.
    let r = amy.post(&format!("/e/customer/views/{leads}/delete"), "", &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(view_names(&s, amy_id), ["Won"]);
}

#[test]
fn a_new_user_gets_a_manager_and_an_administrator_resets_a_password() {
    let s = TestServer::start();
    let (_mia, mia_id) = s.user("mia", "manager", "east");
    let (_amy, amy_id) = s.user("amy", "sales", "east");
    let (_bob, bob_id) = s.user("bob", "sales", "east");
    let admin = s.ui_login("admin", ADMIN_PASSWORD);
    let page = admin.get("/admin/users", "");
    assert!(page.text.contains("name=\"manager\""), "{}", page.text);
    let added = admin.post(
        "/admin/users",
        "",
        &[
            ("username", "carl"),
            ("password", "carl-password"),
            ("role", "sales"),
            ("team", "east"),
            ("manager", &mia_id.to_string()),
        ],
    );
    assert_eq!(added.status, 200, "{}", added.text);
    assert!(!added.text.contains("carl-password"));
    let carl = s.admin().get("/api/v1/records/user?username=carl");
    assert_eq!(carl.body["items"][0]["manager"], mia_id, "{}", carl.text);
    // A manager that is no user: refused by name, in the user's language; nobody added.
    let bad = admin.post(
        "/admin/users",
        ZH,
        &[
            ("username", "dave"),
            ("password", "dave-password"),
            ("role", "sales"),
            ("manager", "999"),
        ],
    );
    assert!(bad.text.contains("上级：没有编号为 999"), "{}", bad.text);
    let dave = s.admin().get("/api/v1/records/user?username=dave");
    assert!(dave.body["items"].as_array().unwrap().is_empty());

    // The reset: the new password works, the old one no longer; it is never shown back.
    let path = format!("/admin/users/{amy_id}/password");
    let r = admin.post(&path, "", &[("password", "brand-new-secret")]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains("brand-new-secret"));
    assert!(r.text.contains("The password was set"), "{}", r.text);
    let login = |user: &str, pw: &str| {
        s.anonymous()
            .post(
                "/api/v1/auth/login",
                &json!({"username": user, "password": pw}),
            )
            .status
    };
    assert_eq!(login("amy", USER_PASSWORD), 401);
    assert_eq!(login("amy", "brand-new-secret"), 200);
    // Too short: the reason on the page, the password kept.
    let r = admin.post(&path, ZH, &[("password", "short")]);
    assert!(r.text.contains("密码：长度必须是 8"), "{}", r.text);
    assert_eq!(login("amy", "brand-new-secret"), 200);
    // No such user.
    let r = admin.post(
        "/admin/users/9999/password",
        ZH,
        &[("password", "whatever-1")],
    );
    assert!(r.text.contains("页面或记录不存在"), "{}", r.text);

    // A rep may not reset anyone's password, token and all.
    let amy = s.ui_login("amy", "brand-new-secret");
    let r = amy.post(
        &format!("/admin/users/{bob_id}/password"),
        "",
        &[("password", "taken-over-1")],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(login("bob", USER_PASSWORD), 200);
    assert_eq!(login("bob", "taken-over-1"), 401);
}

#[test]
fn the_language_and_time_zone_are_admin_settings_with_reasons_beside_the_inputs() {
    let s = TestServer::start();
    let admin = s.ui_login("admin", ADMIN_PASSWORD);
    let page = admin.get("/admin/settings", "");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("name=\"time_zone\""));
    let r = admin.post(
        "/admin/settings",
        "",
        &[("locale", "zh-CN"), ("time_zone", "+05:30")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.store.time_zone().unwrap(), Some(330));
    assert_eq!(s.store.default_locale().unwrap(), Locale::ZhCn);
    assert!(r.text.contains("value=\"+05:30\""), "{}", r.text);

    // Times are shown in it.
    let c = s.admin().create("customer", customer("Acme"));
    let at = chrono::DateTime::parse_from_rfc3339(c["updated_at"].as_str().unwrap()).unwrap();
    let local = at
        .with_timezone(&chrono::FixedOffset::east_opt(330 * 60).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let detail = admin.get(&format!("/e/customer/{}", c["id"]), "en");
    assert!(detail.text.contains(&local), "{local}: {}", detail.text);

    // A zone name and an unknown language: both refused beside their inputs, in the user's
    // language — and neither setting written.
    let r = admin.post(
        "/admin/settings",
        ZH,
        &[("locale", "fr"), ("time_zone", "Asia/Shanghai")],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("请按 +08:00"), "{}", r.text);
    assert!(r.text.contains("请从列表中选择一种语言"), "{}", r.text);
    assert_eq!(r.text.matches("class=\"field-error\"").count(), 2);
    let r = admin.post(
        "/admin/settings",
        "",
        &[("locale", "en"), ("time_zone", "+15:00")],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(s.store.time_zone().unwrap(), Some(330));
    assert_eq!(s.store.default_locale().unwrap(), Locale::ZhCn);

    // Not for anyone else.
    s.user("amy", "sales", "east");
    let amy = s.ui_login("amy", USER_PASSWORD);
    assert_eq!(amy.get("/admin/settings", "").status, 403);
    let r = amy.post(
        "/admin/settings",
        "",
        &[("locale", "en"), ("time_zone", "+00:00")],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(s.store.time_zone().unwrap(), Some(330));
}

#[test]
fn a_customer_page_offers_a_new_contact_and_once_sales_is_installed_a_follow_up() {
    let s = TestServer::start();
    let api = s.admin();
    let id = api.create("customer", customer("Acme"))["id"]
        .as_i64()
        .unwrap();
    let admin = s.ui_login("admin", ADMIN_PASSWORD);
    let page = admin.get(&format!("/e/customer/{id}"), "");
    let contact = format!("/e/contact/new?customer={id}");
    let followup = format!("/e/followup/new?customer={id}");
    assert!(page.text.contains(&contact), "{}", page.text);
    assert!(
        !page.text.contains(&followup),
        "no sales plugin, no follow-ups"
    );
    // The form opens with the customer filled in.
    let form = admin.get(&contact, "");
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form
        .text
        .contains(&format!("name=\"customer\" value=\"{id}\"")));
    assert!(form.text.contains("value=\"Acme\""), "{}", form.text);

    assert_eq!(install(&api, "qingguan-sales", true).status, 201);
    let page = admin.get(&format!("/e/customer/{id}"), ZH);
    assert!(page.text.contains(&followup), "{}", page.text);
    assert!(page.text.contains("记录跟进"), "{}", page.text);
    let form = admin.get(&followup, "");
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.text.contains("value=\"Acme\""), "{}", form.text);

    // Related follow-ups show their dates.
    let f = api.post(
        "/api/v1/records/followup",
        &json!({"subject": "First call", "kind": "call", "customer": id,
                "happened_on": "2026-11-02", "next_on": "2026-12-01"}),
    );
    assert_eq!(f.status, 201, "{}", f.text);
    let page = admin.get(&format!("/e/customer/{id}"), "");
    assert!(page.text.contains("First call"), "{}", page.text);
    assert!(page.text.contains("2026-11-02"), "{}", page.text);
    assert!(page.text.contains("2026-12-01"), "{}", page.text);

    // A role that may create neither is offered neither.
    s.user("fay", "finance", "hq");
    let fay = s.ui_login("fay", USER_PASSWORD);
    let page = fay.get(&format!("/e/customer/{id}"), "");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains(&contact) && !page.text.contains(&followup));
}

/// The setup form's token and its cookie, as a browser gets them.
fn setup_token(s: &TestServer) -> (String, Resp) {
    let page = s.anonymous().get("/setup");
    let cookie = page.header("set-cookie").expect("setup cookie");
    let token = cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("qg_setup="))
        .expect("qg_setup")
        .to_string();
    (token, page)
}

fn post_setup(s: &TestServer, token: &str, cookie: &str, pairs: &[(&str, &str)]) -> Resp {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        body.append_pair(k, v);
    }
    body.append_pair("csrf", token);
    let body = body.finish();
    s.anonymous().send(reqwest::Method::POST, "/setup", |r| {
        r.header("cookie", format!("qg_setup={cookie}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    })
}

#[test]
fn the_first_administrator_is_made_in_the_browser_once() {
    let s = TestServer::start_empty();
    // Nobody to sign in: the login page leads to the setup form.
    let login = s.anonymous().get("/login");
    assert_eq!(login.status, 200, "{}", login.text);
    assert!(login.text.contains("action=\"/setup\""), "{}", login.text);
    let (token, page) = setup_token(&s);
    assert_eq!(page.status, 200, "{}", page.text);
    let form = |user: &'static str| {
        [
            ("username", user),
            ("password", "first-admin-pw"),
            ("password_again", "first-admin-pw"),
        ]
    };
    // Without the token that came with the form (another site's post): refused.
    let r = post_setup(&s, "forged", &token, &form("eve"));
    assert_eq!(r.status, 403, "{}", r.text);
    // Passwords that differ, and a short one: reasons beside the inputs, in the language.
    let r = post_setup(
        &s,
        &token,
        &token,
        &[
            ("username", "root"),
            ("password", "first-admin-pw"),
            ("password_again", "x"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    let r = post_setup(
        &s,
        &token,
        &token,
        &[
            ("username", "root"),
            ("password", "short"),
            ("password_again", "short"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("class=\"field-error\""), "{}", r.text);
    assert_eq!(s.store.user_count().unwrap(), 0);

    // Two forms posted at once: one administrator.
    let (t1, _) = setup_token(&s);
    let (t2, _) = setup_token(&s);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| post_setup(&s, &t1, &t1, &form("root")).status);
        let b = scope.spawn(|| post_setup(&s, &t2, &t2, &form("boss")).status);
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 404],
        "one made (sent to sign in), one refused"
    );
    assert_eq!(s.store.user_count().unwrap(), 1);
    let made = if a == 200 { "root" } else { "boss" };
    let c = s.login(made, "first-admin-pw");
    assert_eq!(c.get("/api/v1/roles").status, 200);
    let ui = s.ui_login(made, "first-admin-pw");
    assert_eq!(ui.get("/admin/users", "").status, 200, "an administrator");

    // Gone once anyone exists: the page, and a post with a valid token.
    let gone = s.anonymous().get("/setup");
    assert_eq!(gone.status, 404, "{}", gone.text);
    assert!(gone.header("set-cookie").is_none());
    let r = post_setup(&s, &t1, &t1, &form("again"));
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(s.store.user_count().unwrap(), 1);
    assert_eq!(s.anonymous().get("/login").status, 200);
}
