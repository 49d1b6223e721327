//! Supplier bills drafted from what inventory received and no bill has covered yet: at the
//! order's prices and the products' tax rates, booked to 暂估应付 so that posting the bill
//! clears what the receipt put there; once per received unit; returns deducted; refused to a
//! rep and without inventory.

use crate::finance::{act, all_time_tb, rec, setup, tb_row};
use qingguan_tests::install;
use serde_json::{json, Value};

#[test]
fn a_bill_covers_what_inventory_received_once_and_clears_goods_received() {
    let (s, admin, fin) = setup();
    let none = fin.post(
        "/api/v1/plugins/finance/bill-receipts",
        &json!({"supplier": 1}),
    );
    assert_eq!(none.status, 404, "no inventory: {}", none.text);
    assert_eq!(install(&admin, "qingguan-inventory", true).status, 201);
    let w = admin.create("warehouse", json!({"code": "W1", "name": "Main"}));
    let acme = admin.create("supplier", json!({"name": "Acme 五金"}));
    let other = admin.create("supplier", json!({"name": "Other"}));
    let widget = admin.create("product", json!({"sku": "P-1", "name": "Widget", "unit": "pcs", "purchase_price": "10", "tax_rate": "13"}));
    let service = admin.create("product", json!({"sku": "S-1", "name": "Install kit", "unit": "set", "purchase_price": "50", "tax_rate": "6"}));
    let inv_act = |entity: &str, id: &Value, action: &str, input: Value| {
        let r = admin.post(
            &rec(&format!("{entity}/{id}/actions/inventory/{action}")),
            &input,
        );
        assert_eq!(r.status, 200, "{action}: {}", r.text);
        r
    };
    let po = admin.create(
        "purchase_order",
        json!({"supplier": acme["id"], "warehouse": w["id"]}),
    );
    let l1 = admin.create(
        "purchase_line",
        json!({"order": po["id"], "product": widget["id"], "quantity": "10", "price": "10.50"}),
    );
    admin.create(
        "purchase_line",
        json!({"order": po["id"], "product": service["id"], "quantity": "2", "price": "50"}),
    );
    inv_act("purchase_order", &po["id"], "approve", json!({}));
    inv_act(
        "purchase_order",
        &po["id"],
        "receive",
        json!({"lines": {l1["id"].to_string(): 6}, "date": "2026-11-02"}),
    );
    // Another supplier's receipt is not on Acme's bill.
    let po2 = admin.create(
        "purchase_order",
        json!({"supplier": other["id"], "warehouse": w["id"]}),
    );
    admin.create(
        "purchase_line",
        json!({"order": po2["id"], "product": widget["id"], "quantity": "1", "price": "9"}),
    );
    inv_act("purchase_order", &po2["id"], "approve", json!({}));
    inv_act(
        "purchase_order",
        &po2["id"],
        "receive",
        json!({"date": "2026-11-02"}),
    );

    // 6 widgets at 10.50: 63.00 net, 8.19 VAT (13%): 71.19.
    let made = fin.post(
        "/api/v1/plugins/finance/bill-receipts",
        &json!({"supplier": acme["id"], "supplier_ref": "FP-2026-118", "issued_on": "2026-11-03"}),
    );
    assert_eq!(made.status, 200, "{}", made.text);
    assert_eq!(made.body["total"], "71.19", "{}", made.text);
    let bill = fin.get(&rec(&format!("bill/{}", made.body["bill"]))).body;
    assert_eq!(
        (
            bill["supplier"].clone(),
            bill["supplier_ref"].clone(),
            bill["status"].clone()
        ),
        (json!("Acme 五金"), json!("FP-2026-118"), json!("draft")),
        "{bill}"
    );
    let lines = fin
        .get(&rec(&format!("bill_line?bill={}", bill["id"])))
        .body["items"]
        .clone();
    assert_eq!(lines.as_array().unwrap().len(), 1, "{lines}");
    assert_eq!(lines[0]["source_line"], l1["id"]);
    assert_eq!(lines[0]["account"], crate::finance::account(&fin, "220201"));
    // A line billing a receipt keeps the receipt's quantity and account.
    let edit = fin.patch_v(
        &rec(&format!("bill_line/{}", lines[0]["id"])),
        lines[0]["version"].as_i64().unwrap(),
        &json!({"quantity": "7"}),
    );
    assert_eq!(edit.status, 422, "{}", edit.text);
    assert!(edit.text.contains("receipt"), "{}", edit.text);
    let again = fin.post(
        "/api/v1/plugins/finance/bill-receipts",
        &json!({"supplier": acme["id"]}),
    );
    assert_eq!(
        again.status, 422,
        "everything received is billed: {}",
        again.text
    );

    // Posting it clears what the receipt put in goods received (63.00 in, 63.00 out).
    let posted = act(&fin, "bill", &bill["id"], "post", json!({}));
    assert_eq!(posted.status, 200, "{}", posted.text);
    let tb = all_time_tb(&fin);
    let row = |code: &str| tb_row(&tb, code);
    assert_eq!(
        (
            row("220201")["debit"].clone(),
            row("220201")["credit"].clone()
        ),
        (json!("63.00"), json!("72.00")),
        "Acme's 63 cleared; Other's 9 still waits for its bill: {tb}"
    );
    assert_eq!(row("2202")["credit"], "71.19");
    assert_eq!(tb["total_debit"], tb["total_credit"]);

    // The rest arrives; one widget goes back to the supplier before it is billed.
    inv_act(
        "purchase_order",
        &po["id"],
        "receive",
        json!({"date": "2026-11-05"}),
    );
    let ret = admin.post(
        "/api/v1/plugins/inventory/return",
        &json!({"kind": "purchase", "line": l1["id"], "quantity": "1", "date": "2026-11-06"}),
    );
    assert_eq!(ret.status, 200, "{}", ret.text);
    // 3 widgets (4 − 1 returned) at 10.50 = 31.50 + 4.10; 2 kits at 50 = 100 + 6.00: 141.60.
    let rest = fin.post(
        "/api/v1/plugins/finance/bill-receipts",
        &json!({"supplier": acme["id"]}),
    );
    assert_eq!(rest.status, 200, "{}", rest.text);
    assert_eq!(rest.body["total"], "141.60", "{}", rest.text);

    // A rep who may not write bills gets 403, and no bill is drafted.
    let (amy, _) = s.user("amy", "sales", "east");
    let bills = || {
        fin.get(&rec("bill?limit=50")).body["items"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = bills();
    let refused = amy.post(
        "/api/v1/plugins/finance/bill-receipts",
        &json!({"supplier": other["id"]}),
    );
    assert!(
        refused.status == 403 || refused.status == 404,
        "{}",
        refused.text
    );
    assert_eq!(bills(), before);
    let bad = fin.post(
        "/api/v1/plugins/finance/bill-receipts",
        &json!({"supplier": "Acme"}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
}
