//! The sandbox, attacked by real components: a plugin granted nothing tries every import; a
//! plugin approved to read customers tries to rewrite them from its hooks and keep copies; a
//! rep reaches through a plugin for a colleague's deal and figures; one user's heavy calls try
//! to take a plugin away from everyone; a plugin whose hooks cannot run leaves its rules on;
//! a plugin page hands its token to a foreign form.

use qingguan_tests::{customer, install, Client, Resp, TestServer, ADMIN_PASSWORD};
use serde_json::{json, Value};

fn ask(c: &Client, plugin: &str, query: &str, args: Value) -> Resp {
    c.post(&format!("/api/v1/plugins/{plugin}/queries/{query}"), &args)
}

/// Every import of the 1.1 contract (a superset of 1.0's, served by the same host functions)
/// that needs a grant, from a component granted nothing: each is denied, and nothing changes.
#[test]
fn a_plugin_granted_nothing_is_denied_every_import() {
    let s = TestServer::start();
    let admin = s.admin();
    let c = admin.create("customer", customer("Kept"));
    let id = c["id"].as_i64().unwrap();
    let r = install(&admin, "qg-test-nothing", false);
    assert_eq!(r.status, 201, "nothing to approve: {}", r.text);
    let denied = [
        "get-record",
        "query-records",
        "query-records-as-user",
        "aggregate-records",
        "create-record",
        "update-record",
        "delete-record",
        "kv-get",
        "kv-set",
        "kv-delete",
        "kv-keys",
        "emit",
        "ask",
    ];
    for entity in ["customer", "user"] {
        for import in denied {
            let out = ask(
                &admin,
                "nothing",
                "call",
                json!({"import": import, "entity": entity, "id": id}),
            );
            assert_eq!(out.status, 200, "{import}: {}", out.text);
            assert_eq!(
                out.body["error"], "denied",
                "{import} on {entity}: {}",
                out.text
            );
        }
    }
    for harmless in ["context", "config", "log"] {
        let out = ask(&admin, "nothing", "call", json!({"import": harmless}));
        assert!(out.body.get("ok").is_some(), "{harmless}: {}", out.text);
    }
    let kept = admin.get(&format!("/api/v1/records/customer/{id}"));
    assert_eq!(kept.body["version"], 1);
    assert_eq!(
        admin.get("/api/v1/records/customer").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing injected"
    );
    let me = admin.get("/api/v1/auth/me");
    assert_eq!(me.body["role"], "admin");
}

/// Hooks are grants: read lets a plugin see writes, only write lets it change them, and its
/// key-value store needs its own grant.
#[test]
fn hooks_change_nothing_their_grant_does_not_cover() {
    let s = TestServer::start();
    let admin = s.admin();
    let unapproved = install(&admin, "qg-test-hook-grab", false);
    assert_eq!(
        unapproved.error_code(409),
        "approval_required",
        "{}",
        unapproved.text
    );
    assert_eq!(install(&admin, "qg-test-hook-grab", true).status, 201);
    let (rep, _) = s.user("rep", "sales", "east");
    // The after-create hook runs (read granted) but its copy into kv is refused.
    let c = rep.create("customer", customer("Acme"));
    let path = format!("/api/v1/records/customer/{}", c["id"]);
    // The before-update hook tries to rewrite the notes: the write is refused, nothing changes.
    let changed = rep.patch_v(&path, 1, &json!({"phone": "010-1234"}));
    assert_eq!(changed.error_code(422), "plugin_failed", "{}", changed.text);
    assert!(
        changed.text.contains("without write access"),
        "{}",
        changed.text
    );
    let now = admin.get(&path);
    assert_eq!(now.body["version"], 1);
    assert!(now.body["notes"].is_null(), "{}", now.text);
    assert!(now.body["phone"].is_null());
}

/// A plugin's writes during a user's request run as that user: a rep cannot mark a
/// colleague's deal won through the sales plugin's action, nor read a colleague's figures.
#[test]
fn a_rep_reaches_nothing_through_a_plugin_that_the_role_does_not_allow() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "west");
    let c = amy.create("customer", customer("Amy's"));
    let d = amy.create(
        "deal",
        json!({"title": "ERP", "customer": c["id"], "stage": "lead", "amount": "1000"}),
    );
    let path = format!("/api/v1/records/deal/{}", d["id"]);
    let grab = bob.post(&format!("{path}/actions/sales/mark_won"), &json!({}));
    assert!(
        [403, 404].contains(&grab.status),
        "bob may not touch amy's deal: {} {}",
        grab.status,
        grab.text
    );
    assert_eq!(admin.get(&path).body["stage"], "lead");
    let won = amy.post(&format!("{path}/actions/sales/mark_won"), &json!({}));
    assert_eq!(won.status, 200, "{}", won.text);
    let args = json!({"owner": amy_id, "from": "2020-01-01", "to": "2099-12-31"});
    let figure = ask(&bob, "sales", "won_revenue", args.clone());
    assert_eq!(figure.error_code(403), "forbidden", "{}", figure.text);
    let own = ask(&amy, "sales", "won_revenue", args.clone());
    assert_eq!(own.status, 200, "{}", own.text);
    let boss = ask(&admin, "sales", "won_revenue", args);
    assert_eq!(boss.body, own.body);
}

