//! Tasks: a done task carries the day it was done (and loses it when reopened); "My tasks"
//! lists the caller's open tasks by due date, the overdue first and marked.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// A task belongs to its assignee (who then sees it, whatever their scope); stamps or clears
/// `done_on` as the task is done or reopened.
pub fn before_write(op: WriteOp, before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    if op == WriteOp::Delete {
        return Ok(());
    }
    // The core checks that the writer may give the record to that person.
    if let Some(assignee) = fields.i64("assignee") {
        if before.is_none_or(|b| b.i64("assignee") != Some(assignee)) {
            fields.set("owner", assignee);
            // Handed over to someone else: they hear of it (a new task: after its write).
            if let Some(b) = before {
                let title = fields
                    .str("title")
                    .or(b.str("title"))
                    .unwrap_or_default()
                    .to_string();
                let due = fields.str("due_on").or(b.str("due_on")).map(str::to_string);
                crate::notices::task_assigned(b.id, assignee, &title, due.as_deref())?;
            }
        }
    }
    let state = fields
        .str("state")
        .or_else(|| before.and_then(|b| b.str("state")))
        .unwrap_or("open")
        .to_string();
    let was_done = before.is_some_and(|b| b.str("state") == Some("done"));
    if state == "done" && !was_done {
        fields.set("done_on", dates::format(dates::today()));
    } else if state != "done" {
        fields.set("done_on", Value::Null);
    }
    Ok(())
}

/// "My tasks": the caller's tasks not done, by due date.
pub fn my_tasks_page() -> Result<Response> {
    let me = host::context()
        .user_id
        .ok_or_else(|| Error::Denied(t("sign in first", "请先登录")))?;
    let today = dates::format(dates::today());
    let tasks = host::query_all(
        "task",
        &Query::new()
            .eq("assignee", me)
            .ne("state", "done")
            .sort("due_on"),
    )?;
    let mut rows = String::new();
    for task in tasks.iter().take(200) {
        let due = task.str("due_on").unwrap_or("");
        let overdue = !due.is_empty() && due < today.as_str();
        rows.push_str(&format!(
            "<tr{cls}><td><a href=\"/e/task/{id}\">{title}</a></td><td>{due}{mark}</td><td>{state}</td></tr>",
            cls = if overdue { " class=\"overdue\" data-overdue" } else { "" },
            id = task.id,
            title = esc(task.str("title").unwrap_or("")),
            due = esc(due),
            mark = if overdue { format!(" · {}", esc(&t("overdue", "已逾期"))) } else { String::new() },
            state = esc(task.str("state").unwrap_or("")),
        ));
    }
    let body = if rows.is_empty() {
        format!(
            "<p class=\"muted\">{}</p>",
            esc(&t("Nothing to do.", "没有待办任务。"))
        )
    } else {
        format!(
            "<table class=\"records\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>",
            esc(&t("Task", "任务")),
            esc(&t("Due", "截止日期")),
            esc(&t("State", "状态"))
        )
    };
    Ok(Response::html(
        200,
        format!(
            "<h1>{}</h1>{body}<p><a class=\"button\" href=\"/e/task/new\">{}</a></p>",
            esc(&t("My tasks", "我的任务")),
            esc(&t("New task", "新建任务"))
        ),
    ))
}
