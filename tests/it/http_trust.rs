//! What the server trusts of its clients, attacked over real HTTP: password guessing (per
//! account, per address, many at once), what a login answer gives away, sessions outliving a
//! deactivation, slow clients holding connections, redirect targets after login, the
//! session cookie's `Secure` flag, the headers of plugin-served HTML, and guessing one-time
//! welcome links.

use qingguan::{Config, LoginLimits};
use qingguan_tests::{install, Client, Resp, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::json;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Login limits that keep a test short: a 1-second first lockout, at most 2 seconds.
fn limits(account_failures: u32, address_failures: u32) -> LoginLimits {
    LoginLimits {
        account_failures,
        address_failures,
        lockout: Duration::from_secs(1),
        max_lockout: Duration::from_secs(2),
        ..LoginLimits::default()
    }
}

fn start(login: LoginLimits) -> TestServer {
    TestServer::start_with(Config {
        login,
        ..Config::default()
    })
}

fn api_login(c: &Client, username: &str, password: &str) -> Resp {
    c.post(
        "/api/v1/auth/login",
        &json!({"username": username, "password": password}),
    )
}

/// Asserts a 429 with `Retry-After` and returns the seconds to wait.
fn throttled(r: &Resp) -> u64 {
    assert_eq!(r.error_code(429), "too_many_requests");
    r.header("retry-after")
        .expect("a 429 carries Retry-After")
        .parse()
        .expect("Retry-After in seconds")
}

/// A form body from pairs (url-encoded).
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The login page's one-time form token, as cookie header and form value.
fn login_form_token(http: &reqwest::blocking::Client, url: &str) -> (String, String) {
    let page = http.get(format!("{url}/login")).send().unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = cookie.trim_start_matches("qg_login=").to_string();
    (cookie, token)
}

fn form_login(
    http: &reqwest::blocking::Client,
    url: &str,
    username: &str,
    password: &str,
    next: &str,
) -> reqwest::blocking::Response {
    let (cookie, token) = login_form_token(http, url);
    let body = form(&[
        ("username", username),
        ("password", password),
        ("csrf", &token),
        ("next", next),
    ]);
    http.post(format!("{url}/login"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .unwrap()
}

#[test]
fn failed_logins_lock_the_account_for_a_bounded_while_then_the_right_password_works() {
    let s = start(limits(3, 1000));
    s.store
        .create_user(
            &qingguan_core::Access::system(),
            &qingguan_tests::new_user("amy", "sales", "east", USER_PASSWORD),
            false,
        )
        .unwrap();
    let anon = s.anonymous();
    for _ in 0..3 {
        assert_eq!(
            api_login(&anon, "amy", "guess").error_code(401),
            "unauthenticated"
        );
    }
    // Locked: even the right password is refused, without being checked.
    let wait = throttled(&api_login(&anon, "amy", USER_PASSWORD));
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    // Hammering the locked account neither extends the lockout past its cap nor counts. (Ten
    // times: all of them must land within the 1-s lockout, on a slow machine too.)
    for _ in 0..10 {
        let w = throttled(&api_login(&anon, "amy", "guess"));
        assert!(w <= 2, "Retry-After {w} is past the 2 s cap");
    }
    // Other accounts are untouched.
    assert_eq!(api_login(&anon, "admin", ADMIN_PASSWORD).status, 200);
    std::thread::sleep(Duration::from_secs(2));
    let back = api_login(&anon, "amy", USER_PASSWORD);
    assert_eq!(back.status, 200, "after the lockout: {}", back.text);
    // Success forgave the failures: one more wrong password is a plain 401.
    assert_eq!(api_login(&anon, "amy", "guess").status, 401);
}

#[test]
fn failed_logins_from_one_address_lock_that_address_for_every_account() {
    let s = start(limits(100, 4));
    let anon = s.anonymous();
    for i in 0..4 {
        let r = api_login(&anon, &format!("nobody{i}"), "guess");
        assert_eq!(r.error_code(401), "unauthenticated");
    }
    throttled(&api_login(&anon, "admin", ADMIN_PASSWORD));
    // The OpenAPI document says so.
    let doc = anon.get("/api/v1/openapi.json").body;
    let too_many = &doc["paths"]["/auth/login"]["post"]["responses"]["429"];
    assert!(too_many["headers"]["Retry-After"].is_object(), "{too_many}");
}

#[test]
fn the_ui_login_form_shares_the_limits() {
    let s = start(limits(2, 1000));
    let http = no_redirects();
    for _ in 0..2 {
        let r = form_login(&http, &s.url, "admin", "guess", "/");
        assert_eq!(r.status(), 401);
    }
    let r = form_login(&http, &s.url, "admin", ADMIN_PASSWORD, "/");
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let page = r.text().unwrap();
    assert!(page.contains("name=\"password\""), "the form again: {page}");
    // The API sees the same lockout.
    throttled(&api_login(&s.anonymous(), "admin", ADMIN_PASSWORD));
}

/// Posts the welcome form for `path` (`/welcome/TOKEN`) with a form token from `form_page`.
fn post_welcome(
    http: &reqwest::blocking::Client,
    url: &str,
    (cookie, csrf): (&str, &str),
    path: &str,
    password: &str,
) -> reqwest::blocking::Response {
    http.post(format!("{url}{path}"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("csrf", csrf),
            ("password", password),
            ("password_again", password),
        ]))
        .send()
        .unwrap()
}

#[test]
fn guessing_welcome_links_locks_the_address_out_and_spends_no_link() {
    let s = start(limits(1000, 3));
    let (_, amy_id) = s.user("amy", "sales", "east");
    let invited = s
        .admin()
        .post(&format!("/api/v1/users/{amy_id}/invite"), &json!({}));
    assert_eq!(invited.status, 200, "{}", invited.text);
    let link = invited.body["link"].as_str().unwrap().to_string();
    let http = no_redirects();
    let page = http.get(format!("{}{link}", s.url)).send().unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let text = page.text().unwrap();
    let csrf = text.split("name=\"csrf\" value=\"").nth(1).unwrap();
    let csrf = csrf.split('"').next().unwrap().to_string();
    let form_token = (cookie.as_str(), csrf.as_str());

    // An anonymous loop of made-up links: each a 404, counted against the address.
    for i in 0..3 {
        let r = post_welcome(
            &http,
            &s.url,
            form_token,
            &format!("/welcome/guess{i}"),
            "x",
        );
        assert_eq!(r.status(), 404);
    }
    // Then refused before any link is looked at — the real one too, which stays unspent.
    let r = post_welcome(&http, &s.url, form_token, &link, "amy-secret-1");
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert!(r.text().unwrap().contains("Too many failed logins"));

    // Once the lockout passes, the real link works and signs amy in.
    std::thread::sleep(Duration::from_secs(wait));
    let r = post_welcome(&http, &s.url, form_token, &link, "amy-secret-1");
    assert_eq!(r.status(), 303, "{:?}", r.text());
    assert_eq!(api_login(&s.anonymous(), "amy", "amy-secret-1").status, 200);
}

#[test]
fn password_checks_past_the_slots_are_refused_not_piled_up() {
    let s = start(LoginLimits {
        account_failures: 1000,
        address_failures: 1000,
        concurrent_hashes: 1,
        hash_wait: Duration::ZERO,
        ..LoginLimits::default()
    });
    let n = 24;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (url, barrier) = (s.url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let c = Client::new(&url);
                barrier.wait();
                let r = api_login(&c, &format!("guess{i}"), "wrong-password");
                (r.status, r.header("retry-after"))
            })
        })
        .collect();
    let answers: Vec<(u16, Option<String>)> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        answers.iter().all(|(st, _)| *st == 401 || *st == 429),
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .any(|(st, ra)| *st == 429 && ra.as_deref() == Some("1")),
        "with one password-check slot and no waiting, a burst is partly refused: {answers:?}"
    );
    assert_eq!(
        api_login(&s.anonymous(), "admin", ADMIN_PASSWORD).status,
        200
    );
}

