//! A record read again is given out from memory while the database is unchanged (SQLite's WAL
//! index says so): whatever changes it — the API, a statement from another connection, the
//! schema, a role's rules — is seen on the next read, and what one caller read is never
//! given to another who may not see it.

use crate::field_rules::set_rules;
use qingguan_tests::{customer, SqlParam, TestServer};
use serde_json::json;

#[test]
fn a_record_read_again_is_as_the_database_has_it_now() {
    let s = TestServer::start();
    let admin = s.admin();
    let made = admin.create("customer", customer("Kept Ltd"));
    let id = made["id"].as_i64().unwrap();
    let path = format!("/api/v1/records/customer/{id}");
    let first = admin.get(&path);
    assert_eq!(first.status, 200, "{}", first.text);
    let again = admin.get(&path);
    assert_eq!(again.text, first.text, "read twice, nothing changed");
    assert_eq!(again.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(
        again.header("content-type").as_deref(),
        Some("application/json")
    );

    // Through the API.
    let r = admin.patch_v(&path, 1, &json!({"name": "Kept Two Ltd"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let got = admin.get(&path);
    assert_eq!(got.body["name"], "Kept Two Ltd");
    assert_eq!(got.body["version"], 2);
    assert_eq!(got.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(got.text, r.text, "the read writes what the update answered");

    // Straight on the database, from a connection the server doesn't hold (an operator, a
    // command of another process): seen on the very next read.
    for round in 0..3 {
        let name = format!("Outside {round}");
        let changed = s.execute_sql(
            "UPDATE r_customer SET c_name = ?1 WHERE id = ?2",
            &[SqlParam::Text(name.clone()), SqlParam::Int(id)],
        );
        assert_eq!(changed, 1);
        assert_eq!(admin.get(&path).body["name"], name.as_str());
    }

    // A new field is in the next read.
    let r = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "tier", "type": "text", "label": {"en": "Tier", "zh-CN": "等级"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let got = admin.get(&path);
    assert!(got.body.get("tier").is_some(), "{}", got.text);

    // Deleted: gone on the next read.
    let version = got.body["version"].as_i64().unwrap();
    assert_eq!(admin.delete_v(&path, version).status, 204);
    assert_eq!(admin.get(&path).error_code(404), "not_found");
}

#[test]
fn what_one_caller_read_is_not_given_to_another() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (bob, bob_id) = s.user("bob", "sales", "east");
    let (wes, _) = s.user("wes", "manager", "west");
    let (mia, _) = s.user("mia", "manager", "east");
    let r = set_rules(&admin, "sales", json!({"customer": {"phone": "hidden"}}));
    assert_eq!(r.status, 200, "{}", r.text);
    let mut body = customer("Amy's Own Ltd");
    body["phone"] = json!("+86 139 0000 1111");
    let made = admin.create("customer", body);
    let path = format!("/api/v1/records/customer/{}", made["id"]);
    let r = admin.patch_v(&path, 1, &json!({"owner": amy_id}));
    assert_eq!(r.status, 200, "{}", r.text);

    // Each read twice over, so the second of each is answered from what was kept.
    for _ in 0..2 {
        let whole = admin.get(&path);
        assert_eq!(whole.body["phone"], "+86 139 0000 1111", "{}", whole.text);
        let seen = amy.get(&path);
        assert_eq!(seen.status, 200, "{}", seen.text);
        assert!(seen.body.get("phone").is_none(), "hidden: {}", seen.text);
        assert_eq!(seen.body["name"], "Amy's Own Ltd");
        assert_eq!(bob.get(&path).error_code(404), "not_found", "another rep's");
        assert_eq!(
            wes.get(&path).error_code(404),
            "not_found",
            "another team's"
        );
        let teams = mia.get(&path);
        assert_eq!(teams.status, 200, "her team's: {}", teams.text);
        assert_eq!(teams.body["phone"], "+86 139 0000 1111", "{}", teams.text);
    }

    // Given to Bob: Amy no longer sees it, Bob does, at once.
    let r = admin.patch_v(&path, 2, &json!({"owner": bob_id}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(amy.get(&path).error_code(404), "not_found");
    assert_eq!(bob.get(&path).status, 200);

    // The role's rules change: the field hidden from it is shown on the next read.
    let r = set_rules(&admin, "sales", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(bob.get(&path).body["phone"], "+86 139 0000 1111");
}
