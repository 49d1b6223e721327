//! Leave on the work calendar: HR marks days off (a company day, public holidays) and make-up
//! working days (调休上班); a request counts the days the calendar says are working, and a
//! start in the afternoon or an end at noon counts half a day — held to the balance, with a
//! morning and an afternoon off on the same day not clashing.

use crate::oa::{approve, oa_server, reports_to, transition};
use qingguan_tests::USER_PASSWORD;
use serde_json::json;

#[test]
fn leave_counts_the_work_calendar_and_half_days() {
    let (s, admin) = oa_server(true);
    let (mia, mia_id) = s.user("mia", "manager", "east");
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (hana, _) = s.user("hana", "hr", "hq");
    reports_to(&admin, amy_id, mia_id);

    // 2027-03-01 is a Monday: the Wednesday is a day off, the Saturday a working day.
    for (day, kind, name) in [
        ("2027-03-03", "holiday", "公司年会"),
        ("2027-03-06", "workday", "调休上班"),
    ] {
        let r = hana.post(
            "/api/v1/records/calendar_day",
            &json!({"day": day, "kind": kind, "name": name}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let twice = hana.post(
        "/api/v1/records/calendar_day",
        &json!({"day": "2027-03-03", "kind": "holiday", "name": "again"}),
    );
    assert!(twice.status == 409 || twice.status == 422, "{}", twice.text);
    let r = amy.post(
        "/api/v1/records/calendar_day",
        &json!({"day": "2027-03-04", "kind": "holiday", "name": "my own day off"}),
    );
    assert_eq!(r.status, 403, "only HR keeps the calendar: {}", r.text);
    assert_eq!(
        amy.get("/api/v1/records/calendar_day").body["items"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "everyone reads it"
    );
    let b = hana.post(
        "/api/v1/records/leave_balance",
        &json!({"person": amy_id, "year": 2027, "leave_type": "annual", "days": "5"}),
    );
    assert_eq!(b.status, 201, "{}", b.text);

    // Monday afternoon to Sunday: ½ + Tuesday + Thursday + Friday + the working Saturday.
    let week = amy.create(
        "leave_request",
        json!({"leave_type": "annual", "start_on": "2027-03-01", "start_half": "pm",
               "end_on": "2027-03-07", "reason": "家庭旅行"}),
    );
    assert_eq!(week["days"], "4.5", "{week}");
    assert_eq!(week["end_half"], "pm", "a full last day by default");
    // The day off alone is no leave; an afternoon to a morning of one day is nothing.
    for (start, start_half, end, end_half) in [
        ("2027-03-03", "am", "2027-03-03", "pm"),
        ("2027-03-10", "pm", "2027-03-10", "am"),
    ] {
        let r = amy.post(
            "/api/v1/records/leave_request",
            &json!({"leave_type": "sick", "start_on": start, "start_half": start_half,
                    "end_on": end, "end_half": end_half, "reason": "x"}),
        );
        assert_eq!(
            r.status, 422,
            "{start} {start_half}–{end} {end_half}: {}",
            r.text
        );
        assert!(
            r.body["error"]["fields"]["end_on"].is_string(),
            "{}",
            r.text
        );
    }
    // A morning and an afternoon of one day do not clash; a whole day then does.
    let morning = amy.post(
        "/api/v1/records/leave_request",
        &json!({"leave_type": "sick", "start_on": "2027-03-10", "end_on": "2027-03-10",
                "end_half": "am", "reason": "看牙"}),
    );
    assert_eq!(morning.status, 201, "{}", morning.text);
    assert_eq!(morning.body["days"], "0.5");
    let afternoon = amy.post(
        "/api/v1/records/leave_request",
        &json!({"leave_type": "personal", "start_on": "2027-03-10", "start_half": "pm",
                "end_on": "2027-03-10", "reason": "办事"}),
    );
    assert_eq!(afternoon.status, 201, "{}", afternoon.text);
    let whole = amy.post(
        "/api/v1/records/leave_request",
        &json!({"leave_type": "sick", "start_on": "2027-03-10", "end_on": "2027-03-10", "reason": "x"}),
    );
    assert_eq!(whole.status, 422, "{}", whole.text);
    assert!(
        whole.body["error"]["fields"]["start_on"].is_string(),
        "{}",
        whole.text
    );

    // Approved, the four and a half days leave half a day of the five.
    let asked = transition(&amy, "leave_request", &week, "submit");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    assert_eq!(approve(&mia, approval).status, 200);
    let page = amy.get("/api/v1/plugins/oa/leave?year=2027");
    assert!(
        page.text
            .contains("<td>5</td><td>4.5</td><td data-left>0.5</td>"),
        "{}",
        page.text
    );
    // A whole day more is more than is left; half a day is not.
    let day = amy.create(
        "leave_request",
        json!({"leave_type": "annual", "start_on": "2027-03-11", "end_on": "2027-03-11", "reason": "再休一天"}),
    );
    let asked = transition(&amy, "leave_request", &day, "submit");
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    let refused = approve(&mia, approval);
    assert_eq!(refused.status, 422, "{}", refused.text);
    let half = amy.create(
        "leave_request",
        json!({"leave_type": "annual", "start_on": "2027-03-12", "end_on": "2027-03-12",
               "end_half": "am", "reason": "半天"}),
    );
    let asked = transition(&amy, "leave_request", &half, "submit");
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    assert_eq!(approve(&mia, approval).status, 200);

    // The form asks for the part of day, in the reader's language.
    let ui = s.ui_login("amy", USER_PASSWORD);
    let form = ui.get("/e/leave_request/new", "zh-CN");
    assert!(
        form.text.contains("开始时段") && form.text.contains("下午"),
        "{}",
        form.text
    );
    let hr = s.ui_login("hana", USER_PASSWORD);
    let menu = hr.get("/", "zh-CN");
    assert!(menu.text.contains("工作日历"), "HR keeps it: {}", menu.text);
}

/// HR loads a year's official public holidays and make-up days from a spreadsheet, through the
/// ordinary import (value mapping for the kind), instead of typing each day; leave over the
/// Spring Festival then counts only the working days. A rep may not import into the calendar.
#[test]
fn hr_imports_a_years_public_holidays_and_leave_counts_them() {
    let (s, _admin) = oa_server(true);
    let (amy, _) = s.user("amy", "sales", "east");
    let (hana, _) = s.user("hana", "hr", "hq");
    // A holiday notice (made up for the test): Thu 4 to Wed 10 Feb off, Sat 13 Feb worked.
    let csv = "日期,类型,名称\n\
               2027-02-04,休,春节\n2027-02-05,休,春节\n2027-02-08,休,春节\n\
               2027-02-09,休,春节\n2027-02-10,休,春节\n2027-02-13,班,春节调休上班\n";
    let upload = |c: &qingguan_tests::Client| {
        c.send(
            reqwest::Method::POST,
            "/api/v1/imports?entity=calendar_day&file_name=holidays-2027.csv",
            |r| r.body(csv.as_bytes().to_vec()),
        )
    };
    let refused = upload(&amy);
    assert!(
        refused.status == 403 || refused.status == 404,
        "{}",
        refused.text
    );
    let up = upload(&hana);
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["import"]["id"].as_i64().unwrap();
    let mapping = &up.body["options"]["mapping"];
    assert_eq!(
        mapping["日期"], "day",
        "suggested from the Chinese labels: {}",
        up.text
    );
    assert_eq!(mapping["名称"], "name");
    let options = json!({
        "mapping": {"日期": "day", "类型": "kind", "名称": "name"},
        "date_format": "YYYY-MM-DD",
        "values": {"kind": {"休": "holiday", "班": "workday"}}
    });
    let r = hana.post(&format!("/api/v1/imports/{id}/run"), &options);
    assert_eq!(r.status, 202, "{}", r.text);
    let done = loop {
        let r = hana.get(&format!("/api/v1/imports/{id}"));
        let status = r.body["status"].as_str().unwrap_or_default().to_string();
        if status != "running" && status != "checking" {
            break r.body;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["inserted"], 6, "{done}");
    let workday = hana.get("/api/v1/records/calendar_day?day=2027-02-13").body;
    assert_eq!(workday["items"][0]["kind"], "workday", "{workday}");

    // Mon 1 Feb to Sun 14 Feb: 10 weekdays less 5 days off, plus the working Saturday = 6.
    let leave = amy.post(
        "/api/v1/records/leave_request",
        &json!({"leave_type": "personal", "start_on": "2027-02-01", "end_on": "2027-02-14",
                "reason": "回老家过年"}),
    );
    assert_eq!(leave.status, 201, "{}", leave.text);
    assert_eq!(leave.body["days"], "6.0", "{}", leave.text);
}

/// HR declares a day off after leave over it was asked for (and approved): the requests over
/// it count again — a holiday is no day of leave — and count back when the day is removed. A
/// request of that day alone keeps its count (it would have none) and the day still goes in.
#[test]
fn a_day_off_declared_later_counts_the_requests_over_it_again() {
    let (s, admin) = oa_server(true);
    let (mia, mia_id) = s.user("mia", "manager", "east");
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (hana, _) = s.user("hana", "hr", "hq");
    reports_to(&admin, amy_id, mia_id);
    let b = hana.post(
        "/api/v1/records/leave_balance",
        &json!({"person": amy_id, "year": 2027, "leave_type": "annual", "days": "10"}),
    );
    assert_eq!(b.status, 201, "{}", b.text);
    // Mon 5 – Fri 9 April 2027: 5 days, approved; and Thursday 15 April alone.
    let week = amy.create(
        "leave_request",
        json!({"leave_type": "annual", "start_on": "2027-04-05", "end_on": "2027-04-09", "reason": "旅行"}),
    );
    assert_eq!(week["days"], "5.0", "{week}");
    let asked = transition(&amy, "leave_request", &week, "submit");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    assert_eq!(approve(&mia, approval).status, 200);
    // The leave page: 10 entitled, 5 taken.
    let page = amy.get("/api/v1/plugins/oa/leave?year=2027");
    assert!(
        page.text
            .contains("<td>10</td><td>5</td><td data-left>5</td>"),
        "{}",
        page.text
    );
    let one = amy.create(
        "leave_request",
        json!({"leave_type": "personal", "start_on": "2027-04-15", "end_on": "2027-04-15", "reason": "办事"}),
    );
    assert_eq!(one["days"], "1.0");
    let days = |r: &serde_json::Value| {
        amy.get(&format!("/api/v1/records/leave_request/{}", r["id"]))
            .body["days"]
            .clone()
    };

    // 清明节 (Mon 5 April) declared later: the week counts 4 days, the balance follows.
    let qingming = hana.post(
        "/api/v1/records/calendar_day",
        &json!({"day": "2027-04-05", "kind": "holiday", "name": "清明节"}),
    );
    assert_eq!(qingming.status, 201, "{}", qingming.text);
    assert_eq!(days(&week), "4.0");
    let history = amy
        .get(&format!(
            "/api/v1/records/leave_request/{}/history",
            week["id"]
        ))
        .body;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["changes"]["days"] == json!(["5.0", "4.0"])),
        "the recount is in the request's history: {history}"
    );
    let page = amy.get("/api/v1/plugins/oa/leave?year=2027");
    assert!(
        page.text
            .contains("<td>10</td><td>4</td><td data-left>6</td>"),
        "{}",
        page.text
    );
    // A day off that is the whole of a request: the day goes in, the request keeps its 1.
    let day_off = hana.post(
        "/api/v1/records/calendar_day",
        &json!({"day": "2027-04-15", "kind": "holiday", "name": "公司活动"}),
    );
    assert_eq!(day_off.status, 201, "{}", day_off.text);
    assert_eq!(days(&one), "1.0");
    // HR, who made the change, is told of the request that needs a decision, in Chinese.
    let notices = |who: &qingguan_tests::Client| {
        who.get("/api/v1/notifications").body["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    let told = notices(&hana);
    let about_one: Vec<_> = told
        .iter()
        .filter(|n| n["link"] == format!("/e/leave_request/{}", one["id"]))
        .collect();
    assert_eq!(about_one.len(), 1, "{told:?}");
    assert!(
        about_one[0]["params"]["zh"]
            .as_str()
            .unwrap()
            .contains("仍计 1 天：2027-04-15 起它已没有工作日"),
        "{told:?}"
    );
    assert!(
        notices(&amy)
            .iter()
            .all(|n| n["link"] != about_one[0]["link"]),
        "only whoever changed the calendar is told"
    );
    // A day keeps its date: moved, the requests over the old date would stay counted for it.
    let moved = hana.patch_v(
        &format!("/api/v1/records/calendar_day/{}", qingming.body["id"]),
        qingming.body["version"].as_i64().unwrap(),
        &json!({"day": "2027-04-06"}),
    );
    assert_eq!(moved.status, 422, "{}", moved.text);
    assert!(
        moved.body["error"]["fields"]["day"].is_string(),
        "{}",
        moved.text
    );
    assert_eq!(days(&week), "4.0");
    // HR lowers the entitlement to the 4 days now taken; removing the holiday again brings
    // the week back to 5 — the calendar change stands, and HR is told it is 1 day over.
    let balance = hana.patch_v(
        &format!("/api/v1/records/leave_balance/{}", b.body["id"]),
        b.body["version"].as_i64().unwrap(),
        &json!({"days": "4"}),
    );
    assert_eq!(balance.status, 200, "{}", balance.text);
    // Removed again: the week counts 5.
    let del = hana.delete_v(
        &format!("/api/v1/records/calendar_day/{}", qingming.body["id"]),
        qingming.body["version"].as_i64().unwrap(),
    );
    assert_eq!(del.status, 204, "{}", del.text);
    assert_eq!(days(&week), "5.0");
    let over: Vec<_> = notices(&hana)
        .into_iter()
        .filter(|n| n["link"] == format!("/e/leave_request/{}", week["id"]))
        .collect();
    assert_eq!(over.len(), 1, "{over:?}");
    assert!(
        over[0]["params"]["zh"]
            .as_str()
            .unwrap()
            .contains("现计 5 天，超出假期余额 1 天"),
        "{over:?}"
    );
}

/// Requests stored by an OA version without parts of day (their half-day fields empty, as
/// 1.1 left them) count whole days after an upgrade to the next release, and go on through the
/// workflow: edited, submitted and approved against the balance.
#[test]
fn requests_from_before_half_days_count_whole_days_after_an_upgrade() {
    let (s, admin) = oa_server(true);
    let (mia, mia_id) = s.user("mia", "manager", "east");
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (hana, _) = s.user("hana", "hr", "hq");
    reports_to(&admin, amy_id, mia_id);
    let b = hana.post(
        "/api/v1/records/leave_balance",
        &json!({"person": amy_id, "year": 2027, "leave_type": "annual", "days": "5"}),
    );
    assert_eq!(b.status, 201, "{}", b.text);
    let old = amy.create(
        "leave_request",
        json!({"leave_type": "annual", "start_on": "2027-05-10", "end_on": "2027-05-12", "reason": "旧申请"}),
    );
    assert_eq!(old["days"], "3.0");
    // As the older version stored it: no parts of day.
    let n = s.execute_sql(
        "UPDATE r_leave_request SET c_start_half = NULL, c_end_half = NULL WHERE id = ?1",
        &[old["id"].as_i64().unwrap().into()],
    );
    assert_eq!(n, 1);

    let current = admin.get("/api/v1/plugins/oa").body["version"]
        .as_str()
        .unwrap()
        .to_string();
    let mut parts: Vec<u64> = current.split('.').map(|p| p.parse().unwrap()).collect();
    parts[2] += 1;
    let next = format!("{}.{}.{}", parts[0], parts[1], parts[2]);
    let up = qingguan_tests::install_bytes(
        &admin,
        qingguan_tests::plugin_with_version("qingguan-oa", &current, &next),
        true,
    );
    assert_eq!(up.status, 201, "{}", up.text);

    let path = format!("/api/v1/records/leave_request/{}", old["id"]);
    let now = amy.get(&path).body;
    assert_eq!(now["days"], "3.0", "{now}");
    assert!(now["start_half"].is_null(), "{now}");
    // Edited: still whole days (an empty part of day is the whole day).
    let edited = amy.patch_v(
        &path,
        now["version"].as_i64().unwrap(),
        &json!({"reason": "旧申请（补充说明）"}),
    );
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.body["days"], "3.0");
    let asked = transition(&amy, "leave_request", &edited.body, "submit");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let approval = asked.body["approval"]["id"].as_i64().unwrap();
    assert_eq!(approve(&mia, approval).status, 200);
    let page = amy.get("/api/v1/plugins/oa/leave?year=2027");
    assert!(
        page.text
            .contains("<td>5</td><td>3</td><td data-left>2</td>"),
        "{}",
        page.text
    );
}
