//! The OA plugin on the workflow engine: leave requests counted in working days and held to
//! the person's entitlement when approved, expense claims totalled from their lines and
//! approved by amount band then paid by finance, tasks with their done day and an overdue
//! list, announcements to a team with read receipts — each through the public API as the
//! people involved, with the bypasses refused.

use qingguan_tests::{install, Client, TestServer};
use serde_json::{json, Value};

fn label(en: &str, zh: &str) -> Value {
    json!({"en": en, "zh-CN": zh})
}

pub(crate) fn workflows(admin: &Client) {
    let leave = json!({"state_field": "status", "initial": "draft", "transitions": [
        {"name": "submit", "label": label("Ask", "提交"), "from": ["draft"], "to": "approved",
         "who": ["owner"], "approval": [{"approvers": ["owner_manager"]}]},
        {"name": "cancel", "label": label("Cancel", "撤销"), "from": ["draft", "approved"], "to": "cancelled",
         "who": ["owner", "owner_manager"]}]});
    assert_eq!(
        admin.put("/api/v1/workflows/leave_request", &leave).status,
        200
    );
    let claims = json!({"state_field": "status", "initial": "draft", "transitions": [
        {"name": "submit", "label": label("Submit", "提交"), "from": ["draft"], "to": "approved", "who": ["owner"],
         "when": {"field": "total", "op": "lte", "value": 5000}, "approval": [{"approvers": ["owner_manager"]}]},
        {"name": "submit_large", "label": label("Submit", "提交"), "from": ["draft"], "to": "approved", "who": ["owner"],
         "when": {"field": "total", "op": "gt", "value": 5000},
         "approval": [{"approvers": ["owner_manager"]}, {"approvers": [{"role": "finance"}]}]},
        {"name": "pay", "label": label("Pay", "付款"), "from": ["approved"], "to": "paid", "who": [{"role": "finance"}]}]});
    let r = admin.put("/api/v1/workflows/expense_claim", &claims);
    assert_eq!(r.status, 200, "{}", r.text);
}

pub(crate) fn transition(c: &Client, entity: &str, r: &Value, name: &str) -> qingguan_tests::Resp {
    c.post(
        &format!("/api/v1/records/{entity}/{}/transitions/{name}", r["id"]),
        &json!({"version": r["version"]}),
    )
}

pub(crate) fn approve(c: &Client, approval: i64) -> qingguan_tests::Resp {
    c.post(
        &format!("/api/v1/approvals/{approval}/decision"),
        &json!({"decision": "approve", "comment": "ok"}),
    )
}

/// Whether a date the server stamped is today — or yesterday, when the run crossed midnight
/// between the request and this check.
fn this_or_last_day(v: &Value) -> bool {
    let today = chrono::Utc::now().date_naive();
    [today, today - chrono::Duration::days(1)]
        .iter()
        .any(|d| v.as_str() == Some(d.format("%Y-%m-%d").to_string().as_str()))
}

fn get(c: &Client, entity: &str, id: &Value) -> Value {
    c.get(&format!("/api/v1/records/{entity}/{id}")).body
}

/// A server with the OA plugin installed (and, if asked, the workflows of its two forms).
pub(crate) fn oa_server(with_workflows: bool) -> (TestServer, Client) {
    let s = TestServer::start();
    let admin = s.admin();
    let installed = install(&admin, "qingguan-oa", true);
    assert_eq!(installed.status, 201, "{}", installed.text);
    if with_workflows {
        workflows(&admin);
    }
    (s, admin)
}

/// Makes `manager` the manager of `user` (who approves their requests).
pub(crate) fn reports_to(admin: &Client, user: i64, manager: i64) {
    crate::outreach::set_user(admin, user, json!({"manager": manager}));
}

