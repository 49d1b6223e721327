//! Exporting a list as CSV from the web UI: the list's filter and the caller's scope decide the
//! rows; headers and values in the reader's language; quoting and formula-looking text made
//! safe for spreadsheets.

use qingguan_tests::{customer, TestServer, ADMIN_PASSWORD, USER_PASSWORD};

#[test]
fn a_list_exports_what_it_shows_and_nothing_a_spreadsheet_would_run() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, _) = s.user("amy", "sales", "east");
    amy.create("customer", customer("杭州恒信科技, 有限公司"));
    amy.create("customer", customer("=HYPERLINK(\"http://evil\")"));
    amy.create("customer", customer("Other Amy"));
    admin.create("customer", customer("Admin's own"));

    let ui = s.ui_login("amy", USER_PASSWORD);
    let list = ui.get("/e/customer?q=%E6%81%92%E4%BF%A1", "zh-CN");
    assert!(list.text.contains("导出 CSV"), "{}", list.text);
    let csv = ui.get("/e/customer/export.csv?q=%E6%81%92%E4%BF%A1", "zh-CN");
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .contains("attachment"));
    let text = csv.text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    assert!(
        head.contains("名称") || head.contains("客户"),
        "headers in Chinese: {head}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "only the filtered row: {text}");
    assert!(
        rows[0].contains("\"杭州恒信科技, 有限公司\""),
        "quoted: {text}"
    );

    let all = ui.get("/e/customer/export.csv", "en");
    let text = all.text;
    assert!(!text.contains("Admin's own"), "outside amy's scope: {text}");
    assert!(text.contains("Other Amy"), "{text}");
    assert!(
        text.contains("'=HYPERLINK"),
        "a formula is made inert: {text}"
    );
    assert!(
        csv.text.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheets"
    );

    let admin_ui = s.ui_login("admin", ADMIN_PASSWORD);
    let everything = admin_ui.get("/e/customer/export.csv", "en");
    assert_eq!(everything.text.lines().count(), 5, "{}", everything.text);
    let anonymous = s.anonymous().get("/e/customer/export.csv");
    assert!(!anonymous.text.contains("Other Amy"));
}
