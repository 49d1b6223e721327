//! Importing spreadsheets over HTTP: upload, suggested and remembered mappings, a dry run that
//! writes nothing, import of the valid rows with a per-row report, upsert by an external id,
//! declared date formats, historical creation dates for administrators, XLSX, undo as one
//! batch — and what a rep, a stranger and bad files get.

use qingguan_tests::{Client, Resp, TestServer, USER_PASSWORD};
use serde_json::{json, Value};

/// Uploads `bytes` as a file to import into `entity`.
fn upload(c: &Client, entity: &str, name: &str, bytes: Vec<u8>) -> Resp {
    c.send(
        reqwest::Method::POST,
        &format!("/api/v1/imports?entity={entity}&file_name={name}"),
        |r| r.body(bytes),
    )
}

/// Undoes an import (202: in the background), waits until the undo has ended and returns its
/// report (`{deleted, restored, skipped}`) with the status it left.
pub(crate) fn undo_and_wait(c: &Client, id: i64) -> (Value, String) {
    let r = c.post(&format!("/api/v1/imports/{id}/undo"), &json!({}));
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["status"], "undoing", "{}", r.text);
    for _ in 0..1200 {
        let log = c.get(&format!("/api/v1/imports/{id}")).body;
        if log["status"] != "undoing" {
            return (
                log["undo_report"].clone(),
                log["status"].as_str().unwrap_or_default().to_string(),
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the undo of import {id} never finished");
}

/// Waits until the import's pass has ended and returns its log entry.
fn settled(c: &Client, id: i64) -> Value {
    for _ in 0..600 {
        let r = c.get(&format!("/api/v1/imports/{id}"));
        assert_eq!(r.status, 200, "{}", r.text);
        let status = r.body["status"].as_str().unwrap_or_default().to_string();
        if status != "checking" && status != "running" {
            return r.body;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("import {id} never finished");
}

fn customer_fields(admin: &Client) {
    for f in [
        json!({"name": "external_id", "type": "text", "unique": true,
               "label": {"en": "External ID", "zh-CN": "外部编号"}}),
        json!({"name": "since", "type": "date", "label": {"en": "Customer since", "zh-CN": "合作开始"}}),
        json!({"name": "credit", "type": "decimal", "scale": 2, "label": {"en": "Credit", "zh-CN": "信用额度"}}),
    ] {
        let r = admin.post("/api/v1/entities/customer/fields", &f);
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

fn find(c: &Client, query: &str) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/records/customer?{query}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

const FIRST_FILE: &str = "外部编号,名称,Kind,Stage,Since,Credit,Owner,Created\n\
A-1,杭州恒信科技,Company,Won,16-10-20,\"¥12,000.50\",amy,16-10-20 09:30\n\
A-2,Wrong Date Co,company,lead,2020-10-16,,amy,\n\
A-3,Nobody's Co,company,Lead,01-02-21,,nobody,\n\
A-4,深圳,企业,潜在客户,29-02-24,5,,\n";

#[test]
fn a_spreadsheet_is_checked_imported_upserted_and_undone() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    customer_fields(&admin);

    // Upload: columns with samples, a mapping suggested from labels in both languages.
    let up = upload(
        &admin,
        "customer",
        "clients.csv",
        FIRST_FILE.as_bytes().to_vec(),
    );
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["import"]["id"].as_i64().unwrap();
    assert_eq!(up.body["import"]["total_rows"], 4);
    assert_eq!(up.body["import"]["status"], "uploaded");
    assert_eq!(up.body["remembered"], false);
    let mapping = &up.body["options"]["mapping"];
    assert_eq!(mapping["外部编号"], "external_id", "{}", up.text);
    assert_eq!(mapping["名称"], "name");
    assert_eq!(mapping["Kind"], "kind");
    assert_eq!(mapping["Owner"], "owner");
    assert_eq!(mapping["Created"], "created_at");
    assert_eq!(up.body["columns"][1]["samples"][0], "杭州恒信科技");

    let options = json!({
        "mapping": {"外部编号": "external_id", "名称": "name", "Kind": "kind", "Stage": "status",
                    "Since": "since", "Credit": "credit", "Owner": "owner", "Created": "created_at"},
        "date_format": "DD-MM-YY",
        "values": {"status": {"Won": "customer"}}
    });

    // A dry run: the counts an import would have, the refused rows, and nothing written.
    let started = admin.post(&format!("/api/v1/imports/{id}/check"), &options);
    assert_eq!(started.status, 202, "{}", started.text);
    let checked = settled(&admin, id);
    assert_eq!(checked["status"], "checked", "{checked}");
    assert_eq!(checked["inserted"], 2, "{checked}");
    assert_eq!(checked["failed"], 2, "{checked}");
    assert_eq!(checked["rows_done"], 4);
    let errors = checked["errors"].as_array().unwrap();
    let date = errors
        .iter()
        .find(|e| e["row"] == 3)
        .expect("row 3 refused");
    assert_eq!(date["column"], "Since");
    assert!(date["en"].as_str().unwrap().contains("DD-MM-YY"), "{date}");
    assert!(date["zh"].as_str().unwrap().contains("DD-MM-YY"), "{date}");
    let owner = errors
        .iter()
        .find(|e| e["row"] == 4)
        .expect("row 4 refused");
    assert_eq!(owner["column"], "Owner");
    assert!(owner["en"].as_str().unwrap().contains("nobody"), "{owner}");
    assert!(
        find(&admin, "external_id=A-1").is_empty(),
        "a dry run writes nothing"
    );

    // The import: the valid rows, typed as declared, a historical creation time, history
    // marked as imported.
    assert_eq!(
        admin
            .post(&format!("/api/v1/imports/{id}/run"), &options)
            .status,
        202
    );
    let done = settled(&admin, id);
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        (done["inserted"].as_i64(), done["failed"].as_i64()),
        (Some(2), Some(2))
    );
    let a1 = find(&admin, "external_id=A-1").remove(0);
    assert_eq!(a1["name"], "杭州恒信科技");
    assert_eq!(a1["status"], "customer", "value map Won → customer");
    assert_eq!(a1["kind"], "company", "option label, any case");
    assert_eq!(
        a1["since"], "2020-10-16",
        "DD-MM-YY as declared, not year 16"
    );
    assert_eq!(a1["credit"], "12000.50");
    assert_eq!(a1["owner"], amy_id);
    // 09:30 in the install's time zone: still 16 October 2020 in UTC.
    assert!(
        a1["created_at"]
            .as_str()
            .unwrap()
            .starts_with("2020-10-16T"),
        "{a1}"
    );
    let a4 = find(&admin, "external_id=A-4").remove(0);
    assert_eq!(
        (a4["kind"].as_str(), a4["status"].as_str()),
        (Some("company"), Some("lead"))
    );
    assert_eq!(a4["since"], "2024-02-29");
    let history = admin.get(&format!("/api/v1/records/customer/{}/history", a1["id"]));
    assert_eq!(
        history.body["items"][0]["action"], "import",
        "{}",
        history.text
    );

    // Once per upload.
    let again = admin.post(&format!("/api/v1/imports/{id}/run"), &options);
    assert_eq!(again.error_code(409), "conflict");

    // The same layout again: the options come back; an upsert updates A-1 and adds A-5.
    let second = "外部编号,名称,Kind,Stage,Since,Credit,Owner,Created\n\
A-1,杭州恒信科技,company,inactive,,,,\n\
A-5,New Co,company,lead,,,,\n";
    let up2 = upload(&admin, "customer", "update.csv", second.as_bytes().to_vec());
    assert_eq!(up2.body["remembered"], true, "{}", up2.text);
    assert_eq!(up2.body["options"]["date_format"], "DD-MM-YY");
    let id2 = up2.body["import"]["id"].as_i64().unwrap();
    let mut upsert = up2.body["options"].clone();
    upsert["mode"] = json!("upsert");
    upsert["key"] = json!("external_id");
    assert_eq!(
        admin
            .post(&format!("/api/v1/imports/{id2}/run"), &upsert)
            .status,
        202
    );
    let done2 = settled(&admin, id2);
    assert_eq!(
        (done2["inserted"].as_i64(), done2["updated"].as_i64()),
        (Some(1), Some(1)),
        "{done2}"
    );
    let a1_now = find(&admin, "external_id=A-1").remove(0);
    assert_eq!(a1_now["status"], "inactive");
    let history = admin.get(&format!(
        "/api/v1/records/customer/{}/history",
        a1_now["id"]
    ));
    let actions: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["import", "import"],
        "created and updated by imports"
    );
    assert_eq!(
        a1_now["since"], "2020-10-16",
        "an empty cell leaves the field alone"
    );

    // Undo the upsert: A-5 goes, A-1 gets its status back.
    let (undo, status) = undo_and_wait(&admin, id2);
    assert_eq!(status, "undone");
    assert_eq!(
        (undo["deleted"].as_i64(), undo["restored"].as_i64()),
        (Some(1), Some(1)),
        "{undo}"
    );
    assert!(find(&admin, "external_id=A-5").is_empty());
    assert_eq!(find(&admin, "external_id=A-1")[0]["status"], "customer");
    assert_eq!(
        admin
            .post(&format!("/api/v1/imports/{id2}/undo"), &json!({}))
            .error_code(409),
        "conflict"
    );

    // Undo the first import after someone changed one of its records: records changed since
    // (A-4 by hand, A-1 by the second import and its undo) stay as they are.
    let a4v = a4["version"].as_i64().unwrap();
    let edited = admin.patch_v(
        &format!("/api/v1/records/customer/{}", a4["id"]),
        a4v,
        &json!({"name": "深圳（改）"}),
    );
    assert_eq!(edited.status, 200, "{}", edited.text);
    let (undo1, status) = undo_and_wait(&admin, id);
    assert_eq!(undo1["deleted"], 0, "{undo1}");
    assert_eq!(
        status, "done",
        "nothing could be undone: it stays as it was"
    );
    let skipped: Vec<Value> = undo1["skipped"].as_array().unwrap().clone();
    assert_eq!(skipped.len(), 2, "{undo1}");
    assert!(skipped.iter().any(|k| k["record_id"] == a4["id"]));
    assert!(skipped[0]["zh"].as_str().unwrap().contains("修改"));
    assert_eq!(find(&admin, "external_id=A-4").len(), 1);

    // The log: both imports, with who and what.
    let log = admin.get("/api/v1/imports?entity=customer");
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["file_name"], "clients.csv");
    assert_eq!(items[0]["status"], "undone");

    // Amy sees none of the admin's imports.
    assert!(amy.get("/api/v1/imports").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(amy.get(&format!("/api/v1/imports/{id}")).status, 404);
    assert_eq!(
        amy.post(&format!("/api/v1/imports/{id}/undo"), &json!({}))
            .status,
        404
    );
}

#[test]
fn a_rep_imports_within_their_rights_and_bad_input_is_refused_in_their_language() {
    let s = TestServer::start();
    let admin = s.admin();
    customer_fields(&admin);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (_bob, _) = s.user("bob", "sales", "west");

    // A rep may not back-date records.
    let up = upload(&amy, "customer", "mine.csv", FIRST_FILE.as_bytes().to_vec());
    assert_eq!(up.status, 201, "{}", up.text);
    assert!(
        up.body["options"]["mapping"].get("Created").is_none(),
        "not suggested to a rep"
    );
    let id = up.body["import"]["id"].as_i64().unwrap();
    let backdated = amy.post(
        &format!("/api/v1/imports/{id}/check"),
        &json!({"mapping": {"名称": "name", "Created": "created_at"}}),
    );
    assert_eq!(backdated.error_code(400), "bad_request");
    assert!(
        backdated.body["error"]["fields"]["mapping.Created"].is_string(),
        "{}",
        backdated.text
    );

    // Owners outside her reach are refused row by row; her rows are hers.
    let file = "Name,Kind,Status,Owner\nMine,company,lead,\nBob's,company,lead,bob\n";
    let up = upload(&amy, "customer", "owners.csv", file.as_bytes().to_vec());
    let id = up.body["import"]["id"].as_i64().unwrap();
    let r = amy.post(&format!("/api/v1/imports/{id}/run"), &up.body["options"]);
    assert_eq!(r.status, 202, "{}", r.text);
    let done = settled(&amy, id);
    assert_eq!(
        (done["inserted"].as_i64(), done["failed"].as_i64()),
        (Some(1), Some(1)),
        "{done}"
    );
    assert_eq!(done["errors"][0]["row"], 3);
    assert_eq!(find(&amy, "name=Mine")[0]["owner"], amy_id);
    // Undoing it would delete records, which a rep may not: refused, and nothing changes.
    let undo = amy.post(&format!("/api/v1/imports/{id}/undo"), &json!({}));
    assert_eq!(undo.error_code(403), "forbidden");
    assert_eq!(
        amy.get(&format!("/api/v1/imports/{id}")).body["status"],
        "done"
    );
    assert_eq!(find(&amy, "name=Mine").len(), 1);

    // Bad files and options: clear 4xx in the caller's language, nothing logged or written.
    let zh = s.login("amy", USER_PASSWORD);
    let patched = zh.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}));
    assert_eq!(patched.status, 200, "{}", patched.text);
    let empty = upload(&zh, "customer", "empty.csv", Vec::new());
    assert_eq!(empty.error_code(400), "bad_request");
    assert!(
        empty.body["error"]["fields"]["file"]
            .as_str()
            .unwrap()
            .contains("空"),
        "{}",
        empty.text
    );
    let garbage = upload(&zh, "customer", "x.xlsx", b"PK\x03\x04garbage".to_vec());
    assert_eq!(garbage.error_code(400), "bad_request", "{}", garbage.text);
    assert_eq!(
        upload(&zh, "no_such_type", "x.csv", b"a\n1\n".to_vec()).status,
        404
    );
    assert_eq!(upload(&zh, "user", "x.csv", b"a\n1\n".to_vec()).status, 403);
    let up = upload(&zh, "customer", "x.csv", b"Name,When\nA,2020\n".to_vec());
    let id = up.body["import"]["id"].as_i64().unwrap();
    let bad = zh.post(
        &format!("/api/v1/imports/{id}/check"),
        &json!({"mapping": {"Name": "name", "When": "nope", "Gone": "kind"}, "mode": "upsert",
                "key": "name", "date_format": "DD.MM"}),
    );
    assert_eq!(bad.error_code(400), "bad_request");
    let fields = &bad.body["error"]["fields"];
    for key in ["mapping.When", "mapping.Gone", "key", "date_format"] {
        assert!(fields[key].is_string(), "{key}: {}", bad.text);
    }
    assert!(
        fields["key"].as_str().unwrap().contains("唯一"),
        "{}",
        bad.text
    );
    let unknown = zh.post(
        &format!("/api/v1/imports/{id}/check"),
        &json!({"mappings": {}}),
    );
    assert_eq!(unknown.error_code(422), "invalid_body");
    assert_eq!(
        zh.get(&format!("/api/v1/imports/{id}")).body["status"],
        "uploaded"
    );

    // Nobody signed in gets nothing.
    let anonymous = s.anonymous();
    assert_eq!(
        upload(&anonymous, "customer", "x.csv", b"a\n1\n".to_vec()).status,
        401
    );
    assert_eq!(anonymous.get("/api/v1/imports").status, 401);
}

