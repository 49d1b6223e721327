//! Roles and scopes, enforced on every endpoint: records, lists, search, history, schema.

use qingguan_tests::{customer, TestServer};
use serde_json::json;

#[test]
fn sales_reps_see_only_their_own_records() {
    let s = TestServer::start();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "east");
    let (meg, _) = s.user("meg", "manager", "east");
    let (wes, _) = s.user("wes", "manager", "west");
    let mine = amy.create("customer", customer("Zephyr Amy Ltd"));
    assert_eq!(mine["owner"], amy_id);
    let path = format!("/api/v1/records/customer/{}", mine["id"]);

    assert_eq!(
        bob.get(&path).error_code(404),
        "not_found",
        "existence is private"
    );
    assert_eq!(
        bob.get(&format!("{path}/history")).error_code(404),
        "not_found"
    );
    assert_eq!(
        bob.patch_v(&path, 1, &json!({"name": "stolen"}))
            .error_code(404),
        "not_found"
    );
    assert!(bob.get("/api/v1/records/customer").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(bob.get("/api/v1/search?q=zephyr").body["items"]
        .as_array()
        .unwrap()
        .is_empty());

    assert_eq!(
        meg.get(&path).status,
        200,
        "the team manager sees the team's records"
    );
    assert_eq!(
        meg.get("/api/v1/search?q=zephyr").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        wes.get(&path).error_code(404),
        "not_found",
        "another team's manager does not"
    );

    assert_eq!(
        amy.delete_v(&path, 1).error_code(403),
        "forbidden",
        "sales may not delete"
    );
    let give = amy.patch_v(&path, 1, &json!({"owner": 1}));
    assert_eq!(
        give.error_code(422),
        "validation_failed",
        "reps cannot push records outside their scope"
    );
    assert_eq!(amy.get(&path).body["version"], 1);
}

#[test]
fn roles_without_access_get_403_and_no_data() {
    let s = TestServer::start();
    let admin = s.admin();
    admin.create("customer", customer("Secret Co"));
    let (hr, _) = s.user("hana", "hr", "hq");
    assert_eq!(
        hr.get("/api/v1/records/customer").error_code(403),
        "forbidden"
    );
    assert_eq!(
        hr.get("/api/v1/records/customer/1").error_code(403),
        "forbidden"
    );
    assert_eq!(
        hr.post("/api/v1/records/customer", &customer("x"))
            .error_code(403),
        "forbidden"
    );
    assert_eq!(
        hr.get("/api/v1/entities/customer").error_code(403),
        "forbidden"
    );
    let names: Vec<String> = hr
        .get("/api/v1/entities")
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    // Exchange rates are everyone's to read: amounts are converted at them.
    assert_eq!(names, vec!["user", "exchange_rate"]);
    assert!(hr.get("/api/v1/search?q=secret").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let (fin, _) = s.user("fiona", "finance", "hq");
    assert_eq!(
        fin.get("/api/v1/records/customer").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        fin.post("/api/v1/records/customer", &customer("x"))
            .error_code(403),
        "forbidden"
    );
}

#[test]
fn only_admins_customise_and_administer() {
    let s = TestServer::start();
    let (meg, meg_id) = s.user("meg", "manager", "east");
    let field =
        json!({"name": "score", "type": "integer", "label": {"en": "Score", "zh-CN": "评分"}});
    assert_eq!(
        meg.post("/api/v1/entities/customer/fields", &field)
            .error_code(403),
        "forbidden"
    );
    assert_eq!(
        meg.put("/api/v1/entities/customer/layout", &json!({"sections": []}))
            .error_code(403),
        "forbidden"
    );
    assert_eq!(
        meg.patch(
            "/api/v1/entities/customer/fields/name",
            &json!({"hidden": true})
        )
        .error_code(403),
        "forbidden"
    );
    assert_eq!(
        meg.post(
            "/api/v1/entities",
            &json!({"name": "x", "label": {"en": "X", "zh-CN": "X"}})
        )
        .error_code(403),
        "forbidden"
    );
    assert_eq!(
        meg.put(
            "/api/v1/roles/manager",
            &json!({"name": "manager", "label": {"en": "M", "zh-CN": "M"}, "admin": true})
        )
        .error_code(403),
        "forbidden"
    );
    // A manager may read users but not promote themself.
    let me = meg.get(&format!("/api/v1/records/user/{meg_id}"));
    assert_eq!(me.status, 200);
    let promote = meg.patch_v(
        &format!("/api/v1/records/user/{meg_id}"),
        1,
        &json!({"role": "admin"}),
    );
    assert_eq!(promote.error_code(403), "forbidden");
    let (hr, _) = s.user("hana", "hr", "hq");
    let promote = hr.patch_v(
        &format!("/api/v1/records/user/{meg_id}"),
        1,
        &json!({"role": "admin"}),
    );
    assert_eq!(
        promote.error_code(403),
        "forbidden",
        "HR edits users but does not grant roles"
    );
    let team = hr.patch_v(
        &format!("/api/v1/records/user/{meg_id}"),
        1,
        &json!({"team": "west"}),
    );
    assert_eq!(team.status, 200, "{}", team.text);
}

#[test]
fn custom_roles_take_effect() {
    let s = TestServer::start();
    let admin = s.admin();
    let role = json!({
        "name": "auditor", "label": {"en": "Auditor", "zh-CN": "审计"},
        "permissions": {"customer": {"read": true, "scope": "all"}}
    });
    assert_eq!(admin.put("/api/v1/roles/auditor", &role).status, 200);
    admin.create("customer", customer("Audited"));
    let (aud, _) = s.user("audrey", "auditor", "hq");
    assert_eq!(
        aud.get("/api/v1/records/customer").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        aud.get("/api/v1/records/contact").error_code(403),
        "forbidden"
    );
    let bad = json!({"name": "auditor", "label": {"en": "A", "zh-CN": "A"}, "permissions": {"nothing": {"read": true}}});
    assert_eq!(
        admin.put("/api/v1/roles/auditor", &bad).error_code(422),
        "validation_failed"
    );
}
