//! Field types beyond the first fourteen: percentages (exact, `12.5` or `12.5%`, shown with a
//! per-cent sign), currency amounts (exact, in the field's currency or the company's, typed
//! and shown as money) and auto-numbers (`HT-{YYYY}-{seq:4}`: given by the system to each new record
//! and to the records that existed before the field, unique under concurrent creates, never
//! typed), through the API, Studio in both languages, search and imports.

use qingguan_tests::{customer, Client, TestServer, ADMIN_PASSWORD};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn add_field(admin: &Client, def: Value) -> qingguan_tests::Resp {
    admin.post("/api/v1/entities/customer/fields", &def)
}

/// A customer field as the schema API describes it.
fn customer_field(admin: &Client, name: &str) -> Value {
    let schema = admin.get("/api/v1/entities/customer");
    schema.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name}: {}", schema.text))
        .clone()
}

fn label(en: &str, zh: &str) -> Value {
    json!({"en": en, "zh-CN": zh})
}

/// `HT-YYYY-NNNN` → (year, n).
fn parts(number: &Value) -> (i32, i64) {
    let s = number
        .as_str()
        .unwrap_or_else(|| panic!("no number: {number}"));
    let rest = s.strip_prefix("HT-").unwrap_or_else(|| panic!("{s}"));
    let (year, n) = rest.split_once('-').unwrap_or_else(|| panic!("{s}"));
    assert_eq!((year.len(), n.len()), (4, 4), "{s}");
    (year.parse().unwrap(), n.parse().unwrap())
}

