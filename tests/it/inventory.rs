//! The inventory plugin (进销存) end to end over HTTP: purchase → receipts, sales → reservation
//! → deliveries, transfers, counts, reversals and returns, checked against values worked out
//! by hand at moving-average cost; concurrent deliveries of the last units; atomic postings;
//! the ledger's immutability; permissions per role; refusals in the user's language.

use qingguan_tests::{customer, install, Client, TestServer};
use serde_json::{json, Value};

pub(crate) fn rec(path: &str) -> String {
    format!("/api/v1/records/{path}")
}

/// Installs inventory and creates two warehouses, a supplier and a product.
pub(crate) fn setup() -> (TestServer, Client, Value) {
    let s = TestServer::start();
    let admin = s.admin();
    let r = install(&admin, "qingguan-inventory", true);
    assert_eq!(r.status, 201, "{}", r.text);
    let w1 = admin.create("warehouse", json!({"code": "W1", "name": "Main"}));
    let w2 = admin.create("warehouse", json!({"code": "W2", "name": "Shop"}));
    let sup = admin.create("supplier", json!({"name": "Acme Supply"}));
    let p = admin.create(
        "product",
        json!({"sku": "P-1", "name": "Widget", "unit": "pcs", "purchase_price": "10", "sale_price": "20", "reorder_point": "5"}),
    );
    let ids = json!({"w1": w1["id"], "w2": w2["id"], "sup": sup["id"], "p": p["id"]});
    (s, admin, ids)
}

pub(crate) fn act(
    c: &Client,
    entity: &str,
    id: &Value,
    action: &str,
    input: Value,
) -> qingguan_tests::Resp {
    c.post(
        &rec(&format!("{entity}/{id}/actions/inventory/{action}")),
        &input,
    )
}

/// A purchase order with one line, approved.
pub(crate) fn purchase(admin: &Client, ids: &Value, qty: &str, price: &str) -> (Value, Value) {
    let po = admin.create(
        "purchase_order",
        json!({"supplier": ids["sup"], "warehouse": ids["w1"]}),
    );
    let line = admin.create(
        "purchase_line",
        json!({"order": po["id"], "product": ids["p"], "quantity": qty, "price": price}),
    );
    let ok = act(admin, "purchase_order", &po["id"], "approve", json!({}));
    assert_eq!(ok.status, 200, "{}", ok.text);
    (po, line)
}

