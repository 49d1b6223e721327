//! The plugin runtime end to end: real components compiled from `plugins/`, installed over
//! HTTP, exercising every import and export, and hostile plugins contained.

use qingguan::Config;
use qingguan_tests::{customer, install, Client, TestServer};
use serde_json::json;
use std::time::Duration;

fn server() -> TestServer {
    let mut config = Config::default();
    // Short, so that the hostile loop is stopped soon; long enough that a good call (a few ms,
    // with nested calls and hooks) is never stopped on a slow machine busy with other tests.
    config.plugin_limits.call_timeout = Duration::from_secs(1);
    config.plugin_limits.memory_bytes = 32 * 1024 * 1024;
    config.plugin_limits.output_bytes = 1024 * 1024;
    TestServer::start_with(config)
}

fn ask(c: &Client, plugin: &str, query: &str, args: serde_json::Value) -> qingguan_tests::Resp {
    c.post(&format!("/api/v1/plugins/{plugin}/queries/{query}"), &args)
}

#[test]
fn a_good_plugin_uses_every_import_and_export() {
    let s = server();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");

    // Capabilities need approval; non-admins cannot install.
    assert_eq!(
        install(&amy, "qg-test-good", true).error_code(403),
        "forbidden"
    );
    assert_eq!(
        install(&admin, "qg-test-good", false).error_code(409),
        "approval_required"
    );
    let r = install(&admin, "qg-test-good", true);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["version"], "1.0.0");
    let again = install(&admin, "qg-test-good", true);
    assert_eq!(
        again.status, 201,
        "reinstalling the same build is a no-op: {}",
        again.text
    );

    // install() ran: it wrote to its key-value store; the entity type exists with its labels.
    let note = admin.get("/api/v1/entities/note");
    assert_eq!(note.status, 200, "{}", note.text);
    assert_eq!(note.body["origin"], "plugin:good");
    assert_eq!(note.body["label"]["zh-CN"], "笔记");
    assert_eq!(note.body["kanban_field"], "state");

    // before-write hook: changes the record using config() and context().
    let cust = amy.create("customer", customer("Acme"));
    let n = amy.create(
        "note",
        json!({"title": "call back", "customer": cust["id"]}),
    );
    assert_eq!(n["state"], "open");
    assert_eq!(n["stamp"], format!("hello:Create:{amy_id}:en:1.0.0"));
    // ... and rejects with field errors that reach the client as 422.
    let bad = amy.post("/api/v1/records/note", &json!({"title": "forbidden words"}));
    assert_eq!(bad.error_code(422), "rejected");
    assert_eq!(
        bad.body["error"]["fields"]["title"],
        "must not say forbidden"
    );

    // Actions: update a record, emit an event that the plugin itself subscribes to.
    let path = format!("/api/v1/records/note/{}/actions/good/close", n["id"]);
    let act = amy.post(&path, &json!({"reason": "done"}));
    assert_eq!(act.status, 200, "{}", act.text);
    assert_eq!(act.body["state"], "done");
    assert_eq!(
        amy.post("/api/v1/records/note/999/actions/good/close", &json!({}))
            .error_code(404),
        "not_found"
    );
    assert_eq!(
        amy.post(
            &format!("/api/v1/records/note/{}/actions/good/nope", n["id"]),
            &json!({})
        )
        .error_code(404),
        "not_found"
    );

    // Queries, including one that asks itself through the host.
    let q = ask(&amy, "good", "notes_of", json!({"customer": cust["id"]}));
    assert_eq!(q.body, json!({"count": 1}), "{}", q.text);
    let q = ask(&amy, "good", "ask_self", json!({"customer": cust["id"]}));
    assert_eq!(q.body, json!({"count": 1}), "{}", q.text);
    let missing_arg = ask(&amy, "good", "notes_of", json!({}));
    assert_eq!(missing_arg.error_code(422), "rejected");
    assert_eq!(
        ask(&amy, "good", "undeclared", json!({})).error_code(404),
        "not_found"
    );

    // Routes see the user and can scope to what the user may see.
    admin.create("customer", customer("Admin's own"));
    let hello = amy.get("/api/v1/plugins/good/hello?name=%E5%BC%A0");
    assert_eq!(hello.status, 200, "{}", hello.text);
    assert_eq!(hello.body["hello"], "amy");
    assert_eq!(
        hello.body["visible_customers"], 1,
        "as_user applies amy's own scope"
    );
    assert_eq!(hello.body["name"], "张");
    let echo = amy.post("/api/v1/plugins/good/echo", &json!({"a": [1, 2]}));
    assert_eq!(echo.body, json!({"a": [1, 2]}));
    assert_eq!(
        amy.get("/api/v1/plugins/good/undeclared").error_code(404),
        "not_found"
    );
    assert_eq!(
        s.anonymous()
            .get("/api/v1/plugins/good/hello")
            .error_code(401),
        "unauthenticated"
    );

    // Jobs run on demand (admins only) and query through the host.
    assert_eq!(
        amy.post("/api/v1/plugins/good/jobs/tick", &json!({}))
            .error_code(403),
        "forbidden"
    );
    let ran = admin.post("/api/v1/plugins/good/jobs/tick?wait=true", &json!({}));
    assert_eq!(ran.status, 200, "{}", ran.text);
    assert_eq!(ran.body["state"], "finished", "a 1.1-style job is one step");
    assert_eq!(ran.body["steps"], 1);
    assert_eq!(
        s.store.kv_get("good", "open_notes").unwrap(),
        Some(b"0".to_vec())
    );
    assert!(s
        .store
        .kv_get("good", "event:note.closed")
        .unwrap()
        .unwrap()
        .starts_with(b"{"));
    assert!(
        s.store.kv_get("good", "last_write").unwrap().is_some(),
        "after-write hooks ran"
    );

    // Writing an entity type it was not granted is denied, not done.
    let denied = ask(
        &amy,
        "good",
        "write_contact",
        json!({"customer": cust["id"]}),
    );
    assert_eq!(denied.error_code(403), "forbidden", "{}", denied.text);
    assert!(denied.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not granted write access to 'contact'"));

    // Configuration reaches the plugin.
    let not_object = admin.put("/api/v1/plugins/good/config", &json!(["greeting"]));
    assert_eq!(not_object.error_code(422), "invalid_body");
    assert_eq!(
        amy.put("/api/v1/plugins/good/config", &json!({}))
            .error_code(403),
        "forbidden"
    );
    let cfg = admin.put("/api/v1/plugins/good/config", &json!({"greeting": "你好"}));
    assert_eq!(cfg.status, 200, "{}", cfg.text);
    let n2 = amy.create("note", json!({"title": "second"}));
    assert!(n2["stamp"].as_str().unwrap().starts_with("你好:"));

    // Listing, disabling (entity becomes read-only and leaves the entity list), enabling.
    let list = admin.get("/api/v1/plugins");
    assert_eq!(list.body[0]["id"], "good");
    assert_eq!(list.body[0]["loaded"], true);
    let d = admin.post("/api/v1/plugins/good/disable", &json!({}));
    assert_eq!(d.body["status"], "disabled", "{}", d.text);
    assert_eq!(
        amy.post("/api/v1/records/note", &json!({"title": "x"}))
            .error_code(403),
        "forbidden"
    );
    let names: Vec<String> = amy
        .get("/api/v1/entities")
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert!(!names.contains(&"note".to_string()));
    assert_eq!(
        ask(&amy, "good", "notes_of", json!({"customer": 1})).error_code(409),
        "plugin_unavailable"
    );
    assert_eq!(
        amy.get(&format!("/api/v1/records/note/{}", n["id"])).status,
        200,
        "data stays readable"
    );
    let e = admin.post("/api/v1/plugins/good/enable", &json!({}));
    assert_eq!(e.body["status"], "active", "{}", e.text);
    assert_eq!(
        amy.create("note", json!({"title": "back"}))["state"],
        "open"
    );

    // Removing keeps data unless purged.
    assert_eq!(
        admin
            .send(reqwest::Method::DELETE, "/api/v1/plugins/good", |r| r)
            .status,
        204
    );
    assert_eq!(
        admin.get("/api/v1/plugins/good").error_code(404),
        "not_found"
    );
    assert_eq!(
        admin
            .get(&format!("/api/v1/records/note/{}", n["id"]))
            .status,
        200
    );
}

