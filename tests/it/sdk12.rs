//! SDK 1.2 end to end, through real components over HTTP: a call's writes commit or roll back
//! together (1.2 and 1.1 plugins alike), concurrent kv increments lose nothing, routes read as
//! their caller unless elevated (which needs the capability), errors arrive as distinct kinds,
//! and a job runs in resumable steps.

use qingguan_tests::{customer, install, Client, TestServer};
use serde_json::{json, Value};

fn items(c: &Client) -> Vec<String> {
    let r = c.get("/api/v1/records/tx_item?limit=200");
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect()
}

fn with_tx() -> (TestServer, Client) {
    let s = TestServer::start();
    let admin = s.admin();
    let r = install(&admin, "qg-test-tx", true);
    assert_eq!(r.status, 201, "{}", r.text);
    (s, admin)
}

#[test]
fn a_call_that_writes_three_records_and_then_fails_or_traps_leaves_none() {
    let (_s, admin) = with_tx();
    let ok = admin.post("/api/v1/plugins/tx/write/commit?tag=a", &json!({}));
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(items(&admin), ["a-3", "a-2", "a-1"]);

    let err = admin.post("/api/v1/plugins/tx/write/error?tag=b", &json!({}));
    assert_eq!(err.status, 422, "an error value: {}", err.text);
    let refused = admin.post("/api/v1/plugins/tx/write/422?tag=c", &json!({}));
    assert_eq!(refused.status, 422, "{}", refused.text);
    let trap = admin.post("/api/v1/plugins/tx/write/trap?tag=d", &json!({}));
    assert_eq!(trap.error_code(422), "plugin_failed");
    let why = trap.body["error"]["message"].as_str().unwrap();
    assert!(
        why.contains("trap after three writes"),
        "the guest's last output line names the cause: {why}"
    );
    assert_eq!(
        items(&admin),
        ["a-3", "a-2", "a-1"],
        "nothing of the failed, refused or trapped calls was kept"
    );
    let history = admin.get("/api/v1/records/tx_item/4/history");
    assert_eq!(history.status, 404, "no record 4 either: {}", history.text);

    let kv = admin.post("/api/v1/plugins/tx/write/kv-then-trap", &json!({}));
    assert_eq!(kv.status, 422, "{}", kv.text);
    let got = admin.get("/api/v1/plugins/tx/kv/get?key=trapped");
    assert_eq!(got.body["value"], Value::Null, "kv writes roll back too");

    // The server keeps writing afterwards: the writer was released.
    let again = admin.post("/api/v1/plugins/tx/write/commit?tag=e", &json!({}));
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(items(&admin).len(), 6);
}

#[test]
fn errors_arrive_as_kinds_a_plugin_can_act_on() {
    let (_s, admin) = with_tx();
    let first = admin.post("/api/v1/plugins/tx/write/unique?tag=u1", &json!({}));
    assert!(first.body["ok"].is_i64(), "{}", first.text);
    let dup = admin.post("/api/v1/plugins/tx/write/unique?tag=u1", &json!({}));
    assert_eq!(dup.body["error"], "unique", "{}", dup.text);
    assert_eq!(dup.body["field"], "code");

    let stale = admin.post("/api/v1/plugins/tx/write/stale?tag=s1", &json!({}));
    assert_eq!(stale.body["error"], "stale", "{}", stale.text);

    let refused = admin.post("/api/v1/plugins/tx/write/refused", &json!({}));
    assert_eq!(refused.body["error"], "invalid", "{}", refused.text);
    assert_eq!(refused.body["field"][0][0], "code");

    let date = admin.post("/api/v1/plugins/tx/write/bad-date", &json!({}));
    assert_eq!(date.body["error"], "invalid", "{}", date.text);
    assert!(
        date.body["message"]
            .as_str()
            .unwrap()
            .contains("2026-02-31"),
        "{}",
        date.text
    );
}

#[test]
fn a_route_reads_as_its_caller_and_elevation_needs_the_capability() {
    let (s, admin) = with_tx();
    let (amy, _) = s.user("amy", "sales", "east");
    amy.create("customer", customer("Amy's"));
    admin.create("customer", customer("Other 1"));
    admin.create("customer", customer("Other 2"));

    let mine = amy.get("/api/v1/plugins/tx/read/customers");
    assert_eq!(mine.body["ok"], 1, "a rep sees her own: {}", mine.text);
    assert_eq!(mine.body["get_first"], true);
    let all = admin.get("/api/v1/plugins/tx/read/customers");
    assert_eq!(all.body["ok"], 3, "{}", all.text);
    let grab = amy.get("/api/v1/plugins/tx/read/customers?scope=elevated");
    assert_eq!(grab.body["error"], "denied", "{}", grab.text);
    assert!(
        grab.body["message"].as_str().unwrap().contains("elevate"),
        "{}",
        grab.text
    );
}