pub(crate) fn level(c: &Client, product: &Value, warehouse: &Value) -> Value {
    let r = c.send(
        reqwest::Method::GET,
        "/api/v1/plugins/inventory/stock",
        |r| r.header("accept", "application/json"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["product"] == *product && row["warehouse"] == *warehouse)
        .cloned()
        .unwrap_or(Value::Null)
}

fn moves(c: &Client) -> usize {
    c.get(&rec("stock_move?limit=200")).body["items"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn movements_value_stock_at_moving_average_cost_as_worked_out_by_hand() {
    let (s, admin, ids) = setup();
    let (po1, l1) = purchase(&admin, &ids, "10", "10");
    assert!(po1["number"].as_str().unwrap().starts_with("PO-"), "{po1}");
    // Partial receipt, then one past what is outstanding: refused, nothing written.
    let part = act(
        &admin,
        "purchase_order",
        &po1["id"],
        "receive",
        json!({"lines": {l1["id"].to_string(): 4}, "date": "2026-11-01"}),
    );
    assert_eq!(part.status, 200, "{}", part.text);
    assert_eq!(part.body["status"], "partial");
    let over = act(
        &admin,
        "purchase_order",
        &po1["id"],
        "receive",
        json!({"lines": {l1["id"].to_string(): 7}, "date": "2026-11-02"}),
    );
    assert_eq!(over.status, 422, "{}", over.text);
    assert!(over.text.contains("only 6 outstanding"), "{}", over.text);
    assert_eq!(moves(&admin), 1);
    let rest = act(
        &admin,
        "purchase_order",
        &po1["id"],
        "receive",
        json!({"date": "2026-11-02"}),
    );
    assert_eq!(rest.body["status"], "received", "{}", rest.text);
    // A second order at another price: 20 units, 40 + 60 + 130 = 230, average 11.5.
    let (po2, _) = purchase(&admin, &ids, "10", "13");
    act(
        &admin,
        "purchase_order",
        &po2["id"],
        "receive",
        json!({"date": "2026-11-03"}),
    );
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (
            l["on_hand"].clone(),
            l["value"].clone(),
            l["unit_cost"].clone()
        ),
        (json!("20"), json!("230.00"), json!("11.5")),
        "{l}"
    );

    // A sales order of 8 at 20 less 10%: 144.00; confirming reserves 8.
    let c = admin.create("customer", customer("Buyer"));
    let so = admin.create(
        "sales_order",
        json!({"customer": c["id"], "warehouse": ids["w1"]}),
    );
    let sl = admin.create(
        "sales_line",
        json!({"order": so["id"], "product": ids["p"], "quantity": "8", "price": "20", "discount": "10"}),
    );
    assert_eq!(
        admin.get(&rec(&format!("sales_order/{}", so["id"]))).body["total"],
        "144.00"
    );
    let confirmed = act(&admin, "sales_order", &so["id"], "confirm", json!({}));
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (l["reserved"].clone(), l["available"].clone()),
        (json!("8"), json!("12")),
        "{l}"
    );
    // Deliveries at the average: 3 × 11.5 = 34.50, then 5 × 11.5 = 57.50.
    let d1 = act(
        &admin,
        "sales_order",
        &so["id"],
        "deliver",
        json!({"lines": {sl["id"].to_string(): 3}, "date": "2026-11-04"}),
    );
    assert_eq!(d1.body["status"], "partial", "{}", d1.text);
    act(
        &admin,
        "sales_order",
        &so["id"],
        "deliver",
        json!({"date": "2026-11-04"}),
    );
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (
            l["on_hand"].clone(),
            l["value"].clone(),
            l["reserved"].clone()
        ),
        (json!("12"), json!("138.00"), json!("0")),
        "{l}"
    );

    // Transfer 2 to the shop at exactly the value that left: 23.00.
    let tr = admin.post("/api/v1/plugins/inventory/transfer", &json!({"product": ids["p"], "from": ids["w1"], "to": ids["w2"], "quantity": "2", "date": "2026-11-05"}));
    assert_eq!(tr.status, 200, "{}", tr.text);
    assert_eq!(level(&admin, &ids["p"], &ids["w2"])["value"], "23.00");
    // A count finds 9 instead of 10: −1 at 11.5.
    let ct = admin.post("/api/v1/plugins/inventory/count", &json!({"product": ids["p"], "warehouse": ids["w1"], "counted": "9", "reason": "damaged", "date": "2026-11-05"}));
    assert_eq!(ct.body["difference"], "-1", "{}", ct.text);
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (l["on_hand"].clone(), l["value"].clone()),
        (json!("9"), json!("103.50")),
        "{l}"
    );
    // Reversing the count puts it back exactly; reversing twice is refused.
    let adj = ct.body["movements"][0].clone();
    let rev = act(
        &admin,
        "stock_move",
        &adj,
        "reverse",
        json!({"date": "2026-11-05"}),
    );
    assert_eq!(rev.status, 200, "{}", rev.text);
    assert_eq!(
        act(&admin, "stock_move", &adj, "reverse", json!({})).status,
        409
    );
    assert_eq!(level(&admin, &ids["p"], &ids["w1"])["value"], "115.00");
    // The customer returns 2 at the cost they left with (11.5): 138.00 again.
    let ret = admin.post(
        "/api/v1/plugins/inventory/return",
        &json!({"kind": "sales", "line": sl["id"], "quantity": "2", "date": "2026-11-06"}),
    );
    assert_eq!(ret.status, 200, "{}", ret.text);
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (l["on_hand"].clone(), l["value"].clone()),
        (json!("12"), json!("138.00")),
        "{l}"
    );
    let too_many = admin.post(
        "/api/v1/plugins/inventory/return",
        &json!({"kind": "sales", "line": sl["id"], "quantity": "7"}),
    );
    assert_eq!(
        too_many.status, 422,
        "only 6 more can come back: {}",
        too_many.text
    );

    // The movements of the product with a running balance; the total value.
    let mv = admin.send(
        reqwest::Method::GET,
        &format!(
            "/api/v1/plugins/inventory/movements?product={}&warehouse={}",
            ids["p"], ids["w1"]
        ),
        |r| r.header("accept", "application/json"),
    );
    let rows = mv.body["rows"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["balance"], "12");
    assert_eq!(rows.last().unwrap()["balance_value"], "138.00");
    let all = admin.send(
        reqwest::Method::GET,
        "/api/v1/plugins/inventory/stock",
        |r| r.header("accept", "application/json"),
    );
    assert_eq!(all.body["total_value"], "161.00", "{}", all.text);
    // The same from the query other plugins ask, as of a date before the transfer.
    let at = admin.post(
        "/api/v1/plugins/inventory/queries/stock",
        &json!({"product": ids["p"], "warehouse": ids["w1"], "at": "2026-11-04"}),
    );
    assert_eq!(at.body[0]["quantity"], "12", "{}", at.text);
    assert_eq!(at.body[0]["value"], "138.00");
    let sales = admin.post(
        "/api/v1/plugins/inventory/queries/sales_by_product",
        &json!({"from": "2026-11-01", "to": "2026-11-30"}),
    );
    assert_eq!(
        sales.body[0]["quantity"], "6",
        "8 delivered, 2 returned: {}",
        sales.text
    );
    assert_eq!(sales.body[0]["revenue"], "108.00");

    // Sales by product for the period: 8 delivered less 2 returned at 18 net = 108.00.
    let report = admin.send(
        reqwest::Method::GET,
        "/api/v1/plugins/inventory/sales?from=2026-11-01&to=2026-11-30",
        |r| r.header("accept", "application/json"),
    );
    assert_eq!(
        report.body["products"][0]["quantity"], "6",
        "{}",
        report.text
    );
    assert_eq!(report.body["products"][0]["revenue"], "108.00");
    assert_eq!(report.body["customers"][0]["revenue"], "108.00");
    let page = admin.get("/api/v1/plugins/inventory/sales?from=2026-11-01&to=2026-11-30");
    assert!(
        page.text.contains("<svg") && page.text.contains("Buyer"),
        "{}",
        page.text
    );
    // A bad date is refused beside the parameter that holds it.
    for (query, field) in [
        ("sales?from=2026-02-31", "from"),
        ("sales?to=2026-13-01", "to"),
        ("stock?at=2026-02-30", "at"),
    ] {
        let bad = admin.get(&format!("/api/v1/plugins/inventory/{query}"));
        assert_eq!(bad.status, 422, "{query}: {}", bad.text);
        let fields = bad.body["error"]["fields"].as_object().unwrap();
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            [field],
            "{query}: {}",
            bad.text
        );
    }
    // Low stock: the shop holds 2 of a product whose reorder point is 5.
    let low = admin.send(
        reqwest::Method::GET,
        "/api/v1/plugins/inventory/low-stock",
        |r| r.header("accept", "application/json"),
    );
    let lows = low.body.as_array().unwrap();
    assert_eq!(lows.len(), 1, "{}", low.text);
    assert_eq!(lows[0]["warehouse"], ids["w2"]);
    let job = admin.post(
        "/api/v1/plugins/inventory/jobs/low_stock?wait=true",
        &json!({}),
    );
    assert_eq!(
        (job.status, job.body["done"].clone()),
        (200, json!(1)),
        "{}",
        job.text
    );
    // What finance invoices from: the delivered line, net of its discount.
    let lines = admin.post(
        "/api/v1/plugins/inventory/queries/delivered_lines",
        &json!({}),
    );
    assert_eq!(lines.body[0]["delivered"], "8", "{}", lines.text);
    assert_eq!(lines.body[0]["returned"], "2");
    assert_eq!(lines.body[0]["net_unit_price"], "18");
    // The movements page speaks the reader's words.
    let mv_page = admin.get(&format!(
        "/api/v1/plugins/inventory/movements?product={}",
        ids["p"]
    ));
    assert!(
        mv_page.text.contains("Customer return") && mv_page.text.contains("138.00"),
        "{}",
        mv_page.text
    );
    drop(s);
}

