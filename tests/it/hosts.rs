//! Several hosts on one PostgreSQL database — real `qingguan serve` processes, each with its
//! own data directory, over real HTTP:
//! - a plugin upgraded through one host goes live on the other (without a restart; the time
//!   it takes is printed, and measured in docs/benchmarks.md), while writes flow through both
//!   and not one request fails;
//! - once the other host says it has caught up (health's `in_sync`), a custom field added on
//!   one is usable on it, and a logout or a deactivation on one has ended the session on it
//!   (not only when its session cache would have expired); a role narrowed on one holds on
//!   the other, and so does a setting (the time zone pages show); failed logins on both lock
//!   an account out on both, and a client's address (behind a proxy both trust) on both;
//!   health says how many hosts serve;
//! - a scheduled job runs once per turn, not once per host;
//! - kill -9 of one host under write load loses no write it acknowledged, and the other goes
//!   on serving.
//!
//! Runs where `QG_TEST_POSTGRES` names a server; elsewhere it says so and returns.

use crate::cli::{start, Running};
use crate::postgres::{login, user_add};
use qingguan_tests::{install, install_bytes, plugin_wasm, Client, PgDatabase, UiSession};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn server() -> Option<String> {
    let server = std::env::var("QG_TEST_POSTGRES").ok();
    if server.is_none() {
        eprintln!("QG_TEST_POSTGRES is not set: the several-hosts tests do not run");
    }
    server
}

/// Two hosts, A and B, serving one new database; `boss` is its administrator.
struct TwoHosts {
    a: (Running, String),
    b: (Running, String),
    _db: PgDatabase,
    _dir: tempfile::TempDir,
}

fn two_hosts(server: &str) -> TwoHosts {
    let db = PgDatabase::create(server);
    let dir = tempfile::tempdir().unwrap();
    let data = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    user_add(&data("a"), &["--database", &db.url]);
    // Both behind a proxy on this machine: clients' addresses come from X-Forwarded-For.
    let serve = |dir: &str| {
        start(&[
            "serve",
            "--data-dir",
            &data(dir),
            "--database",
            &db.url,
            "--trusted-proxy",
            "127.0.0.1",
        ])
    };
    let (a, b) = (serve("a"), serve("b"));
    TwoHosts {
        a,
        b,
        _db: db,
        _dir: dir,
    }
}

/// Polls `f` every 20 ms until it gives a value, for at most `limit`; the value and the time
/// it took.
fn within<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<(T, Duration)> {
    let started = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some((v, started.elapsed()));
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the host at `url` has picked up every change committed so far: health says
/// `in_sync` as of a poll made after now (a poll before now says nothing of what was just
/// committed). From then on it must act on them. Returns how long that took.
fn caught_up(url: &str) -> Duration {
    let since = chrono::Utc::now();
    let (_, took) = within(Duration::from_secs(30), || {
        let h = Client::new(url).get("/api/v1/health").body;
        let as_of = h["as_of"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())?;
        (h["in_sync"] == true && as_of >= since).then_some(())
    })
    .unwrap_or_else(|| panic!("{url} never caught up"));
    took
}

/// The version stamp a note created now gets from the `good` plugin's hook (`…:1.0.0`), once
/// the host knows notes.
fn stamp_of_a_new_note(c: &Client) -> Option<String> {
    let r = c.post("/api/v1/records/note", &json!({"title": "probe"}));
    (r.status == 201).then(|| r.body["stamp"].as_str().unwrap_or_default().to_string())
}

fn serves(c: &Client, version: &str) -> Option<()> {
    stamp_of_a_new_note(c)
        .filter(|s| s.ends_with(&format!(":{version}")))
        .map(|_| ())
}

#[test]
fn a_plugin_upgraded_on_one_host_is_live_on_the_other_within_a_second_and_no_request_fails() {
    let Some(server) = server() else { return };
    let hosts = two_hosts(&server);
    let (a, b) = (login(&hosts.a.1), login(&hosts.b.1));

    assert_eq!(install(&a, "qg-test-good", true).status, 201);
    let (_, took) = within(Duration::from_secs(30), || serves(&b, "1.0.0"))
        .expect("B serves the plugin installed through A");
    eprintln!("installed through A, live on B after {took:?}");

    // Writes through both hosts while the plugin is upgraded through A.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let url = if w % 2 == 0 { &hosts.a.1 } else { &hosts.b.1 };
            let c = login(url);
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = c.post(
                        "/api/v1/records/note",
                        &json!({"title": format!("w{w} #{n}")}),
                    );
                    let stamp = r.body["stamp"].as_str().unwrap_or_default().to_string();
                    seen.push((r.status, stamp, r.text));
                }
                seen
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    let up = install(&a, "qg-test-good-v2", false);
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(up.body["version"], "1.1.0");
    let took = caught_up(&hosts.b.1);
    assert_eq!(
        serves(&b, "1.1.0"),
        Some(()),
        "B caught up serves the upgrade"
    );
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let results: Vec<(u16, String, String)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let (v1, v2) = qingguan_tests::each_write_saw_one_version(&results, "1.0.0", "1.1.0");
    eprintln!(
        "{} writes through two hosts during the upgrade: {v1} on 1.0.0, {v2} on 1.1.0, 0 \
         failed; B caught up {took:?} after A answered",
        results.len()
    );

    // Both hosts count each other (at the latest with their next heartbeat) and have caught up.
    for url in [&hosts.a.1, &hosts.b.1] {
        caught_up(url);
        let (health, _) = within(Duration::from_secs(30), || {
            let h = Client::new(url).get("/api/v1/health").body;
            (h["hosts"] == 2).then_some(h)
        })
        .unwrap_or_else(|| panic!("{url} never counted two hosts"));
        assert_eq!(health["database"], "postgresql", "{health}");
    }
}

