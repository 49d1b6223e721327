//! What a Chinese SME owner met in their first hour with the web UI, each fixed at its cause:
//! the browser's language until the user chooses one, every field error of a write at once,
//! yes/no filters and operator names in their language, typed references resolved or refused
//! (never silently kept), and a refused plugin upload explained and dismissable.

use qingguan_core::Locale;
use qingguan_tests::{customer, Resp, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::json;

const ZH: &str = "zh-CN,zh;q=0.9,en;q=0.8";

fn lang_of(page: &Resp) -> &str {
    let start = page.text.find("<html lang=\"").expect("html tag") + 12;
    let len = page.text[start..].find('"').unwrap();
    &page.text[start..start + len]
}

#[test]
fn the_browsers_language_applies_until_the_user_chooses_one() {
    let s = TestServer::start();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    // A user who never chose: their browser's language, on every page.
    for path in ["/", "/e/customer", "/e/customer/new"] {
        let page = ui.get(path, ZH);
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        assert_eq!(lang_of(&page), "zh-CN", "{path}");
        assert!(page.text.contains("退出"), "{path}");
    }
    // Field errors of a form, too.
    let form = ui.post("/e/customer/new", ZH, &[("name", ""), ("kind", "company")]);
    assert_eq!(form.status, 422, "{}", form.text);
    assert!(form.text.contains("必填"), "{}", form.text);
    // No language named: the install's default (English unless set).
    assert_eq!(lang_of(&ui.get("/", "")), "en");
    assert_eq!(lang_of(&ui.get("/", "fr-FR, de;q=0.5")), "en");

    // The choice made with the language switch wins over the browser.
    let chosen = ui.post("/lang", ZH, &[("locale", "en"), ("back", "/")]);
    assert_eq!(chosen.status, 200, "{}", chosen.text);
    assert_eq!(lang_of(&ui.get("/", ZH)), "en");
}

#[test]
fn an_install_that_defaults_to_chinese_speaks_it_to_browsers_that_name_neither_language() {
    let s = TestServer::start();
    // What the demo company does when it is seeded.
    s.store.set_default_locale(Locale::ZhCn).unwrap();
    let login = s.anonymous().get("/login");
    assert_eq!(lang_of(&login), "zh-CN");
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    assert_eq!(lang_of(&ui.get("/", "")), "zh-CN");
    // A browser that names English still gets English.
    assert_eq!(lang_of(&ui.get("/", "en-US,en;q=0.9")), "en");
}

#[test]
fn every_field_error_of_a_write_comes_at_once() {
    let s = TestServer::start();
    let admin = s.admin();
    // Through the API: a bad e-mail, a bad option, and the required name left out (kind and
    // status have defaults).
    let r = admin.post(
        "/api/v1/records/customer",
        &json!({"email": "nope", "status": "planet"}),
    );
    assert_eq!(r.error_code(422), "validation_failed");
    let fields = r.body["error"]["fields"].as_object().unwrap();
    for f in ["email", "name", "status"] {
        assert!(fields.contains_key(f), "{f} missing from {}", r.text);
    }
    assert!(
        !fields.contains_key("kind"),
        "kind has a default: {}",
        r.text
    );
    // An update: a bad value and a required field emptied.
    let c = admin.create("customer", customer("Acme"));
    let id = c["id"].as_i64().unwrap();
    let r = admin.patch_v(
        &format!("/api/v1/records/customer/{id}"),
        1,
        &json!({"email": "nope", "name": null}),
    );
    assert_eq!(r.error_code(422), "validation_failed");
    let fields = r.body["error"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("email") && fields.contains_key("name"),
        "{}",
        r.text
    );
    // Nothing is half-written.
    let kept = admin.get(&format!("/api/v1/records/customer/{id}"));
    assert_eq!(kept.body["version"], 1);
    assert_eq!(kept.body["name"], "Acme");

    // Through the UI form, in the user's language.
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.post(
        "/e/customer/new",
        ZH,
        &[
            ("name", ""),
            ("kind", ""),
            ("status", "planet"),
            ("email", "nope"),
        ],
    );
    assert_eq!(page.status, 422, "{}", page.text);
    assert!(
        page.text.contains("必须是有效的邮箱地址"),
        "e-mail: {}",
        page.text
    );
    assert!(
        page.text.matches("class=\"field-error\"").count() >= 3,
        "every field's error: {}",
        page.text
    );
    assert_eq!(
        admin.get("/api/v1/records/customer").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn yes_no_filters_and_operator_names_speak_the_users_language() {
    let s = TestServer::start();
    let admin = s.admin();
    let field = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "vip", "type": "boolean", "label": {"en": "VIP", "zh-CN": "重要客户"}}),
    );
    assert_eq!(field.status, 201, "{}", field.text);
    let mut big = customer("Big Fish");
    big["vip"] = json!(true);
    admin.create("customer", big);
    let mut small = customer("Small Fry");
    small["vip"] = json!(false);
    admin.create("customer", small);

    // The words the Chinese message asks for are taken (API and UI alike).
    let api = admin.get("/api/v1/records/customer?vip=%E6%98%AF");
    assert_eq!(api.status, 200, "{}", api.text);
    assert_eq!(api.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(api.body["items"][0]["name"], "Big Fish");

    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let typed = ui.get("/e/customer?ff=vip&fo=eq&fv=%E5%90%A6", ZH);
    assert_eq!(typed.status, 200);
    assert!(!typed.text.contains("role=\"alert\""), "{}", typed.text);
    assert!(typed.text.contains("Small Fry") && !typed.text.contains("Big Fish"));

    // A yes/no field is a choice in the filter bar, labelled in the user's language.
    let page = ui.get("/e/customer", ZH);
    assert!(
        page.text
            .contains("<select name=\"vip\"><option value=\"\">全部</option><option value=\"true\" >是</option><option value=\"false\" >否</option></select>"),
        "{}",
        page.text
    );
    let chosen = ui.get("/e/customer?vip=true", ZH);
    assert!(chosen.text.contains("Big Fish") && !chosen.text.contains("Small Fry"));
    // The operators are named in Chinese, with the machine names as values only.
    assert!(page.text.contains("<option value=\"eq\" >等于</option>"));
    assert!(page.text.contains(">包含</option>"));
    assert!(!page.text.contains(">eq</option>") && !page.text.contains(">contains</option>"));
    // A refused filter is explained in the user's language with the field's label.
    let bad = ui.get("/e/customer?ff=vip&fo=eq&fv=maybe", ZH);
    assert!(
        bad.text.contains("重要客户: 必须是“是”或“否”"),
        "{}",
        bad.text
    );
}

#[test]
fn a_typed_reference_resolves_to_its_record_or_is_refused_in_the_users_language() {
    let s = TestServer::start();
    let admin = s.admin();
    let hengxin = admin.create("customer", customer("杭州恒信贸易有限公司"))["id"]
        .as_i64()
        .unwrap();
    let trading = admin.create("customer", customer("Acme Trading"))["id"]
        .as_i64()
        .unwrap();
    admin.create("customer", customer("Acme Tools"));
    let ui = s.ui_login("admin", ADMIN_PASSWORD);

    // Typed, no suggestion chosen: the one record the text names (the old id is not kept).
    let created = ui.post(
        "/e/contact/new",
        ZH,
        &[
            ("name", "王芳"),
            ("customer", &trading.to_string()),
            ("customer:text", "恒信"),
        ],
    );
    assert_eq!(created.status, 200, "{}", created.text);
    let contacts = admin.get("/api/v1/records/contact").body["items"].clone();
    assert_eq!(contacts[0]["customer"], hengxin, "{contacts}");
    let contact = contacts[0]["id"].as_i64().unwrap();

    // The chosen record's own title keeps it; its exact title picks it among several hits.
    let kept = ui.post(
        &format!("/e/contact/{contact}/edit"),
        ZH,
        &[
            ("version", "1"),
            ("name", "王芳"),
            ("customer", &hengxin.to_string()),
            ("customer:text", "杭州恒信贸易有限公司"),
        ],
    );
    assert_eq!(kept.status, 200, "{}", kept.text);
    let exact = ui.post(
        &format!("/e/contact/{contact}/edit"),
        ZH,
        &[
            ("version", "1"),
            ("name", "王芳"),
            ("customer", &hengxin.to_string()),
            ("customer:text", "Acme Trading"),
        ],
    );
    assert_eq!(exact.status, 200, "{}", exact.text);
    let now = admin.get(&format!("/api/v1/records/contact/{contact}"));
    assert_eq!(now.body["customer"], trading, "{}", now.text);

    // Several or none: a field error in the user's language, nothing written, the text kept.
    let version = now.body["version"].as_i64().unwrap().to_string();
    let many = ui.post(
        &format!("/e/contact/{contact}/edit"),
        ZH,
        &[
            ("version", &version),
            ("name", "王芳"),
            ("customer", &trading.to_string()),
            ("customer:text", "Acme"),
        ],
    );
    assert_eq!(many.status, 422, "{}", many.text);
    assert!(
        many.text.contains("有多条记录与“Acme”匹配"),
        "{}",
        many.text
    );
    let none = ui.post(
        "/e/contact/new",
        "en",
        &[
            ("name", ""),
            ("customer", &trading.to_string()),
            ("customer:text", "Nobody Ltd"),
        ],
    );
    assert_eq!(none.status, 422, "{}", none.text);
    assert!(
        none.text.contains("No record matches “Nobody Ltd”"),
        "{}",
        none.text
    );
    assert!(none.text.contains("value=\"Nobody Ltd\""), "{}", none.text);
    assert!(
        none.text.contains("required"),
        "other errors too: {}",
        none.text
    );
    let after = admin.get(&format!("/api/v1/records/contact/{contact}"));
    assert_eq!(after.body["version"], now.body["version"]);
    assert_eq!(
        admin.get("/api/v1/records/contact").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_refused_plugin_upload_is_explained_and_can_be_dismissed() {
    let s = TestServer::start();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let body = "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"broken.wasm\"\r\nContent-Type: application/wasm\r\n\r\nnot a component at all\r\n--X--\r\n";
    let upload = ui.client.send(
        reqwest::Method::POST,
        &format!("/admin/plugins/upload?csrf={}", ui.csrf),
        |r| {
            r.header("cookie", &ui.cookie)
                .header("accept-language", ZH)
                .header("content-type", "multipart/form-data; boundary=X")
                .body(body)
        },
    );
    // Followed back to the plugins page: a sentence, the parser's words folded away.
    assert_eq!(upload.status, 200, "{}", upload.text);
    assert!(
        upload.text.contains("该文件不是轻管插件"),
        "{}",
        upload.text
    );
    assert!(upload.text.contains("<summary>技术细节</summary>"));
    let page = ui.get("/admin/plugins", ZH);
    assert!(page.text.contains("broken.wasm"), "{}", page.text);
    assert!(page
        .text
        .contains("<div class=\"field-error\">该文件不是轻管插件"));
    assert!(page.text.contains(
        "<details><summary>技术细节</summary><pre class=\"detail\">not a WebAssembly component"
    ));

    // The administrator dismisses it; it is gone from the page and the API.
    let dismissed = ui.post("/admin/plugins/dismiss", ZH, &[("id", "broken.wasm")]);
    assert_eq!(dismissed.status, 200, "{}", dismissed.text);
    assert!(
        !dismissed.text.contains("broken.wasm"),
        "{}",
        dismissed.text
    );
    let api = s.admin().get("/api/v1/plugins");
    assert!(!api.text.contains("broken.wasm"), "{}", api.text);

    // A rep may not.
    let (_, _) = s.user("rep", "sales", "east");
    let rep = s.ui_login("rep", USER_PASSWORD);
    assert_eq!(
        rep.post("/admin/plugins/dismiss", "", &[("id", "x")])
            .status,
        403
    );
}
