//! The finance plugin (财务管理) end to end over HTTP: invoices with per-line rounding worked
//! out by hand, their journal entries, payments allocated partly and refused beyond balances,
//! a trial balance that balances, manual entries that must balance and are corrected only by
//! reversal, month close, aging, invoices from inventory's deliveries, and supplier bills and
//! payments made clearing what was received.

use qingguan_tests::{customer, install, Client, TestServer};
use serde_json::{json, Value};

pub(crate) fn rec(path: &str) -> String {
    format!("/api/v1/records/{path}")
}

pub(crate) fn act(
    c: &Client,
    entity: &str,
    id: &Value,
    action: &str,
    input: Value,
) -> qingguan_tests::Resp {
    c.post(
        &rec(&format!("{entity}/{id}/actions/finance/{action}")),
        &input,
    )
}

pub(crate) fn json_get(c: &Client, path: &str) -> qingguan_tests::Resp {
    c.send(reqwest::Method::GET, path, |r| {
        r.header("accept", "application/json")
    })
}

/// The trial balance over all time.
pub(crate) fn all_time_tb(c: &Client) -> Value {
    json_get(
        c,
        "/api/v1/plugins/finance/trial-balance?from=2000-01-01&to=2999-12-31",
    )
    .body
}

/// A trial balance's row for an account code (null when the account has no postings).
pub(crate) fn tb_row(tb: &Value, code: &str) -> Value {
    tb["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .cloned()
        .unwrap_or(Value::Null)
}

/// The status of a posted document something is still owed on, due on `due`: overdue once the
/// day has passed (these tests' documents are dated in November 2026 and run on later days),
/// else partly paid or posted.
pub(crate) fn open_status(due: &str, partly_paid: bool) -> &'static str {
    let today = chrono::Utc::now().date_naive().to_string();
    if due < today.as_str() {
        "overdue"
    } else if partly_paid {
        "partly_paid"
    } else {
        "posted"
    }
}

pub(crate) fn account(c: &Client, code: &str) -> Value {
    c.get(&rec(&format!("account?code={code}"))).body["items"][0]["id"].clone()
}

pub(crate) fn setup() -> (TestServer, Client, Client) {
    let s = TestServer::start();
    let admin = s.admin();
    let r = install(&admin, "qingguan-finance", true);
    assert_eq!(r.status, 201, "{}", r.text);
    let (fin, _) = s.user("fin", "finance", "hq");
    (s, admin, fin)
}

