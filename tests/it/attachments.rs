//! Files attached to records, end to end over HTTP and the record page: upload (raw body and
//! form), list, download with the type sniffed from the bytes (an HTML file never comes back
//! as HTML), names without folders, Chinese names for saving, limits, history, removal, the
//! record's deletion taking its files, a backup holding them — and a rep reaching for another
//! rep's files, a reader trying to add or remove one, an anonymous client.

use qingguan_tests::{customer, Client, TestServer, ADMIN_PASSWORD};
use serde_json::{json, Value};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Uploads `bytes` as the raw body with `?name=`.
fn upload(c: &Client, entity: &str, id: &Value, name: &str, bytes: &[u8]) -> qingguan_tests::Resp {
    let name: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let body = bytes.to_vec();
    c.send(
        reqwest::Method::POST,
        &format!("/api/v1/records/{entity}/{id}/attachments?name={name}"),
        |r| {
            r.header("content-type", "application/octet-stream")
                .body(body)
        },
    )
}

/// Downloads an attachment: status, headers and the exact bytes.
fn download(base: &str, c: &Client, id: &Value) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut rb = reqwest::blocking::Client::new().get(format!("{base}/api/v1/attachments/{id}"));
    if let Some(t) = &c.token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.bytes().unwrap().to_vec())
}

