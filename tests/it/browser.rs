//! The web UI in a real headless Chromium (Debian's `chromium`): logging in, a validation
//! error then a created customer, search, dragging a kanban card, Studio, switching language,
//! permissions, a phone-width screen, and hostile text rendering inert everywhere. Screenshots
//! go to `target/ui-screenshots/`.

use headless_chrome::protocol::cdp::Input;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use qingguan_tests::{customer, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::json;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn chromium() -> PathBuf {
    for p in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if std::path::Path::new(p).exists() {
            return p.into();
        }
    }
    panic!("no Chromium found: install Debian's `chromium` package (.ci/run does)");
}

pub(crate) fn browser(width: u32, height: u32) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=en-US",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let opts = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(false)
        .window_size(Some((width, height)))
        .args(args)
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("launch options");
    Browser::new(opts).expect("start chromium")
}

pub(crate) fn shot(tab: &Tab, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

pub(crate) fn go(tab: &Tab, url: &str) {
    // A navigation still under way (a form's post after a click) aborts this one
    // (`net::ERR_ABORTED`): try again once it has landed.
    for attempt in 0.. {
        match tab.navigate_to(url).and_then(|t| t.wait_until_navigated()) {
            Ok(_) => return,
            Err(e) if attempt < 5 && e.to_string().contains("ERR_ABORTED") => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("{url}: {e}"),
        }
    }
}

pub(crate) fn text(tab: &Tab) -> String {
    tab.wait_for_element("body")
        .unwrap()
        .get_inner_text()
        .unwrap()
}

/// The page is no wider than the window: wide content wraps or scrolls inside its box.
fn assert_fits(tab: &Tab) {
    let widths = tab
        .evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth].join(' ')",
            false,
        )
        .unwrap()
        .value
        .unwrap();
    let widths: Vec<i64> = widths
        .as_str()
        .unwrap()
        .split(' ')
        .map(|w| w.parse().unwrap())
        .collect();
    assert!(
        widths[0] <= widths[1],
        "the page is wider than the window (page, window): {widths:?}"
    );
}

