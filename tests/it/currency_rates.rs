//! Amounts in several currencies: exchange rates kept by administrators and finance (not by
//! reps), a deal's amount in the deal's own currency, an amount in a currency without a rate
//! refused, and totals — reports, the sales plugin's figures — converted to the company
//! currency at the rates (or kept per currency when grouped by it), checked by hand.

use crate::reports::rows;
use qingguan_tests::{customer, install, TestServer, USER_PASSWORD};
use serde_json::json;

#[test]
fn amounts_in_several_currencies_are_totalled_in_the_company_currency() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (fin, _) = s.user("fin", "finance", "hq");

    // Rates: finance and administrators keep them; a rep reads them but may not make one.
    let by_rep = amy.post(
        "/api/v1/records/exchange_rate",
        &json!({"currency": "USD", "rate": "7.1"}),
    );
    assert_eq!(by_rep.status, 403, "{}", by_rep.text);
    let usd = fin.post(
        "/api/v1/records/exchange_rate",
        &json!({"currency": "USD", "rate": "7.1"}),
    );
    assert_eq!(usd.status, 201, "{}", usd.text);
    let eur = admin.post(
        "/api/v1/records/exchange_rate",
        &json!({"currency": "EUR", "rate": "7.8"}),
    );
    assert_eq!(eur.status, 201, "{}", eur.text);
    for (bad, field) in [
        (json!({"currency": "CNY", "rate": "1"}), "currency"),
        (json!({"currency": "HKD", "rate": "0"}), "rate"),
        (json!({"currency": "HKD", "rate": "-0.9"}), "rate"),
        (json!({"currency": "XYZ", "rate": "2"}), "currency"),
        (json!({"currency": "USD", "rate": "7.2"}), "currency"),
    ] {
        let r = fin.post("/api/v1/records/exchange_rate", &bad);
        assert!(
            r.status == 422 || r.status == 409,
            "{bad}: {} {}",
            r.status,
            r.text
        );
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{bad}: {}",
            r.text
        );
    }
    let rates = amy.get("/api/v1/records/exchange_rate?sort=currency").body;
    assert_eq!(rates["items"].as_array().unwrap().len(), 2, "{rates}");

    // Deals in yuan, dollars and euros; yen has no rate and is refused, in the rep's language.
    let c = amy.create("customer", customer("恒信科技"));
    let deal = |title: &str, stage: &str, amount: &str, currency: &str| {
        amy.post(
            "/api/v1/records/deal",
            &json!({"title": title, "customer": c["id"], "stage": stage, "amount": amount,
                    "currency": currency}),
        )
    };
    for (title, stage, amount, currency) in [
        ("ERP", "won", "1000", "CNY"),
        ("CRM", "won", "100", "USD"),
        ("BI", "won", "50.50", "EUR"),
        ("OA", "lead", "200", "USD"),
    ] {
        let r = deal(title, stage, amount, currency);
        assert_eq!(r.status, 201, "{title}: {}", r.text);
    }
    let yen = deal("Tokyo", "lead", "10000", "JPY");
    assert_eq!(yen.status, 422, "{}", yen.text);
    assert!(
        yen.body["error"]["fields"]["currency"]
            .as_str()
            .unwrap()
            .contains("no exchange rate for JPY"),
        "{}",
        yen.text
    );
    assert_eq!(
        amy.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}))
            .status,
        200
    );
    let yen = deal("Tokyo", "lead", "10000", "JPY");
    assert_eq!(
        yen.body["error"]["fields"]["currency"],
        "没有 JPY 的汇率，请管理员在“汇率”中添加"
    );
    assert_eq!(
        amy.get("/api/v1/records/deal?limit=50").body["items"]
            .as_array()
            .unwrap()
            .len(),
        4,
        "nothing half-written"
    );

    // Totals by stage in yuan: won 1000 + 100 × 7.1 + 50.50 × 7.8 = 1000 + 710 + 393.90.
    let by_stage = admin.post(
        "/api/v1/reports",
        &json!({"name": "by stage", "entity": "deal", "group_by": ["stage"], "metric": "sum:amount"}),
    );
    assert_eq!(by_stage.status, 201, "{}", by_stage.text);
    let by_stage = format!("/api/v1/reports/{}", by_stage.body["id"]);
    assert_eq!(
        rows(&admin.get(&by_stage)),
        vec![
            (json!(["lead"]), json!("1420.00")),
            (json!(["won"]), json!("2103.90"))
        ]
    );
    // Grouped by currency, each group keeps its own.
    let by_currency = admin.post(
        "/api/v1/reports",
        &json!({"name": "by currency", "entity": "deal", "group_by": ["currency"], "metric": "sum:amount"}),
    );
    let by_currency = format!("/api/v1/reports/{}", by_currency.body["id"]);
    assert_eq!(
        rows(&admin.get(&by_currency)),
        vec![
            (json!(["CNY"]), json!("1000.00")),
            (json!(["EUR"]), json!("50.50")),
            (json!(["USD"]), json!("300.00"))
        ]
    );
    // The average over all four, converted: 3523.90 / 4 = 880.975.
    let avg = admin.post(
        "/api/v1/reports",
        &json!({"name": "avg", "entity": "deal", "group_by": [], "metric": "avg:amount"}),
    );
    assert_eq!(avg.status, 201, "{}", avg.text);
    assert_eq!(
        rows(&admin.get(&format!("/api/v1/reports/{}", avg.body["id"]))),
        vec![(json!([]), json!("880.9750"))]
    );

    // The sales plugin's figures come from the same totals: won revenue in yuan.
    let today = chrono::Utc::now().date_naive();
    let period = json!({"owner": amy_id, "from": (today - chrono::Duration::days(2)).to_string(),
                        "to": (today + chrono::Duration::days(2)).to_string()});
    let won = admin.post("/api/v1/plugins/sales/queries/won_revenue", &period);
    assert_eq!(won.status, 200, "{}", won.text);
    assert_eq!(won.body["value"], "2103.90");

    // The dollar moves to 7.2: every total follows; the rate's history says what it was.
    let moved = fin.patch_v(
        &format!("/api/v1/records/exchange_rate/{}", usd.body["id"]),
        usd.body["version"].as_i64().unwrap(),
        &json!({"rate": "7.2"}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(
        rows(&admin.get(&by_stage)),
        vec![
            (json!(["lead"]), json!("1440.00")),
            (json!(["won"]), json!("2113.90"))
        ]
    );
    let history = fin
        .get(&format!(
            "/api/v1/records/exchange_rate/{}/history",
            usd.body["id"]
        ))
        .body;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["changes"]["rate"] == json!(["7.100000", "7.200000"])),
        "{history}"
    );

    // A rate removed while deals are in its currency: totals are refused, naming it, rather
    // than leaving those deals out.
    let gone = admin.delete_v(
        &format!("/api/v1/records/exchange_rate/{}", eur.body["id"]),
        eur.body["version"].as_i64().unwrap(),
    );
    assert_eq!(gone.status, 204, "{}", gone.text);
    let refused = admin.get(&by_stage);
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(
        refused.body["error"]["fields"]["metrics"]
            .as_str()
            .unwrap()
            .contains("no exchange rate for EUR"),
        "{}",
        refused.text
    );
    // Per currency needs no rate.
    assert_eq!(rows(&admin.get(&by_currency)).len(), 3);

    // Pages show each amount in its deal's currency; the rates are in finance's menu, not
    // the rep's.
    let ui = s.ui_login("amy", USER_PASSWORD);
    let list = ui.get("/e/deal", "en");
    assert!(
        list.text.contains("US$100.00") && list.text.contains("¥1,000.00"),
        "{}",
        list.text
    );
    assert!(list.text.contains("data-entity=\"deal\""));
    assert!(!list.text.contains("data-entity=\"exchange_rate\""));
    let fin_ui = s.ui_login("fin", USER_PASSWORD);
    let fin_page = fin_ui.get("/e/deal", "zh-CN");
    assert!(
        fin_page.text.contains("data-entity=\"exchange_rate\""),
        "{}",
        fin_page.text
    );

    // An administrator saves the sales role as the roles page shows it: rates stay read-only
    // for reps (a role's `*` never reaches them, and the page shows what applies).
    {
        use crate::browser::{browser, go, login};
        let b = browser(1280, 900);
        let tab = b.new_tab().unwrap();
        login(&tab, &s.url, "admin", qingguan_tests::ADMIN_PASSWORD);
        go(&tab, &format!("{}/admin/roles", s.url));
        let ticked = |op: &str| {
            tab.evaluate(
                &format!("document.querySelector('form[data-role=sales] input[name=\"exchange_rate.{op}\"]').checked"),
                false,
            )
            .unwrap()
            .value
            .unwrap()
        };
        assert_eq!(
            (ticked("create"), ticked("read")),
            (json!(false), json!(true))
        );
        tab.evaluate(
            "document.querySelector('form[data-role=sales] input[name=\"label_en\"]').value = 'Sales rep';",
            false,
        )
        .unwrap();
        tab.wait_for_element("form[data-role=sales] button.primary")
            .unwrap()
            .click()
            .unwrap();
        let start = std::time::Instant::now();
        while !s
            .store
            .roles()
            .iter()
            .any(|r| r.name == "sales" && r.permissions.contains_key("exchange_rate"))
        {
            assert!(start.elapsed().as_secs() < 20, "the role was never saved");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let after = amy.post(
        "/api/v1/records/exchange_rate",
        &json!({"currency": "JPY", "rate": "0.05"}),
    );
    assert_eq!(after.status, 403, "{}", after.text);
    let usd_now = amy.get(&format!("/api/v1/records/exchange_rate/{}", usd.body["id"]));
    assert_eq!(usd_now.status, 200, "reps still read rates");
    let edit = amy.patch_v(
        &format!("/api/v1/records/exchange_rate/{}", usd.body["id"]),
        usd_now.body["version"].as_i64().unwrap(),
        &json!({"rate": "1"}),
    );
    assert_eq!(edit.status, 403, "{}", edit.text);
    let gone = amy.delete_v(
        &format!("/api/v1/records/exchange_rate/{}", usd.body["id"]),
        usd_now.body["version"].as_i64().unwrap(),
    );
    assert_eq!(gone.status, 403, "{}", gone.text);

    // The company currency does not change under the rates (they say what a unit is worth in
    // it): refused with the reason beside the currency, nothing changed.
    let admin_ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let refused = admin_ui.post(
        "/admin/settings",
        "zh-CN",
        &[
            ("locale", "zh-CN"),
            ("time_zone", "+08:00"),
            ("currency", "USD"),
        ],
    );
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(
        refused.text.contains("现有汇率均按当前本位币填写"),
        "{}",
        refused.text
    );
    assert_eq!(s.store.company_currency().unwrap(), "CNY");
}
