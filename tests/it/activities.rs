//! Activities on every record: notes, calls and to-dos about a record the writer may read,
//! @mentions that notify, the record's timeline merging activities with history, the record
//! page's card and "my activities due" on the dashboard.

use qingguan_tests::{customer, TestServer, USER_PASSWORD};
use serde_json::json;

#[test]
fn activities_sit_on_any_record_and_tell_the_people_they_mention() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (mia, _) = s.user("mia", "manager", "east");
    let (bob, _) = s.user("bob", "sales", "west");
    let c = amy.create("customer", customer("杭州恒信科技"));
    let theirs = admin.create("customer", customer("Not Amy's"));

    let note = amy.post(
        "/api/v1/records/activity",
        &json!({"kind": "call", "subject": "确认二期需求", "body": "客户要报价，@mia 请审一下，@bob 也看看。amy@example.com",
                "about_entity": "customer", "about_id": c["id"]}),
    );
    assert_eq!(note.status, 201, "{}", note.text);
    assert_eq!(note.body["owner"], amy_id);
    // What it is about must be a record the writer may read, named in full.
    let stranger = amy.post(
        "/api/v1/records/activity",
        &json!({"kind": "note", "subject": "x", "about_entity": "customer", "about_id": theirs["id"]}),
    );
    assert_eq!(stranger.status, 422, "{}", stranger.text);
    assert!(stranger.body["error"]["fields"]["about_id"].is_string());
    let half = amy.post(
        "/api/v1/records/activity",
        &json!({"kind": "note", "subject": "x", "about_entity": "customer"}),
    );
    assert!(
        half.body["error"]["fields"]["about_id"].is_string(),
        "{}",
        half.text
    );

    // @mia is told; bob (another team) may not read the customer, so is not.
    let told = mia.get("/api/v1/notifications").body;
    assert_eq!(told["items"][0]["kind"], "mention", "{told}");
    assert_eq!(told["items"][0]["link"], format!("/e/customer/{}", c["id"]));
    assert!(bob.get("/api/v1/notifications").body["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // Activities are their author's own: others read them through the record they are about.
    assert!(mia.get("/api/v1/records/activity").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let found = mia.get("/api/v1/search?q=%E4%BA%8C%E6%9C%9F");
    assert!(!found.text.contains("确认二期需求"), "{}", found.text);
    let for_mia = mia.get(&format!("/api/v1/records/customer/{}/timeline", c["id"]));
    assert!(
        for_mia.text.contains("确认二期需求"),
        "her team's record: {}",
        for_mia.text
    );

    // The timeline: the activity and the record's history, newest first.
    let v = c["version"].as_i64().unwrap();
    amy.patch_v(
        &format!("/api/v1/records/customer/{}", c["id"]),
        v,
        &json!({"status": "customer"}),
    );
    let timeline = amy.get(&format!("/api/v1/records/customer/{}/timeline", c["id"]));
    assert_eq!(timeline.status, 200, "{}", timeline.text);
    let kinds: Vec<&str> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["change", "activity", "change"], "{}", timeline.text);
    assert_eq!(
        timeline.body["items"][1]["record"]["subject"],
        "确认二期需求"
    );
    assert_eq!(
        bob.get(&format!("/api/v1/records/customer/{}/timeline", c["id"]))
            .status,
        404
    );

    // The record page's card adds one; the dashboard lists what is due.
    let ui = s.ui_login("amy", USER_PASSWORD);
    let page = ui.get(&format!("/e/customer/{}", c["id"]), "zh-CN");
    assert!(
        page.text.contains("data-timeline") && page.text.contains("确认二期需求"),
        "{}",
        page.text
    );
    // One timeline, newest first: the status change, then the note, then the creation.
    let timeline = &page.text[page.text.find("data-timeline").unwrap()..];
    let (changed, note, created) = (
        timeline.find("<strong>修改</strong>").unwrap(),
        timeline.find("确认二期需求").unwrap(),
        timeline.find("<strong>创建</strong>").unwrap(),
    );
    assert!(changed < note && note < created, "{timeline}");
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let added = ui.post(
        &format!("/e/customer/{}/activity", c["id"]),
        "zh-CN",
        &[
            ("kind", "todo"),
            ("subject", "寄合同"),
            ("body", ""),
            ("due_on", &yesterday),
        ],
    );
    assert_eq!(added.status, 200, "{}", added.text);
    assert!(added.text.contains("寄合同"), "{}", added.text);
    let home = ui.get("/", "zh-CN");
    assert!(
        home.text.contains("data-my-activities") && home.text.contains("寄合同"),
        "{}",
        home.text
    );
    let bad = ui.post(
        &format!("/e/customer/{}/activity", c["id"]),
        "zh-CN",
        &[("kind", "todo"), ("subject", "")],
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
}

#[test]
fn a_new_record_that_looks_like_an_old_one_is_shown_first() {
    let s = TestServer::start();
    let (amy, _) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "west");
    let mut c = customer("杭州恒信科技有限公司");
    c["phone"] = json!("0571-88886666");
    let old = amy.create("customer", c);
    bob.create("customer", customer("Hidden Co., Ltd."));
    let found = amy.post(
        "/api/v1/records/customer/duplicates",
        &json!({"name": "杭州恒信科技"}),
    );
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.body["items"][0]["id"], old["id"]);
    assert_eq!(found.body["items"][0]["field"], "name");
    let by_phone = amy.post(
        "/api/v1/records/customer/duplicates",
        &json!({"name": "别的名字", "phone": "0571-88886666"}),
    );
    assert_eq!(by_phone.body["items"][0]["field"], "phone");
    // Only among what the caller may read.
    let hidden = amy.post(
        "/api/v1/records/customer/duplicates",
        &json!({"name": "HIDDEN CO"}),
    );
    assert!(
        hidden.body["items"].as_array().unwrap().is_empty(),
        "{}",
        hidden.text
    );
    assert!(amy
        .post(
            "/api/v1/records/customer/duplicates",
            &json!({"name": "全新客户"})
        )
        .body["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // The form shows them once; sending it again saves.
    let ui = s.ui_login("amy", USER_PASSWORD);
    let form = [
        ("name", "杭州恒信科技 股份有限公司"),
        ("kind", "company"),
        ("status", "lead"),
    ];
    let first = ui.post("/e/customer/new", "zh-CN", &form);
    assert_eq!(first.status, 409, "{}", first.text);
    assert!(
        first.text.contains("似乎已有相同的记录")
            && first.text.contains("name=\"confirm_duplicates\""),
        "{}",
        first.text
    );
    let mut again = form.to_vec();
    again.push(("confirm_duplicates", "1"));
    let saved = ui.post("/e/customer/new", "zh-CN", &again);
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(
        amy.get("/api/v1/records/customer?count=true").body["total"],
        2
    );
}

/// A follow-up past its date tells its owner once — in the inbox, in their language, linked to
/// it — and again only when its date is moved and passes again; done and future ones are left
/// alone.
#[test]
fn owners_hear_of_follow_ups_past_their_date_once_per_date() {
    let s = TestServer::start_with(qingguan::Config {
        overdue_interval: std::time::Duration::from_millis(100),
        ..qingguan::Config::default()
    });
    let (amy, _) = s.user("amy", "sales", "east");
    let c = amy.create("customer", customer("杭州恒信科技"));
    let todo = |who: &qingguan_tests::Client, subject: &str, due: &str, done: bool| {
        who.create(
            "activity",
            json!({"kind": "todo", "subject": subject, "due_on": due, "done": done,
                   "about_entity": "customer", "about_id": c["id"]}),
        )
    };
    let day = |back: i64| {
        (chrono::Utc::now().date_naive() - chrono::Duration::days(back))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (three_ago, five_ago, seven_ago) = (day(3), day(5), day(7));
    let late = todo(&amy, "Send the quote", &three_ago, false);
    todo(&amy, "Already done", &three_ago, true);
    todo(&amy, "Long forgotten", &day(400), false);
    todo(&amy, "Next century", "2199-01-01", false);
    let overdue = |who: &qingguan_tests::Client| -> Vec<serde_json::Value> {
        who.get("/api/v1/notifications").body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "activity_overdue")
            .cloned()
            .collect()
    };
    let wait_for = |who: &qingguan_tests::Client, n: usize| {
        let start = std::time::Instant::now();
        while overdue(who).len() < n {
            assert!(start.elapsed().as_secs() < 20, "{:?}", overdue(who));
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // A few more passes: still only n.
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert_eq!(overdue(who).len(), n, "{:?}", overdue(who));
    };
    wait_for(&amy, 1);
    let note = &overdue(&amy)[0];
    assert_eq!(note["link"], format!("/e/activity/{}", late["id"]));
    assert_eq!(note["params"]["due_on"], three_ago.as_str());
    let ui = s.ui_login("amy", qingguan_tests::USER_PASSWORD);
    let inbox = ui.get("/inbox", "zh-CN");
    assert!(
        inbox.text.contains("Send the quote")
            && inbox
                .text
                .contains(&format!("已逾期，计划日期 {three_ago}")),
        "{}",
        inbox.text
    );
    // Moved to another past date: told again. Done: never again.
    let moved = amy.patch_v(
        &format!("/api/v1/records/activity/{}", late["id"]),
        late["version"].as_i64().unwrap(),
        &json!({"due_on": five_ago}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    wait_for(&amy, 2);
    let finished = amy.patch_v(
        &format!("/api/v1/records/activity/{}", late["id"]),
        moved.body["version"].as_i64().unwrap(),
        &json!({"due_on": seven_ago, "done": true}),
    );
    assert_eq!(finished.status, 200, "{}", finished.text);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(overdue(&amy).len(), 2);
}

#[test]
fn a_long_timeline_comes_a_page_at_a_time_with_nothing_lost_or_repeated() {
    let s = TestServer::start();
    let admin = s.admin();
    let c = admin.create("customer", customer("Long story"));
    let id = c["id"].as_i64().unwrap();
    let path = format!("/api/v1/records/customer/{id}");
    // 120 changes and 30 notes, interleaved: with the creation, 151 entries.
    for i in 0..120 {
        let version = i + 1;
        let r = admin.patch_v(&path, version, &json!({"notes": format!("step {i}")}));
        assert_eq!(r.status, 200, "{}", r.text);
        if i % 4 == 0 {
            let n = admin.post(
                "/api/v1/records/activity",
                &json!({"kind": "note", "subject": format!("note {i}"),
                        "about_entity": "customer", "about_id": id}),
            );
            assert_eq!(n.status, 201, "{}", n.text);
        }
    }
    let mut seen: Vec<String> = Vec::new();
    let mut ats: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}/timeline?limit=50&before={c}"),
            None => format!("{path}/timeline?limit=50"),
        };
        let page = admin.get(&url);
        assert_eq!(page.status, 200, "{}", page.text);
        pages += 1;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 50);
        for i in items {
            let key = match i["kind"].as_str().unwrap() {
                "change" => format!("h{}", i["entry"]["id"]),
                _ => format!("a{}", i["record"]["id"]),
            };
            assert!(!seen.contains(&key), "{key} twice");
            seen.push(key);
            ats.push(i["at"].as_str().unwrap().to_string());
        }
        match page.body["next"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(pages < 10, "no end");
    }
    assert_eq!(seen.len(), 151, "every entry once");
    assert_eq!(pages, 4, "151 entries in pages of 50");
    assert!(ats.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(seen.iter().filter(|k| k.starts_with('a')).count(), 30);

    // A cursor that is not one, or out of range limits: refused or clamped, never a 500.
    for bad in ["x", "h1", "h-1.a", "ha.a", "h1.a1.b"] {
        let r = admin.get(&format!("{path}/timeline?before={bad}"));
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    assert_eq!(
        admin.get(&format!("{path}/timeline?limit=0")).body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(admin.get(&format!("{path}/timeline?limit=x")).status, 400);

    // The record's page shows the newest 50 and leads to older ones.
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let page = ui.get(&format!("/e/customer/{id}"), "en");
    assert!(page.text.contains("note 116"), "{}", page.text);
    assert!(!page.text.contains("note 60"), "{}", page.text);
    let older = page
        .text
        .split("data-timeline-older")
        .next()
        .and_then(|t| t.rsplit("href=\"").next())
        .map(|h| {
            h.split('"')
                .next()
                .unwrap()
                .replace("&amp;", "&")
                .replace("&#x2f;", "/")
        })
        .expect("a link to older entries");
    let bad = ui.get(&format!("/e/customer/{id}?before=nonsense"), "en");
    assert_eq!(bad.status, 400, "{}", bad.text);
    let next = ui.get(&older, "en");
    assert_eq!(next.status, 200, "{older}: {}", next.text);
    assert!(!next.text.contains("note 116"), "{}", next.text);
    assert!(next.text.contains("note 60"), "{}", next.text);
}
