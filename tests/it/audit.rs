//! The administrators' audit log through the API and the UI: sign-ins (failed ones with the
//! address), schema, users and plugins recorded with who did it; filters, paging and CSV; in
//! Chinese; for administrators only; a refused change leaves no entry; nothing edits an entry.

use qingguan_tests::{install, Client, TestServer, USER_PASSWORD};
use serde_json::{json, Value};

fn entries(c: &Client, query: &str) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/audit?{query}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().unwrap().clone()
}

#[test]
fn who_did_what_when_and_from_where() {
    let s = TestServer::start();
    let admin = s.admin();
    let admin_id = admin.get("/api/v1/auth/me").body["id"].as_i64().unwrap();
    let (amy, amy_id) = s.user("amy", "sales", "east");

    // A wrong password for Amy: recorded with the address, nobody as the actor.
    let wrong = s.anonymous().post(
        "/api/v1/auth/login",
        &json!({"username": "amy", "password": "guess"}),
    );
    assert_eq!(wrong.status, 401);
    let failed = entries(&admin, "action=login_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["target"], "amy");
    assert_eq!(failed[0]["address"], "127.0.0.1");
    assert!(failed[0]["actor"].is_null());
    // Her sign-in (the test helper's) is there with her as the actor.
    assert!(entries(&admin, "action=login")
        .iter()
        .any(|e| e["actor"] == amy_id && e["actor_name"] == "amy"));

    // Schema: a field added; a refused one leaves nothing.
    let added = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "credit_limit", "type": "decimal", "label": {"en": "Credit limit", "zh-CN": "信用额度"}}),
    );
    assert_eq!(added.status, 201, "{}", added.text);
    let refused = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "Bad Name", "type": "decimal", "label": {"en": "x"}}),
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    let fields = entries(&admin, "action=field_added");
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(fields[0]["target"], "customer.credit_limit");
    assert_eq!(fields[0]["actor"], admin_id);
    assert_eq!(fields[0]["detail"]["type"], "decimal");

    // A person's role changed: before and after.
    let user = admin.get(&format!("/api/v1/records/user/{amy_id}")).body;
    let promoted = admin.patch_v(
        &format!("/api/v1/records/user/{amy_id}"),
        user["version"].as_i64().unwrap(),
        &json!({"role": "manager"}),
    );
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    let changed = entries(&admin, "action=user_changed");
    assert_eq!(changed[0]["target"], "amy", "{changed:?}");
    assert_eq!(changed[0]["detail"]["role"], json!(["sales", "manager"]));

    // Plugins: installed (with the version and approval), disabled.
    assert_eq!(install(&admin, "qg-test-good", true).status, 201);
    assert_eq!(
        admin
            .post("/api/v1/plugins/good/disable", &json!({}))
            .status,
        200
    );
    let installed = entries(&admin, "action=plugin_installed");
    assert_eq!(installed[0]["target"], "good", "{installed:?}");
    assert_eq!(installed[0]["actor"], admin_id);
    assert_eq!(installed[0]["detail"]["approve"], true);
    assert!(installed[0]["detail"]["version"].is_string());
    assert_eq!(
        entries(&admin, "action=plugin_disabled")[0]["target"],
        "good"
    );

    // Workflows, webhooks and API tokens too (never a secret).
    let wf = admin.put(
        "/api/v1/workflows/customer",
        &json!({"state_field": "status", "transitions": [
            {"name": "win", "label": {"en": "Win", "zh-CN": "成交"}, "from": ["lead"], "to": "customer"}]}),
    );
    assert_eq!(wf.status, 200, "{}", wf.text);
    let saved = entries(&admin, "action=workflow_saved");
    assert_eq!(saved[0]["detail"]["transitions"], json!(["win"]));
    assert!(
        saved[0]["detail"]["before"].is_null(),
        "a first workflow replaces nothing"
    );
    assert_eq!(
        saved[0]["detail"]["after"]["transitions"][0]["to"],
        "customer"
    );
    // Weakened: the entry holds what it was and what it is.
    let wf2 = admin.put(
        "/api/v1/workflows/customer",
        &json!({"state_field": "status", "transitions": [
            {"name": "win", "label": {"en": "Win", "zh-CN": "成交"}, "to": "customer"}]}),
    );
    assert_eq!(wf2.status, 200, "{}", wf2.text);
    let again = entries(&admin, "action=workflow_saved");
    assert_eq!(
        again[0]["detail"]["before"]["transitions"][0]["from"],
        json!(["lead"])
    );
    assert_eq!(
        again[0]["detail"]["after"]["transitions"][0]["from"],
        json!([])
    );
    let hook = admin.post(
        "/api/v1/webhooks",
        &json!({"name": "ERP", "url": "https://erp.example.com/hook", "entity": "customer", "events": ["created"]}),
    );
    assert_eq!(hook.status, 201, "{}", hook.text);
    let created = entries(&admin, "action=webhook_created");
    assert_eq!(created[0]["target"], "ERP");
    let secret = hook.body["secret"].as_str().unwrap();
    assert!(
        !created[0].to_string().contains(secret),
        "no secret in the log"
    );
    let token = amy.post(
        "/api/v1/tokens",
        &json!({"name": "sync", "scopes": ["customer:read"], "days": 30}),
    );
    assert_eq!(token.status, 201, "{}", token.text);
    let issued = entries(&admin, "action=api_token_issued");
    assert_eq!(issued[0]["target"], "amy", "{issued:?}");
    assert_eq!(issued[0]["actor"], amy_id);
    assert!(!issued[0]
        .to_string()
        .contains(token.body["secret"].as_str().unwrap()));

    // Filters and paging: text, a person, newest first, one at a time.
    assert_eq!(entries(&admin, "q=credit_limit").len(), 1);
    let amys = entries(&admin, &format!("actor={amy_id}"));
    assert!(!amys.is_empty() && amys.iter().all(|e| e["actor"] == amy_id));
    let first = admin.get("/api/v1/audit?limit=1").body;
    let next = first["next_before"].as_i64().unwrap();
    assert!(next > 0);
    let second = entries(&admin, &format!("limit=1&before={next}"));
    assert!(second[0]["id"].as_i64().unwrap() < next);
    assert_eq!(admin.get("/api/v1/audit?from=yesterday").status, 400);
    assert_eq!(admin.get("/api/v1/audit?action=drop_tables").status, 400);
    assert_eq!(admin.get("/api/v1/audit?colour=red").status, 400);

    // A typed name that a spreadsheet would run as a formula is written inert.
    let formula = s.anonymous().post(
        "/api/v1/auth/login",
        &json!({"username": "=1+1", "password": "x"}),
    );
    assert_eq!(formula.status, 401);
    let sheet = admin.get("/api/v1/audit?format=csv&action=login_failed&q=1%2B1");
    assert!(sheet.text.contains(",'=1+1,"), "{}", sheet.text);

    // CSV for a spreadsheet.
    let csv = admin.get("/api/v1/audit?format=csv&action=login_failed");
    assert_eq!(csv.status, 200);
    assert!(
        csv.text
            .starts_with("id,at,actor,actor_name,address,action,target,detail"),
        "{}",
        csv.text
    );
    assert_eq!(
        csv.text.lines().count(),
        3,
        "two failed sign-ins: {}",
        csv.text
    );

    // Administrators only; and there is no way to change an entry.
    let (rep, _) = s.user("rep", "sales", "east");
    assert_eq!(rep.get("/api/v1/audit").status, 403);
    assert_eq!(
        amy.get("/api/v1/audit").status,
        403,
        "a manager is no administrator"
    );
    assert_eq!(admin.delete_v("/api/v1/audit", 1).status, 405);
    assert_eq!(admin.put("/api/v1/audit", &json!({})).status, 405);

    // The page, in Chinese, and its CSV in the reader's words.
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let page = ui.get("/admin/audit?action=login_failed", "zh-CN");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("审计日志")
            && page.text.contains("登录失败")
            && page.text.contains("127.0.0.1"),
        "{}",
        page.text
    );
    assert!(
        !page.text.contains("新增字段</td>"),
        "filtered to failed sign-ins"
    );
    let sheet = ui.get("/admin/audit.csv?action=field_added", "zh-CN");
    assert!(
        sheet.text.starts_with("时间,操作人,地址,操作,对象,详情"),
        "{}",
        sheet.text
    );
    assert!(sheet.text.contains("新增字段") && sheet.text.contains("customer.credit_limit"));
    let rep_ui = s.ui_login("rep", USER_PASSWORD);
    assert_eq!(rep_ui.get("/admin/audit", "en").status, 403);
}
