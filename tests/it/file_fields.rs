//! File fields: a field that names one of the record's own files (a signed contract, a
//! business licence) — uploaded to the record with the field named, in one transaction; never
//! a file of another record; emptied when its file is removed; with the field's rules; shown
//! as a link with an upload button on the record's page, in either language.

use crate::field_rules::set_rules;
use qingguan_tests::{customer, Client, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::{json, Value};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

fn upload(c: &Client, id: i64, query: &str) -> qingguan_tests::Resp {
    c.send(
        reqwest::Method::POST,
        &format!("/api/v1/records/customer/{id}/attachments?{query}"),
        |r| {
            r.header("content-type", "application/octet-stream")
                .body(PDF.to_vec())
        },
    )
}

fn files(c: &Client, id: i64) -> usize {
    c.get(&format!("/api/v1/records/customer/{id}/attachments"))
        .body["items"]
        .as_array()
        .map_or(0, Vec::len)
}

fn record(c: &Client, id: i64) -> Value {
    c.get(&format!("/api/v1/records/customer/{id}")).body
}

#[test]
fn a_file_field_holds_one_of_the_records_own_files() {
    let s = TestServer::start();
    let admin = s.admin();
    let add = |def: Value| admin.post("/api/v1/entities/customer/fields", &def);
    let r = add(json!({"name": "contract", "type": "file",
                       "label": {"en": "Signed contract", "zh-CN": "合同扫描件"}}));
    assert_eq!(r.status, 201, "{}", r.text);
    // Filled by uploading: never required, never a default, never unique.
    for bad in [
        json!({"name": "licence", "type": "file", "required": true, "label": {"en": "L", "zh-CN": "L"}}),
        json!({"name": "licence", "type": "file", "default": 1, "label": {"en": "L", "zh-CN": "L"}}),
        json!({"name": "licence", "type": "file", "unique": true, "label": {"en": "L", "zh-CN": "L"}}),
    ] {
        let r = add(bad.clone());
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }

    // A new record names no file yet; a number that is not its file is refused.
    let mut c = customer("Acme");
    c["contract"] = json!(5);
    let r = admin.post("/api/v1/records/customer", &c);
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["fields"]["contract"],
        "#5 is not a file attached to this record: upload the file to the record first"
    );
    let acme = admin.create("customer", customer("Acme"))["id"]
        .as_i64()
        .unwrap();
    let other = admin.create("customer", customer("Other"))["id"]
        .as_i64()
        .unwrap();

    // Uploaded with the field named: the record's file and the field's value at once.
    let up = upload(&admin, acme, "name=contract-2026.pdf&field=contract");
    assert_eq!(up.status, 201, "{}", up.text);
    let first = up.body["id"].as_i64().unwrap();
    let r = record(&admin, acme);
    assert_eq!(r["contract"], first, "{r}");
    assert_eq!(r["version"], 2);
    let h = admin.get(&format!("/api/v1/records/customer/{acme}/history"));
    let actions: Vec<&str> = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "attach", "update"], "{}", h.text);

    // Another record's file is not this record's.
    let theirs = upload(&admin, other, "name=other.pdf").body["id"]
        .as_i64()
        .unwrap();
    let r = admin.patch_v(
        &format!("/api/v1/records/customer/{acme}"),
        2,
        &json!({"contract": theirs}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(record(&admin, acme)["contract"], first);

    // A new version replaces it; the old file stays among the record's files.
    let second = upload(&admin, acme, "name=contract-2027.pdf&field=contract").body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(record(&admin, acme)["contract"], second);
    assert_eq!(files(&admin, acme), 2);

    // A field that is not a file field, or none at all: refused before anything is stored.
    for (query, why) in [
        ("name=x.pdf&field=name", "must be"),
        ("name=x.pdf&field=ghost", "has no field"),
    ] {
        let r = upload(&admin, acme, query);
        assert_eq!(r.status, 422, "{query}: {}", r.text);
        assert!(r.text.contains(why), "{query}: {}", r.text);
    }
    assert_eq!(files(&admin, acme), 2, "nothing half-written");

    // Removing the field's file empties the field (a new version, in the history).
    let v = record(&admin, acme)["version"].as_i64().unwrap();
    let r = admin.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{second}"),
        |r| r,
    );
    assert!(r.status < 300, "{}", r.text);
    let after = record(&admin, acme);
    assert_eq!(after["contract"], Value::Null, "{after}");
    assert_eq!(after["version"], v + 1);
    // The earlier file can be named again: it is still the record's.
    let r = admin.patch_v(
        &format!("/api/v1/records/customer/{acme}"),
        v + 1,
        &json!({"contract": first}),
    );
    assert_eq!(r.status, 200, "{}", r.text);

    // A role the field is hidden from cannot fill it — and nothing of theirs is stored.
    let (amy, _) = s.user("amy", "sales", "east");
    let mine = amy.create("customer", customer("Amy's"))["id"]
        .as_i64()
        .unwrap();
    let r = set_rules(&admin, "sales", json!({"customer": {"contract": "hidden"}}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = upload(&amy, mine, "name=x.pdf&field=contract");
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(files(&amy, mine), 0);
    // The file a hidden field names is hidden too: not listed, not served.
    let theirs = upload(&admin, mine, "name=id-scan.pdf&field=contract");
    assert_eq!(theirs.status, 201, "{}", theirs.text);
    assert_eq!(files(&admin, mine), 1);
    assert_eq!(files(&amy, mine), 0, "the rep does not see it");
    let served = amy.get(&format!("/api/v1/attachments/{}", theirs.body["id"]));
    assert_eq!(served.status, 404, "{}", served.text);
    // Nor is its name in the record's history or timeline for her; the admin reads it there.
    for path in ["history", "timeline"] {
        let hers = amy.get(&format!("/api/v1/records/customer/{mine}/{path}"));
        assert_eq!(hers.status, 200, "{}", hers.text);
        assert!(!hers.text.contains("id-scan.pdf"), "{path}: {}", hers.text);
        let admins = admin.get(&format!("/api/v1/records/customer/{mine}/{path}"));
        assert!(
            admins.text.contains("id-scan.pdf"),
            "{path}: {}",
            admins.text
        );
    }
    let page = s
        .ui_login("amy", USER_PASSWORD)
        .get(&format!("/e/customer/{mine}"), "zh-CN");
    assert!(!page.text.contains("id-scan.pdf"), "{}", page.text);
    // Replaced through the field, the earlier file is still the hidden field's: not shown.
    let newer = upload(&admin, mine, "name=id-scan-2.pdf&field=contract");
    assert_eq!(newer.status, 201, "{}", newer.text);
    assert_eq!(files(&admin, mine), 2);
    assert_eq!(files(&amy, mine), 0, "neither file is the rep's to see");
    let served = amy.get(&format!("/api/v1/attachments/{}", theirs.body["id"]));
    assert_eq!(served.status, 404, "{}", served.text);
    // Nor may a stranger fill another's record.
    let (bob, _) = s.user("bob", "sales", "west");
    assert_eq!(upload(&bob, mine, "name=x.pdf").status, 404);

    // A file named in a field read-only for the uploader's role stays: removing it would
    // change the field.
    let r = set_rules(
        &admin,
        "sales",
        json!({"customer": {"contract": "read_only"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let own = amy.create("customer", customer("Amy's second"))["id"]
        .as_i64()
        .unwrap();
    let file = upload(&amy, own, "name=signed.pdf").body["id"]
        .as_i64()
        .unwrap();
    let r = upload(&amy, own, "name=again.pdf&field=contract");
    assert_eq!(r.status, 422, "read-only for her: {}", r.text);
    let r = admin.patch_v(
        &format!("/api/v1/records/customer/{own}"),
        1,
        &json!({"contract": file}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = amy.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{file}"),
        |r| r,
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(record(&admin, own)["contract"], file);
    assert_eq!(files(&admin, own), 1);
}

#[test]
fn a_file_field_is_uploaded_from_the_records_page_in_either_language() {
    let s = TestServer::start();
    let admin = s.admin();
    let r = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "licence", "type": "file",
                "label": {"en": "Business licence", "zh-CN": "营业执照"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let id = admin.create("customer", customer("杭州恒信科技"))["id"]
        .as_i64()
        .unwrap();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get(&format!("/e/customer/{id}"), "zh-CN");
    assert!(
        page.text.contains("data-file-field=\"licence\""),
        "{}",
        page.text
    );
    assert!(page.text.contains(">上传</button>"), "{}", page.text);
    // The edit form shows it, never as an input to type a number into.
    let form = ui.get(&format!("/e/customer/{id}/edit"), "en");
    assert!(form.text.contains("Business licence"), "{}", form.text);
    assert!(!form.text.contains("name=\"licence\""), "{}", form.text);

    let up = ui.post_file(
        &format!("/e/customer/{id}/attachments?field=licence"),
        "zh-CN",
        "file",
        "营业执照.pdf",
        PDF,
    );
    assert_eq!(up.status, 200, "{}", up.text);
    let att = record(&admin, id)["licence"].as_i64().expect("filled");
    assert!(
        up.text.contains(&format!(
            "&#x2f;api&#x2f;v1&#x2f;attachments&#x2f;{att}\">营业执照.pdf</a>"
        )),
        "{}",
        up.text
    );
    assert!(up.text.contains(">更换</button>"), "{}", up.text);
    // An upload naming a field that is not a file field: refused on the page, in English.
    let bad = ui.post_file(
        &format!("/e/customer/{id}/attachments?field=name"),
        "en",
        "file",
        "x.pdf",
        PDF,
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(files(&admin, id), 1);

    // A rep without update on a stranger's record sees no upload button.
    s.user("amy", "sales", "east");
    let rep = s.ui_login("amy", USER_PASSWORD);
    assert_eq!(rep.get(&format!("/e/customer/{id}"), "en").status, 404);
}