#[test]
fn concurrent_kv_increments_lose_nothing() {
    let (s, admin) = with_tx();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let c = admin.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let r = c.post("/api/v1/plugins/tx/kv/increment", &json!({}));
                    assert_eq!(r.status, 200, "{}", r.text);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let got = admin.get("/api/v1/plugins/tx/kv/get?key=counter");
    assert_eq!(got.body["value"], "320");

    // A hook counting in kv while 64 customers are created at once.
    let (amy, _) = s.user("amy", "sales", "east");
    let creators: Vec<_> = (0..64)
        .map(|i| {
            let c = amy.clone();
            std::thread::spawn(move || c.create("customer", customer(&format!("C{i}"))))
        })
        .collect();
    for t in creators {
        t.join().unwrap();
    }
    let seen = admin.get("/api/v1/plugins/tx/kv/get?key=customers_seen");
    assert_eq!(seen.body["value"], "64", "{}", seen.text);

    let cas = |from: Option<&str>, to: &str| {
        let mut q = format!("/api/v1/plugins/tx/kv/cas?key=lock&to={to}");
        if let Some(f) = from {
            q.push_str(&format!("&from={f}"));
        }
        admin.post(&q, &json!({})).body["swapped"].clone()
    };
    assert_eq!(cas(None, "a"), true, "absent → a");
    assert_eq!(cas(None, "b"), false, "no longer absent");
    assert_eq!(cas(Some("a"), "b"), true);
    assert_eq!(cas(Some("a"), "c"), false);
}

#[test]
fn a_job_runs_in_resumable_steps_with_its_progress_visible() {
    let (_s, admin) = with_tx();
    for i in 0..5 {
        admin.create("customer", customer(&format!("C{i}")));
    }
    let never = admin.get("/api/v1/plugins/tx/jobs");
    assert_eq!(never.body, json!([]), "{}", never.text);

    // Started off the request path: 202 with the run, then followed until it ends.
    let run = admin.post("/api/v1/plugins/tx/jobs/walk", &json!({}));
    assert_eq!(run.status, 202, "{}", run.text);
    assert_eq!(run.body["state"], "running");
    let mut finished = Value::Null;
    qingguan_tests::until("the run finishes", || {
        finished = admin.get("/api/v1/plugins/tx/jobs").body[0].clone();
        finished["state"] == "finished"
    });
    assert_eq!(finished["job"], "walk", "the job finished");
    assert_eq!(finished["steps"], 3, "two customers a step: {finished}");
    assert_eq!(finished["done"], 5);
    let walked = admin.get("/api/v1/plugins/tx/kv/get?key=walk:walked");
    assert_eq!(walked.body["value"], "5");

    // Again, waiting: a finished run starts anew.
    let again = admin.post("/api/v1/plugins/tx/jobs/walk?wait=true", &json!({}));
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(
        (again.body["steps"].clone(), again.body["done"].clone()),
        (json!(3), json!(5))
    );
    let walked = admin.get("/api/v1/plugins/tx/kv/get?key=walk:walked");
    assert_eq!(walked.body["value"], "10");

    let missing = admin.post("/api/v1/plugins/tx/jobs/nope", &json!({}));
    assert_eq!(missing.status, 404, "{}", missing.text);
}

/// A run that fails part-way keeps what its committed steps did; run again, it continues from
/// its last committed step (nothing repeated), and `restart` starts from the beginning.
#[test]
fn a_failed_run_continues_from_its_last_committed_step() {
    let (_s, admin) = with_tx();
    for i in 0..5 {
        admin.create("customer", customer(&format!("C{i}")));
    }
    admin.post("/api/v1/plugins/tx/kv/set?key=fail_next", &json!({}));
    let failed = admin.post("/api/v1/plugins/tx/jobs/flaky?wait=true", &json!({}));
    assert_eq!(failed.status, 422, "{}", failed.text);
    let list = admin.get("/api/v1/plugins/tx/jobs");
    let run = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["job"] == "flaky")
        .unwrap()
        .clone();
    assert_eq!(
        (run["state"].clone(), run["steps"].clone()),
        (json!("failed"), json!(1)),
        "{run}"
    );
    assert!(run["error"].as_str().unwrap().contains("part-way"), "{run}");
    let undone = admin.get("/api/v1/plugins/tx/kv/get?key=flaky_failed_after_writing");
    assert_eq!(
        undone.body["value"],
        Value::Null,
        "the failed step's writes were undone"
    );

    admin.post("/api/v1/plugins/tx/kv/delete?key=fail_next", &json!({}));
    let again = admin.post("/api/v1/plugins/tx/jobs/flaky?wait=true", &json!({}));
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(
        (again.body["steps"].clone(), again.body["done"].clone()),
        (json!(3), json!(5))
    );
    let walked = admin.get("/api/v1/plugins/tx/kv/get?key=flaky:walked");
    assert_eq!(walked.body["value"], "5", "no customer walked twice");

    let fresh = admin.post(
        "/api/v1/plugins/tx/jobs/flaky?wait=true&restart=true",
        &json!({}),
    );
    assert_eq!(fresh.body["steps"], 3, "{}", fresh.text);
    let walked = admin.get("/api/v1/plugins/tx/kv/get?key=flaky:walked");
    assert_eq!(walked.body["value"], "10");
}