pub(crate) fn wait_text(tab: &Tab, needle: &str) {
    let t = Instant::now();
    loop {
        if text(tab).contains(needle) {
            return;
        }
        // Generous: on a loaded 2-core machine a page can take a while; a wait, not a limit.
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "never saw {needle:?} in {}",
            text(tab)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn login(tab: &Tab, base: &str, user: &str, password: &str) {
    go(tab, &format!("{base}/login"));
    tab.wait_for_element("input[name=username]").unwrap();
    // The fields are filled by the page's own DOM and the form submitted with its button: typing
    // key by key costs about half a second a character on this machine, for nothing tested.
    let js = format!(
        "(() => {{ document.querySelector('input[name=username]').value = {}; \
         document.querySelector('input[name=password]').value = {}; \
         document.querySelector('input[name=password]').form.requestSubmit(); return true; }})()",
        serde_json::json!(user),
        serde_json::json!(password)
    );
    tab.evaluate(&js, false).unwrap();
    tab.wait_until_navigated().unwrap();
    tab.wait_for_element("nav.side").expect("logged in");
}

pub(crate) fn mouse(
    tab: &Tab,
    kind: Input::DispatchMouseEventTypeOption,
    x: f64,
    y: f64,
    pressed: bool,
) {
    tab.call_method(Input::DispatchMouseEvent {
        Type: kind,
        x,
        y,
        modifiers: None,
        timestamp: None,
        button: Some(Input::MouseButton::Left),
        buttons: Some(if pressed { 1 } else { 0 }),
        click_count: Some(1),
        force: None,
        tangential_pressure: None,
        tilt_x: None,
        tilt_y: None,
        twist: None,
        delta_x: None,
        delta_y: None,
        pointer_Type: None,
    })
    .unwrap();
}

#[test]
fn a_user_walks_through_the_ui() {
    let s = TestServer::start();
    let admin = s.admin();
    let (_amy, _) = s.user("amy", "sales", "east");
    let (_hana, _) = s.user("hana", "hr", "hq");
    admin.create("customer", customer("Bystander Ltd"));
    let b = browser(1280, 900);
    let tab: Arc<Tab> = b.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(15));

    // Log in (a wrong password first).
    go(&tab, &format!("{}/login", s.url));
    shot(&tab, "01-login");
    tab.wait_for_element("input[name=username]")
        .unwrap()
        .click()
        .unwrap();
    tab.type_str("admin").unwrap();
    tab.wait_for_element("input[name=password]")
        .unwrap()
        .click()
        .unwrap();
    tab.type_str("wrong").unwrap();
    tab.press_key("Enter").unwrap();
    tab.wait_until_navigated().unwrap();
    wait_text(&tab, "Wrong username or password");
    login(&tab, &s.url, "admin", ADMIN_PASSWORD);
    wait_text(&tab, "Dashboard");
    shot(&tab, "02-dashboard");

    // Create a customer: a validation error beside the field first.
    go(&tab, &format!("{}/e/customer/new", s.url));
    tab.wait_for_element("button.primary")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    let err = tab
        .wait_for_element(".field[data-field=name] .field-error")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(err.contains("required"), "{err}");
    shot(&tab, "03-form-errors");
    tab.wait_for_element("#f-name").unwrap().click().unwrap();
    tab.type_str("Zebra 斑马 Trading").unwrap();
    tab.evaluate("document.getElementById('f-kind').value='company'; document.getElementById('f-status').value='lead';", false).unwrap();
    tab.wait_for_element("button.primary")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    wait_text(&tab, "Zebra 斑马 Trading");
    shot(&tab, "04-detail");

    // Find it by search.
    tab.wait_for_element("form.search input")
        .unwrap()
        .click()
        .unwrap();
    tab.type_str("斑马").unwrap();
    tab.press_key("Enter").unwrap();
    tab.wait_until_navigated().unwrap();
    tab.wait_for_element("ul.results a").unwrap();
    assert!(text(&tab).contains("Zebra 斑马 Trading"));
    shot(&tab, "05-search");

    // Drag its kanban card from Lead to Customer.
    go(&tab, &format!("{}/e/customer/kanban", s.url));
    let card = tab
        .wait_for_element(".column[data-value=lead] .card-item")
        .unwrap();
    let from = card.get_midpoint().unwrap();
    let to = tab
        .wait_for_element(".column[data-value=customer] h2")
        .unwrap()
        .get_midpoint()
        .unwrap();
    let id: i64 = tab
        .evaluate(
            "document.querySelector('.column[data-value=lead] .card-item').dataset.id",
            false,
        )
        .unwrap()
        .value
        .unwrap()
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let counts = || -> (i64, i64) {
        let read = |col: &str| -> i64 {
            tab.evaluate(
                &format!(
                    "document.querySelector('.column[data-value={col}] .column-count').textContent"
                ),
                false,
            )
            .unwrap()
            .value
            .unwrap()
            .as_str()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
        };
        (read("lead"), read("customer"))
    };
    let (leads, customers) = counts();
    mouse(
        &tab,
        Input::DispatchMouseEventTypeOption::MouseMoved,
        from.x,
        from.y,
        false,
    );
    mouse(
        &tab,
        Input::DispatchMouseEventTypeOption::MousePressed,
        from.x,
        from.y,
        true,
    );
    for i in 1..=10 {
        let f = i as f64 / 10.0;
        mouse(
            &tab,
            Input::DispatchMouseEventTypeOption::MouseMoved,
            from.x + (to.x - from.x) * f,
            from.y + (to.y + 40.0 - from.y) * f,
            true,
        );
    }
    mouse(
        &tab,
        Input::DispatchMouseEventTypeOption::MouseReleased,
        to.x,
        to.y + 40.0,
        false,
    );
    let t = Instant::now();
    loop {
        let r = admin.get(&format!("/api/v1/records/customer/{id}"));
        if r.body["status"] == "customer" {
            break;
        }
        if t.elapsed() > Duration::from_secs(10) {
            shot(&tab, "06-kanban-failed");
            let box_text = tab.evaluate("document.getElementById('kanban-error').textContent + ' | ' + document.querySelector('.card-item').style.transform", false).unwrap().value;
            panic!("the drag did not change the status: {} / page says {box_text:?} / from {from:?} to {to:?}", r.text);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Both columns' counts follow the card.
    let t = Instant::now();
    while counts() != (leads - 1, customers + 1) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "column counts after the move: {:?}, before: {:?}",
            counts(),
            (leads, customers)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    shot(&tab, "06-kanban");

    // Studio: add a field, see it on the form at once.
    go(&tab, &format!("{}/admin/studio/customer", s.url));
    let add = "#add-field";
    tab.wait_for_element(&format!("{add} input[name=name]"))
        .unwrap()
        .click()
        .unwrap();
    tab.type_str("vip_level").unwrap();
    tab.evaluate(
        "document.querySelector('#add-field select[name=type]').value='integer'",
        false,
    )
    .unwrap();
    tab.wait_for_element(&format!("{add} input[name=label_en]"))
        .unwrap()
        .click()
        .unwrap();
    tab.type_str("VIP level").unwrap();
    tab.wait_for_element(&format!("{add} input[name=label_zh]"))
        .unwrap()
        .click()
        .unwrap();
    tab.type_str("会员等级").unwrap();
    shot(&tab, "07-studio");
    tab.wait_for_element(&format!("{add} button.primary"))
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    wait_text(&tab, "vip_level");
    go(&tab, &format!("{}/e/customer/new", s.url));
    wait_text(&tab, "VIP level");
    tab.wait_for_element("#f-vip_level").unwrap();

    // Installing a plugin adds its menu entries and dashboard widget, without a restart.
    assert_eq!(
        qingguan_tests::install(&admin, "qingguan-sales", true).status,
        201
    );
    let c = admin.create("customer", customer("Kanban Co"));
    for (stage, amount) in [("lead", "1000"), ("proposal", "25000"), ("won", "88000")] {
        admin.create("deal", json!({"title": format!("ERP {stage}"), "customer": c["id"], "stage": stage, "amount": amount}));
    }
    go(&tab, &format!("{}/", s.url));
    let menu = tab
        .wait_for_element("nav.side")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(
        menu.contains("Pipeline") && menu.contains("Sales dashboard"),
        "{menu}"
    );
    wait_text(&tab, "Won revenue by month");
    shot(&tab, "02b-dashboard-with-sales");
    go(&tab, &format!("{}/e/deal/kanban", s.url));
    wait_text(&tab, "ERP proposal");
    shot(&tab, "06b-pipeline");

    // Switch to Chinese; the choice is remembered.
    go(&tab, &format!("{}/", s.url));
    tab.wait_for_element("#lang-switch")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    wait_text(&tab, "工作台");
    go(&tab, &format!("{}/e/customer/new", s.url));
    wait_text(&tab, "会员等级");
    shot(&tab, "08-chinese-form");
    assert_eq!(admin.get("/api/v1/auth/me").body["locale"], "zh-CN");

    // Plugins page.
    go(&tab, &format!("{}/admin/plugins", s.url));
    tab.wait_for_element("input[type=file]").unwrap();
    shot(&tab, "09-plugins");

    // Roles are edited in the UI: let HR read contacts.
    go(&tab, &format!("{}/admin/roles", s.url));
    tab.evaluate(
        "document.querySelector('form[data-role=hr] input[name=\"contact.read\"]').checked = true;              document.querySelector('form[data-role=hr] select[name=\"contact.scope\"]').value = 'all';",
        false,
    )
    .unwrap();
    tab.wait_for_element("form[data-role=hr] button.primary")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    // Saved (the store says so: `wait_until_navigated` may return before the form's post has
    // left), then shown ticked on a fresh page.
    let start = Instant::now();
    while !s
        .store
        .roles()
        .iter()
        .any(|r| r.name == "hr" && r.permission("contact").read)
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the role was never saved"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    go(&tab, &format!("{}/admin/roles", s.url));
    tab.wait_for_element("form[data-role=hr] input[name=\"contact.read\"]")
        .unwrap();
    let hr_contact = tab
        .evaluate(
            "document.querySelector('form[data-role=hr] input[name=\"contact.read\"]').checked",
            false,
        )
        .unwrap()
        .value
        .unwrap();
    assert_eq!(hr_contact, json!(true));

    // A user without permission: no menu entry, and 403 on the URL.
    tab.wait_for_element("form[action='/logout'] button")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    login(&tab, &s.url, "hana", USER_PASSWORD);
    let menu = tab
        .wait_for_element("nav.side")
        .unwrap()
        .get_inner_text()
        .unwrap();
    assert!(
        !menu.contains("Customer") && !menu.contains("客户"),
        "{menu}"
    );
    assert!(menu.contains("Contact"), "the role change applies: {menu}");
    go(&tab, &format!("{}/e/customer", s.url));
    wait_text(&tab, "permission");
    let status = tab
        .evaluate("fetch('/e/customer').then(r => r.status)", true)
        .unwrap()
        .value
        .unwrap();
    assert_eq!(status, json!(403));

    // A phone-width screen.
    let phone = browser(390, 844);
    let ptab = phone.new_tab().unwrap();
    ptab.set_default_timeout(Duration::from_secs(15));
    login(&ptab, &s.url, "amy", USER_PASSWORD);
    go(&ptab, &format!("{}/e/customer", s.url));
    let toggle_visible = ptab
        .evaluate(
            "getComputedStyle(document.querySelector('.menu-toggle')).display !== 'none'",
            false,
        )
        .unwrap()
        .value
        .unwrap();
    assert_eq!(toggle_visible, json!(true));
    let overflow = ptab
        .evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth + 1",
            false,
        )
        .unwrap()
        .value
        .unwrap();
    assert_eq!(overflow, json!(true), "no sideways scrolling on a phone");
    shot(&ptab, "10-phone-list");
}

#[test]
fn hostile_text_renders_inert_on_every_page() {
    let s = TestServer::start();
    let admin = s.admin();
    let evil = "<script>window.__xss=1</script>\"'><img src=x onerror=\"window.__xss=2\">";
    let c = admin.create("customer", json!({"name": evil, "kind": "company", "status": "lead", "notes": evil, "address": "' onmouseover='window.__xss=3"}));
    let id = c["id"].as_i64().unwrap();
    admin.create("contact", json!({"name": evil, "customer": id}));
    let field = json!({"name": "evil", "type": "select", "label": {"en": evil, "zh-CN": evil}, "options": [{"value": "x", "label": {"en": evil, "zh-CN": evil}}]});
    assert_eq!(
        admin
            .post("/api/v1/entities/customer/fields", &field)
            .status,
        201
    );
    let b = browser(1280, 900);
    let tab = b.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(15));
    login(&tab, &s.url, "admin", ADMIN_PASSWORD);
    for path in [
        "/".to_string(),
        "/e/customer".into(),
        format!("/e/customer/{id}"),
        format!("/e/customer/{id}/edit"),
        "/e/customer/kanban".into(),
        "/e/contact".into(),
        "/search?q=script".into(),
        "/admin/studio/customer".into(),
        format!("/e/customer?q={}", "%3Cscript%3E"),
    ] {
        go(&tab, &format!("{}{path}", s.url));
        let xss = tab
            .evaluate("String(window.__xss)", false)
            .unwrap()
            .value
            .unwrap();
        assert_eq!(xss, json!("undefined"), "script ran on {path}");
        let imgs = tab
            .evaluate("document.querySelectorAll('img').length", false)
            .unwrap()
            .value
            .unwrap();
        assert_eq!(imgs, json!(0), "markup was injected on {path}");
        if path != "/" && !path.contains("q=") && !path.contains("studio") {
            assert!(
                text(&tab).contains("<script>window.__xss=1</script>"),
                "{path} shows the text as text"
            );
        }
    }
    shot(&tab, "11-escaping");
    // The CSP forbids inline scripts even if something slipped through.
    let csp = admin
        .get("/")
        .header("content-security-policy")
        .unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
}

#[test]
fn appraisal_pages_accept_targets_rate_and_run_the_cycle() {
    let s = TestServer::start();
    let admin = s.admin();
    for p in ["qingguan-sales", "qingguan-appraisal"] {
        assert_eq!(qingguan_tests::install(&admin, p, true).status, 201);
    }
    let (lead, lead_id) = s.user("lee", "manager", "south");
    let (_, rep_id) = s.user("rita", "sales", "south");
    let (hr, _) = s.user("harriet", "hr", "hq");
    {
        use qingguan_core::Access;
        let sys = Access::system();
        let u = s.store.get(&sys, "user", rep_id).unwrap();
        let mut patch = serde_json::Map::new();
        patch.insert("manager".into(), json!(lead_id));
        s.store
            .update(&sys, "user", rep_id, u.version, &patch)
            .unwrap();
    }
    let profile = hr.create(
        "job_profile",
        json!({"name": "Rep", "roles": "sales", "kpi_weight": 80}),
    );
    hr.create("kpi", json!({"profile": profile["id"], "name": "Won revenue", "weight": 100, "source": "sales/won_revenue", "rule": "linear", "default_target": "100000"}));
    hr.create(
        "quality_item",
        json!({"profile": profile["id"], "name": "Attitude", "weight": 100}),
    );
    let cycle = hr.create(
        "appraisal_cycle",
        json!({"name": "UI quarter", "period": "quarter", "starts_on": "2025-01-01"}),
    );
    let act = |c: &qingguan_tests::Client, path: &str, body: serde_json::Value| {
        let r = c.send(
            reqwest::Method::POST,
            &format!("/api/v1/plugins/appraisal{path}"),
            |r| r.header("accept", "application/json").json(&body),
        );
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    };
    act(&hr, "/cycle", json!({"cycle": cycle["id"], "op": "start"}));
    let a = hr
        .get(&format!("/api/v1/records/appraisal?cycle={}", cycle["id"]))
        .body["items"][0]
        .clone();
    let t = hr
        .get(&format!(
            "/api/v1/records/appraisal_target?appraisal={}",
            a["id"]
        ))
        .body["items"][0]
        .clone();
    act(
        &lead,
        "/targets",
        // A long comment: the negotiation log must wrap inside the page, not widen it.
        json!({"appraisal": a["id"], format!("target_{}", t["id"]): "120000", "comment": "stretch target agreed in the planning meeting with the whole southern team present; ".repeat(4)}),
    );

    let b = browser(1280, 900);
    let tab = b.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(15));
    // The person sees the proposal and accepts it with the page's form (CSRF added by the host).
    login(&tab, &s.url, "rita", USER_PASSWORD);
    go(&tab, &format!("{}/p/appraisal/me", s.url));
    wait_text(&tab, "Targets proposed");
    wait_text(&tab, "120000");
    shot(&tab, "11-my-appraisal-proposal");
    tab.wait_for_element("form[action=respond] button[value=accept]")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    wait_text(&tab, "Targets agreed");
    assert!(
        tab.get_url().contains("/p/appraisal/appraisal?id="),
        "{}",
        tab.get_url()
    );
    // The negotiation log (a long comment) wraps inside the page.
    assert!(text(&tab).contains("southern team"), "{}", text(&tab));
    assert_fits(&tab);
    assert_eq!(
        hr.get(&format!("/api/v1/records/appraisal/{}", a["id"]))
            .body["status"],
        "agreed"
    );
    // A forged post without the page's token is refused and changes nothing.
    let forged = tab
        .evaluate("fetch('/p/appraisal/respond', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'appraisal=1&decision=object&comment=x'}).then(r => r.status)", true)
        .unwrap().value.unwrap();
    assert_eq!(forged, json!(403));

    // HR moves the cycle on from the overview.
    let hrb = browser(1280, 900);
    let htab = hrb.new_tab().unwrap();
    htab.set_default_timeout(Duration::from_secs(15));
    login(&htab, &s.url, "harriet", USER_PASSWORD);
    go(&htab, &format!("{}/p/appraisal/hr", s.url));
    wait_text(&htab, "Create appraisals");
    htab.wait_for_element("form[action=cycle] input[value=advance]")
        .unwrap();
    htab.evaluate(
        "document.querySelector('input[value=advance]').form.submit()",
        false,
    )
    .unwrap();
    htab.wait_until_navigated().unwrap();
    wait_text(&htab, "Appraise");
    assert_eq!(
        hr.get(&format!("/api/v1/records/appraisal_cycle/{}", cycle["id"]))
            .body["stage"],
        "appraise"
    );

    // The person rates themselves; the form shows again with the reason when a score is missing.
    go(&tab, &format!("{}/p/appraisal/me", s.url));
    wait_text(&tab, "360° ratings to give");
    tab.wait_for_element("a[href^='rate?']")
        .unwrap()
        .click()
        .unwrap();
    // The rating form itself, not the page the click left (a navigation may not have begun
    // when the click returns on a loaded machine).
    tab.wait_for_element("form[action=rate] select[name^=score_]")
        .unwrap();
    tab.evaluate("document.querySelector('select[name^=score_]').removeAttribute('required'); document.querySelector('form[action=rate]').submit()", false).unwrap();
    tab.wait_until_navigated().unwrap();
    wait_text(&tab, "rate every item");
    tab.evaluate("document.querySelector('select[name^=score_]').value = '4'; document.querySelector('form[action=rate]').submit()", false).unwrap();
    tab.wait_until_navigated().unwrap();
    wait_text(&tab, "Change rating");
    let ratings = hr.get("/api/v1/records/rating").body["items"].clone();
    assert_eq!(ratings[0]["score"], 4);
    assert_eq!(ratings[0]["rater_group"], "self");

    go(&htab, &format!("{}/p/appraisal/hr", s.url));
    wait_text(&htab, "Score distribution");
    shot(&htab, "12-appraisal-hr-overview");
    go(
        &htab,
        &format!("{}/p/appraisal/appraisal?id={}", s.url, a["id"]),
    );
    wait_text(&htab, "Target negotiation");
    shot(&htab, "13-appraisal-detail");
    assert_fits(&htab);
}