#[test]
fn a_posting_is_all_or_nothing_and_the_ledger_cannot_be_edited() {
    let (_s, admin, ids) = setup();
    let (po, _) = purchase(&admin, &ids, "5", "10");
    act(
        &admin,
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-01"}),
    );
    let p2 = admin.create(
        "product",
        json!({"sku": "P-2", "name": "Gadget", "unit": "pcs"}),
    );
    let c = admin.create("customer", customer("Buyer"));
    // An order of 3 P-1 and 2 P-2 in a warehouse that allows negative stock while confirming,
    // then delivered from one that does not: the second line fails, so neither is delivered.
    let so = admin.create(
        "sales_order",
        json!({"customer": c["id"], "warehouse": ids["w1"]}),
    );
    let a = admin.create(
        "sales_line",
        json!({"order": so["id"], "product": ids["p"], "quantity": "3", "price": "20"}),
    );
    admin.create(
        "sales_line",
        json!({"order": so["id"], "product": p2["id"], "quantity": "2", "price": "20"}),
    );
    let refused = act(&admin, "sales_order", &so["id"], "confirm", json!({}));
    assert_eq!(
        refused.status, 422,
        "P-2 is not available: {}",
        refused.text
    );
    let w1 = admin.get(&rec(&format!("warehouse/{}", ids["w1"]))).body;
    admin.patch_v(
        &rec(&format!("warehouse/{}", ids["w1"])),
        w1["version"].as_i64().unwrap(),
        &json!({"allow_negative": true}),
    );
    assert_eq!(
        act(&admin, "sales_order", &so["id"], "confirm", json!({})).status,
        200
    );
    let w1 = admin.get(&rec(&format!("warehouse/{}", ids["w1"]))).body;
    admin.patch_v(
        &rec(&format!("warehouse/{}", ids["w1"])),
        w1["version"].as_i64().unwrap(),
        &json!({"allow_negative": false}),
    );
    let before = moves(&admin);
    let failed = act(&admin, "sales_order", &so["id"], "deliver", json!({}));
    assert_eq!(failed.status, 422, "{}", failed.text);
    assert_eq!(
        moves(&admin),
        before,
        "the first line's delivery was rolled back too"
    );
    let line = admin.get(&rec(&format!("sales_line/{}", a["id"]))).body;
    assert_eq!(line["delivered"], "0.000");

    // Nobody edits, deletes or hand-writes a ledger line; posted orders keep their lines.
    let m = admin.get(&rec("stock_move?limit=1")).body["items"][0].clone();
    let path = rec(&format!("stock_move/{}", m["id"]));
    let edit = admin.patch_v(&path, 1, &json!({"quantity": "500"}));
    assert_eq!(edit.status, 422, "{}", edit.text);
    assert!(
        edit.text
            .contains("cannot be changed or deleted; reverse it"),
        "{}",
        edit.text
    );
    assert_eq!(admin.delete_v(&path, 1).status, 422);
    let forged = admin.post(&rec("stock_move"), &json!({"product": ids["p"], "warehouse": ids["w1"], "kind": "receipt", "quantity": "1000", "posted_on": "2026-11-01"}));
    assert_eq!(forged.status, 422, "{}", forged.text);
    assert!(
        forged.text.contains("not entered by hand"),
        "{}",
        forged.text
    );
    assert_eq!(
        admin.get(&path).body["quantity"],
        m["quantity"],
        "unchanged"
    );
    let po_line = admin
        .get(&rec(&format!("purchase_line?order={}", po["id"])))
        .body["items"][0]
        .clone();
    let edited = admin.patch_v(
        &rec(&format!("purchase_line/{}", po_line["id"])),
        po_line["version"].as_i64().unwrap(),
        &json!({"quantity": "50"}),
    );
    assert_eq!(edited.status, 422, "{}", edited.text);
    let status = admin.patch_v(
        &rec(&format!("purchase_order/{}", po["id"])),
        admin
            .get(&rec(&format!("purchase_order/{}", po["id"])))
            .body["version"]
            .as_i64()
            .unwrap(),
        &json!({"status": "draft"}),
    );
    assert_eq!(status.status, 422, "{}", status.text);
    assert_eq!(level(&admin, &ids["p"], &ids["w1"])["on_hand"], "5");
}

