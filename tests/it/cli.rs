//! The `qingguan` command line, run as a real process.

use qingguan_tests::Client;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

pub(crate) fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qingguan-cli"));
    c.env("QINGGUAN_LOG", "warn")
        .env_remove("QINGGUAN_DATA_DIR")
        .env_remove("QINGGUAN_PASSWORD");
    c
}

/// Kills the child on drop so a failing test leaves no server behind.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `qingguan ARGS --listen 127.0.0.1:0` and returns the URL it printed.
pub(crate) fn start(args: &[&str]) -> (Running, String) {
    let mut child = bin()
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn qingguan");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push(line.clone());
        if let Some(i) = line.find("http://") {
            let url = line[i..]
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
            std::thread::spawn(move || for _ in lines {});
            let probe = Client::new(&url);
            let started = std::time::Instant::now();
            while probe.get("/api/v1/health").status != 200 {
                assert!(
                    started.elapsed().as_secs() < 120,
                    "server never became ready"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            return (running, url);
        }
    }
    panic!("no URL printed: {printed:?}");
}

#[test]
fn user_add_then_serve_then_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();

    let out = bin()
        .args([
            "user",
            "add",
            "boss",
            "--role",
            "admin",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--password-stdin"),
        "{out:?}"
    );

    let out = bin()
        .args([
            "user",
            "add",
            "boss",
            "--role",
            "admin",
            "--password",
            "short",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 8"),
        "{out:?}"
    );

    let out = bin()
        .args([
            "user",
            "add",
            "boss",
            "--role",
            "emperor",
            "--password",
            "long-enough",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no role 'emperor'"),
        "{out:?}"
    );

    let mut child = bin()
        .args([
            "user",
            "add",
            "boss",
            "--role",
            "admin",
            "--display-name",
            "老板",
            "--password-stdin",
            "--data-dir",
            data_s,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");

    let out = bin()
        .args(["user", "list", "--data-dir", data_s])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("boss") && listed.contains("老板"),
        "{listed}"
    );

    let (server, url) = start(&["serve", "--data-dir", data_s]);
    let c = Client::new(&url);
    assert_eq!(c.get("/api/v1/health").status, 200);
    let login = c.post(
        "/api/v1/auth/login",
        &json!({"username": "boss", "password": "correct horse battery"}),
    );
    assert_eq!(login.status, 200, "{}", login.text);
    let mut c = c;
    c.token = login.body["token"].as_str().map(String::from);
    c.create(
        "customer",
        json!({"name": "Backed up", "kind": "company", "status": "lead"}),
    );

    let target = dir.path().join("copy.db");
    let out = bin()
        .args(["backup", target.to_str().unwrap(), "--data-dir", data_s])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let again = bin()
        .args(["backup", target.to_str().unwrap(), "--data-dir", data_s])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{again:?}"
    );
    drop(server);

    // The copy is a working install.
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&target, restored.join("qingguan.db")).unwrap();
    let (_server, url) = start(&["serve", "--data-dir", restored.to_str().unwrap()]);
    let mut c = Client::new(&url);
    let login = c.post(
        "/api/v1/auth/login",
        &json!({"username": "boss", "password": "correct horse battery"}),
    );
    c.token = login.body["token"].as_str().map(String::from);
    let list = c.get("/api/v1/records/customer");
    assert_eq!(list.body["items"][0]["name"], "Backed up");

    let missing = bin()
        .args([
            "backup",
            "x.db",
            "--data-dir",
            dir.path().join("nowhere").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no database"),
        "{missing:?}"
    );
}

#[test]
fn demo_serves_a_company_with_role_logins() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = start(&[
        "demo",
        "--data-dir",
        dir.path().join("demo").to_str().unwrap(),
    ]);
    let anon = Client::new(&url);
    for role in ["admin", "manager", "sales", "hr", "finance"] {
        let r = anon.post(
            "/api/v1/auth/login",
            &json!({"username": role, "password": role}),
        );
        assert_eq!(r.status, 200, "{role}: {}", r.text);
        assert_eq!(r.body["user"]["role"], role);
    }
    let mut admin = Client::new(&url);
    let r = anon.post(
        "/api/v1/auth/login",
        &json!({"username": "admin", "password": "admin"}),
    );
    admin.token = r.body["token"].as_str().map(String::from);
    let mut total = 0;
    let mut cursor = String::new();
    loop {
        let page = admin.get(&format!("/api/v1/records/customer?limit=200{cursor}"));
        total += page.body["items"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(total, 200);
    let sales = admin.get("/api/v1/plugins/sales");
    assert_eq!(
        sales.body["status"], "active",
        "the demo runs the first-party plugins: {}",
        sales.text
    );
    let won = admin.get("/api/v1/records/deal?stage=won&limit=200");
    assert!(
        won.body["items"].as_array().unwrap().len() > 20,
        "deals over the last year"
    );
    let followups = admin.get("/api/v1/records/followup?limit=10");
    assert_eq!(followups.body["items"].as_array().unwrap().len(), 10);
    let contacts = admin.get("/api/v1/records/contact?limit=200");
    assert_eq!(contacts.body["items"].as_array().unwrap().len(), 200);
    assert!(
        contacts.body["next_cursor"].is_string(),
        "more than 200 contacts"
    );
    // Appraisal: last quarter closed with scores and bonus, this quarter being appraised.
    let login = |who: &str| {
        let mut c = Client::new(&url);
        let r = c.post(
            "/api/v1/auth/login",
            &json!({"username": who, "password": who}),
        );
        c.token = r.body["token"].as_str().map(String::from);
        c
    };
    let hr = login("hr");
    let cycles = hr
        .get("/api/v1/records/appraisal_cycle?sort=starts_on")
        .body["items"]
        .clone();
    let stages: Vec<&str> = cycles
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, vec!["closed", "appraise"]);
    let closed = hr.get(&format!(
        "/api/v1/plugins/appraisal/results?cycle={}",
        cycles[0]["id"]
    ));
    assert_eq!(closed.status, 200, "{}", closed.text);
    let people = closed.body["appraisals"].as_array().unwrap();
    assert_eq!(people.len(), 4, "three reps and their manager");
    assert!(
        people
            .iter()
            .all(|a| a["grade"].as_str().is_some_and(|g| g != "-") && a["bonus"].is_string()),
        "{}",
        closed.text
    );
    let running = hr.get(&format!(
        "/api/v1/plugins/appraisal/results?cycle={}",
        cycles[1]["id"]
    ));
    assert_eq!(running.body["closed"], false);
    assert_eq!(hr.get("/api/v1/plugins/appraisal/hr").status, 200);
    // Inventory: stock received and valued, orders from won deals, some delivered.
    let stock = admin.send(
        reqwest::Method::GET,
        "/api/v1/plugins/inventory/stock",
        |r| r.header("accept", "application/json"),
    );
    assert_eq!(stock.status, 200, "{}", stock.text);
    assert!(
        stock.body["rows"].as_array().unwrap().len() >= 6,
        "{}",
        stock.text
    );
    let value: f64 = stock.body["total_value"].as_str().unwrap().parse().unwrap();
    assert!(value > 100_000.0, "{}", stock.text);
    let delivered = admin.get("/api/v1/records/sales_order?status=delivered&limit=50");
    assert!(
        !delivered.body["items"].as_array().unwrap().is_empty(),
        "{}",
        delivered.text
    );
    let stock_page = login("sales").get("/api/v1/plugins/inventory/stock");
    assert!(
        stock_page.text.contains("可用量"),
        "a rep's stock page: {}",
        stock_page.text
    );
    // Finance: invoices for what was delivered, payments received, books that balance.
    let fin = login("finance");
    let invoices = fin.get("/api/v1/records/invoice?limit=50");
    assert!(
        !invoices.body["items"].as_array().unwrap().is_empty(),
        "{}",
        invoices.text
    );
    let tb = fin.send(
        reqwest::Method::GET,
        "/api/v1/plugins/finance/trial-balance?from=2000-01-01",
        |r| r.header("accept", "application/json"),
    );
    assert_eq!(tb.status, 200, "{}", tb.text);
    assert_eq!(
        tb.body["total_debit"], tb.body["total_credit"],
        "{}",
        tb.text
    );
    assert_ne!(tb.body["total_debit"], "0", "{}", tb.text);
    // Bills for what was received, posted; some paid; goods received all billed (暂估 cleared).
    let bills = fin.get("/api/v1/records/bill?limit=50").body;
    let bills = bills["items"].as_array().unwrap();
    assert!(
        !bills.is_empty() && bills.iter().all(|b| b["status"] != "draft"),
        "{bills:?}"
    );
    assert!(bills.iter().any(|b| b["status"] == "paid"), "{bills:?}");
    let grni = tb.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "220201")
        .cloned()
        .unwrap_or_default();
    assert_eq!(grni["debit"], grni["credit"], "{grni}");
    // Deals follow the demo's workflow: an open deal over ¥100,000 is won only through the
    // manager's approval, a smaller one at once.
    let sales = login("sales");
    let open = sales
        .get("/api/v1/records/deal?stage[in]=lead,qualified,proposal,negotiation&sort=-amount&limit=200")
        .body;
    let open = open["items"].as_array().unwrap();
    assert!(!open.is_empty(), "the rep has open deals");
    let mut big_seen = false;
    for deal in open.iter().take(10) {
        let path = format!("/api/v1/records/deal/{}", deal["id"]);
        let big = deal["amount"]
            .as_str()
            .and_then(|a| a.parse::<f64>().ok())
            .unwrap_or(0.0)
            > 100_000.0;
        let wf = sales.get(&format!("{path}/workflow")).body;
        let names: Vec<&str> = wf["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            (names.contains(&"win_big"), names.contains(&"win")),
            (big, !big),
            "{deal} {wf}"
        );
        if big {
            big_seen = true;
            let direct = sales.patch_v(
                &path,
                deal["version"].as_i64().unwrap(),
                &serde_json::json!({"stage": "won"}),
            );
            assert_eq!(direct.status, 422, "{}", direct.text);
        }
    }
    assert!(
        big_seen,
        "the rep's biggest open deals include one over ¥100,000"
    );
    // Office work: the rep's leave waits for the manager, one claim is paid, one waits; the
    // announcements and the rep's tasks are there.
    let manager = login("manager");
    let waiting = manager.get("/api/v1/approvals").body;
    let entities: Vec<&str> = waiting["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["entity"].as_str())
        .collect();
    assert!(
        entities.contains(&"leave_request") && entities.contains(&"expense_claim"),
        "{waiting}"
    );
    let claims = sales.get("/api/v1/records/expense_claim?sort=id").body;
    let statuses: Vec<&str> = claims["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["draft", "paid"], "{claims}");
    assert_eq!(claims["items"][0]["total"], "952.50", "146 + 480 + 326.50");
    let tasks = sales.get("/api/v1/plugins/oa/tasks");
    assert!(tasks.text.contains("data-overdue"), "{}", tasks.text);
    let news = sales.send(
        reqwest::Method::GET,
        "/api/v1/plugins/oa/announcements",
        |r| r.header("accept", "application/json"),
    );
    assert_eq!(
        news.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        news.text
    );
    // The demo company speaks Chinese to whoever chose no language.
    let me = login("sales").get("/api/v1/plugins/appraisal/me");
    assert!(
        me.text.contains("目标已确认") && me.text.contains("历史考核"),
        "{}",
        me.text
    );
    // ... and its data is Chinese too: people, teams, KPI names, announcements.
    let latin = |s: &str| s.chars().any(|c| c.is_ascii_alphabetic());
    assert!(
        !me.text.contains("Won revenue") && me.text.contains("赢单金额"),
        "{}",
        me.text
    );
    let users = admin.get("/api/v1/records/user?limit=50");
    for u in users.body["items"].as_array().unwrap() {
        let (name, team) = (
            u["display_name"].as_str().unwrap_or(""),
            u["team"].as_str().unwrap_or(""),
        );
        assert!(!latin(name), "a Chinese name: {u}");
        assert!(
            ["总部", "东区", "西区"].contains(&team),
            "a team by name: {u}"
        );
    }
    for item in news.body["items"].as_array().unwrap() {
        let title = item["title"].as_str().unwrap();
        assert!(!latin(title), "{item}");
    }
}

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

#[test]
fn plugin_new_scaffolds_a_crate_that_builds_and_installs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let out = bin()
        .args([
            "plugin",
            "new",
            "acme-ext",
            "--dir",
            dir.path().to_str().unwrap(),
            "--source",
        ])
        .arg(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let crate_dir = dir.path().join("acme-ext");
    for f in [
        "Cargo.toml",
        "qingguan.toml",
        "src/lib.rs",
        "tests/plugin.rs",
        "rust-toolchain.toml",
    ] {
        assert!(crate_dir.join(f).exists(), "{f} missing");
    }
    let again = bin()
        .args([
            "plugin",
            "new",
            "acme-ext",
            "--dir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{again:?}"
    );
    let bad = bin()
        .args([
            "plugin",
            "new",
            "Bad Name",
            "--dir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());

    // Build it as its README says, with the versions the first-party plugins are locked to
    // and in the target dir they were built in, whose dependencies it shares (a fresh
    // resolution and build of the SDK's dependencies took 43 s; this takes about 4).
    std::fs::copy(
        repo_root().join("plugins/Cargo.lock"),
        crate_dir.join("Cargo.lock"),
    )
    .unwrap();
    let wasm = qingguan_runtime::testing::build_plugin_in(
        &crate_dir,
        qingguan_tests::plugins_target_dir(),
    )
    .expect("scaffold builds to wasm32-wasip2");

    let no = bin()
        .args([
            "plugin",
            "install",
            wasm.to_str().unwrap(),
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&no.stderr).contains("approval"),
        "{no:?}"
    );
    let yes = bin()
        .args([
            "plugin",
            "install",
            wasm.to_str().unwrap(),
            "--approve",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(yes.status.success(), "{yes:?}");
    let list = bin()
        .args(["plugin", "list", "--data-dir", data_s])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("acme-ext") && listed.contains("active"),
        "{listed}"
    );

    let add = bin()
        .args([
            "user",
            "add",
            "boss",
            "--role",
            "admin",
            "--password",
            "long-enough",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(add.status.success(), "{add:?}");
    let (_server, url) = start(&["serve", "--data-dir", data_s]);
    let mut c = Client::new(&url);
    let login = c.post(
        "/api/v1/auth/login",
        &json!({"username": "boss", "password": "long-enough"}),
    );
    c.token = login.body["token"].as_str().map(String::from);
    let item = c.create("acme_ext_item", json!({"title": "  trimmed  "}));
    assert_eq!(item["title"], "trimmed");
    let hello = c.get("/api/v1/plugins/acme-ext/hello");
    assert_eq!(hello.body["items"], 1, "{}", hello.text);

    // A CLI change reaches the running server within its sync interval.
    let off = bin()
        .args(["plugin", "disable", "acme-ext", "--data-dir", data_s])
        .output()
        .unwrap();
    assert!(off.status.success(), "{off:?}");
    let started = std::time::Instant::now();
    loop {
        let r = c.get("/api/v1/plugins/acme-ext/hello");
        if r.status == 409 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 20,
            "server never noticed: {}",
            r.text
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let rm = bin()
        .args([
            "plugin",
            "remove",
            "acme-ext",
            "--purge",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(rm.status.success(), "{rm:?}");
    let missing = bin()
        .args(["plugin", "enable", "acme-ext", "--data-dir", data_s])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no plugin 'acme-ext'"),
        "{missing:?}"
    );
}

#[test]
fn a_crash_during_an_upgrade_leaves_one_consistent_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap().to_string();
    let add = bin()
        .args([
            "user",
            "add",
            "boss",
            "--role",
            "admin",
            "--password",
            "long-enough",
            "--data-dir",
            &data_s,
        ])
        .output()
        .unwrap();
    assert!(add.status.success(), "{add:?}");
    let v1 = qingguan_tests::plugin_wasm("qg-test-good");
    let ok = bin()
        .args([
            "plugin",
            "install",
            v1.to_str().unwrap(),
            "--approve",
            "--data-dir",
            &data_s,
        ])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");

    // Serve, start the slow migration through the API, and kill -9 the moment it logs that
    // the migration started.
    let mut child = bin()
        .env("QINGGUAN_LOG", "warn")
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_s])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = BufReader::new(stdout)
        .lines()
        .map(|l| l.unwrap())
        .find_map(|l| {
            l.find("http://").map(|i| {
                l[i..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_string()
            })
        })
        .unwrap();
    let mut c = Client::new(&url);
    while c.get("/api/v1/health").status != 200 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let login = c.post(
        "/api/v1/auth/login",
        &json!({"username": "boss", "password": "long-enough"}),
    );
    c.token = login.body["token"].as_str().map(String::from);
    c.create("note", json!({"title": "precious"}));
    let uploader = c.clone();
    let upload = std::thread::spawn(move || {
        qingguan_tests::install(&uploader, "qg-test-good-slow-upgrade", false).status
    });
    let stderr = child.stderr.take().unwrap();
    let saw = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("migration started"));
    assert!(saw, "the migration never started");
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = upload.join();

    // After a restart the plugin is at exactly one version, with that version's data.
    let (_server, url) = start(&["serve", "--data-dir", &data_s]);
    let mut c = Client::new(&url);
    let login = c.post(
        "/api/v1/auth/login",
        &json!({"username": "boss", "password": "long-enough"}),
    );
    c.token = login.body["token"].as_str().map(String::from);
    let info = c.get("/api/v1/plugins/good");
    let version = info.body["version"].as_str().unwrap().to_string();
    assert_eq!(info.body["status"], "active", "{}", info.text);
    let mut migrated = 0;
    let mut cursor = String::new();
    loop {
        let page = c.get(&format!(
            "/api/v1/records/note?title[contains]=migrated&limit=200{cursor}"
        ));
        migrated += page.body["items"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => break,
        }
    }
    match version.as_str() {
        "1.0.0" => assert_eq!(migrated, 0, "the interrupted migration left nothing behind"),
        "1.4.0" => assert_eq!(migrated, 3000, "a committed migration is whole"),
        other => panic!("unexpected version {other}"),
    }
    let kept = c.get("/api/v1/records/note?title=precious");
    assert_eq!(
        kept.body["items"].as_array().unwrap().len(),
        1,
        "no data lost"
    );
    let n = c.create("note", json!({"title": "after the crash"}));
    assert!(
        n["stamp"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{version}")),
        "{n}"
    );
    eprintln!("crash during migration: restarted at {version} with {migrated} migrated records");
}

/// A backup is the whole install: restored into an empty directory it serves with every plugin
/// active and its data in place — also plugins whose kept versions live in plugins/versions.
#[test]
fn backup_then_restore_brings_the_whole_install_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let out = bin().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[
        "user",
        "add",
        "boss",
        "--role",
        "admin",
        "--password",
        "long-enough",
        "--data-dir",
        &data_s,
    ]);
    for p in ["qingguan-sales", "qg-test-good"] {
        let wasm = qingguan_tests::plugin_wasm(p);
        run(&[
            "plugin",
            "install",
            wasm.to_str().unwrap(),
            "--approve",
            "--data-dir",
            &data_s,
        ]);
    }
    let (server, url) = start(&["serve", "--data-dir", &data_s]);
    let mut boss = Client::new(&url);
    let login = boss.post(
        "/api/v1/auth/login",
        &json!({"username": "boss", "password": "long-enough"}),
    );
    boss.token = Some(login.body["token"].as_str().unwrap().to_string());
    let c = boss.create(
        "customer",
        json!({"name": "备份客户", "kind": "company", "status": "lead"}),
    );
    boss.create(
        "deal",
        json!({"title": "ERP", "customer": c["id"], "stage": "lead"}),
    );
    boss.create("note", json!({"title": "kept"}));
    // Backed up while serving.
    let file = dir.path().join("install.qgbak");
    let said = run(&["backup", file.to_str().unwrap(), "--data-dir", &data_s]);
    assert!(said.contains("2 plugin file(s)"), "{said}");
    drop(server);

    let restored = dir.path().join("restored");
    let restored_s = restored.to_str().unwrap().to_string();
    let said = run(&["restore", file.to_str().unwrap(), "--data-dir", &restored_s]);
    assert!(said.contains("2 plugin file(s)"), "{said}");
    let again = bin()
        .args(["restore", file.to_str().unwrap(), "--data-dir", &restored_s])
        .output()
        .unwrap();
    assert!(!again.status.success(), "never over an existing install");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{again:?}"
    );

    let (_server, url) = start(&["serve", "--data-dir", &restored_s]);
    let mut boss = Client::new(&url);
    let login = boss.post(
        "/api/v1/auth/login",
        &json!({"username": "boss", "password": "long-enough"}),
    );
    assert_eq!(login.status, 200, "{}", login.text);
    boss.token = Some(login.body["token"].as_str().unwrap().to_string());
    let plugins = boss.get("/api/v1/plugins");
    for id in ["sales", "good"] {
        let p = plugins
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id);
        assert_eq!(p.unwrap()["status"], "active", "{id}: {}", plugins.text);
    }
    let deals = boss.get("/api/v1/records/deal");
    assert_eq!(deals.body["items"][0]["title"], "ERP", "{}", deals.text);
    let note = boss.create("note", json!({"title": "after restore"}));
    assert_eq!(note["state"], "open", "the good plugin's hooks run");
    let found = boss.get("/api/v1/search?q=备份");
    assert!(found.text.contains("备份客户"), "{}", found.text);
}

/// A file that is not a backup is refused with a clear message, and leaves no half-restored
/// install behind (a later restore of a real backup into the same directory still works).
#[test]
fn restoring_something_that_is_not_a_backup_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.qgbak");
    std::fs::write(&junk, b"this is not a database at all, just text").unwrap();
    let target = dir.path().join("restored");
    let out = bin()
        .args([
            "restore",
            junk.to_str().unwrap(),
            "--data-dir",
            target.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("not a Qingguan backup"), "{said}");
    assert!(
        !target.join("qingguan.db").exists(),
        "no database left behind"
    );
    let missing = bin()
        .args([
            "restore",
            "/nonexistent.qgbak",
            "--data-dir",
            target.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no backup at"),
        "{missing:?}"
    );
}

/// A component built without the Rust SDK (here: the 1.1 test plugin without its embedded
/// manifest, as componentize-py or jco would produce it) is refused with both ways to fix it
/// named, and installs once `qingguan plugin pack` has embedded its qingguan.toml.
#[test]
fn plugin_pack_embeds_a_manifest_into_a_bare_component() {
    let s = qingguan_tests::TestServer::start();
    let admin = s.admin();
    let bare = qingguan_tests::plugin_wasm("qg-test-bare");
    let bytes = std::fs::read(&bare).unwrap();
    let refused = admin.send(reqwest::Method::POST, "/api/v1/plugins?approve=true", |r| {
        r.header("content-type", "application/wasm").body(bytes)
    });
    let msg = refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        msg.contains("export_plugin!") && msg.contains("qingguan plugin pack"),
        "{msg}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("past11.wasm");
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/testing/past-sdk-11/qingguan.toml");
    let run = bin()
        .args(["plugin", "pack"])
        .arg(&bare)
        .arg("--manifest")
        .arg(&manifest)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let again = bin()
        .args(["plugin", "pack"])
        .arg(&out)
        .arg("--manifest")
        .arg(&manifest)
        .arg("-o")
        .arg(dir.path().join("twice.wasm"))
        .output()
        .unwrap();
    assert!(!again.status.success(), "packing twice is refused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already carries a manifest"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let packed = std::fs::read(&out).unwrap();
    let installed = admin.send(reqwest::Method::POST, "/api/v1/plugins?approve=true", |r| {
        r.header("content-type", "application/wasm").body(packed)
    });
    assert_eq!(installed.status, 201, "{}", installed.text);
    assert_eq!(installed.body["id"], "past11");
    let counts = admin.post("/api/v1/plugins/past11/counts", &json!({}));
    assert_eq!(counts.status, 200, "{}", counts.text);
}