#[test]
fn leave_and_expense_claims_run_on_workflows_within_their_rules() {
    let (s, admin) = oa_server(true);
    let (mia, mia_id) = s.user("mia", "manager", "east");
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (hana, _) = s.user("hana", "hr", "hq");
    let (fay, _) = s.user("fay", "finance", "hq");
    reports_to(&admin, amy_id, mia_id);

    // Five days of annual leave for 2027.
    let b = hana.post(
        "/api/v1/records/leave_balance",
        &json!({"person": amy_id, "year": 2027, "leave_type": "annual", "days": "5"}),
    );
    assert_eq!(b.status, 201, "{}", b.text);
    // 2027-03-01 is a Monday: Monday to Sunday is five working days.
    let week = amy.create("leave_request", json!({"leave_type": "annual", "start_on": "2027-03-01", "end_on": "2027-03-07", "reason": "家庭旅行"}));
    assert_eq!(week["days"], "5.0");
    assert_eq!(week["status"], "draft");
    let backwards = amy.post("/api/v1/records/leave_request", &json!({"leave_type": "annual", "start_on": "2027-03-05", "end_on": "2027-03-01", "reason": "x"}));
    assert!(
        backwards.body["error"]["fields"]["end_on"].is_string(),
        "{}",
        backwards.text
    );
    let overlapping = amy.post("/api/v1/records/leave_request", &json!({"leave_type": "sick", "start_on": "2027-03-03", "end_on": "2027-03-10", "reason": "x"}));
    assert!(
        overlapping.body["error"]["fields"]["start_on"].is_string(),
        "one person, one leave a day: {}",
        overlapping.text
    );
    let weekend = amy.post("/api/v1/records/leave_request", &json!({"leave_type": "annual", "start_on": "2027-03-13", "end_on": "2027-03-14", "reason": "x"}));
    assert_eq!(weekend.status, 422, "{}", weekend.text);
    // Approving by patching the state is refused; the transition asks the manager.
    let bypass = amy.patch_v(
        &format!("/api/v1/records/leave_request/{}", week["id"]),
        1,
        &json!({"status": "approved"}),
    );
    assert_eq!(bypass.status, 422, "{}", bypass.text);
    let asked = transition(&amy, "leave_request", &week, "submit");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    assert_eq!(approve(&amy, approval).status, 422, "not hers to decide");
    let decided = approve(&mia, approval);
    assert_eq!(decided.status, 200, "{}", decided.text);
    assert_eq!(
        get(&amy, "leave_request", &week["id"])["status"],
        "approved"
    );

    // One more day is more than is left: the manager's approval is refused, saying so.
    let more = amy.create("leave_request", json!({"leave_type": "annual", "start_on": "2027-03-08", "end_on": "2027-03-08", "reason": "再休一天"}));
    let asked = transition(&amy, "leave_request", &more, "submit");
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    let refused = approve(&mia, approval);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("days"), "{}", refused.text);
    assert_eq!(get(&amy, "leave_request", &more["id"])["status"], "draft");
    // "My leave": 5 entitled, 5 taken, 0 left.
    let page = amy.get("/api/v1/plugins/oa/leave?year=2027");
    assert!(page.text.contains("data-type=\"annual\""), "{}", page.text);
    assert!(
        page.text
            .contains("<td>5</td><td>5</td><td data-left>0</td>"),
        "{}",
        page.text
    );

    // An expense claim: the total is the lines' sum, whatever the client says.
    let claim = amy.create("expense_claim", json!({"title": "上海出差", "total": "1"}));
    assert_eq!(claim["total"], "0.00");
    for (what, amount) in [("高铁", "3000.00"), ("酒店", "2500.50")] {
        let l = amy.post(
            "/api/v1/records/expense_line",
            &json!({"claim": claim["id"], "spent_on": "2026-11-20",
            "category": "travel", "description": what, "amount": amount}),
        );
        assert_eq!(l.status, 201, "{}", l.text);
    }
    let claim = get(&amy, "expense_claim", &claim["id"]);
    assert_eq!(claim["total"], "5500.50");
    // Above ¥5,000: the small path is closed; the large one asks the manager, then finance.
    assert_eq!(
        transition(&amy, "expense_claim", &claim, "submit").status,
        422
    );
    let asked = transition(&amy, "expense_claim", &claim, "submit_large");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    assert_eq!(approve(&mia, approval).status, 200);
    assert_eq!(
        get(&amy, "expense_claim", &claim["id"])["status"],
        "draft",
        "finance still to approve"
    );
    assert_eq!(approve(&fay, approval).status, 200);
    let claim = get(&amy, "expense_claim", &claim["id"]);
    assert_eq!(claim["status"], "approved");
    // No more lines on a submitted claim; amy cannot pay herself; finance pays.
    let late = amy.post(
        "/api/v1/records/expense_line",
        &json!({"claim": claim["id"], "spent_on": "2026-11-21",
        "category": "meals", "description": "晚饭", "amount": "80"}),
    );
    assert_eq!(late.status, 422, "{}", late.text);
    assert_ne!(transition(&amy, "expense_claim", &claim, "pay").status, 200);
    let claim_for_fay = get(&fay, "expense_claim", &claim["id"]);
    let paid = transition(&fay, "expense_claim", &claim_for_fay, "pay");
    assert_eq!(paid.status, 200, "{}", paid.text);
    let claim = get(&amy, "expense_claim", &claim["id"]);
    assert_eq!(claim["status"], "paid");
    assert!(
        this_or_last_day(&claim["paid_on"]),
        "paid today: {}",
        claim["paid_on"]
    );
    assert_eq!(claim["total"], "5500.50");
}

