//! Activities about records: notes, calls, visits, meetings and to-dos (the built-in
//! `activity` type) point at any record by type and id; the writer must be able to read that
//! record; `@username` in an activity's text notifies that person (in the write's transaction);
//! and a record's timeline merges its activities with its history, newest first.

use super::Store;
use crate::notifications::notify;
use crate::record::{HistoryEntry, Record};
use crate::value::Value;
use crate::{Access, Error, FieldErrors, ListQuery, Reason, Result};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The built-in type of activities.
pub const ACTIVITY: &str = "activity";
/// The most people one activity mentions.
const MAX_MENTIONS: usize = 10;

/// One entry of a record's timeline.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineItem {
    /// An activity about the record.
    Activity {
        at: String,
        /// The activity as the API writes records.
        record: serde_json::Value,
    },
    /// A change in the record's history (approvals included: each request and decision is one).
    Change { at: String, entry: HistoryEntry },
}

impl TimelineItem {
    fn at(&self) -> &str {
        match self {
            TimelineItem::Activity { at, .. } | TimelineItem::Change { at, .. } => at,
        }
    }
}

/// The `@username` words of a text.
fn mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, _) in text.match_indices('@') {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric()) {
            continue; // an e-mail address, not a mention
        }
        let name: String = text[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            .collect();
        let name = name.trim_end_matches(['.', '-']).to_string();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out.truncate(MAX_MENTIONS);
    out
}