#[test]
fn a_deactivated_account_is_answered_like_a_wrong_password() {
    let s = TestServer::start();
    let admin = s.admin();
    let (_, id) = s.user("dora", "sales", "east");
    let v = admin.get(&format!("/api/v1/records/user/{id}")).body["version"]
        .as_i64()
        .unwrap();
    let off = admin.patch_v(
        &format!("/api/v1/records/user/{id}"),
        v,
        &json!({"active": false}),
    );
    assert_eq!(off.status, 200, "{}", off.text);
    let anon = s.anonymous();
    let right = api_login(&anon, "dora", USER_PASSWORD);
    let wrong = api_login(&anon, "dora", "not-her-password");
    assert_eq!(right.error_code(401), "unauthenticated");
    assert_eq!(right.body, wrong.body, "the answer reveals the password");
    // The UI form says the same for both.
    let http = no_redirects();
    let page = |pw| form_login(&http, &s.url, "dora", pw, "/").text().unwrap();
    let (a, b) = (page(USER_PASSWORD), page("not-her-password"));
    let error = |p: &str| {
        p.split("role=\"alert\">")
            .nth(1)
            .and_then(|e| e.split("</p>").next())
            .map(String::from)
    };
    assert!(error(&a).is_some());
    assert_eq!(error(&a), error(&b));
}