#[test]
fn tasks_and_announcements_reach_the_right_people() {
    let (s, _admin) = oa_server(false);
    let (mia, _) = s.user("mia", "manager", "east");
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "west");
    let (hana, _) = s.user("hana", "hr", "hq");

    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let late = mia.create(
        "task",
        json!({"title": "回访恒信", "assignee": amy_id, "due_on": yesterday, "owner": amy_id}),
    );
    assert_eq!(late["state"], "open");
    // Amy is told who gave her what, with a link; a task she gives herself tells nobody.
    let told = crate::outreach::plugin_notes(&amy);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        told[0]["params"]["en"],
        format!("mia gave you a task: 回访恒信, due {yesterday}")
    );
    assert_eq!(told[0]["link"], format!("/e/task/{}", late["id"]));
    amy.create("task", json!({"title": "自己的事", "assignee": amy_id}));
    assert_eq!(crate::outreach::plugin_notes(&amy).len(), 1);
    let mine = amy.get("/api/v1/plugins/oa/tasks");
    assert!(
        mine.text.contains("回访恒信") && mine.text.contains("data-overdue"),
        "{}",
        mine.text
    );
    let done = amy.patch_v(
        &format!("/api/v1/records/task/{}", late["id"]),
        late["version"].as_i64().unwrap(),
        &json!({"state": "done"}),
    );
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(
        this_or_last_day(&done.body["done_on"]),
        "done today: {}",
        done.body["done_on"]
    );
    assert!(!amy
        .get("/api/v1/plugins/oa/tasks")
        .text
        .contains("回访恒信"));

    hana.create(
        "announcement",
        json!({"title": "全员：年终总结", "body": "请提交总结", "published_on": "2026-11-28"}),
    );
    hana.create("announcement", json!({"title": "东区周会改期", "body": "周四", "audience_team": "east", "published_on": "2026-11-29", "pinned": true}));
    hana.create(
        "announcement",
        json!({"title": "HR only", "body": "x", "audience_role": "hr"}),
    );
    // Each announcement tells its audience (not its author).
    let heard = |c: &Client| -> Vec<String> {
        crate::outreach::plugin_notes(c)
            .iter()
            .filter_map(|n| n["params"]["zh"].as_str().map(str::to_string))
            .filter(|t| t.starts_with("新公告"))
            .collect()
    };
    let mut amy_heard = heard(&amy);
    amy_heard.sort();
    assert_eq!(
        amy_heard,
        ["新公告：东区周会改期", "新公告：全员：年终总结"]
    );
    assert_eq!(heard(&bob), ["新公告：全员：年终总结"], "west is not east");
    assert!(heard(&hana).is_empty(), "the author is not told");
    assert_eq!(heard(&mia).len(), 2);
    let json_of = |c: &Client| {
        c.send(
            reqwest::Method::GET,
            "/api/v1/plugins/oa/announcements",
            |r| r.header("accept", "application/json"),
        )
        .body
    };
    let for_amy = json_of(&amy);
    let titles: Vec<&str> = for_amy["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["东区周会改期", "全员：年终总结"],
        "pinned first, her team's and everyone's"
    );
    let for_bob = json_of(&bob);
    assert_eq!(for_bob["items"].as_array().unwrap().len(), 1, "{for_bob}");
    // Reading: one receipt per person, always the reader's own.
    let id = for_amy["items"][0]["id"].as_i64().unwrap();
    let read = amy.send(
        reqwest::Method::POST,
        "/api/v1/plugins/oa/announcements/read",
        |r| {
            r.header("accept", "application/json")
                .json(&json!({"announcement": id}))
        },
    );
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(json_of(&amy)["items"][0]["read"], true);
    let twice = amy.send(
        reqwest::Method::POST,
        "/api/v1/plugins/oa/announcements/read",
        |r| {
            r.header("accept", "application/json")
                .json(&json!({"announcement": id}))
        },
    );
    assert_eq!(twice.status, 200);
    let hana_id = hana.get("/api/v1/auth/me").body["id"].clone();
    let forged = amy.post(
        "/api/v1/records/announcement_read",
        &json!({"announcement": id, "reader": hana_id}),
    );
    assert_eq!(
        forged.status, 422,
        "the receipt is amy's own, and she has one: {}",
        forged.text
    );
    let receipts = hana.get(&format!(
        "/api/v1/records/announcement_read?announcement={id}"
    ));
    assert_eq!(
        receipts.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        receipts.text
    );
    assert_eq!(receipts.body["items"][0]["reader"], amy_id);
    // A rep does not announce.
    assert_eq!(
        amy.post(
            "/api/v1/records/announcement",
            &json!({"title": "x", "body": "y"})
        )
        .status,
        403
    );
}

