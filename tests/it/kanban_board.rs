//! The kanban board's default window: closed columns (options with a colour, such as won and
//! lost) show the cards changed in the last 30 days, with their counts, and a link shows all;
//! open columns show every card; the board scrolls inside itself, not the page. On a phone a
//! swipe that starts on a card scrolls the board, and a long press then a drag moves the card.

use qingguan_tests::{TestServer, ADMIN_PASSWORD};
use serde_json::json;

/// The part of a kanban page that is the column of `value` (to the next column).
fn column<'a>(page: &'a str, value: &str) -> &'a str {
    let start = page
        .find(&format!("data-value=\"{value}\""))
        .unwrap_or_else(|| panic!("no column {value}: {page}"));
    let rest = &page[start..];
    let end = rest[1..].find("<section").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

fn count(col: &str) -> String {
    let at = col.find("column-count\">").expect("count") + "column-count\">".len();
    col[at..].split('<').next().unwrap().to_string()
}

#[test]
fn closed_columns_show_the_last_30_days_unless_all_are_asked_for() {
    let s = TestServer::start();
    let admin = s.admin();
    let def = json!({
        "name": "ticket", "label": {"en": "Ticket", "zh-CN": "工单"},
        "fields": [
            {"name": "title", "type": "text", "label": {"en": "Title", "zh-CN": "标题"}},
            {"name": "state", "type": "select", "label": {"en": "State", "zh-CN": "状态"},
             "options": [
                {"value": "open", "label": {"en": "Open", "zh-CN": "处理中"}},
                {"value": "done", "label": {"en": "Done", "zh-CN": "已完成"}, "color": "#2e7d32"}]}
        ],
        "kanban_field": "state"
    });
    assert_eq!(admin.post("/api/v1/entities", &def).status, 201);
    let mut ids = Vec::new();
    for (title, state) in [
        ("old open", "open"),
        ("old done", "done"),
        ("new done", "done"),
    ] {
        let r = admin.create("ticket", json!({"title": title, "state": state}));
        ids.push(r["id"].as_i64().unwrap());
    }
    // Two of them last changed long ago.
    for id in &ids[..2] {
        s.execute_sql(
            "UPDATE r_ticket SET updated_at = '2020' || substr(updated_at, 5) WHERE id = ?1",
            &[(*id).into()],
        );
    }
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get("/e/ticket/kanban", "zh-CN");
    assert_eq!(page.status, 200, "{}", page.text);
    let (open, done) = (column(&page.text, "open"), column(&page.text, "done"));
    assert!(
        open.contains("old open"),
        "open columns show every card: {open}"
    );
    assert!(
        done.contains("new done") && !done.contains("old done"),
        "{done}"
    );
    assert_eq!(count(done), "1");
    assert!(
        page.text.contains("/e/ticket/kanban?all=1"),
        "a way to see all"
    );
    assert!(page.text.contains("显示全部"));
    let totals = ui.get("/e/ticket/kanban/totals", "en").body;
    assert_eq!(totals["columns"][1]["count"], 1, "{totals}");
    // All of them.
    let all = ui.get("/e/ticket/kanban?all=1", "en");
    let done = column(&all.text, "done");
    assert!(
        done.contains("old done") && done.contains("new done"),
        "{done}"
    );
    assert_eq!(count(done), "2");
    assert!(all.text.contains("data-all=\"1\""));
    let totals = ui.get("/e/ticket/kanban/totals?all=1", "en").body;
    assert_eq!(totals["columns"][1]["count"], 2, "{totals}");
    // A board without closed options offers no window.
    let customers = ui.get("/e/customer/kanban", "en").text;
    assert!(!customers.contains("kanban?all=1"));
}

