//! An install on PostgreSQL, through the command line: `qingguan migrate` copies a SQLite
//! install whole into an empty PostgreSQL database, and `serve --database` serves it from there
//! — several hosts side by side. Runs where `QG_TEST_POSTGRES` names a server (`.ci/run` starts
//! one for its second pass); elsewhere it says so and returns.

use crate::cli::{bin, start};
use qingguan_tests::{Client, PgDatabase};
use serde_json::json;
use std::io::Write;
use std::process::Stdio;

fn server() -> Option<String> {
    let server = std::env::var("QG_TEST_POSTGRES").ok();
    if server.is_none() {
        eprintln!("QG_TEST_POSTGRES is not set: the PostgreSQL command-line test does not run");
    }
    server
}

/// Adds the administrator `boss` to the install in `data` (`extra`: e.g. `--database URL`).
pub(crate) fn user_add(data: &str, extra: &[&str]) {
    let mut child = bin()
        .args(["user", "add", "boss", "--role", "admin", "--password-stdin"])
        .args(["--data-dir", data])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"boss-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// `boss`, signed in.
pub(crate) fn login(url: &str) -> Client {
    let mut c = Client::new(url);
    let r = c.post(
        "/api/v1/auth/login",
        &json!({"username": "boss", "password": "boss-password"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    c.token = Some(r.body["token"].as_str().unwrap().to_string());
    c
}

#[test]
fn an_sqlite_install_moves_to_postgres_whole_and_serves_from_there() {
    let Some(server) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();

    // A SQLite install with a plugin, a custom field, records with history, and a session.
    user_add(data_s, &[]);
    let out = bin()
        .args(["plugin", "install", "--builtin", "sales", "--approve"])
        .args(["--data-dir", data_s])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (ids, gone_id, import_id, kept_token) = {
        let (_running, url) = start(&["serve", "--data-dir", data_s]);
        let boss = login(&url);
        let field = boss.post(
            "/api/v1/entities/customer/fields",
            &json!({"name": "revenue", "type": "decimal", "label": {"en": "Revenue", "zh-CN": "营收"}}),
        );
        assert_eq!(field.status, 201, "{}", field.body);
        let mut ids = Vec::new();
        for (name, revenue) in [
            ("杭州恒信科技有限公司", "1200.50"),
            ("Acme", "10"),
            ("北京远景", "7"),
        ] {
            let c = boss.create(
                "customer",
                json!({"name": name, "kind": "company", "status": "lead", "revenue": revenue}),
            );
            ids.push(c["id"].as_i64().unwrap());
        }
        let changed = boss.patch_v(
            &format!("/api/v1/records/customer/{}", ids[0]),
            1,
            &json!({"status": "customer"}),
        );
        assert_eq!(changed.status, 200, "{}", changed.body);
        let deal = boss.post(
            "/api/v1/records/deal",
            &json!({"title": "大单", "customer": ids[0], "amount": "5000", "stage": "qualified"}),
        );
        assert_eq!(deal.status, 201, "{}", deal.body);
        // A record deleted last: its id is never given again (its history still names it).
        let gone = boss.create(
            "customer",
            json!({"name": "删除", "kind": "company", "status": "lead"}),
        );
        let gone_id = gone["id"].as_i64().unwrap();
        let del = boss.delete_v(&format!("/api/v1/records/customer/{gone_id}"), 1);
        assert_eq!(del.status, 204, "{}", del.body);
        // An uploaded import: its file's row refers to the import's (copied after it).
        let upload = boss.send(
            reqwest::Method::POST,
            "/api/v1/imports?entity=customer&file_name=more.csv",
            |r| r.body("name,kind,status\nFrom a file,company,lead\n"),
        );
        assert_eq!(upload.status, 201, "{}", upload.body);
        let import_id = upload.body["import"]["id"].as_i64().unwrap();
        (ids, gone_id, import_id, boss.token.clone().unwrap())
    };

    // Copied into an empty database, counts checked; a second copy into it is refused.
    let target = PgDatabase::create(&server);
    let from = format!("sqlite:{data_s}");
    let out = bin()
        .args(["migrate", "--from", &from, "--to", &target.url])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        said.contains("r_customer") && said.contains("counts checked"),
        "{said}"
    );
    refused(
        &["migrate", "--from", &from, "--to", &target.url],
        "already holds an install",
    );

    // Served from PostgreSQL: the same session, records, custom values, history, search and
    // plugin; new records take new ids.
    let (_running, url) = start(&["serve", "--data-dir", data_s, "--database", &target.url]);
    let health = Client::new(&url).get("/api/v1/health");
    assert_eq!(health.body["database"], "postgresql", "{}", health.body);
    let mut kept = Client::new(&url);
    kept.token = Some(kept_token);
    let list = kept.get("/api/v1/records/customer?sort=id");
    assert_eq!(list.status, 200, "the session came along: {}", list.body);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["杭州恒信科技有限公司", "Acme", "北京远景"]);
    assert_eq!(list.body["items"][0]["revenue"], "1200.50");
    assert_eq!(list.body["items"][0]["status"], "customer");
    let history = kept.get(&format!("/api/v1/records/customer/{}/history", ids[0]));
    assert_eq!(
        history.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        history.body
    );
    let titles = |q: &str| -> Vec<String> {
        kept.get(&format!("/api/v1/search?q={q}")).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles("恒信"), ["杭州恒信科技有限公司"]);
    assert_eq!(titles("acm"), ["Acme"]);
    assert!(
        titles("信恒").is_empty(),
        "characters must be adjacent and in order"
    );
    let within = kept.get("/api/v1/records/customer?q=远景&revenue[gt]=5");
    assert_eq!(
        within.body["items"][0]["name"], "北京远景",
        "{}",
        within.body
    );
    let deals = kept.get("/api/v1/records/deal");
    assert_eq!(deals.body["items"][0]["title"], "大单", "{}", deals.body);
    let new = kept.create(
        "customer",
        json!({"name": "新客户", "kind": "company", "status": "lead"}),
    );
    assert!(new["id"].as_i64().unwrap() > gone_id, "{new}");
    let import = kept.get(&format!("/api/v1/imports/{import_id}"));
    assert_eq!(import.status, 200, "{}", import.body);
    assert_eq!(import.body["file_name"], "more.csv", "{}", import.body);

    // A second host serves beside the first, from another data directory: the plugin the
    // SQLite install had comes from the database, and a session made on one host holds on the
    // other.
    let other = dir.path().join("other");
    let other = other.to_str().unwrap();
    let (_second, second_url) = start(&["serve", "--data-dir", other, "--database", &target.url]);
    let mut on_second = Client::new(&second_url);
    on_second.token = Some(kept.token.clone().unwrap());
    let sales = on_second.get("/api/v1/plugins/sales");
    assert_eq!(sales.body["status"], "active", "{}", sales.body);
    let health = on_second.get("/api/v1/health");
    assert_eq!(
        (health.body["hosts"].as_i64(), &health.body["database"]),
        (Some(2), &json!("postgresql")),
        "{}",
        health.body
    );

    // Backups of a PostgreSQL install are PostgreSQL's own.
    let file = dir.path().join("b.qgbak");
    refused(
        &[
            "backup",
            file.to_str().unwrap(),
            "--data-dir",
            data_s,
            "--database",
            &target.url,
        ],
        "pg_dump",
    );
}

/// Runs the binary with `args`: it must fail, saying `says` on standard error.
fn refused(args: &[&str], says: &str) {
    let out = bin().args(args).output().unwrap();
    assert!(!out.status.success(), "{args:?}: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(says),
        "{args:?}: {out:?}"
    );
}
