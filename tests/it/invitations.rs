//! Invitations instead of invented passwords: an administrator creates a user with an
//! invitation, which is mailed through a real (local) SMTP server when mail is set up and shown
//! otherwise; the link sets the password once, signs the user in, and is then dead.

use qingguan::{Config, MailSettings};
use qingguan_tests::TestServer;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A minimal SMTP sink: accepts every message and keeps its DATA.
pub(crate) fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut out = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let _ = out.write_all(b"220 sink ESMTP\r\n");
            let mut line = String::new();
            let mut data: Option<String> = None;
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(body) = data.as_mut() {
                    if line == ".\r\n" {
                        kept.lock().unwrap().push(data.take().unwrap());
                        let _ = out.write_all(b"250 queued\r\n");
                    } else {
                        body.push_str(&line);
                    }
                    continue;
                }
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let reply: &[u8] = match verb.as_str() {
                    "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                    "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                    "DATA" => {
                        data = Some(String::new());
                        b"354 go on\r\n"
                    }
                    "QUIT" => {
                        let _ = out.write_all(b"221 bye\r\n");
                        break;
                    }
                    _ => b"502 no\r\n",
                };
                let _ = out.write_all(reply);
            }
        }
    });
    (port, got)
}

#[test]
fn an_invited_user_gets_a_mail_and_sets_their_own_password_once() {
    let (port, mails) = smtp_sink();
    let s = TestServer::start_with(Config {
        mail: Some(MailSettings {
            smtp_url: format!("smtp://127.0.0.1:{port}"),
            from: "Qingguan <crm@example.com>".into(),
        }),
        public_url: Some("https://crm.example.com".into()),
        ..Config::default()
    });
    let admin = s.admin();
    let created = admin.post(
        "/api/v1/users",
        &json!({"username": "wang", "display_name": "王芳", "role": "sales", "email": "wang@example.com",
                "locale": "zh-CN", "invite": true}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let invitation = &created.body["invitation"];
    assert_eq!(invitation["mailed"], true, "{}", created.text);
    let link = invitation["link"].as_str().unwrap().to_string();
    assert!(
        link.starts_with("https://crm.example.com/welcome/"),
        "{link}"
    );
    let mail = mails.lock().unwrap()[0].clone();
    assert!(mail.contains("To: wang@example.com"), "{mail}");
    // The body, base64 as the mail says, in the invitee's language.
    let (head, body) = mail.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("base64"), "{head}");
    use base64::Engine;
    let text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap(),
    )
    .unwrap();
    assert!(
        text.contains(&link) && text.contains("用户名：wang"),
        "{text}"
    );

    // No password works before the invitation is accepted.
    let anon = s.anonymous();
    let r = anon.post(
        "/api/v1/auth/login",
        &json!({"username": "wang", "password": ""}),
    );
    assert_eq!(r.status, 401);

    // The page greets the user; the form needs its cookie token; the passwords must agree.
    let path = link.trim_start_matches("https://crm.example.com");
    let page = anon.get(path);
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("王芳") && page.text.contains("设置密码"),
        "{}",
        page.text
    );
    let csrf = page
        .text
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let cookie = page.header("set-cookie").unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let post = |pairs: &[(&str, &str)], with_cookie: bool| {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            body.append_pair(k, v);
        }
        let body = body.finish();
        let cookie = cookie.clone();
        anon.send(reqwest::Method::POST, path, move |r| {
            let r = r
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if with_cookie {
                r.header("cookie", cookie)
            } else {
                r
            }
        })
    };
    let forged = post(
        &[
            ("csrf", &csrf),
            ("password", "wang-secret-1"),
            ("password_again", "wang-secret-1"),
        ],
        false,
    );
    assert_eq!(forged.status, 403);
    let differ = post(
        &[
            ("csrf", &csrf),
            ("password", "wang-secret-1"),
            ("password_again", "other"),
        ],
        true,
    );
    assert_eq!(differ.status, 422);
    let short = post(
        &[
            ("csrf", &csrf),
            ("password", "short"),
            ("password_again", "short"),
        ],
        true,
    );
    assert_eq!(short.status, 422, "{}", short.text);
    let accepted = post(
        &[
            ("csrf", &csrf),
            ("password", "wang-secret-1"),
            ("password_again", "wang-secret-1"),
        ],
        true,
    );
    assert!(
        accepted.status == 200 || accepted.status == 303,
        "{}",
        accepted.text
    );
    let login = anon.post(
        "/api/v1/auth/login",
        &json!({"username": "wang", "password": "wang-secret-1"}),
    );
    assert_eq!(login.status, 200, "{}", login.text);

    // Used up.
    let again = anon.get(path);
    assert_eq!(again.status, 404);
    assert!(
        again.text.contains("已使用") || again.text.contains("used"),
        "{}",
        again.text
    );
    let reuse = post(
        &[
            ("csrf", &csrf),
            ("password", "taken-over-1"),
            ("password_again", "taken-over-1"),
        ],
        true,
    );
    assert_ne!(reuse.status, 200);
    assert_eq!(
        anon.post(
            "/api/v1/auth/login",
            &json!({"username": "wang", "password": "taken-over-1"})
        )
        .status,
        401
    );
}

