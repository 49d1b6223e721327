//! Who OA tells (contract 1.3 notices, written with the write that causes them): the assignee
//! of a task someone else gives them, and the audience of a new announcement (its roles and
//! teams, or everyone; not its author).

use crate::announcements::addressed_to;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::outreach::{self, Notice};
use qingguan_plugin_sdk::*;

/// People one notice names at most (the host's limit).
const CHUNK: usize = 500;

/// A task given to `assignee` by someone else (`id` of the task, known on create after the
/// write and on update before it).
pub fn task_assigned(id: i64, assignee: i64, title: &str, due: Option<&str>) -> Result<()> {
    let by = host::context().user_id;
    if by == Some(assignee) {
        return Ok(());
    }
    // Someone who has left is not told (and the task may still be given to them).
    let active = host::elevated()
        .get("user", assignee)
        .map(|u| u.fields.bool("active") != Some(false))
        .unwrap_or(false);
    if !active {
        return Ok(());
    }
    let who = by
        .and_then(|u| host::elevated().get("user", u).ok())
        .and_then(|u| u.str("display_name").map(str::to_string))
        .unwrap_or_default();
    let (en_due, zh_due) = match due {
        Some(d) => (format!(", due {d}"), format!("，截止 {d}")),
        None => (String::new(), String::new()),
    };
    let n = Notice::new(format!("{who} gave you a task: {title}{en_due}"))
        .zh(format!("{who} 给您分配了任务：{title}{zh_due}"))
        .link(format!("/e/task/{id}"));
    outreach::notify_users(&[assignee], &n)
}

/// A new announcement: everyone it is addressed to hears of it, once.
pub fn announced(a: &Record) -> Result<()> {
    let author = host::context().user_id;
    let people = host::query_all("user", &Query::new().elevated().sort("id"))?;
    let audience: Vec<i64> = people
        .iter()
        .filter(|u| u.fields.bool("active") != Some(false) && Some(u.id) != author)
        .filter(|u| {
            addressed_to(
                a,
                u.str("role").unwrap_or_default(),
                u.str("team").unwrap_or_default(),
            )
        })
        .map(|u| u.id)
        .collect();
    let title = a.str("title").unwrap_or_default();
    let n = Notice::new(format!("New announcement: {title}"))
        .zh(format!("新公告：{title}"))
        .link("/p/oa/announcements");
    for chunk in audience.chunks(CHUNK) {
        outreach::notify_users(chunk, &n)?;
    }
    Ok(())
}