#[test]
fn concurrent_deliveries_of_the_last_units_never_oversell() {
    let (_s, admin, ids) = setup();
    let (po, _) = purchase(&admin, &ids, "16", "10");
    act(
        &admin,
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-01"}),
    );
    let c = admin.create("customer", customer("Buyer"));
    let orders: Vec<Value> = (0..16)
        .map(|_| {
            let so = admin.create(
                "sales_order",
                json!({"customer": c["id"], "warehouse": ids["w1"]}),
            );
            admin.create(
                "sales_line",
                json!({"order": so["id"], "product": ids["p"], "quantity": "1", "price": "20"}),
            );
            assert_eq!(
                act(&admin, "sales_order", &so["id"], "confirm", json!({})).status,
                200
            );
            so
        })
        .collect();
    // Then a count finds only 5.
    admin.post("/api/v1/plugins/inventory/count", &json!({"product": ids["p"], "warehouse": ids["w1"], "counted": "5", "reason": "shrinkage", "date": "2026-11-02"}));
    let threads: Vec<_> = orders
        .into_iter()
        .map(|so| {
            let c = admin.clone();
            std::thread::spawn(move || {
                act(
                    &c,
                    "sales_order",
                    &so["id"],
                    "deliver",
                    json!({"date": "2026-11-03"}),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        11,
        "{statuses:?}"
    );
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (l["on_hand"].clone(), l["value"].clone()),
        (json!("0"), json!("0.00")),
        "{l}"
    );
}

#[test]
fn roles_see_and_do_what_they_may_and_refusals_speak_their_language() {
    let (s, admin, ids) = setup();
    let (po, _) = purchase(&admin, &ids, "10", "10");
    act(
        &admin,
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-01"}),
    );
    let (amy, _) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "east");
    let c = amy.create("customer", customer("Amy's buyer"));
    // A rep sells: her order, her lines; she sees levels but not costs or values.
    let so = amy.create(
        "sales_order",
        json!({"customer": c["id"], "warehouse": ids["w1"]}),
    );
    amy.create(
        "sales_line",
        json!({"order": so["id"], "product": ids["p"], "quantity": "2"}),
    );
    let mine = amy.get(&rec(&format!("sales_order/{}", so["id"]))).body;
    assert_eq!(
        mine["total"], "40.00",
        "the product's sale price by default: {mine}"
    );
    assert_eq!(
        bob.get(&rec(&format!("sales_order/{}", so["id"]))).status,
        404,
        "not bob's"
    );
    let l = level(&amy, &ids["p"], &ids["w1"]);
    assert_eq!(l["on_hand"], "10");
    assert!(
        l.get("value").is_none() && l.get("unit_cost").is_none(),
        "no costs for reps: {l}"
    );
    assert_eq!(amy.get(&rec("purchase_order")).status, 403);
    assert_eq!(amy.get(&rec("stock_move")).status, 403);
    // Counting stock needs the right to edit the warehouse.
    let count = amy.post(
        "/api/v1/plugins/inventory/count",
        &json!({"product": ids["p"], "warehouse": ids["w1"], "counted": "0", "reason": "x"}),
    );
    assert_eq!(count.status, 403, "{}", count.text);
    // Bad input: field reasons, in her language, nothing written.
    let chose = amy.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}));
    assert_eq!(chose.status, 200, "{}", chose.text);
    let neg = amy.post(
        &rec("sales_line"),
        &json!({"order": so["id"], "product": ids["p"], "quantity": "-3"}),
    );
    assert_eq!(neg.status, 422, "{}", neg.text);
    assert_eq!(neg.body["error"]["fields"]["quantity"], "必须大于零");
    let unknown = amy.post(
        &rec("sales_line"),
        &json!({"order": so["id"], "product": 999999, "quantity": "1"}),
    );
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert!(unknown.body["error"]["fields"]["product"].is_string());
    assert_eq!(
        act(&amy, "sales_order", &so["id"], "confirm", json!({})).status,
        200
    );
    let over = act(
        &amy,
        "sales_order",
        &so["id"],
        "deliver",
        json!({"lines": {"999": 1}}),
    );
    assert_eq!(over.status, 422, "{}", over.text);
    assert!(over.text.contains("不是本订单的明细"), "{}", over.text);
    // She delivers her own order; the sales report shows her what she sold, bob nothing.
    let sold = act(&amy, "sales_order", &so["id"], "deliver", json!({}));
    assert_eq!(sold.status, 200, "{}", sold.text);
    let hers = amy.send(
        reqwest::Method::GET,
        "/api/v1/plugins/inventory/sales",
        |r| r.header("accept", "application/json"),
    );
    assert_eq!(hers.body["products"][0]["quantity"], "2", "{}", hers.text);
    let his = bob.send(
        reqwest::Method::GET,
        "/api/v1/plugins/inventory/sales",
        |r| r.header("accept", "application/json"),
    );
    assert_eq!(his.body["products"], json!([]), "{}", his.text);
    let badq = admin.post(
        "/api/v1/plugins/inventory/transfer",
        &json!({"product": ids["p"], "from": ids["w1"], "to": ids["w1"], "quantity": "1"}),
    );
    assert_eq!(badq.status, 422);
    assert!(
        badq.body["error"]["fields"]["to"].is_string(),
        "{}",
        badq.text
    );
}

