//! An import killed part-way (kill -9 of the real server process) is interrupted, keeps what
//! it committed — whole chunks, counted exactly — and resumes where it stopped after a
//! restart: no row written twice, none skipped. Only the person who started it may resume.
//! And one server per data directory, so that no two processes run one import.

use crate::cli::{bin, start};
use qingguan_tests::Client;
use serde_json::json;

fn login(url: &str, user: &str, password: &str) -> Client {
    let mut c = Client::new(url);
    let r = c.post(
        "/api/v1/auth/login",
        &json!({"username": user, "password": password}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    c.token = r.body["token"].as_str().map(String::from);
    c
}

/// The log's status and counts (its refused rows left out of messages).
fn brief(log: &serde_json::Value) -> String {
    format!(
        "{} rows_done={} inserted={} failed={} first error={}",
        log["status"], log["rows_done"], log["inserted"], log["failed"], log["errors"][0]
    )
}

fn count(c: &Client) -> i64 {
    c.get("/api/v1/records/customer?limit=1&count=true").body["total"]
        .as_i64()
        .unwrap()
}

#[test]
fn an_import_killed_part_way_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    for (user, role) in [("boss", "admin"), ("amy", "sales")] {
        let out = bin()
            .args([
                "user",
                "add",
                user,
                "--role",
                role,
                "--password",
                "long-enough-pw",
            ])
            .args(["--data-dir", data_s])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    // 24 chunks of 500: the kill lands after the second, far from the end, and the undo below
    // is stopped part-way. (60,000 rows made this the suite's longest test, 85 s.)
    let total = 12_000;
    let mut csv = String::from("名称,类型,状态\n");
    for i in 0..total {
        csv.push_str(&format!("客户{i:05},company,lead\n"));
    }

    let (mut running, url) = start(&["serve", "--data-dir", data_s]);
    let boss = login(&url, "boss", "long-enough-pw");
    let up = boss.send(
        reqwest::Method::POST,
        "/api/v1/imports?entity=customer&file_name=big.csv",
        |r| r.body(csv.into_bytes()),
    );
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["import"]["id"].as_i64().unwrap();
    let options = json!({"mapping": {"名称": "name", "类型": "kind", "状态": "status"}});
    let r = boss.post(&format!("/api/v1/imports/{id}/run"), &options);
    assert_eq!(r.status, 202, "{}", r.text);
    // Kill -9 once some chunks are in, well before the end.
    let started = std::time::Instant::now();
    loop {
        let log = boss.get(&format!("/api/v1/imports/{id}")).body;
        let done = log["rows_done"].as_i64().unwrap_or(0);
        assert_eq!(
            log["status"],
            "running",
            "finished before the kill: {}",
            brief(&log)
        );
        if done >= 1_000 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "no progress: {}",
            brief(&log)
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    running.0.kill().unwrap();
    running.0.wait().unwrap();

    let (_running, url) = start(&["serve", "--data-dir", data_s]);
    let boss = login(&url, "boss", "long-enough-pw");
    let log = boss.get(&format!("/api/v1/imports/{id}")).body;
    assert_eq!(log["status"], "interrupted", "{}", brief(&log));
    let kept = log["rows_done"].as_i64().unwrap();
    assert!(kept > 0 && kept < total, "{}", brief(&log));
    assert_eq!(kept % 500, 0, "whole chunks: {}", brief(&log));
    assert_eq!(log["inserted"].as_i64(), Some(kept), "{}", brief(&log));
    assert_eq!(
        count(&boss),
        kept,
        "what the log counts is what was committed"
    );

    // Someone else may not resume it; its importer may, once.
    let amy = login(&url, "amy", "long-enough-pw");
    let theirs = amy.post(&format!("/api/v1/imports/{id}/resume"), &json!({}));
    assert!(
        theirs.status == 403 || theirs.status == 404,
        "{}",
        theirs.text
    );
    let r = boss.post(&format!("/api/v1/imports/{id}/resume"), &json!({}));
    assert_eq!(r.status, 202, "{}", r.text);
    let again = boss.post(&format!("/api/v1/imports/{id}/resume"), &json!({}));
    assert_eq!(again.status, 409, "{}", again.text);
    let started = std::time::Instant::now();
    let log = loop {
        let log = boss.get(&format!("/api/v1/imports/{id}")).body;
        if log["status"] != "running" {
            break log;
        }
        assert!(
            started.elapsed().as_secs() < 600,
            "never finished: {}",
            brief(&log)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(log["status"], "done", "{}", brief(&log));
    assert_eq!(
        (
            log["rows_done"].as_i64(),
            log["inserted"].as_i64(),
            log["failed"].as_i64()
        ),
        (Some(total), Some(total), Some(0)),
        "{}",
        brief(&log)
    );
    assert_eq!(count(&boss), total, "no row twice, none skipped");
    let last_name = format!("客户{:05}", total - 1);
    let last = boss
        .get(&format!(
            "/api/v1/records/customer?name={}",
            form_urlencoded::byte_serialize(last_name.as_bytes()).collect::<String>()
        ))
        .body;
    assert_eq!(last["items"].as_array().unwrap().len(), 1, "{last}");
    // An undo killed part-way is stopped, and can be run again to the end.
    drop(_running);
    let (mut running, url) = start(&["serve", "--data-dir", data_s]);
    let boss = login(&url, "boss", "long-enough-pw");
    let r = boss.post(&format!("/api/v1/imports/{id}/undo"), &json!({}));
    assert_eq!(r.status, 202, "{}", brief(&r.body));
    let started = std::time::Instant::now();
    while count(&boss) == total {
        assert!(started.elapsed().as_secs() < 120, "the undo never began");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    running.0.kill().unwrap();
    running.0.wait().unwrap();
    let (_running, url) = start(&["serve", "--data-dir", data_s]);
    let boss = login(&url, "boss", "long-enough-pw");
    let log = boss.get(&format!("/api/v1/imports/{id}")).body;
    assert!(count(&boss) > 0, "the undo was stopped part-way");
    assert_eq!(log["status"], "undo_stopped", "{}", brief(&log));
    // Stopped part-way, it is never resumed (that would leave a gap); undone again, it ends.
    let r = boss.post(&format!("/api/v1/imports/{id}/resume"), &json!({}));
    assert_eq!(r.status, 409, "{}", r.text);
    let (report, status) = crate::imports::undo_and_wait(&boss, id);
    assert_eq!(status, "undone", "{report}");
    assert_eq!(
        report["deleted"].as_i64(),
        Some(total),
        "the records the first undo deleted count as undone: {}",
        report["deleted"]
    );
    assert_eq!(count(&boss), 0);
}

/// One server per data directory: a second `serve` of it stops at once with a clear message
/// (it would run the install's imports, jobs and plugin swaps a second time), and serves once
/// the first has stopped — even one killed with -9.
#[test]
fn a_second_server_of_one_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let (mut first, _url) = start(&["serve", "--data-dir", data_s]);
    let second = bin()
        .args(["serve", "--data-dir", data_s, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!second.status.success(), "{second:?}");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("already serving"), "{err}");
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let (_again, url) = start(&["serve", "--data-dir", data_s]);
    assert_eq!(Client::new(&url).get("/api/v1/health").status, 200);
}

/// The import's page offers "继续导入" for an interrupted import to the person who started it
/// (and only while it is interrupted); the form resumes it and the page follows it to the end.
#[test]
fn the_import_page_resumes_an_interrupted_import() {
    use qingguan_core::imports::ImportPass;
    let s = qingguan_tests::TestServer::start();
    let admin = s.admin();
    let mut csv = String::from("名称\n");
    for i in 0..1_200 {
        csv.push_str(&format!("页面客户{i:04}\n"));
    }
    let up = admin.send(
        reqwest::Method::POST,
        "/api/v1/imports?entity=customer&file_name=page.csv",
        |r| r.body(csv.into_bytes()),
    );
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["import"]["id"].as_i64().unwrap();
    // As a server stopped mid-pass leaves it: moved into its pass by a host that is gone, then
    // interrupted by the host that takes over.
    let admin_id = s.store.user_id("admin").unwrap().unwrap();
    let (access, _) = s.store.access_for(admin_id).unwrap();
    s.store
        .begin_import_pass(
            &access,
            id,
            ImportPass::Import,
            &json!({"mapping": {"名称": "name"}}),
        )
        .unwrap();
    s.execute_sql(
        "UPDATE imports SET host = 'gone' WHERE id = ?1",
        &[qingguan_tests::SqlParam::Int(id)],
    );
    s.store.interrupt_imports().unwrap();

    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let page = ui.get(&format!("/imports/{id}"), "zh-CN");
    assert!(
        page.text.contains("已中断") && page.text.contains("继续导入"),
        "{}",
        page.text
    );
    let started = ui.post(&format!("/imports/{id}"), "zh-CN", &[("action", "resume")]);
    assert_eq!(started.status, 200, "{}", started.text);
    let done = (0..600)
        .find_map(|_| {
            let page = ui.get(&format!("/imports/{id}"), "zh-CN");
            if page.text.contains("<progress") {
                std::thread::sleep(std::time::Duration::from_millis(50));
                None
            } else {
                Some(page.text)
            }
        })
        .expect("the resumed import ends");
    assert!(
        done.contains("已导入") && !done.contains("继续导入"),
        "{done}"
    );
    assert_eq!(
        admin
            .get("/api/v1/records/customer?limit=1&count=true")
            .body["total"],
        1_200
    );
}