#[test]
fn lists_show_what_waits_for_me_and_a_delegate_sees_it_too() {
    let (s, admin) = oa_server(true);
    let (mia, mia_id) = s.user("mia", "manager", "east");
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (_ben, ben_id) = s.user("ben", "manager", "east");
    reports_to(&admin, amy_id, mia_id);
    let asked = amy.create("leave_request", json!({"leave_type": "sick", "start_on": "2027-03-01", "end_on": "2027-03-02", "reason": "发烧"}));
    amy.create("leave_request", json!({"leave_type": "sick", "start_on": "2027-04-01", "end_on": "2027-04-01", "reason": "复查"}));
    assert_eq!(
        transition(&amy, "leave_request", &asked, "submit").status,
        202
    );

    let waiting = mia.get("/api/v1/records/leave_request?waiting=me&count=true");
    assert_eq!(waiting.status, 200, "{}", waiting.text);
    assert_eq!(waiting.body["total"], 1);
    assert_eq!(waiting.body["items"][0]["id"], asked["id"]);
    assert_eq!(
        mia.get("/api/v1/records/leave_request").body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        mia.get("/api/v1/records/leave_request?waiting=you")
            .error_code(400),
        "bad_request"
    );
    let ben = s.login("ben", qingguan_tests::USER_PASSWORD);
    assert!(
        ben.get("/api/v1/records/leave_request?waiting=me").body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The list page's toggle, and a delegation from the inbox page.
    let ui = s.ui_login("mia", qingguan_tests::USER_PASSWORD);
    let list = ui.get("/e/leave_request", "zh-CN");
    assert!(
        list.text.contains("data-waiting") && list.text.contains("待我审批"),
        "{}",
        list.text
    );
    let mine = ui.get("/e/leave_request?waiting=me", "zh-CN");
    assert!(
        mine.text.contains("发烧") && !mine.text.contains("复查"),
        "{}",
        mine.text
    );
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let handed = ui.post(
        "/inbox/delegation",
        "zh-CN",
        &[("delegate", &ben_id.to_string()), ("until", &tomorrow)],
    );
    assert_eq!(handed.status, 200, "{}", handed.text);
    assert!(handed.text.contains("data-delegation"), "{}", handed.text);
    assert_eq!(
        ben.get("/api/v1/records/leave_request?waiting=me").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let ended = ui.post("/inbox/delegation/end", "zh-CN", &[]);
    assert_eq!(ended.status, 200);
    assert!(
        ben.get("/api/v1/records/leave_request?waiting=me").body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Not to oneself.
    let me = ui.post(
        "/inbox/delegation",
        "zh-CN",
        &[("delegate", &mia_id.to_string()), ("until", &tomorrow)],
    );
    assert_ne!(me.status, 200, "{}", me.text);
}

#[test]
fn a_delegate_does_not_decide_two_steps_of_one_approval() {
    let (s, admin) = oa_server(true);
    let (mia, mia_id) = s.user("mia", "manager", "east");
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (fay, fay_id) = s.user("fay", "finance", "hq");
    let (fred, _) = s.user("fred", "finance", "hq");
    reports_to(&admin, amy_id, mia_id);
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let handed = mia.put(
        "/api/v1/approvals/delegation",
        &json!({"delegate": fay_id, "until": tomorrow}),
    );
    assert_eq!(handed.status, 200, "{}", handed.text);
    let claim = amy.create("expense_claim", json!({"title": "大额采购"}));
    amy.create("expense_line", json!({"claim": claim["id"], "spent_on": "2026-11-20", "category": "office", "description": "设备", "amount": "6000"}));
    let claim = get(&amy, "expense_claim", &claim["id"]);
    let asked = transition(&amy, "expense_claim", &claim, "submit_large");
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    // Fay decides the manager's step standing in for mia; the finance step needs someone else.
    assert_eq!(approve(&fay, approval).status, 200);
    let again = approve(&fay, approval);
    assert_eq!(again.status, 422, "{}", again.text);
    assert_eq!(get(&amy, "expense_claim", &claim["id"])["status"], "draft");
    assert_eq!(approve(&fred, approval).status, 200);
    assert_eq!(
        get(&amy, "expense_claim", &claim["id"])["status"],
        "approved"
    );
}

/// An announcement to more people than one call may notify: the first batch hears of it with
/// the announcement, the `announce` job tells the rest — each person once, of the audience it
/// was announced to even if edited since — and an announcement deleted before its turn tells
/// nobody more.
#[test]
fn a_large_audience_hears_of_an_announcement_in_batches_each_person_once() {
    let (s, admin) = oa_server(false);
    let cfg = admin.put("/api/v1/plugins/oa/config", &json!({"announce_batch": 3}));
    assert_eq!(cfg.status, 200, "{}", cfg.text);
    let (hana, _) = s.user("hana", "hr", "hq");
    let reps: Vec<Client> = (0..8)
        .map(|i| s.user(&format!("rep{i}"), "sales", "east").0)
        .collect();
    let west: Vec<Client> = (0..2)
        .map(|i| s.user(&format!("west{i}"), "sales", "west").0)
        .collect();
    let heard = |c: &Client, title: &str| -> usize {
        crate::outreach::plugin_notes(c)
            .iter()
            .filter(|n| n["params"]["zh"] == format!("新公告：{title}"))
            .count()
    };
    let meeting = hana.create(
        "announcement",
        json!({"title": "销售例会", "body": "周五下午", "audience_role": "sales", "audience_team": "east"}),
    );
    for rep in &reps[..3] {
        assert_eq!(
            heard(rep, "销售例会"),
            1,
            "the first batch, with the announcement"
        );
    }
    // Its audience widened after the first batch: the later batches still tell whom it was
    // announced to.
    let widened = admin.patch_v(
        &format!("/api/v1/records/announcement/{}", meeting["id"]),
        meeting["version"].as_i64().unwrap(),
        &json!({"audience_team": ""}),
    );
    assert_eq!(widened.status, 200, "{}", widened.text);
    let gone = hana.create(
        "announcement",
        json!({"title": "撤回的公告", "body": "x", "audience_role": "sales"}),
    );
    let path = format!("/api/v1/records/announcement/{}", gone["id"]);
    let del = admin.delete_v(&path, gone["version"].as_i64().unwrap());
    assert_eq!(del.status, 204, "{}", del.text);
    let run = admin.post("/api/v1/plugins/oa/jobs/announce?wait=true", &json!({}));
    assert_eq!(run.status, 200, "{}", run.text);
    let again = admin.post("/api/v1/plugins/oa/jobs/announce?wait=true", &json!({}));
    assert_eq!(again.status, 200, "{}", again.text);
    for rep in &reps {
        assert_eq!(heard(rep, "销售例会"), 1, "everyone, once");
    }
    for rep in &west {
        assert_eq!(
            heard(rep, "销售例会"),
            0,
            "not in the audience announced to"
        );
    }
    let told_of_gone: usize = reps.iter().map(|r| heard(r, "撤回的公告")).sum();
    assert_eq!(told_of_gone, 3, "only the batch told before it was deleted");
    assert_eq!(heard(&hana, "销售例会"), 0, "not its author");
}