#[test]
fn what_one_host_changes_holds_on_the_other() {
    let Some(server) = server() else { return };
    let hosts = two_hosts(&server);
    let (a, b) = (login(&hosts.a.1), login(&hosts.b.1));

    // A custom field added on A is written and read on B.
    let field = a.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "tier", "type": "text", "label": {"en": "Tier", "zh-CN": "等级"}}),
    );
    assert_eq!(field.status, 201, "{}", field.body);
    let took = caught_up(&hosts.b.1);
    let r = b.post(
        "/api/v1/records/customer",
        &json!({"name": "分店客户", "kind": "company", "status": "lead", "tier": "gold"}),
    );
    assert_eq!(
        (r.status, &r.body["tier"]),
        (201, &json!("gold")),
        "{}",
        r.text
    );
    eprintln!("B caught up with a field added on A after {took:?}");
    let made_on_b = r.body.clone();

    // A role narrowed on A holds on B for a session B already knows.
    let auditor = |permissions: Value| {
        let role = json!({"name": "auditor", "label": {"en": "Auditor", "zh-CN": "审计"},
                          "permissions": permissions});
        let r = a.put("/api/v1/roles/auditor", &role);
        assert_eq!(r.status, 200, "{}", r.text);
    };
    auditor(json!({"customer": {"read": true, "scope": "all"}}));
    let audrey = a.post(
        "/api/v1/users",
        &json!({"username": "audrey", "password": "audrey-password-1", "role": "auditor",
                "team": "hq"}),
    );
    assert_eq!(audrey.status, 201, "{}", audrey.body);
    caught_up(&hosts.b.1);
    let mut audrey_b = Client::new(&hosts.b.1);
    let r = audrey_b.post(
        "/api/v1/auth/login",
        &json!({"username": "audrey", "password": "audrey-password-1"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    audrey_b.token = r.body["token"].as_str().map(String::from);
    assert_eq!(audrey_b.get("/api/v1/records/customer").status, 200);
    auditor(json!({"contact": {"read": true, "scope": "all"}}));
    caught_up(&hosts.b.1);
    assert_eq!(
        audrey_b.get("/api/v1/records/customer").error_code(403),
        "forbidden",
        "a role narrowed on A holds on B"
    );

    // A setting changed on A holds on B: B's pages show times in A's new time zone.
    let ui_a = UiSession::login(&hosts.a.1, "boss", "boss-password");
    let r = ui_a.post(
        "/admin/settings",
        "",
        &[("locale", "en"), ("time_zone", "+05:30")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    caught_up(&hosts.b.1);
    let made = &made_on_b;
    let updated = chrono::DateTime::parse_from_rfc3339(made["updated_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(330 * 60).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let ui_b = UiSession::login(&hosts.b.1, "boss", "boss-password");
    let page = ui_b.get(&format!("/e/customer/{}", made["id"]), "en");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains(&updated),
        "B shows times in the zone set on A ({updated})"
    );

    // A session made on A serves on B, and a logout on A ends it on B — at once, not when
    // B's session cache would have expired.
    let mut signed_in = Client::new(&hosts.a.1);
    signed_in.token = login(&hosts.a.1).token;
    let mut on_b = Client::new(&hosts.b.1);
    on_b.token = signed_in.token.clone();
    assert_eq!(on_b.get("/api/v1/records/customer").status, 200);
    let out = signed_in.post("/api/v1/auth/logout", &json!({}));
    assert!(out.status < 300, "{}", out.text);
    caught_up(&hosts.b.1);
    assert_eq!(on_b.get("/api/v1/records/customer").status, 401);

    // Failed logins count on every host: three on A and two on B lock the account out on
    // both, though neither host saw five.
    let bob = a.post(
        "/api/v1/users",
        &json!({"username": "bob", "password": "bob-password-1", "role": "sales", "team": "east"}),
    );
    assert_eq!(bob.status, 201, "{}", bob.body);
    let attempt = |url: &str, password: &str| {
        Client::new(url).post(
            "/api/v1/auth/login",
            &json!({"username": "bob", "password": password}),
        )
    };
    for url in [&hosts.a.1, &hosts.a.1, &hosts.a.1, &hosts.b.1] {
        assert_eq!(attempt(url, "wrong-guess").status, 401);
    }
    assert_eq!(attempt(&hosts.b.1, "wrong-guess").status, 401, "the fifth");
    for url in [&hosts.a.1, &hosts.b.1] {
        let locked = attempt(url, "bob-password-1");
        assert_eq!(locked.status, 429, "{}", locked.text);
        assert!(locked.header("retry-after").is_some());
    }

    // So do failures from one client address (behind the proxy both hosts trust): 15 on A
    // and 15 on B, each to another account, reach the 30 that lock the address out on both,
    // while another client behind the same proxy signs in.
    let from = |url: &str, client: &str, username: &str, password: &str| {
        Client::new(url).send(reqwest::Method::POST, "/api/v1/auth/login", |r| {
            r.header("x-forwarded-for", client)
                .json(&json!({"username": username, "password": password}))
        })
    };
    for i in 0..30 {
        let url = if i % 2 == 0 { &hosts.a.1 } else { &hosts.b.1 };
        let r = from(url, "203.0.113.7", &format!("guess{i}"), "wrong-guess");
        assert_eq!(r.status, 401, "guess {i}: {}", r.text);
    }
    for url in [&hosts.a.1, &hosts.b.1] {
        let locked = from(url, "203.0.113.7", "boss", "boss-password");
        assert_eq!(locked.status, 429, "{}", locked.text);
        let other = from(url, "203.0.113.8", "boss", "boss-password");
        assert_eq!(other.status, 200, "{}", other.text);
    }

    // A user deactivated on A can no longer act on B.
    let amy = a.post(
        "/api/v1/users",
        &json!({"username": "amy", "password": "amy-password-1", "role": "sales", "team": "east"}),
    );
    assert_eq!(amy.status, 201, "{}", amy.body);
    let mut amy_b = Client::new(&hosts.b.1);
    let r = amy_b.post(
        "/api/v1/auth/login",
        &json!({"username": "amy", "password": "amy-password-1"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    amy_b.token = Some(r.body["token"].as_str().unwrap().to_string());
    assert_eq!(amy_b.get("/api/v1/records/customer").status, 200);
    let amy_id = amy.body["id"].as_i64().unwrap();
    let version = amy.body["version"].as_i64().unwrap();
    let off = a.patch_v(
        &format!("/api/v1/records/user/{amy_id}"),
        version,
        &json!({"active": false}),
    );
    assert!(off.status < 300, "{}", off.body);
    caught_up(&hosts.b.1);
    assert_eq!(
        amy_b.get("/api/v1/records/customer").status,
        401,
        "a deactivation on A ends the session on B"
    );
}

/// `tx`, with both of its jobs due every 10 seconds (the shortest a manifest may ask)
/// instead of daily.
fn tx_every_ten_seconds() -> Vec<u8> {
    let mut bytes = std::fs::read(plugin_wasm("qg-test-tx")).unwrap();
    let (from, to) = (b"every_seconds = 86400", b"every_seconds = 10   ");
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| w == from)
        .map(|(i, _)| i)
        .collect();
    assert!(!at.is_empty(), "the manifest's schedule");
    for i in at {
        bytes[i..i + to.len()].copy_from_slice(to);
    }
    bytes
}

fn kv_count(c: &Client, key: &str) -> i64 {
    let got = c.get(&format!("/api/v1/plugins/tx/kv/get?key={key}"));
    assert_eq!(got.status, 200, "{}", got.body);
    match &got.body["value"] {
        Value::String(s) => s.parse().unwrap(),
        _ => 0,
    }
}

#[test]
fn a_scheduled_job_runs_once_per_turn_across_hosts() {
    let Some(server) = server() else { return };
    let hosts = two_hosts(&server);
    let (a, b) = (login(&hosts.a.1), login(&hosts.b.1));
    let up = install_bytes(&a, tx_every_ten_seconds(), true);
    assert_eq!(up.status, 201, "{}", up.text);
    let started = Instant::now();
    within(Duration::from_secs(30), || {
        (b.get("/api/v1/plugins/tx/kv/get?key=x").status == 200).then_some(())
    })
    .expect("B serves tx");
    std::thread::sleep(Duration::from_secs(21).saturating_sub(started.elapsed()));
    // Each job's clock starts when it is first seen: due at about 10 and 20 seconds. Run by
    // both hosts, it would have run twice as often.
    let elapsed = started.elapsed().as_secs_f64();
    for job in ["walk", "flaky"] {
        let runs = kv_count(&b, &format!("{job}:steps"));
        let turns = (elapsed / 10.0).floor() as i64;
        eprintln!("{job}: {runs} runs in {elapsed:.1} s on two hosts ({turns} turns)");
        assert!(
            (turns - 1..=turns).contains(&runs),
            "{job} ran {runs} times in {elapsed:.1} s"
        );
    }
}

#[test]
fn a_host_killed_under_load_loses_no_acknowledged_write_and_the_other_serves_on() {
    let Some(server) = server() else { return };
    let mut hosts = two_hosts(&server);
    let acknowledged = Arc::new(Mutex::new(Vec::<(i64, String)>::new()));
    let failed_on_b = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let on_b = w % 2 == 1;
            let url = if on_b { &hosts.b.1 } else { &hosts.a.1 }.clone();
            let (acknowledged, failed_on_b, stop) =
                (acknowledged.clone(), failed_on_b.clone(), stop.clone());
            std::thread::spawn(move || {
                let token = login(&url).token.unwrap();
                let http = reqwest::blocking::Client::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("写入 {w}-{i}");
                    let sent = http
                        .post(format!("{url}/api/v1/records/customer"))
                        .bearer_auth(&token)
                        .json(&json!({"name": name, "kind": "company", "status": "lead"}))
                        .send();
                    let ok = sent.ok().filter(|r| r.status().as_u16() == 201);
                    let Some(body) = ok.and_then(|r| r.json::<Value>().ok()) else {
                        if on_b {
                            failed_on_b.lock().unwrap().push(name);
                            continue;
                        }
                        break; // A is gone
                    };
                    acknowledged
                        .lock()
                        .unwrap()
                        .push((body["id"].as_i64().unwrap(), name));
                }
            })
        })
        .collect();
    let count = || acknowledged.lock().unwrap().len();
    within(Duration::from_secs(60), || (count() >= 200).then_some(())).expect("writes flow");
    hosts.a.0 .0.kill().unwrap();
    hosts.a.0 .0.wait().unwrap();
    let at_kill = count();
    within(Duration::from_secs(60), || {
        (count() >= at_kill + 100).then_some(())
    })
    .expect("B goes on acknowledging writes");
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    assert!(
        failed_on_b.lock().unwrap().is_empty(),
        "writes through B failed when A was killed: {:?}",
        failed_on_b.lock().unwrap().first()
    );
    let b = login(&hosts.b.1);
    let found = b.every("customer", "name");
    let acknowledged = acknowledged.lock().unwrap().clone();
    for (id, name) in &acknowledged {
        assert_eq!(
            found.get(id),
            Some(name),
            "acknowledged write {id} was lost"
        );
    }
    eprintln!(
        "{} writes acknowledged through two hosts ({at_kill} when A was killed); all there",
        acknowledged.len()
    );
}

#[test]
fn a_host_is_refused_while_a_host_of_another_version_holds_the_database() {
    let Some(server) = server() else { return };
    let db = PgDatabase::create(&server);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let data = data.to_str().unwrap();
    // Hosts from before several hosts were supported held the serving lock alone, as a host
    // migrating the schema does: a new host waits for it, then stops without serving.
    let mut older = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    older
        .batch_execute("SELECT pg_advisory_lock(1902605174)")
        .unwrap(); // 0x7167_7376, "qgsv"
    let out = crate::cli::bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data])
        .args(["--database", &db.url])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("another version"), "{said}");
    // Nor does a command of the newer version migrate the database under it.
    let mut add = crate::cli::bin()
        .args(["user", "add", "boss", "--role", "admin", "--password-stdin"])
        .args(["--data-dir", data, "--database", &db.url])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = add.stdin.take().unwrap();
        stdin.write_all(b"boss-password\n").unwrap();
    }
    let out = add.wait_with_output().unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another version"),
        "{out:?}"
    );
    let mut check = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let tables: i64 = check
        .query_one(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'r_customer'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "nothing was migrated");
    // Once it lets go, hosts of this version serve.
    drop(older);
    let (_a, url) = start(&["serve", "--data-dir", data, "--database", &db.url]);
    assert_eq!(Client::new(&url).get("/api/v1/health").body["hosts"], 1);
}