/// One user whose calls exhaust a plugin's limits fails those calls only; the plugin keeps
/// serving everyone else. Traps (the plugin's own faults) still take it out of service.
#[test]
fn one_users_heavy_calls_do_not_disable_a_plugin_for_everyone() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-hostile", true).status, 201);
    let (rep, _) = s.user("rep", "sales", "east");
    for _ in 0..3 {
        for q in ["bomb", "loop"] {
            let r = ask(&rep, "hostile", q, json!({}));
            assert_eq!(r.error_code(422), "plugin_failed", "{q}: {}", r.text);
        }
    }
    let info = admin.get("/api/v1/plugins/hostile");
    assert_eq!(info.body["status"], "active", "{}", info.text);
    assert_eq!(
        ask(&admin, "hostile", "fine", json!({})).body,
        json!("still here")
    );
    for _ in 0..5 {
        ask(&rep, "hostile", "trap", json!({}));
    }
    let info = admin.get("/api/v1/plugins/hostile");
    assert_eq!(info.body["status"], "faulted", "{}", info.text);
}

/// A plugin that cannot load at start-up leaves its entity types read-only, saying why.
#[test]
fn a_plugin_that_fails_to_load_leaves_its_types_read_only() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    let note = admin.create("note", json!({"title": "before"}));
    let files = s.dir.path().join("plugins").join("versions").join("good");
    // A lost file is no loss: the database keeps every installed component.
    std::fs::remove_dir_all(&files).unwrap();
    let restored = s.restarted();
    let info = restored.client_as(&admin).get("/api/v1/plugins/good");
    assert_eq!(info.body["status"], "active", "{}", info.text);
    assert!(files.is_dir(), "the file is written back from the database");
    // Both gone: the plugin cannot load.
    std::fs::remove_dir_all(&files).unwrap();
    assert_eq!(s.execute_sql("DELETE FROM plugin_components", &[]), 1);
    let again = s.restarted();
    let c = again.client_as(&admin);
    let info = c.get("/api/v1/plugins/good");
    assert_eq!(info.body["status"], "failed", "{}", info.text);
    let refused = c.post("/api/v1/records/note", &json!({"title": "rules off?"}));
    assert_eq!(refused.error_code(403), "forbidden", "{}", refused.text);
    assert!(
        refused
            .text
            .contains("while its plugin 'good' is not running"),
        "{}",
        refused.text
    );
    let read = c.get(&format!("/api/v1/records/note/{}", note["id"]));
    assert_eq!(read.status, 200, "still readable: {}", read.text);
}

/// Plugin pages get a token scoped to their plugin, only in forms that post to the plugin:
/// it does not work on the host's own forms.
#[test]
fn a_plugin_pages_token_opens_only_that_plugins_forms() {
    let s = TestServer::start();
    let admin = s.admin();
    for p in ["qingguan-sales", "qingguan-appraisal"] {
        assert_eq!(install(&admin, p, true).status, 201);
    }
    let login = s.anonymous().post(
        "/api/v1/auth/login",
        &json!({"username": "admin", "password": ADMIN_PASSWORD}),
    );
    let cookie = format!("qg_session={}", login.body["token"].as_str().unwrap());
    let session_token = login.body["csrf_token"].as_str().unwrap().to_string();
    admin.create(
        "appraisal_cycle",
        json!({"name": "Q", "period": "month", "starts_on": "2025-05-01"}),
    );
    let page = admin.send(reqwest::Method::GET, "/p/appraisal/hr", |r| {
        r.header("cookie", &cookie)
    });
    assert_eq!(page.status, 200, "{}", page.text);
    // The host's own forms (language, logout) carry the session token; the plugin's carry its
    // scoped one.
    let marker = r#"name="csrf" value=""#;
    let tokens: Vec<&str> = page
        .text
        .match_indices(marker)
        .map(|(i, _)| {
            let rest = &page.text[i + marker.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    let token = *tokens
        .iter()
        .find(|t| **t != session_token)
        .expect("the plugin's forms hold a token of their own");
    let post = |path: &str, body: String| {
        admin.send(reqwest::Method::POST, path, |r| {
            r.header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        })
    };
    let foreign = post(
        "/admin/users",
        format!("csrf={token}&username=eve&password=long-enough-pw&role=admin"),
    );
    assert_eq!(foreign.status, 403, "{}", foreign.text);
    let other_plugin = post("/p/sales/dashboard", format!("csrf={token}&x=1"));
    assert_eq!(other_plugin.status, 403, "{}", other_plugin.text);
    let own = post(
        "/p/appraisal/cycle",
        format!("csrf={token}&cycle=0&op=explode"),
    );
    assert_ne!(own.status, 403, "accepted by its own plugin: {}", own.text);
    assert!(admin.get("/api/v1/records/user?username=eve").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Only administrators see plugins' grants, configuration and errors.
#[test]
fn plugin_details_are_for_administrators() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (rep, _) = s.user("rep", "sales", "east");
    let full = admin.get("/api/v1/plugins/sales");
    assert!(full.body["approved"].is_object(), "{}", full.text);
    let seen = rep.get("/api/v1/plugins");
    assert_eq!(seen.status, 200);
    let sales = &seen.body.as_array().unwrap()[0];
    assert_eq!(sales["id"], "sales");
    assert!(
        sales["approved"].is_null() && sales["config"].is_null(),
        "{}",
        seen.text
    );
    assert!(
        sales["manifest"]["menu"].is_array(),
        "menus stay visible: {}",
        seen.text
    );
    assert!(sales["manifest"].get("capabilities").is_none());
}
