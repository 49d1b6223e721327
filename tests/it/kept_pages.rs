//! A list page asked for again is given out from memory while the database is unchanged
//! (SQLite's WAL index says so): whatever changes it — the API, a statement from another
//! connection, a role's rules, a user's team — is seen on the next page, and a page one caller
//! read is never given to another whose page it is not.

use crate::field_rules::set_rules;
use qingguan_tests::{customer, Client, SqlParam, TestServer};
use serde_json::{json, Value};

const PAGE: &str = "/api/v1/records/customer?status=lead&sort=name&limit=2";

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// The page's names, read twice (the second given out from what was kept), both the same.
fn listed(who: &Client, path: &str) -> Vec<String> {
    let first = who.get(path);
    assert_eq!(first.status, 200, "{}", first.text);
    let again = who.get(path);
    assert_eq!(again.text, first.text, "read twice, nothing changed");
    names(&first.body)
}

#[test]
fn a_list_page_asked_for_again_is_as_the_database_has_it_now() {
    let s = TestServer::start();
    let admin = s.admin();
    for name in ["A Ltd", "B Ltd", "C Ltd"] {
        admin.create("customer", customer(name));
    }
    assert_eq!(listed(&admin, PAGE), ["A Ltd", "B Ltd"]);
    let page = admin.get(PAGE);
    assert_eq!(
        page.header("content-type").as_deref(),
        Some("application/json")
    );
    // The cursor is the page's own: the next page follows it.
    let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
    let next = format!("{PAGE}&cursor={cursor}");
    assert_eq!(listed(&admin, &next), ["C Ltd"]);
    assert!(admin.get(&next).body["next_cursor"].is_null());

    // Through the API: a record renamed into the page.
    let c = admin.get("/api/v1/records/customer?name=C%20Ltd").body["items"][0].clone();
    let path = format!("/api/v1/records/customer/{}", c["id"]);
    let r = admin.patch_v(&path, 1, &json!({"name": "0 Ltd"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(listed(&admin, PAGE), ["0 Ltd", "A Ltd"]);

    // Straight on the database, from a connection the server doesn't hold: seen at once.
    for round in 0..3 {
        let name = format!("00 Outside {round}");
        let changed = s.execute_sql(
            "UPDATE r_customer SET c_name = ?1 WHERE id = ?2",
            &[
                SqlParam::Text(name.clone()),
                SqlParam::Int(c["id"].as_i64().unwrap()),
            ],
        );
        assert_eq!(changed, 1);
        assert_eq!(listed(&admin, PAGE), [name.as_str(), "A Ltd"]);
    }

    // A count asked for with the page is counted, whatever was kept.
    let counted = admin.get(&format!("{PAGE}&count=true"));
    assert_eq!(counted.body["total"], 3, "{}", counted.text);
    assert_eq!(names(&counted.body), names(&admin.get(PAGE).body));
    let capped = admin.get(&format!("{PAGE}&count=capped"));
    assert_eq!(capped.body["total"], 3, "{}", capped.text);
    assert_eq!(capped.body["total_capped"], false, "{}", capped.text);

    // Deleted: gone from the next page.
    let version = admin.get(&path).body["version"].as_i64().unwrap();
    assert_eq!(admin.delete_v(&path, version).status, 204);
    assert_eq!(listed(&admin, PAGE), ["A Ltd", "B Ltd"]);
}

#[test]
fn a_page_one_caller_listed_is_not_given_to_another() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (bob, bob_id) = s.user("bob", "sales", "east");
    let (wes, _) = s.user("wes", "manager", "west");
    let (mia, _) = s.user("mia", "manager", "east");
    let r = set_rules(&admin, "sales", json!({"customer": {"phone": "hidden"}}));
    assert_eq!(r.status, 200, "{}", r.text);
    for (name, owner) in [("Amy One", amy_id), ("Bob One", bob_id)] {
        let mut body = customer(name);
        body["phone"] = json!("+86 139 0000 1111");
        body["owner"] = json!(owner);
        let made = admin.create("customer", body);
        assert_eq!(made["owner"], owner);
    }
    // Each caller's page asked for twice over, in turns, so that every second read of each is
    // answered from what was kept while the others' pages are kept too.
    for _ in 0..2 {
        assert_eq!(listed(&admin, PAGE), ["Amy One", "Bob One"]);
        assert_eq!(listed(&amy, PAGE), ["Amy One"], "her own only");
        assert_eq!(listed(&bob, PAGE), ["Bob One"], "his own only");
        assert!(listed(&wes, PAGE).is_empty(), "another team's");
        assert_eq!(listed(&mia, PAGE), ["Amy One", "Bob One"], "her team's");
        let seen = amy.get(PAGE);
        assert!(
            seen.body["items"][0].get("phone").is_none(),
            "{}",
            seen.text
        );
        let whole = mia.get(PAGE);
        assert_eq!(whole.body["items"][0]["phone"], "+86 139 0000 1111");
    }
    // Bob moves to the west: the west's manager sees his record on the next page, the east's
    // no longer does.
    let bob_path = format!("/api/v1/records/user/{bob_id}");
    let version = admin.get(&bob_path).body["version"].as_i64().unwrap();
    let r = admin.patch_v(&bob_path, version, &json!({"team": "west"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(listed(&wes, PAGE), ["Bob One"]);
    assert_eq!(listed(&mia, PAGE), ["Amy One"]);
    // The role's rules change: the field hidden from reps is on their next page.
    let r = set_rules(&admin, "sales", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(amy.get(PAGE).body["items"][0]["phone"], "+86 139 0000 1111");
}
