//! Dashboards per role: an administrator leaves sections out for a role (customers by status,
//! a plugin widget); people of that role no longer see them, other roles still do; the choice
//! reads back, is recorded in the audit log, and is the administrators' alone. Within that,
//! each person orders their own sections and puts away what they do not use.

use qingguan_tests::{customer, install, TestServer, ADMIN_PASSWORD, USER_PASSWORD};

#[test]
fn each_role_sees_the_dashboard_its_administrator_chose() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    admin.create("customer", customer("恒信科技"));
    s.user("rep", "sales", "east");
    s.user("boss", "manager", "east");
    let rep = s.ui_login("rep", USER_PASSWORD);
    let boss = s.ui_login("boss", USER_PASSWORD);
    let before = rep.get("/", "zh-CN");
    assert!(
        before.text.contains("class=\"chart\""),
        "the chart shows by default: {}",
        before.text
    );
    assert!(before.text.contains("<h2>销售管道</h2>"), "{}", before.text);

    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get("/admin/dashboards", "zh-CN");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("首页设置")
            && page
                .text
                .contains("data-section=\"widget:sales&#x2f;pipeline\"")
            && page
                .text
                .contains("name=\"show.sales\" value=\"status_chart\""),
        "{}",
        page.text
    );
    // Everything ticked for every role except, for sales: the chart and the pipeline widget.
    let roles = ["admin", "manager", "sales", "hr", "finance"];
    let sections = [
        "tiles",
        "status_chart",
        "my_activities",
        "waiting",
        "my_reports",
        "widget:sales/pipeline",
        "widget:sales/my_overdue_followups",
    ];
    let mut form: Vec<(String, String)> = Vec::new();
    for r in roles {
        for sec in sections {
            if r == "sales" && (sec == "status_chart" || sec == "widget:sales/pipeline") {
                continue;
            }
            form.push((format!("show.{r}"), sec.to_string()));
        }
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = ui.post("/admin/dashboards", "zh-CN", &pairs);
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(saved.text.contains("已保存"), "{}", saved.text);
    assert!(
        saved.text.contains(
            "name=\"show.sales\" value=\"status_chart\" aria-label=\"客户状态分布 · sales\" >"
        ) && saved.text.contains(
            "name=\"show.manager\" value=\"status_chart\" aria-label=\"客户状态分布 · manager\" checked>"
        ),
        "reads back: unticked for sales, ticked for managers: {}",
        saved.text
    );

    let after = rep.get("/", "zh-CN");
    assert!(!after.text.contains("class=\"chart\""), "{}", after.text);
    assert!(!after.text.contains("<h2>销售管道</h2>"), "{}", after.text);
    assert!(
        after.text.contains("我的逾期跟进"),
        "the other widget stays: {}",
        after.text
    );
    let manager = boss.get("/", "zh-CN");
    assert!(
        manager.text.contains("<h2>销售管道</h2>"),
        "managers keep it: {}",
        manager.text
    );

    // Recorded, once, for the one role that changed; and nobody else may change it.
    let log = admin.get("/api/v1/audit?q=dashboard:").body;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["items"][0]["target"], "dashboard:sales", "{log}");
    assert_eq!(
        log["items"][0]["detail"]["hidden"][0], "status_chart",
        "{log}"
    );
    let forged = rep.post("/admin/dashboards", "zh-CN", &[("show.sales", "tiles")]);
    assert_eq!(forged.status, 403, "{}", forged.text);
    assert!(!rep.get("/", "zh-CN").text.contains("<h2>销售管道</h2>"));
}

/// Where each section starts on a dashboard page (`None`: not there).
fn position(page: &str, section: &str) -> Option<usize> {
    page.find(&format!("data-section=\"{section}\""))
}

#[test]
fn each_person_arranges_their_own_dashboard_within_their_roles() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(install(&admin, "qingguan-sales", true).status, 201);
    admin.create("customer", customer("恒信科技"));
    s.user("rep", "sales", "east");
    s.user("amy", "sales", "east");
    let rep = s.ui_login("rep", USER_PASSWORD);
    let amy = s.ui_login("amy", USER_PASSWORD);
    let pipeline = "widget:sales&#x2f;pipeline";

    // The usual order: tiles, then the chart, then the plugin's widgets.
    let before = rep.get("/", "zh-CN");
    assert!(before.text.contains("整理工作台"), "{}", before.text);
    let (tiles, chart, widget) = (
        position(&before.text, "tiles").expect("tiles"),
        position(&before.text, "status_chart").expect("chart"),
        position(&before.text, pipeline).expect("pipeline"),
    );
    assert!(tiles < chart && chart < widget, "{}", before.text);

    // The pipeline goes to the top (one step at a time), the chart is put away.
    let page = rep.get("/dashboard/arrange", "zh-CN");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("收起") && page.text.contains("上移"),
        "{}",
        page.text
    );
    for _ in 0..10 {
        let r = rep.post(
            "/dashboard/arrange",
            "zh-CN",
            &[("section", "widget:sales/pipeline"), ("action", "up")],
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = rep.post(
        "/dashboard/arrange",
        "zh-CN",
        &[("section", "status_chart"), ("action", "hide")],
    );
    assert!(r.text.contains("已收起"), "{}", r.text);
    let after = rep.get("/", "zh-CN");
    let (widget, tiles) = (
        position(&after.text, pipeline).expect("pipeline"),
        position(&after.text, "tiles").expect("tiles"),
    );
    assert!(widget < tiles, "the pipeline first: {}", after.text);
    assert!(
        position(&after.text, "status_chart").is_none(),
        "{}",
        after.text
    );
    // Amy's dashboard is hers: unchanged.
    let hers = amy.get("/", "zh-CN");
    assert!(position(&hers.text, "tiles") < position(&hers.text, pipeline));
    assert!(position(&hers.text, "status_chart").is_some());

    // What the role does not show cannot be arranged back in.
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let mut form: Vec<(&str, &str)> = Vec::new();
    for r in ["admin", "manager", "sales", "hr", "finance"] {
        let key: &'static str = Box::leak(format!("show.{r}").into_boxed_str());
        for sec in [
            "tiles",
            "status_chart",
            "my_activities",
            "waiting",
            "my_reports",
        ] {
            form.push((key, sec));
        }
    }
    let saved = ui.post("/admin/dashboards", "en", &form);
    assert_eq!(saved.status, 200, "{}", saved.text);
    let page = rep.get("/dashboard/arrange", "en");
    assert!(!page.text.contains("pipeline"), "{}", page.text);
    let r = rep.post(
        "/dashboard/arrange",
        "en",
        &[("section", "widget:sales/pipeline"), ("action", "show")],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(position(&rep.get("/", "en").text, pipeline).is_none());
    // Nonsense is refused in words, not stored.
    let r = rep.post(
        "/dashboard/arrange",
        "zh-CN",
        &[("section", "tiles"), ("action", "explode")],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    // Back to the usual order: the chart again, the tiles first.
    let r = rep.post("/dashboard/arrange", "en", &[("action", "reset")]);
    assert_eq!(r.status, 200, "{}", r.text);
    let reset = rep.get("/", "en");
    assert!(position(&reset.text, "tiles") < position(&reset.text, "status_chart"));
    // Without the form's token nothing changes.
    let forged = rep
        .client
        .send(reqwest::Method::POST, "/dashboard/arrange", |r| {
            r.header("cookie", &rep.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("section=tiles&action=hide")
        });
    assert!(forged.status >= 400, "{}", forged.status);
    assert!(position(&rep.get("/", "en").text, "tiles").is_some());
}
