//! Hot swap: upgrades and rollbacks while requests keep flowing; broken versions never
//! replace working ones; customisations and data survive; the plugins folder; crashes.

use qingguan_tests::{customer, install, plugin_wasm, Client, TestServer};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn version(c: &Client) -> String {
    c.get("/api/v1/plugins/good").body["version"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn upgrade_and_rollback_under_load_fail_no_request() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..6 {
        let c = s.admin();
        let stop = stop.clone();
        workers.push(std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = c.post(
                    "/api/v1/records/note",
                    &json!({"title": format!("w{w} #{n}")}),
                );
                seen.push((
                    r.status,
                    r.body["stamp"].as_str().unwrap_or_default().to_string(),
                    r.text.clone(),
                ));
                n += 1;
            }
            seen
        }));
    }
    std::thread::sleep(Duration::from_millis(1200));
    let up = install(&admin, "qg-test-good-v2", false);
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(up.body["version"], "1.1.0");
    std::thread::sleep(Duration::from_millis(1200));
    let back = admin.post("/api/v1/plugins/good/rollback", &json!({}));
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.body["version"], "1.0.0");
    std::thread::sleep(Duration::from_millis(1200));
    stop.store(true, Ordering::Relaxed);
    let results: Vec<(u16, String, String)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let (v1, v2) = qingguan_tests::each_write_saw_one_version(&results, "1.0.0", "1.1.0");
    eprintln!(
        "{} requests during two swaps: {v1} on 1.0.0, {v2} on 1.1.0, 0 failed",
        results.len()
    );
}

#[test]
fn broken_versions_never_replace_the_working_one() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    for (krate, why) in [
        ("qg-test-good-trap-upgrade", "upgrade failed"),
        ("qg-test-good-bad-health", "health check failed"),
    ] {
        let r = install(&admin, krate, true);
        assert_eq!(r.error_code(422), "plugin_failed", "{krate}");
        assert!(
            r.body["error"]["message"].as_str().unwrap().contains(why),
            "{krate}: {}",
            r.text
        );
        let info = admin.get("/api/v1/plugins/good");
        assert_eq!(info.body["version"], "1.0.0");
        assert_eq!(info.body["status"], "active");
        assert!(info.body["last_attempt"]["error"]
            .as_str()
            .unwrap()
            .contains(why));
        let n = admin.create("note", json!({"title": "still served"}));
        assert!(n["stamp"].as_str().unwrap().ends_with(":1.0.0"));
    }
    assert_eq!(
        s.store.kv_get("good", "upgraded_from").unwrap(),
        None,
        "the failed migrations wrote nothing"
    );
    let mut bytes = std::fs::read(plugin_wasm("qg-test-good-v2")).unwrap();
    let mid = bytes.len() / 3;
    for b in &mut bytes[mid..mid + 64] {
        *b = 0xff;
    }
    let r = admin.send(
        reqwest::Method::POST,
        "/api/v1/plugins?approve=true",
        move |r| r.body(bytes),
    );
    assert_eq!(r.error_code(422), "invalid_plugin", "{}", r.text);
    assert_eq!(version(&admin), "1.0.0");
    assert!(admin.get("/api/v1/entities/note").body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["name"] != "priority"));
    // Versions only move forward through install; older ones through rollback.
    assert_eq!(install(&admin, "qg-test-good-v2", false).status, 201);
    let older = install(&admin, "qg-test-good", false);
    assert_eq!(older.error_code(409), "conflict");
    assert!(older.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("use rollback"));
}

