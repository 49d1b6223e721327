//! The ledger grown long, end to end over HTTP: the later movements of one day and kind are
//! re-valued by one revaluation line that names each of them; reversals, customer returns and
//! a second back-dated receipt read those corrections back per movement; the kept levels agree
//! with the ledger summed at a date; finance books each revaluation by the kind of movement it
//! corrects (every figure worked out by hand); a product's history and the stock report come
//! in pages whose running balances and totals carry over.

use super::inventory::{act, level, purchase, rec, setup};
use qingguan_tests::{customer, install, Client};
use serde_json::{json, Value};

/// The stock of the product in W1 as another plugin or an API client asks it: now (the kept
/// level) and at a date (summed from the ledger).
fn asked(admin: &Client, ids: &Value, at: Option<&str>) -> (Value, Value) {
    let mut args = json!({"product": ids["p"], "warehouse": ids["w1"]});
    if let Some(at) = at {
        args["at"] = json!(at);
    }
    let r = admin.post("/api/v1/plugins/inventory/queries/stock", &args);
    assert_eq!(r.status, 200, "{}", r.text);
    (r.body[0]["quantity"].clone(), r.body[0]["value"].clone())
}

fn revaluations(admin: &Client) -> Vec<Value> {
    let mut rows = admin
        .get(&rec("stock_move?kind=revaluation&sort=id&limit=50"))
        .body["items"]
        .as_array()
        .unwrap()
        .clone();
    rows.sort_by_key(|r| r["id"].as_i64());
    rows
}

