//! Webhooks against a real receiver on a local socket: signed deliveries from a durable outbox
//! for the writes a subscription matches (and none for a write rolled back), retries while the
//! receiver is down until it comes back, a delivery log with every attempt, replay — and
//! administrators only.

use hmac::{Hmac, Mac};
use qingguan::Config;
use qingguan_tests::{customer, until, TestServer};
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request the receiver got: headers (lower-cased names) and body.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// One HTTP/1.1 request read off a connection: method, path, headers (lower-case names) and
/// the body its `content-length` announces.
pub(crate) fn read_request(
    reader: &mut impl BufRead,
) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    let mut first = String::new();
    reader.read_line(&mut first).unwrap_or(0);
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap_or(());
    (method, path, headers, body)
}

/// A minimal HTTP receiver on `listener`, answering `status` to every request.
fn receive(listener: TcpListener, status: u16, got: Arc<Mutex<Vec<Received>>>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (_, _, headers, body) = read_request(&mut reader);
            got.lock().unwrap().push(Received {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
}

fn quick() -> Config {
    Config {
        webhook_poll: Duration::from_millis(100),
        webhook_retry_base: Duration::from_millis(300),
        ..Config::default()
    }
}

#[test]
fn matching_writes_are_delivered_signed_and_a_receiver_that_was_down_gets_them_later() {
    let s = TestServer::start_with(quick());
    let admin = s.admin();
    // A port with nobody listening yet: the receiver is down.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = admin.post(
        "/api/v1/webhooks",
        &json!({"name": "ERP", "url": format!("http://127.0.0.1:{port}/hook"), "entity": "customer",
                "events": ["created", "updated"],
                "filter": {"all": [{"field": "status", "op": "eq", "value": "customer"}]}}),
    );
    assert_eq!(hook.status, 201, "{}", hook.text);
    let hook_id = hook.body["id"].as_i64().unwrap();
    let secret = hook.body["secret"].as_str().unwrap().to_string();

    let mut won = customer("杭州恒信科技");
    won["status"] = json!("customer");
    let won = admin.create("customer", won);
    admin.create("customer", customer("Only a lead")); // the filter leaves it out
                                                       // A write rolled back (an import's dry run) sends nothing.
    let up = admin.send(
        reqwest::Method::POST,
        "/api/v1/imports?entity=customer&file_name=x.csv",
        |r| r.body("Name,Kind,Status\nDry,company,customer\n"),
    );
    let import = up.body["import"]["id"].as_i64().unwrap();
    admin.post(
        &format!("/api/v1/imports/{import}/check"),
        &up.body["options"],
    );
    until("the dry run", || {
        admin.get(&format!("/api/v1/imports/{import}")).body["status"] == "checked"
    });

    // Down: the delivery is retried, each attempt logged with its error.
    let log = |c: &qingguan_tests::Client| -> Vec<Value> {
        c.get(&format!("/api/v1/webhooks/{hook_id}/deliveries"))
            .body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    until("two failed attempts", || {
        log(&admin)
            .first()
            .is_some_and(|d| d["attempts"].as_i64() >= Some(2))
    });
    let items = log(&admin);
    assert_eq!(
        items.len(),
        1,
        "one matching write, the lead and the dry run left out: {items:?}"
    );
    assert_eq!(items[0]["status"], "pending");
    assert!(items[0]["last_error"].is_string());

    // Back up: the next retry arrives, signed.
    let got = Arc::new(Mutex::new(Vec::new()));
    receive(
        TcpListener::bind(("127.0.0.1", port)).unwrap(),
        200,
        got.clone(),
    );
    until("the delivery", || log(&admin)[0]["status"] == "delivered");
    let received = got.lock().unwrap()[0].clone();
    let body: Value = serde_json::from_str(&received.body).unwrap();
    assert_eq!(body["event"], "record.created");
    assert_eq!(body["record"]["id"], won["id"]);
    assert_eq!(body["record"]["name"], "杭州恒信科技");
    assert_eq!(received.header("x-qingguan-event"), "record.created");
    let t = received.header("x-qingguan-timestamp");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", received.body).as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        received.header("x-qingguan-signature"),
        format!("sha256={expected}")
    );
    let delivery_id = log(&admin)[0]["id"].as_i64().unwrap();
    let detail = admin.get(&format!("/api/v1/webhook-deliveries/{delivery_id}"));
    let tries = detail.body["tries"].as_array().unwrap();
    assert!(tries.len() >= 3, "{}", detail.text);
    assert_eq!(tries.last().unwrap()["status_code"], 200);

    // An update is delivered with what changed; a replay sends a delivery again.
    let v = won["version"].as_i64().unwrap();
    let r = admin.patch_v(
        &format!("/api/v1/records/customer/{}", won["id"]),
        v,
        &json!({"phone": "13800138000"}),
    );
    assert_eq!(r.status, 200);
    until("the update", || got.lock().unwrap().len() >= 2);
    let update: Value = serde_json::from_str(&got.lock().unwrap()[1].body).unwrap();
    assert_eq!(update["event"], "record.updated");
    assert_eq!(update["changes"]["phone"][1], "13800138000");
    let replay = admin.post(
        &format!("/api/v1/webhook-deliveries/{delivery_id}/replay"),
        &json!({}),
    );
    assert_eq!(replay.status, 200, "{}", replay.text);
    until("the replay", || got.lock().unwrap().len() >= 3);
    assert_eq!(
        got.lock().unwrap()[2].header("x-qingguan-delivery"),
        delivery_id.to_string()
    );
}

#[test]
fn only_administrators_manage_webhooks_and_bad_ones_are_refused() {
    let s = TestServer::start_with(quick());
    let admin = s.admin();
    let (amy, _) = s.user("amy", "sales", "east");
    let good = json!({"name": "x", "url": "https://example.com/h", "entity": "customer", "events": ["created"]});
    assert_eq!(
        amy.post("/api/v1/webhooks", &good).error_code(403),
        "forbidden"
    );
    assert_eq!(amy.get("/api/v1/webhooks").status, 403);
    let bad = admin.post(
        "/api/v1/webhooks",
        &json!({"name": "", "url": "http://example.com/h", "entity": "nope", "events": ["sold"],
                "filter": {"all": [{"field": "x", "op": "eq", "value": 1}]}}),
    );
    assert_eq!(bad.error_code(422), "validation_failed");
    for f in ["name", "url", "entity", "events"] {
        assert!(
            bad.body["error"]["fields"][f].is_string(),
            "{f}: {}",
            bad.text
        );
    }
    let bad_filter = admin.post(
        "/api/v1/webhooks",
        &json!({"name": "x", "url": "https://example.com/h", "entity": "customer", "events": ["created"],
                "filter": {"all": [{"field": "nope", "op": "eq", "value": 1}]}}),
    );
    assert!(
        bad_filter.body["error"]["fields"]["filter"].is_string(),
        "{}",
        bad_filter.text
    );
    let made = admin.post("/api/v1/webhooks", &good);
    let id = made.body["id"].as_i64().unwrap();
    assert_eq!(
        amy.get(&format!("/api/v1/webhooks/{id}/deliveries")).status,
        403
    );
    // A receiver that always answers 500 is retried, never marked delivered.
    let got = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    receive(listener, 500, got.clone());
    let r = admin.send(reqwest::Method::PUT, &format!("/api/v1/webhooks/{id}"), |r| {
        r.json(&json!({"name": "x", "url": format!("http://localhost:{port}/h"), "entity": "customer", "events": ["created"]}))
    });
    assert_eq!(r.status, 200, "{}", r.text);
    admin.create("customer", customer("Refused downstream"));
    until("two answers of 500", || got.lock().unwrap().len() >= 2);
    let d = &admin.get(&format!("/api/v1/webhooks/{id}/deliveries")).body["items"][0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["last_status"], 500);
    let deleted = admin.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/webhooks/{id}"),
        |r| r,
    );
    assert_eq!(deleted.status, 204);
}