#[test]
fn upgrades_keep_customisations_and_data() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    assert_eq!(
        admin
            .patch(
                "/api/v1/entities/note/fields/title",
                &json!({"label": {"zh-CN": "主题"}})
            )
            .status,
        200
    );
    assert_eq!(
        admin
            .patch(
                "/api/v1/entities/note/fields/stamp",
                &json!({"hidden": true})
            )
            .status,
        200
    );
    let f = json!({"name": "mood", "type": "text", "label": {"en": "Mood", "zh-CN": "心情"}});
    assert_eq!(admin.post("/api/v1/entities/note/fields", &f).status, 201);
    let layout = json!({"sections": [{"title": {"en": "Main", "zh-CN": "主要"}, "fields": ["mood", "title"]}], "list_columns": ["title", "mood"]});
    assert_eq!(
        admin.put("/api/v1/entities/note/layout", &layout).status,
        200
    );
    admin.create("note", json!({"title": "before", "mood": "calm"}));

    assert_eq!(install(&admin, "qg-test-good-v2", false).status, 201);
    let n2 = admin.create("note", json!({"title": "during", "priority": 3}));
    let check = |when: &str| {
        let e = admin.get("/api/v1/entities/note").body;
        let field = |n: &str| {
            e["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == n)
                .cloned()
                .unwrap()
        };
        assert_eq!(field("title")["label"]["zh-CN"], "主题", "{when}");
        assert_eq!(field("stamp")["hidden"], true, "{when}");
        assert_eq!(field("mood")["origin"], "custom", "{when}");
        assert_eq!(
            e["layout"]["sections"][0]["fields"],
            json!(["mood", "title"]),
            "{when}"
        );
        e
    };
    let e = check("after upgrade");
    assert!(e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "priority" && f["retired"] == false));

    let back = admin.post("/api/v1/plugins/good/rollback", &json!({}));
    assert_eq!(back.status, 200, "{}", back.text);
    let e = check("after rollback");
    let priority = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "priority")
        .cloned()
        .unwrap();
    assert_eq!(
        priority["retired"], true,
        "kept, hidden from forms, not dropped"
    );
    let path = format!("/api/v1/records/note/{}", n2["id"]);
    assert_eq!(
        admin.get(&path).body["priority"],
        3,
        "the value is still readable"
    );
    let hist = admin.get(&format!("{path}/history"));
    assert_eq!(
        hist.body["items"][0]["changes"]["priority"],
        json!([null, 3])
    );
    assert_eq!(
        admin
            .patch_v(&path, 1, &json!({"priority": 4}))
            .error_code(422),
        "validation_failed",
        "retired fields are read-only"
    );
    let list = admin.get("/api/v1/records/note?mood=calm");
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[test]
fn dependents_pin_the_major_version() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    assert_eq!(install(&admin, "qg-test-needs-good", true).status, 201);
    let r = install(&admin, "qg-test-good-v3-major", false);
    assert_eq!(r.error_code(409), "dependency");
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("'needs-good' 1.0.0 requires 'good' ^1.0; version 2.0.0 would break it"),
        "{msg}"
    );
    assert_eq!(
        install(&admin, "qg-test-good-v2", false).status,
        201,
        "a compatible upgrade is fine"
    );
}

#[test]
fn dropping_files_into_the_plugins_folder() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    let folder = s.dir.path().join("plugins");
    let bytes = std::fs::read(plugin_wasm("qg-test-good-v2")).unwrap();
    // Copy slowly, in two halves: the half-written file must not be loaded. (The folder's
    // watcher waits for a file unchanged for 300 ms; the pause leaves a slow machine 250 ms.)
    let target = folder.join("good-1.1.0.wasm");
    std::fs::write(&target, &bytes[..bytes.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    std::fs::write(&target, &bytes).unwrap();
    let started = Instant::now();
    while version(&admin) != "1.1.0" {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never picked up: {}",
            admin.get("/api/v1/plugins/good").text
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("dropped file live after {:?}", started.elapsed());
    while target.exists() {
        assert!(started.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(50));
    }
    let attempt = &admin.get("/api/v1/plugins/good").body["last_attempt"];
    assert_eq!(attempt["source"], "good-1.1.0.wasm");
    assert!(attempt["error"].is_null());

    // A new plugin needs an administrator's approval: refused, reason listed, file set aside.
    std::fs::copy(plugin_wasm("qg-test-hostile"), folder.join("hostile.wasm")).unwrap();
    std::fs::write(folder.join("junk.wasm"), b"definitely not wasm").unwrap();
    let started = Instant::now();
    loop {
        let list = admin.get("/api/v1/plugins").body;
        let rejected: Vec<&serde_json::Value> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "rejected")
            .collect();
        if rejected.len() == 2 {
            let hostile = rejected
                .iter()
                .find(|p| p["id"] == "hostile")
                .expect("hostile listed");
            assert!(
                hostile["error"].as_str().unwrap().contains("approval"),
                "{hostile}"
            );
            assert!(rejected.iter().any(|p| p["id"] == "junk.wasm"));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{list}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(folder.join("hostile.wasm.rejected").exists());
    assert_eq!(version(&admin), "1.1.0");
    admin.create("customer", customer("unaffected"));
}
