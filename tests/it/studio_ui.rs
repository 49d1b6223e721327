//! Studio through its forms, as an implementer uses it with the mouse: keys made from labels
//! in either language, refused forms shown again as typed with the reason beside the input,
//! existing fields edited and retired, hidden fields shown again where they were.

use qingguan_tests::{customer, Client, TestServer, ADMIN_PASSWORD};
use serde_json::{json, Value};

fn field(admin: &Client, entity: &str, name: &str) -> Value {
    let e = admin.get(&format!("/api/v1/entities/{entity}"));
    e.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

fn sections(admin: &Client, entity: &str) -> Value {
    admin.get(&format!("/api/v1/entities/{entity}")).body["layout"]["sections"].clone()
}

#[test]
fn a_label_in_either_language_makes_the_key() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let add = "/admin/studio/customer/fields";
    let r = ui.post(add, "zh-CN", &[("type", "text"), ("label_zh", "客户等级")]);
    assert_eq!(r.status, 200, "{}", r.text);
    let f = field(&admin, "customer", "f_1");
    assert_eq!(f["label"]["zh-CN"], "客户等级", "{f}");
    for _ in 0..2 {
        let r = ui.post(add, "en", &[("type", "integer"), ("label_en", "VIP level")]);
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(field(&admin, "customer", "vip_level")["type"], "integer");
    assert_eq!(
        field(&admin, "customer", "vip_level_2")["label"]["en"],
        "VIP level"
    );
    // A typed key still wins.
    ui.post(
        add,
        "en",
        &[("type", "text"), ("name", "grade"), ("label_en", "Grade")],
    );
    assert!(field(&admin, "customer", "grade").is_object());
    // Entity types too, Chinese only.
    let r = ui.post("/admin/studio", "zh-CN", &[("label_zh", "供应商")]);
    assert_eq!(r.status, 200, "{}", r.text);
    let e = admin.get("/api/v1/entities/e_1");
    assert_eq!(e.status, 200, "{}", e.text);
    assert_eq!(e.body["label"]["zh-CN"], "供应商");
    let r = ui.post("/admin/studio", "en", &[("label_en", "Purchase order")]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(admin.get("/api/v1/entities/purchase_order").status, 200);
}

#[test]
fn a_refused_form_keeps_what_was_typed_and_says_why_beside_the_input() {
    let s = TestServer::start();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    // A key typed in Chinese: refused in Chinese, beside the key, everything kept.
    let r = ui.post(
        "/admin/studio/customer/fields",
        "zh-CN",
        &[
            ("type", "select"),
            ("name", "客户等级"),
            ("label_zh", "客户等级"),
            ("options", "a | A | 甲"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("value=\"客户等级\""), "{}", r.text);
    assert!(r.text.contains("a | A | 甲"), "the options are kept");
    assert!(
        r.text.contains("<option value=\"select\" selected>"),
        "the type is kept"
    );
    let err = r
        .text
        .split("class=\"field-error\" role=\"alert\">")
        .nth(1)
        .unwrap();
    assert!(
        err.starts_with(|c: char| !c.is_ascii()),
        "a Chinese reason: {err}"
    );
    // No label at all.
    let r = ui.post("/admin/studio", "en", &[("name", "vendor")]);
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("value=\"vendor\""), "{}", r.text);
    assert!(r.text.contains("field-error"), "{}", r.text);
    // A typo in the layout keeps the edit.
    let r = ui.post(
        "/admin/studio/customer/layout",
        "en",
        &[
            ("layout", "# Main | 主要\nname\nnmae\n"),
            ("columns", "name"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("nmae"), "{}", r.text);
    assert!(r.text.contains("field-error"), "{}", r.text);
}

#[test]
fn existing_fields_are_edited_and_a_custom_one_retired_without_losing_data() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let r = ui.post(
        "/admin/studio/customer/fields",
        "en",
        &[
            ("type", "select"),
            ("name", "tier"),
            ("label_en", "Tier"),
            ("options", "gold | Gold | 金\nsilver | Silver | 银"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let patch = "/admin/studio/customer/fields/tier";
    let r = ui.post(
        patch,
        "en",
        &[
            ("label_en", "Tier"),
            ("label_zh", "等级"),
            ("required_shown", "1"),
            ("required", "true"),
            ("help_en", "Pick one"),
            ("help_zh", "请选择"),
            (
                "options",
                "gold | Gold | 金牌\nsilver | Silver | 银\nbronze | Bronze | 铜",
            ),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let f = field(&admin, "customer", "tier");
    assert_eq!(f["required"], true, "{f}");
    assert_eq!(f["label"]["zh-CN"], "等级");
    assert_eq!(f["help"]["zh-CN"], "请选择");
    assert_eq!(f["options"].as_array().unwrap().len(), 3);
    assert_eq!(f["options"][0]["label"]["zh-CN"], "金牌");
    // Optional again; a record holds "gold", so dropping it is refused beside the options.
    ui.post(patch, "en", &[("required_shown", "1")]);
    assert_eq!(field(&admin, "customer", "tier")["required"], false);
    let mut c = customer("Goldman");
    c["tier"] = json!("gold");
    let id = admin.create("customer", c)["id"].as_i64().unwrap();
    let r = ui.post(
        patch,
        "zh-CN",
        &[("required_shown", "1"), ("options", "silver | Silver | 银")],
    );
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("仍被记录使用"), "{}", r.text);
    assert!(r.text.contains("silver | Silver | 银"), "kept as typed");
    assert_eq!(
        field(&admin, "customer", "tier")["options"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Retire: off forms, kept and readable.
    let page = ui.get("/admin/studio/customer", "").text;
    assert!(page.contains("/admin/studio/customer/fields/tier/retire"));
    assert!(
        !page.contains("/admin/studio/customer/fields/phone/retire"),
        "core fields are hidden, not retired"
    );
    let r = ui.post("/admin/studio/customer/fields/tier/retire", "en", &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(field(&admin, "customer", "tier")["retired"], true);
    let rec = admin.get(&format!("/api/v1/records/customer/{id}"));
    assert_eq!(rec.body["tier"], "gold", "{}", rec.text);
    let r = ui.post("/admin/studio/customer/fields/phone/retire", "en", &[]);
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(field(&admin, "customer", "phone")["retired"], false);
}

#[test]
fn showing_a_hidden_field_again_puts_it_back_where_it_was() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let before = sections(&admin, "customer");
    let hidden = before[0]["fields"][1].as_str().unwrap().to_string();
    let patch = format!("/admin/studio/customer/fields/{hidden}");
    assert_eq!(ui.post(&patch, "en", &[("hidden", "true")]).status, 200);
    // The layout is saved while the field is hidden, as the page shows it.
    let page = ui.get("/admin/studio/customer", "").text;
    let text = page
        .split("<textarea name=\"layout\" rows=\"12\" class=\"mono\">")
        .nth(1)
        .and_then(|t| t.split("</textarea>").next())
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    assert!(!text.contains(&format!("\n{hidden}\n")));
    let r = ui.post(
        "/admin/studio/customer/layout",
        "en",
        &[("layout", &text), ("columns", "name")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ui.post(&patch, "en", &[]).status, 200);
    assert_eq!(sections(&admin, "customer"), before);
}
