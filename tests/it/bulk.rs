//! Bulk work on selected records: a field set, an owner changed or records deleted — each
//! record with the caller's rights, scope and hooks, one report of what was done and why the
//! others were refused; from the API and from a list page.

use qingguan_tests::{customer, TestServer, USER_PASSWORD};
use serde_json::json;

#[test]
fn many_records_change_at_once_within_the_callers_rights() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (mia, mia_id) = s.user("mia", "manager", "east");
    let mine: Vec<i64> = (0..3)
        .map(|i| {
            amy.create("customer", customer(&format!("Amy {i}")))["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let theirs = admin.create("customer", customer("Not Amy's"))["id"]
        .as_i64()
        .unwrap();
    let referenced = mine[0];
    amy.create("contact", json!({"name": "王五", "customer": referenced}));

    // Set a field: hers change, the stranger's record is not hers to touch.
    let mut ids = mine.clone();
    ids.push(theirs);
    let set = amy.post(
        "/api/v1/records/customer/bulk",
        &json!({"action": "set", "ids": ids, "field": "status", "value": "customer"}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["done"], 3);
    assert_eq!(set.body["refused"][0]["id"], theirs);
    for id in &mine {
        assert_eq!(
            amy.get(&format!("/api/v1/records/customer/{id}")).body["status"],
            "customer"
        );
    }
    assert_eq!(
        admin
            .get(&format!("/api/v1/records/customer/{theirs}"))
            .body["status"],
        "lead"
    );
    // A bad value is refused per record, in the caller's words; a bad field up front.
    let bad = amy.post(
        "/api/v1/records/customer/bulk",
        &json!({"action": "set", "ids": [mine[1]], "field": "status", "value": "robot"}),
    );
    assert_eq!(bad.body["done"], 0);
    assert!(
        bad.body["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("robot"),
        "{}",
        bad.text
    );
    let nofield = amy.post(
        "/api/v1/records/customer/bulk",
        &json!({"action": "set", "ids": [mine[1]], "field": "nope", "value": 1}),
    );
    assert_eq!(nofield.error_code(422), "validation_failed");
    let none = amy.post(
        "/api/v1/records/customer/bulk",
        &json!({"action": "delete", "ids": []}),
    );
    assert_eq!(none.status, 422);

    // A rep may not delete; a manager may, but not a record others still reference.
    let del = amy.post(
        "/api/v1/records/customer/bulk",
        &json!({"action": "delete", "ids": mine}),
    );
    assert_eq!(del.body["done"], 0, "{}", del.text);
    let del = mia.post(
        "/api/v1/records/customer/bulk",
        &json!({"action": "delete", "ids": [mine[0], mine[1]]}),
    );
    assert_eq!(del.body["done"], 1, "{}", del.text);
    assert_eq!(del.body["refused"][0]["id"], referenced);

    // Owners: the manager gives a record to someone in her team; not to herself out of reach.
    let given = mia.post(
        "/api/v1/records/customer/bulk",
        &json!({"action": "owner", "ids": [mine[2]], "owner": mia_id}),
    );
    assert_eq!(given.body["done"], 1, "{}", given.text);
    assert_eq!(
        admin
            .get(&format!("/api/v1/records/customer/{}", mine[2]))
            .body["owner"],
        mia_id
    );
    let away = amy.post(
        "/api/v1/records/customer/bulk",
        &json!({"action": "owner", "ids": [referenced], "owner": mia_id}),
    );
    assert_eq!(
        away.body["done"], 0,
        "a rep gives records to nobody but herself: {}",
        away.text
    );
    assert_eq!(
        amy.get(&format!("/api/v1/records/customer/{referenced}"))
            .body["owner"],
        amy_id
    );
    assert_eq!(
        s.anonymous()
            .post(
                "/api/v1/records/customer/bulk",
                &json!({"action": "delete", "ids": [1]})
            )
            .status,
        401
    );
}

#[test]
fn a_list_page_ticks_rows_and_reports_the_outcome() {
    let s = TestServer::start();
    let (amy, _) = s.user("amy", "sales", "east");
    let a = amy.create("customer", customer("甲公司"))["id"]
        .as_i64()
        .unwrap();
    let b = amy.create("customer", customer("乙公司"))["id"]
        .as_i64()
        .unwrap();
    let ui = s.ui_login("amy", USER_PASSWORD);
    let list = ui.get("/e/customer", "zh-CN");
    assert!(
        list.text.contains("form=\"bulk\"") && list.text.contains("对勾选的行"),
        "{}",
        list.text
    );
    let (a_s, b_s) = (a.to_string(), b.to_string());
    let done = ui.post(
        "/e/customer/bulk",
        "zh-CN",
        &[
            ("id", &a_s),
            ("id", &b_s),
            ("action", "set"),
            ("field", "status"),
            ("value", "成交客户"),
            ("back", ""),
        ],
    );
    assert_eq!(done.status, 422, "a label is not a value: {}", done.text);
    let done = ui.post(
        "/e/customer/bulk",
        "zh-CN",
        &[
            ("id", &a_s),
            ("id", &b_s),
            ("action", "set"),
            ("field", "status"),
            ("value", "customer"),
            ("back", ""),
        ],
    );
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("已处理 2 条记录"), "{}", done.text);
    assert_eq!(
        amy.get(&format!("/api/v1/records/customer/{a}")).body["status"],
        "customer"
    );
    let forged = ui
        .client
        .send(reqwest::Method::POST, "/e/customer/bulk", |r| {
            r.header("cookie", &ui.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("id={a}&action=delete"))
        });
    assert_eq!(forged.status, 403);
}