#[test]
fn an_administrator_adds_pauses_and_removes_a_webhook_in_the_web_ui() {
    let s = TestServer::start_with(quick());
    let admin = s.admin();
    s.user("amy", "sales", "east");
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let page = ui.get("/admin/webhooks", "zh-CN");
    assert_eq!(page.status, 200);
    assert!(page.text.contains("添加 Webhook"), "{}", page.text);
    let bad = ui.post(
        "/admin/webhooks",
        "zh-CN",
        &[
            ("name", "ERP"),
            ("url", "http://example.com/x"),
            ("entity", "customer"),
            ("event", "created"),
        ],
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("url"), "{}", bad.text);
    let added = ui.post(
        "/admin/webhooks",
        "zh-CN",
        &[
            ("name", "ERP"),
            ("url", "https://erp.example.com/hook"),
            ("entity", "customer"),
            ("event", "created"),
            ("event", "deleted"),
            (
                "filter",
                r#"{"all": [{"field": "status", "op": "eq", "value": "customer"}]}"#,
            ),
        ],
    );
    assert_eq!(added.status, 200, "{}", added.text);
    assert!(
        added.text.contains("erp.example.com") && added.text.contains("新建, 删除"),
        "{}",
        added.text
    );
    let hooks = admin.get("/api/v1/webhooks").body["items"].clone();
    assert_eq!(hooks[0]["events"], json!(["created", "deleted"]));
    assert!(hooks[0]["filter"].is_object());
    let id = hooks[0]["id"].as_i64().unwrap();
    // A new secret from the page; the old one is gone.
    let old_secret = hooks[0]["secret"].as_str().unwrap().to_string();
    let rotated = ui.post(&format!("/admin/webhooks/{id}/secret"), "zh-CN", &[]);
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new_secret = admin.get(&format!("/api/v1/webhooks/{id}")).body["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(new_secret.starts_with("whsec_") && new_secret != old_secret);
    let by_api = admin.post(&format!("/api/v1/webhooks/{id}/secret"), &json!({}));
    assert_eq!(by_api.status, 200);
    assert_ne!(by_api.body["secret"], new_secret.as_str());
    let paused = ui.post(&format!("/admin/webhooks/{id}/pause"), "zh-CN", &[]);
    assert_eq!(paused.status, 200);
    assert_eq!(
        admin.get(&format!("/api/v1/webhooks/{id}")).body["active"],
        false
    );
    let amy = s.ui_login("amy", qingguan_tests::USER_PASSWORD);
    assert_eq!(amy.get("/admin/webhooks", "zh-CN").status, 403);
    assert_eq!(
        amy.post(&format!("/admin/webhooks/{id}/remove"), "zh-CN", &[])
            .status,
        403
    );
    assert_eq!(
        amy.post(&format!("/admin/webhooks/{id}/secret"), "zh-CN", &[])
            .status,
        403
    );
    let removed = ui.post(&format!("/admin/webhooks/{id}/remove"), "zh-CN", &[]);
    assert_eq!(removed.status, 200);
    assert!(admin.get("/api/v1/webhooks").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn a_receiver_that_never_answers_does_not_hold_up_the_others_and_internal_addresses_are_refused() {
    let s = TestServer::start_with(quick());
    let admin = s.admin();
    // One receiver accepts connections and never answers.
    let hanging = TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_port = hanging.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hanging.incoming().flatten() {
            held.push(stream);
        }
    });
    let got = Arc::new(Mutex::new(Vec::new()));
    let healthy = TcpListener::bind("127.0.0.1:0").unwrap();
    let healthy_port = healthy.local_addr().unwrap().port();
    receive(healthy, 200, got.clone());
    for (name, port) in [("stuck", hanging_port), ("fine", healthy_port)] {
        let r = admin.post(
            "/api/v1/webhooks",
            &json!({"name": name, "url": format!("http://127.0.0.1:{port}/h"), "entity": "customer", "events": ["created"]}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let started = Instant::now();
    // The first write's deliveries are under way (the stuck one hanging) before the next
    // writes: theirs go out at the next polls, not when the stuck one gives up.
    admin.create("customer", customer("C0"));
    until("the first delivery to the healthy receiver", || {
        !got.lock().unwrap().is_empty()
    });
    for i in 1..3 {
        admin.create("customer", customer(&format!("C{i}")));
    }
    until("three deliveries to the healthy receiver", || {
        got.lock().unwrap().len() >= 3
    });
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "held up by the stuck receiver: {:?}",
        started.elapsed()
    );

    // No userinfo tricks; HTTPS to an internal address is refused at sending.
    let sneaky = admin.post(
        "/api/v1/webhooks",
        &json!({"name": "x", "url": "http://127.0.0.1:80@169.254.169.254/latest", "entity": "customer", "events": ["created"]}),
    );
    assert_eq!(sneaky.error_code(422), "validation_failed");
    let internal = admin.post(
        "/api/v1/webhooks",
        &json!({"name": "x", "url": format!("https://127.0.0.1:{healthy_port}/h"), "entity": "customer", "events": ["created"]}),
    );
    assert_eq!(internal.status, 201);
    let id = internal.body["id"].as_i64().unwrap();
    admin.create("customer", customer("C9"));
    until("a refused attempt", || {
        admin.get(&format!("/api/v1/webhooks/{id}/deliveries")).body["items"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("internal address"))
    });
}