#[test]
fn invoices_payments_and_the_journal_agree_with_hand_computation() {
    let (s, admin, fin) = setup();
    assert_eq!(
        fin.get(&rec("account?limit=50")).body["items"]
            .as_array()
            .unwrap()
            .len(),
        17,
        "the chart is seeded"
    );
    let c = admin.create("customer", customer("Buyer"));
    // 3 × 99.99 at 13%: net 299.97, tax 38.9961 → 39.00; 2 × 10.005 at 6%: net 20.01, tax 1.2006 → 1.20.
    let inv = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-10"}),
    );
    assert_eq!(
        (
            inv["number"].as_str().unwrap().starts_with("INV-"),
            inv["due_on"].clone()
        ),
        (true, json!("2026-12-10")),
        "{inv}"
    );
    fin.create("invoice_line", json!({"invoice": inv["id"], "description": "Widget", "quantity": "3", "unit_price": "99.99", "tax_rate": "13"}));
    let l2 = fin.create("invoice_line", json!({"invoice": inv["id"], "description": "Fee", "quantity": "2", "unit_price": "10.005", "tax_rate": "6"}));
    assert_eq!(
        (l2["net"].clone(), l2["tax"].clone()),
        (json!("20.01"), json!("1.20"))
    );
    let path = rec(&format!("invoice/{}", inv["id"]));
    let i = fin.get(&path).body;
    assert_eq!(
        (i["net"].clone(), i["tax"].clone(), i["total"].clone()),
        (json!("319.98"), json!("40.20"), json!("360.18")),
        "{i}"
    );
    let posted = act(&fin, "invoice", &inv["id"], "post", json!({}));
    assert_eq!(posted.status, 200, "{}", posted.text);
    // Posted: read-only.
    let i = fin.get(&path).body;
    assert_eq!(
        fin.patch_v(
            &path,
            i["version"].as_i64().unwrap(),
            &json!({"due_on": "2027-01-01"})
        )
        .status,
        422
    );
    assert_eq!(
        fin.post(
            &rec("invoice_line"),
            &json!({"invoice": inv["id"], "description": "x", "quantity": "1", "unit_price": "1"})
        )
        .status,
        422
    );

    // Payments: 200 allocated; 150 of a 100 refused; 100 allocated; 80 against a balance of 60.18 refused.
    let pay = |amount: &str| {
        let p = fin.create("payment", json!({"customer": c["id"], "received_on": "2026-11-20", "amount": amount, "method": "bank"}));
        assert_eq!(
            act(&fin, "payment", &p["id"], "post", json!({})).status,
            200
        );
        p
    };
    let allocate = |p: &Value, amount: &str| {
        act(
            &fin,
            "payment",
            &p["id"],
            "allocate",
            json!({"invoices": {inv["id"].to_string(): amount}}),
        )
    };
    let p1 = pay("200");
    let a1 = allocate(&p1, "200");
    assert_eq!(a1.status, 200, "{}", a1.text);
    assert_eq!(
        fin.get(&path).body["status"],
        open_status("2026-12-10", true)
    );
    let p2 = pay("100");
    let over = allocate(&p2, "150");
    assert_eq!(over.status, 422, "{}", over.text);
    assert_eq!(allocate(&p2, "100").status, 200);
    let p3 = pay("100");
    let past_balance = allocate(&p3, "80");
    assert_eq!(past_balance.status, 422, "{}", past_balance.text);
    let i = fin.get(&path).body;
    assert_eq!(
        (i["paid"].clone(), i["balance"].clone()),
        (json!("300.00"), json!("60.18")),
        "{i}"
    );
    assert_eq!(
        fin.get(&rec("allocation")).body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The trial balance for November: debits equal credits, figure by figure.
    let tb = json_get(
        &fin,
        "/api/v1/plugins/finance/trial-balance?from=2026-11-01&to=2026-11-30",
    )
    .body;
    let row = |code: &str| tb_row(&tb, code);
    assert_eq!(
        (
            row("1002")["debit"].clone(),
            row("1122")["debit"].clone(),
            row("1122")["credit"].clone()
        ),
        (json!("400.00"), json!("360.18"), json!("400.00")),
        "{tb}"
    );
    assert_eq!(
        (row("2221")["credit"].clone(), row("6001")["credit"].clone()),
        (json!("40.20"), json!("319.98"))
    );
    assert_eq!(tb["total_debit"], tb["total_credit"]);
    assert_eq!(tb["total_debit"], "760.18");
    assert_eq!(tb["profit"], "319.98");

    // The balance sheet at month end: 400 in the bank, receivables 360.18 − 400 = −39.82 (the
    // customer paid ahead), VAT 40.20 owed, profit 319.98 — and it balances.
    let bs = json_get(&fin, "/api/v1/plugins/finance/balance-sheet?at=2026-11-30").body;
    assert_eq!(
        (
            bs["total_assets"].clone(),
            bs["total_liabilities"].clone(),
            bs["profit"].clone(),
            bs["balanced"].clone()
        ),
        (
            json!("360.18"),
            json!("40.20"),
            json!("319.98"),
            json!(true)
        ),
        "{bs}"
    );
    let cash = json_get(
        &fin,
        "/api/v1/plugins/finance/cash?from=2026-11-01&to=2026-11-30",
    )
    .body;
    assert_eq!(
        cash["months"][0],
        json!({"month": "2026-11", "in": "400.00", "out": "0.00", "balance": "400.00"}),
        "{cash}"
    );
    let chart = fin.get("/api/v1/plugins/finance/cash?from=2026-11-01&to=2026-11-30");
    assert!(chart.text.contains("<svg"), "{}", chart.text);

    // The customer's statement: 360.18 invoiced, 400 paid: 39.82 in their favour.
    let st = json_get(
        &fin,
        &format!("/api/v1/plugins/finance/statement?customer={}", c["id"]),
    )
    .body;
    assert_eq!(st["lines"].as_array().unwrap().len(), 4, "{st}");
    assert_eq!(st["balance"], "-39.82");

    // Aging at year end: 60.18 is 21 days late.
    let aging = json_get(&fin, "/api/v1/plugins/finance/aging?at=2026-12-31").body;
    assert_eq!(
        aging["rows"][0]["buckets"],
        json!(["0", "60.18", "0", "0", "0"]),
        "{aging}"
    );
    // 回款 for appraisal.
    let collected = fin.post(
        "/api/v1/plugins/finance/queries/collected",
        &json!({"from": "2026-11-01", "to": "2026-11-30"}),
    );
    assert_eq!(collected.body["value"], "400.00", "{}", collected.text);
    drop(s);
}