#[test]
fn one_revaluation_line_per_day_names_its_movements_and_corrections_read_back() {
    let (s, admin, ids) = setup();
    assert_eq!(install(&admin, "qingguan-finance", true).status, 201);
    let (po, _) = purchase(&admin, &ids, "10", "10");
    let r = act(
        &admin,
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-01"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let c = admin.create("customer", customer("Buyer"));
    let order = |lines: &[&str]| -> (Value, Vec<Value>) {
        let so = admin.create(
            "sales_order",
            json!({"customer": c["id"], "warehouse": ids["w1"]}),
        );
        let ls = lines
            .iter()
            .map(|q| {
                admin.create(
                    "sales_line",
                    json!({"order": so["id"], "product": ids["p"], "quantity": q, "price": "20"}),
                )
            })
            .collect();
        assert_eq!(
            act(&admin, "sales_order", &so["id"], "confirm", json!({})).status,
            200
        );
        (so, ls)
    };
    // Two deliveries on 11-03 (2 then 3), one on 11-04: −20.00, −30.00, −10.00 → 4 for 40.00.
    let (so1, l1) = order(&["2", "3"]);
    let d = act(
        &admin,
        "sales_order",
        &so1["id"],
        "deliver",
        json!({"date": "2026-11-03"}),
    );
    assert_eq!(d.status, 200, "{}", d.text);
    let (so2, l2) = order(&["1"]);
    let d = act(
        &admin,
        "sales_order",
        &so2["id"],
        "deliver",
        json!({"date": "2026-11-04"}),
    );
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(asked(&admin, &ids, None), (json!("4"), json!("40.00")));

    // 10 more at 13 on 11-02: 20 for 230.00 from then on.
    //   11-03 delivery 2: −2 × 230 / 20 = −23.00 (δ −3.00)        → 18 for 207.00
    //   11-03 delivery 3: −3 × 207 / 18 = −34.50 (δ −4.50)        → 15 for 172.50
    //   11-04 delivery 1: −172.50 / 15 = −11.50 (δ −1.50)         → 14 for 161.00
    let (late, _) = purchase(&admin, &ids, "10", "13");
    let r = act(
        &admin,
        "purchase_order",
        &late["id"],
        "receive",
        json!({"date": "2026-11-02"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(asked(&admin, &ids, None), (json!("14"), json!("161.00")));
    assert_eq!(
        asked(&admin, &ids, Some("2026-11-30")),
        (json!("14"), json!("161.00"))
    );
    assert_eq!(
        asked(&admin, &ids, Some("2026-11-03")),
        (json!("15"), json!("172.50"))
    );
    let delivery_of = |line: &Value| -> Value {
        admin
            .get(&rec(&format!(
                "stock_move?kind=delivery&source_line={}",
                line["id"]
            )))
            .body["items"][0]
            .clone()
    };
    let (d2, d3, d1) = (
        delivery_of(&l1[0]),
        delivery_of(&l1[1]),
        delivery_of(&l2[0]),
    );
    let revals = revaluations(&admin);
    assert_eq!(revals.len(), 2, "one line per day: {revals:?}");
    assert_eq!(
        (
            revals[0]["posted_on"].clone(),
            revals[0]["value"].clone(),
            revals[0]["quantity"].clone()
        ),
        (json!("2026-11-03"), json!("-7.50"), json!("0.000"))
    );
    assert_eq!(
        revals[0]["corrects"],
        json!(format!("{}:-3.00 {}:-4.50", d2["id"], d3["id"]))
    );
    assert_eq!(revals[0]["revalued_kind"], "delivery");
    // Its source is the deliveries' (what the books book it against); the late receipt is
    // its reason.
    assert_eq!(
        revals[0]["source"],
        json!(format!("sales_order:{}", so1["id"]))
    );
    assert!(
        revals[0]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("purchase_order:{}", late["id"])),
        "{}",
        revals[0]
    );
    assert_eq!(
        (revals[1]["posted_on"].clone(), revals[1]["value"].clone()),
        (json!("2026-11-04"), json!("-1.50"))
    );
    assert_eq!(revals[1]["corrects"], json!(format!("{}:-1.50", d1["id"])));
    // Nobody writes or edits a revaluation line by hand.
    let edit = admin.patch_v(
        &rec(&format!("stock_move/{}", revals[0]["id"])),
        revals[0]["version"].as_i64().unwrap(),
        &json!({"corrects": format!("{}:-100", d2["id"])}),
    );
    assert!(edit.status == 403 || edit.status == 422, "{}", edit.text);

    // Finance booked each correction as cost of goods sold: 50 + 10 delivered, 7.50 + 1.50
    // re-valued; stock in at 100 + 130.
    let tb = super::finance::all_time_tb(&admin);
    let row = |code: &str| super::finance::tb_row(&tb, code);
    assert_eq!(row("6401")["debit"], "69.00", "{tb}");
    assert_eq!(
        (row("1405")["debit"].clone(), row("1405")["credit"].clone()),
        (json!("230.00"), json!("69.00")),
        "{tb}"
    );

    // The 3 delivered on 11-03 come back at exactly what they left with, correction included:
    // 34.50 → 17 for 195.50. The customer returns the 1 of 11-04 at 11.50 → 18 for 207.00.
    let rev = act(
        &admin,
        "stock_move",
        &d3["id"],
        "reverse",
        json!({"date": "2026-11-05"}),
    );
    assert_eq!(rev.status, 200, "{}", rev.text);
    assert_eq!(asked(&admin, &ids, None), (json!("17"), json!("195.50")));
    let ret = admin.post(
        "/api/v1/plugins/inventory/return",
        &json!({"kind": "sales", "line": l2[0]["id"], "quantity": "1", "date": "2026-11-06"}),
    );
    assert_eq!(ret.status, 200, "{}", ret.text);
    let l = level(&admin, &ids["p"], &ids["w1"]);
    assert_eq!(
        (l["on_hand"].clone(), l["value"].clone()),
        (json!("18"), json!("207.00")),
        "{l}"
    );

    // A second receipt on 11-02 (2 at 16, after the first that day): 22 for 262.00, and the
    // deliveries move again from what they are worth now, not from what they were posted at.
    //   11-03 delivery 2: −2 × 262 / 22 = −23.82 (δ −0.82)        → 20 for 238.18
    //   11-03 delivery 3: −3 × 238.18 / 20 = −35.73 (δ −1.23)     → 17 for 202.45
    //   11-04 delivery 1: −202.45 / 17 = −11.91 (δ −0.41)         → 16 for 190.54
    //   11-05 reversal +34.50 and 11-06 return +11.50 keep their own value → 20 for 236.54
    let (again, _) = purchase(&admin, &ids, "2", "16");
    let r = act(
        &admin,
        "purchase_order",
        &again["id"],
        "receive",
        json!({"date": "2026-11-02"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(asked(&admin, &ids, None), (json!("20"), json!("236.54")));
    assert_eq!(
        asked(&admin, &ids, Some("2026-11-30")),
        (json!("20"), json!("236.54"))
    );
    // The levels the receipt changed were kept as its call ended, with the ledger line they
    // account for: the last one, a revaluation.
    let through = s.query_integer(if s.on_postgres() {
        "SELECT CAST(convert_from(value, 'UTF8') AS BIGINT) FROM plugin_kv
         WHERE plugin = 'inventory' AND key = 'levels:through'"
    } else {
        "SELECT CAST(CAST(value AS TEXT) AS INTEGER) FROM plugin_kv
         WHERE plugin = 'inventory' AND key = 'levels:through'"
    });
    assert_eq!(through, s.query_integer("SELECT MAX(id) FROM r_stock_move"));
    let revals = revaluations(&admin);
    assert_eq!(revals.len(), 4, "{revals:?}");
    assert_eq!(
        (revals[2]["value"].clone(), revals[2]["corrects"].clone()),
        (
            json!("-2.05"),
            json!(format!("{}:-0.82 {}:-1.23", d2["id"], d3["id"]))
        )
    );
    assert_eq!(revals[3]["value"], "-0.41");

    // The kept levels gone (as after an upgrade, which drops them): the level is summed from
    // the ledger again, and the next posting starts from it. Sold 5 more on 11-07:
    // −5 × 236.54 / 20 = −59.14 → 15 for 177.40.
    let dropped = s.execute_sql(
        "DELETE FROM plugin_kv WHERE plugin = 'inventory' AND key LIKE 'level:%'",
        &[],
    );
    assert!(dropped >= 1, "levels were kept");
    assert_eq!(asked(&admin, &ids, None), (json!("20"), json!("236.54")));
    let (so3, _) = order(&["5"]);
    let d = act(
        &admin,
        "sales_order",
        &so3["id"],
        "deliver",
        json!({"date": "2026-11-07"}),
    );
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(asked(&admin, &ids, None), (json!("15"), json!("177.40")));
    assert_eq!(
        asked(&admin, &ids, Some("2026-11-30")),
        (json!("15"), json!("177.40"))
    );
}

/// Purchase orders of the given (product, quantity, price) lines, approved and received: one
/// per 25 lines. One receive posts every line of its order within the plugin's 2-s call limit,
/// which is wall-clock time: on PostgreSQL in a debug build a line takes ≈ 7 ms
/// (docs/benchmarks.md), and on a CI machine busy with the other tests (a Python plugin's build
/// among them) a receive of 100 lines once took longer than 2 s. These tests are about pages of
/// a long history, not about how many lines one call can post.
fn receive_lines(admin: &Client, ids: &Value, lines: &[(Value, &str, &str)], date: &str) {
    for chunk in lines.chunks(25) {
        let po = admin.create(
            "purchase_order",
            json!({"supplier": ids["sup"], "warehouse": ids["w1"]}),
        );
        for (product, qty, price) in chunk {
            admin.create(
                "purchase_line",
                json!({"order": po["id"], "product": product, "quantity": qty, "price": price}),
            );
        }
        assert_eq!(
            act(admin, "purchase_order", &po["id"], "approve", json!({})).status,
            200
        );
        let r = act(
            admin,
            "purchase_order",
            &po["id"],
            "receive",
            json!({ "date": date }),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

fn json_get(admin: &Client, path: &str) -> Value {
    let r = admin.send(reqwest::Method::GET, path, |r| {
        r.header("accept", "application/json")
    });
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[test]
fn a_long_history_and_the_stock_report_come_in_pages_that_carry_balances_over() {
    let (_s, admin, ids) = setup();
    // 205 receipts of the product: 1 to 200 at 10 on 11-01, then five of 2 at 12 on 11-02.
    let first: Vec<(Value, &str, &str)> = (0..200).map(|_| (ids["p"].clone(), "1", "10")).collect();
    receive_lines(&admin, &ids, &first, "2026-11-01");
    let second: Vec<(Value, &str, &str)> = (0..5).map(|_| (ids["p"].clone(), "2", "12")).collect();
    receive_lines(&admin, &ids, &second, "2026-11-02");
    let base = format!(
        "/api/v1/plugins/inventory/movements?product={}&warehouse={}",
        ids["p"], ids["w1"]
    );
    let one = json_get(&admin, &base);
    let rows = one["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 200);
    assert_eq!(
        (
            rows[199]["balance"].clone(),
            rows[199]["balance_value"].clone()
        ),
        (json!("200"), json!("2000.00"))
    );
    let next = one["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let two = json_get(
        &admin,
        &format!(
            "{base}&cursor={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ),
    );
    let rows = two["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "{two}");
    // The second page starts from the first page's balance: 202 for 2024.00, … 210 for 2120.00.
    assert_eq!(
        (rows[0]["balance"].clone(), rows[0]["balance_value"].clone()),
        (json!("202"), json!("2024.00"))
    );
    assert_eq!(
        (rows[4]["balance"].clone(), rows[4]["balance_value"].clone()),
        (json!("210"), json!("2120.00"))
    );
    assert!(two["next_cursor"].is_null(), "{two}");
    // The page links to the later movements.
    let html = admin.get(&base);
    assert!(html.text.contains("cursor="), "{}", html.text);
    let bad = admin.send(
        reqwest::Method::GET,
        &format!("{base}&cursor=nonsense"),
        |r| r.header("accept", "application/json"),
    );
    assert!(
        (400..500).contains(&bad.status),
        "{} {}",
        bad.status,
        bad.text
    );

    // 201 products on hand: the report shows 200 rows, then 1, and the total of all on each.
    let products: Vec<Value> = (0..200)
        .map(|i| admin.create("product", json!({"sku": format!("Q-{i:03}"), "name": format!("Part {i}"), "unit": "pcs", "purchase_price": "1"}))["id"].clone())
        .collect();
    let lines: Vec<(Value, &str, &str)> =
        products.iter().map(|p| (p.clone(), "3", "1.50")).collect();
    receive_lines(&admin, &ids, &lines, "2026-11-03");
    // 2120.00 + 200 × 4.50 = 3020.00, over 201 rows.
    let page0 = json_get(&admin, "/api/v1/plugins/inventory/stock");
    assert_eq!(
        (page0["pages"].clone(), page0["total_rows"].clone()),
        (json!(2), json!(201))
    );
    assert_eq!(page0["rows"].as_array().unwrap().len(), 200);
    assert_eq!(page0["total_value"], "3020.00");
    let page1 = json_get(&admin, "/api/v1/plugins/inventory/stock?page=1");
    let rows = page1["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["product"], *products.last().unwrap());
    assert_eq!(page1["total_value"], "3020.00");
    // Past the last page: empty (a reader "until empty" stops); not a page number: refused.
    let past = json_get(&admin, "/api/v1/plugins/inventory/stock?page=5");
    assert_eq!(
        (past["page"].clone(), past["rows"].as_array().unwrap().len()),
        (json!(5), 0)
    );
    for bad in [
        "stock?page=abc",
        "stock?page=-1",
        "movements?product=1&warehouse=abc",
    ] {
        let r = admin.send(
            reqwest::Method::GET,
            &format!("/api/v1/plugins/inventory/{bad}"),
            |r| r.header("accept", "application/json"),
        );
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
    }
    let html = admin.get("/api/v1/plugins/inventory/stock?page=1");
    assert!(html.text.contains("stock?page=0"), "{}", html.text);
}