#[test]
fn deactivation_and_role_changes_reach_open_sessions_at_once() {
    // A cache that would otherwise hold sessions for an hour.
    let s = TestServer::start_with(Config {
        session_cache_ttl: Duration::from_secs(3600),
        ..Config::default()
    });
    let admin = s.admin();
    let (bob, id) = s.user("bob", "sales", "east");
    assert_eq!(bob.get("/api/v1/auth/me").body["role"], "sales");
    let path = format!("/api/v1/records/user/{id}");
    let version = |admin: &Client| admin.get(&path).body["version"].as_i64().unwrap();
    let r = admin.patch_v(&path, version(&admin), &json!({"role": "manager"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(bob.get("/api/v1/auth/me").body["role"], "manager");
    let r = admin.patch_v(&path, version(&admin), &json!({"active": false}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        bob.get("/api/v1/auth/me").error_code(401),
        "unauthenticated"
    );
    assert_eq!(
        bob.get("/api/v1/records/customer").error_code(401),
        "unauthenticated"
    );
}

/// Opens a connection that sends half a request line and then nothing.
fn half_request(url: &str) -> TcpStream {
    let mut t = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    t.write_all(b"GET /api/v1/hea").unwrap();
    t
}

/// Reads until the server closes the connection (or 60 s pass, which fails the test).
fn wait_closed(mut t: TcpStream) {
    t.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match t.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue, // a 408 before closing is fine
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
            Err(e) => panic!("the server kept a half-sent request open: {e}"),
        }
    }
}

/// Whether the server has closed this connection, without waiting.
fn is_closed(t: &mut TcpStream) -> bool {
    t.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match t.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_clients_are_cut_off_while_health_still_answers() {
    let s = TestServer::start_with(Config {
        header_read_timeout: Duration::from_secs(1),
        ..Config::default()
    });
    let started = Instant::now();
    let slow: Vec<TcpStream> = (0..50).map(|_| half_request(&s.url)).collect();
    assert_eq!(s.anonymous().get("/api/v1/health").status, 200);
    for t in slow {
        wait_closed(t);
    }
    eprintln!(
        "50 half-sent requests closed after {:?} (header timeout 1 s)",
        started.elapsed()
    );
}

#[test]
fn connections_past_the_cap_wait_for_a_free_slot() {
    let s = TestServer::start_with(Config {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 2,
        ..Config::default()
    });
    let mut slow = [half_request(&s.url), half_request(&s.url)];
    // Both slots are held: health is served only once a slow client has been cut off.
    assert_eq!(s.anonymous().get("/api/v1/health").status, 200);
    assert!(
        slow.iter_mut().any(is_closed),
        "health was answered beside two connections at a cap of two"
    );
}

#[test]
fn redirects_after_login_and_language_switch_stay_on_this_site() {
    let s = TestServer::start();
    let http = no_redirects();
    for (next, expected) in [
        ("/\t/evil.example/x", "/"),
        ("/\n/evil.example/x", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/ /evil.example", "/"),
        ("/e/customer?status=lead", "/e/customer?status=lead"),
    ] {
        let r = form_login(&http, &s.url, "admin", ADMIN_PASSWORD, next);
        assert_eq!(r.status(), 303, "next={next:?}");
        assert_eq!(r.headers()["location"], expected, "next={next:?}");
    }
    let login = api_login(&s.anonymous(), "admin", ADMIN_PASSWORD);
    let token = login.body["token"].as_str().unwrap();
    let csrf = login.body["csrf_token"].as_str().unwrap();
    for (back, expected) in [
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("/\t/evil.example", "/"),
        ("/e/customer", "/e/customer"),
    ] {
        let body = form(&[("csrf", csrf), ("locale", "en"), ("back", back)]);
        let r = http
            .post(format!("{}/lang", s.url))
            .header("cookie", format!("qg_session={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 303, "back={back:?}");
        assert_eq!(r.headers()["location"], expected, "back={back:?}");
    }
}

fn set_cookie(r: &Resp) -> String {
    r.header("set-cookie").expect("a cookie")
}

#[test]
fn the_session_cookie_is_secure_behind_https_or_when_configured() {
    let s = TestServer::start();
    let anon = s.anonymous();
    let plain = api_login(&anon, "admin", ADMIN_PASSWORD);
    assert!(!set_cookie(&plain).contains("Secure"));
    let body = json!({"username": "admin", "password": ADMIN_PASSWORD});
    for (name, value) in [
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=10.0.0.1;proto=https"),
    ] {
        let proxied = anon.send(reqwest::Method::POST, "/api/v1/auth/login", |r| {
            r.header(name, value).json(&body)
        });
        assert_eq!(proxied.status, 200);
        assert!(set_cookie(&proxied).contains("; Secure"), "{name}: {value}");
    }
    let page = anon.send(reqwest::Method::GET, "/login", |r| {
        r.header("x-forwarded-proto", "https")
    });
    assert!(
        set_cookie(&page).contains("; Secure"),
        "the login form's cookie"
    );

    let s = TestServer::start_with(Config {
        secure_cookies: true,
        ..Config::default()
    });
    let r = api_login(&s.anonymous(), "admin", ADMIN_PASSWORD);
    assert!(set_cookie(&r).contains("; Secure"));
}

#[test]
fn serve_takes_a_secure_cookies_flag() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qingguan-cli"))
        .env("QINGGUAN_LOG", "warn")
        .args(["serve", "--secure-cookies", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let url = lines
        .by_ref()
        .take(20)
        .map(Result::unwrap)
        .find_map(|l| {
            l.find("http://")
                .map(|i| l[i..].split_whitespace().next().unwrap().to_string())
        })
        .expect("the server prints its URL");
    std::thread::spawn(move || lines.for_each(drop));
    let page = Client::new(url.trim_end_matches('/')).get("/login");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(page.status, 200);
    assert!(set_cookie(&page).contains("; Secure"), "{:?}", page.headers);
}

#[test]
fn plugin_html_carries_the_page_security_headers() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let ui_csp = s
        .anonymous()
        .get("/login")
        .header("content-security-policy");
    assert!(ui_csp.is_some());
    let dash = admin.get("/api/v1/plugins/sales/dashboard");
    assert_eq!(dash.status, 200, "{}", dash.text);
    assert!(dash
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(dash.header("content-security-policy"), ui_csp);
    assert_eq!(dash.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        dash.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

/// The OpenAPI document lists every status an operation can answer: 401 wherever a session
/// is needed, 400 wherever a parameter, path or body can be malformed, 413/422 with a body,
/// 429 wherever a password is checked — and each error answer points at the one error shape.
#[test]
fn the_openapi_document_lists_every_status_an_operation_can_answer() {
    let s = TestServer::start();
    let doc = s.anonymous().get("/api/v1/openapi.json").body;
    assert!(
        doc.pointer("/components/schemas/ErrorBody").is_some(),
        "the error shape is described"
    );
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let has = |s: &str| responses.contains_key(s);
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(has("401"), "{method} {path} needs a session: 401");
            }
            if op.get("requestBody").is_some() || path.contains('{') {
                assert!(has("400"), "{method} {path} can be malformed: 400");
            }
            if op.get("requestBody").is_some() {
                assert!(has("413") && has("422"), "{method} {path} takes a body");
            }
            if path == "/auth/login" || path.ends_with("/password") {
                assert!(has("429"), "{method} {path} checks a password: 429");
            }
            for (status, r) in responses {
                let described = r.get("content").is_some();
                if described && (status.starts_with('4') || status.starts_with('5')) {
                    let schema = &r["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "walked {checked} operations");
}