#[test]
fn manual_entries_balance_are_reversed_not_edited_and_closed_months_take_nothing() {
    let (s, admin, fin) = setup();
    let (cash, admin_exp) = (account(&fin, "1001"), account(&fin, "6602"));
    let je = fin.create(
        "journal_entry",
        json!({"posted_on": "2026-11-15", "memo": "office supplies"}),
    );
    fin.create(
        "journal_line",
        json!({"entry": je["id"], "account": admin_exp, "debit": "50"}),
    );
    fin.create(
        "journal_line",
        json!({"entry": je["id"], "account": cash, "credit": "45"}),
    );
    let unbalanced = act(&fin, "journal_entry", &je["id"], "post", json!({}));
    assert_eq!(unbalanced.status, 422, "{}", unbalanced.text);
    assert!(
        unbalanced.text.contains("50.00") && unbalanced.text.contains("45.00"),
        "{}",
        unbalanced.text
    );
    let cl = fin
        .get(&rec(&format!("journal_line?entry={}&credit=45", je["id"])))
        .body["items"][0]
        .clone();
    fin.patch_v(
        &rec(&format!("journal_line/{}", cl["id"])),
        cl["version"].as_i64().unwrap(),
        &json!({"credit": "50"}),
    );
    assert_eq!(
        act(&fin, "journal_entry", &je["id"], "post", json!({})).status,
        200
    );
    let path = rec(&format!("journal_entry/{}", je["id"]));
    let posted = fin.get(&path).body;
    assert_eq!(
        fin.patch_v(
            &path,
            posted["version"].as_i64().unwrap(),
            &json!({"memo": "changed"})
        )
        .status,
        422
    );
    assert_eq!(
        fin.delete_v(&path, posted["version"].as_i64().unwrap())
            .status,
        422
    );
    assert_eq!(
        fin.post(
            &rec("journal_line"),
            &json!({"entry": je["id"], "account": cash, "credit": "1"})
        )
        .status,
        422
    );
    let tb = |c: &Client| {
        json_get(
            c,
            "/api/v1/plugins/finance/trial-balance?from=2026-11-01&to=2026-11-30",
        )
        .body
    };
    assert_eq!(tb(&fin)["profit"], "-50.00");
    let rev = act(
        &fin,
        "journal_entry",
        &je["id"],
        "reverse",
        json!({"date": "2026-11-16"}),
    );
    assert_eq!(rev.status, 200, "{}", rev.text);
    assert_eq!(
        act(&fin, "journal_entry", &je["id"], "reverse", json!({})).status,
        409,
        "once"
    );
    assert_eq!(tb(&fin)["profit"], "0.00");

    // November closed: nothing more is posted into it; only an administrator reopens it.
    let close = fin.post(
        "/api/v1/plugins/finance/close",
        &json!({"month": "2026-11"}),
    );
    assert_eq!(close.status, 200, "{}", close.text);
    let c = admin.create("customer", customer("Buyer"));
    let inv = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-25"}),
    );
    fin.create("invoice_line", json!({"invoice": inv["id"], "description": "x", "quantity": "1", "unit_price": "100", "tax_rate": "13"}));
    let refused = act(&fin, "invoice", &inv["id"], "post", json!({}));
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("2026-11"), "{}", refused.text);
    assert_eq!(
        fin.post(
            "/api/v1/plugins/finance/reopen",
            &json!({"month": "2026-11"})
        )
        .status,
        403
    );
    assert_eq!(
        admin
            .post(
                "/api/v1/plugins/finance/reopen",
                &json!({"month": "2026-11"})
            )
            .status,
        200
    );
    assert_eq!(
        act(&fin, "invoice", &inv["id"], "post", json!({})).status,
        200
    );
    let bad_month = fin.post(
        "/api/v1/plugins/finance/close",
        &json!({"month": "2026-13"}),
    );
    assert_eq!(bad_month.status, 422, "{}", bad_month.text);

    // Reps see no books.
    let (amy, _) = s.user("amy", "sales", "east");
    assert_eq!(amy.get(&rec("invoice")).status, 403);
    assert_eq!(
        json_get(&amy, "/api/v1/plugins/finance/trial-balance").status,
        403
    );
    assert_eq!(
        amy.post(
            "/api/v1/plugins/finance/close",
            &json!({"month": "2026-10"})
        )
        .status,
        403
    );
    // Nobody writes allocations, periods or posted figures by hand.
    assert_eq!(
        fin.post(
            &rec("allocation"),
            &json!({"payment": 1, "invoice": inv["id"], "amount": "1"})
        )
        .status,
        403
    );
    let forged = fin.post(
        &rec("invoice"),
        &json!({"customer": c["id"], "status": "paid"}),
    );
    assert_eq!(forged.status, 422, "{}", forged.text);
}

