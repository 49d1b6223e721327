//! Contract 1.3's outreach against real parts: a plugin notifies people (inbox and a local SMTP
//! sink, in the reader's language, only when its call commits) and calls HTTP origins it was
//! approved for on a local receiver — and nothing else: other hosts, ports written as names,
//! schemes, tricks in addresses, redirects, big or slow answers, and a plugin granted nothing.

use crate::invitations::smtp_sink;
use qingguan::{Config, MailSettings};
use qingguan_tests::{install, Client, TestServer, USER_PASSWORD};
use serde_json::{json, Value};
use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn notify(c: &Client, body: Value) -> Value {
    let r = c.post("/api/v1/plugins/outreach/notify", &body);
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn fetch(c: &Client, body: Value) -> Value {
    let r = c.post("/api/v1/plugins/outreach/fetch", &body);
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

pub(crate) fn set_user(admin: &Client, id: i64, fields: Value) {
    let path = format!("/api/v1/records/user/{id}");
    let v = admin.get(&path).body["version"].as_i64().unwrap();
    let r = admin.patch_v(&path, v, &fields);
    assert_eq!(r.status, 200, "{}", r.text);
}

pub(crate) fn plugin_notes(c: &Client) -> Vec<Value> {
    c.get("/api/v1/notifications").body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "plugin")
        .cloned()
        .collect()
}

#[test]
fn a_plugin_notifies_people_in_their_language_only_when_its_call_commits() {
    let (port, mails) = smtp_sink();
    let s = TestServer::start_with(Config {
        mail: Some(MailSettings {
            smtp_url: format!("smtp://127.0.0.1:{port}"),
            from: "Qingguan <crm@example.com>".into(),
        }),
        mail_poll: Duration::from_millis(100),
        public_url: Some("https://crm.example.com".into()),
        ..Config::default()
    });
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-outreach", true).status, 201);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (_bob, bob_id) = s.user("bob", "sales", "east");
    let (boss, _) = s.user("boss", "manager", "east");
    let (_boss2, _) = s.user("boss2", "manager", "west");
    assert_eq!(
        amy.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}))
            .status,
        200
    );
    set_user(&admin, amy_id, json!({"email": "amy@example.com"}));

    let sent = notify(
        &admin,
        json!({"users": [amy_id, bob_id], "en": "Stock of A4 paper is low", "zh": "A4 纸库存不足",
               "link": "/e/customer/1"}),
    );
    assert_eq!(sent["ok"], 2, "{sent}");
    let notes = plugin_notes(&amy);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["link"], "/e/customer/1");
    assert_eq!(notes[0]["params"]["plugin"], "outreach");
    // The inbox says it in Chinese, under the plugin's name.
    let ui = s.ui_login("amy", USER_PASSWORD);
    let inbox = ui.get("/inbox", "zh-CN");
    assert!(
        inbox
            .text
            .contains("通知与外呼测试插件（插件）: A4 纸库存不足"),
        "{}",
        inbox.text
    );
    // And by mail, since Amy has an address.
    let start = Instant::now();
    while !mails
        .lock()
        .unwrap()
        .iter()
        .any(|m| m.contains("To: amy@example.com"))
    {
        assert!(start.elapsed() < Duration::from_secs(20), "no mail");
        std::thread::sleep(Duration::from_millis(50));
    }

    // A role: every active manager, and nobody else.
    let role = notify(&admin, json!({"role": "manager", "en": "Ratings are owed"}));
    assert_eq!(role["ok"], 2, "{role}");
    assert_eq!(plugin_notes(&boss).len(), 1);
    assert_eq!(plugin_notes(&amy).len(), 1, "Amy is no manager");
    // English text where no Chinese was given, also to a reader of Chinese.
    assert_eq!(plugin_notes(&boss)[0]["params"]["zh"], "");
    assert_eq!(
        boss.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}))
            .status,
        200
    );
    let boss_ui = s.ui_login("boss", USER_PASSWORD);
    let boss_inbox = boss_ui.get("/inbox", "zh-CN");
    assert!(
        boss_inbox.text.contains("（插件）: Ratings are owed"),
        "{}",
        boss_inbox.text
    );

    // A call that fails after notifying sends nothing.
    let failed = admin.post(
        "/api/v1/plugins/outreach/notify-then-fail",
        &json!({"users": [amy_id], "en": "You should never see this"}),
    );
    assert!(failed.status >= 400, "{}", failed.text);
    assert!(
        failed.text.contains("failing after notifying"),
        "{}",
        failed.text
    );
    assert_eq!(plugin_notes(&amy).len(), 1);

    // Refused before anything is written: links leaving the application, unknown or inactive
    // people (nobody notified, not even the valid ones), unknown roles, empty or long text.
    for (body, field) in [
        (
            json!({"users": [amy_id], "en": "x", "link": "https://evil.example/login"}),
            "link",
        ),
        (
            json!({"users": [amy_id], "en": "x", "link": "//evil.example/login"}),
            "link",
        ),
        (
            json!({"users": [amy_id], "en": "x", "link": "javascript:alert(1)"}),
            "link",
        ),
        // The API's plugin routes pass a plugin's redirect on: no place to send people.
        (
            json!({"users": [amy_id], "en": "x", "link": "/api/v1/plugins/outreach/go"}),
            "link",
        ),
        (
            json!({"users": [amy_id], "en": "x", "link": "/p/../api/v1/x"}),
            "link",
        ),
        (json!({"users": [amy_id, 999_999], "en": "x"}), "users"),
        (json!({"role": "emperor", "en": "x"}), "role"),
        (json!({"users": [amy_id], "en": "  "}), "en"),
        (json!({"users": [amy_id], "en": "长".repeat(501)}), "en"),
    ] {
        let r = notify(&admin, body.clone());
        assert_eq!(r["error"], "invalid", "{body}: {r}");
        assert!(r["fields"].to_string().contains(field), "{body}: {r}");
    }
    assert_eq!(plugin_notes(&amy).len(), 1);
    set_user(&admin, bob_id, json!({"active": false}));
    let inactive = notify(&admin, json!({"users": [bob_id], "en": "x"}));
    assert_eq!(inactive["error"], "invalid", "{inactive}");
}