#[test]
fn a_won_deal_becomes_a_sales_order_once() {
    let (s, admin, ids) = setup();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    let (amy, _) = s.user("amy", "sales", "east");
    let c = amy.create("customer", customer("Won customer"));
    let deal = amy.create(
        "deal",
        json!({"title": "Big one", "customer": c["id"], "stage": "negotiation", "amount": "5000"}),
    );
    let early = amy.post(
        "/api/v1/plugins/inventory/from-deal",
        &json!({"deal": deal["id"], "warehouse": ids["w1"]}),
    );
    assert_eq!(early.status, 422, "not won yet: {}", early.text);
    let won = amy.post(
        &rec(&format!("deal/{}/actions/sales/mark_won", deal["id"])),
        &json!({}),
    );
    assert_eq!(won.status, 200, "{}", won.text);
    // Six at once: one order.
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let (c, body) = (
                amy.clone(),
                json!({"deal": deal["id"], "warehouse": ids["w1"]}),
            );
            std::thread::spawn(move || c.post("/api/v1/plugins/inventory/from-deal", &body))
        })
        .collect();
    let results: Vec<qingguan_tests::Resp> =
        racers.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.status == 200).count(),
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(results.iter().filter(|r| r.status == 409).count(), 5);
    let made = results.into_iter().find(|r| r.status == 200).unwrap();
    let so = amy
        .get(&rec(&format!("sales_order/{}", made.body["order"])))
        .body;
    assert_eq!(
        (
            so["customer"].clone(),
            so["deal_amount"].clone(),
            so["deal_currency"].clone(),
            so["status"].clone()
        ),
        (
            c["id"].clone(),
            json!("5000.00"),
            json!("CNY"),
            json!("draft")
        ),
        "{so}"
    );
    assert_eq!(so["owner"], amy.get("/api/v1/auth/me").body["id"], "hers");
    let again = amy.post(
        "/api/v1/plugins/inventory/from-deal",
        &json!({"deal": deal["id"], "warehouse": ids["w1"]}),
    );
    assert_eq!(again.status, 409, "{}", again.text);
}