/// On a phone (touch), a swipe that starts on a card scrolls the board sideways and moves no
/// record; the columns scroll inside the board, not the page; a long press lifts the card and
/// the finger then drags it to another column.
#[test]
fn a_swipe_on_a_card_scrolls_the_board_and_a_long_press_drags_it() {
    use super::browser::{browser, go, login, shot};
    use headless_chrome::protocol::cdp::{Emulation, Input};
    let s = TestServer::start();
    let admin = s.admin();
    let c = admin.create("customer", qingguan_tests::customer("Swipe Co"));
    let b = browser(390, 844);
    let tab = b.new_tab().unwrap();
    tab.set_default_timeout(std::time::Duration::from_secs(15));
    tab.call_method(Emulation::SetTouchEmulationEnabled {
        enabled: true,
        max_touch_points: Some(1),
    })
    .unwrap();
    login(&tab, &s.url, "admin", ADMIN_PASSWORD);
    go(&tab, &format!("{}/e/customer/kanban", s.url));
    let js = |e: &str| tab.evaluate(e, false).unwrap().value.unwrap_or(json!(null));
    let card = tab
        .wait_for_element(".column[data-value=lead] .card-item")
        .unwrap();
    let at = card.get_midpoint().unwrap();
    assert_eq!(js("document.querySelector('.kanban').scrollLeft"), json!(0));
    assert_eq!(
        js("document.querySelector('.kanban').scrollWidth > document.querySelector('.kanban').clientWidth"),
        json!(true),
        "the board is wider than a phone"
    );
    // A finger on the card, moved left in small steps, then lifted.
    use Input::DispatchTouchEventTypeOption as T;
    touch(&tab, T::TouchStart, at.x, at.y);
    for i in 1..=12 {
        touch(&tab, T::TouchMove, at.x - 20.0 * f64::from(i), at.y);
        std::thread::sleep(std::time::Duration::from_millis(16));
    }
    touch(&tab, T::TouchEnd, at.x - 240.0, at.y);
    qingguan_tests::until("the board scrolls by more than 50 px", || {
        js("document.querySelector('.kanban').scrollLeft")
            .as_f64()
            .is_some_and(|x| x > 50.0)
    });
    shot(&tab, "kanban-phone-swipe");
    assert_eq!(
        js("document.documentElement.scrollWidth <= window.innerWidth + 1"),
        json!(true),
        "the page itself does not scroll sideways"
    );
    let id = c["id"].as_i64().unwrap();
    let after = admin.get(&format!("/api/v1/records/customer/{id}")).body;
    assert_eq!(after["status"], "lead", "no record moved");
    // A long press lifts the card; then the finger moves it to the next column.
    go(&tab, &format!("{}/e/customer/kanban", s.url));
    let card = tab
        .wait_for_element(".column[data-value=lead] .card-item")
        .unwrap();
    let at = card.get_midpoint().unwrap();
    let target = tab
        .wait_for_element(".column[data-value=customer] h2")
        .unwrap()
        .get_midpoint()
        .unwrap();
    touch(&tab, T::TouchStart, at.x, at.y);
    // Held until the page lifts the card (after 450 ms; later on a busy machine).
    qingguan_tests::until("a long press lifts the card", || {
        js("document.querySelector('.card-item.lifted') !== null") == json!(true)
    });
    for i in 1..=10 {
        let f = f64::from(i) / 10.0;
        touch(
            &tab,
            T::TouchMove,
            at.x + (target.x - at.x) * f,
            at.y + (target.y - at.y) * f,
        );
        std::thread::sleep(std::time::Duration::from_millis(16));
    }
    touch(&tab, T::TouchEnd, target.x, target.y);
    let t = std::time::Instant::now();
    while admin.get(&format!("/api/v1/records/customer/{id}")).body["status"] != "customer" {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "a long press then a drag moves the card"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// One touch event of one finger at `(x, y)` (none on `TouchEnd`).
fn touch(
    tab: &headless_chrome::Tab,
    kind: headless_chrome::protocol::cdp::Input::DispatchTouchEventTypeOption,
    x: f64,
    y: f64,
) {
    use headless_chrome::protocol::cdp::Input;
    let points = if kind == Input::DispatchTouchEventTypeOption::TouchEnd {
        vec![]
    } else {
        vec![Input::TouchPoint {
            x,
            y,
            radius_x: None,
            radius_y: None,
            rotation_angle: None,
            force: None,
            tangential_pressure: None,
            tilt_x: None,
            tilt_y: None,
            twist: None,
            id: None,
        }]
    };
    tab.call_method(Input::DispatchTouchEvent {
        Type: kind,
        touch_points: points,
        modifiers: None,
        timestamp: None,
    })
    .unwrap();
}

/// An implementer marks a closed stage in Studio by giving its option a colour; a colour that
/// is not one is refused beside the options, in the reader's language, nothing changed.
#[test]
fn a_colour_given_in_studio_makes_a_stage_closed() {
    let s = TestServer::start();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let path = "/admin/studio/customer/fields/status";
    let bad = "lead | Lead | 潜在客户\ncustomer | Customer | 成交客户\ninactive | Inactive | 休眠客户 | red\n";
    let r = ui.post(path, "zh-CN", &[("options", bad)]);
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("#rrggbb"), "{}", r.text);
    assert!(r.text.contains("休眠客户 | red"), "what was typed is kept");
    assert!(!ui
        .get("/e/customer/kanban", "en")
        .text
        .contains("kanban?all=1"));
    let good = bad.replace("| red", "| #777");
    let r = ui.post(path, "en", &[("options", good.as_str())]);
    assert_eq!(r.status, 200, "{}", r.text);
    let board = ui.get("/e/customer/kanban", "zh-CN").text;
    assert!(board.contains("kanban?all=1"), "{board}");
    assert!(
        board.contains("column recent\" data-value=\"inactive\""),
        "{board}"
    );
    assert!(ui
        .get("/admin/studio/customer", "en")
        .text
        .contains("休眠客户 | #777"));
}

#[test]
fn a_board_shows_only_mine_on_request_offers_quick_create_and_folds() {
    let s = qingguan_tests::TestServer::start();
    let admin = s.admin();
    let (mia, _) = s.user("mia", "manager", "east");
    let (amy, _) = s.user("amy", "sales", "east");
    mia.create("customer", qingguan_tests::customer("Mia's lead"));
    amy.create("customer", qingguan_tests::customer("Amy's lead"));
    admin.create("customer", qingguan_tests::customer("Admin's lead"));
    let ui = s.ui_login("mia", qingguan_tests::USER_PASSWORD);
    let all = ui.get("/e/customer/kanban", "en");
    assert!(
        all.text.contains("Mia&#x27;s lead") || all.text.contains("Mia's lead"),
        "{}",
        all.text
    );
    assert!(all.text.contains("Amy"), "the team's cards: {}", all.text);
    let mine = ui.get("/e/customer/kanban?mine=1", "en");
    assert!(
        mine.text.contains("Mia") && !mine.text.contains("Amy"),
        "{}",
        mine.text
    );
    assert!(mine.text.contains("data-mine=\"1\""));
    let totals = ui.get("/e/customer/kanban/totals?mine=1", "en");
    let lead = totals.body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"] == "lead")
        .unwrap()
        .clone();
    assert_eq!(lead["count"], 1, "{}", totals.text);
    // Each column offers a new card in it, and folds.
    assert!(
        all.text
            .contains("&#x2f;e&#x2f;customer&#x2f;new?status=lead"),
        "{}",
        all.text
    );
    assert!(all.text.contains("data-fold"));
    let form = ui.get("/e/customer/new?status=customer", "en");
    assert!(
        form.text.contains("<option value=\"customer\" selected"),
        "{}",
        form.text
    );
}
