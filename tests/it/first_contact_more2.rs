//! Further first-contact fixes of the web UI (issue #21), each driven over HTTP or the real
//! binary: the first-party plugins built into the binary offered on the plugins page and by
//! `plugin install --builtin`, and refusals on record pages said in the reader's language.

use qingguan_tests::{customer, install, Client, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::json;
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qingguan-cli"));
    c.env("QINGGUAN_LOG", "warn")
        .env_remove("QINGGUAN_DATA_DIR")
        .env_remove("QINGGUAN_PASSWORD");
    c
}

/// The ids of the installed plugins, as the API lists them.
fn installed(admin: &Client) -> Vec<String> {
    let r = admin.get("/api/v1/plugins");
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
        .as_array()
        .or_else(|| r.body["items"].as_array())
        .expect("plugin list")
        .iter()
        .filter(|p| p["status"] != "rejected")
        .filter_map(|p| p["id"].as_str().map(String::from))
        .collect()
}

#[test]
fn the_plugins_page_offers_and_installs_the_builtin_plugins() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);

    let page = ui.get("/admin/plugins", "zh-CN");
    assert_eq!(page.status, 200, "{}", page.text);
    for id in ["sales", "growth_rule", "appraisal", "inventory", "finance"] {
        assert!(
            page.text.contains(&format!("data-builtin=\"{id}\"")),
            "{id} not offered: {}",
            page.text
        );
    }
    // Name, section and capabilities in the reader's words (the sales plugin's own types by
    // their labels although they do not exist yet).
    assert!(page.text.contains("内置插件"), "{}", page.text);
    assert!(page.text.contains("销售管理"), "{}", page.text);
    // Inventory reads deals, a type the sales plugin brings: named by its label all the same.
    let row = |text: &str, id: &str| -> String {
        let at = text.find(&format!("data-builtin=\"{id}\"")).unwrap();
        text[at..].split("</tr>").next().unwrap().to_string()
    };
    let inventory = row(&page.text, "inventory");
    assert!(inventory.contains("读取：客户、用户、商机"), "{inventory}");
    // Growth rule asks the sales plugin, named by its name.
    let growth = row(&page.text, "growth_rule");
    assert!(growth.contains("销售管理"), "{growth}");
    let en = ui.get("/admin/plugins", "en");
    assert!(en.text.contains("Built-in plugins"), "{}", en.text);
    assert!(en.text.contains(">Sales <code"), "{}", en.text);

    // Without the approval box ticked: refused in the reader's language, nothing installed.
    let refused = ui.post("/admin/plugins/builtin", "zh-CN", &[("name", "sales")]);
    assert_eq!(refused.status, 200, "{}", refused.text);
    assert!(
        refused.text.contains("该插件申请的权限需要您批准"),
        "{}",
        refused.text
    );
    assert!(!installed(&admin).contains(&"sales".to_string()));

    // Approved: installed, and no longer offered; the others still are.
    let done = ui.post(
        "/admin/plugins/builtin",
        "zh-CN",
        &[("name", "sales"), ("approve", "true")],
    );
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(installed(&admin).contains(&"sales".to_string()));
    assert!(
        !done.text.contains("data-builtin=\"sales\""),
        "{}",
        done.text
    );
    assert!(
        done.text.contains("data-builtin=\"inventory\""),
        "{}",
        done.text
    );
    assert!(done.text.contains("data-plugin=\"sales\""), "{}", done.text);
    // The sales plugin's types are there at once.
    assert_eq!(admin.get("/api/v1/records/deal").status, 200);
}