fn header(h: &reqwest::header::HeaderMap, name: &str) -> String {
    h.get(name)
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn list(c: &Client, entity: &str, id: &Value) -> qingguan_tests::Resp {
    c.get(&format!("/api/v1/records/{entity}/{id}/attachments"))
}

#[test]
fn files_are_attached_listed_served_safely_and_go_with_their_record() {
    let s = TestServer::start();
    let admin = s.admin();
    let c = admin.create("customer", customer("Acme"));
    // A picture, shown in place; a page of HTML and an SVG, only ever downloaded as bytes.
    let png = upload(&admin, "customer", &c["id"], "../../logo.png", PNG);
    assert_eq!(png.status, 201, "{}", png.text);
    assert_eq!(
        (
            png.body["name"].clone(),
            png.body["content_type"].clone(),
            png.body["size"].clone()
        ),
        (json!("logo.png"), json!("image/png"), json!(PNG.len()))
    );
    let html = upload(
        &admin,
        "customer",
        &c["id"],
        "合同 v2.html",
        b"<html><script>alert(document.cookie)</script>",
    );
    assert_eq!(html.status, 201, "{}", html.text);
    assert_eq!(html.body["content_type"], "application/octet-stream");
    let svg = upload(
        &admin,
        "customer",
        &c["id"],
        "x.svg",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
    );
    assert_eq!(
        svg.body["content_type"], "application/octet-stream",
        "{}",
        svg.text
    );
    let items = list(&admin, "customer", &c["id"]).body["items"].clone();
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["logo.png", "合同 v2.html", "x.svg"]);

    let (status, h, bytes) = download(&s.url, &admin, &png.body["id"]);
    assert_eq!((status, bytes.as_slice()), (200, PNG));
    assert_eq!(header(&h, "content-type"), "image/png");
    assert!(
        header(&h, "content-disposition").starts_with("inline"),
        "{h:?}"
    );
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    let (status, h, bytes) = download(&s.url, &admin, &html.body["id"]);
    assert_eq!(status, 200);
    assert!(bytes.starts_with(b"<html>"));
    assert_eq!(header(&h, "content-type"), "application/octet-stream");
    let disposition = header(&h, "content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E5%90%88%E5%90%8C%20v2.html"),
        "{disposition}"
    );
    assert!(
        header(&h, "content-security-policy").contains("sandbox"),
        "{h:?}"
    );

    // Attaching and removing are in the record's history.
    let history = admin.get(&format!("/api/v1/records/customer/{}/history", c["id"]));
    assert!(
        history.text.contains("\"attach\"") && history.text.contains("logo.png"),
        "{}",
        history.text
    );
    let gone = admin.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{}", svg.body["id"]),
        |r| r,
    );
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_eq!(download(&s.url, &admin, &svg.body["id"]).0, 404);
    let history = admin.get(&format!("/api/v1/records/customer/{}/history", c["id"]));
    assert!(history.text.contains("\"detach\""), "{}", history.text);

    // Bad input: no name, an empty file, one byte over the limit — refused, nothing kept.
    assert_eq!(upload(&admin, "customer", &c["id"], "", PNG).status, 422);
    assert_eq!(upload(&admin, "customer", &c["id"], "../", PNG).status, 422);
    let empty = upload(&admin, "customer", &c["id"], "empty.txt", b"");
    assert_eq!(empty.status, 422, "{}", empty.text);
    assert!(
        empty.body["error"]["fields"]["file"].is_string(),
        "{}",
        empty.text
    );
    let big = upload(
        &admin,
        "customer",
        &c["id"],
        "big.bin",
        &vec![7u8; 10 * 1024 * 1024 + 1],
    );
    assert_eq!(big.status, 413, "{}", big.text);
    assert_eq!(
        upload(&admin, "customer", &json!(999_999), "a.png", PNG).status,
        404
    );
    // A form counts whole: a part header or a preamble past the limit is refused like a file.
    // The server answers 413 as soon as the limit passes and may close the connection before
    // the client has sent the rest: either way it is refused, and nothing is kept.
    let form = |head: &str, preamble: &str| -> Option<u16> {
        let body = format!("{preamble}--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n{head}\r\nhi\r\n--B--\r\n");
        reqwest::blocking::Client::new()
            .post(format!(
                "{}/api/v1/records/customer/{}/attachments",
                s.url, c["id"]
            ))
            .bearer_auth(admin.token.as_deref().unwrap_or_default())
            .header("content-type", "multipart/form-data; boundary=B")
            .body(body)
            .send()
            .ok()
            .map(|r| r.status().as_u16())
    };
    let before = list(&admin, "customer", &c["id"]).body["items"]
        .as_array()
        .unwrap()
        .len();
    let huge = "A".repeat(11 * 1024 * 1024);
    for sent in [
        form(&format!("X-Big: {huge}\r\n"), ""),
        form("", &format!("{huge}\r\n")),
    ] {
        assert!(matches!(sent, Some(413) | None), "{sent:?}");
    }
    assert_eq!(
        list(&admin, "customer", &c["id"]).body["items"]
            .as_array()
            .unwrap()
            .len(),
        before
    );
    // Media types are case-insensitive: this form's file is the file, not the whole body.
    let cased = admin.send(
        reqwest::Method::POST,
        &format!("/api/v1/records/customer/{}/attachments", c["id"]),
        |r| {
            r.header("content-type", "Multipart/Form-Data; boundary=B").body(
                "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cased.txt\"\r\n\r\nhi\r\n--B--\r\n",
            )
        },
    );
    assert_eq!(
        (
            cased.status,
            cased.body["name"].clone(),
            cased.body["size"].clone()
        ),
        (201, json!("cased.txt"), json!(2)),
        "{}",
        cased.text
    );
    let gone = admin.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{}", cased.body["id"]),
        |r| r,
    );
    assert_eq!(gone.status, 204);
    // Invisible characters do not make a name: a right-to-left override is dropped.
    let rtl = upload(
        &admin,
        "customer",
        &c["id"],
        "invoice\u{202e}fdp.exe",
        b"MZ",
    );
    assert_eq!(rtl.body["name"], "invoicefdp.exe", "{}", rtl.text);
    let gone = admin.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{}", rtl.body["id"]),
        |r| r,
    );
    assert_eq!(gone.status, 204);
    assert_eq!(
        list(&admin, "customer", &c["id"]).body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Exactly the limit is fine.
    let max = upload(
        &admin,
        "customer",
        &c["id"],
        "max.bin",
        &vec![7u8; 10 * 1024 * 1024],
    );
    assert_eq!(max.status, 201, "{}", max.text);

    // A backup holds the files: restored, the picture downloads byte for byte (backups are
    // SQLite's; a PostgreSQL install is backed up with pg_dump).
    if !s.on_postgres() {
        let backup = s.dir.path().join("with-files.qgbackup");
        s.store.backup(&backup).unwrap();
        let restored = rusqlite::Connection::open(&backup).unwrap();
        let kept: Vec<u8> = restored
            .query_row(
                "SELECT data FROM attachments WHERE id = ?1",
                [png.body["id"].as_i64().unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, PNG);
        drop(restored);
    }

    // Deleting the record deletes its files.
    let rec = admin.get(&format!("/api/v1/records/customer/{}", c["id"]));
    let del = admin.delete_v(
        &format!("/api/v1/records/customer/{}", c["id"]),
        rec.body["version"].as_i64().unwrap(),
    );
    assert_eq!(del.status, 204, "{}", del.text);
    assert_eq!(download(&s.url, &admin, &png.body["id"]).0, 404);
    let left = s.query_integer("SELECT COUNT(*) FROM attachments");
    assert_eq!(left, 0);
}

#[test]
fn other_peoples_files_stay_theirs() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "north");
    let (bob, _) = s.user("bob", "sales", "north");
    let mut mine = customer("Amy's client");
    mine["owner"] = json!(amy_id);
    let c = admin.create("customer", mine);
    let file = upload(&amy, "customer", &c["id"], "quote.pdf", b"%PDF-1.4 quote");
    assert_eq!(file.status, 201, "{}", file.text);
    assert_eq!(file.body["content_type"], "application/pdf");
    // Bob (another rep, own records only) cannot see, fetch, add or remove it: it does not exist.
    assert_eq!(list(&bob, "customer", &c["id"]).status, 404);
    assert_eq!(download(&s.url, &bob, &file.body["id"]).0, 404);
    assert_eq!(upload(&bob, "customer", &c["id"], "x.png", PNG).status, 404);
    let del = bob.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{}", file.body["id"]),
        |r| r,
    );
    assert_eq!(del.status, 404, "{}", del.text);
    // Nobody anonymous.
    let anon = s.anonymous();
    assert_eq!(download(&s.url, &anon, &file.body["id"]).0, 401);
    assert_eq!(
        upload(&anon, "customer", &c["id"], "x.png", PNG).status,
        401
    );
    // A role that may read customers but not edit them sees the file and cannot add or remove.
    let (fin, _) = s.user("fin", "finance", "hq");
    let seen = list(&fin, "customer", &c["id"]);
    assert_eq!(
        seen.status, 200,
        "finance reads every customer: {}",
        seen.text
    );
    assert_eq!(seen.body["items"][0]["name"], "quote.pdf");
    assert_eq!(download(&s.url, &fin, &file.body["id"]).0, 200);
    assert_eq!(upload(&fin, "customer", &c["id"], "x.png", PNG).status, 403);
    let del = fin.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{}", file.body["id"]),
        |r| r,
    );
    assert_eq!(del.status, 403, "{}", del.text);
    assert_eq!(download(&s.url, &amy, &file.body["id"]).0, 200);
    // Amy's manager may edit the record but not take away what Amy filed; an administrator
    // may. Nobody attaches files to a user's record.
    let (mia, _) = s.user("mia", "manager", "north");
    let by_manager = mia.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{}", file.body["id"]),
        |r| r,
    );
    assert_eq!(by_manager.status, 403, "{}", by_manager.text);
    assert_eq!(
        upload(&mia, "customer", &c["id"], "note.pdf", b"%PDF-1.4").status,
        201
    );
    let on_user = upload(&admin, "user", &json!(amy_id), "id-card.png", PNG);
    assert_eq!(on_user.status, 403, "{}", on_user.text);
    let by_admin = admin.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{}", file.body["id"]),
        |r| r,
    );
    assert_eq!(by_admin.status, 204, "{}", by_admin.text);
}