#[test]
fn an_invoice_covers_what_inventory_delivered_once() {
    let (_s, admin, fin) = setup();
    assert_eq!(install(&admin, "qingguan-inventory", true).status, 201);
    let w = admin.create("warehouse", json!({"code": "W1", "name": "Main"}));
    let sup = admin.create("supplier", json!({"name": "Acme"}));
    let p = admin.create("product", json!({"sku": "P-1", "name": "Widget", "unit": "pcs", "purchase_price": "10", "sale_price": "20"}));
    let inv_act = |entity: &str, id: &Value, action: &str, input: Value| {
        admin.post(
            &rec(&format!("{entity}/{id}/actions/inventory/{action}")),
            &input,
        )
    };
    let po = admin.create(
        "purchase_order",
        json!({"supplier": sup["id"], "warehouse": w["id"]}),
    );
    admin.create(
        "purchase_line",
        json!({"order": po["id"], "product": p["id"], "quantity": "10", "price": "10"}),
    );
    inv_act("purchase_order", &po["id"], "approve", json!({}));
    inv_act("purchase_order", &po["id"], "receive", json!({}));
    let c = admin.create("customer", customer("Buyer"));
    let so = admin.create(
        "sales_order",
        json!({"customer": c["id"], "warehouse": w["id"]}),
    );
    let sl = admin.create("sales_line", json!({"order": so["id"], "product": p["id"], "quantity": "4", "price": "20", "discount": "10"}));
    inv_act("sales_order", &so["id"], "confirm", json!({}));
    inv_act(
        "sales_order",
        &so["id"],
        "deliver",
        json!({"lines": {sl["id"].to_string(): 3}}),
    );
    // 3 delivered at 18 net: 54.00 net, 7.02 VAT (13%), 61.02.
    let made = fin.post(
        "/api/v1/plugins/finance/invoice-deliveries",
        &json!({"customer": c["id"]}),
    );
    assert_eq!(made.status, 200, "{}", made.text);
    assert_eq!(made.body["total"], "61.02", "{}", made.text);
    let again = fin.post(
        "/api/v1/plugins/finance/invoice-deliveries",
        &json!({"customer": c["id"]}),
    );
    assert_eq!(
        again.status, 422,
        "everything delivered is invoiced: {}",
        again.text
    );
    inv_act("sales_order", &so["id"], "deliver", json!({}));
    let rest = fin.post(
        "/api/v1/plugins/finance/invoice-deliveries",
        &json!({"customer": c["id"]}),
    );
    assert_eq!(
        rest.body["total"], "20.34",
        "the fourth unit: {}",
        rest.text
    );

    // A line billing a delivery keeps the delivery's quantity; the invoice keeps its customer.
    let inv_id = &made.body["invoice"];
    let line = fin
        .get(&rec(&format!("invoice_line?invoice={inv_id}")))
        .body["items"][0]
        .clone();
    let edited = fin.patch_v(
        &rec(&format!("invoice_line/{}", line["id"])),
        line["version"].as_i64().unwrap(),
        &json!({"quantity": "1"}),
    );
    assert_eq!(edited.status, 422, "{}", edited.text);
    let other = admin.create("customer", customer("Other"));
    let draft = fin.get(&rec(&format!("invoice/{inv_id}"))).body;
    let moved = fin.patch_v(
        &rec(&format!("invoice/{inv_id}")),
        draft["version"].as_i64().unwrap(),
        &json!({"customer": other["id"]}),
    );
    assert_eq!(moved.status, 422, "{}", moved.text);

    // The stock's value is in the books too: 10 received at 10 (库存商品 / 应付账款), 4 sold at a
    // cost of 10 (主营业务成本 / 库存商品).
    let tb = all_time_tb(&fin);
    let row = |code: &str| tb_row(&tb, code);
    assert_eq!(
        (row("1405")["debit"].clone(), row("1405")["credit"].clone()),
        (json!("100.00"), json!("40.00")),
        "{tb}"
    );
    assert_eq!(
        row("220201")["credit"],
        "100.00",
        "received, not yet billed"
    );
    assert_eq!(row("6401")["debit"], "40.00");
    assert_eq!(tb["total_debit"], tb["total_credit"]);
}