#[test]
fn an_xlsx_file_keeps_its_dates_and_numbers_and_finds_references_by_title() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let s = TestServer::start();
    let admin = s.admin();
    let hx = admin.create("customer", qingguan_tests::customer("杭州恒信科技"));
    admin.create("customer", qingguan_tests::customer("同名"));
    admin.create("customer", qingguan_tests::customer("同名"));
    let r = admin.post(
        "/api/v1/entities/contact/fields",
        &json!({"name": "met_on", "type": "date", "label": {"en": "Met on", "zh-CN": "初次见面"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);

    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (col, head) in ["姓名", "所属客户", "电话", "初次见面"].iter().enumerate() {
        sheet.write_string(0, col as u16, *head).unwrap();
    }
    sheet.write_string(1, 0, "王五").unwrap();
    sheet.write_string(1, 1, "杭州恒信科技").unwrap();
    sheet.write_number(1, 2, 13800138000.0).unwrap();
    let day = ExcelDateTime::from_ymd(2025, 3, 9).unwrap();
    sheet.write_datetime_with_format(1, 3, &day, &date).unwrap();
    sheet.write_string(2, 0, "赵六").unwrap();
    sheet.write_string(2, 1, "同名").unwrap();
    sheet.write_string(3, 0, "钱七").unwrap();
    sheet.write_string(3, 1, "不存在").unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let up = upload(&admin, "contact", "contacts.xlsx", bytes);
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(up.body["import"]["file_kind"], "xlsx");
    assert_eq!(up.body["options"]["mapping"]["所属客户"], "customer");
    assert_eq!(up.body["options"]["mapping"]["初次见面"], "met_on");
    let id = up.body["import"]["id"].as_i64().unwrap();
    assert_eq!(
        admin
            .post(&format!("/api/v1/imports/{id}/run"), &up.body["options"])
            .status,
        202
    );
    let done = settled(&admin, id);
    assert_eq!(
        (done["inserted"].as_i64(), done["failed"].as_i64()),
        (Some(1), Some(2)),
        "{done}"
    );
    let ambiguous = done["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["row"] == 3)
        .unwrap()
        .clone();
    assert!(
        ambiguous["en"].as_str().unwrap().contains("matches 2"),
        "{ambiguous}"
    );
    let missing = done["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["row"] == 4)
        .unwrap()
        .clone();
    assert!(
        missing["zh"].as_str().unwrap().contains("不存在"),
        "{missing}"
    );
    let contacts = admin.get("/api/v1/records/contact").body["items"].clone();
    let wang = &contacts[0];
    assert_eq!(wang["name"], "王五");
    assert_eq!(wang["customer"], hx["id"]);
    assert_eq!(
        wang["phone"], "13800138000",
        "a number cell read as people see it"
    );
    assert_eq!(
        wang["met_on"], "2025-03-09",
        "an Excel date needs no declared format"
    );
}

/// A reference the database fails to look up says nothing of the row: the pass stops with
/// the row unjudged (not "no match"), the import is interrupted, and once the database answers
/// again the resumed import finds the reference.
#[test]
fn a_lookup_the_database_fails_interrupts_the_import_instead_of_refusing_rows() {
    let s = TestServer::start();
    let admin = s.admin();
    let hx = admin.create("customer", qingguan_tests::customer("杭州恒信科技"));
    let csv = "姓名,所属客户\n王五,杭州恒信科技\n赵六,杭州恒信科技\n";
    let up = upload(&admin, "contact", "contacts.csv", csv.as_bytes().to_vec());
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["import"]["id"].as_i64().unwrap();

    // The customers' table is out of the database's reach while the import runs.
    s.execute_sql("ALTER TABLE r_customer RENAME TO r_customer_away", &[]);
    let r = admin.post(&format!("/api/v1/imports/{id}/run"), &up.body["options"]);
    assert_eq!(r.status, 202, "{}", r.text);
    let stopped = settled(&admin, id);
    assert_eq!(stopped["status"], "interrupted", "{stopped}");
    assert_eq!(
        (stopped["failed"].as_i64(), stopped["inserted"].as_i64()),
        (Some(0), Some(0)),
        "no row judged by a failed lookup: {stopped}"
    );
    s.execute_sql("ALTER TABLE r_customer_away RENAME TO r_customer", &[]);

    let r = admin.post(&format!("/api/v1/imports/{id}/resume"), &json!({}));
    assert_eq!(r.status, 202, "{}", r.text);
    let done = settled(&admin, id);
    assert_eq!(
        (
            done["status"].as_str(),
            done["inserted"].as_i64(),
            done["failed"].as_i64()
        ),
        (Some("done"), Some(2), Some(0)),
        "{done}"
    );
    let contacts = admin.get("/api/v1/records/contact").body["items"].clone();
    assert_eq!(contacts.as_array().map(Vec::len), Some(2), "{contacts}");
    for c in contacts.as_array().unwrap() {
        assert_eq!(c["customer"], hx["id"], "{c}");
    }
}

/// Waits until an import page no longer says a pass is going, and returns it.
fn settled_page(ui: &qingguan_tests::UiSession, id: i64) -> String {
    for _ in 0..600 {
        let page = ui.get(&format!("/imports/{id}"), "zh-CN");
        assert_eq!(page.status, 200, "{}", page.text);
        if !page.text.contains("<progress") {
            return page.text;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("import {id} never finished");
}

#[test]
fn the_web_ui_maps_checks_imports_and_undoes() {
    let s = TestServer::start();
    let admin = s.admin();
    customer_fields(&admin);
    let (_amy, _) = s.user("amy", "sales", "east");
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let list = ui.get("/e/customer", "zh-CN");
    assert!(
        list.text.contains("href=\"/e/customer/import\""),
        "{}",
        list.text
    );
    let upload_page = ui.get("/e/customer/import", "zh-CN");
    assert_eq!(upload_page.status, 200);
    assert!(upload_page.text.contains("导入到"), "{}", upload_page.text);

    // A file that is no spreadsheet: the upload page again, saying why in Chinese.
    let bad = ui.post_file(
        "/e/customer/import",
        "zh-CN",
        "file",
        "x.xlsx",
        b"PK\x03\x04junk",
    );
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.text.contains("无法读取"), "{}", bad.text);

    let page = ui.post_file(
        "/e/customer/import",
        "zh-CN",
        "file",
        "clients.csv",
        FIRST_FILE.as_bytes(),
    );
    assert_eq!(page.status, 200, "{}", page.text);
    let id: i64 = page
        .text
        .split("action=\"/imports/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("the import's page");
    assert!(page.text.contains("name=\"col.0\""), "{}", page.text);
    assert!(
        page.text
            .contains("<option value=\"external_id\" selected>"),
        "suggested: {}",
        page.text
    );
    // The Stage column is mapped by hand below; its values are offered once it is.
    let form = [
        ("action", "check"),
        ("col.0", "external_id"),
        ("col.1", "name"),
        ("col.2", "kind"),
        ("col.3", "status"),
        ("col.4", "since"),
        ("col.5", "credit"),
        ("col.6", "owner"),
        ("col.7", ""),
        ("mode", "insert"),
        ("date_format", "DD-MM-YY"),
    ];
    let checked = ui.post(&format!("/imports/{id}"), "zh-CN", &form);
    assert_eq!(checked.status, 200, "{}", checked.text);
    let checked = settled_page(&ui, id);
    assert!(checked.contains("检查结果"), "{checked}");
    assert!(
        checked.contains("将新建 1 条"),
        "Won is no status yet: {checked}"
    );
    assert!(checked.contains("DD-MM-YY"), "row 3's date: {checked}");
    assert!(
        checked.contains("valtext.status.0"),
        "the Stage values offered: {checked}"
    );

    // Map Won → customer, import.
    let won_index = checked
        .split("name=\"valtext.status.")
        .skip(1)
        .find(|part| part.contains("value=\"Won\""))
        .and_then(|part| part.split('"').next())
        .expect("Won offered")
        .to_string();
    let val = format!("val.status.{won_index}");
    let valtext = format!("valtext.status.{won_index}");
    let mut run: Vec<(&str, &str)> = form.to_vec();
    run[0] = ("action", "run");
    run.push((&valtext, "Won"));
    run.push((&val, "customer"));
    assert_eq!(
        ui.post(&format!("/imports/{id}"), "zh-CN", &run).status,
        200
    );
    let done = settled_page(&ui, id);
    assert!(done.contains("新建 2 条"), "{done}");
    assert!(done.contains("撤销本次导入"), "{done}");
    let a1 = find(&admin, "external_id=A-1").remove(0);
    assert_eq!(a1["status"], "customer");
    let record = ui.get(&format!("/e/customer/{}", a1["id"]), "zh-CN");
    assert!(
        record.text.contains("<strong>导入</strong>"),
        "history says imported: {}",
        record.text
    );

    // Another user's import is not theirs to see; a form without the token changes nothing.
    let amy_ui = s.ui_login("amy", USER_PASSWORD);
    assert_eq!(amy_ui.get(&format!("/imports/{id}"), "zh-CN").status, 404);
    let forged = ui
        .client
        .send(reqwest::Method::POST, &format!("/imports/{id}"), |r| {
            r.header("cookie", &ui.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("action=undo")
        });
    assert_eq!(forged.status, 403);

    let started = ui.post(&format!("/imports/{id}"), "zh-CN", &[("action", "undo")]);
    assert_eq!(started.status, 200, "{}", started.text);
    let undone = settled_page(&ui, id);
    assert!(undone.contains("已撤销"), "{undone}");
    assert!(find(&admin, "external_id=A-1").is_empty());
    let log = ui.get("/e/customer/import", "zh-CN");
    assert!(
        log.text.contains("clients.csv") && log.text.contains("已撤销"),
        "{}",
        log.text
    );
}

#[test]
fn an_excel_export_reads_back_as_an_import() {
    let s = TestServer::start();
    let admin = s.admin();
    customer_fields(&admin);
    let mut c = qingguan_tests::customer("=HYPERLINK(\"x\")");
    c["credit"] = json!("1234.50");
    admin.create("customer", c);
    admin.create("customer", qingguan_tests::customer("杭州恒信科技"));
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let list = ui.get("/e/customer", "zh-CN");
    assert!(list.text.contains("导出 Excel"), "{}", list.text);
    let xlsx = ui.client.send(
        reqwest::Method::GET,
        "/e/customer/export.xlsx?sort=name",
        |r| {
            r.header("cookie", &ui.cookie)
                .header("accept-language", "zh-CN")
        },
    );
    assert_eq!(xlsx.status, 200);
    assert!(xlsx
        .header("content-disposition")
        .unwrap()
        .contains(".xlsx"));
    // The text body is lossy; fetch the bytes again through a raw request.
    let bytes = reqwest::blocking::Client::new()
        .get(format!("{}/e/customer/export.xlsx?sort=name", s.url))
        .header("cookie", &ui.cookie)
        .header("accept-language", "zh-CN")
        .send()
        .unwrap()
        .bytes()
        .unwrap()
        .to_vec();
    assert!(bytes.starts_with(b"PK\x03\x04"));
    let up = upload(&admin, "customer", "export.xlsx", bytes);
    assert_eq!(up.status, 201, "{}", up.text);
    let columns = up.body["columns"].as_array().unwrap();
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"名称") && names.contains(&"信用额度"),
        "{names:?}"
    );
    let name_col = columns.iter().find(|c| c["name"] == "名称").unwrap();
    assert_eq!(
        name_col["samples"][0], "=HYPERLINK(\"x\")",
        "kept as text, not a formula"
    );
    let credit = columns.iter().find(|c| c["name"] == "信用额度").unwrap();
    assert_eq!(credit["samples"][0], "1234.5", "a number cell");
    assert_eq!(up.body["options"]["mapping"]["名称"], "name");
}

#[test]
fn a_list_can_say_how_many_records_match_within_the_callers_scope() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, _) = s.user("amy", "sales", "east");
    for i in 0..7 {
        amy.create("customer", qingguan_tests::customer(&format!("Amy {i}")));
    }
    for i in 0..5 {
        admin.create("customer", qingguan_tests::customer(&format!("Admin {i}")));
    }
    let page = admin.get("/api/v1/records/customer?limit=2&count=true");
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["total"], 12, "{}", page.text);
    assert!(page.body.get("total_capped").is_none());
    let filtered = admin.get("/api/v1/records/customer?name[contains]=Amy&count=capped");
    assert_eq!(
        (
            filtered.body["total"].as_i64(),
            filtered.body["total_capped"].as_bool()
        ),
        (Some(7), Some(false))
    );
    assert_eq!(
        amy.get("/api/v1/records/customer?count=true").body["total"],
        7
    );
    let plain = admin.get("/api/v1/records/customer");
    assert!(plain.body.get("total").is_none(), "no count unless asked");
    let bad = admin.get("/api/v1/records/customer?count=maybe");
    assert_eq!(bad.error_code(400), "bad_request");
    assert!(bad.body["error"]["fields"]["count"].is_string());
}

#[test]
fn a_record_written_twice_by_one_import_is_undone_once_and_numbers_are_not_guessed() {
    let s = TestServer::start();
    let admin = s.admin();
    customer_fields(&admin);
    let mut existing = qingguan_tests::customer("Existing");
    existing["external_id"] = json!("E-1");
    existing["credit"] = json!("680.00");
    admin.create("customer", existing);
    let file = "External ID;Name;Credit;Kind;Status\n\
A-9;New once;1;company;lead\n\
A-9;New twice;2;company;lead\n\
E-1;Changed once;3;;\n\
E-1;Changed twice;4;;\n\
 E-2 ;Padded;\"1,234.50\";company;lead\n\
E-3;Decimal comma;12,50;company;lead\n";
    let up = upload(&admin, "customer", "twice.csv", file.as_bytes().to_vec());
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["import"]["id"].as_i64().unwrap();
    let options = json!({"mapping": {"External ID": "external_id", "Name": "name", "Credit": "credit",
                                     "Kind": "kind", "Status": "status"},
                         "mode": "upsert", "key": "external_id"});
    assert_eq!(
        admin
            .post(&format!("/api/v1/imports/{id}/run"), &options)
            .status,
        202
    );
    let done = settled(&admin, id);
    assert_eq!(done["failed"], 1, "{done}");
    assert_eq!(done["errors"][0]["row"], 7, "12,50 is no number: {done}");
    let e2 = find(&admin, "external_id=E-2");
    assert_eq!(e2.len(), 1, "the key is stored without its spaces");
    assert_eq!(e2[0]["credit"], "1234.50");
    assert_eq!(find(&admin, "external_id=A-9")[0]["name"], "New twice");

    let (undo, _) = undo_and_wait(&admin, id);
    assert_eq!(
        (undo["deleted"].as_i64(), undo["restored"].as_i64()),
        (Some(2), Some(1)),
        "{undo}"
    );
    assert!(undo["skipped"].as_array().unwrap().is_empty(), "{undo}");
    assert!(find(&admin, "external_id=A-9").is_empty());
    let e1 = find(&admin, "external_id=E-1").remove(0);
    assert_eq!(
        (e1["name"].as_str(), e1["credit"].as_str()),
        (Some("Existing"), Some("680.00"))
    );

    // A dry run remembers nothing; each person's mapping is their own.
    let (manager, _) = s.user("mia", "manager", "east");
    let up = upload(&manager, "customer", "twice.csv", file.as_bytes().to_vec());
    assert_eq!(
        up.body["remembered"], false,
        "the admin's mapping is the admin's"
    );
    let mid = up.body["import"]["id"].as_i64().unwrap();
    let swapped = json!({"mapping": {"External ID": "name", "Name": "external_id"}});
    assert_eq!(
        manager
            .post(&format!("/api/v1/imports/{mid}/check"), &swapped)
            .status,
        202
    );
    settled(&manager, mid);
    let again = upload(&manager, "customer", "twice.csv", file.as_bytes().to_vec());
    assert_eq!(
        again.body["remembered"], false,
        "a dry run is no choice made"
    );
}

#[test]
fn a_sparse_or_huge_spreadsheet_is_refused_without_taking_the_server_down() {
    use rust_xlsxwriter::Workbook;
    let s = TestServer::start();
    let admin = s.admin();
    // Two cells, a sheet spanning every row and column Excel has.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "name").unwrap();
    sheet.write_string(1_048_575, 16_383, "far").unwrap();
    let r = upload(
        &admin,
        "customer",
        "wide.xlsx",
        book.save_to_buffer().unwrap(),
    );
    assert_eq!(r.error_code(400), "bad_request", "{}", r.text);
    // Two cells a million rows apart: one data row, numbered as Excel shows it.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "名称").unwrap();
    sheet.write_string(1_048_575, 0, "最后一行").unwrap();
    let r = upload(
        &admin,
        "customer",
        "tall.xlsx",
        book.save_to_buffer().unwrap(),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["import"]["total_rows"], 1);
    assert_eq!(admin.get("/api/v1/health").status, 200, "still serving");
}

#[test]
fn the_api_exports_a_filtered_list_within_scope_as_csv_or_excel() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, _) = s.user("amy", "sales", "east");
    let mut a = qingguan_tests::customer("=cmd|calc");
    a["tags"] = json!(["vip", "new"]);
    amy.create("customer", a);
    amy.create("customer", qingguan_tests::customer("Amy two"));
    admin.create("customer", qingguan_tests::customer("Admin's"));
    let csv = amy.get("/api/v1/records/customer/export?sort=name");
    assert_eq!(csv.status, 200, "{}", csv.text);
    let text = csv.text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap().starts_with("id,name,kind,status"),
        "{text}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "amy's scope: {text}");
    assert!(
        text.contains("'=cmd|calc") && text.contains("\"vip, new\""),
        "{text}"
    );
    let filtered = amy.get("/api/v1/records/customer/export?name=Amy%20two&labels=true");
    assert!(filtered.text.contains("名称") || filtered.text.contains("Name"));
    assert_eq!(filtered.text.lines().count(), 2, "{}", filtered.text);
    let xlsx = admin.get("/api/v1/records/customer/export?format=xlsx");
    assert_eq!(xlsx.status, 200);
    assert!(xlsx
        .header("content-disposition")
        .unwrap()
        .ends_with(".xlsx\""));
    assert_eq!(
        amy.get("/api/v1/records/customer/export?format=pdf")
            .error_code(400),
        "bad_request"
    );
    assert_eq!(
        amy.get("/api/v1/records/customer/export?nope=1").status,
        400
    );
    assert_eq!(
        s.anonymous().get("/api/v1/records/customer/export").status,
        401
    );
    let (hr, _) = s.user("hana", "hr", "hq");
    assert_eq!(hr.get("/api/v1/records/customer/export").status, 403);
}
