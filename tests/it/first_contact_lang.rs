//! What a Chinese SME owner met on the admin pages and in the menus, each fixed at its cause:
//! every word of the users, roles, plugins and Studio pages in Chinese (permissions, scopes,
//! statuses, origins, field types, plugin page titles) and times in the reader's time zone;
//! fields the system sets shown as text in the generic forms and refused in their posts; menus
//! and dashboard tiles for the record types a role works on; plugin actions that fit the
//! plugin's state, confirmed when they stop or remove something, and its capabilities in words.

use qingguan_core::{Access, EntityDef, FieldDef, FieldType, Label, Origin};
use qingguan_tests::{install, Client, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::{json, Map};

const ZH: &str = "zh-CN,zh;q=0.9,en;q=0.8";

/// The text a reader sees: tags, scripts and attributes gone; machine names (`<code>`),
/// technical details (`<pre>`) and what an input holds (`<textarea>`, like `value="…"`) left
/// out, as they are data rather than words.
fn visible_text(html: &str) -> String {
    let mut s = html.to_string();
    for tag in ["script", "style", "code", "pre", "title", "textarea"] {
        while let Some(start) = s.find(&format!("<{tag}")) {
            let close = format!("</{tag}>");
            let end = s[start..]
                .find(&close)
                .map(|e| start + e + close.len())
                .unwrap_or(s.len());
            s.replace_range(start..end, " ");
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&").replace("&#x2f;", "/")
}

/// The English words of a page's visible text that are not data (`allowed`: usernames and the
/// like) — each a leak into the Chinese UI.
fn english_words(html: &str, allowed: &[&str]) -> Vec<String> {
    // Words that mean something only in English, seen on these pages before.
    const KNOWN: &[&str] = &[
        "C",
        "R",
        "U",
        "D",
        "own",
        "team",
        "all",
        "scope",
        "admin",
        "active",
        "disabled",
        "faulted",
        "failed",
        "rejected",
        "retired",
        "core",
        "custom",
        "plugin",
        "UTC",
        "ms",
        "sales",
        "appraisal",
        "text",
        "integer",
        "decimal",
        "select",
        "reference",
        "boolean",
        "Enable",
        "Disable",
        "Remove",
        "ID",
        // The core's own English summaries and reasons.
        "invalid",
        "must",
        "already",
        "cannot",
        "refused",
        "conflict",
        "found",
        "has",
    ];
    visible_text(html)
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| KNOWN.contains(w) && !allowed.contains(w))
        .map(String::from)
        .collect()
}

fn with_plugins(s: &TestServer) -> Client {
    let admin = s.admin();
    for p in [
        "qingguan-sales",
        "qingguan-growth-rule",
        "qingguan-appraisal",
    ] {
        let r = install(&admin, p, true);
        assert_eq!(r.status, 201, "{p}: {}", r.text);
    }
    admin
}

#[test]
fn the_admin_pages_speak_chinese_to_a_chinese_admin() {
    let s = TestServer::start();
    let _admin = with_plugins(&s);
    s.user("rep", "sales", "east");
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let usernames = ["admin", "rep"];
    for path in [
        "/admin/users",
        "/admin/roles",
        "/admin/plugins",
        "/admin/settings",
        "/admin/studio",
        "/admin/studio/customer",
        "/admin/studio/deal",
        "/admin/studio/followup",
        "/admin/studio/appraisal_cycle",
        "/admin/studio/user",
    ] {
        let page = ui.get(path, ZH);
        assert_eq!(page.status, 200, "{path}");
        let leaks = english_words(&page.text, &usernames);
        assert!(leaks.is_empty(), "{path} shows {leaks:?}");
    }
    // Permissions and scopes in words, on the roles page and the users page's summary.
    let roles = visible_text(&ui.get("/admin/roles", ZH).text);
    for words in [
        "新建",
        "查看",
        "修改",
        "删除",
        "数据范围",
        "仅本人",
        "本团队",
        "全部",
    ] {
        assert!(roles.contains(words), "roles page lacks {words}");
    }
    let users = visible_text(&ui.get("/admin/users", ZH).text);
    assert!(
        users.contains("客户: 新建") || users.contains("其他所有类型"),
        "{users}"
    );
    assert!(
        users.contains("销售代表"),
        "the rep's role by its label: {users}"
    );
    // Plugins: status and install times in words and in the reader's zone (UTC+8 for Chinese
    // without a configured zone; a configured one wins).
    let plugins = ui.get("/admin/plugins", ZH).text;
    assert!(visible_text(&plugins).contains("运行中"), "{plugins}");
    assert!(visible_text(&plugins).contains("毫秒"), "{plugins}");
    let at = plugins
        .split("<time datetime=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("an install time")
        .to_string();
    let utc = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
    let shown = |offset_h: i64| {
        (utc + chrono::Duration::hours(offset_h))
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    assert!(plugins.contains(&shown(8)), "UTC+8 for Chinese: {at}");
    s.store.set_time_zone(-5 * 60).unwrap();
    assert!(
        ui.get("/admin/plugins", ZH).text.contains(&shown(-5)),
        "the install's zone"
    );
    // Plugin pages are titled in Chinese, also the ones without a menu entry.
    for path in ["/p/sales/dashboard", "/p/appraisal/results"] {
        let page = ui.get(path, ZH);
        let title = page
            .text
            .split("<title>")
            .nth(1)
            .and_then(|t| t.split("</title>").next())
            .unwrap_or_default()
            .to_string();
        assert!(
            !title.contains("sales") && !title.contains("appraisal"),
            "{path}: {title}"
        );
    }
    // A refused role form names the field by its label, not its key.
    let refused = ui.post(
        "/admin/roles/new",
        ZH,
        &[("name", "Bad Name"), ("label_en", "x"), ("label_zh", "")],
    );
    // (The client follows the redirect back to the roles page, which shows the message.)
    let shown = visible_text(&refused.text);
    assert!(shown.contains("请修改"), "{shown}");
    assert!(
        !shown.contains("label_zh") && !shown.contains("validation"),
        "{shown}"
    );
}

#[test]
fn refusals_on_the_admin_pages_speak_chinese() {
    let s = TestServer::start();
    let _admin = with_plugins(&s);
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let refusals: [(&str, &[(&str, &str)]); 6] = [
        // A key of the core is no retired custom field to bring back.
        ("/admin/studio/customer/fields/name/unretire", &[]),
        // A core field cannot be retired (hidden instead).
        ("/admin/studio/customer/fields/name/retire", &[]),
        // A default that is not one of the options.
        (
            "/admin/studio/customer/fields/industry",
            &[("default", "mining")],
        ),
        // A list column that is not a field.
        (
            "/admin/studio/customer/layout",
            &[
                ("layout", "# A | 甲\nname\n"),
                ("columns_shown", "1"),
                ("col", "nosuch"),
            ],
        ),
        // A plugin without an earlier version to roll back to, and one that is not there.
        ("/admin/plugins/sales/rollback", &[]),
        ("/admin/plugins/nosuch/enable", &[]),
    ];
    for (path, form) in refusals {
        let page = ui.post(path, ZH, form);
        assert!(page.status >= 200, "{path}");
        let leaks = english_words(&page.text, &["admin"]);
        assert!(
            leaks.is_empty(),
            "{path} shows {leaks:?}: {}",
            visible_text(&page.text)
        );
    }
}

/// An entity type like a plugin's, whose `score` its hooks set.
fn scored_type(s: &TestServer) {
    let def = EntityDef {
        name: "review".into(),
        label: Label::new("Review", "评审"),
        fields: vec![
            FieldDef::new("title", FieldType::Text, "Title", "标题").required(),
            FieldDef::new("score", FieldType::Integer, "Score", "得分").readonly(),
            FieldDef::new("notes", FieldType::LongText, "Notes", "备注"),
        ],
        title_field: Some("title".into()),
        kanban_field: None,
        layout: None,
        indexes: Vec::new(),
        searchable: true,
    };
    s.store
        .apply_base(&Origin::Plugin("reviews".into()), &[def])
        .unwrap();
}

#[test]
fn fields_the_system_sets_are_text_in_forms_and_refused_in_posts() {
    let s = TestServer::start();
    scored_type(&s);
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let form = ui.get("/e/review/new", ZH).text;
    assert!(form.contains("name=\"title\""), "{form}");
    assert!(
        !form.contains("name=\"score\""),
        "no input for a system field: {form}"
    );
    assert!(form.contains("得分"), "shown with its label: {form}");
    // A post naming it is refused, with a word beside the field; nothing is written.
    let r = ui.post("/e/review/new", ZH, &[("title", "Q1"), ("score", "99")]);
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("由系统自动填写"), "{}", r.text);
    assert_eq!(
        s.store
            .count(&Access::system(), "review", &Default::default())
            .unwrap(),
        0
    );
    // The system's value shows on the edit form and survives an edit of the other fields.
    let mut values = Map::new();
    values.insert("title".into(), json!("Q2"));
    values.insert("score".into(), json!(87));
    let rec = s
        .store
        .create(&Access::system(), "review", &values)
        .unwrap();
    let edit = ui.get(&format!("/e/review/{}/edit", rec.id), ZH).text;
    assert!(
        edit.contains("87") && !edit.contains("name=\"score\""),
        "{edit}"
    );
    let r = ui.post(
        &format!("/e/review/{}/edit", rec.id),
        ZH,
        &[
            ("version", &rec.version.to_string()),
            ("title", "Q2 revised"),
        ],
    );
    assert_eq!(r.status, 200, "followed to the record: {}", r.text);
    let after = s.store.get(&Access::system(), "review", rec.id).unwrap();
    assert_eq!(after.get("score").to_text(), "87");
    assert_eq!(after.get("title").to_text(), "Q2 revised");
}

/// The labels of a page's navigation links.
fn nav(html: &str) -> Vec<String> {
    let nav = html
        .split("<nav id=\"nav\"")
        .nth(1)
        .and_then(|n| n.split("</nav>").next())
        .unwrap_or_default();
    visible_text(&format!("<x{nav}"))
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn menus_and_tiles_follow_what_a_role_works_on() {
    let s = TestServer::start();
    let _admin = with_plugins(&s);
    s.user("rep", "sales", "east");
    s.user("hilda", "hr", "hq");
    let rep = s.ui_login("rep", USER_PASSWORD);
    let home = rep.get("/", ZH).text;
    let menu = nav(&home);
    for hr_only in ["考核周期", "职务说明书", "等级与奖金系数"] {
        assert!(
            !menu.iter().any(|m| m == hr_only),
            "a rep's menu has {hr_only}: {menu:?}"
        );
    }
    for own in ["客户", "销售管道", "跟进记录", "我的考核"] {
        assert!(
            menu.iter().any(|m| m == own),
            "a rep's menu lacks {own}: {menu:?}"
        );
    }
    // Tiles: a handful, for the types of the menu, none of the plugins' internal types.
    let tiles: Vec<&str> = home
        .split("class=\"tile\"")
        .skip(1)
        .filter_map(|t| t.split("data-entity=\"").nth(1)?.split('"').next())
        .collect();
    assert!(!tiles.is_empty() && tiles.len() <= 6, "{tiles:?}");
    for internal in [
        "appraisal_target",
        "rating",
        "kpi",
        "quality_item",
        "cycle_target",
        "appraisal_cycle",
    ] {
        assert!(!tiles.contains(&internal), "{internal} tile: {tiles:?}");
    }
    // HR works on the appraisal types: their entries are there.
    let hr = s.ui_login("hilda", USER_PASSWORD);
    let menu = nav(&hr.get("/", ZH).text);
    for hr_own in ["考核周期", "职务说明书", "等级与奖金系数"] {
        assert!(
            menu.iter().any(|m| m == hr_own),
            "HR's menu lacks {hr_own}: {menu:?}"
        );
    }
    assert!(!menu.iter().any(|m| m == "销售管道"), "{menu:?}");
}

#[test]
fn plugin_rows_offer_the_actions_that_apply_and_say_what_they_ask_for() {
    let s = TestServer::start();
    let admin = with_plugins(&s);
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let row = |page: &str, id: &str| -> String {
        page.split(&format!("<tr data-plugin=\"{id}\""))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_default()
            .to_string()
    };
    let page = ui.get("/admin/plugins", ZH).text;
    let sales = row(&page, "sales");
    let ops = |row: &str| -> Vec<String> {
        row.split("data-op=\"")
            .skip(1)
            .filter_map(|o| o.split('"').next().map(String::from))
            .collect()
    };
    assert_eq!(
        ops(&sales),
        ["disable", "remove"],
        "an active plugin with one version: {sales}"
    );
    assert!(sales.contains("data-confirm=\"停用“销售管理”"), "{sales}");
    assert!(sales.contains("data-confirm=\"移除“销售管理”"), "{sales}");
    // Capabilities in words, entity types by their labels.
    let words = visible_text(&sales);
    for w in [
        "读取：客户、联系人、用户",
        "修改：客户",
        "保存自己的设置与数据",
        "向其他插件发送事件",
    ] {
        assert!(words.contains(w), "{w}: {words}");
    }
    let appraisal = visible_text(&row(&page, "appraisal"));
    assert!(appraisal.contains("以插件自身的权限写入"), "{appraisal}");
    // Disabled: enable and remove only.
    let id = "growth_rule";
    let r = admin.post(&format!("/api/v1/plugins/{id}/disable"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let page = ui.get("/admin/plugins", ZH).text;
    assert_eq!(
        ops(&row(&page, id)),
        ["enable", "remove"],
        "{}",
        row(&page, id)
    );
    assert!(visible_text(&row(&page, id)).contains("已停用"));
}