/// Eight payments of 100 allocated at once to an invoice of 360.18: three fit, five are
/// refused, and the invoice's paid amount equals its allocations.
#[test]
fn concurrent_allocations_never_over_pay_an_invoice() {
    let (_s, admin, fin) = setup();
    let c = admin.create("customer", customer("Buyer"));
    let inv = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-10"}),
    );
    fin.create("invoice_line", json!({"invoice": inv["id"], "description": "Widget", "quantity": "3", "unit_price": "99.99", "tax_rate": "13"}));
    fin.create("invoice_line", json!({"invoice": inv["id"], "description": "Fee", "quantity": "2", "unit_price": "10.005", "tax_rate": "6"}));
    assert_eq!(
        act(&fin, "invoice", &inv["id"], "post", json!({})).status,
        200
    );
    let payments: Vec<Value> = (0..8)
        .map(|_| {
            let p = fin.create("payment", json!({"customer": c["id"], "received_on": "2026-11-20", "amount": "100", "method": "bank"}));
            assert_eq!(act(&fin, "payment", &p["id"], "post", json!({})).status, 200);
            p
        })
        .collect();
    let threads: Vec<_> = payments
        .into_iter()
        .map(|p| {
            let (f, id) = (fin.clone(), inv["id"].to_string());
            std::thread::spawn(move || {
                act(
                    &f,
                    "payment",
                    &p["id"],
                    "allocate",
                    json!({"invoices": {id: "100"}}),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        5,
        "{statuses:?}"
    );
    let i = fin.get(&rec(&format!("invoice/{}", inv["id"]))).body;
    assert_eq!(
        (i["paid"].clone(), i["balance"].clone()),
        (json!("300.00"), json!("60.18")),
        "{i}"
    );
    let allocated: f64 = fin.get(&rec("allocation?limit=50")).body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["amount"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(allocated, 300.0);
}

/// Closing October closes September with it; months reopen newest first; a month not begun
/// cannot be closed; receivables stay with the documents; entries of documents are corrected
/// through the documents, and a reversal is never dated before its entry.
#[test]
fn closed_months_control_accounts_and_reversals_hold() {
    let (_s, admin, fin) = setup();
    let (cash, exp, ar) = (
        account(&fin, "1001"),
        account(&fin, "6602"),
        account(&fin, "1122"),
    );
    let entry = |on: &str, debit: &Value, credit: &Value| {
        let je = fin.create("journal_entry", json!({"posted_on": on, "memo": "m"}));
        fin.create(
            "journal_line",
            json!({"entry": je["id"], "account": debit, "debit": "10"}),
        );
        fin.create(
            "journal_line",
            json!({"entry": je["id"], "account": credit, "credit": "10"}),
        );
        je
    };
    let close = |c: &Client, month: &str| {
        c.post("/api/v1/plugins/finance/close", &json!({ "month": month }))
    };
    let reopen =
        |month: &str| admin.post("/api/v1/plugins/finance/reopen", &json!({ "month": month }));
    let sept = entry("2026-09-10", &exp, &cash);
    assert_eq!(close(&fin, "2026-10").status, 200);
    let r = act(&fin, "journal_entry", &sept["id"], "post", json!({}));
    assert_eq!(r.status, 422, "September closed with October: {}", r.text);
    assert!(r.text.contains("2026-09"), "{}", r.text);
    assert_eq!(close(&fin, "2026-09").status, 409);
    let future = close(&fin, "2999-01");
    assert_eq!(future.status, 422, "{}", future.text);
    assert_eq!(close(&fin, "2026-11").status, 200);
    let out_of_order = reopen("2026-10");
    assert_eq!(out_of_order.status, 422, "{}", out_of_order.text);
    assert!(
        out_of_order.text.contains("2026-11"),
        "{}",
        out_of_order.text
    );
    assert_eq!(reopen("2026-11").status, 200);
    assert_eq!(reopen("2026-10").status, 200);
    assert_eq!(reopen("2026-10").status, 422, "nothing closed any more");
    let r = act(&fin, "journal_entry", &sept["id"], "post", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);

    // Receivables (1122) are kept by invoices and payments, never by a manual entry.
    let ctl = entry("2026-11-20", &ar, &cash);
    let r = act(&fin, "journal_entry", &ctl["id"], "post", json!({}));
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("1122"), "{}", r.text);

    // A reversal is dated on or after its entry, and the date is a date.
    let e = entry("2026-11-20", &exp, &cash);
    assert_eq!(
        act(&fin, "journal_entry", &e["id"], "post", json!({})).status,
        200
    );
    for bad in [json!({"date": "2026-11-19"}), json!({"date": 20261121})] {
        let r = act(&fin, "journal_entry", &e["id"], "reverse", bad);
        assert_eq!(r.status, 422, "{}", r.text);
    }

    // An invoice's entry is corrected through documents, not by reversing it.
    let c = admin.create("customer", customer("Buyer"));
    let inv = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-25"}),
    );
    fin.create("invoice_line", json!({"invoice": inv["id"], "description": "x", "quantity": "1", "unit_price": "100", "tax_rate": "13"}));
    assert_eq!(
        act(&fin, "invoice", &inv["id"], "post", json!({})).status,
        200
    );
    let posted = fin.get(&rec(&format!("invoice/{}", inv["id"]))).body;
    assert_eq!(posted["total"], "113.00", "{posted}");
    let r = act(
        &fin,
        "journal_entry",
        &posted["entry"],
        "reverse",
        json!({}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
}

/// A supplier bill for goods received (against 暂估应付) and a service, worked out by hand:
/// goods 10 × 10.00 at 13% = 100.00 + 13.00; a repair 1 × 250.00 at 6% = 250.00 + 15.00; total
/// 378.00. A payment made of 300 clears part of it; the rest ages by the due date; more than the
/// balance, another supplier's bill, or a bill booked to receivables is refused.
#[test]
fn supplier_bills_and_payments_made_keep_payables() {
    let (s, admin, fin) = setup();
    assert_eq!(install(&admin, "qingguan-inventory", true).status, 201);
    let w = admin.create("warehouse", json!({"code": "W1", "name": "Main"}));
    let sup = admin.create("supplier", json!({"name": "Acme"}));
    let p = admin.create("product", json!({"sku": "P-1", "name": "Widget", "unit": "pcs", "purchase_price": "10", "sale_price": "20"}));
    let po = admin.create(
        "purchase_order",
        json!({"supplier": sup["id"], "warehouse": w["id"]}),
    );
    admin.create(
        "purchase_line",
        json!({"order": po["id"], "product": p["id"], "quantity": "10", "price": "10"}),
    );
    for a in ["approve", "receive"] {
        let r = admin.post(
            &rec(&format!(
                "purchase_order/{}/actions/inventory/{a}",
                po["id"]
            )),
            &json!({}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let bill = fin.create(
        "bill",
        json!({"supplier": "Acme", "issued_on": "2026-11-10", "due_on": "2026-11-20"}),
    );
    assert!(
        bill["number"].as_str().unwrap().starts_with("BILL-"),
        "{bill}"
    );
    let line = |account: &Value, q: &str, price: &str, rate: &str| {
        fin.post(
            &rec("bill_line"),
            &json!({"bill": bill["id"], "description": "x", "account": account, "quantity": q, "unit_price": price, "tax_rate": rate}),
        )
    };
    let refused = line(&account(&fin, "1122"), "1", "5", "13");
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(line(&account(&fin, "220201"), "10", "10", "13").status, 201);
    assert_eq!(line(&account(&fin, "6602"), "1", "250", "6").status, 201);
    let r = act(&fin, "bill", &bill["id"], "post", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let posted = fin.get(&rec(&format!("bill/{}", bill["id"]))).body;
    assert_eq!(
        (
            &posted["net"],
            &posted["tax"],
            &posted["total"],
            &posted["status"]
        ),
        (
            &json!("350.00"),
            &json!("28.00"),
            &json!("378.00"),
            &json!(open_status("2026-11-20", false))
        ),
        "{posted}"
    );

    let pay = fin.create(
        "payment_made",
        json!({"supplier": "Acme", "paid_on": "2026-11-25", "amount": "300", "method": "bank"}),
    );
    assert!(pay["number"].as_str().unwrap().starts_with("PM-"), "{pay}");
    assert_eq!(
        act(&fin, "payment_made", &pay["id"], "post", json!({})).status,
        200
    );
    let key = bill["id"].to_string();
    let too_much = act(
        &fin,
        "payment_made",
        &pay["id"],
        "allocate",
        json!({"bills": {&key: "378.00"}}),
    );
    assert_eq!(
        too_much.status, 422,
        "more than the payment: {}",
        too_much.text
    );
    let other = fin.create(
        "payment_made",
        json!({"supplier": "Other Co", "paid_on": "2026-11-25", "amount": "10", "method": "cash"}),
    );
    act(&fin, "payment_made", &other["id"], "post", json!({}));
    let wrong = act(
        &fin,
        "payment_made",
        &other["id"],
        "allocate",
        json!({"bills": {&key: "10"}}),
    );
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    let ok = act(
        &fin,
        "payment_made",
        &pay["id"],
        "allocate",
        json!({"bills": {&key: "300"}}),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    let after = fin.get(&rec(&format!("bill/{}", bill["id"]))).body;
    assert_eq!(
        (&after["paid"], &after["balance"], &after["status"]),
        (
            &json!("300.00"),
            &json!("78.00"),
            &json!(open_status("2026-11-20", true))
        ),
        "{after}"
    );

    // 78.00 left, due 2026-11-20: 41 days late on 2026-12-31.
    let aging = json_get(&fin, "/api/v1/plugins/finance/payables-aging?at=2026-12-31").body;
    assert_eq!(aging["rows"][0]["supplier"], "Acme", "{aging}");
    assert_eq!(
        aging["rows"][0]["buckets"],
        json!(["0", "0", "78.00", "0", "0"]),
        "{aging}"
    );

    // The books: goods received cleared (100 in, 100 billed), payables 378 − 300 − 0 = 78 by
    // the bill and the payment (the other supplier's 10 is paid in advance: a debit).
    let tb = all_time_tb(&fin);
    let row = |code: &str| tb_row(&tb, code);
    assert_eq!(
        (
            row("220201")["debit"].clone(),
            row("220201")["credit"].clone()
        ),
        (json!("100.00"), json!("100.00")),
        "{tb}"
    );
    assert_eq!(
        (row("2202")["debit"].clone(), row("2202")["credit"].clone()),
        (json!("310.00"), json!("378.00")),
        "{tb}"
    );
    assert_eq!(row("222101")["debit"], "28.00");
    assert_eq!(row("6602")["debit"], "250.00");
    assert_eq!(tb["total_debit"], tb["total_credit"]);
    // Profit and loss agrees: no revenue, the repair as the only expense.
    let pl = json_get(
        &fin,
        "/api/v1/plugins/finance/profit-and-loss?from=2000-01-01&to=2999-12-31",
    )
    .body;
    assert_eq!(
        (&pl["total_revenue"], &pl["total_expenses"], &pl["profit"]),
        (&json!("0"), &json!("250.00"), &tb["profit"]),
        "{pl}"
    );
    assert_eq!(pl["expenses"][0]["code"], "6602", "{pl}");

    // An account turned into revenue after a line was booked to it: the bill is refused at
    // posting, not booked to revenue.
    let acc = fin.create(
        "account",
        json!({"code": "1699", "name": "Tools", "kind": "asset"}),
    );
    let bill2 = fin.create(
        "bill",
        json!({"supplier": "Acme", "issued_on": "2026-11-10"}),
    );
    let l = fin.post(
        &rec("bill_line"),
        &json!({"bill": bill2["id"], "description": "x", "account": acc["id"], "quantity": "1", "unit_price": "100", "tax_rate": "13"}),
    );
    assert_eq!(l.status, 201, "{}", l.text);
    let acc = fin.get(&rec(&format!("account/{}", acc["id"]))).body;
    fin.patch_v(
        &rec(&format!("account/{}", acc["id"])),
        acc["version"].as_i64().unwrap(),
        &json!({"kind": "revenue"}),
    );
    let r = act(&fin, "bill", &bill2["id"], "post", json!({}));
    assert_eq!(r.status, 422, "{}", r.text);

    // Reps see no bills.
    let (amy, _) = s.user("amy", "sales", "east");
    assert_eq!(amy.get(&rec("bill")).status, 403);
    assert_eq!(
        json_get(&amy, "/api/v1/plugins/finance/payables-aging").status,
        403
    );
}

/// A credit note (红字发票) on an invoice of 113.00: 1 × 50.00 at 13% = 56.50 credited, the
/// invoice's balance 56.50; a second one beyond that balance, one on another customer's invoice,
/// or turning an invoice into a credit note is refused; revenue and the statement follow.
#[test]
fn credit_notes_reduce_what_an_invoice_asks() {
    let (_s, admin, fin) = setup();
    let c = admin.create("customer", customer("Buyer"));
    let other = admin.create("customer", customer("Other"));
    let line = |doc: &Value, price: &str| {
        let r = fin.post(
            &rec("invoice_line"),
            &json!({"invoice": doc["id"], "description": "x", "quantity": "1", "unit_price": price, "tax_rate": "13"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    };
    let inv = fin.create(
        "invoice",
        json!({"customer": c["id"], "issued_on": "2026-11-02"}),
    );
    line(&inv, "100");
    assert_eq!(
        act(&fin, "invoice", &inv["id"], "post", json!({})).status,
        200
    );
    let wrong_customer = fin.post(
        &rec("invoice"),
        &json!({"customer": other["id"], "kind": "credit_note", "credits": inv["id"]}),
    );
    assert_eq!(wrong_customer.status, 422, "{}", wrong_customer.text);
    let cn = fin.create(
        "invoice",
        json!({"customer": c["id"], "kind": "credit_note", "credits": inv["id"], "issued_on": "2026-11-05"}),
    );
    assert!(cn["number"].as_str().unwrap().starts_with("CN-"), "{cn}");
    line(&cn, "50");
    let r = act(&fin, "invoice", &cn["id"], "post", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let after = fin.get(&rec(&format!("invoice/{}", inv["id"]))).body;
    assert_eq!(
        (&after["balance"], &after["status"]),
        (&json!("56.50"), &json!(open_status("2026-12-02", true))),
        "{after}"
    );
    let posted_cn = fin.get(&rec(&format!("invoice/{}", cn["id"]))).body;
    assert_eq!(posted_cn["status"], "applied", "{posted_cn}");
    let kind_change = fin.patch_v(
        &rec(&format!("invoice/{}", posted_cn["id"])),
        posted_cn["version"].as_i64().unwrap(),
        &json!({"kind": "invoice"}),
    );
    assert_eq!(kind_change.status, 422, "{}", kind_change.text);

    // A credit note keeps its customer: moved to another, it would credit someone else's
    // invoice.
    let moved = fin.create(
        "invoice",
        json!({"customer": c["id"], "kind": "credit_note", "credits": inv["id"]}),
    );
    let r = fin.patch_v(
        &rec(&format!("invoice/{}", moved["id"])),
        moved["version"].as_i64().unwrap(),
        &json!({"customer": other["id"]}),
    );
    assert_eq!(r.status, 422, "{}", r.text);

    // 60 net + 7.80 = 67.80 is more than the 56.50 left: refused, nothing posted.
    let big = fin.create(
        "invoice",
        json!({"customer": c["id"], "kind": "credit_note", "credits": inv["id"], "issued_on": "2026-11-06"}),
    );
    line(&big, "60");
    let refused = act(&fin, "invoice", &big["id"], "post", json!({}));
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("56.50"), "{}", refused.text);
    assert_eq!(
        fin.get(&rec(&format!("invoice/{}", big["id"]))).body["status"],
        "draft"
    );

    // Revenue 100 − 50; the statement: +113.00, −56.50.
    let pl = json_get(
        &fin,
        "/api/v1/plugins/finance/profit-and-loss?from=2026-11-01&to=2026-11-30",
    )
    .body;
    assert_eq!(pl["total_revenue"], "50.00", "{pl}");
    let st = json_get(
        &fin,
        &format!("/api/v1/plugins/finance/statement?customer={}", c["id"]),
    )
    .body;
    assert_eq!(st["balance"], "56.50", "{st}");
    assert_eq!(st["lines"][1]["amount"], "-56.50", "{st}");
}

/// Stock received into a closed month is still booked — on the first open day, saying so —
/// so the books never drift from the stock ledger.
#[test]
fn stock_moved_into_a_closed_month_is_booked_in_the_first_open_one() {
    let (_s, admin, fin) = setup();
    assert_eq!(install(&admin, "qingguan-inventory", true).status, 201);
    assert_eq!(
        fin.post(
            "/api/v1/plugins/finance/close",
            &json!({"month": "2026-10"})
        )
        .status,
        200
    );
    let w = admin.create("warehouse", json!({"code": "W1", "name": "Main"}));
    let sup = admin.create("supplier", json!({"name": "Acme"}));
    let p = admin.create(
        "product",
        json!({"sku": "P-1", "name": "Widget", "unit": "pcs", "purchase_price": "10"}),
    );
    let po = admin.create(
        "purchase_order",
        json!({"supplier": sup["id"], "warehouse": w["id"]}),
    );
    admin.create(
        "purchase_line",
        json!({"order": po["id"], "product": p["id"], "quantity": "10", "price": "10"}),
    );
    for (a, body) in [
        ("approve", json!({})),
        ("receive", json!({"date": "2026-10-15"})),
    ] {
        let r = admin.post(
            &rec(&format!(
                "purchase_order/{}/actions/inventory/{a}",
                po["id"]
            )),
            &body,
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let entries = fin.get(&rec("journal_entry?source=inventory")).body;
    let e = &entries["items"][0];
    assert_eq!(e["posted_on"], "2026-11-01", "{entries}");
    assert!(
        e["memo"].as_str().unwrap().contains("2026-10-15"),
        "{entries}"
    );
    let tb = all_time_tb(&fin);
    assert_eq!(tb_row(&tb, "1405")["debit"], "100.00", "{tb}");
}

/// Report routes refuse what they cannot read, beside the parameter, and change nothing.
#[test]
fn report_routes_refuse_bad_input_beside_the_parameter() {
    let (_s, _admin, fin) = setup();
    for (route, field) in [
        ("trial-balance?from=2026-02-31", "from"),
        ("profit-and-loss?to=2026-13-01", "to"),
        ("aging?at=yesterday", "at"),
        ("payables-aging?at=2026-02-30", "at"),
        ("balance-sheet?at=31/12/2026", "at"),
        ("cash?from=2026-1-1", "from"),
        ("statement", "customer"),
    ] {
        let r = json_get(&fin, &format!("/api/v1/plugins/finance/{route}"));
        assert_eq!(r.status, 422, "{route}: {}", r.text);
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{route}: {}",
            r.text
        );
    }
    let none = fin.post("/api/v1/plugins/finance/invoice-deliveries", &json!({}));
    assert_eq!(none.status, 422, "{}", none.text);
    assert!(
        none.body["error"]["fields"]["customer"].is_string(),
        "{}",
        none.text
    );
    assert!(
        fin.get(&rec("journal_entry")).body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing posted"
    );
}