impl Store {
    /// Checks what an activity is about: both parts or neither, a type other than activities,
    /// and a record the writer may read.
    pub(super) fn check_about(
        &self,
        access: &Access,
        values: &BTreeMap<String, Value>,
    ) -> Result<()> {
        let entity = match values.get("about_entity") {
            Some(Value::Text(t)) if !t.is_empty() => Some(t.clone()),
            _ => None,
        };
        let id = match values.get("about_id") {
            Some(Value::Integer(i)) => Some(*i),
            _ => None,
        };
        let mut errors = FieldErrors::new();
        match (entity, id) {
            (None, None) => {}
            (Some(_), None) => {
                errors.insert("about_id".into(), Reason::Required);
            }
            (None, Some(_)) => {
                errors.insert("about_entity".into(), Reason::Required);
            }
            (Some(e), Some(_)) if e == ACTIVITY => {
                errors.insert("about_entity".into(), Reason::UnknownEntity { name: e });
            }
            (Some(e), Some(id)) => {
                if self.get(access, &e, id).is_err() {
                    errors.insert("about_id".into(), Reason::NoRecord { entity: e, id });
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(errors))
        }
    }

    /// The people an activity about to be written mentions (`@username` in its subject or
    /// text) who may read the record it is about — not its author, nobody for a note about
    /// nothing. Read before the write (a person's rights are read, not written).
    pub(super) fn mentioned(
        &self,
        values: &BTreeMap<String, Value>,
        author: Option<i64>,
    ) -> Result<Vec<i64>> {
        let (entity, id) = match (values.get("about_entity"), values.get("about_id")) {
            (Some(Value::Text(e)), Some(Value::Integer(i))) => (e.clone(), *i),
            _ => return Ok(vec![]),
        };
        let text = format!(
            "{} {}",
            values
                .get("subject")
                .map(Value::to_text)
                .unwrap_or_default(),
            values.get("body").map(Value::to_text).unwrap_or_default()
        );
        let mut out = Vec::new();
        for name in mentions(&text) {
            let Some(user) = self.user_id(&name)? else {
                continue;
            };
            if Some(user) == author || out.contains(&user) {
                continue;
            }
            // A deactivated person has no access; one who may not read the record is not told.
            let may_read = self
                .access_for(user)
                .is_ok_and(|(theirs, _)| self.get(&theirs, &entity, id).is_ok());
            if may_read {
                out.push(user);
            }
        }
        Ok(out)
    }

    /// Tells `people` that an activity mentions them, on the write's own connection.
    pub(super) fn notify_mentions(
        &self,
        tx: &Connection,
        activity: &Record,
        people: &[i64],
        author: Option<i64>,
    ) -> Result<()> {
        let (Value::Text(entity), Value::Integer(id)) =
            (activity.get("about_entity"), activity.get("about_id"))
        else {
            return Ok(());
        };
        for user in people {
            notify(
                tx,
                *user,
                "mention",
                &json!({"entity": entity, "id": id, "by": author, "subject": activity.get("subject").to_text()}),
                &format!("/e/{entity}/{id}"),
            )?;
        }
        Ok(())
    }

    /// A page of a record's timeline for the caller, newest first: at most `limit` (1–200) of
    /// the activities about it and its history entries together, older than the cursor
    /// `before` (from the previous page's `next`). Each stream is paged by its own ids, which
    /// grow as time goes on, so no entry is shown twice or skipped.
    pub fn timeline_page(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        limit: usize,
        before: Option<&str>,
    ) -> Result<TimelinePage> {
        let limit = limit.clamp(1, MAX_TIMELINE_PAGE);
        let cursor = match before {
            Some(text) => TimelineCursor::parse(text)
                .ok_or_else(|| Error::bad_param("before", Reason::BadCursor))?,
            None => TimelineCursor::default(),
        };
        self.get(access, entity, id)?;
        let changes = match cursor.history {
            Some(0) => None,
            h => Some(self.history_rows(access, entity, id, Some(limit), h)?),
        };
        let activities = match cursor.activity {
            Some(0) => vec![],
            _ if entity == ACTIVITY => vec![],
            a => self.activities_before(access, entity, id, limit, a)?,
        };
        let mut items: Vec<(TimelineItem, Stream)> = Vec::new();
        if let Some(page) = &changes {
            for entry in &page.entries {
                items.push((
                    TimelineItem::Change {
                        at: entry.at.clone(),
                        entry: entry.clone(),
                    },
                    Stream::History(entry.id),
                ));
            }
        }
        let schema = self.schema_for(access);
        if let Some(e) = schema.entity(ACTIVITY) {
            for r in &activities {
                items.push((
                    TimelineItem::Activity {
                        at: crate::db::time_text(r.created_at),
                        record: r.to_json(e),
                    },
                    Stream::Activity(r.id),
                ));
            }
        }
        items.sort_by(|a, b| b.0.at().cmp(a.0.at()));
        items.truncate(limit);
        let shown = |want: fn(&Stream) -> Option<i64>| -> Vec<i64> {
            items.iter().filter_map(|i| want(&i.1)).collect()
        };
        let shown_history = shown(|s| match s {
            Stream::History(h) => Some(*h),
            Stream::Activity(_) => None,
        });
        let shown_activities = shown(|s| match s {
            Stream::Activity(a) => Some(*a),
            Stream::History(_) => None,
        });
        // Where each stream goes on: after the last of it read when all of it read was
        // shown (0 once it had nothing more), else after its oldest entry shown, else where
        // it was.
        let next_history = match &changes {
            None => Some(0),
            Some(p) if shown_history.len() == p.entries.len() => {
                if p.read < limit {
                    Some(0)
                } else {
                    p.oldest
                }
            }
            Some(_) => shown_history.iter().min().copied().or(cursor.history),
        };
        let activities_done = cursor.activity == Some(0)
            || entity == ACTIVITY
            || !access.role.permission(ACTIVITY).read;
        let next_activity = if activities_done {
            Some(0)
        } else if shown_activities.len() == activities.len() {
            if activities.len() < limit {
                Some(0)
            } else {
                activities.iter().map(|r| r.id).min()
            }
        } else {
            shown_activities.iter().min().copied().or(cursor.activity)
        };
        let next = TimelineCursor {
            history: next_history,
            activity: next_activity,
        };
        Ok(TimelinePage {
            items: items.into_iter().map(|(i, _)| i).collect(),
            next: (next.history != Some(0) || next.activity != Some(0)).then(|| next.to_string()),
        })
    }

    /// The activities about a record the caller may read with ids below `before`, newest
    /// first (at most `limit`), whoever wrote them: the record is the caller's to read, so
    /// are the notes about it — as their role reads notes (a field it hides is not in them).
    fn activities_before(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<Record>> {
        if !access.role.permission(ACTIVITY).read {
            return Ok(vec![]);
        }
        let (id_text, limit_text) = (id.to_string(), limit.to_string());
        let before_text = before.unwrap_or(i64::MAX).to_string();
        let q = ListQuery::from_pairs([
            ("about_entity", entity),
            ("about_id", id_text.as_str()),
            ("id[lt]", before_text.as_str()),
            ("sort", "-id"),
            ("limit", limit_text.as_str()),
        ])?;
        let schema = self.schema();
        let Some(e) = schema.entity(ACTIVITY) else {
            return Ok(vec![]);
        };
        Ok(self
            .list(&Access::system(), ACTIVITY, &q)?
            .items
            .into_iter()
            .map(|r| super::field_rules::redact(access, e, r))
            .collect())
    }
}

/// The most timeline entries one page holds.
pub const MAX_TIMELINE_PAGE: usize = 200;

/// One page of a timeline, and the cursor of the next (none: nothing older).
#[derive(Debug, Clone, Serialize)]
pub struct TimelinePage {
    pub items: Vec<TimelineItem>,
    pub next: Option<String>,
}

/// Which stream a timeline entry came from, with its id there.
#[derive(Debug, Clone, Copy)]
enum Stream {
    History(i64),
    Activity(i64),
}

/// Where a timeline goes on: below which history row and which activity (`None`: from the
/// newest; `Some(0)`: nothing older). Written `h<id>.a<id>`, an empty side for `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct TimelineCursor {
    history: Option<i64>,
    activity: Option<i64>,
}

impl TimelineCursor {
    fn parse(text: &str) -> Option<TimelineCursor> {
        let (h, a) = text.split_once('.')?;
        let side = |s: &str, tag: char| -> Option<Option<i64>> {
            let rest = s.strip_prefix(tag)?;
            if rest.is_empty() {
                return Some(None);
            }
            rest.parse::<i64>().ok().filter(|n| *n >= 0).map(Some)
        };
        Some(TimelineCursor {
            history: side(h, 'h')?,
            activity: side(a, 'a')?,
        })
    }
}

impl std::fmt::Display for TimelineCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let side = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        write!(f, "h{}.a{}", side(self.history), side(self.activity))
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn mentions_are_names_after_an_at_sign_not_addresses() {
        assert_eq!(mentions("请 @amy 和 @mia.wang 跟进。"), ["amy", "mia.wang"]);
        assert_eq!(mentions("mail amy@example.com"), Vec::<String>::new());
        assert_eq!(mentions("@amy @amy"), ["amy"]);
        assert_eq!(mentions("end @bob."), ["bob"]);
    }
}
