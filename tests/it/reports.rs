//! Reports: a person saves a report (type, filter, up to two groupings, count / sum /
//! average, chart) and shares it with roles; every reader gets it computed over the records
//! they may see, with their field rules — figures checked by hand; bad definitions refused
//! field by field; only the owner (or an administrator) changes it; the pages draw bars, a
//! line and a pie and take the builder's form in either language.

use qingguan_tests::{customer, Client, TestServer, USER_PASSWORD};
use serde_json::{json, Value};

/// A report's rows as (group, first value).
pub(crate) fn rows(r: &qingguan_tests::Resp) -> Vec<(Value, Value)> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["group"].clone(), row["values"][0].clone()))
        .collect()
}

/// Report `id` as `c`'s list of reports shows it.
fn listed_report(c: &Client, id: i64) -> Value {
    let listed = c.get("/api/v1/reports");
    listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("report {id} not listed: {}", listed.text))
        .clone()
}

fn report(c: &Client, def: Value) -> qingguan_tests::Resp {
    c.post("/api/v1/reports", &def)
}

struct Company {
    s: TestServer,
    admin: Client,
    amy: Client,
    bob: Client,
    meg: Client,
}

/// Amy's three customers and Bob's one, each with revenue, in team east with Meg managing.
fn company() -> Company {
    let s = TestServer::start();
    let admin = s.admin();
    let r = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "revenue", "type": "decimal", "label": {"en": "Revenue", "zh-CN": "营收"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (amy, _) = s.user("amy", "sales", "east");
    let (bob, _) = s.user("bob", "sales", "east");
    let (meg, _) = s.user("meg", "manager", "east");
    for (who, status, revenue) in [
        (&amy, "customer", "100.50"),
        (&amy, "customer", "0.25"),
        (&amy, "lead", "7"),
        (&bob, "customer", "1000"),
    ] {
        let mut c = customer("c");
        c["status"] = json!(status);
        c["revenue"] = json!(revenue);
        who.create("customer", c);
    }
    Company {
        s,
        admin,
        amy,
        bob,
        meg,
    }
}

#[test]
fn a_shared_report_is_computed_over_each_readers_own_records() {
    let Company {
        s,
        admin,
        amy,
        bob,
        meg,
    } = company();
    let made = report(
        &amy,
        json!({"name": "营收按状态", "entity": "customer", "group_by": ["status"],
               "metric": "sum:revenue", "chart": "bar", "shared_with": ["manager"]}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/reports/{id}");
    // Amy: her own three. Meg: the team's four. Bob: not shared with his role.
    assert_eq!(
        rows(&amy.get(&path)),
        vec![
            (json!(["customer"]), json!("100.75")),
            (json!(["lead"]), json!("7.00"))
        ]
    );
    assert_eq!(
        rows(&meg.get(&path)),
        vec![
            (json!(["customer"]), json!("1100.75")),
            (json!(["lead"]), json!("7.00"))
        ]
    );
    assert_eq!(bob.get(&path).status, 404);
    assert!(bob.get("/api/v1/reports").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(meg.get("/api/v1/reports").body["items"][0]["mine"], false);

    // Averages are exact (two places more than the field keeps), groupings combine, filters
    // narrow.
    let avg = report(
        &admin,
        json!({"name": "avg", "entity": "customer", "group_by": ["status"], "metric": "avg:revenue"}),
    );
    let avg_path = format!("/api/v1/reports/{}", avg.body["id"]);
    // (100.50 + 0.25 + 1000) / 3 = 366.916666…
    assert_eq!(
        rows(&admin.get(&avg_path)),
        vec![
            (json!(["customer"]), json!("366.9167")),
            (json!(["lead"]), json!("7.0000"))
        ]
    );
    let both = report(
        &amy,
        json!({"name": "both", "entity": "customer", "group_by": ["status", "kind"],
               "metric": "count", "filter": "revenue[gt]=1", "chart": "table"}),
    );
    assert_eq!(both.status, 201, "{}", both.text);
    assert_eq!(
        rows(&amy.get(&format!("/api/v1/reports/{}", both.body["id"]))),
        vec![
            (json!(["customer", "company"]), json!(1)),
            (json!(["lead", "company"]), json!(1))
        ]
    );

    // A field hidden from a role is hidden in its reports too: the shared report no longer
    // runs for reps, and still does for managers.
    let hidden =
        crate::field_rules::set_rules(&admin, "sales", json!({"customer": {"revenue": "hidden"}}));
    assert_eq!(hidden.status, 200, "{}", hidden.text);
    let refused = amy.get(&path);
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(!refused.text.contains("100.75"));
    assert_eq!(rows(&meg.get(&path)).len(), 2);

    // Only its owner (or an administrator) changes or deletes it.
    let def = json!({"name": "mine now", "entity": "customer", "metric": "count"});
    assert_eq!(meg.put(&path, &def).status, 403);
    let gone = meg.send(reqwest::Method::DELETE, &path, |r| r);
    assert_eq!(gone.status, 403, "{}", gone.text);
    let changed = amy.put(&path, &def);
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["shared_with"], json!([]));
    assert_eq!(meg.get(&path).status, 404, "no longer shared");
    let gone = amy.send(reqwest::Method::DELETE, &path, |r| r);
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_eq!(amy.get(&path).status, 404);
    drop(s);
}

#[test]
fn bad_reports_are_refused_field_by_field() {
    let Company { s, amy, .. } = company();
    let base = json!({"name": "r", "entity": "customer", "metric": "count"});
    let with = |k: &str, v: Value| {
        let mut d = base.clone();
        d[k] = v;
        d
    };
    for (def, field) in [
        (with("metric", json!("sum:name")), "metric"),
        (with("metric", json!("median:revenue")), "metric"),
        (with("metric", json!("max:revenue")), "metric"),
        (
            with("group_by", json!(["status", "kind", "owner"])),
            "group_by",
        ),
        (with("group_by", json!(["ghost"])), "group_by"),
        (with("filter", json!("ghost=1")), "filter"),
        (with("filter", json!("revenue[gt]=abc")), "filter"),
        (with("shared_with", json!(["nobody"])), "shared_with"),
        (with("name", json!("  ")), "name"),
        (with("name", json!("长".repeat(81))), "name"),
    ] {
        let r = report(&amy, def.clone());
        assert_eq!(r.status, 422, "{def}: {}", r.text);
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{def}: {}",
            r.text
        );
    }
    assert_eq!(report(&amy, with("entity", json!("ghost"))).status, 404);
    let r = amy.post(
        "/api/v1/reports",
        &json!({"name": "x", "entity": "customer", "metric": "count", "sql": "drop"}),
    );
    assert!(r.status == 400 || r.status == 422, "{}", r.text);
    // A type the caller may not read is not theirs to count.
    let (hana, _) = s.user("hana", "hr", "hq");
    assert_eq!(
        report(&hana, base.clone()).status,
        403,
        "HR reads no customers"
    );
    assert!(
        amy.get("/api/v1/reports").body["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing half-saved"
    );
}

#[test]
fn the_report_pages_build_and_draw_in_either_language() {
    let Company { s, amy, .. } = company();
    let ui = s.ui_login("amy", USER_PASSWORD);
    let start = ui.get("/reports", "zh-CN");
    assert_eq!(start.status, 200, "{}", start.text);
    assert!(
        start.text.contains("报表") && start.text.contains("还没有报表"),
        "{}",
        start.text
    );
    let builder = ui.get("/reports?entity=customer", "zh-CN");
    assert!(
        builder.text.contains("name=\"group1\"") && builder.text.contains("合计 · 营收"),
        "{}",
        builder.text
    );
    // A bad filter comes back with the reason in Chinese.
    let refused = ui.post(
        "/reports",
        "zh-CN",
        &[
            ("name", "坏报表"),
            ("entity", "customer"),
            ("filter", "ghost=1"),
            ("metric", "count"),
            ("chart", "bar"),
        ],
    );
    assert!(refused.text.contains("筛选条件"), "{}", refused.text);
    assert!(amy.get("/api/v1/reports").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let made = ui.post(
        "/reports",
        "zh-CN",
        &[
            ("name", "营收按状态"),
            ("entity", "customer"),
            ("group1", "status"),
            ("metric", "sum:revenue"),
            ("chart", "bar"),
            ("shared_with", "manager"),
        ],
    );
    assert_eq!(made.status, 200, "{}", made.text);
    assert!(
        made.text.contains("data-chart=\"bar\"")
            && made.text.contains("100.75")
            && made.text.contains("潜在客户"),
        "bars, the figure, the status by its label: {}",
        made.text
    );
    let id = amy.get("/api/v1/reports").body["items"][0]["id"]
        .as_i64()
        .unwrap();
    for (chart, mark) in [("pie", "<path d=\"M110,110"), ("line", "<polyline")] {
        let r = ui.post(
            &format!("/reports/{id}"),
            "en",
            &[
                ("name", "Revenue by status"),
                ("entity", "customer"),
                ("group1", "status"),
                ("metric", "sum:revenue"),
                ("chart", chart),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.text.contains(mark) && r.text.contains("Saved."),
            "{chart}: {}",
            r.text
        );
    }
    // Someone else's report is not theirs to see or change.
    let (_, _) = s.user("bob2", "sales", "west");
    let other = s.ui_login("bob2", USER_PASSWORD);
    assert_eq!(other.get(&format!("/reports/{id}"), "en").status, 404);
    let r = other.post(&format!("/reports/{id}/delete"), "en", &[]);
    assert!(r.status == 403 || r.status == 404, "{}", r.text);
    assert_eq!(amy.get(&format!("/api/v1/reports/{id}")).status, 200);
}

#[test]
fn pinned_reports_make_each_persons_dashboard() {
    let Company {
        s, amy, bob, meg, ..
    } = company();
    let by_status = report(
        &amy,
        json!({"name": "营收按状态", "entity": "customer", "group_by": ["status"],
               "metric": "sum:revenue", "shared_with": ["manager"]}),
    );
    let a = by_status.body["id"].as_i64().unwrap();
    let counts = report(
        &amy,
        json!({"name": "客户数", "entity": "customer", "group_by": ["status"], "metric": "count",
               "chart": "table"}),
    );
    let b = counts.body["id"].as_i64().unwrap();
    let pin = |c: &Client, id: i64, on: bool| {
        c.post(&format!("/api/v1/reports/{id}/pin"), &json!({"pinned": on}))
    };
    assert_eq!(pin(&amy, a, true).status, 204);
    assert_eq!(pin(&amy, b, true).status, 204);
    assert_eq!(
        pin(&amy, a, true).status,
        204,
        "pinning twice changes nothing"
    );
    assert_eq!(pin(&bob, a, true).status, 404, "not shared with Bob");
    assert_eq!(pin(&meg, a, true).status, 204);
    let listed = amy.get("/api/v1/reports");
    assert!(
        listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["pinned"] == true),
        "{}",
        listed.text
    );

    // Each dashboard computes the pinned reports for its reader, in the reader's order.
    let ui = s.ui_login("amy", USER_PASSWORD);
    let home = ui.get("/", "zh-CN").text;
    let (at_a, at_b) = (
        home.find(&format!("data-report=\"{a}\""))
            .expect("pinned a"),
        home.find(&format!("data-report=\"{b}\""))
            .expect("pinned b"),
    );
    assert!(at_a < at_b, "pinned order");
    assert!(
        home.contains("100.75") && !home.contains("1100.75"),
        "{home}"
    );
    let mgr = s.ui_login("meg", USER_PASSWORD);
    assert!(mgr.get("/", "zh-CN").text.contains("1100.75"));
    let moved = ui.post(&format!("/reports/{b}/pin"), "zh-CN", &[("up", "1")]);
    assert_eq!(moved.status, 200, "{}", moved.text);
    let home = moved.text;
    assert!(
        home.find(&format!("data-report=\"{b}\"")) < home.find(&format!("data-report=\"{a}\"")),
        "moved up"
    );
    // Six fit; a seventh is refused.
    for i in 0..4 {
        let r = report(
            &amy,
            json!({"name": format!("r{i}"), "entity": "customer", "metric": "count"}),
        );
        assert_eq!(pin(&amy, r.body["id"].as_i64().unwrap(), true).status, 204);
    }
    let extra = report(
        &amy,
        json!({"name": "one too many", "entity": "customer", "metric": "count"}),
    );
    assert_eq!(
        pin(&amy, extra.body["id"].as_i64().unwrap(), true).status,
        409
    );

    // Unshared, it leaves the manager's dashboard; deleted, it leaves its owner's.
    let r = amy.put(
        &format!("/api/v1/reports/{a}"),
        &json!({"name": "营收按状态", "entity": "customer", "group_by": ["status"], "metric": "sum:revenue"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!mgr
        .get("/", "zh-CN")
        .text
        .contains(&format!("data-report=\"{a}\"")));
    let gone = amy.send(
        reqwest::Method::DELETE,
        &format!("/api/v1/reports/{a}"),
        |r| r,
    );
    assert_eq!(gone.status, 204);
    assert!(!ui
        .get("/", "zh-CN")
        .text
        .contains(&format!("data-report=\"{a}\"")));
    // The page offers to pin and unpin, in the reader's language.
    let page = ui.get(&format!("/reports/{b}"), "zh-CN");
    assert!(page.text.contains("从我的首页取消固定"), "{}", page.text);
    let unpinned = ui.post(&format!("/reports/{b}/pin"), "zh-CN", &[("pinned", "0")]);
    assert!(
        unpinned.text.contains("固定到我的首页"),
        "{}",
        unpinned.text
    );
}

#[test]
fn reports_cannot_be_bent_into_leaks_or_load() {
    let Company {
        s: _server,
        admin,
        amy,
        meg,
        ..
    } = company();
    // Stored as meant: the name trimmed, each role once.
    let mut roles = vec![json!("manager"); 50];
    roles.push(json!("hr"));
    let r = report(
        &amy,
        json!({"name": "  营收  ", "entity": "customer", "metric": "count", "shared_with": roles}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["name"], "营收");
    assert_eq!(r.body["shared_with"], json!(["hr", "manager"]));
    // A group per record, ids summed, list paging in a filter: refused.
    for (def, field) in [
        (
            json!({"name": "x", "entity": "customer", "metric": "count", "group_by": ["id"]}),
            "group_by",
        ),
        (
            json!({"name": "x", "entity": "customer", "metric": "count", "group_by": ["created_at"]}),
            "group_by",
        ),
        (
            json!({"name": "x", "entity": "customer", "metric": "sum:version"}),
            "metric",
        ),
        (
            json!({"name": "x", "entity": "customer", "metric": "count", "filter": "waiting=me"}),
            "filter",
        ),
        (
            json!({"name": "x", "entity": "customer", "metric": "count", "filter": "status=lead&sort=-name"}),
            "filter",
        ),
    ] {
        let r = report(&amy, def.clone());
        assert_eq!(r.status, 422, "{def}: {}", r.text);
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{def}: {}",
            r.text
        );
    }
    let by_owner = report(
        &amy,
        json!({"name": "by owner", "entity": "customer", "metric": "count", "group_by": ["owner"]}),
    );
    assert_eq!(by_owner.status, 201, "{}", by_owner.text);

    // An administrator's report naming a field hidden from reps: reps see neither its filter
    // nor which field it sums, and its refusal names nothing.
    let made = report(
        &admin,
        json!({"name": "big revenue", "entity": "customer", "metric": "sum:revenue",
               "filter": "revenue[gt]=1", "group_by": ["status"], "shared_with": ["sales", "manager"]}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.body["id"].as_i64().unwrap();
    let hidden =
        crate::field_rules::set_rules(&admin, "sales", json!({"customer": {"revenue": "hidden"}}));
    assert_eq!(hidden.status, 200, "{}", hidden.text);
    let seen = listed_report(&amy, id);
    assert_eq!(seen["filter"], "", "{seen}");
    assert_eq!(seen["metric"], "", "{seen}");
    let refused = amy.get(&format!("/api/v1/reports/{id}"));
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(!refused.text.contains("revenue"), "{}", refused.text);
    let theirs = listed_report(&meg, id);
    assert_eq!(
        theirs["metric"], "sum:revenue",
        "a reader who sees the field sees the figure"
    );
    assert_eq!(theirs["filter"], "", "but not the author's filter");

    // A report no longer shared can still be unpinned, and stops counting towards the six.
    assert_eq!(
        meg.post(
            &format!("/api/v1/reports/{id}/pin"),
            &json!({"pinned": true})
        )
        .status,
        204
    );
    let unshared = admin.put(
        &format!("/api/v1/reports/{id}"),
        &json!({"name": "big revenue", "entity": "customer", "metric": "sum:revenue"}),
    );
    assert_eq!(unshared.status, 200, "{}", unshared.text);
    assert_eq!(
        meg.post(
            &format!("/api/v1/reports/{id}/pin"),
            &json!({"pinned": false})
        )
        .status,
        204
    );
}

/// A date grouped by month, quarter or year — and the creation time by month, in the
/// install's time zone — gives one group per period in order, for line charts; a period on a
/// field that is no date, or an unknown period, is refused beside `group_by`.
#[test]
fn dates_group_by_month_quarter_and_year_for_line_charts() {
    let s = TestServer::start();
    let admin = s.admin();
    let r = admin.post(
        "/api/v1/entities/customer/fields",
        &json!({"name": "signed_on", "type": "date", "label": {"en": "Signed", "zh-CN": "签约日期"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (amy, _) = s.user("amy", "sales", "east");
    for day in [
        "2026-01-05",
        "2026-01-31",
        "2026-02-14",
        "2026-04-01",
        "2027-12-31",
    ] {
        let mut c = customer("c");
        c["signed_on"] = json!(day);
        amy.create("customer", c);
    }
    amy.create("customer", customer("not signed yet"));
    let by = |group: &str| {
        let r = report(
            &amy,
            json!({"name": format!("by {group}"), "entity": "customer", "group_by": [group],
                   "metric": "count", "chart": "line"}),
        );
        assert_eq!(r.status, 201, "{group}: {}", r.text);
        rows(&amy.get(&format!("/api/v1/reports/{}", r.body["id"])))
    };
    assert_eq!(
        by("signed_on:month"),
        vec![
            (json!([null]), json!(1)),
            (json!(["2026-01"]), json!(2)),
            (json!(["2026-02"]), json!(1)),
            (json!(["2026-04"]), json!(1)),
            (json!(["2027-12"]), json!(1)),
        ]
    );
    assert_eq!(
        by("signed_on:quarter"),
        vec![
            (json!([null]), json!(1)),
            (json!(["2026-Q1"]), json!(3)),
            (json!(["2026-Q2"]), json!(1)),
            (json!(["2027-Q4"]), json!(1)),
        ]
    );
    assert_eq!(
        by("signed_on:year"),
        vec![
            (json!([null]), json!(1)),
            (json!(["2026"]), json!(4)),
            (json!(["2027"]), json!(1)),
        ]
    );
    // The creation time by month, in the install's time zone: all made this month.
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    let created = by("created_at:month");
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].1, json!(6));
    assert!(
        created[0].0[0] == json!(this_month) || chrono::Utc::now().format("%d").to_string() == "01",
        "{created:?}"
    );
    for bad in ["name:month", "signed_on:week", "created_at"] {
        let r = report(
            &amy,
            json!({"name": "bad", "entity": "customer", "group_by": [bad], "metric": "count"}),
        );
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert!(
            r.body["error"]["fields"]["group_by"].is_string(),
            "{bad}: {}",
            r.text
        );
    }
    // The builder offers the periods, and the page draws a line with the periods in Chinese.
    let ui = s.ui_login("amy", USER_PASSWORD);
    let builder = ui.get("/reports?entity=customer", "zh-CN");
    assert!(
        builder.text.contains("value=\"signed_on:quarter\"")
            && builder.text.contains("签约日期 · 按季度"),
        "{}",
        builder.text
    );
    let id = amy.get("/api/v1/reports").body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let page = ui.get(&format!("/reports/{id}"), "zh-CN");
    assert!(page.text.contains("<polyline"), "{}", page.text);
}