/// What the receiver was sent: method, path, headers (lower-case names), body.
type Got = Arc<Mutex<Vec<(String, String, Vec<(String, String)>, String)>>>;

/// A local HTTP server: `/ok` echoes, `/redirect` points elsewhere, `/big` answers 2 MiB,
/// `/slow` waits thirty seconds.
fn receiver() -> (u16, Got) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Got = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let (method, path, headers, body) = crate::webhooks::read_request(&mut reader);
                let body = String::from_utf8_lossy(&body).into_owned();
                kept.lock()
                    .unwrap()
                    .push((method.clone(), path.clone(), headers, body.clone()));
                let answer = |status: &str, extra: &str, body: &[u8]| {
                    let mut a = format!(
                        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
                        body.len()
                    )
                    .into_bytes();
                    a.extend_from_slice(body);
                    a
                };
                let reply = match path.as_str() {
                    "/ok" => answer(
                        "200 OK",
                        "x-seen: yes\r\n",
                        format!("{method} {body}").as_bytes(),
                    ),
                    "/redirect" => answer(
                        "302 Found",
                        "location: http://169.254.169.254/latest/meta-data/\r\n",
                        b"",
                    ),
                    "/big" => answer("200 OK", "", &vec![b'x'; 2 * 1024 * 1024]),
                    "/slow" => {
                        std::thread::sleep(Duration::from_secs(30));
                        answer("200 OK", "", b"late")
                    }
                    _ => answer("404 Not Found", "", b"no"),
                };
                let _ = out.write_all(&reply);
            });
        }
    });
    (port, got)
}