#[test]
fn a_percentage_is_exact_and_said_with_its_sign() {
    let s = TestServer::start();
    let admin = s.admin();
    let r = add_field(
        &admin,
        json!({"name": "discount", "type": "percent", "label": label("Discount", "折扣率")}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let mut c = customer("Acme");
    c["discount"] = json!("12.5%");
    let a = admin.create("customer", c);
    assert_eq!(a["discount"], "12.50");
    let mut c = customer("Beta");
    c["discount"] = json!(7);
    assert_eq!(admin.create("customer", c)["discount"], "7.00");
    let mut c = customer("Gamma");
    c["discount"] = json!("3.125");
    let r = admin.post("/api/v1/records/customer", &c);
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.body["error"]["fields"]["discount"].is_string(),
        "{}",
        r.text
    );
    let listed = admin.get("/api/v1/records/customer?discount[gt]=10");
    let names: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme"]);
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get(&format!("/e/customer/{}", a["id"]), "zh-CN");
    assert!(page.text.contains("12.50%"), "{}", page.text);
    let f = customer_field(&admin, "discount");
    assert_eq!(f["type"], "percent");
}

#[test]
fn auto_numbers_are_given_once_in_order_and_never_typed() {
    let s = TestServer::start();
    let admin = s.admin();
    let before: Vec<i64> = ["Old One", "Old Two"]
        .iter()
        .map(|n| {
            admin.create("customer", customer(n))["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    // Formats are checked.
    for (def, field) in [
        (
            json!({"name": "contract_no", "type": "auto_number", "format": "HT-{YYYY}",
                   "label": label("Contract", "合同编号")}),
            "format",
        ),
        (
            json!({"name": "code", "type": "text", "format": "{seq}", "label": label("Code", "代码")}),
            "format",
        ),
        (
            json!({"name": "contract_no", "type": "auto_number", "default": "X",
                   "label": label("Contract", "合同编号")}),
            "default",
        ),
    ] {
        let r = add_field(&admin, def.clone());
        assert_eq!(r.status, 422, "{def}: {}", r.text);
        assert!(r.body["error"]["fields"][field].is_string(), "{}", r.text);
    }
    let r = add_field(
        &admin,
        json!({"name": "contract_no", "type": "auto_number", "format": "HT-{YYYY}-{seq:4}",
               "label": label("Contract no.", "合同编号")}),
    );
    assert_eq!(r.status, 201, "{}", r.text);

    // The records made before the field are numbered in the order they were made.
    let old: Vec<(i32, i64)> = before
        .iter()
        .map(|id| parts(&admin.get(&format!("/api/v1/records/customer/{id}")).body["contract_no"]))
        .collect();
    assert_eq!(old[0].1, 1);
    assert_eq!(old[1].1, 2);

    // New records get the next numbers, also when many are made at once.
    let first = admin.create("customer", customer("New One"));
    let (year, n) = parts(&first["contract_no"]);
    assert!(year >= old[1].0, "{first}");
    if year == old[1].0 {
        assert_eq!(n, 3, "{first}");
    }
    let url = s.url.clone();
    let token = admin.token.clone();
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                let mut c = Client::new(&url);
                c.token = token;
                (0..15)
                    .map(|i| {
                        let r = c.post(
                            "/api/v1/records/customer",
                            &customer(&format!("Burst {t}-{i}")),
                        );
                        assert_eq!(r.status, 201, "{}", r.text);
                        r.body["contract_no"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let burst: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let unique: BTreeSet<&String> = burst.iter().collect();
    assert_eq!(unique.len(), 90, "no number given twice");
    let seqs: BTreeSet<i64> = burst
        .iter()
        .map(|s| parts(&json!(s)))
        .filter(|(y, _)| *y == year)
        .map(|(_, n)| n)
        .collect();
    if seqs.len() == 90 {
        assert_eq!(
            seqs,
            (n + 1..=n + 90).collect(),
            "no number skipped or repeated"
        );
    }

    // Never typed: not on create, not changed, not cleared; sending it unchanged is fine.
    let mut typed = customer("Typed");
    typed["contract_no"] = json!("HT-1999-0001");
    let r = admin.post("/api/v1/records/customer", &typed);
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.body["error"]["fields"]["contract_no"].is_string());
    let path = format!("/api/v1/records/customer/{}", first["id"]);
    for change in [json!("HT-1999-0001"), Value::Null] {
        let r = admin.patch_v(&path, 1, &json!({"contract_no": change}));
        assert_eq!(r.status, 422, "{change}: {}", r.text);
    }
    let r = admin.patch_v(
        &path,
        1,
        &json!({"contract_no": first["contract_no"], "name": "New One Ltd"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["contract_no"], first["contract_no"]);

    // Found by search, including the numbers given to older records.
    let number = admin
        .get(&format!("/api/v1/records/customer/{}", before[1]))
        .body["contract_no"]
        .as_str()
        .unwrap()
        .to_string();
    let tail = number.rsplit('-').next().unwrap();
    let hits = admin.get(&format!("/api/v1/search?q={number}"));
    assert!(
        hits.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == before[1]),
        "{tail}: {}",
        hits.text
    );

    // The schema says so: a read-only, unique text.
    let f = customer_field(&admin, "contract_no");
    assert_eq!(f["type"], "auto_number");
    assert_eq!(f["readonly"], true);
    assert_eq!(f["format"], "HT-{YYYY}-{seq:4}");
}

#[test]
fn studio_adds_an_auto_number_and_says_what_a_format_needs() {
    let s = TestServer::start();
    let admin = s.admin();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get("/admin/studio/customer", "zh-CN");
    assert!(
        page.text.contains("自动编号") && page.text.contains("编号格式"),
        "{}",
        page.text
    );
    let refused = ui.post(
        "/admin/studio/customer/fields",
        "zh-CN",
        &[
            ("type", "auto_number"),
            ("name", "code"),
            ("label_zh", "客户编号"),
            ("format", "KH-{seq}-{seq}"),
        ],
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("格式应由文字"), "{}", refused.text);
    let added = ui.post(
        "/admin/studio/customer/fields",
        "zh-CN",
        &[
            ("type", "auto_number"),
            ("name", "code"),
            ("label_zh", "客户编号"),
            ("format", "KH{seq:5}"),
        ],
    );
    assert_eq!(added.status, 200, "{}", added.text);
    let c = admin.create("customer", customer("恒信科技"));
    assert_eq!(c["code"], "KH00001");
    // Retired, records made meanwhile have no number; restored, they get theirs.
    let r = ui.post("/admin/studio/customer/fields/code/retire", "en", &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    let meanwhile = admin.create("customer", customer("Retired Days Ltd"));
    let r = ui.post("/admin/studio/customer/fields/code/unretire", "en", &[]);
    assert_eq!(r.status, 200, "{}", r.text);
    let got = admin.get(&format!("/api/v1/records/customer/{}", meanwhile["id"]));
    assert_eq!(got.body["code"], "KH00002", "{}", got.text);
    // The record form shows the number as text, not as an input.
    let form = ui.get(&format!("/e/customer/{}/edit", c["id"]), "zh-CN");
    assert!(form.text.contains("KH00001"), "{}", form.text);
    assert!(!form.text.contains("name=\"code\""), "{}", form.text);
}

#[test]
fn a_formula_follows_its_inputs_and_runs_nothing_else() {
    let s = TestServer::start();
    let admin = s.admin();
    for def in [
        json!({"name": "amount", "type": "decimal", "label": label("Amount", "金额")}),
        json!({"name": "discount", "type": "percent", "label": label("Discount", "折扣率")}),
        json!({"name": "seats", "type": "integer", "label": label("Seats", "席位")}),
    ] {
        assert_eq!(add_field(&admin, def).status, 201);
    }
    let mut c = customer("Before");
    c["amount"] = json!("80");
    let before = admin.create("customer", c);
    let r = add_field(
        &admin,
        json!({"name": "net", "type": "formula", "expression": "round(amount * (1 - discount), 2)",
               "label": label("Net", "净额")}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // Records already there are computed at once (no discount counts as 0).
    let got = admin.get(&format!("/api/v1/records/customer/{}", before["id"]));
    assert_eq!(got.body["net"], "80.00", "{}", got.text);

    let mut c = customer("Acme");
    c["amount"] = json!("200");
    c["discount"] = json!("12.5");
    let a = admin.create("customer", c);
    assert_eq!(a["net"], "175.00", "200 × (1 − 12.5 %)");
    let path = format!("/api/v1/records/customer/{}", a["id"]);
    let r = admin.patch_v(&path, 1, &json!({"discount": "20"}));
    assert_eq!(r.body["net"], "160.00", "{}", r.text);
    let r = admin.patch_v(&path, 2, &json!({"amount": null}));
    assert_eq!(
        r.body["net"], "0.00",
        "an empty input counts as 0: {}",
        r.text
    );
    let history = admin.get(&format!("{path}/history"));
    assert_eq!(
        history.body["items"][2]["changes"]["net"],
        json!(["160.00", "0.00"]),
        "{}",
        history.text
    );
    // Typed values are refused unless they repeat what the formula says.
    let r = admin.patch_v(&path, 3, &json!({"net": "999"}));
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.body["error"]["fields"]["net"].is_string());
    let r = admin.patch_v(&path, 3, &json!({"net": "0.00", "name": "Acme Ltd"}));
    assert_eq!(r.status, 200, "{}", r.text);
    // Sorted and filtered like any number.
    let listed = admin.get("/api/v1/records/customer?sort=-net&net[gt]=1");
    let names: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Before"], "{}", listed.text);

    // Dividing by zero leaves it empty.
    let r = add_field(
        &admin,
        json!({"name": "per_seat", "type": "formula", "expression": "amount / seats",
               "label": label("Per seat", "每席")}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let mut c = customer("Zero seats");
    c["amount"] = json!("10");
    c["seats"] = json!(0);
    assert_eq!(admin.create("customer", c)["per_seat"], Value::Null);
    let mut c = customer("Three seats");
    c["amount"] = json!("10");
    c["seats"] = json!(3);
    assert_eq!(admin.create("customer", c)["per_seat"], "3.33");

    // Nothing but arithmetic over this type's number fields.
    for (expression, why) in [
        ("name * 2", "'name'"),
        ("net + 1", "'net'"),
        ("ghost + 1", "'ghost'"),
        ("system(1)", "no function 'system'"),
        ("amount; drop table r_customer", "near"),
        ("", "required"),
    ] {
        let r = add_field(
            &admin,
            json!({"name": "bad", "type": "formula", "expression": expression,
                   "label": label("Bad", "坏")}),
        );
        assert_eq!(r.status, 422, "{expression}: {}", r.text);
        let text = r.body["error"]["fields"]["expression"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains(why), "{expression}: {}", r.text);
    }
    let r = add_field(
        &admin,
        json!({"name": "bad", "type": "text", "expression": "1", "label": label("Bad", "坏")}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let refused = ui.post(
        "/admin/studio/customer/fields",
        "zh-CN",
        &[
            ("type", "formula"),
            ("name", "bad"),
            ("label_zh", "坏"),
            ("expression", "amount ** 2"),
        ],
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("不是有效的公式"), "{}", refused.text);
}

#[test]
fn a_currency_amount_is_exact_in_its_fields_or_the_companys_currency() {
    let s = TestServer::start();
    let admin = s.admin();
    // One field in the company's currency, one in dollars; a bad code and a currency on a
    // number field are refused with their reasons.
    let r = add_field(
        &admin,
        json!({"name": "deal_value", "type": "currency", "label": label("Deal value", "成交金额")}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = add_field(
        &admin,
        json!({"name": "export_value", "type": "currency", "currency": "USD",
               "label": label("Export value", "出口金额")}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let bad = add_field(
        &admin,
        json!({"name": "x1", "type": "currency", "currency": "XYZ", "label": label("X", "X")}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(
        bad.text.contains("'XYZ' is not a currency code"),
        "{}",
        bad.text
    );
    let bad = add_field(
        &admin,
        json!({"name": "x2", "type": "integer", "currency": "USD", "label": label("X", "X")}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(
        bad.text.contains("only a currency amount field"),
        "{}",
        bad.text
    );
    // The schema names each field's currency: its own, or the company's (CNY by default).
    assert_eq!(customer_field(&admin, "deal_value")["currency"], "CNY");
    assert_eq!(customer_field(&admin, "export_value")["currency"], "USD");

    // Amounts are exact decimals, typed plain, as numbers, or as people write money.
    let mut c = customer("Acme");
    c["deal_value"] = json!("¥1,234,567.50");
    c["export_value"] = json!(99);
    let a = admin.create("customer", c);
    assert_eq!(a["deal_value"], "1234567.50");
    assert_eq!(a["export_value"], "99.00");
    let mut c = customer("Beta");
    c["deal_value"] = json!("0.25");
    let b = admin.create("customer", c);
    // Not an amount in yuan: too many places, words, a dollar sign, a European comma.
    for bad in [
        json!("1.005"),
        json!("twelve"),
        json!("¥1,2a"),
        json!(true),
        json!("US$99"),
        json!("1,5"),
        json!("1,2,3"),
    ] {
        let mut c = customer("Gamma");
        c["deal_value"] = bad.clone();
        let r = admin.post("/api/v1/records/customer", &c);
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert!(r.body["error"]["fields"]["deal_value"].is_string());
    }
    // Sums are exact: 1,234,567.50 + 0.25 by hand.
    let saved = admin.post(
        "/api/v1/reports",
        &json!({"name": "value by status", "entity": "customer", "group_by": ["status"],
                "metric": "sum:deal_value"}),
    );
    assert_eq!(saved.status, 201, "{}", saved.text);
    let run = admin.get(&format!("/api/v1/reports/{}", saved.body["id"]));
    assert_eq!(
        run.body["rows"][0]["values"][0], "1234567.75",
        "{}",
        run.text
    );
    let listed = admin.get("/api/v1/records/customer?deal_value[gt]=1000");
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // Shown with the currency's sign, grouped.
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get(&format!("/e/customer/{}", a["id"]), "zh-CN");
    assert!(page.text.contains("¥1,234,567.50"), "{}", page.text);
    assert!(page.text.contains("US$99.00"), "{}", page.text);

    // The company currency is an administrator's setting; amounts follow it, the dollar
    // field keeps its own. An unknown code is refused beside the input, in Chinese.
    let r = ui.post(
        "/admin/settings",
        "zh-CN",
        &[
            ("locale", "zh-CN"),
            ("time_zone", "+08:00"),
            ("currency", "HKD"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(customer_field(&admin, "deal_value")["currency"], "HKD");
    let page = ui.get(&format!("/e/customer/{}", b["id"]), "en");
    assert!(page.text.contains("HK$0.25"), "{}", page.text);
    let r = ui.post(
        "/admin/settings",
        "zh-CN",
        &[
            ("locale", "zh-CN"),
            ("time_zone", "+08:00"),
            ("currency", "BTC"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("“BTC”不是系统支持的货币代码"), "{}", r.text);
    assert_eq!(s.store.company_currency().unwrap(), "HKD");

    // Studio offers the currencies, the company's first.
    let studio = ui.get("/admin/studio/customer", "zh-CN");
    assert!(
        studio.text.contains("公司本位币 (HKD)") && studio.text.contains("USD · 美元"),
        "{}",
        studio.text
    );
    let r = ui.post(
        "/admin/studio/customer/fields",
        "zh-CN",
        &[
            ("label_zh", "合同金额"),
            ("label_en", "Contract value"),
            ("name", "contract_value"),
            ("type", "currency"),
            ("currency", "EUR"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(customer_field(&admin, "contract_value")["currency"], "EUR");
}
