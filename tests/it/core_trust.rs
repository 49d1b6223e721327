//! Findings of a security review of the core, each reproduced through the public boundary:
//! storage names that cannot collide, search over every entity type, references that grant
//! nothing, administrators managed only by administrators, bounded filters, records that
//! never fall out of their writer's scope, strict dates, password changes that ask for the
//! current password, and private files.

use qingguan_tests::{customer, install, Client, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::{json, Value};

fn label(en: &str) -> Value {
    json!({"en": en, "zh-CN": en})
}

fn items(r: &qingguan_tests::Resp) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().expect("items").clone()
}

fn create_entity(admin: &Client, name: &str, fields: Value) {
    let r = admin.post(
        "/api/v1/entities",
        &json!({"name": name, "label": label(name), "fields": fields}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

// --- 1. Storage names ----------------------------------------------------------------------

#[test]
fn an_entity_named_like_a_search_shadow_table_leaves_other_indexes_alone() {
    let s = TestServer::start();
    let admin = s.admin();
    admin.create("customer", customer("Acme before"));
    for suffix in ["data", "idx", "content", "docsize", "config"] {
        create_entity(
            &admin,
            &format!("customer_{suffix}"),
            json!([{"name": "title", "type": "text", "label": label("Title")}]),
        );
    }
    let r = admin.post("/api/v1/records/customer", &customer("Acme after"));
    assert_eq!(r.status, 201, "customers can still be created: {}", r.text);
    let d = admin.post(
        "/api/v1/records/customer_data",
        &json!({"title": "Acme data sheet"}),
    );
    assert_eq!(d.status, 201, "{}", d.text);
    let hits = items(&admin.get("/api/v1/search?q=acme"));
    let mut found: Vec<(String, String)> = hits
        .iter()
        .map(|h| {
            (
                h["entity"].as_str().unwrap().to_string(),
                h["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("customer".to_string(), "Acme after".to_string()),
            ("customer".to_string(), "Acme before".to_string()),
            ("customer_data".to_string(), "Acme data sheet".to_string()),
        ]
    );
    let listed = items(&admin.get("/api/v1/records/customer?q=acme"));
    assert_eq!(listed.len(), 2);
}

#[test]
fn administrators_rebuild_an_entity_types_search_index() {
    let s = TestServer::start();
    let admin = s.admin();
    admin.create("customer", customer("Rebuilt Works"));
    admin.create("customer", customer("恒信科技"));
    let r = admin.post("/api/v1/entities/customer/reindex", &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["entity"], "customer");
    assert_eq!(r.body["indexed"], 2);
    assert_eq!(items(&admin.get("/api/v1/search?q=rebuilt")).len(), 1);
    assert_eq!(items(&admin.get("/api/v1/search?q=恒信")).len(), 1);

    let (amy, _) = s.user("amy", "sales", "east");
    assert_eq!(
        amy.post("/api/v1/entities/customer/reindex", &json!({}))
            .error_code(403),
        "forbidden"
    );
    assert_eq!(
        admin
            .post("/api/v1/entities/nothing_here/reindex", &json!({}))
            .error_code(404),
        "not_found"
    );
    let doc = admin.get("/api/v1/openapi.json");
    assert!(
        doc.body["paths"]["/entities/{entity}/reindex"]["post"].is_object(),
        "documented in OpenAPI"
    );
}

// --- 2. Search over entity types without a title -------------------------------------------

#[test]
fn search_works_beside_entity_types_without_a_title_field() {
    let s = TestServer::start();
    let admin = s.admin();
    create_entity(
        &admin,
        "tally",
        json!([{"name": "n", "type": "integer", "label": label("N")}]),
    );
    admin.create("tally", json!({"n": 3}));
    admin.create("customer", customer("Titled Co"));
    let hits = items(&admin.get("/api/v1/search?q=titled"));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["title"], "Titled Co");
}

// --- 3. References -------------------------------------------------------------------------

#[test]
fn references_point_only_at_records_the_writer_may_read() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, _) = s.user("amy", "sales", "east");
    let (meg, _) = s.user("meg", "manager", "east");
    let hidden = admin.create("customer", customer("Not Amy's"));
    let hidden_id = hidden["id"].as_i64().unwrap();
    let missing_id = 999_999;
    assert_eq!(
        amy.get(&format!("/api/v1/records/customer/{hidden_id}"))
            .error_code(404),
        "not_found"
    );

    let contact = |customer_id: i64| json!({"name": "Lee", "customer": customer_id});
    let unreadable = amy.post("/api/v1/records/contact", &contact(hidden_id));
    let missing = amy.post("/api/v1/records/contact", &contact(missing_id));
    assert_eq!(unreadable.error_code(422), "validation_failed");
    assert_eq!(missing.error_code(422), "validation_failed");
    assert_eq!(
        unreadable.body["error"]["fields"]["customer"],
        format!("no customer with id {hidden_id}")
    );
    assert_eq!(
        missing.body["error"]["fields"]["customer"],
        format!("no customer with id {missing_id}"),
        "an unreadable record reads as a missing one"
    );
    assert_eq!(
        unreadable.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace(&hidden_id.to_string(), "N"),
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace(&missing_id.to_string(), "N"),
    );

    // Updating a reference is checked the same way.
    let own = amy.create("customer", customer("Amy's own"));
    let c = amy.create("contact", contact(own["id"].as_i64().unwrap()));
    let path = format!("/api/v1/records/contact/{}", c["id"]);
    let moved = amy.patch_v(&path, 1, &json!({"customer": hidden_id}));
    assert_eq!(moved.error_code(422), "validation_failed");
    assert_eq!(amy.get(&path).body["customer"], own["id"]);

    // Readable records stay referable: the team's manager reaches Amy's customer, the
    // administrator everything.
    meg.create("contact", contact(own["id"].as_i64().unwrap()));
    admin.create("contact", contact(hidden_id));
}

#[test]
fn a_won_deal_cannot_promote_a_customer_the_rep_cannot_read() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (amy, _) = s.user("amy", "sales", "east");
    let hidden = admin.create("customer", customer("Admin's lead"));
    let r = amy.post(
        "/api/v1/records/deal",
        &json!({"title": "Sneaky", "customer": hidden["id"], "stage": "won", "amount": "1"}),
    );
    assert_eq!(r.error_code(422), "validation_failed");
    assert!(r.body["error"]["fields"]["customer"].is_string());
    let after = admin.get(&format!("/api/v1/records/customer/{}", hidden["id"]));
    assert_eq!(after.body["status"], "lead", "the hook never ran");
    assert_eq!(after.body["version"], 1);

    // Her own customer still becomes a customer through the plugin's hook (plugin access).
    let own = amy.create("customer", customer("Amy's lead"));
    amy.create(
        "deal",
        json!({"title": "Fair", "customer": own["id"], "stage": "won", "amount": "10"}),
    );
    let own_after = amy.get(&format!("/api/v1/records/customer/{}", own["id"]));
    assert_eq!(own_after.body["status"], "customer");
}

// --- 4. Administrators ---------------------------------------------------------------------

#[test]
fn only_administrators_manage_administrators() {
    let s = TestServer::start();
    let admin = s.admin();
    let (hr, _) = s.user("hana", "hr", "hq");
    let (_, rep_id) = s.user("amy", "sales", "east");
    let (_, other_admin) = s.user("root2", "admin", "hq");
    let admin_id = s.store.user_id("admin").unwrap().unwrap();

    for (id, change) in [
        (admin_id, json!({"active": false})),
        (admin_id, json!({"username": "locked_out"})),
        (admin_id, json!({"display_name": "Not the admin"})),
        (admin_id, json!({"role": "sales"})),
        (other_admin, json!({"active": false})),
        (rep_id, json!({"role": "admin"})),
    ] {
        let path = format!("/api/v1/records/user/{id}");
        let v = hr.get(&path).body["version"].as_i64().unwrap();
        let r = hr.patch_v(&path, v, &change);
        assert_eq!(r.error_code(403), "forbidden", "{change}");
        assert_eq!(hr.get(&path).body["version"], v, "{change} changed nothing");
    }
    assert_eq!(
        hr.post(
            &format!("/api/v1/users/{admin_id}/password"),
            &json!({"password": "hijacked-password"})
        )
        .error_code(403),
        "forbidden"
    );
    s.login("admin", ADMIN_PASSWORD);

    // HR still administers everyone else.
    let rep = format!("/api/v1/records/user/{rep_id}");
    let r = hr.patch_v(&rep, 1, &json!({"team": "west", "active": false}));
    assert_eq!(r.status, 200, "{}", r.text);
    // An administrator manages administrators.
    let r = admin.patch_v(
        &format!("/api/v1/records/user/{other_admin}"),
        1,
        &json!({"active": false}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

// --- 5. Filter counts ----------------------------------------------------------------------

#[test]
fn the_number_of_filters_is_capped_with_a_400() {
    let s = TestServer::start();
    let admin = s.admin();
    admin.create("customer", customer("Filtered"));
    let many = vec!["name[ne]=x"; 1000].join("&");
    let r = admin.get(&format!("/api/v1/records/customer?{many}"));
    assert_eq!(r.error_code(400), "bad_request");
    assert_eq!(r.body["error"]["fields"]["filters"], "at most 50 filters");

    let fifty = vec!["name[ne]=x"; 50].join("&");
    assert_eq!(
        items(&admin.get(&format!("/api/v1/records/customer?{fifty}"))).len(),
        1
    );

    // Few filters giving many values together (each `in` value is bound) are refused too:
    // fifty `in` filters of a thousand values would pass what SQLite binds.
    let values = vec!["1"; 1000].join(",");
    let wide = vec![format!("id[in]={values}"); 11].join("&");
    let r = admin.get(&format!("/api/v1/records/customer?{wide}"));
    assert_eq!(r.error_code(400), "bad_request");
    assert!(
        r.body["error"]["fields"]["filters"].is_string(),
        "{}",
        r.text
    );
}

// --- 6. Owners -----------------------------------------------------------------------------

#[test]
fn reps_cannot_make_records_ownerless() {
    let s = TestServer::start();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (meg, meg_id) = s.user("meg", "manager", "east");
    let mut body = customer("Null owner");
    body["owner"] = Value::Null;
    let r = amy.post("/api/v1/records/customer", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["owner"], amy_id, "owner null means the creator");
    let path = format!("/api/v1/records/customer/{}", r.body["id"]);
    assert_eq!(amy.get(&path).status, 200);
    assert_eq!(meg.get(&path).status, 200);

    let m = meg.post("/api/v1/records/customer", &body);
    assert_eq!(m.body["owner"], meg_id);

    let drop = amy.patch_v(&path, 1, &json!({"owner": null}));
    assert_eq!(drop.error_code(422), "validation_failed");
    assert!(drop.body["error"]["fields"]["owner"].is_string());
    let drop = meg.patch_v(&path, 1, &json!({"owner": null}));
    assert_eq!(drop.error_code(422), "validation_failed");
    assert_eq!(amy.get(&path).body["owner"], amy_id);

    // An administrator (scope all) may still leave a record unassigned.
    let admin = s.admin();
    let r = admin.post("/api/v1/records/customer", &body);
    assert_eq!(r.status, 201);
    assert_eq!(r.body["owner"], Value::Null);
}

// --- 7. Dates ------------------------------------------------------------------------------

#[test]
fn dates_are_strictly_yyyy_mm_dd() {
    let s = TestServer::start();
    let admin = s.admin();
    create_entity(
        &admin,
        "visit",
        json!([{"name": "on", "type": "date", "label": label("On")}]),
    );
    for bad in [
        "20-10-16",
        "2026-02-31",
        "2026-2-3",
        "+2026-02-03",
        "02026-02-03",
        "2026-02-03x",
        "0000-01-01",
        "2026/02/03",
    ] {
        let r = admin.post("/api/v1/records/visit", &json!({ "on": bad }));
        assert_eq!(r.error_code(422), "validation_failed", "{bad}");
        assert_eq!(
            r.body["error"]["fields"]["on"], "must be a date YYYY-MM-DD",
            "{bad}"
        );
        let q = bad.replace('+', "%2B");
        let f = admin.get(&format!("/api/v1/records/visit?on[gte]={q}"));
        assert_eq!(f.error_code(400), "bad_request", "filter {bad}");
        let t = admin.get(&format!("/api/v1/records/visit?created_at[gte]={q}"));
        assert_eq!(t.error_code(400), "bad_request", "datetime filter {bad}");
    }
    let ok = admin.create("visit", json!({"on": "2024-02-29"}));
    assert_eq!(ok["on"], "2024-02-29");
    assert_eq!(
        items(&admin.get("/api/v1/records/visit?on[gte]=2024-02-01")).len(),
        1
    );
}

// --- 8. Passwords --------------------------------------------------------------------------

#[test]
fn changing_ones_own_password_needs_the_current_one() {
    let s = TestServer::start();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let path = format!("/api/v1/users/{amy_id}/password");
    let r = amy.post(&path, &json!({"password": "stolen-session-pw"}));
    assert_eq!(r.error_code(422), "validation_failed");
    assert_eq!(r.body["error"]["fields"]["current_password"], "is required");
    let r = amy.post(
        &path,
        &json!({"password": "stolen-session-pw", "current_password": "a wrong guess"}),
    );
    assert_eq!(r.error_code(422), "validation_failed");
    assert!(r.body["error"]["fields"]["current_password"].is_string());
    s.login("amy", USER_PASSWORD);

    let r = amy.post(
        &path,
        &json!({"password": "a-new-password", "current_password": USER_PASSWORD}),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    s.login("amy", "a-new-password");

    // Administrators reset other people's passwords without knowing them, but not their own.
    let admin = s.admin();
    let r = admin.post(&path, &json!({"password": "reset-by-admin"}));
    assert_eq!(r.status, 204, "{}", r.text);
    s.login("amy", "reset-by-admin");
    let admin_id = s.store.user_id("admin").unwrap().unwrap();
    let r = admin.post(
        &format!("/api/v1/users/{admin_id}/password"),
        &json!({"password": "admin-password-2"}),
    );
    assert_eq!(r.error_code(422), "validation_failed");
}

// --- 9. Files ------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn the_data_directory_database_and_backups_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qingguan-cli"))
        .env("QINGGUAN_LOG", "warn")
        .args(["user", "add", "boss", "--role", "admin", "--password"])
        .args(["correct horse battery", "--data-dir", data_s])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(mode(&data), 0o700, "data directory");
    for entry in std::fs::read_dir(&data).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    assert_eq!(mode(&data.join("qingguan.db")), 0o600);

    let target = dir.path().join("copy.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qingguan-cli"))
        .env("QINGGUAN_LOG", "warn")
        .args(["backup", target.to_str().unwrap(), "--data-dir", data_s])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(mode(&target), 0o600, "backup file");

    // A running server's files, too (WAL and shared memory included).
    let s = TestServer::start();
    s.admin().create("customer", customer("Private"));
    for entry in std::fs::read_dir(s.dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
}
