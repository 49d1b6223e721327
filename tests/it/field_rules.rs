//! Field access per role: an administrator hides a field from a role (a customer's phone, a
//! credit limit) or makes it read-only (the source); for that role a hidden field is nowhere —
//! not in records, lists, filters, sorts, search, history, the timeline, exports, the schema or
//! forms — and cannot be written; a read-only one is shown and cannot be changed. Rules are
//! checked when saved, set on their own admin page in either language, and bind the role's
//! API tokens too. Administrators and other roles are untouched.

use qingguan_tests::{customer, Client, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::{json, Value};

/// The role as stored, with `fields` replaced.
pub(crate) fn set_rules(admin: &Client, role: &str, fields: Value) -> qingguan_tests::Resp {
    let roles = admin.get("/api/v1/roles");
    assert_eq!(roles.status, 200, "{}", roles.text);
    let mut r = roles
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == role)
        .expect("role")
        .clone();
    r["fields"] = fields;
    admin.put(&format!("/api/v1/roles/{role}"), &r)
}

fn stored_rules(admin: &Client, role: &str) -> Value {
    let roles = admin.get("/api/v1/roles");
    roles
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == role)
        .expect("role")["fields"]
        .clone()
}

/// The reason a refused write gives for one field.
fn why(r: &qingguan_tests::Resp, field: &str) -> String {
    r.body["error"]["fields"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no reason for {field}: {}", r.text))
        .to_string()
}

const NO_FIELD: &str = "has no field";
const READ_ONLY: &str = "is read-only for your role";

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// A customer-type field for credit limits, and the sales role's rules: phone and credit
/// limit hidden, source read-only.
fn setup(s: &TestServer) -> Client {
    let admin = s.admin();
    let r = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "credit_limit", "type": "decimal",
                "label": {"en": "Credit limit", "zh-CN": "信用额度"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = set_rules(
        &admin,
        "sales",
        json!({"customer": {"phone": "hidden", "credit_limit": "hidden", "source": "read_only"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    admin
}

#[test]
fn a_hidden_field_is_nowhere_a_rep_looks_and_a_read_only_one_holds() {
    let s = TestServer::start();
    let admin = setup(&s);
    let (amy, _) = s.user("amy", "sales", "east");
    let (meg, _) = s.user("meg", "manager", "east");

    // Writing a hidden field is refused as if the field did not exist; nothing is written.
    let r = amy.post(
        "/api/v1/records/customer",
        &json!({"name": "Zephyr Trading", "kind": "company", "status": "lead",
                "phone": "+86 139 0000 1111", "source": "website"}),
    );
    assert_eq!(r.error_code(422), "validation_failed", "{}", r.text);
    assert!(why(&r, "phone").contains(NO_FIELD), "{}", r.text);
    assert_eq!(
        why(&r, "source"),
        READ_ONLY,
        "every refusal at once: {}",
        r.text
    );
    assert_eq!(
        admin.get("/api/v1/records/customer").body["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing half-written"
    );
    let created = amy.post("/api/v1/records/customer", &customer("Zephyr Trading"));
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.body.get("phone").is_none(), "{}", created.text);
    assert!(
        created.body.get("credit_limit").is_none(),
        "{}",
        created.text
    );
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/records/customer/{id}");

    // The administrator fills in what the rep may not see or change.
    let r = admin.patch_v(
        &path,
        1,
        &json!({"phone": "+86 139 0000 1111", "credit_limit": "50000", "source": "website"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = admin.patch_v(&path, 2, &json!({"phone": "+86 139 0000 2222"}));
    assert_eq!(r.status, 200, "{}", r.text);

    // One record, the list, the schema.
    let got = amy.get(&path);
    assert_eq!(got.status, 200);
    assert!(got.body.get("phone").is_none() && got.body.get("credit_limit").is_none());
    assert_eq!(got.body["source"], "website");
    assert_eq!(got.body["name"], "Zephyr Trading");
    let listed = amy.get("/api/v1/records/customer");
    let item = &listed.body["items"][0];
    assert_eq!(item["id"], id);
    assert!(item.get("phone").is_none() && item.get("credit_limit").is_none());
    // The list writes each field's value under its own name, hidden fields skipped: the
    // same record, field for field, as read alone.
    assert_eq!(item, &got.body);
    let schema = amy.get("/api/v1/entities/customer");
    let fields: Vec<&Value> = schema.body["fields"].as_array().unwrap().iter().collect();
    assert!(!fields
        .iter()
        .any(|f| f["name"] == "phone" || f["name"] == "credit_limit"));
    let source = fields.iter().find(|f| f["name"] == "source").unwrap();
    assert_eq!(source["readonly"], true, "{source}");
    let email = fields.iter().find(|f| f["name"] == "email").unwrap();
    assert!(email.get("readonly").is_none(), "{email}");

    // Filters, sorts and searches on what is hidden find nothing out.
    for q in [
        "phone=%2B86%20139%200000%202222",
        "credit_limit[gt]=1",
        "phone[null]=false",
        "sort=-credit_limit",
    ] {
        let r = amy.get(&format!("/api/v1/records/customer?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", r.text);
    }
    for q in ["139", "2222"] {
        assert_eq!(
            amy.get(&format!("/api/v1/search?q={q}")).body["items"],
            json!([]),
            "{q}"
        );
        assert_eq!(
            amy.get(&format!("/api/v1/records/customer?q={q}")).body["items"],
            json!([]),
            "{q}"
        );
        assert_eq!(
            admin.get(&format!("/api/v1/search?q={q}")).body["items"][0]["id"],
            id,
            "the administrator still finds it by phone"
        );
    }
    let found = amy.get("/api/v1/search?q=zephyr");
    assert_eq!(found.body["items"][0]["id"], id, "{}", found.text);

    // History and timeline: the change of the read-only source shows; the phone and credit
    // limit do not, and the update that changed only the phone is not there at all.
    let history = amy.get(&format!("{path}/history"));
    assert_eq!(history.status, 200);
    let entries = history.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", history.text);
    assert_eq!(keys(&entries[1]["changes"]), ["source"], "{}", history.text);
    assert!(!history.text.contains("139"), "{}", history.text);
    let admin_history = admin.get(&format!("{path}/history"));
    assert_eq!(admin_history.body["items"].as_array().unwrap().len(), 3);
    let timeline = amy.get(&format!("{path}/timeline"));
    assert_eq!(timeline.status, 200, "{}", timeline.text);
    assert!(
        !timeline.text.contains("139") && !timeline.text.contains("50000"),
        "{}",
        timeline.text
    );

    // Export: neither the column nor the values.
    let csv = amy.get("/api/v1/records/customer/export?format=csv");
    assert_eq!(csv.status, 200, "{}", csv.text);
    let heading = csv.text.lines().next().unwrap_or_default();
    assert!(
        heading.contains("source") && heading.contains("name"),
        "{heading}"
    );
    assert!(
        !heading.contains("phone") && !heading.contains("credit_limit"),
        "{heading}"
    );
    assert!(!csv.text.contains("139") && !csv.text.contains("50000"));

    // Updates: a read-only field keeps its value (sending it unchanged is fine), a hidden one
    // cannot be touched — not even to test a guess.
    let r = amy.patch_v(&path, 3, &json!({"source": "referral"}));
    assert_eq!(r.error_code(422), "validation_failed");
    assert_eq!(why(&r, "source"), READ_ONLY);
    let r = amy.patch_v(&path, 3, &json!({"phone": "+86 139 0000 2222"}));
    assert!(why(&r, "phone").contains(NO_FIELD), "{}", r.text);
    let r = amy.patch_v(
        &path,
        3,
        &json!({"name": "Zephyr Trading Co", "source": "website"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("phone").is_none());
    let whole = admin.get(&path);
    assert_eq!(
        whole.body["phone"], "+86 139 0000 2222",
        "kept: {}",
        whole.text
    );
    assert_eq!(whole.body["credit_limit"], "50000.00");
    assert_eq!(whole.body["name"], "Zephyr Trading Co");

    // A token the rep issues is bound by the same rules.
    let token = amy.post(
        "/api/v1/tokens",
        &json!({"name": "sheet sync", "scopes": ["customer:read"]}),
    );
    assert_eq!(token.status, 201, "{}", token.text);
    let mut by_token = s.anonymous();
    by_token.token = Some(token.body["secret"].as_str().unwrap().to_string());
    let got = by_token.get(&path);
    assert_eq!(got.status, 200, "{}", got.text);
    assert!(got.body.get("phone").is_none(), "{}", got.text);

    // Searching term by term cannot spell a hidden value out: what a rep's search finds
    // depends on the fields they see alone (here the address, which holds 139 and 138 inside
    // words while only the hidden phone holds 139 at a word's start).
    let r = amy.patch_v(&path, 4, &json!({"address": "x139 x138 x2222"}));
    assert_eq!(r.status, 200, "{}", r.text);
    for q in ["139", "138", "2222"] {
        assert_eq!(
            amy.get(&format!("/api/v1/records/customer?q={q}")).body["items"][0]["id"],
            id,
            "{q}"
        );
        assert_eq!(
            amy.get(&format!("/api/v1/search?q={q}")).body["items"][0]["id"],
            id,
            "{q}"
        );
    }
    for q in ["0000", "86"] {
        assert_eq!(
            amy.get(&format!("/api/v1/records/customer?q={q}")).body["items"],
            json!([]),
            "only the hidden phone holds {q}"
        );
        assert_eq!(
            amy.get(&format!("/api/v1/search?q={q}")).body["items"],
            json!([]),
            "{q}"
        );
    }

    // Another role, and the administrators, see everything.
    let team = meg.get(&path);
    assert_eq!(team.body["phone"], "+86 139 0000 2222", "{}", team.text);
    assert_eq!(admin.get(&path).body["credit_limit"], "50000.00");

    // The rep's record page: no phone anywhere, the source as text rather than an input.
    let ui = s.ui_login("amy", USER_PASSWORD);
    let page = ui.get(&format!("/e/customer/{id}"), "zh-CN");
    assert_eq!(page.status, 200);
    assert!(
        !page.text.contains("+86 139") && !page.text.contains("信用额度"),
        "{}",
        page.text
    );
    let form = ui.get(&format!("/e/customer/{id}/edit"), "zh-CN");
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(!form.text.contains("name=\"phone\""), "{}", form.text);
    assert!(!form.text.contains("name=\"source\""), "{}", form.text);
    assert!(form.text.contains("name=\"email\""), "{}", form.text);
}

#[test]
fn field_rules_are_checked_when_saved_and_are_the_administrators_alone() {
    let s = TestServer::start();
    let admin = setup(&s);
    let (amy, _) = s.user("amy", "sales", "east");
    let r = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "region", "type": "text", "required": true,
                "label": {"en": "Region", "zh-CN": "区域"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let cases = [
        (
            json!({"customer": {"name": "hidden"}}),
            "fields.customer.name",
            "'name' names each record and cannot be hidden",
        ),
        (
            json!({"customer": {"bogus": "hidden"}}),
            "fields.customer.bogus",
            "'customer' has no field 'bogus'",
        ),
        (
            json!({"nothing_here": {"x": "hidden"}}),
            "fields",
            "no entity type 'nothing_here'",
        ),
        (
            json!({"customer": {"region": "read_only"}}),
            "fields.customer.region",
            "'region' is required and has no default",
        ),
    ];
    for (rules, field, text) in cases {
        let r = set_rules(&admin, "sales", rules.clone());
        assert_eq!(r.error_code(422), "validation_failed", "{rules}");
        assert!(why(&r, field).starts_with(text), "{}", r.text);
    }
    let bad = set_rules(&admin, "sales", json!({"customer": {"phone": "invisible"}}));
    assert!(bad.status == 400 || bad.status == 422, "{}", bad.text);
    assert_eq!(
        stored_rules(&admin, "sales"),
        json!({"customer": {"phone": "hidden", "credit_limit": "hidden", "source": "read_only"}}),
        "refusals changed nothing"
    );
    // A role that does not create customers may have the required field read-only.
    let r = set_rules(&admin, "hr", json!({"customer": {"region": "read_only"}}));
    assert_eq!(r.status, 200, "{}", r.text);
    // An administrator's role has no rules: it sees everything.
    let r = set_rules(&admin, "admin", json!({"customer": {"phone": "hidden"}}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(stored_rules(&admin, "admin"), Value::Null);
    // A rep cannot lift their own rules.
    let mut sales = admin.get("/api/v1/roles").body.as_array().unwrap()[0].clone();
    sales["name"] = json!("sales");
    sales["fields"] = json!({});
    assert_eq!(amy.put("/api/v1/roles/sales", &sales).status, 403);
    assert_eq!(stored_rules(&admin, "sales")["customer"]["phone"], "hidden");
    // Each saved change is in the administrators' audit log.
    let audit = admin.get("/api/v1/audit?action=role_saved");
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert!(audit.text.contains("read_only"), "{}", audit.text);
}

#[test]
fn the_field_access_page_sets_a_roles_rules_in_either_language() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, _) = s.user("amy", "sales", "east");
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let roles = ui.get("/admin/roles", "zh-CN");
    assert!(
        roles
            .text
            .contains("href=\"/admin/roles/sales/fields/customer\""),
        "{}",
        roles.text
    );
    let page = ui.get("/admin/roles/sales/fields/customer", "zh-CN");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("字段权限") && page.text.contains("隐藏"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("name=\"rule.phone\" value=\"editable\" aria-label=\"电话: 可编辑\" checked"),
        "{}",
        page.text
    );
    let saved = ui.post(
        "/admin/roles/sales/fields/customer",
        "zh-CN",
        &[
            ("rule.phone", "hidden"),
            ("rule.industry", "read_only"),
            ("rule.email", "editable"),
        ],
    );
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(saved.text.contains("已保存"), "{}", saved.text);
    assert!(
        saved
            .text
            .contains("name=\"rule.phone\" value=\"hidden\" aria-label=\"电话: 隐藏\" checked"),
        "reads back: {}",
        saved.text
    );
    assert_eq!(
        stored_rules(&admin, "sales"),
        json!({"customer": {"phone": "hidden", "industry": "read_only"}})
    );
    assert!(ui
        .get("/admin/roles", "en")
        .text
        .contains("Field access (2)"));
    // The rep's session picks the rules up at once.
    let c = amy.post(
        "/api/v1/records/customer",
        &json!({"name": "恒信科技", "kind": "company", "status": "lead", "phone": "+86 21 5555 0101"}),
    );
    assert!(why(&c, "phone").contains(NO_FIELD), "{}", c.text);
    // A refusal is said in the administrator's language, beside nothing saved.
    let refused = ui.post(
        "/admin/roles/sales/fields/customer",
        "zh-CN",
        &[("rule.name", "hidden")],
    );
    assert!(
        refused.text.contains("是记录的名称，不能隐藏"),
        "{}",
        refused.text
    );
    let refused = ui.post(
        "/admin/roles/sales/fields/customer",
        "en",
        &[("rule.name", "hidden")],
    );
    assert!(
        refused
            .text
            .contains("names each record and cannot be hidden"),
        "{}",
        refused.text
    );
    assert_eq!(
        stored_rules(&admin, "sales"),
        json!({"customer": {"phone": "hidden", "industry": "read_only"}})
    );
    // Only administrators reach the page.
    let rep = s.ui_login("amy", USER_PASSWORD);
    assert_eq!(
        rep.get("/admin/roles/sales/fields/customer", "en").status,
        403
    );
    let r = rep.post(
        "/admin/roles/sales/fields/customer",
        "en",
        &[("rule.phone", "editable")],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(stored_rules(&admin, "sales")["customer"]["phone"], "hidden");
    assert_eq!(
        ui.get("/admin/roles/admin/fields/customer", "en").status,
        404,
        "administrators' roles have no rules to set"
    );
}

#[test]
fn a_plugin_asking_as_the_rep_gets_what_the_rep_may_see() {
    let s = TestServer::start();
    let admin = setup(&s);
    assert_eq!(
        qingguan_tests::install(&admin, "qg-test-hostile", true).status,
        201
    );
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let mut c = customer("Zephyr Trading");
    c["phone"] = json!("+86 139 0000 1111");
    c["owner"] = json!(amy_id);
    admin.create("customer", c);
    let peek = |who: &Client| {
        let r = who.post("/api/v1/plugins/hostile/queries/peek", &json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    };
    let rep = peek(&amy);
    assert_eq!(rep["phones"], json!([null]), "{rep}");
    assert_eq!(rep["get_has_phone"], false, "{rep}");
    assert!(
        rep["by_phone"]
            .as_str()
            .is_some_and(|s| s.starts_with("refused") && s.contains("has no field 'phone'")),
        "{rep}"
    );
    let boss = peek(&admin);
    assert_eq!(boss["phones"], json!(["+86 139 0000 1111"]), "{boss}");
    assert_eq!(boss["get_has_phone"], true, "{boss}");
    assert_eq!(boss["by_phone"], 1, "{boss}");
}

#[test]
fn what_is_derived_from_a_hidden_field_stays_hidden_too() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    for def in [
        json!({"name": "price", "type": "decimal", "label": {"en": "Price", "zh-CN": "售价"}}),
        json!({"name": "cost", "type": "decimal", "label": {"en": "Cost", "zh-CN": "成本"}}),
        json!({"name": "margin", "type": "formula", "expression": "price - cost",
               "label": {"en": "Margin", "zh-CN": "毛利"}}),
    ] {
        let r = admin.post("/api/v1/entities/customer/fields", &def);
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = set_rules(
        &admin,
        "sales",
        json!({"customer": {"cost": "hidden"}, "activity": {"body": "hidden"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let mut c = customer("Zephyr Trading");
    c["price"] = json!("1500");
    c["owner"] = json!(amy_id);
    let created = admin.create("customer", c);
    let path = format!("/api/v1/records/customer/{}", created["id"]);
    let r = admin.patch_v(&path, 1, &json!({"cost": "800"}));
    assert_eq!(r.body["margin"], "700.00", "{}", r.text);

    // A formula reading the hidden cost would give it away: it is hidden too, and a guess at
    // it is refused like any unknown field, never compared.
    let got = amy.get(&path);
    assert!(
        got.body.get("margin").is_none() && got.body.get("cost").is_none(),
        "{}",
        got.text
    );
    assert_eq!(got.body["price"], "1500.00");
    let schema = amy.get("/api/v1/entities/customer");
    assert!(
        !schema.text.contains("margin") && !schema.text.contains("cost"),
        "{}",
        schema.text
    );
    let guess = amy.patch_v(&path, 2, &json!({"margin": "700.00"}));
    assert!(why(&guess, "margin").contains(NO_FIELD), "{}", guess.text);
    let history = amy.get(&format!("{path}/history"));
    assert!(
        !history.text.contains("700") && !history.text.contains("800"),
        "{}",
        history.text
    );
    assert_eq!(amy.get("/api/v1/records/customer?sort=margin").status, 400);

    // A note's hidden body is not in the record's timeline or on its page.
    let note = admin.post(
        "/api/v1/records/activity",
        &json!({"kind": "note", "subject": "Pricing call", "body": "SECRET floor is 750",
                "about_entity": "customer", "about_id": created["id"]}),
    );
    assert_eq!(note.status, 201, "{}", note.text);
    let timeline = amy.get(&format!("{path}/timeline"));
    assert_eq!(timeline.status, 200, "{}", timeline.text);
    assert!(timeline.text.contains("Pricing call"), "{}", timeline.text);
    assert!(!timeline.text.contains("SECRET"), "{}", timeline.text);
    let ui = s.ui_login("amy", USER_PASSWORD);
    let page = ui.get(&format!("/e/customer/{}", created["id"]), "en");
    assert!(
        page.text.contains("Pricing call") && !page.text.contains("SECRET"),
        "{}",
        page.text
    );

    // A transition decided by the hidden cost is neither offered nor made: whether it is open
    // would tell.
    let label = json!({"en": "Promote", "zh-CN": "转为客户"});
    let wf = json!({"state_field": "status", "transitions": [
        {"name": "promote", "label": label, "from": ["lead"], "to": "customer", "who": ["owner"],
         "when": {"field": "cost", "op": "gt", "value": 500}},
        {"name": "drop", "label": label, "from": ["lead"], "to": "inactive", "who": ["owner"]}]});
    let r = admin.put("/api/v1/workflows/customer", &wf);
    assert_eq!(r.status, 200, "{}", r.text);
    let offered = amy.get(&format!("{path}/workflow"));
    assert_eq!(offered.status, 200, "{}", offered.text);
    let names: Vec<&str> = offered.body["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["drop"], "{}", offered.text);
    let version = amy.get(&path).body["version"].clone();
    let tried = amy.post(
        &format!("{path}/transitions/promote"),
        &json!({"version": version}),
    );
    assert_eq!(tried.status, 422, "{}", tried.text);
    let patched = amy.patch_v(
        &path,
        version.as_i64().unwrap(),
        &json!({"status": "customer"}),
    );
    assert_eq!(patched.status, 422, "{}", patched.text);
    assert_eq!(admin.get(&path).body["status"], "lead");

    // Which fields a role may not see is the administrators' to know.
    let roles = amy.get("/api/v1/roles");
    assert_eq!(roles.status, 200);
    assert!(!roles.text.contains("hidden"), "{}", roles.text);
}
