//! Announcements: each person sees those addressed to everyone, their role or their team,
//! pinned first then newest, marked read once they say so — a read receipt per person and
//! announcement, which the announcement's readers list shows.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// A receipt is the reader's own, dated today, and one per announcement.
pub fn before_receipt(op: WriteOp, fields: &mut Fields) -> Result<()> {
    if op != WriteOp::Create {
        return Err(Error::invalid(t(
            "a read receipt is not changed",
            "已读回执不能修改",
        )));
    }
    let ctx = host::context();
    // Written by this plugin's page for the signed-in reader; through the API, a person
    // receipts only for themselves.
    if let Some(me) = ctx.user_id {
        fields.set("reader", me);
    }
    fields.set("read_on", dates::format(dates::today()));
    let (Some(announcement), Some(reader)) = (fields.i64("announcement"), fields.i64("reader"))
    else {
        return Ok(());
    };
    let seen = host::query(
        "announcement_read",
        &Query::new()
            .elevated()
            .eq("announcement", announcement)
            .eq("reader", reader)
            .limit(1),
    )?;
    if !seen.items.is_empty() {
        return Err(Error::Conflict(t("already marked read", "已标记为已读")));
    }
    Ok(())
}

pub(crate) fn addressed_to(a: &Record, role: &str, team: &str) -> bool {
    audience_includes(a.str("audience_role"), a.str("audience_team"), role, team)
}

/// Whether an audience of these roles and teams (lists separated by commas or spaces; none:
/// everyone) includes someone of `role` in `team`.
pub(crate) fn audience_includes(
    roles: Option<&str>,
    teams: Option<&str>,
    role: &str,
    team: &str,
) -> bool {
    let wanted = |list: Option<&str>, mine: &str| {
        list.map(str::trim)
            .filter(|w| !w.is_empty())
            .is_none_or(|w| w.split([',', '，', ' ']).any(|x| x.trim() == mine))
    };
    wanted(roles, role) && wanted(teams, team)
}

/// The announcements for the caller, pinned first then newest, with what they have read.
pub fn page(req: &Request) -> Result<Response> {
    let ctx = host::context();
    let me = ctx
        .user_id
        .ok_or_else(|| Error::Denied(t("sign in first", "请先登录")))?;
    let role = ctx.role.clone().unwrap_or_default();
    let team = host::elevated()
        .get("user", me)
        .ok()
        .and_then(|u| u.str("team").map(str::to_string))
        .unwrap_or_default();
    let mut all = host::query_all(
        "announcement",
        &Query::new().elevated().sort("-published_on").limit(200),
    )?;
    all.retain(|a| addressed_to(a, &role, &team));
    all.sort_by_key(|a| a.fields.bool("pinned") != Some(true));
    let read: Vec<i64> = host::query_all(
        "announcement_read",
        &Query::new().elevated().eq("reader", me),
    )?
    .iter()
    .filter_map(|r| r.i64("announcement"))
    .collect();
    if req.wants_json() {
        let items: Vec<Value> = all
            .iter()
            .map(|a| json!({"id": a.id, "title": a.str("title"), "body": a.str("body"),
                            "published_on": a.str("published_on"), "pinned": a.fields.bool("pinned") == Some(true),
                            "read": read.contains(&a.id)}))
            .collect();
        return Ok(Response::json(&json!({"items": items})));
    }
    let mut html = format!("<h1>{}</h1>", esc(&t("Announcements", "公告")));
    if all.is_empty() {
        html.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(&t("Nothing announced.", "暂无公告。"))
        ));
    }
    for a in all.iter().take(100) {
        let is_read = read.contains(&a.id);
        html.push_str(&format!(
            "<section class=\"card announcement{cls}\" data-announcement=\"{id}\"><h2>{pin}{title}</h2><p class=\"muted\">{date}</p><p>{body}</p>{action}</section>",
            cls = if is_read { " read" } else { " unread" },
            id = a.id,
            pin = if a.fields.bool("pinned") == Some(true) { "📌 " } else { "" },
            title = esc(a.str("title").unwrap_or("")),
            date = esc(a.str("published_on").unwrap_or("")),
            body = esc(a.str("body").unwrap_or("")).replace('\n', "<br>"),
            action = if is_read {
                format!("<p class=\"muted\">{}</p>", esc(&t("Read", "已读")))
            } else {
                format!(
                    "<form method=\"post\" action=\"/p/oa/announcements/read\"><input type=\"hidden\" name=\"announcement\" value=\"{}\"><button>{}</button></form>",
                    a.id,
                    esc(&t("Mark read", "标为已读"))
                )
            },
        ));
    }
    Ok(Response::html(200, html))
}

/// `POST /announcements/read` (`announcement`): the caller's receipt.
pub fn mark_read(req: &Request) -> Result<Response> {
    let id = req
        .form()
        .ok()
        .and_then(|f| f.into_iter().find(|(k, _)| k == "announcement"))
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .or_else(|| req.json().ok().and_then(|j| j["announcement"].as_i64()))
        .ok_or_else(|| {
            Error::invalid(t("which announcement?", "哪条公告？"))
                .field("announcement", t("required", "必填"))
        })?;
    host::begin_write()?;
    let ctx = host::context();
    let me = ctx.user_id.unwrap_or_default();
    // Only an announcement addressed to the reader is theirs to mark read.
    let team = host::elevated()
        .get("user", me)
        .ok()
        .and_then(|u| u.str("team").map(str::to_string))
        .unwrap_or_default();
    let addressed = host::elevated()
        .get("announcement", id)
        .ok()
        .filter(|a| addressed_to(a, ctx.role.as_deref().unwrap_or(""), &team));
    if addressed.is_none() {
        return Err(Error::not_found(t("no such announcement", "没有这条公告")));
    }
    let seen = host::query(
        "announcement_read",
        &Query::new()
            .elevated()
            .eq("announcement", id)
            .eq("reader", me)
            .limit(1),
    )?;
    // Read already: nothing to add (a second click is no error).
    if seen.items.is_empty() {
        // With the plugin's grant: the reader need not read the announcement record itself
        // (the page is how people read announcements); the receipt is theirs.
        host::elevated().create(
            "announcement_read",
            &json!({"announcement": id, "reader": me, "owner": me}),
        )?;
    }
    Ok(if req.wants_json() {
        Response::json(&json!({"read": id}))
    } else {
        Response::redirect("/p/oa/announcements")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(role: &str, team: &str) -> Record {
        let mut fields = Fields::default();
        fields.set("audience_role", role);
        fields.set("audience_team", team);
        Record {
            entity: "announcement".into(),
            id: 1,
            version: 1,
            owner: None,
            created_by: None,
            created_at: String::new(),
            updated_by: None,
            updated_at: String::new(),
            fields,
        }
    }

    #[test]
    fn audiences() {
        assert!(addressed_to(&ann("", ""), "sales", "east"));
        assert!(addressed_to(&ann("sales, manager", ""), "manager", "east"));
        assert!(!addressed_to(&ann("hr", ""), "sales", "east"));
        assert!(addressed_to(&ann("", "east"), "sales", "east"));
        assert!(!addressed_to(&ann("sales", "west"), "sales", "east"));
    }
}
