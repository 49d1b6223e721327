//! Finance in other currencies, worked out by hand: invoices, bills and payments carry their
//! currency and its rate (from the install's exchange rates unless finance gives one); the
//! journal, the aging, the KPIs and the profit are in yuan at each document's rate; settling at
//! another rate posts the exchange difference to 6603; a customer's statement is one per
//! currency; a payment pays only documents in its own currency; nothing is half-written.

use crate::finance::{account, act, all_time_tb, json_get, rec, setup, tb_row};
use qingguan_tests::customer;
use serde_json::{json, Value};

#[test]
fn documents_in_dollars_and_euros_are_booked_in_yuan_and_settle_with_exchange_differences() {
    let (s, admin, fin) = setup();
    for (code, rate) in [("USD", "7"), ("EUR", "7.8")] {
        let r = fin.post(
            &rec("exchange_rate"),
            &json!({"currency": code, "rate": rate}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let c = admin.create("customer", customer("Northwind Trading"));
    let today = chrono::Utc::now().date_naive();
    let due = (today + chrono::Duration::days(30)).to_string();

    // A currency without a rate, a rate on the company currency, a rate of nothing: refused.
    for (fields, field) in [
        (json!({"currency": "GBP"}), "currency"),
        (json!({"currency": "CNY", "rate": "2"}), "rate"),
        (json!({"currency": "USD", "rate": "0"}), "rate"),
    ] {
        let mut body = json!({"customer": c["id"], "issued_on": "2026-11-10"});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        let r = fin.post(&rec("invoice"), &body);
        assert_eq!(r.status, 422, "{fields}: {}", r.text);
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{fields}: {}",
            r.text
        );
    }
    assert_eq!(
        fin.get(&rec("invoice")).body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Invoice A: 100 dollars + 13% at the install's 7.00 → net 700.00, VAT 91.00, 791.00.
    let a = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-10", "currency": "USD"}),
    );
    assert_eq!(
        (a["currency"].clone(), a["rate"].clone()),
        (json!("USD"), json!("7.000000"))
    );
    fin.create(
        "invoice_line",
        json!({"invoice": a["id"], "description": "Licence", "quantity": "1", "unit_price": "100", "tax_rate": "13"}),
    );
    let posted = act(&fin, "invoice", &a["id"], "post", json!({}));
    assert_eq!(posted.status, 200, "{}", posted.text);
    let a = fin.get(&rec(&format!("invoice/{}", a["id"]))).body;
    assert_eq!(
        (
            a["total"].clone(),
            a["net_cc"].clone(),
            a["total_cc"].clone(),
            a["balance_cc"].clone()
        ),
        (
            json!("113.00"),
            json!("700.00"),
            json!("791.00"),
            json!("791.00")
        ),
        "{a}"
    );

    // 50 dollars received at 7.20 (360.00): allocated, they release 50 × 7.00 = 350.00 of the
    // invoice — a gain of 10.00.
    let payment = |amount: &str, rate: &str, currency: &str| {
        let p = fin.create(
            "payment",
            json!({"customer": c["id"], "received_on": "2026-11-20", "amount": amount,
                   "method": "bank", "currency": currency, "rate": rate}),
        );
        let r = act(&fin, "payment", &p["id"], "post", json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
        p
    };
    let p1 = payment("50", "7.2", "USD");
    let r = act(
        &fin,
        "payment",
        &p1["id"],
        "allocate",
        json!({"invoices": {a["id"].to_string(): "50"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // The rest, 63 dollars at 6.90 (434.70), settles the invoice: it releases the 441.00 left
    // — a loss of 6.30.
    let p2 = payment("63", "6.9", "USD");
    let r = act(
        &fin,
        "payment",
        &p2["id"],
        "allocate",
        json!({"invoices": {a["id"].to_string(): "63"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let a = fin.get(&rec(&format!("invoice/{}", a["id"]))).body;
    assert_eq!(
        (
            a["status"].clone(),
            a["balance"].clone(),
            a["balance_cc"].clone()
        ),
        (json!("paid"), json!("0.00"), json!("0.00")),
        "{a}"
    );
    let fx: Vec<Value> = fin.get(&rec("allocation?sort=id")).body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["fx"].clone())
        .collect();
    assert_eq!(fx, vec![json!("10.00"), json!("-6.30")]);

    // Invoice B after the dollar moved to 7.10: its rate is the new one. A credit note of 4 is
    // in B's currency at B's rate whatever it asks for.
    let usd = fin.get(&rec("exchange_rate?currency=USD")).body["items"][0].clone();
    let moved = fin.patch_v(
        &rec(&format!("exchange_rate/{}", usd["id"])),
        usd["version"].as_i64().unwrap(),
        &json!({"rate": "7.1"}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    let b = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-25", "due_on": due, "currency": "USD"}),
    );
    assert_eq!(b["rate"], "7.100000");
    fin.create(
        "invoice_line",
        json!({"invoice": b["id"], "description": "Support", "quantity": "1", "unit_price": "10", "tax_rate": "0"}),
    );
    assert_eq!(
        act(&fin, "invoice", &b["id"], "post", json!({})).status,
        200
    );
    let cn = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-26", "kind": "credit_note",
               "credits": b["id"], "currency": "EUR"}),
    );
    assert_eq!(
        (cn["currency"].clone(), cn["rate"].clone()),
        (json!("USD"), json!("7.100000"))
    );
    fin.create(
        "invoice_line",
        json!({"invoice": cn["id"], "description": "Goodwill", "quantity": "1", "unit_price": "4", "tax_rate": "0"}),
    );
    let r = act(&fin, "invoice", &cn["id"], "post", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let b = fin.get(&rec(&format!("invoice/{}", b["id"]))).body;
    assert_eq!(
        (b["balance"].clone(), b["balance_cc"].clone()),
        (json!("6.00"), json!("42.60")),
        "71.00 less 4 × 7.10: {b}"
    );

    // A draft changes currency: back to yuan at 1, to dollars again at today's 7.10; a posted
    // invoice's rate does not change.
    let draft = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-27", "currency": "USD"}),
    );
    let to_cny = fin.patch_v(
        &rec(&format!("invoice/{}", draft["id"])),
        draft["version"].as_i64().unwrap(),
        &json!({"currency": "CNY"}),
    );
    assert_eq!(to_cny.status, 200, "{}", to_cny.text);
    assert_eq!(to_cny.body["rate"], "1.000000");
    let to_usd = fin.patch_v(
        &rec(&format!("invoice/{}", draft["id"])),
        to_cny.body["version"].as_i64().unwrap(),
        &json!({"currency": "USD"}),
    );
    assert_eq!(to_usd.body["rate"], "7.100000", "{}", to_usd.text);
    assert_eq!(
        fin.delete_v(
            &rec(&format!("invoice/{}", draft["id"])),
            to_usd.body["version"].as_i64().unwrap()
        )
        .status,
        204
    );
    let fixed = fin.patch_v(
        &rec(&format!("invoice/{}", b["id"])),
        b["version"].as_i64().unwrap(),
        &json!({"rate": "8"}),
    );
    assert_eq!(fixed.status, 422, "{}", fixed.text);

    // A yuan payment does not pay a dollar invoice; nothing is allocated.
    let p3 = payment("100", "1", "CNY");
    let refused = act(
        &fin,
        "payment",
        &p3["id"],
        "allocate",
        json!({"invoices": {b["id"].to_string(): "6"}}),
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.body["error"]["fields"][format!("invoices.{}", b["id"])]
            .as_str()
            .unwrap()
            .contains("USD"),
        "{}",
        refused.text
    );
    assert_eq!(
        fin.get(&rec("allocation")).body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A bill in euros at 7.80: 100 + 13% → 780.00 + 101.40 = 881.40; paid 113 euros at 7.70
    // (870.10): 11.30 less than booked, a gain.
    let bill = fin.create(
        "bill",
        json!({"supplier": "Lyon Parts", "issued_on": "2026-11-12", "currency": "EUR"}),
    );
    assert_eq!(bill["rate"], "7.800000");
    let line = fin.post(
        &rec("bill_line"),
        &json!({"bill": bill["id"], "description": "Parts", "account": account(&fin, "6602"),
                "quantity": "1", "unit_price": "100", "tax_rate": "13"}),
    );
    assert_eq!(line.status, 201, "{}", line.text);
    assert_eq!(
        act(&fin, "bill", &bill["id"], "post", json!({})).status,
        200
    );
    let made = fin.create(
        "payment_made",
        json!({"supplier": "Lyon Parts", "paid_on": "2026-11-28", "amount": "113",
               "method": "bank", "currency": "EUR", "rate": "7.7"}),
    );
    assert_eq!(
        act(&fin, "payment_made", &made["id"], "post", json!({})).status,
        200
    );
    let r = act(
        &fin,
        "payment_made",
        &made["id"],
        "allocate",
        json!({"bills": {bill["id"].to_string(): "113"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);

    // The books, all time, by hand:
    // 1122: Dr 791.00 + 10.00 + 71.00 = 872.00; Cr 360.00 + 434.70 + 6.30 + 28.40 + 100 (the
    // yuan payment, not allocated) = 929.40.
    // 2202: Cr 881.40; Dr 870.10 + 11.30.  6603: Cr 10.00 + 11.30, Dr 6.30 → 15.00 gained.
    // Revenue 700 + 71 − 28.40 = 742.60; expenses 780.00; profit 742.60 − 780 + 15 = −22.40.
    let tb = all_time_tb(&fin);
    let row = |code: &str| {
        let r = tb_row(&tb, code);
        (r["debit"].clone(), r["credit"].clone())
    };
    assert_eq!(row("1122"), (json!("872.00"), json!("929.40")), "{tb}");
    assert_eq!(row("2202"), (json!("881.40"), json!("881.40")), "{tb}");
    assert_eq!(row("6603"), (json!("6.30"), json!("21.30")), "{tb}");
    assert_eq!(row("1002"), (json!("894.70"), json!("870.10")), "{tb}");
    assert_eq!(tb["total_debit"], tb["total_credit"]);
    assert_eq!(tb["profit"], "-22.40", "{tb}");

    // An invoice of 50 yuan from before currencies (finance 1.5 stored none of the new
    // fields): in the company currency at 1, counted once.
    let old = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-05", "due_on": due}),
    );
    fin.create(
        "invoice_line",
        json!({"invoice": old["id"], "description": "Old", "quantity": "1", "unit_price": "50", "tax_rate": "0"}),
    );
    assert_eq!(
        act(&fin, "invoice", &old["id"], "post", json!({})).status,
        200
    );
    let n = s.execute_sql(
        "UPDATE r_invoice SET c_currency = NULL, c_rate = NULL, c_net_cc = NULL,
               c_total_cc = NULL, c_balance_cc = NULL WHERE id = ?1",
        &[old["id"].as_i64().unwrap().into()],
    );
    assert_eq!(n, 1);
    // As an upgraded install has it: not yet noted that every document keeps its amounts.
    let n = s.execute_sql(
        "DELETE FROM plugin_kv WHERE plugin = 'finance' AND key = 'fx:all_kept'",
        &[],
    );
    assert_eq!(n, 1);

    // The aging in yuan: B's 6 dollars at 7.10 and the old 50, not yet due.
    let aging = json_get(&fin, "/api/v1/plugins/finance/aging").body;
    assert_eq!(aging["totals"][0], "92.60", "{aging}");

    // 回款 and invoicing for appraisal, in yuan: collected 360.00 + 434.70 + 100 (the yuan
    // payment); invoiced net 700 + 71 − 28.40 + 50 (the old one).
    let ask = |q: &str| {
        let r = fin.post(
            &format!("/api/v1/plugins/finance/queries/{q}"),
            &json!({"from": "2026-11-01", "to": "2026-11-30"}),
        );
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        r.body["value"].clone()
    };
    assert_eq!(ask("collected"), "894.70");
    assert_eq!(ask("invoiced"), "792.60");

    // The `keep_amounts` job writes the old invoice's amounts in; the figures stay.
    let run = admin.post(
        "/api/v1/plugins/finance/jobs/keep_amounts?wait=true",
        &json!({}),
    );
    assert_eq!(run.status, 200, "{}", run.text);
    let kept = fin.get(&rec(&format!("invoice/{}", old["id"]))).body;
    assert_eq!(
        (
            kept["currency"].clone(),
            kept["rate"].clone(),
            kept["total_cc"].clone(),
            kept["balance_cc"].clone()
        ),
        (
            json!("CNY"),
            json!("1.000000"),
            json!("50.00"),
            json!("50.00")
        ),
        "{kept}"
    );
    assert_eq!(ask("invoiced"), "792.60");
    let aging = json_get(&fin, "/api/v1/plugins/finance/aging").body;
    assert_eq!(aging["totals"][0], "92.60", "{aging}");

    // The customer's statement, in dollars as it was billed: +113, −50, −63, +10, −4 → 6 owed;
    // and the yuan payment in yuan, 100 in the customer's favour.
    let st = json_get(
        &fin,
        &format!("/api/v1/plugins/finance/statement?customer={}", c["id"]),
    )
    .body;
    assert_eq!(
        (st["currency"].clone(), st["balance"].clone()),
        (json!("CNY"), json!("-50.00")),
        "the old 50 less the yuan payment of 100: {st}"
    );
    assert_eq!(st["others"][0]["currency"], "USD", "{st}");
    assert_eq!(st["others"][0]["balance"], "6.00", "{st}");
    let amounts: Vec<Value> = st["others"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].clone())
        .collect();
    assert_eq!(
        amounts,
        vec![
            json!("113.00"),
            json!("-50.00"),
            json!("-63.00"),
            json!("10.00"),
            json!("-4.00")
        ]
    );
}
