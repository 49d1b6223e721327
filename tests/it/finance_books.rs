//! The books summed by posting date, end to end over HTTP: journal lines carry their entry's
//! date once posted (and only the posting writes it); whole months come from kept totals and
//! the ends of a period from the lines; lines posted before they carried dates still count,
//! through their entries, until the `date_lines` job dates them (and adds them to their month);
//! aging puts each open invoice in its bucket at the bucket edges. Figures worked out by hand.

use super::finance::{account, act, all_time_tb, json_get, rec, setup, tb_row};
use qingguan_tests::{customer, Client};
use serde_json::{json, Value};

/// A manual entry of (account, debit, credit) lines, posted.
fn entry(fin: &Client, on: &str, lines: &[(&Value, &str, &str)]) -> Value {
    let je = fin.create("journal_entry", json!({"posted_on": on, "memo": "test"}));
    for (account, debit, credit) in lines {
        fin.create(
            "journal_line",
            json!({"entry": je["id"], "account": account, "debit": debit, "credit": credit}),
        );
    }
    let r = act(fin, "journal_entry", &je["id"], "post", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    je
}

fn lines_of(fin: &Client, entry: &Value) -> Vec<Value> {
    fin.get(&rec(&format!("journal_line?entry={}", entry["id"])))
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn debit_credit(tb: &Value, code: &str) -> (Value, Value) {
    let r = tb_row(tb, code);
    (r["debit"].clone(), r["credit"].clone())
}

#[test]
fn lines_carry_their_posting_date_and_undated_lines_still_count_until_dated() {
    let (s, admin, fin) = setup();
    let (cash, bank, expense) = (
        account(&fin, "1001"),
        account(&fin, "1002"),
        account(&fin, "6602"),
    );
    let october = entry(
        &fin,
        "2026-10-20",
        &[(&expense, "30", "0"), (&cash, "0", "30")],
    );
    entry(
        &fin,
        "2026-11-15",
        &[(&expense, "50", "0"), (&bank, "0", "50")],
    );
    for l in lines_of(&fin, &october) {
        assert_eq!(l["posted_on"], "2026-10-20", "{l}");
    }
    // Only the posting dates a line: not on a draft's new line, not by an edit.
    let draft = fin.create(
        "journal_entry",
        json!({"posted_on": "2026-11-20", "memo": "draft"}),
    );
    let dated = fin.post(
        &rec("journal_line"),
        &json!({"entry": draft["id"], "account": expense, "debit": "7", "posted_on": "2026-11-01"}),
    );
    assert_eq!(dated.status, 422, "{}", dated.text);
    assert!(
        dated.body["error"]["fields"]["posted_on"].is_string(),
        "{}",
        dated.text
    );
    let line = fin.create(
        "journal_line",
        json!({"entry": draft["id"], "account": expense, "debit": "7"}),
    );
    let edit = fin.patch_v(
        &rec(&format!("journal_line/{}", line["id"])),
        line["version"].as_i64().unwrap(),
        &json!({"posted_on": "2026-11-01"}),
    );
    assert_eq!(edit.status, 422, "{}", edit.text);

    // November: 6602 Dr 50, 1002 Cr 50; all time: 6602 Dr 80, 1001 Cr 30 (the draft's 7 is not
    // posted, so not counted).
    let november = |fin: &Client| {
        json_get(
            fin,
            "/api/v1/plugins/finance/trial-balance?from=2026-11-01&to=2026-11-30",
        )
        .body
    };
    let check = |fin: &Client| {
        let tb = november(fin);
        assert_eq!(
            debit_credit(&tb, "6602"),
            (json!("50.00"), json!("0.00")),
            "{tb}"
        );
        assert!(tb_row(&tb, "1001").is_null(), "{tb}");
        let all = all_time_tb(fin);
        assert_eq!(
            debit_credit(&all, "6602"),
            (json!("80.00"), json!("0.00")),
            "{all}"
        );
        assert_eq!(
            debit_credit(&all, "1001"),
            (json!("0.00"), json!("30.00")),
            "{all}"
        );
        assert_eq!(all["total_debit"], "80.00", "{all}");
        // Parts of months at both ends: Oct 15 – Nov 20 holds both entries, Oct 21 – Nov 14
        // neither.
        let part = json_get(
            fin,
            "/api/v1/plugins/finance/trial-balance?from=2026-10-15&to=2026-11-20",
        )
        .body;
        assert_eq!(
            debit_credit(&part, "6602"),
            (json!("80.00"), json!("0.00")),
            "{part}"
        );
        let none = json_get(
            fin,
            "/api/v1/plugins/finance/trial-balance?from=2026-10-21&to=2026-11-14",
        )
        .body;
        assert!(tb_row(&none, "6602").is_null(), "{none}");
        let cash = json_get(
            fin,
            "/api/v1/plugins/finance/cash?from=2026-10-01&to=2026-11-30",
        )
        .body;
        assert_eq!(cash["months"][0]["month"], "2026-10", "{cash}");
        assert_eq!(cash["months"][0]["out"], "30.00", "{cash}");
        assert_eq!(cash["months"][1]["balance"], "-80.00", "{cash}");
    };
    check(&fin);

    // The October lines as finance 1.1 left them: no date of their own. The books still count
    // them (through their entry) …
    let undated = s.execute_sql(
        "UPDATE r_journal_line SET c_posted_on = NULL WHERE c_entry = ?1",
        &[october["id"].as_i64().unwrap().into()],
    );
    assert_eq!(undated, 2);
    // … nor in October's kept totals (1.1 kept none).
    let forgotten = s.execute_sql(
        "DELETE FROM plugin_kv WHERE plugin = 'finance' AND key = 'month:2026-10'",
        &[],
    );
    assert_eq!(forgotten, 1, "October's totals were kept");
    check(&fin);
    // … and the job dates them (and leaves the draft's line alone).
    let job = admin.post(
        "/api/v1/plugins/finance/jobs/date_lines?wait=true",
        &json!({}),
    );
    assert_eq!(
        (job.status, job.body["done"].clone()),
        (200, json!(2)),
        "{}",
        job.text
    );
    for l in lines_of(&fin, &october) {
        assert_eq!(l["posted_on"], "2026-10-20", "{l}");
    }
    let draft_line = fin.get(&rec(&format!("journal_line/{}", line["id"]))).body;
    assert!(draft_line["posted_on"].is_null(), "{draft_line}");
    check(&fin);
}

#[test]
fn aging_puts_each_open_invoice_in_its_bucket_at_the_edges() {
    let (_s, admin, fin) = setup();
    let c = admin.create("customer", customer("Late payer"));
    // At 2026-12-31: due that day (current), 30 days late, 31, 90 and 91 days late.
    for (due, price) in [
        ("2026-12-31", "1"),
        ("2026-12-01", "2"),
        ("2026-11-30", "4"),
        ("2026-10-02", "8"),
        ("2026-10-01", "16"),
    ] {
        let inv = fin.create(
            "invoice",
            json!({"customer": c["id"], "issued_on": "2026-09-01", "due_on": due}),
        );
        fin.create(
            "invoice_line",
            json!({"invoice": inv["id"], "description": "x", "quantity": "1", "unit_price": price, "tax_rate": "0"}),
        );
        let r = act(&fin, "invoice", &inv["id"], "post", json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let aging = json_get(&fin, "/api/v1/plugins/finance/aging?at=2026-12-31").body;
    assert_eq!(aging["rows"].as_array().unwrap().len(), 1, "{aging}");
    assert_eq!(aging["rows"][0]["name"], "Late payer", "{aging}");
    assert_eq!(
        aging["rows"][0]["buckets"],
        json!(["1.00", "2.00", "4.00", "8.00", "16.00"]),
        "{aging}"
    );
    assert_eq!(
        aging["totals"],
        json!(["1.00", "2.00", "4.00", "8.00", "16.00"]),
        "{aging}"
    );
}

/// An aging at an earlier date says what it said then: documents posted by then, less the
/// payments received and allocated and the credit notes issued by then — later ones do not
/// count; and a date still to come reads today's balances. Worked out by hand.
#[test]
fn an_aging_at_an_earlier_date_says_what_it_said_then() {
    let (_s, admin, fin) = setup();
    let c = admin.create("customer", customer("Slow payer"));
    let a = document(
        &fin,
        json!({"customer": c["id"], "issued_on": "2026-09-01", "due_on": "2026-10-01"}),
        "100",
    );
    let b = document(
        &fin,
        json!({"customer": c["id"], "issued_on": "2026-11-15", "due_on": "2027-12-15"}),
        "50",
    );
    for (on, amount) in [("2026-10-20", "60"), ("2026-11-20", "40")] {
        let p = fin.create(
            "payment",
            json!({"customer": c["id"], "received_on": on, "amount": amount, "method": "bank"}),
        );
        assert_eq!(
            act(&fin, "payment", &p["id"], "post", json!({})).status,
            200
        );
        let r = act(
            &fin,
            "payment",
            &p["id"],
            "allocate",
            json!({"invoices": {a["id"].to_string(): amount}}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let cn = fin.create(
        "invoice",
        json!({"customer": c["id"], "kind": "credit_note", "credits": b["id"], "issued_on": "2026-11-25"}),
    );
    fin.create(
        "invoice_line",
        json!({"invoice": cn["id"], "description": "x", "quantity": "1", "unit_price": "10", "tax_rate": "0"}),
    );
    assert_eq!(
        act(&fin, "invoice", &cn["id"], "post", json!({})).status,
        200
    );
    let buckets = |at: &str| {
        let aging = json_get(&fin, &format!("/api/v1/plugins/finance/aging?at={at}")).body;
        assert_eq!(aging["at"], at, "{aging}");
        aging["totals"].clone()
    };
    // The payments were received in October and November but allocated today: an aging of
    // an earlier date did not see them (it says what it said then). 31 October: A owed whole,
    // 30 days late; B not issued.
    assert_eq!(buckets("2026-10-31"), json!(["0", "100.00", "0", "0", "0"]));
    // 22 November: A 52 days late; B owed whole (the credit note came later).
    assert_eq!(
        buckets("2026-11-22"),
        json!(["50.00", "0", "100.00", "0", "0"])
    );
    // 30 November: the credit note of 25 November counts; A 60 days late.
    assert_eq!(
        buckets("2026-11-30"),
        json!(["40.00", "0", "100.00", "0", "0"])
    );
    // Before anything was issued: nothing.
    assert_eq!(buckets("2026-08-31"), json!(["0", "0", "0", "0", "0"]));
    // Next year, before B falls due: today's kept balance, 40 current.
    assert_eq!(buckets("2027-12-01"), json!(["40.00", "0", "0", "0", "0"]));
}

/// A posted document with one zero-tax line of `amount`.
fn document(fin: &Client, fields: Value, amount: &str) -> Value {
    let inv = fin.create("invoice", fields);
    fin.create(
        "invoice_line",
        json!({"invoice": inv["id"], "description": "x", "quantity": "1", "unit_price": amount, "tax_rate": "0"}),
    );
    let r = act(fin, "invoice", &inv["id"], "post", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    inv
}

#[test]
fn kpi_figures_per_rep_for_appraisal_match_the_documents() {
    let (s, admin, fin) = setup();
    let (amy, amy_id) = s.user("amy", "sales", "north");
    let (_, bob_id) = s.user("bob", "sales", "north");
    let mut a = customer("Amy's client");
    a["owner"] = json!(amy_id);
    let a = admin.create("customer", a);
    let mut b = customer("Bob's client");
    b["owner"] = json!(bob_id);
    let b = admin.create("customer", b);
    // Amy: invoiced 100 (due 11-10), credited 10, 45 received; an invoice of 30 in December
    // falls outside November. Bob: invoiced 200 (due 12-15), nothing received.
    let inv = document(
        &fin,
        json!({"customer": a["id"], "issued_on": "2026-11-05", "due_on": "2026-11-10"}),
        "100",
    );
    document(
        &fin,
        json!({"customer": a["id"], "kind": "credit_note", "credits": inv["id"], "issued_on": "2026-11-06"}),
        "10",
    );
    document(
        &fin,
        json!({"customer": a["id"], "issued_on": "2026-12-02"}),
        "30",
    );
    document(
        &fin,
        json!({"customer": b["id"], "issued_on": "2026-11-07", "due_on": "2026-12-15"}),
        "200",
    );
    // A customer nobody owns: 7 invoiced, 7 received — in the company's figures, no rep's.
    let mut nobody = customer("Nobody's client");
    nobody["owner"] = Value::Null;
    let nobody = admin.create("customer", nobody);
    assert!(nobody["owner"].is_null(), "{nobody}");
    document(
        &fin,
        json!({"customer": nobody["id"], "issued_on": "2026-11-08"}),
        "7",
    );
    let q = fin.create(
        "payment",
        json!({"customer": nobody["id"], "received_on": "2026-11-09", "amount": "7", "method": "bank"}),
    );
    assert_eq!(
        act(&fin, "payment", &q["id"], "post", json!({})).status,
        200
    );
    let p = fin.create(
        "payment",
        json!({"customer": a["id"], "received_on": "2026-11-20", "amount": "45", "method": "bank"}),
    );
    assert_eq!(
        act(&fin, "payment", &p["id"], "post", json!({})).status,
        200
    );
    let al = act(
        &fin,
        "payment",
        &p["id"],
        "allocate",
        json!({"invoices": {inv["id"].to_string(): "45"}}),
    );
    assert_eq!(al.status, 200, "{}", al.text);
    let ask = |query: &str, who: Value| {
        let mut args = json!({"from": "2026-11-01", "to": "2026-11-30"});
        for (k, v) in who.as_object().unwrap() {
            args[k] = v.clone();
        }
        let r = admin.post(&format!("/api/v1/plugins/finance/queries/{query}"), &args);
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        r.body["value"].as_str().unwrap().parse::<f64>().unwrap()
    };
    // Amy: invoiced 100 − 10 = 90, collected 45, rate 50 %, overdue 45 (due 11-10, 45 left).
    assert_eq!(ask("invoiced", json!({"owner": amy_id})), 90.0);
    assert_eq!(ask("collected", json!({"owner": amy_id})), 45.0);
    assert_eq!(ask("collection_rate", json!({"owner": amy_id})), 50.0);
    assert_eq!(ask("overdue", json!({"owner": amy_id})), 45.0);
    // Bob: 200 invoiced, nothing in, not yet due. The team: 290 invoiced, 45 in.
    assert_eq!(ask("invoiced", json!({"owner": bob_id})), 200.0);
    assert_eq!(ask("overdue", json!({"owner": bob_id})), 0.0);
    assert_eq!(ask("invoiced", json!({"team": "north"})), 290.0);
    assert_eq!(ask("collected", json!({"team": "north"})), 45.0);
    assert_eq!(ask("invoiced", json!({"team": "south"})), 0.0);
    // In all: every customer's, owned or not (297 invoiced, 52 collected).
    assert_eq!(ask("invoiced", json!({})), 297.0);
    assert_eq!(ask("collected", json!({})), 52.0);
    let rate = ask("collection_rate", json!({"team": "north"}));
    assert!((rate - 45.0 * 100.0 / 290.0).abs() < 1e-9, "{rate}");
    let summary = admin.post(
        "/api/v1/plugins/finance/queries/summary",
        &json!({"from": "2026-11-01", "to": "2026-11-30"}),
    );
    assert_eq!(summary.status, 200, "{}", summary.text);
    assert_eq!(
        summary.body["owners"].as_array().unwrap().len(),
        2,
        "{}",
        summary.text
    );
    // A rep does not read the books through it; bad dates are refused beside the argument.
    assert_eq!(
        amy.post(
            "/api/v1/plugins/finance/queries/invoiced",
            &json!({"owner": amy_id})
        )
        .status,
        403
    );
    // Arguments that are not what they say are refused beside themselves — never answered
    // with the company's total.
    for (args, field) in [
        (json!({"from": "2026-02-30"}), "from"),
        (json!({"owner": "abc"}), "owner"),
        (json!({"owner": "3"}), "owner"),
        (json!({"owner": 1.5}), "owner"),
        (json!({"team": 123}), "team"),
        (json!({"owner": amy_id, "team": "north"}), "team"),
        (json!({"from": "2026-12-31", "to": "2026-01-01"}), "to"),
    ] {
        let bad = admin.post("/api/v1/plugins/finance/queries/invoiced", &args);
        assert_eq!(bad.status, 422, "{args}: {}", bad.text);
        assert!(
            bad.body["error"]["fields"][field].is_string(),
            "{args}: {}",
            bad.text
        );
    }
    let filtered = admin.post(
        "/api/v1/plugins/finance/queries/summary",
        &json!({"team": "north"}),
    );
    assert_eq!(filtered.status, 422, "{}", filtered.text);
}

/// An invoice past its due date tells the rep responsible for its customer — once per due
/// date, with what is still owed — and nothing is said of invoices not yet due, paid, or of
/// other reps' customers.
#[test]
fn overdue_invoices_remind_the_customers_rep_once() {
    let (s, admin, fin) = setup();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "east");
    let day = |offset: i64| {
        (chrono::Utc::now().date_naive() + chrono::Duration::days(offset))
            .format("%Y-%m-%d")
            .to_string()
    };
    let mut c = customer("Late Co");
    c["owner"] = json!(amy_id);
    let c = admin.create("customer", c);
    let issued = day(-40);
    // Taken once: a run that crosses midnight would otherwise expect the next day's date.
    let fell_due = day(-10);
    let late = document(
        &fin,
        json!({"customer": c["id"], "issued_on": issued, "due_on": fell_due}),
        "100",
    );
    let not_due = document(
        &fin,
        json!({"customer": c["id"], "issued_on": issued, "due_on": day(10)}),
        "50",
    );
    let paid = document(
        &fin,
        json!({"customer": c["id"], "issued_on": issued, "due_on": day(-5)}),
        "30",
    );
    let p = fin.create(
        "payment",
        json!({"customer": c["id"], "received_on": day(-1), "amount": "30", "method": "bank"}),
    );
    assert_eq!(
        act(&fin, "payment", &p["id"], "post", json!({})).status,
        200
    );
    let allocated = act(
        &fin,
        "payment",
        &p["id"],
        "allocate",
        json!({"invoices": {paid["id"].to_string(): "30"}}),
    );
    assert_eq!(allocated.status, 200, "{}", allocated.text);

    let run = || {
        let r = admin.post(
            "/api/v1/plugins/finance/jobs/overdue_reminders?wait=true",
            &json!({}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    };
    run();
    let told = crate::outreach::plugin_notes(&amy);
    assert_eq!(told.len(), 1, "only the overdue, unpaid one: {told:?}");
    let number = fin.get(&rec(&format!("invoice/{}", late["id"]))).body["number"].clone();
    assert_eq!(
        told[0]["params"]["en"],
        format!(
            "Invoice {} to Late Co fell due on {}: 100.00 still owed",
            number.as_str().unwrap(),
            fell_due
        )
    );
    assert_eq!(told[0]["link"], format!("/e/invoice/{}", late["id"]));
    run();
    assert_eq!(crate::outreach::plugin_notes(&amy).len(), 1, "once");
    assert!(crate::outreach::plugin_notes(&bob).is_empty());

    // Statuses: posted after its due date, an invoice is overdue at once; paid, paid; not yet
    // due, posted.
    let status =
        |entity: &str, id: &Value| fin.get(&rec(&format!("{entity}/{id}"))).body["status"].clone();
    assert_eq!(status("invoice", &late["id"]), "overdue");
    assert_eq!(status("invoice", &paid["id"]), "paid");
    assert_eq!(status("invoice", &not_due["id"]), "posted");
    // Partly paid, it stays overdue; the aging still counts it.
    let p2 = fin.create(
        "payment",
        json!({"customer": c["id"], "received_on": day(0), "amount": "40", "method": "bank"}),
    );
    assert_eq!(
        act(&fin, "payment", &p2["id"], "post", json!({})).status,
        200
    );
    let part = act(
        &fin,
        "payment",
        &p2["id"],
        "allocate",
        json!({"invoices": {late["id"].to_string(): "40"}}),
    );
    assert_eq!(part.status, 200, "{}", part.text);
    assert_eq!(status("invoice", &late["id"]), "overdue");
    // Time passes for the one not yet due, and for a supplier bill (their due dates moved back
    // in the database, as the calendar would): the job marks both overdue.
    let bill = fin.create(
        "bill",
        json!({"supplier": "Slow Parts", "issued_on": issued, "due_on": day(5)}),
    );
    let line = fin.post(
        &rec("bill_line"),
        &json!({"bill": bill["id"], "description": "Parts", "account": crate::finance::account(&fin, "6602"),
                "quantity": "1", "unit_price": "20", "tax_rate": "0"}),
    );
    assert_eq!(line.status, 201, "{}", line.text);
    assert_eq!(
        act(&fin, "bill", &bill["id"], "post", json!({})).status,
        200
    );
    assert_eq!(status("bill", &bill["id"]), "posted");
    for (table, id) in [("r_invoice", &not_due["id"]), ("r_bill", &bill["id"])] {
        s.execute_sql(
            &format!("UPDATE {table} SET c_due_on = ?1 WHERE id = ?2"),
            &[day(-2).into(), id.as_i64().unwrap().into()],
        );
    }
    run();
    assert_eq!(status("invoice", &not_due["id"]), "overdue");
    assert_eq!(status("bill", &bill["id"]), "overdue");
    let aging = json_get(&fin, "/api/v1/plugins/finance/aging").body;
    assert_eq!(
        aging["totals"],
        json!(["0", "110.00", "0", "0", "0"]),
        "60 left of the late one and the 50 now two days late: {aging}"
    );
    // Told once of the one that fell due since.
    assert_eq!(crate::outreach::plugin_notes(&amy).len(), 2);
}