#[test]
fn the_record_page_attaches_shows_and_removes_files_in_both_languages() {
    let s = TestServer::start();
    let admin = s.admin();
    let c = admin.create("customer", customer("Acme"));
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = format!("/e/customer/{}", c["id"]);
    let before = ui.get(&page, "zh-CN");
    assert!(
        before.text.contains("附件") && before.text.contains("暂无附件"),
        "{}",
        before.text
    );
    assert!(
        before.text.contains("每个文件最多 10.0 MB"),
        "{}",
        before.text
    );
    let up = ui.post_file(
        &format!("{page}/attachments"),
        "zh-CN",
        "file",
        "报价单.png",
        PNG,
    );
    assert_eq!(up.status, 200, "{}", up.text);
    assert!(
        up.text.contains("报价单.png") && up.text.contains("<img src=\"/api/v1/attachments/"),
        "{}",
        up.text
    );
    assert!(
        up.text.contains("上传了附件"),
        "the timeline says so: {}",
        up.text
    );
    let en = ui.get(&page, "en");
    assert!(
        en.text.contains("Attachments") && en.text.contains("attached a file"),
        "{}",
        en.text
    );
    // Without the token: refused, nothing kept.
    let second = ui.post_file(&format!("{page}/attachments"), "en", "file", "x.png", PNG);
    assert_eq!(second.status, 200, "{}", second.text);
    let no_token = ui.client.send(reqwest::Method::POST, &format!("{page}/attachments?csrf=wrong"), |r| {
        r.header("cookie", &ui.cookie)
            .header("content-type", "multipart/form-data; boundary=b")
            .body("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"y.png\"\r\n\r\nabc\r\n--b--\r\n")
    });
    assert_eq!(no_token.status, 403, "{}", no_token.text);
    // An empty file is refused on the page, in Chinese.
    let empty = ui.post_file(
        &format!("{page}/attachments"),
        "zh-CN",
        "file",
        "empty.txt",
        b"",
    );
    assert_eq!(empty.status, 422, "{}", empty.text);
    assert!(
        empty.text.contains("必填") || empty.text.contains("不能为空"),
        "{}",
        empty.text
    );
    let items = list(&admin, "customer", &c["id"]).body["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 2, "{items}");
    // A file is removed only from its own record's page.
    let id = items[1]["id"].as_i64().unwrap();
    let other = admin.create("customer", customer("Other"));
    let wrong = ui.post(
        &format!("/e/customer/{}/attachments/{id}/delete", other["id"]),
        "en",
        &[],
    );
    assert_eq!(wrong.status, 404, "{}", wrong.text);
    assert_eq!(
        list(&admin, "customer", &c["id"]).body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Remove one with its button.
    let removed = ui.post(&format!("{page}/attachments/{id}/delete"), "en", &[]);
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(
        list(&admin, "customer", &c["id"]).body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