#[test]
fn without_mail_the_link_is_shown_and_a_new_invitation_replaces_the_old() {
    let s = TestServer::start();
    let admin = s.admin();
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let first = admin.post(&format!("/api/v1/users/{amy_id}/invite"), &json!({}));
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["mailed"], false);
    let old = first.body["link"].as_str().unwrap().to_string();
    assert!(old.starts_with("/welcome/"));
    let second = admin.post(&format!("/api/v1/users/{amy_id}/invite"), &json!({}));
    let new = second.body["link"].as_str().unwrap().to_string();
    let anon = s.anonymous();
    assert_eq!(anon.get(&old).status, 404, "the older link stopped working");
    assert_eq!(anon.get(&new).status, 200);
    assert_eq!(anon.get("/welcome/made-up").status, 404);
    // Deactivating the account voids the link for good, reactivation or not.
    for active in [false, true] {
        let u = admin.get(&format!("/api/v1/records/user/{amy_id}")).body;
        let r = admin.patch_v(
            &format!("/api/v1/records/user/{amy_id}"),
            u["version"].as_i64().unwrap(),
            &json!({"active": active}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(anon.get(&new).status, 404, "void after a deactivation");
    let new = admin
        .post(&format!("/api/v1/users/{amy_id}/invite"), &json!({}))
        .body["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(anon.get(&new).status, 200, "a new invitation works");
    // Only administrators invite.
    assert_eq!(
        amy.post(&format!("/api/v1/users/{amy_id}/invite"), &json!({}))
            .status,
        403
    );
    // In the users page: an invitation checkbox, and the link shown once.
    let ui = s.ui_login("admin", qingguan_tests::ADMIN_PASSWORD);
    let made = ui.post(
        "/admin/users",
        "zh-CN",
        &[
            ("username", "li"),
            ("display_name", "李雷"),
            ("role", "sales"),
            ("invite", "1"),
        ],
    );
    assert_eq!(made.status, 200, "{}", made.text);
    assert!(
        made.text.contains("data-link>&#x2f;welcome&#x2f;"),
        "{}",
        made.text
    );
}

#[test]
fn an_approver_is_told_by_mail_in_their_language() {
    let (port, mails) = smtp_sink();
    let s = TestServer::start_with(Config {
        mail: Some(MailSettings {
            smtp_url: format!("smtp://127.0.0.1:{port}"),
            from: "Qingguan <crm@example.com>".into(),
        }),
        mail_poll: std::time::Duration::from_millis(100),
        public_url: Some("https://crm.example.com".into()),
        ..Config::default()
    });
    let admin = s.admin();
    let label = |en: &str, zh: &str| json!({"en": en, "zh-CN": zh});
    let options: Vec<serde_json::Value> = ["draft", "approved"]
        .iter()
        .map(|v| json!({"value": v, "label": label(v, if *v == "draft" { "草稿" } else { "已批准" })}))
        .collect();
    let r = admin.post(
        "/api/v1/entities",
        &json!({"name": "trip", "label": label("Trip", "出差"), "fields": [
            {"name": "title", "type": "text", "label": label("Title", "事由")},
            {"name": "status", "type": "select", "label": label("Status", "状态"), "options": options}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let boss = admin.post(
        "/api/v1/users",
        &json!({"username": "boss", "password": "boss-password-1", "role": "manager", "team": "east",
                "email": "boss@example.com", "locale": "zh-CN"}),
    );
    assert_eq!(boss.status, 201, "{}", boss.text);
    let boss_id = boss.body["id"].as_i64().unwrap();
    let wf = admin.put(
        "/api/v1/workflows/trip",
        &json!({"state_field": "status", "initial": "draft", "transitions": [
            {"name": "ask", "label": label("Ask", "申请"), "from": ["draft"], "to": "approved",
             "approval": [{"approvers": [{"user": boss_id}]}]}]}),
    );
    assert_eq!(wf.status, 200, "{}", wf.text);
    let trip = admin.create("trip", json!({"title": "上海客户拜访"}));
    let asked = admin.post(
        &format!("/api/v1/records/trip/{}/transitions/ask", trip["id"]),
        &json!({"version": trip["version"]}),
    );
    assert_eq!(asked.status, 202, "{}", asked.text);
    let start = std::time::Instant::now();
    while mails.lock().unwrap().is_empty() {
        assert!(start.elapsed().as_secs() < 20, "no mail");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mail = mails.lock().unwrap()[0].clone();
    assert!(mail.contains("To: boss@example.com"), "{mail}");
    let (_, body) = mail.split_once("\r\n\r\n").unwrap();
    use base64::Engine;
    let text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap_or_else(|_| body.as_bytes().to_vec()),
    )
    .unwrap();
    // The title as the approver may see it (a manager of another team: the id).
    assert!(
        text.contains("出差") && text.contains("等待您审批") && text.contains("已批准"),
        "in Chinese: {text}"
    );
    assert!(
        text.contains(&format!("https://crm.example.com/e/trip/{}", trip["id"])),
        "{text}"
    );
    // Once only.
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(mails.lock().unwrap().len(), 1);
}

#[test]
fn a_person_turns_notification_mail_off_and_gets_none() {
    let (port, mails) = smtp_sink();
    let s = TestServer::start_with(Config {
        mail: Some(MailSettings {
            smtp_url: format!("smtp://127.0.0.1:{port}"),
            from: "Qingguan <crm@example.com>".into(),
        }),
        mail_poll: std::time::Duration::from_millis(100),
        ..Config::default()
    });
    let admin = s.admin();
    let boss = admin.post(
        "/api/v1/users",
        &json!({"username": "boss", "password": "boss-password-1", "role": "manager", "email": "boss@example.com"}),
    );
    let boss_id = boss.body["id"].as_i64().unwrap();
    let ui = s.ui_login("boss", "boss-password-1");
    let inbox = ui.get("/inbox", "en");
    assert!(inbox.text.contains("data-mail=\"on\""), "{}", inbox.text);
    let off = ui.post("/inbox/mail", "en", &[("on", "0")]);
    assert_eq!(off.status, 200);
    assert!(off.text.contains("data-mail=\"off\""), "{}", off.text);
    // An approval for the boss: in the inbox, not by mail.
    let label = |en: &str| json!({"en": en, "zh-CN": en});
    let options: Vec<serde_json::Value> = ["draft", "ok"]
        .iter()
        .map(|v| json!({"value": v, "label": label(v)}))
        .collect();
    admin.post(
        "/api/v1/entities",
        &json!({"name": "memo", "label": label("Memo"), "fields": [
            {"name": "title", "type": "text", "label": label("Title")},
            {"name": "status", "type": "select", "label": label("Status"), "options": options}]}),
    );
    admin.put(
        "/api/v1/workflows/memo",
        &json!({"state_field": "status", "initial": "draft", "transitions": [
            {"name": "ask", "label": label("Ask"), "from": ["draft"], "to": "ok",
             "approval": [{"approvers": [{"user": boss_id}]}]}]}),
    );
    let memo = admin.create("memo", json!({"title": "x"}));
    let asked = admin.post(
        &format!("/api/v1/records/memo/{}/transitions/ask", memo["id"]),
        &json!({"version": memo["version"]}),
    );
    assert_eq!(asked.status, 202, "{}", asked.text);
    let boss_client = s.login("boss", "boss-password-1");
    assert_eq!(
        boss_client.get("/api/v1/notifications").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert!(mails.lock().unwrap().is_empty(), "turned off");
    // Through the API too.
    let on = boss_client.patch("/api/v1/auth/me", &json!({"mail_notifications": true}));
    assert_eq!(on.status, 200, "{}", on.text);
}

#[test]
fn an_administrator_imports_people_and_invites_them() {
    let s = TestServer::start();
    let admin = s.admin();
    let (rep, _) = s.user("amy", "sales", "east");
    let (_mia, mia_id) = s.user("mia", "manager", "east");
    let file = "Username,Display name,Role,Team,Email,Manager\n\
li,李雷,sales,east,li@example.com,mia\n\
han,韩梅梅,sales,east,,mia\n\
bad,Bad,nosuchrole,,,\n";
    let upload = |c: &qingguan_tests::Client| {
        c.send(
            reqwest::Method::POST,
            "/api/v1/imports?entity=user&file_name=people.csv",
            |r| r.body(file.to_string()),
        )
    };
    assert_eq!(upload(&rep).status, 403, "a rep does not import people");
    let up = upload(&admin);
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["import"]["id"].as_i64().unwrap();
    let options = json!({"mapping": {"Username": "username", "Display name": "display_name", "Role": "role",
                                     "Team": "team", "Email": "email", "Manager": "manager"}});
    let upsert = admin.post(
        &format!("/api/v1/imports/{id}/run"),
        &json!({"mapping": options["mapping"], "mode": "upsert", "key": "username"}),
    );
    assert_eq!(upsert.status, 400, "people are only added: {}", upsert.text);
    assert_eq!(
        admin
            .post(&format!("/api/v1/imports/{id}/run"), &options)
            .status,
        202
    );
    let mut done = json!(null);
    qingguan_tests::until("the import is done", || {
        done = admin.get(&format!("/api/v1/imports/{id}")).body;
        done["status"] == "done"
    });
    assert_eq!(
        (done["inserted"].as_i64(), done["failed"].as_i64()),
        (Some(2), Some(1)),
        "{done}"
    );
    let li = admin.get("/api/v1/records/user?username=li").body["items"][0].clone();
    assert_eq!(li["manager"], mia_id);
    assert_eq!(li["display_name"], "李雷");
    // Nobody knows their password until they accept an invitation.
    let invited = admin.post(&format!("/api/v1/imports/{id}/invitations"), &json!({}));
    assert_eq!(invited.status, 200, "{}", invited.text);
    let items = invited.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["username"], "li");
    let link = items[0]["link"].as_str().unwrap();
    assert_eq!(s.anonymous().get(link).status, 200);
    assert_eq!(
        rep.post(&format!("/api/v1/imports/{id}/invitations"), &json!({}))
            .status,
        403
    );
    // People are deactivated one by one, not undone.
    assert_eq!(
        admin
            .post(&format!("/api/v1/imports/{id}/undo"), &json!({}))
            .error_code(409),
        "conflict"
    );
}
