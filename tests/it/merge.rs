//! Merging duplicates: one record merged into another keeps everything that pointed at it —
//! records referring to it, activities, attachments, history — takes the values chosen from
//! it through an ordinary update, and is gone; old links lead to the record that stayed. All
//! or nothing, within the caller's rights, from the API and from the record's page.

use crate::field_rules::set_rules;
use qingguan_tests::{customer, Client, TestServer, USER_PASSWORD};
use serde_json::{json, Value};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn upload(c: &Client, id: i64, name: &str) -> qingguan_tests::Resp {
    c.send(
        reqwest::Method::POST,
        &format!("/api/v1/records/customer/{id}/attachments?name={name}"),
        |r| {
            r.header("content-type", "application/octet-stream")
                .body(PNG.to_vec())
        },
    )
}

fn record(c: &Client, id: i64) -> Value {
    let r = c.get(&format!("/api/v1/records/customer/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// Two customers that are one company, with a contact, a note, a file and an edit on the
/// second: (kept, duplicate, the contact's id).
fn two_of_one_company(admin: &Client) -> (i64, i64, i64) {
    let kept = admin.create(
        "customer",
        json!({"name": "杭州恒信科技有限公司", "kind": "company", "status": "customer",
               "email": "sales@hengxin.example"}),
    )["id"]
        .as_i64()
        .unwrap();
    let dup = admin.create(
        "customer",
        json!({"name": "杭州恒信科技", "kind": "company", "status": "lead",
               "phone": "+86 571 8888 0000", "email": "info@hengxin.example",
               "source": "website"}),
    )["id"]
        .as_i64()
        .unwrap();
    let r = admin.patch_v(
        &format!("/api/v1/records/customer/{dup}"),
        1,
        &json!({"address": "杭州市西湖区文三路 90 号"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let contact = admin.create("contact", json!({"name": "王五", "customer": dup}))["id"]
        .as_i64()
        .unwrap();
    let note = admin.post(
        "/api/v1/records/activity",
        &json!({"kind": "call", "subject": "确认二期需求", "about_entity": "customer", "about_id": dup}),
    );
    assert_eq!(note.status, 201, "{}", note.text);
    assert_eq!(upload(admin, dup, "quote.png").status, 201);
    (kept, dup, contact)
}

#[test]
fn a_duplicate_merges_with_its_references_activities_files_and_history() {
    let s = TestServer::start();
    let admin = s.admin();
    let (kept, dup, contact) = two_of_one_company(&admin);

    // The duplicate check finds it, company form aside.
    let found = admin.post(
        &format!("/api/v1/records/customer/duplicates?except={kept}"),
        &json!({"name": "杭州恒信科技有限公司"}),
    );
    assert_eq!(found.body["items"][0]["id"], dup, "{}", found.text);

    let path = format!("/api/v1/records/customer/{kept}/merge");
    // A stale version changes nothing.
    let stale = admin.post(
        &path,
        &json!({"version": 1, "from": dup, "from_version": 1}),
    );
    assert_eq!(stale.error_code(409), "stale_version", "{}", stale.text);
    assert_eq!(record(&admin, dup)["version"], 2);
    // Merging a record into itself is refused in words.
    let itself = admin.post(
        &path,
        &json!({"version": 1, "from": kept, "from_version": 1}),
    );
    assert_eq!(itself.status, 422, "{}", itself.text);
    assert!(
        itself.text.contains("is the record itself"),
        "{}",
        itself.text
    );

    // By default the empty fields of the record that stays are filled from the duplicate.
    let merged = admin.post(
        &path,
        &json!({"version": 1, "from": dup, "from_version": 2}),
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(
        merged.body["moved"]["contact.customer"], 1,
        "{}",
        merged.text
    );
    assert_eq!(merged.body["activities"], 1);
    assert_eq!(merged.body["attachments"], 1);
    let r = &merged.body["record"];
    assert_eq!(r["name"], "杭州恒信科技有限公司");
    assert_eq!(r["phone"], "+86 571 8888 0000", "taken: it was empty");
    assert_eq!(r["address"], "杭州市西湖区文三路 90 号");
    assert_eq!(r["email"], "sales@hengxin.example", "kept: it was filled");
    assert_eq!(r["status"], "customer");
    assert_eq!(r["source"], "website");

    // The duplicate is gone; what pointed at it points here.
    assert_eq!(
        admin.get(&format!("/api/v1/records/customer/{dup}")).status,
        404
    );
    let c = admin.get(&format!("/api/v1/records/contact/{contact}"));
    assert_eq!(c.body["customer"], kept, "{}", c.text);
    assert_eq!(
        c.body["version"], 2,
        "the contact's change is a new version"
    );
    let ch = admin.get(&format!("/api/v1/records/contact/{contact}/history"));
    let last = ch.body["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "merge", "{}", ch.text);
    assert_eq!(last["changes"]["customer"], json!([dup, kept]));
    let files = admin.get(&format!("/api/v1/records/customer/{kept}/attachments"));
    assert_eq!(
        files.body["items"][0]["name"], "quote.png",
        "{}",
        files.text
    );
    let timeline = admin.get(&format!("/api/v1/records/customer/{kept}/timeline"));
    assert!(
        timeline.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "activity" && i["record"]["subject"] == "确认二期需求"),
        "{}",
        timeline.text
    );

    // The history of the record that stays tells both stories, each entry saying whose.
    let h = admin.get(&format!("/api/v1/records/customer/{kept}/history"));
    let entries = h.body["items"].as_array().unwrap();
    let from_dup: Vec<&Value> = entries.iter().filter(|e| e["merged_from"] == dup).collect();
    assert_eq!(
        from_dup
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["create", "update", "attach", "merge"],
        "{}",
        h.text
    );
    assert_eq!(
        from_dup[1]["changes"]["address"][1],
        "杭州市西湖区文三路 90 号"
    );
    let marker = entries.last().unwrap();
    assert_eq!(marker["action"], "merged", "{}", h.text);
    assert_eq!(marker["changes"]["merged_from"][1]["id"], dup);
    assert!(marker.get("merged_from").is_none());

    // Chosen values: the owner and a filled field taken explicitly; a second merge chains.
    let (_, amy_id) = s.user("amy", "sales", "east");
    let third = admin.create(
        "customer",
        json!({"name": "Hengxin Tech Co., Ltd.", "kind": "company", "status": "lead",
               "email": "hq@hengxin.example", "owner": amy_id}),
    )["id"]
        .as_i64()
        .unwrap();
    let v = record(&admin, kept)["version"].as_i64().unwrap();
    let again = admin.post(
        &path,
        &json!({"version": v, "from": third, "from_version": 1, "take": ["email", "owner"]}),
    );
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["record"]["email"], "hq@hengxin.example");
    assert_eq!(again.body["record"]["owner"], amy_id);
    let h = admin.get(&format!("/api/v1/records/customer/{kept}/history"));
    let whose: Vec<i64> = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["merged_from"].as_i64())
        .collect();
    assert!(whose.contains(&dup) && whose.contains(&third), "{}", h.text);

    // An old link leads a stranger nowhere: not even which record it became.
    s.user("bob", "sales", "west");
    let bob = s.ui_login("bob", USER_PASSWORD);
    let raw = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = raw
        .get(format!("{}/e/customer/{dup}", s.url))
        .header("cookie", &bob.cookie)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.headers().get("location").is_none());
    // An old link to either merged record leads to the one that stayed.
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    for old in [dup, third] {
        let page = ui.get(&format!("/e/customer/{old}"), "en");
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(
            page.text.contains("杭州恒信科技有限公司") && page.text.contains("merged"),
            "{}",
            page.text
        );
    }
}

#[test]
fn a_merge_is_all_or_nothing_and_within_the_callers_rights() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (meg, _) = s.user("meg", "manager", "east");
    let (kept, dup, contact) = two_of_one_company(&admin);
    let path = format!("/api/v1/records/customer/{kept}/merge");

    // A rep may not delete customers, so may not merge them — even her own.
    let a = amy.create("customer", customer("Amy One"))["id"]
        .as_i64()
        .unwrap();
    let b = amy.create("customer", customer("Amy One Ltd"))["id"]
        .as_i64()
        .unwrap();
    let r = amy.post(
        &format!("/api/v1/records/customer/{a}/merge"),
        &json!({"version": 1, "from": b, "from_version": 1}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(record(&amy, b)["name"], "Amy One Ltd");

    // A manager merges within her team's records only: the administrator's are not hers.
    let r = meg.post(
        &format!("/api/v1/records/customer/{a}/merge"),
        &json!({"version": 1, "from": dup, "from_version": 2}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(record(&admin, dup)["version"], 2);

    // A value the role may not write, taken explicitly: the whole merge is refused and
    // nothing moved — the contact, the note, the file and the duplicate are as they were.
    let give = |id: i64, v: i64| {
        let r = admin.patch_v(
            &format!("/api/v1/records/customer/{id}"),
            v,
            &json!({"owner": amy_id}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    };
    give(kept, 1);
    give(dup, 2);
    let r = set_rules(
        &admin,
        "manager",
        json!({"customer": {"source": "read_only"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let refused = meg.post(
        &path,
        &json!({"version": 2, "from": dup, "from_version": 3, "take": ["source"]}),
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        refused.body["error"]["fields"]["source"], "is read-only for your role",
        "{}",
        refused.text
    );
    assert_eq!(record(&admin, dup)["version"], 3, "the duplicate stays");
    let c = admin.get(&format!("/api/v1/records/contact/{contact}"));
    assert_eq!(c.body["customer"], dup, "{}", c.text);
    assert_eq!(c.body["version"], 1);
    let files = admin.get(&format!("/api/v1/records/customer/{dup}/attachments"));
    assert_eq!(files.body["items"].as_array().unwrap().len(), 1);
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    assert!(ui
        .get(&format!("/e/customer/{dup}"), "en")
        .text
        .contains("杭州恒信科技"));
    // A field the merge does not know is named, not ignored.
    let unknown = meg.post(
        &path,
        &json!({"version": 2, "from": dup, "from_version": 3, "take": ["salary"]}),
    );
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert!(unknown.body["error"]["fields"]["salary"].is_string());

    // Within her rights the manager merges (the read-only source stays as it was).
    let ok = meg.post(
        &path,
        &json!({"version": 2, "from": dup, "from_version": 3}),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["record"]["source"], Value::Null);
    assert_eq!(ok.body["record"]["phone"], "+86 571 8888 0000");

    // People are never merged; bad bodies are 4xx.
    let users = admin.get("/api/v1/records/user?limit=5");
    let uid = users.body["items"][0]["id"].as_i64().unwrap();
    let r = admin.post(
        &format!("/api/v1/records/user/{uid}/merge"),
        &json!({"version": 1, "from": amy_id, "from_version": 1}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    for bad in [json!({}), json!({"version": "x", "from": 1}), json!([1])] {
        let r = admin.post(&path, &bad);
        assert!(
            (400..500).contains(&r.status),
            "{bad}: {} {}",
            r.status,
            r.text
        );
    }
    let anon = s
        .anonymous()
        .post(&path, &json!({"version": 1, "from": 2, "from_version": 1}));
    assert_eq!(anon.status, 401);
}

#[test]
fn a_duplicate_is_merged_from_the_records_page_in_either_language() {
    let s = TestServer::start();
    let admin = s.admin();
    let (kept, dup, contact) = two_of_one_company(&admin);
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);

    // The record's page offers it; the merge page lists the likely duplicate.
    let page = ui.get(&format!("/e/customer/{kept}"), "zh-CN");
    assert!(page.text.contains("合并重复记录"), "{}", page.text);
    let choose = ui.get(&format!("/e/customer/{kept}/merge"), "zh-CN");
    assert_eq!(choose.status, 200, "{}", choose.text);
    assert!(choose.text.contains("可能与本记录重复的记录"));
    assert!(
        choose.text.contains(&format!("merge?from={dup}")),
        "{}",
        choose.text
    );

    // Side by side: the phone the record lacks is ticked; the e-mail it has is not.
    let compare = ui.get(&format!("/e/customer/{kept}/merge?from={dup}"), "en");
    assert_eq!(compare.status, 200, "{}", compare.text);
    let row = |field: &str| -> String {
        let start = compare
            .text
            .find(&format!("data-field=\"{field}\""))
            .unwrap_or_else(|| panic!("no row {field}: {}", compare.text));
        let end = compare.text[start..].find("</tr>").unwrap() + start;
        compare.text[start..end].to_string()
    };
    assert!(row("phone").contains("checked"), "{}", row("phone"));
    assert!(!row("email").contains("checked"), "{}", row("email"));
    assert!(row("email").contains("info@hengxin.example"));

    // A bad number or the record itself: a clear 400, in the person's language.
    let bad = ui.get(&format!("/e/customer/{kept}/merge?from=abc"), "zh-CN");
    assert_eq!(bad.status, 400, "{}", bad.text);
    let itself = ui.get(&format!("/e/customer/{kept}/merge?from={kept}"), "zh-CN");
    assert_eq!(itself.status, 400);
    assert!(itself.text.contains("当前记录本身"), "{}", itself.text);

    // The merge as ticked (the e-mail taken too), then the record with both histories.
    let kv = record(&admin, kept)["version"].to_string();
    let dv = record(&admin, dup)["version"].to_string();
    let stale = ui.post(
        &format!("/e/customer/{kept}/merge"),
        "zh-CN",
        &[
            ("version", "9"),
            ("from", &dup.to_string()),
            ("from_version", &dv),
            ("take", "phone"),
        ],
    );
    assert_eq!(stale.status, 409, "{}", stale.text);
    assert!(stale.text.contains("data-merge-error"), "{}", stale.text);
    let done = ui.post(
        &format!("/e/customer/{kept}/merge"),
        "zh-CN",
        &[
            ("version", &kv),
            ("from", &dup.to_string()),
            ("from_version", &dv),
            ("take", "phone"),
            ("take", "email"),
        ],
    );
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("+86 571 8888 0000"), "{}", done.text);
    assert!(
        done.text.contains("合并"),
        "the history says so: {}",
        done.text
    );
    assert_eq!(record(&admin, kept)["email"], "info@hengxin.example");
    assert_eq!(
        admin
            .get(&format!("/api/v1/records/contact/{contact}"))
            .body["customer"],
        kept
    );

    // A rep sees no merge button and cannot open the page.
    let (amy, _) = s.user("amy", "sales", "east");
    let mine = amy.create("customer", customer("Amy's"))["id"]
        .as_i64()
        .unwrap();
    let rep = s.ui_login("amy", USER_PASSWORD);
    assert!(!rep
        .get(&format!("/e/customer/{mine}"), "en")
        .text
        .contains("Merge duplicates"));
    assert_eq!(
        rep.get(&format!("/e/customer/{mine}/merge"), "en").status,
        403
    );
}

#[test]
fn a_merge_keeps_plugins_rules_unique_fields_and_self_references() {
    use crate::finance::{account, act, all_time_tb, rec, setup};
    // Finance: a posted journal entry's lines never change — not by merging a draft into it.
    let (s, admin, fin) = setup();
    let (cash, expense) = (account(&fin, "1001"), account(&fin, "6602"));
    let posted = fin.create(
        "journal_entry",
        json!({"posted_on": "2026-10-20", "memo": "p"}),
    );
    for (a, d, c) in [(&expense, "30", "0"), (&cash, "0", "30")] {
        fin.create(
            "journal_line",
            json!({"entry": posted["id"], "account": a, "debit": d, "credit": c}),
        );
    }
    assert!(act(&fin, "journal_entry", &posted["id"], "post", json!({})).status < 300);
    let draft = fin.create(
        "journal_entry",
        json!({"posted_on": "2026-10-21", "memo": "d"}),
    );
    fin.create(
        "journal_line",
        json!({"entry": draft["id"], "account": expense, "debit": "7"}),
    );
    let before = all_time_tb(&fin);
    let version = |e: &str, id: &Value| fin.get(&rec(&format!("{e}/{id}"))).body["version"].clone();
    let r = fin.post(
        &rec(&format!("journal_entry/{}/merge", posted["id"])),
        &json!({"version": version("journal_entry", &posted["id"]), "from": draft["id"],
                "from_version": version("journal_entry", &draft["id"]), "take": []}),
    );
    assert!((400..500).contains(&r.status), "{}", r.text);
    assert_eq!(all_time_tb(&fin), before, "the books are as they were");
    assert_eq!(
        fin.get(&rec(&format!("journal_entry/{}", draft["id"])))
            .status,
        200
    );

    // A unique reference elsewhere: a clear 409 naming the record, nothing moved.
    let r = admin.post(
        "/api/v1/entities/contact/fields",
        &json!({"name": "primary_of", "type": "reference", "target": "customer", "unique": true,
                "label": {"en": "Primary contact of", "zh-CN": "主联系人"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let kept = admin.create("customer", customer("Kept Co"))["id"]
        .as_i64()
        .unwrap();
    let dup = admin.create("customer", customer("Kept Co Ltd"))["id"]
        .as_i64()
        .unwrap();
    admin.create(
        "contact",
        json!({"name": "A", "customer": kept, "primary_of": kept}),
    );
    let b = admin.create(
        "contact",
        json!({"name": "B", "customer": dup, "primary_of": dup}),
    );
    let r = admin.post(
        &format!("/api/v1/records/customer/{kept}/merge"),
        &json!({"version": 1, "from": dup, "from_version": 1}),
    );
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        admin
            .get(&format!("/api/v1/records/contact/{}", b["id"]))
            .body["primary_of"],
        dup
    );

    // A duplicate that is its own parent, and a record whose parent is the duplicate.
    let r = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "parent", "type": "reference", "target": "customer",
                "label": {"en": "Parent", "zh-CN": "上级"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let top = admin.create("customer", customer("Top"))["id"]
        .as_i64()
        .unwrap();
    let twin = admin.create("customer", customer("Top Ltd"))["id"]
        .as_i64()
        .unwrap();
    let path = |id: i64| format!("/api/v1/records/customer/{id}");
    assert_eq!(
        admin
            .patch_v(&path(twin), 1, &json!({"parent": twin}))
            .status,
        200
    );
    assert_eq!(
        admin
            .patch_v(&path(top), 1, &json!({"parent": twin}))
            .status,
        200
    );
    let r = admin.post(
        &format!("{}/merge", path(top)),
        &json!({"version": 2, "from": twin, "from_version": 2, "take": []}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["record"]["parent"],
        Value::Null,
        "not its own parent"
    );

    // The record that stays is a new version even when no value changed: a stale delete fails.
    let v = r.body["record"]["version"].as_i64().unwrap();
    assert_eq!(v, 4, "{}", r.text);
    assert_eq!(admin.delete_v(&path(top), 3).status, 409);
    drop(s);
}