#[test]
fn builtin_install_is_refused_to_non_admins_and_for_unknown_names() {
    let s = TestServer::start();
    let admin = s.admin();
    s.user("amy", "sales", "east");
    let amy = s.ui_login("amy", USER_PASSWORD);
    assert_eq!(amy.get("/admin/plugins", "en").status, 403);
    let r = amy.post(
        "/admin/plugins/builtin",
        "zh-CN",
        &[("name", "sales"), ("approve", "true")],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        r.text.contains("无权") || r.text.contains("权限"),
        "{}",
        r.text
    );
    assert!(installed(&admin).is_empty());

    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let r = ui.post(
        "/admin/plugins/builtin",
        "zh-CN",
        &[("name", "nosuch"), ("approve", "true")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("没有名为“nosuch”的内置插件"), "{}", r.text);
    let r = ui.post(
        "/admin/plugins/builtin",
        "en",
        &[("name", "../sales"), ("approve", "true")],
    );
    assert!(
        r.text.contains("There is no built-in plugin called"),
        "{}",
        r.text
    );
    assert!(installed(&admin).is_empty());
}

#[test]
fn cli_installs_a_builtin_plugin_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();

    let out = bin()
        .args([
            "plugin",
            "install",
            "--builtin",
            "nosuch",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no built-in plugin 'nosuch'"), "{err}");
    assert!(
        err.contains("sales, growth_rule, appraisal, inventory, finance"),
        "{err}"
    );

    // Approval is asked for as with a file.
    let out = bin()
        .args([
            "plugin",
            "install",
            "--builtin",
            "sales",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("approv"), "{err}");

    let out = bin()
        .args([
            "plugin",
            "install",
            "--builtin",
            "sales",
            "--approve",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Installed sales"));
    let out = bin()
        .args(["plugin", "list", "--data-dir", data_s])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.lines()
            .any(|l| l.starts_with("sales") && l.contains("active")),
        "{list}"
    );

    // A file and --builtin together are refused by the parser.
    let out = bin()
        .args([
            "plugin",
            "install",
            "x.wasm",
            "--builtin",
            "sales",
            "--data-dir",
            data_s,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn a_refused_delete_is_said_in_the_readers_language() {
    let s = TestServer::start();
    let admin = s.admin();
    let c = admin.create("customer", customer("Hengxin"));
    let cid = c["id"].as_i64().unwrap();
    admin.create("contact", json!({"name": "Li", "customer": cid}));
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let path = format!("/e/customer/{cid}/delete");

    let zh = ui.post(&path, "zh-CN", &[("version", "1")]);
    assert_eq!(zh.status, 409, "{}", zh.text);
    assert!(zh.text.contains("这条记录未被删除"), "{}", zh.text);
    assert!(
        zh.text.contains("仍有 1 条联系人记录通过“所属客户”引用它"),
        "{}",
        zh.text
    );
    assert!(!zh.text.contains("still referenced"), "{}", zh.text);

    let en = ui.post(&path, "en", &[("version", "1")]);
    assert_eq!(en.status, 409, "{}", en.text);
    assert!(
        en.text
            .contains("This record was not deleted. 1 Contact record(s) still refer to it"),
        "{}",
        en.text
    );
    // Nothing was deleted.
    assert_eq!(
        admin.get(&format!("/api/v1/records/customer/{cid}")).status,
        200
    );

    // A stale delete likewise.
    let stale = ui.post(&path, "zh-CN", &[("version", "7")]);
    assert_eq!(stale.status, 409, "{}", stale.text);
    assert!(
        stale.text.contains("其他人修改了这条记录"),
        "{}",
        stale.text
    );
    assert!(!stale.text.contains("expected version"), "{}", stale.text);

    // A record that is not there: the page says so in Chinese, without the core's English.
    let gone = ui.get("/e/customer/999999", "zh-CN");
    assert_eq!(gone.status, 404, "{}", gone.text);
    assert!(
        !gone.text.contains("999999 not found") && !gone.text.contains("no customer"),
        "{}",
        gone.text
    );

    // The API keeps its English summary and now names the reason by code in the fields.
    let api = admin.delete_v(&format!("/api/v1/records/customer/{cid}"), 1);
    assert_eq!(api.error_code(409), "conflict");
    assert!(api.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("still referenced by 1 contact"));
    assert!(
        api.body["error"]["fields"]["id"].is_string(),
        "{}",
        api.text
    );
}

#[test]
fn a_plugin_actions_refusal_is_said_in_the_readers_language() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let c = admin.create("customer", customer("Hengxin"));
    let deal = admin.create(
        "deal",
        json!({"title": "ERP", "customer": c["id"], "stage": "lead"}),
    );
    let id = deal["id"].as_i64().unwrap();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let path = format!("/e/deal/{id}/action/sales/mark_won");

    let zh = ui.post(&path, "zh-CN", &[]);
    assert_eq!(zh.status, 422, "{}", zh.text);
    assert!(
        zh.text
            .contains("操作未执行。 赢单必须填写金额（金额：赢单时必填）"),
        "{}",
        zh.text
    );
    assert!(!zh.text.contains("amount:"), "{}", zh.text);
    assert!(!zh.text.contains("a won deal"), "{}", zh.text);

    let en = ui.post(&path, "en", &[]);
    assert!(
        en.text
            .contains("The action was not carried out. a won deal needs its amount (Amount: required when the deal is won)"),
        "{}",
        en.text
    );
    let after = admin.get(&format!("/api/v1/records/deal/{id}"));
    assert_eq!(after.body["stage"], "lead");
}

/// The part of a kanban page that is the column of `value`.
fn column<'a>(page: &'a str, value: &str) -> &'a str {
    let start = page
        .find(&format!("data-value=\"{value}\""))
        .unwrap_or_else(|| panic!("no column {value}: {page}"));
    let rest = &page[start..];
    let end = rest.find("</h2>").expect("column heading");
    &rest[..end]
}

#[test]
fn kanban_columns_show_count_and_total_and_follow_a_drag() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let c = admin.create("customer", customer("Hengxin"));
    let deal = |title: &str, stage: &str, amount: Option<&str>| {
        let mut body = json!({"title": title, "customer": c["id"], "stage": stage});
        if let Some(a) = amount {
            body["amount"] = json!(a);
        }
        admin.create("deal", body)
    };
    let big = deal("Big", "lead", Some("300000"));
    deal("Unpriced", "lead", None);
    deal("Mid", "qualified", Some("125000"));
    deal("Small", "proposal", Some("8500.5"));
    let ui = s.ui_login("admin", ADMIN_PASSWORD);

    let zh = ui.get("/e/deal/kanban", "zh-CN");
    assert_eq!(zh.status, 200, "{}", zh.text);
    let lead = column(&zh.text, "lead");
    assert!(lead.contains("column-count\">2<"), "{lead}");
    assert!(lead.contains(">30万<"), "{lead}");
    assert!(lead.contains("title=\"金额\""), "{lead}");
    assert!(column(&zh.text, "qualified").contains(">12.5万<"));
    assert!(column(&zh.text, "proposal").contains(">8,500.50<"));
    assert!(column(&zh.text, "won").contains(">0.00<"));
    let en = ui.get("/e/deal/kanban", "en");
    assert!(
        column(&en.text, "lead").contains(">300,000.00<"),
        "{}",
        en.text
    );
    assert!(en.text.contains("data-labels=\""), "{}", en.text);

    // A drag is a PATCH of the stage; the totals the board's script fetches then follow it.
    let moved = admin.patch_v(
        &format!("/api/v1/records/deal/{}", big["id"]),
        big["version"].as_i64().unwrap(),
        &json!({"stage": "qualified"}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    let totals = ui.get("/e/deal/kanban/totals", "zh-CN");
    assert_eq!(totals.status, 200, "{}", totals.text);
    let col = |v: &str| {
        totals.body["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["value"] == v)
            .cloned()
            .unwrap()
    };
    assert_eq!(col("lead")["count"], 1);
    assert_eq!(col("lead")["total"], "0.00");
    assert_eq!(col("qualified")["count"], 2);
    assert_eq!(col("qualified")["total"], "42.5万");
    let en = ui.get("/e/deal/kanban/totals", "en");
    assert_eq!(en.body["columns"][1]["total"], "425,000.00", "{}", en.text);

    // Within the reader's scope only: a rep sees the totals of her own deals.
    let (amy_api, _) = s.user("amy", "sales", "east");
    let hers = amy_api.create("customer", customer("Amy's customer"));
    let own = amy_api.post(
        "/api/v1/records/deal",
        &json!({"title": "Amy's", "customer": hers["id"], "stage": "lead", "amount": "50000"}),
    );
    assert_eq!(own.status, 201, "{}", own.text);
    let amy = s.ui_login("amy", USER_PASSWORD);
    let mine = amy.get("/e/deal/kanban", "zh-CN");
    assert_eq!(mine.status, 200, "{}", mine.text);
    let lead = column(&mine.text, "lead");
    assert!(
        lead.contains("column-count\">1<") && lead.contains(">5万<"),
        "{lead}"
    );

    // A type without a money field shows counts only.
    let customers = ui.get("/e/customer/kanban", "en");
    assert_eq!(customers.status, 200);
    assert!(
        !customers.text.contains("column-total"),
        "{}",
        customers.text
    );
    assert_eq!(ui.get("/e/nosuch/kanban/totals", "en").status, 404);
}

/// The titles a picker suggests.
fn picked(r: &qingguan_tests::Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_followups_deal_picker_is_narrowed_to_its_customer() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let c1 = admin.create("customer", customer("Hengxin"));
    let c2 = admin.create("customer", customer("Northwind"));
    for (title, c) in [("Alpha ERP", &c1), ("Alpha CRM", &c2), ("Beta ERP", &c1)] {
        admin.create(
            "deal",
            json!({"title": title, "customer": c["id"], "stage": "lead"}),
        );
    }
    let ui = s.ui_login("admin", ADMIN_PASSWORD);

    // The follow-up form says which field narrows the deal picker, and by which of the
    // deal's fields; a contact's form (one reference) narrows nothing.
    let form = ui.get(&format!("/e/followup/new?customer={}", c1["id"]), "en");
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(
        form.text.contains(
            "data-target=\"deal\" data-narrow-by=\"customer\" data-narrow-field=\"customer\""
        ),
        "{}",
        form.text
    );
    assert!(
        !form.text.contains("data-target=\"customer\" data-narrow"),
        "{}",
        form.text
    );
    let contact = ui.get("/e/contact/new", "en");
    assert!(!contact.text.contains("data-narrow-by"), "{}", contact.text);

    // The picker's suggestions.
    let mut all = picked(&ui.get("/pick/deal?q=alpha", "en"));
    all.sort();
    assert_eq!(all, ["Alpha CRM", "Alpha ERP"]);
    let narrowed = picked(&ui.get(
        &format!("/pick/deal?q=alpha&by=customer&value={}", c1["id"]),
        "en",
    ));
    assert_eq!(narrowed, ["Alpha ERP"]);
    // Before anything is typed: the customer's deals.
    let mut theirs = picked(&ui.get(
        &format!("/pick/deal?q=&by=customer&value={}", c1["id"]),
        "en",
    ));
    theirs.sort();
    assert_eq!(theirs, ["Alpha ERP", "Beta ERP"]);
    // No customer chosen yet: not narrowed.
    assert_eq!(
        picked(&ui.get("/pick/deal?q=alpha&by=customer&value=", "en")).len(),
        2
    );

    // Bad narrowing is a 400, not a 500 and not silently ignored.
    assert_eq!(
        ui.get("/pick/deal?q=alpha&by=title&value=1", "en").status,
        400
    );
    assert_eq!(
        ui.get("/pick/deal?q=alpha&by=customer&value=abc", "en")
            .status,
        400
    );
    assert_eq!(
        ui.get("/pick/deal?q=alpha&by=nosuch&value=1", "en").status,
        400
    );
}

#[test]
fn search_results_say_why_they_matched() {
    let s = TestServer::start();
    let admin = s.admin();
    let c = admin.create(
        "customer",
        json!({"name": "杭州恒信科技", "kind": "company", "status": "lead", "phone": "+86 139 1234 5678"}),
    );
    let ui = s.ui_login("admin", ADMIN_PASSWORD);

    let zh = ui.get("/search?q=139", "zh-CN");
    assert_eq!(zh.status, 200, "{}", zh.text);
    assert!(
        zh.text
            .contains(&format!("href=\"/e/customer/{}\"", c["id"])),
        "{}",
        zh.text
    );
    assert!(
        zh.text
            .contains("<span class=\"why\">电话：+86 139 1234 5678</span>"),
        "{}",
        zh.text
    );
    let en = ui.get("/search?q=139", "en");
    assert!(
        en.text
            .contains("<span class=\"why\">Phone: +86 139 1234 5678</span>"),
        "{}",
        en.text
    );
    // Found by its name: the title says why, nothing more is shown.
    let by_name = ui.get("/search?q=恒信", "zh-CN");
    assert!(by_name.text.contains("杭州恒信科技"), "{}", by_name.text);
    assert!(!by_name.text.contains("class=\"why\""), "{}", by_name.text);

    // The API names the field by its machine name.
    let api = admin.get("/api/v1/search?q=139");
    assert_eq!(
        api.body["items"][0]["matched"]["field"], "phone",
        "{}",
        api.text
    );
    let api = admin.get("/api/v1/search?q=恒信");
    assert!(
        api.body["items"][0].get("matched").is_none(),
        "{}",
        api.text
    );
}
