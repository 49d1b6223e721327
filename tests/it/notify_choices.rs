//! Each person chooses, per kind of notification, to hear of it in the inbox and by e-mail,
//! in the inbox only, or not at all — and every source (mentions, plugins) obeys, with mail
//! sent to a local SMTP sink only where the choice allows it.

use crate::invitations::smtp_sink;
use crate::outreach::{plugin_notes, set_user};
use qingguan::{Config, MailSettings};
use qingguan_tests::{customer, install, TestServer, USER_PASSWORD};
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn each_person_chooses_how_they_hear_of_each_kind_of_notification() {
    let (port, mails) = smtp_sink();
    let s = TestServer::start_with(Config {
        mail: Some(MailSettings {
            smtp_url: format!("smtp://127.0.0.1:{port}"),
            from: "Qingguan <crm@example.com>".into(),
        }),
        mail_poll: Duration::from_millis(100),
        public_url: Some("https://crm.example.com".into()),
        ..Config::default()
    });
    let admin = s.admin();
    assert_eq!(install(&admin, "qg-test-outreach", true).status, 201);
    let (amy, _) = s.user("amy", "sales", "east");
    let (mia, mia_id) = s.user("mia", "manager", "east");
    let (zoe, zoe_id) = s.user("zoe", "manager", "east");
    set_user(&admin, mia_id, json!({"email": "mia@example.com"}));
    set_user(&admin, zoe_id, json!({"email": "zoe@example.com"}));

    // Everything by mail until one chooses otherwise.
    let all = mia.get("/api/v1/notifications/choices").body;
    assert_eq!(
        all,
        json!({"approvals": "mail", "decisions": "mail", "mentions": "mail", "overdue": "mail", "plugins": "mail"})
    );
    // Bad choices are refused whole, in the caller's language, and change nothing.
    let bad = mia.put(
        "/api/v1/notifications/choices",
        &json!({"mentions": "off", "plugins": "loud"}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(
        bad.body["error"]["fields"]["plugins"].is_string(),
        "{}",
        bad.text
    );
    let unknown = mia.put("/api/v1/notifications/choices", &json!({"gossip": "off"}));
    assert_eq!(unknown.status, 422, "{}", unknown.text);
    assert_eq!(mia.get("/api/v1/notifications/choices").body, all);
    let set = mia.put(
        "/api/v1/notifications/choices",
        &json!({"mentions": "off", "plugins": "inbox"}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["mentions"], "off");
    assert_eq!(set.body["plugins"], "inbox");
    assert_eq!(
        set.body["approvals"], "mail",
        "groups not named keep theirs"
    );
    // Zoe's are her own: Mia's choice changed nothing of hers.
    assert_eq!(zoe.get("/api/v1/notifications/choices").body, all);

    // A mention: Zoe is told, Mia (off) is not.
    let c = amy.create("customer", customer("杭州恒信科技"));
    let note = amy.post(
        "/api/v1/records/activity",
        &json!({"kind": "note", "subject": "报价", "body": "@mia @zoe 请看一下",
                "about_entity": "customer", "about_id": c["id"]}),
    );
    assert_eq!(note.status, 201, "{}", note.text);
    let kinds = |c: &qingguan_tests::Client| -> Vec<String> {
        c.get("/api/v1/notifications").body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kinds(&zoe), ["mention"]);
    assert!(kinds(&mia).is_empty());

    // A plugin's notice: both see it in the inbox; only Zoe is mailed.
    let sent = admin.post(
        "/api/v1/plugins/outreach/notify",
        &json!({"users": [mia_id, zoe_id], "en": "Stock of A4 paper is low", "link": "/e/customer/1"}),
    );
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(plugin_notes(&mia).len(), 1);
    assert_eq!(plugin_notes(&zoe).len(), 1);
    let start = Instant::now();
    while mails
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains("To: zoe@example.com"))
        .count()
        < 2
    {
        assert!(start.elapsed() < Duration::from_secs(20), "zoe's two mails");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500)); // a later poll would have sent Mia's
    assert!(
        !mails
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.contains("mia@example.com")),
        "Mia chose the inbox only"
    );

    // Off for plugins: told to nobody, and the plugin hears how many were told.
    let r = zoe.put("/api/v1/notifications/choices", &json!({"plugins": "off"}));
    assert_eq!(r.status, 200);
    let sent = admin.post(
        "/api/v1/plugins/outreach/notify",
        &json!({"role": "manager", "en": "Paper arrived"}),
    );
    assert_eq!(sent.body["ok"], 1, "Mia, not Zoe: {}", sent.text);
    assert_eq!(plugin_notes(&zoe).len(), 1);
    assert_eq!(plugin_notes(&mia).len(), 2);

    // The inbox page offers the same choice in Chinese, and its form keeps it.
    let ui = s.ui_login("mia", USER_PASSWORD);
    let inbox = ui.get("/inbox", "zh-CN");
    assert!(inbox.text.contains("通知设置"), "{}", inbox.text);
    assert!(
        inbox
            .text
            .contains("<option value=\"inbox\" selected>仅收件箱</option>"),
        "{}",
        inbox.text
    );
    let saved = ui.post(
        "/inbox/choices",
        "zh-CN",
        &[("mentions", "mail"), ("plugins", "nonsense")],
    );
    assert_eq!(saved.status, 200, "{}", saved.text);
    let now = mia.get("/api/v1/notifications/choices").body;
    assert_eq!(now["mentions"], "mail");
    assert_eq!(now["plugins"], "inbox", "an unknown value changes nothing");
}
