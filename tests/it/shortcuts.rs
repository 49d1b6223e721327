//! Keyboard shortcuts in a real headless Chromium: "/" focuses search, "n" opens a new record
//! from a list, "e" edits the record shown, "g" then a letter goes to a menu entry, "?" shows
//! the list of them (in the reader's language) and Escape closes it; typing in a field types;
//! a kanban move that needs a field asks for it on the board.

use super::browser::{browser, go, login, text, wait_text};
use headless_chrome::Tab;
use qingguan_tests::{customer, TestServer, ADMIN_PASSWORD};
use std::time::{Duration, Instant};

fn wait_url(tab: &Tab, ends: &str) {
    let t = Instant::now();
    while !tab.get_url().ends_with(ends) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "never reached {ends}: at {}",
            tab.get_url()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    tab.wait_for_element("nav.side").unwrap();
}

fn eval(tab: &Tab, js: &str) -> String {
    tab.evaluate(js, false)
        .unwrap()
        .value
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_default()
}

#[test]
fn keyboard_shortcuts_search_create_edit_jump_and_explain_themselves() {
    let s = TestServer::start();
    let c = s.admin().create("customer", customer("Acme"));
    let b = browser(1366, 900);
    let tab = b.new_tab().unwrap();
    login(&tab, &s.url, "admin", ADMIN_PASSWORD);

    go(&tab, &format!("{}/e/customer", s.url));
    tab.press_key("/").unwrap();
    assert_eq!(eval(&tab, "document.activeElement.name"), "q");

    go(&tab, &format!("{}/e/customer", s.url));
    tab.press_key("n").unwrap();
    wait_url(&tab, "/e/customer/new");
    // In a field, a letter is a letter.
    tab.wait_for_element("input[name=name]")
        .unwrap()
        .click()
        .unwrap();
    tab.press_key("e").unwrap();
    tab.press_key("n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        tab.get_url().ends_with("/e/customer/new"),
        "{}",
        tab.get_url()
    );
    assert_eq!(
        eval(&tab, "document.querySelector('input[name=name]').value"),
        "en"
    );

    go(&tab, &format!("{}/e/customer/{}", s.url, c["id"]));
    tab.press_key("e").unwrap();
    wait_url(&tab, &format!("/e/customer/{}/edit", c["id"]));

    go(&tab, &format!("{}/", s.url));
    tab.press_key("g").unwrap();
    tab.press_key("i").unwrap();
    wait_url(&tab, "/inbox");
    let customers_key = eval(
        &tab,
        "document.querySelector('nav a[data-entity=customer]').dataset.jump",
    );
    assert_eq!(customers_key, "c");
    tab.press_key("g").unwrap();
    tab.press_key("c").unwrap();
    wait_url(&tab, "/e/customer");

    tab.press_key("?").unwrap();
    wait_text(&tab, "Keyboard shortcuts");
    let help = eval(
        &tab,
        "document.querySelector('.shortcuts .jumps').innerText",
    );
    assert!(
        help.contains("Customer") && help.contains("Inbox") && help.contains("Dashboard"),
        "{help}"
    );
    assert!(text(&tab).contains("Go to (g, then the letter)"));
    tab.press_key("Escape").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        eval(
            &tab,
            "String(document.querySelectorAll('.shortcuts').length)"
        ),
        "0"
    );

    // In Chinese (the language chosen through the API; the next page follows it).
    let zh = s
        .admin()
        .patch("/api/v1/auth/me", &serde_json::json!({"locale": "zh-CN"}));
    assert_eq!(zh.status, 200, "{}", zh.text);
    go(&tab, &format!("{}/e/customer", s.url));
    wait_text(&tab, "工作台");
    tab.press_key("?").unwrap();
    wait_text(&tab, "键盘快捷键");
    assert!(text(&tab).contains("跳转（先按 g，再按字母）"));
}

