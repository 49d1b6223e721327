//! Studio for implementers, second round: list columns as ordered checkboxes and the layout
//! editor's plain form (what the drag-and-drop editor posts, and what works without
//! JavaScript), default values per field (filled on every create path, checked against the
//! field's type), and bringing a retired custom field back with its data.

use qingguan_tests::{customer, Client, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::{json, Value};

fn entity(admin: &Client, name: &str) -> Value {
    admin.get(&format!("/api/v1/entities/{name}")).body
}

fn field(admin: &Client, entity_name: &str, name: &str) -> Value {
    entity(admin, entity_name)["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn list_columns_are_ticked_in_their_order_and_the_layout_text_still_works() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get("/admin/studio/customer", "zh-CN");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("name=\"col\" value=\"industry\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("/static/studio.js"));
    assert!(
        page.text.contains("data-name=\"status\""),
        "the editor's field list"
    );
    // Ticked boxes, ordered by their numbers (not by the page's order).
    let layout = "# Main | 主要\nname\nstatus\nkind\n# More | 更多\nindustry\nphone\n";
    let r = ui.post(
        "/admin/studio/customer/layout",
        "en",
        &[
            ("layout", layout),
            ("columns_shown", "1"),
            ("col", "name"),
            ("ord.name", "2"),
            ("col", "industry"),
            ("ord.industry", "1"),
            ("ord.phone", "3"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let e = entity(&admin, "customer");
    assert_eq!(e["layout"]["list_columns"], json!(["industry", "name"]));
    let sections = &e["layout"]["sections"];
    assert_eq!(sections[0]["title"]["zh-CN"], "主要");
    let names = |i: usize| -> Vec<String> {
        (sections[i]["fields"].as_array().unwrap().iter())
            .map(|f| f.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(0)[..3], ["name", "status", "kind"]);
    assert_eq!(names(1)[..2], ["industry", "phone"]);
    // The page now offers the chosen columns first, ticked, in that order.
    let page = ui.get("/admin/studio/customer", "en").text;
    let at = |needle: &str| page.find(needle).unwrap_or(usize::MAX);
    assert!(at("value=\"industry\" checked") < at("value=\"name\" checked"));
    assert!(!page.contains("value=\"phone\" checked"));
    // A field that is not one of the type's is refused beside the columns, the form kept.
    let r = ui.post(
        "/admin/studio/customer/layout",
        "zh-CN",
        &[
            ("layout", layout),
            ("columns_shown", "1"),
            ("col", "nosuch"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("nosuch"), "{}", r.text);
    assert_eq!(
        entity(&admin, "customer")["layout"]["list_columns"],
        json!(["industry", "name"])
    );
}

#[test]
fn only_an_administrator_changes_the_layout() {
    let s = TestServer::start();
    let admin = s.admin();
    s.user("amy", "sales", "east");
    let before = entity(&admin, "customer")["layout"].clone();
    let amy = s.ui_login("amy", USER_PASSWORD);
    let r = amy.post(
        "/admin/studio/customer/layout",
        "zh-CN",
        &[
            ("layout", "# X | 甲\nname\n"),
            ("columns_shown", "1"),
            ("col", "name"),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(entity(&admin, "customer")["layout"], before);
    let r = amy.post(
        "/admin/studio/customer/fields/industry",
        "en",
        &[("default", "retail")],
    );
    assert_eq!(r.status, 403);
    assert!(field(&admin, "customer", "industry")["default"].is_null());
}

#[test]
fn a_default_value_fills_new_records_on_every_path() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    ui.post(
        "/admin/studio/customer/fields",
        "en",
        &[
            ("type", "integer"),
            ("name", "score"),
            ("label_en", "Score"),
        ],
    );
    let r = ui.post(
        "/admin/studio/customer/fields/score",
        "en",
        &[("default", "5")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = ui.post(
        "/admin/studio/customer/fields/industry",
        "en",
        &[("default", "retail")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(field(&admin, "customer", "score")["default"], 5);
    assert_eq!(field(&admin, "customer", "industry")["default"], "retail");
    // The Studio shows it again, the select's as its chosen option.
    let page = ui.get("/admin/studio/customer", "zh-CN").text;
    assert!(page.contains("默认值"), "{page}");
    assert!(
        page.contains("<option value=\"retail\" selected>"),
        "{page}"
    );
    // API: an empty field gets the default; a given value wins.
    let c = admin.create("customer", customer("Acme"));
    assert_eq!(c["score"], 5, "{c}");
    assert_eq!(c["industry"], "retail");
    let mut given = customer("Beta");
    given["score"] = json!(9);
    given["industry"] = json!("food");
    let c = admin.create("customer", given);
    assert_eq!(
        (c["score"].clone(), c["industry"].clone()),
        (json!(9), json!("food"))
    );
    // UI: the create form shows the defaults; posting it empty keeps them.
    let form = ui.get("/e/customer/new", "en").text;
    assert!(form.contains("value=\"5\""), "{form}");
    let r = ui.post(
        "/e/customer/new",
        "en",
        &[("name", "Gamma"), ("kind", "company"), ("status", "lead")],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let list = admin.get("/api/v1/records/customer?name=Gamma");
    let gamma = &list.body["items"][0];
    assert_eq!(gamma["score"], 5, "{}", list.text);
    assert_eq!(gamma["industry"], "retail");
    // An update does not fill a field someone emptied.
    let id = gamma["id"].as_i64().unwrap();
    let v = gamma["version"].as_i64().unwrap();
    let r = admin.patch_v(
        &format!("/api/v1/records/customer/{id}"),
        v,
        &json!({"score": null}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["score"].is_null(), "{}", r.text);
    // Removing the default (an empty input) stops it.
    ui.post(
        "/admin/studio/customer/fields/score",
        "en",
        &[("default", "")],
    );
    assert!(field(&admin, "customer", "score")["default"].is_null());
    assert!(admin.create("customer", customer("Delta"))["score"].is_null());
}

#[test]
fn a_default_of_the_wrong_type_is_refused_beside_its_input() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    ui.post(
        "/admin/studio/customer/fields",
        "en",
        &[
            ("type", "integer"),
            ("name", "score"),
            ("label_en", "Score"),
        ],
    );
    // The UI: the reason in Chinese beside the input, what was typed kept.
    let r = ui.post(
        "/admin/studio/customer/fields/score",
        "zh-CN",
        &[("default", "很多"), ("label_zh", "评分")],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("value=\"很多\""), "{}", r.text);
    assert!(r.text.contains("整数"), "a Chinese reason: {}", r.text);
    assert!(field(&admin, "customer", "score")["default"].is_null());
    // An option the select does not have.
    let r = ui.post(
        "/admin/studio/customer/fields/industry",
        "en",
        &[("default", "mining")],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(field(&admin, "customer", "industry")["default"].is_null());
    // The API: the reason on `default`, nothing written.
    let r = admin.patch(
        "/api/v1/entities/customer/fields/score",
        &json!({"default": "x"}),
    );
    assert_eq!(r.error_code(422), "validation_failed", "{}", r.text);
    assert!(
        r.body["error"]["fields"]["default"].is_string(),
        "{}",
        r.text
    );
    let r = admin.patch(
        "/api/v1/entities/customer/fields/email",
        &json!({"default": "nope"}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    let r = admin.patch(
        "/api/v1/entities/customer/fields/score",
        &json!({"default": 3}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = admin.patch(
        "/api/v1/entities/customer/fields/score",
        &json!({"default": null}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(field(&admin, "customer", "score")["default"].is_null());
    // A new field's default is checked as well.
    let mut bad =
        json!({"name": "rank", "type": "integer", "label": {"en": "Rank", "zh-CN": "排名"}});
    bad["default"] = json!("high");
    let r = admin.post("/api/v1/entities/customer/fields", &bad);
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.body["error"]["fields"]["default"].is_string(),
        "{}",
        r.text
    );
}

#[test]
fn a_retired_field_comes_back_with_its_data() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    ui.post(
        "/admin/studio/customer/fields",
        "en",
        &[("type", "text"), ("name", "grade"), ("label_en", "Grade")],
    );
    let mut c = customer("Acme");
    c["grade"] = json!("A");
    let id = admin.create("customer", c)["id"].as_i64().unwrap();
    let r = ui.post("/admin/studio/customer/fields/grade/retire", "en", &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(field(&admin, "customer", "grade")["retired"], true);
    let page = ui.get("/admin/studio/customer", "zh-CN").text;
    assert!(page.contains("/fields/grade/unretire"), "{page}");
    assert!(page.contains("恢复启用"));
    // A non-administrator cannot bring it back.
    s.user("amy", "sales", "east");
    let amy = s.ui_login("amy", USER_PASSWORD);
    let r = amy.post("/admin/studio/customer/fields/grade/unretire", "en", &[]);
    assert_eq!(r.status, 403);
    assert_eq!(field(&admin, "customer", "grade")["retired"], true);
    // The administrator can; the value is there and writable again.
    let r = ui.post("/admin/studio/customer/fields/grade/unretire", "en", &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(field(&admin, "customer", "grade")["retired"], false);
    let rec = admin.get(&format!("/api/v1/records/customer/{id}")).body;
    assert_eq!(rec["grade"], "A", "{rec}");
    let v = rec["version"].as_i64().unwrap();
    let r = admin.patch_v(
        &format!("/api/v1/records/customer/{id}"),
        v,
        &json!({"grade": "B"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let cols = entity(&admin, "customer")["layout"]["sections"].to_string();
    assert!(cols.contains("\"grade\""), "back on the form: {cols}");
    // A key that belongs to the core (not a retired custom field) is refused, in Chinese.
    let r = ui.post("/admin/studio/customer/fields/name/unretire", "zh-CN", &[]);
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("已有字段"), "{}", r.text);
}

/// In Chromium: the layout editor is shown instead of the text, a field dragged with the
/// mouse to the top of the form lands there, and saving keeps it.
#[test]
fn the_layout_editor_moves_a_field_with_the_mouse() {
    use super::browser::{browser, go, login, mouse, shot};
    use headless_chrome::protocol::cdp::Input::DispatchMouseEventTypeOption as M;
    let s = TestServer::start();
    let admin = s.admin();
    let b = browser(1366, 900);
    let tab = b.new_tab().unwrap();
    tab.set_default_timeout(std::time::Duration::from_secs(15));
    login(&tab, &s.url, "admin", ADMIN_PASSWORD);
    go(&tab, &format!("{}/admin/studio/customer", s.url));
    let js = |e: &str| tab.evaluate(e, false).unwrap().value.unwrap_or(Value::Null);
    tab.wait_for_element(".lay-field[data-name=phone]").unwrap();
    assert_eq!(
        js("document.querySelector('textarea[name=layout]').hidden"),
        json!(true)
    );
    assert_eq!(
        js("document.querySelector('.layout-editor').hidden"),
        json!(false)
    );
    let phone = tab.wait_for_element(".lay-field[data-name=phone]").unwrap();
    phone.scroll_into_view().unwrap();
    let from = phone.get_midpoint().unwrap();
    let first = tab
        .wait_for_element(".lay-section .lay-field[data-name=name]")
        .unwrap();
    first.scroll_into_view().unwrap();
    let from = {
        let p = tab.wait_for_element(".lay-field[data-name=phone]").unwrap();
        p.get_midpoint().unwrap_or(from)
    };
    let name_box = first.get_box_model().unwrap();
    let (tx, ty) = (
        name_box.content.top_left.x + 3.0,
        name_box.content.top_left.y + 2.0,
    );
    mouse(&tab, M::MouseMoved, from.x, from.y, false);
    mouse(&tab, M::MousePressed, from.x, from.y, true);
    for i in 1..=10 {
        let f = f64::from(i) / 10.0;
        let (x, y) = (from.x + (tx - from.x) * f, from.y + (ty - from.y) * f);
        mouse(&tab, M::MouseMoved, x, y, true);
    }
    mouse(&tab, M::MouseReleased, tx, ty, false);
    let text = js("document.querySelector('textarea[name=layout]').value");
    let text = text.as_str().unwrap_or_default().to_string();
    let first_field = text.lines().nth(1).unwrap_or_default().to_string();
    shot(&tab, "studio-layout-editor");
    assert_eq!(first_field, "phone", "{text}");
    js("document.querySelector('#layout button.primary').click(); true");
    let t = std::time::Instant::now();
    loop {
        let sections = entity(&admin, "customer")["layout"]["sections"].clone();
        if sections[0]["fields"][0] == "phone" {
            break;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "not saved: {sections} {}",
            super::browser::text(&tab)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The text is one click away, and read again on the way back.
    go(&tab, &format!("{}/admin/studio/customer", s.url));
    tab.wait_for_element(".lay-toggle").unwrap();
    let shown = js("document.querySelector('.lay-toggle').click(); \
        !document.querySelector('textarea[name=layout]').hidden");
    assert_eq!(shown, json!(true));
    let back = js("var t = document.querySelector('textarea[name=layout]'); \
        t.value = '# One | 一\\nname\\nphone\\n'; \
        document.querySelector('.lay-toggle').click(); \
        document.querySelectorAll('.lay-section').length + ':' + t.hidden");
    assert_eq!(back, json!("1:true"));
}