#[test]
fn a_plugin_reaches_its_approved_origins_and_nothing_else() {
    let s = TestServer::start();
    let admin = s.admin();
    let installed = install(&admin, "qg-test-outreach", true);
    assert_eq!(installed.status, 201, "{}", installed.text);
    // The administrator saw what was asked.
    let info = admin.get("/api/v1/plugins/outreach");
    assert_eq!(
        info.body["manifest"]["capabilities"]["outbound_hosts"],
        json!(["http://127.0.0.1:*", "http://localhost:*"]),
        "{}",
        info.text
    );
    let (port, got) = receiver();
    let base = format!("http://127.0.0.1:{port}");

    let ok = fetch(
        &admin,
        json!({"method": "POST", "url": format!("{base}/ok"), "headers": {"x-token": "t1"},
               "body": "hello"}),
    );
    assert_eq!(ok["ok"]["status"], 200, "{ok}");
    assert_eq!(ok["ok"]["body"], "POST hello", "{ok}");
    {
        let seen = got.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].2.iter().any(|(k, v)| k == "x-token" && v == "t1"));
    }
    // A 404 is an answer.
    assert_eq!(
        fetch(&admin, json!({"url": format!("{base}/nothing")}))["ok"]["status"],
        404
    );

    // Not approved: another name for the same machine, another address, another scheme.
    for url in [
        format!("http://127.0.0.2:{port}/ok"),
        format!("http://[::1]:{port}/ok"),
        format!("https://127.0.0.1:{port}/ok"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ] {
        let r = fetch(&admin, json!({"url": url}));
        assert_eq!(r["error"], "denied", "{url}: {r}");
    }
    // An origin approved by *name* is never reached at an internal address (the name is looked
    // up once, and the connection goes to what was checked).
    let by_name = fetch(
        &admin,
        json!({"url": format!("http://localhost:{port}/ok")}),
    );
    assert_eq!(by_name["error"], "failed", "{by_name}");
    assert!(
        by_name["message"]
            .as_str()
            .unwrap()
            .contains("internal address"),
        "{by_name}"
    );
    // A call that has begun writing may not wait on the network while holding the writer.
    let holding = admin.post(
        "/api/v1/plugins/outreach/write-then-fetch",
        &json!({"url": format!("{base}/ok")}),
    );
    assert_eq!(holding.body["error"], "conflict", "{}", holding.text);
    // Tricks: a user name that is really the host, other schemes, bad ports, smuggled headers.
    for body in [
        json!({"url": format!("http://127.0.0.1:{port}@evil.example/")}),
        json!({"url": "file:///etc/passwd"}),
        json!({"url": format!("http://127.0.0.1:{port}\\@evil.example/")}),
        json!({"url": "http://127.0.0.1:99999/"}),
        json!({"url": format!("{base}/ok"), "method": "CONNECT"}),
        json!({"url": format!("{base}/ok"), "headers": {"host": "evil.example"}}),
        json!({"url": format!("{base}/ok"), "headers": {"x-a": "1\r\nx-b: 2"}}),
        json!({"url": format!("{base}/ok"), "headers": {"Transfer_Encoding": "chunked"}}),
    ] {
        let r = fetch(&admin, body.clone());
        assert_eq!(r["error"], "invalid", "{body}: {r}");
    }
    assert_eq!(got.lock().unwrap().len(), 2, "none of those left the host");

    // A redirect is handed back, not followed.
    let moved = fetch(&admin, json!({"url": format!("{base}/redirect")}));
    assert_eq!(moved["ok"]["status"], 302, "{moved}");
    assert!(moved["ok"]["location"]
        .as_str()
        .unwrap()
        .contains("169.254.169.254"));
    // Too big: refused, not kept.
    let big = fetch(&admin, json!({"url": format!("{base}/big")}));
    assert_eq!(big["error"], "conflict", "{big}");
    // Too slow: the call's own time limit (2 s) bounds it, not the answer's 30 s, and the
    // server keeps serving.
    let started = Instant::now();
    let slow = fetch(&admin, json!({"url": format!("{base}/slow")}));
    assert_eq!(slow["error"], "failed", "{slow}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(admin.get("/api/v1/health").status, 200);

    // A plugin granted nothing reaches nobody and tells nobody anything.
    assert_eq!(install(&admin, "qg-test-hostile", true).status, 201);
    let ask =
        |q: &str, args: Value| admin.post(&format!("/api/v1/plugins/hostile/queries/{q}"), &args);
    let told = ask("notify", json!({}));
    assert_eq!(told.error_code(403), "forbidden", "{}", told.text);
    assert!(told.text.contains("capability notify"), "{}", told.text);
    let called = ask("fetch", json!({"url": format!("{base}/ok")}));
    assert_eq!(called.error_code(403), "forbidden", "{}", called.text);
    assert!(called.text.contains("outbound_hosts"), "{}", called.text);
    assert_eq!(
        got.lock().unwrap().len(),
        5,
        "ok, 404, redirect, big, slow — nothing more"
    );
    assert!(plugin_notes(&admin).is_empty());
}

/// Inventory's use of it: a call that takes *available* stock below the reorder point — a
/// posting out, or a confirmed order reserving it — tells the managers once per crossing,
/// not on every later posting, and nobody else; delivering what was reserved tells no one.
#[test]
fn managers_hear_when_stock_falls_below_its_reorder_point() {
    use crate::inventory::{act, purchase, setup};
    let (s, admin, ids) = setup(); // reorder point 5
    let (boss, _) = s.user("boss", "manager", "east");
    let (rep, _) = s.user("rep", "sales", "east");
    let (po, _) = purchase(&admin, &ids, "10", "10");
    let received = act(
        &admin,
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-01"}),
    );
    assert_eq!(received.status, 200, "{}", received.text);
    let count = |n: &str, day: &str| {
        let r = admin.post(
            "/api/v1/plugins/inventory/count",
            &json!({"product": ids["p"], "warehouse": ids["w1"], "counted": n, "reason": "count", "date": day}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    };
    count("6", "2026-11-02"); // 10 → 6: still at or above 5
    assert!(plugin_notes(&boss).is_empty());
    count("4", "2026-11-03"); // 6 → 4: crossed
    let notes = plugin_notes(&boss);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["link"], format!("/e/product/{}", ids["p"]));
    assert_eq!(
        notes[0]["params"]["en"],
        "Widget (P-1) in Main: 4 available, below its reorder point of 5"
    );
    assert_eq!(
        notes[0]["params"]["zh"],
        "Widget（P-1）在Main的可用库存为 4，已低于再订货点 5"
    );
    count("3", "2026-11-04"); // already below: no second notice
    assert_eq!(plugin_notes(&boss).len(), 1);
    let (po2, _) = purchase(&admin, &ids, "10", "10");
    act(
        &admin,
        "purchase_order",
        &po2["id"],
        "receive",
        json!({"date": "2026-11-05"}),
    );
    count("2", "2026-11-06"); // 13 → 2: crossed again
    assert_eq!(plugin_notes(&boss).len(), 2);
    assert!(plugin_notes(&rep).is_empty(), "reps are not told");
    // Back to 12 on hand; an order confirmed for 8 leaves 4 available: crossed by reserving.
    let (po3, _) = purchase(&admin, &ids, "10", "10");
    let r = act(
        &admin,
        "purchase_order",
        &po3["id"],
        "receive",
        json!({"date": "2026-11-07"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let buyer = admin.create("customer", qingguan_tests::customer("Buyer"));
    let order = |qty: &str| {
        let so = admin.create(
            "sales_order",
            json!({"customer": buyer["id"], "warehouse": ids["w1"]}),
        );
        admin.create(
            "sales_line",
            json!({"order": so["id"], "product": ids["p"], "quantity": qty, "price": "20"}),
        );
        so
    };
    let first = order("3"); // 12 − 3 = 9 available: above the point
    let r = act(&admin, "sales_order", &first["id"], "confirm", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(plugin_notes(&boss).len(), 2);
    let second = order("5"); // 9 − 5 = 4: crossed
    let r = act(&admin, "sales_order", &second["id"], "confirm", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let notes = plugin_notes(&boss);
    assert_eq!(notes.len(), 3, "{notes:?}");
    let texts: Vec<&str> = notes
        .iter()
        .filter_map(|n| n["params"]["en"].as_str())
        .collect();
    assert!(
        texts.contains(&"Widget (P-1) in Main: 4 available (12 on hand, 8 reserved), below its reorder point of 5"),
        "{texts:?}"
    );
    // Delivering what was reserved leaves 4 available: no new notice.
    let r = act(
        &admin,
        "sales_order",
        &second["id"],
        "deliver",
        json!({"date": "2026-11-08"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(plugin_notes(&boss).len(), 3);
    // A refused confirmation (more than is available) tells no one.
    let third = order("50");
    let r = act(&admin, "sales_order", &third["id"], "confirm", json!({}));
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(plugin_notes(&boss).len(), 3);
}