/// Drags a card by the mouse from one point to another, in steps.
fn drag(tab: &Tab, from: (f64, f64), to: (f64, f64)) {
    use headless_chrome::protocol::cdp::Input::DispatchMouseEventTypeOption as M;
    super::browser::mouse(tab, M::MouseMoved, from.0, from.1, false);
    super::browser::mouse(tab, M::MousePressed, from.0, from.1, true);
    for i in 1..=10 {
        let f = f64::from(i) / 10.0;
        let (x, y) = (from.0 + (to.0 - from.0) * f, from.1 + (to.1 - from.1) * f);
        super::browser::mouse(tab, M::MouseMoved, x, y, true);
    }
    super::browser::mouse(tab, M::MouseReleased, to.0, to.1, false);
}

/// Dragging a deal to 输单 (lost) asks for the lost reason on the board — in Chinese — and
/// moves the card once it is given; cancelling leaves the deal where it was.
#[test]
fn a_move_that_needs_a_field_asks_for_it_on_the_board() {
    let s = TestServer::start();
    let admin = s.admin();
    assert_eq!(
        qingguan_tests::install(&admin, "qingguan-sales", true).status,
        201
    );
    let c = admin.create("customer", customer("Kanban Co"));
    let deal = admin.create(
        "deal",
        serde_json::json!({"title": "ERP proposal", "customer": c["id"], "stage": "proposal", "amount": "25000"}),
    );
    // The administrator reads Chinese (chosen before the browser signs in).
    let zh = admin.patch("/api/v1/auth/me", &serde_json::json!({"locale": "zh-CN"}));
    assert_eq!(zh.status, 200, "{}", zh.text);
    let b = browser(1600, 900);
    let tab = b.new_tab().unwrap();
    login(&tab, &s.url, "admin", ADMIN_PASSWORD);
    go(&tab, &format!("{}/e/deal/kanban", s.url));
    wait_text(&tab, "看板");
    let card = tab
        .wait_for_element(".column[data-value=proposal] .card-item")
        .unwrap();
    let from = card.get_midpoint().unwrap();
    let to = tab
        .wait_for_element(".column[data-value=lost] h2")
        .unwrap()
        .get_midpoint()
        .unwrap();
    let move_it = |tab: &Tab| drag(tab, (from.x, from.y), (to.x, to.y + 40.0));

    // Dropped on lost: the board asks for the reason, nothing changed yet; Cancel leaves it.
    move_it(&tab);
    tab.wait_for_element("#kanban-error form.move-form select[name=lost_reason]")
        .unwrap();
    wait_text(&tab, "移动到该列需要填写");
    wait_text(&tab, "输单原因");
    assert_eq!(
        admin
            .get(&format!("/api/v1/records/deal/{}", deal["id"]))
            .body["stage"],
        "proposal"
    );
    tab.wait_for_element("#kanban-error form.move-form button[type=button]")
        .unwrap()
        .click()
        .unwrap();
    assert_eq!(
        eval(
            &tab,
            "String(document.getElementById('kanban-error').hidden)"
        ),
        "true"
    );

    // Again, with a reason chosen: the deal is lost for that reason, the card in its column.
    // (The form comes back once the board has asked the server: wait for it.)
    move_it(&tab);
    tab.wait_for_element("#kanban-error form.move-form select[name=lost_reason]")
        .unwrap();
    let reason = eval(
        &tab,
        "(function(){var s=document.querySelector('#kanban-error select[name=lost_reason]');s.value=s.options[1].value;return s.value;})()",
    );
    assert!(!reason.is_empty());
    tab.wait_for_element("#kanban-error form.move-form button.primary")
        .unwrap()
        .click()
        .unwrap();
    let t = Instant::now();
    loop {
        let d = admin
            .get(&format!("/api/v1/records/deal/{}", deal["id"]))
            .body;
        if d["stage"] == "lost" {
            assert_eq!(d["lost_reason"], serde_json::json!(reason));
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "not moved: {d}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let t = Instant::now();
    while eval(
        &tab,
        "String(document.querySelectorAll('.column[data-value=lost] .card-item').length)",
    ) != "1"
    {
        assert!(t.elapsed() < Duration::from_secs(10), "the card stayed");
        std::thread::sleep(Duration::from_millis(100));
    }
}