/// A receipt dated before later deliveries and a transfer re-values them at the average as it
/// stood then — by revaluation lines, never by editing — in both warehouses, as worked out by
/// hand; issuing stock on an earlier date is refused.
#[test]
fn a_back_dated_receipt_re_values_later_movements_in_both_warehouses() {
    let (_s, admin, ids) = setup();
    let (po, _) = purchase(&admin, &ids, "10", "10");
    act(
        &admin,
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-01"}),
    );
    let c = admin.create("customer", customer("Buyer"));
    let sell = |qty: &str, warehouse: &Value, date: &str| {
        let so = admin.create(
            "sales_order",
            json!({"customer": c["id"], "warehouse": warehouse}),
        );
        admin.create(
            "sales_line",
            json!({"order": so["id"], "product": ids["p"], "quantity": qty, "price": "20"}),
        );
        assert_eq!(
            act(&admin, "sales_order", &so["id"], "confirm", json!({})).status,
            200
        );
        let d = act(
            &admin,
            "sales_order",
            &so["id"],
            "deliver",
            json!({"date": date}),
        );
        assert_eq!(d.status, 200, "{}", d.text);
    };
    sell("4", &ids["w1"], "2026-11-03"); // −40.00
    let tr = admin.post("/api/v1/plugins/inventory/transfer", &json!({"product": ids["p"], "from": ids["w1"], "to": ids["w2"], "quantity": "2", "date": "2026-11-04"}));
    assert_eq!(tr.status, 200, "{}", tr.text); // −20.00 / +20.00
    sell("3", &ids["w1"], "2026-11-05"); // −30.00
    sell("1", &ids["w2"], "2026-11-06"); // −10.00
    assert_eq!(level(&admin, &ids["p"], &ids["w1"])["value"], "10.00");
    assert_eq!(level(&admin, &ids["p"], &ids["w2"])["value"], "10.00");
    let before = moves(&admin);

    // 10 more at 13 on 11-02: W1 averages 11.5 from then on.
    //   11-03 delivery 4: −46.00 (δ −6.00)            → 16 for 184.00
    //   11-04 transfer 2: −23.00 (δ −3.00)            → 14 for 161.00
    //   11-05 delivery 3: −3 × 161 / 14 = −34.50 (δ −4.50) → 11 for 126.50
    //   W2: in at 23.00 (δ +3.00); 11-06 delivery 1: −11.50 (δ −1.50) → 1 for 11.50
    let (late, _) = purchase(&admin, &ids, "10", "13");
    let r = act(
        &admin,
        "purchase_order",
        &late["id"],
        "receive",
        json!({"date": "2026-11-02"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let w1 = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (w1["on_hand"].clone(), w1["value"].clone()),
        (json!("11"), json!("126.50")),
        "{w1}"
    );
    let w2 = level(&admin, &ids["p"], &ids["w2"]);
    assert_eq!(
        (w2["on_hand"].clone(), w2["value"].clone()),
        (json!("1"), json!("11.50")),
        "{w2}"
    );
    assert_eq!(
        moves(&admin),
        before + 1 + 5,
        "one receipt and five revaluation lines"
    );
    let revals = admin.get(&rec("stock_move?kind=revaluation&limit=50"));
    let mut deltas: Vec<String> = revals.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    deltas.sort();
    assert_eq!(deltas, ["-1.50", "-3.00", "-4.50", "-6.00", "3.00"]);
    // As of 11-03 the ledger reads 16 for 184.00.
    let at = admin.post(
        "/api/v1/plugins/inventory/queries/stock",
        &json!({"product": ids["p"], "warehouse": ids["w1"], "at": "2026-11-03"}),
    );
    assert_eq!(
        (at.body[0]["quantity"].clone(), at.body[0]["value"].clone()),
        (json!("16"), json!("184.00")),
        "{}",
        at.text
    );

    // Stock cannot leave on a date before what is already posted.
    let early = admin.post("/api/v1/plugins/inventory/transfer", &json!({"product": ids["p"], "from": ids["w1"], "to": ids["w2"], "quantity": "1", "date": "2026-11-02"}));
    assert_eq!(early.status, 422, "{}", early.text);
    assert!(
        early.body["error"]["fields"]["posted_on"].is_string(),
        "{}",
        early.text
    );
}

/// What an attack on the plugin found, closed: dates in the future, reversals that corrupt
/// counters or values, transfers reversed by halves, figures a rep may not see, the deal link
/// edited by hand, huge and wrong-typed input.
#[test]
fn attacks_on_postings_and_figures_are_refused() {
    let (s, admin, ids) = setup();
    let (po, pl) = purchase(&admin, &ids, "10", "10");
    act(
        &admin,
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-01"}),
    );
    let c = admin.create("customer", customer("Buyer"));
    let so = admin.create(
        "sales_order",
        json!({"customer": c["id"], "warehouse": ids["w1"]}),
    );
    let sl = admin.create(
        "sales_line",
        json!({"order": so["id"], "product": ids["p"], "quantity": "5", "price": "20"}),
    );
    act(&admin, "sales_order", &so["id"], "confirm", json!({}));

    // A date in the future would lock the product out of every earlier posting.
    let future = act(
        &admin,
        "sales_order",
        &so["id"],
        "deliver",
        json!({"date": "9999-12-31"}),
    );
    assert_eq!(future.status, 422, "{}", future.text);
    // Lines that are not a map of quantities, a date that is not text: refused, nothing posted.
    for bad in [
        json!({"lines": [1]}),
        json!({"lines": "x"}),
        json!({"date": 20261130}),
    ] {
        let r = act(&admin, "sales_order", &so["id"], "deliver", bad.clone());
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }
    assert_eq!(level(&admin, &ids["p"], &ids["w1"])["on_hand"], "10");
    act(
        &admin,
        "sales_order",
        &so["id"],
        "deliver",
        json!({"date": "2026-11-02"}),
    );

    // A return then its reversal: the line counts the goods as out again, not undelivered.
    let ret = admin.post(
        "/api/v1/plugins/inventory/return",
        &json!({"kind": "sales", "line": sl["id"], "quantity": "5", "date": "2026-11-03"}),
    );
    assert_eq!(ret.status, 200, "{}", ret.text);
    let delivery = admin.get(&rec("stock_move?kind=delivery")).body["items"][0]["id"].clone();
    let too_early = act(&admin, "stock_move", &delivery, "reverse", json!({}));
    assert_eq!(
        too_early.status, 422,
        "the return must be reversed first: {}",
        too_early.text
    );
    let rin = ret.body["movements"][0].clone();
    assert_eq!(
        act(&admin, "stock_move", &rin, "reverse", json!({})).status,
        200
    );
    let line = admin.get(&rec(&format!("sales_line/{}", sl["id"]))).body;
    assert_eq!(
        (line["delivered"].clone(), line["returned"].clone()),
        (json!("5.000"), json!("0.000")),
        "{line}"
    );
    let again = act(&admin, "sales_order", &so["id"], "deliver", json!({}));
    assert_eq!(again.status, 422, "nothing left to deliver: {}", again.text);

    // Reversing a receipt after the average moved never leaves value without quantity.
    let (po2, _) = purchase(&admin, &ids, "10", "30");
    act(&admin, "purchase_order", &po2["id"], "receive", json!({}));
    let so2 = admin.create(
        "sales_order",
        json!({"customer": c["id"], "warehouse": ids["w1"]}),
    );
    admin.create(
        "sales_line",
        json!({"order": so2["id"], "product": ids["p"], "quantity": "5", "price": "20"}),
    );
    act(&admin, "sales_order", &so2["id"], "confirm", json!({}));
    let d2 = act(&admin, "sales_order", &so2["id"], "deliver", json!({}));
    assert_eq!(d2.status, 200, "{}", d2.text);
    let receipt2 =
        admin.get(&rec("stock_move?kind=receipt&sort=-id")).body["items"][0]["id"].clone();
    assert_eq!(
        act(&admin, "stock_move", &receipt2, "reverse", json!({})).status,
        200
    );
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(l["on_hand"], "0", "{l}");
    assert_eq!(l["value"], "0.00", "nothing on hand is worth nothing: {l}");
    let _ = pl;

    // A transfer is reversed whole.
    let (po3, _) = purchase(&admin, &ids, "4", "10");
    act(&admin, "purchase_order", &po3["id"], "receive", json!({}));
    let tr = admin.post(
        "/api/v1/plugins/inventory/transfer",
        &json!({"product": ids["p"], "from": ids["w1"], "to": ids["w2"], "quantity": "3"}),
    );
    let out_leg = tr.body["movements"][0].clone();
    let undone = act(&admin, "stock_move", &out_leg, "reverse", json!({}));
    assert_eq!(
        undone.body["movements"].as_array().map(Vec::len),
        Some(2),
        "{}",
        undone.text
    );
    assert_eq!(level(&admin, &ids["p"], &ids["w1"])["on_hand"], "4");
    assert_eq!(level(&admin, &ids["p"], &ids["w2"])["on_hand"], "0");

    // A count nobody could mean: refused, not a fault.
    let huge = admin.post("/api/v1/plugins/inventory/count", &json!({"product": ids["p"], "warehouse": ids["w1"], "counted": "70000000000000000000000000000", "reason": "x"}));
    assert_eq!(huge.status, 422, "{}", huge.text);
    assert_eq!(
        admin.get("/api/v1/plugins/inventory").body["recent_faults"],
        0
    );

    // A rep sees neither costs nor everyone's revenue through the queries.
    let (amy, _) = s.user("amy", "sales", "east");
    let stock = amy.post("/api/v1/plugins/inventory/queries/stock", &json!({}));
    assert!(stock.body[0].get("value").is_none(), "{}", stock.text);
    let sales = amy.post(
        "/api/v1/plugins/inventory/queries/sales_by_product",
        &json!({}),
    );
    assert_eq!(
        sales.body,
        json!([]),
        "none of the orders are hers: {}",
        sales.text
    );
    let everyone = admin.post(
        "/api/v1/plugins/inventory/queries/sales_by_product",
        &json!({}),
    );
    assert_eq!(
        (
            everyone.body[0]["quantity"].clone(),
            everyone.body[0]["revenue"].clone()
        ),
        (json!("10"), json!("200.00")),
        "5 delivered, returned, the return reversed (sold again), and 5 more: {}",
        everyone.text
    );

    // The deal link is the system's.
    let forged = amy.post(
        &rec("sales_order"),
        &json!({"customer": c["id"], "warehouse": ids["w1"], "deal": 397}),
    );
    assert_eq!(forged.status, 422, "{}", forged.text);
}

/// Upgrading inventory (the same code released as the next patch version) and rolling it back
/// keep every ledger line, level and open order: the upgrade forgets the kept levels, which are
/// summed again from the ledger, and postings after it value at the same moving average.
#[test]
fn an_upgrade_and_a_rollback_keep_the_ledger_levels_and_orders() {
    let (_s, admin, ids) = setup();
    let (po, _) = purchase(&admin, &ids, "10", "10");
    act(
        &admin,
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-01"}),
    );
    let c = admin.create("customer", customer("Buyer"));
    let so = admin.create(
        "sales_order",
        json!({"customer": c["id"], "warehouse": ids["w1"]}),
    );
    admin.create(
        "sales_line",
        json!({"order": so["id"], "product": ids["p"], "quantity": "7", "price": "20"}),
    );
    assert_eq!(
        act(&admin, "sales_order", &so["id"], "confirm", json!({})).status,
        200
    );
    let line = admin
        .get(&rec(&format!("sales_line?order={}", so["id"])))
        .body["items"][0]
        .clone();
    let part = act(
        &admin,
        "sales_order",
        &so["id"],
        "deliver",
        json!({"lines": {line["id"].to_string(): 4}, "date": "2026-11-02"}),
    );
    assert_eq!(part.status, 200, "{}", part.text);
    let state = |when: &str| {
        let l = level(&admin, &ids["p"], &ids["w1"]);
        let order = admin.get(&rec(&format!("sales_order/{}", so["id"]))).body;
        (
            l["on_hand"].clone(),
            l["value"].clone(),
            l["reserved"].clone(),
            order["status"].clone(),
            moves(&admin),
            when.to_string(),
        )
    };
    let before = state("before");
    assert_eq!(
        before,
        (
            json!("6"),
            json!("60.00"),
            json!("3"),
            json!("partial"),
            2,
            "before".into()
        )
    );

    let current = admin.get("/api/v1/plugins/inventory").body["version"]
        .as_str()
        .unwrap()
        .to_string();
    let next = semver_next_patch(&current);
    let bytes = qingguan_tests::plugin_with_version("qingguan-inventory", &current, &next);
    let up = qingguan_tests::install_bytes(&admin, bytes, true);
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(
        admin.get("/api/v1/plugins/inventory").body["version"],
        next.as_str()
    );
    let after = state("after");
    assert_eq!(
        (&after.0, &after.1, &after.2, &after.3, after.4),
        (&before.0, &before.1, &before.2, &before.3, before.4),
        "the upgrade keeps the ledger, levels and orders"
    );
    // Postings go on at the same moving average: 10 more at 16 → (60 + 160) / 16 = 13.75;
    // the rest of the order (3) leaves at 41.25.
    let (po2, _) = purchase(&admin, &ids, "10", "16");
    act(
        &admin,
        "purchase_order",
        &po2["id"],
        "receive",
        json!({"date": "2026-11-03"}),
    );
    let rest = act(
        &admin,
        "sales_order",
        &so["id"],
        "deliver",
        json!({"date": "2026-11-04"}),
    );
    assert_eq!(rest.body["status"], "delivered", "{}", rest.text);
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (l["on_hand"].clone(), l["value"].clone()),
        (json!("13"), json!("178.75")),
        "220 − 41.25: {l}"
    );

    let back = admin.post("/api/v1/plugins/inventory/rollback", &json!({}));
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(
        admin.get("/api/v1/plugins/inventory").body["version"],
        current.as_str()
    );
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (l["on_hand"].clone(), l["value"].clone(), moves(&admin)),
        (json!("13"), json!("178.75"), 4),
        "the rollback keeps what the newer version posted: {l}"
    );
    let count = admin.post("/api/v1/plugins/inventory/count", &json!({"product": ids["p"], "warehouse": ids["w1"], "counted": "12", "reason": "damaged", "date": "2026-11-05"}));
    assert_eq!(count.body["difference"], "-1", "{}", count.text);
    assert_eq!(level(&admin, &ids["p"], &ids["w1"])["value"], "165.00");
}

fn semver_next_patch(v: &str) -> String {
    let mut parts: Vec<u64> = v.split('.').map(|p| p.parse().unwrap()).collect();
    parts[2] += 1;
    format!("{}.{}.{}", parts[0], parts[1], parts[2])
}