#[test]
fn hostile_plugins_are_contained_and_disabled() {
    let s = server();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-hostile", true).status, 201);
    admin.create("customer", customer("Bystander"));

    let cases = [
        ("loop", "time limit"),
        ("bomb", "memory limit"),
        ("trap", "trapped"),
        ("huge", "output limit"),
    ];
    for (query, why) in cases {
        let r = ask(&admin, "hostile", query, json!({}));
        assert_eq!(r.error_code(422), "plugin_failed", "{query}");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("hostile") && msg.contains(why),
            "{query}: {msg}"
        );
        // The server and its data keep answering.
        assert_eq!(admin.get("/api/v1/health").status, 200);
        assert_eq!(
            admin.get("/api/v1/records/customer").body["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    let snoop = ask(&admin, "hostile", "snoop", json!({}));
    assert_eq!(snoop.error_code(403), "forbidden");
    assert!(snoop.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not granted read access to 'user'"));
    let write = ask(&admin, "hostile", "write", json!({}));
    assert!(
        write.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not granted write access"),
        "{}",
        write.text
    );
    assert_eq!(
        admin.get("/api/v1/records/customer").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing injected"
    );
    assert_eq!(
        ask(&admin, "hostile", "fine", json!({})).body,
        json!("still here")
    );

    // Running out of time, memory or output in a user's call fails that call only; traps are
    // the plugin's own faults: the fifth disables it, and the API says why.
    assert_eq!(
        admin.get("/api/v1/plugins/hostile").body["status"],
        "active"
    );
    for _ in 0..4 {
        let r = ask(&admin, "hostile", "trap", json!({}));
        assert_eq!(r.error_code(422), "plugin_failed");
    }
    let info = admin.get("/api/v1/plugins/hostile");
    assert_eq!(info.body["status"], "faulted", "{}", info.text);
    assert_eq!(info.body["enabled"], false);
    assert!(info.body["error"]
        .as_str()
        .unwrap()
        .contains("disabled after 5 faults"));
    let after = ask(&admin, "hostile", "fine", json!({}));
    assert_eq!(after.error_code(409), "plugin_unavailable");
    assert!(after.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("faulted"));
}

#[test]
fn broken_components_are_refused_with_clear_errors() {
    let s = server();
    let admin = s.admin();
    let deps = install(&admin, "qg-test-bad-deps", true);
    assert_eq!(deps.error_code(409), "dependency");
    assert!(
        deps.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("requires 'nonexistent' ^1.0"),
        "{}",
        deps.text
    );

    let future = install(&admin, "qg-test-future-sdk", true);
    assert_eq!(future.error_code(422), "invalid_plugin");
    let msg = future.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("SDK 1.4.0") && msg.contains("SDK 1.3.0"),
        "{msg}"
    );

    let junk = admin.send(reqwest::Method::POST, "/api/v1/plugins?approve=true", |r| {
        r.body(b"not wasm at all".to_vec())
    });
    assert_eq!(junk.error_code(422), "invalid_plugin");
    let empty = admin.send(reqwest::Method::POST, "/api/v1/plugins?approve=true", |r| {
        r.body(Vec::new())
    });
    assert_eq!(empty.error_code(400), "bad_request");
    let core_module = admin.send(reqwest::Method::POST, "/api/v1/plugins?approve=true", |r| {
        r.body(b"\0asm\x01\0\0\0".to_vec())
    });
    assert!(
        core_module.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("core module"),
        "{}",
        core_module.text
    );
    let list = admin.get("/api/v1/plugins").body;
    let list = list.as_array().unwrap();
    assert!(
        list.iter()
            .all(|p| p["status"] == "rejected" && p["loaded"] == false),
        "nothing half-installed: {list:?}"
    );
    assert!(list
        .iter()
        .any(|p| p["id"] == "future" && p["error"].as_str().unwrap().contains("SDK 1.3.0")));
    assert_eq!(s.store.plugins().unwrap().len(), 0);
}

#[test]
fn plugins_build_on_each_other_through_the_host() {
    let s = server();
    let admin = s.admin();
    let early = install(&admin, "qg-test-needs-good", true);
    assert_eq!(early.error_code(409), "dependency");
    assert!(early.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'good' ^1.0, which is not installed"));
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    assert_eq!(install(&admin, "qg-test-needs-good", true).status, 201);
    let cust = admin.create("customer", customer("Acme"));
    admin.create("note", json!({"title": "n", "customer": cust["id"]}));
    let relayed = ask(
        &admin,
        "needs-good",
        "relay",
        json!({"customer": cust["id"]}),
    );
    assert_eq!(
        relayed.body,
        json!({"relayed": {"count": 1}}),
        "{}",
        relayed.text
    );
    let blocked = admin.post("/api/v1/plugins/good/disable", &json!({}));
    assert_eq!(blocked.error_code(409), "dependency");
    assert!(blocked.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("needs-good 1.0.0"));
    let blocked = admin.send(reqwest::Method::DELETE, "/api/v1/plugins/good", |r| r);
    assert_eq!(blocked.error_code(409), "dependency");
}

#[test]
fn plugins_survive_a_restart() {
    let s = server();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    admin.create("note", json!({"title": "persisted"}));
    // A second server over the same data directory loads the plugin from disk.
    let again = s.restarted();
    let c = again.client_as(&admin);
    let n = c.create("note", json!({"title": "after restart"}));
    assert_eq!(n["state"], "open", "hooks of the reloaded plugin run");
}

#[test]
fn a_plugin_built_against_the_1_0_contract_runs_on_this_host() {
    let s = TestServer::start();
    let admin = s.admin();
    admin.create("customer", customer("旧插件客户"));
    let r = install(&admin, "qg-test-past-sdk", true);
    assert_eq!(r.status, 201, "{}", r.text);
    let ping = admin.post("/api/v1/plugins/past/queries/ping", &json!({}));
    assert_eq!(ping.status, 200, "{}", ping.text);
    assert_eq!(
        ping.body,
        json!({"plugin": "past", "count": 1, "kv": "1.0"})
    );
}