/// A job interrupted by a restart (its run left `running` with a cursor) continues from that
/// cursor when the server starts again, and does not repeat the steps that committed.
#[test]
fn an_interrupted_job_continues_from_its_cursor_after_a_restart() {
    let (s, admin) = with_tx();
    for i in 0..5 {
        admin.create("customer", customer(&format!("C{i}")));
    }
    // Step one by hand, as a run the process died after: the first page's cursor saved.
    let first = admin.get("/api/v1/records/customer?sort=id&limit=2");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    s.store.job_run_start("tx", "walk", "1.0.0", false).unwrap();
    s.store
        .job_run_step("tx", "walk", Some(&cursor), 2, None)
        .unwrap();
    // The process that ran it is gone.
    s.execute_sql(
        "UPDATE plugin_jobs SET host = 'gone' WHERE plugin = 'tx'",
        &[],
    );
    let restarted = s.restarted();
    let admin = restarted.client_as(&admin);
    let mut run = Value::Null;
    qingguan_tests::until("the run finishes", || {
        run = admin.get("/api/v1/plugins/tx/jobs").body[0].clone();
        run["state"] == "finished"
    });
    assert_eq!(
        run["steps"], 3,
        "one step before the restart, two after: {run}"
    );
    assert_eq!(run["done"], 5);
    let walked = admin.get("/api/v1/plugins/tx/kv/get?key=walk:walked");
    assert_eq!(
        walked.body["value"], "3",
        "only the last three were walked after the restart"
    );
}

#[test]
fn a_1_1_plugin_keeps_its_rules_and_its_writes_are_transactional_too() {
    let s = TestServer::start();
    let admin = s.admin();
    let r = install(&admin, "qg-test-past-sdk-11", true);
    assert_eq!(r.status, 201, "{}", r.text);
    let (amy, _) = s.user("amy", "sales", "east");
    amy.create("customer", customer("Amy's"));
    admin.create("customer", customer("Other"));

    let counts = amy.post("/api/v1/plugins/past11/counts", &json!({}));
    assert_eq!(counts.status, 200, "{}", counts.text);
    assert_eq!(counts.body["all"], 2, "1.1 reads: the plugin's own grant");
    assert_eq!(counts.body["all_aggregate"][0]["values"][0], 2);
    assert_eq!(counts.body["mine_aggregate"][0]["values"][0], 1, "as-user");

    let trap = amy.post("/api/v1/plugins/past11/two-then-trap", &json!({}));
    assert_eq!(trap.error_code(422), "plugin_failed");
    let list = admin.get("/api/v1/records/customer?q=Past");
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        0,
        "{}",
        list.text
    );

    let nf = amy.post("/api/v1/plugins/past11/duplicate", &json!({}));
    assert!(nf.body["not_found"].is_string(), "{}", nf.text);
}

/// The plugins page lists each job with its schedule and its latest run, in the reader's
/// language, and runs one on request.
#[test]
fn the_plugins_page_shows_job_progress_and_runs_a_job() {
    let (s, admin) = with_tx();
    for i in 0..3 {
        admin.create("customer", customer(&format!("C{i}")));
    }
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let page = ui.get("/admin/plugins", "zh-CN");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("定时任务"), "a jobs section");
    assert!(page.text.contains("每 24 小时"), "the schedule in words");
    assert!(page.text.contains("尚未运行"), "never ran yet");
    let ran = ui.post("/admin/plugins/tx/jobs/walk", "zh-CN", &[]);
    assert_eq!(ran.status, 200, "{}", ran.text);
    let mut text = String::new();
    qingguan_tests::until("the page shows the run finished", || {
        text = ui.get("/admin/plugins", "zh-CN").text;
        text.contains("已完成")
    });
    assert!(text.contains("已处理 3，共 2 步"), "units and steps");
    let unknown = ui.post("/admin/plugins/tx/jobs/nope", "zh-CN", &[]);
    assert!(
        unknown.text.contains("操作未完成") && unknown.text.contains("has no job"),
        "refused, with the reason as the detail: {}",
        unknown.text
    );
}
