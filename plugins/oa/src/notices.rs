//! Who OA tells (contract 1.3 notices, written with the write that causes them): the assignee
//! of a task someone else gives them, and the audience of a new announcement (its roles and
//! teams, or everyone; not its author) — a large audience over several calls, by a job.

use crate::announcements::audience_includes;
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

/// People told of an announcement in one call: the host allows 1,000 notices a call, and
/// the rest of a larger audience is told by the `announce` job, this many a step (the
/// configuration's `announce_batch` may lower it).
const PER_CALL: usize = 900;

fn per_call() -> usize {
    host::config()["announce_batch"]
        .as_u64()
        .map_or(PER_CALL, |n| (n as usize).clamp(1, PER_CALL))
}

/// The key holding an announcement whose audience is still being told.
fn pending_key(id: i64) -> String {
    format!("announce:{id}")
}

/// Whom an announcement is told to, as it was when announced (kept for the later batches, so
/// an edit of the announcement's audience between batches neither skips nor adds people),
/// and the last person told so far (the audience goes in id order).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Audience {
    title: String,
    role: Option<String>,
    team: Option<String>,
    author: Option<i64>,
    after: i64,
}

impl Audience {
    fn of(a: &Record) -> Audience {
        let text = |f: &str| a.str(f).map(str::to_string);
        Audience {
            title: a.str("title").unwrap_or_default().to_string(),
            role: text("audience_role"),
            team: text("audience_team"),
            author: a.created_by,
            after: 0,
        }
    }

    fn to_json(&self) -> Value {
        json!({"title": self.title, "role": self.role, "team": self.team,
               "author": self.author, "after": self.after})
    }

    fn from_json(v: &Value) -> Option<Audience> {
        let text = |k: &str| v[k].as_str().map(str::to_string);
        Some(Audience {
            title: text("title")?,
            role: text("role"),
            team: text("team"),
            author: v["author"].as_i64(),
            after: v["after"].as_i64()?,
        })
    }

    /// The next people to tell, in id order: active people of its roles and teams
    /// (everyone when it names none), not its author.
    fn next(&self) -> Result<Vec<i64>> {
        let people = host::query_all(
            "user",
            &Query::new().elevated().gt("id", self.after).sort("id"),
        )?;
        Ok(people
            .iter()
            .filter(|u| u.fields.bool("active") != Some(false) && Some(u.id) != self.author)
            .filter(|u| {
                audience_includes(
                    self.role.as_deref(),
                    self.team.as_deref(),
                    u.str("role").unwrap_or_default(),
                    u.str("team").unwrap_or_default(),
                )
            })
            .map(|u| u.id)
            .collect())
    }
}

/// Tells the next people of an announcement's audience, at most [`PER_CALL`]; keeps where
/// it stopped when more are left, forgets it when all were told.
fn tell(id: i64, mut audience: Audience) -> Result<u64> {
    let everyone = audience.next()?;
    let now: Vec<i64> = everyone.iter().copied().take(per_call()).collect();
    let title = &audience.title;
    let n = Notice::new(format!("New announcement: {title}"))
        .zh(format!("新公告：{title}"))
        .link("/p/oa/announcements");
    for chunk in now.chunks(CHUNK) {
        outreach::notify_users(chunk, &n)?;
    }
    match (everyone.len() > now.len(), now.last()) {
        (true, Some(last)) => {
            audience.after = *last;
            host::kv_set(&pending_key(id), audience.to_json().to_string().as_bytes())?
        }
        _ => host::kv_delete(&pending_key(id))?,
    }
    Ok(now.len() as u64)
}

/// A new announcement: everyone it is addressed to hears of it, once — the first
/// [`PER_CALL`] with the announcement, the rest by the `announce` job.
pub fn announced(a: &Record) -> Result<()> {
    tell(a.id, Audience::of(a)).map(|_| ())
}

/// One step of the `announce` job: the next people of one announcement still being told.
pub fn announce_step() -> Result<JobProgress> {
    if host::kv_keys("announce:")?.is_empty() {
        return Ok(JobProgress::done(0));
    }
    // One step at a time reads where the last stopped: no one is told twice.
    host::begin_write()?;
    let Some(key) = host::kv_keys("announce:")?.into_iter().next() else {
        return Ok(JobProgress::done(0));
    };
    let id: Option<i64> = key.strip_prefix("announce:").and_then(|i| i.parse().ok());
    let audience: Option<Audience> = host::kv_get(&key)?
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| Audience::from_json(&v));
    // Deleted since: nobody more to tell.
    let exists = id.is_some_and(|id| host::elevated().get("announcement", id).is_ok());
    let (Some(id), Some(audience), true) = (id, audience, exists) else {
        host::kv_delete(&key)?;
        return Ok(if host::kv_keys("announce:")?.is_empty() {
            JobProgress::done(0)
        } else {
            JobProgress::more(format!("{key}:dropped"), 0)
        });
    };
    let after = audience.after;
    let told = tell(id, audience)?;
    // The cursor says how far this step went (each step's differs); the state is in kv.
    Ok(if host::kv_keys("announce:")?.is_empty() {
        JobProgress::done(told)
    } else {
        JobProgress::more(format!("{key}:{after}"), told)
    })
}
