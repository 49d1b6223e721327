//! The import group: 100,000 deals from a CSV file through the sales plugin's write hooks —
//! uploaded, dry-run and imported over HTTP — next to the same rows sent one POST at a time.

use crate::report::Report;
use qingguan_tests::{Client, TestServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROWS: usize = 100_000;
/// Rows sent as single POSTs for the baseline (the rate is what matters).
const SINGLE_POSTS: usize = 3_000;

/// One generated deal: title, customer id, owner, amount, opened, stage.
fn deal(i: usize) -> [String; 6] {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x >> 29;
    let stages = ["lead", "qualified", "proposal", "negotiation"];
    [
        format!("Imported deal {i}"),
        (1 + x % 10_000).to_string(),
        format!("rep{}", x % 50),
        format!("{}.{:02}", (x >> 20) % 100_000, x % 100),
        format!("{:02}-{:02}-26", 1 + (x >> 8) % 28, 1 + (x >> 12) % 12),
        stages[((x >> 4) % 4) as usize].to_string(),
    ]
}

fn wait(admin: &Client, id: i64) -> anyhow::Result<Value> {
    loop {
        let r = admin.get(&format!("/api/v1/imports/{id}"));
        anyhow::ensure!(r.status == 200, "import {id}: {}", r.text);
        if !matches!(r.body["status"].as_str(), Some("checking" | "running")) {
            return Ok(r.body);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn import(server: &TestServer, report: &mut Report) -> anyhow::Result<()> {
    let admin = server.admin();
    if admin.get("/api/v1/plugins/sales").status == 404 {
        let r = qingguan_tests::install(&admin, "qingguan-sales", true);
        anyhow::ensure!(r.status == 201, "install sales: {}", r.text);
    }
    let mut csv = String::from("Title,Customer,Owner,Amount,Opened,Stage\n");
    for i in 0..ROWS {
        csv.push_str(&deal(i).join(","));
        csv.push('\n');
    }
    let options = json!({
        "mapping": {"Title": "title", "Customer": "customer", "Owner": "owner",
                    "Amount": "amount", "Opened": "opened_on", "Stage": "stage"},
        "date_format": "DD-MM-YY",
        "match_on": {"customer": "id"}
    });

    let t = Instant::now();
    let up = admin.send(
        reqwest::Method::POST,
        "/api/v1/imports?entity=deal&file_name=deals.csv",
        |r| r.body(csv.clone()),
    );
    anyhow::ensure!(up.status == 201, "upload: {}", up.text);
    let uploaded = t.elapsed().as_secs_f64();
    let id = up.body["import"]["id"].as_i64().unwrap_or_default();

    let t = Instant::now();
    let r = admin.post(&format!("/api/v1/imports/{id}/check"), &options);
    anyhow::ensure!(r.status == 202, "check: {}", r.text);
    let checked = wait(&admin, id)?;
    let check_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        checked["failed"] == 0,
        "dry run refused rows: {}",
        checked["errors"][0]
    );

    let t = Instant::now();
    let r = admin.post(&format!("/api/v1/imports/{id}/run"), &options);
    anyhow::ensure!(r.status == 202, "run: {}", r.text);
    let done = wait(&admin, id)?;
    let run_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        done["inserted"] == ROWS as u64,
        "imported {} of {ROWS}",
        done["inserted"]
    );

    // The baseline: the same rows, one POST each, as an integration without imports sends them.
    let users: Value = admin.get("/api/v1/records/user?limit=200").body;
    let id_of = |name: &str| {
        users["items"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["username"] == name))
            .and_then(|u| u["id"].as_i64())
    };
    let t = Instant::now();
    for i in ROWS..ROWS + SINGLE_POSTS {
        let [title, customer, owner, amount, opened, stage] = deal(i);
        let (d, m, y) = (&opened[0..2], &opened[3..5], &opened[6..8]);
        let r = admin.post(
            "/api/v1/records/deal",
            &json!({"title": title, "customer": customer.parse::<i64>()?, "owner": id_of(&owner),
                    "amount": amount, "opened_on": format!("20{y}-{m}-{d}"), "stage": stage}),
        );
        anyhow::ensure!(r.status == 201, "post: {}", r.text);
    }
    let single_rate = SINGLE_POSTS as f64 / t.elapsed().as_secs_f64();

    let per_minute = |s: f64| ROWS as f64 / s * 60.0;
    report.add(
        "import",
        &format!("import {ROWS} deals (CSV, sales hooks, owner and customer looked up)"),
        per_minute(run_s),
        "rows/min",
        Some((
            "the same rows as single POSTs, one client",
            single_rate * 60.0,
        )),
        &format!(
            "{run_s:.1} s for {ROWS} rows (budget: under 60 s); upload and read {uploaded:.1} s"
        ),
    );
    report.add(
        "import",
        &format!("dry run of the same {ROWS} rows (every write rolled back)"),
        per_minute(check_s),
        "rows/min",
        Some(("the import itself", per_minute(run_s))),
        &format!("{check_s:.1} s"),
    );
    Ok(())
}
