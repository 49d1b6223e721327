//! Activities about records: notes, calls, visits, meetings and to-dos (the built-in
//! `activity` type) point at any record by type and id; the writer must be able to read that
//! record; `@username` in an activity's text notifies that person (in the write's transaction);
//! and a record's timeline merges its activities with its history, newest first.

use super::Store;
use crate::db::Conn;
use crate::notifications::notify;
use crate::record::{HistoryEntry, Record};
use crate::value::Value;
use crate::{Access, Error, FieldErrors, ListQuery, Reason, Result};
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
        tx: &Conn,
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
    /// `before` (from the previous page's `next`). History is paged by row id (rows are
    /// written in time order), activities by creation date (imported notes keep theirs), each
    /// from where its last shown entry was, so no entry is shown twice or skipped.
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
        let activities_done = cursor.activity.as_deref() == Some(NO_MORE)
            || entity == ACTIVITY
            || !access.role.permission(ACTIVITY).read;
        let activities = if activities_done {
            vec![]
        } else {
            self.activities_after(access, entity, id, limit, cursor.activity.as_deref())?
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
                    Stream::Activity,
                ));
            }
        }
        items.sort_by(|a, b| b.0.at().cmp(a.0.at()));
        items.truncate(limit);
        // Each stream's shown entries are the newest of those read from it.
        let shown_history: Vec<i64> = items
            .iter()
            .filter_map(|i| match i.1 {
                Stream::History(h) => Some(h),
                Stream::Activity => None,
            })
            .collect();
        let shown_activities = items
            .iter()
            .filter(|i| matches!(i.1, Stream::Activity))
            .count();
        // Where each stream goes on: when all of it read was shown, after the last row read
        // (nothing more once it read less than a page), else after its oldest entry shown,
        // else where it was.
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
        let exhausted = shown_activities == activities.len() && activities.len() < limit;
        let next_activity = if activities_done || exhausted {
            Some(NO_MORE.to_string())
        } else {
            match shown_activities
                .checked_sub(1)
                .and_then(|i| activities.get(i))
            {
                Some(last) => Some(super::keyset::cursor_after(
                    ACTIVITY_ORDER,
                    serde_json::Value::String(crate::db::time_text(last.created_at)),
                    last.id,
                )),
                None => cursor.activity.clone(),
            }
        };
        let next = TimelineCursor {
            history: next_history,
            activity: next_activity,
        };
        let more = next.history != Some(0) || next.activity.as_deref() != Some(NO_MORE);
        Ok(TimelinePage {
            items: items.into_iter().map(|(i, _)| i).collect(),
            next: more.then(|| next.to_string()),
        })
    }

    /// The activities about a record the caller may read, newest first by creation (at most
    /// `limit`, after the list cursor `after`), whoever wrote them: the record is the caller's
    /// to read, so are the notes about it — as their role reads notes (a field it hides is not
    /// in them).
    fn activities_after(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Vec<Record>> {
        let (id_text, limit_text) = (id.to_string(), limit.to_string());
        let mut q = ListQuery::from_pairs([
            ("about_entity", entity),
            ("about_id", id_text.as_str()),
            ("sort", ACTIVITY_ORDER),
            ("limit", limit_text.as_str()),
        ])?;
        q.cursor = after.map(str::to_string);
        let schema = self.schema();
        let Some(e) = schema.entity(ACTIVITY) else {
            return Ok(vec![]);
        };
        let page = match self.list(&Access::system(), ACTIVITY, &q) {
            // A cursor the list cannot read is the caller's to fix.
            Err(Error::BadRequest { .. }) if after.is_some() => {
                return Err(Error::bad_param("before", Reason::BadCursor));
            }
            other => other?,
        };
        Ok(page
            .items
            .into_iter()
            .map(|r| super::field_rules::redact(access, e, r))
            .collect())
    }
}

/// The order a timeline reads activities in: newest first by creation.
const ACTIVITY_ORDER: &str = "-created_at";

/// The most timeline entries one page holds.
const MAX_TIMELINE_PAGE: usize = 200;

/// One page of a timeline, and the cursor of the next (none: nothing older).
#[derive(Debug, Clone, Serialize)]
pub struct TimelinePage {
    pub items: Vec<TimelineItem>,
    pub next: Option<String>,
}

/// Which stream a timeline entry came from (a history row with its id, or an activity).
#[derive(Debug, Clone, Copy)]
enum Stream {
    History(i64),
    Activity,
}

/// Where a timeline goes on: below which history row (`None`: from the newest; `Some(0)`:
/// nothing older), and after which activity (a cursor of the activities' list, sorted newest
/// first by creation — imported notes keep their own dates —; `None`: from the newest;
/// `"0"`: nothing older). Written `h<id>.a<cursor>`, an empty side for `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TimelineCursor {
    history: Option<i64>,
    activity: Option<String>,
}

/// The activities' side of a cursor when none are left.
const NO_MORE: &str = "0";

impl TimelineCursor {
    fn parse(text: &str) -> Option<TimelineCursor> {
        let (h, a) = text.split_once('.')?;
        let h = h.strip_prefix('h')?;
        let history = if h.is_empty() {
            None
        } else {
            Some(h.parse::<i64>().ok().filter(|n| *n >= 0)?)
        };
        let a = a.strip_prefix('a')?;
        let activity = if a.is_empty() {
            None
        } else if a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            Some(a.to_string())
        } else {
            return None;
        };
        Some(TimelineCursor { history, activity })
    }
}

impl std::fmt::Display for TimelineCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = self.history.map(|n| n.to_string()).unwrap_or_default();
        write!(f, "h{h}.a{}", self.activity.as_deref().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;
    use crate::store::tests::store;
    use crate::store::Imported;
    use crate::store::TimelineItem;
    use crate::Access;
    use serde_json::json;

    /// Notes imported with their own dates (older ones made later) come in date order, each
    /// once, however the pages fall.
    #[test]
    fn imported_notes_keep_their_dates_across_timeline_pages() {
        let (_dir, s) = store();
        let admin = Access::system();
        let map = |v: serde_json::Value| v.as_object().cloned().unwrap();
        let c = s
            .create(
                &admin,
                "customer",
                &map(json!({"name": "Acme", "kind": "company", "status": "lead"})),
            )
            .unwrap();
        // Made in this order, dated 2020, 2019, 2021, 2018.
        for (i, year) in [2020, 2019, 2021, 2018].iter().enumerate() {
            let at = chrono::DateTime::parse_from_rfc3339(&format!("{year}-06-01T00:00:00Z"))
                .unwrap()
                .with_timezone(&chrono::Utc);
            s.insert_record(
                &admin,
                "activity",
                &map(json!({"kind": "note", "subject": format!("n{i} {year}"),
                            "about_entity": "customer", "about_id": c.id})),
                Some(Imported {
                    created_at: Some(at),
                }),
            )
            .unwrap();
        }
        let mut seen = Vec::new();
        let mut before: Option<String> = None;
        for _ in 0..10 {
            let page = s
                .timeline_page(&admin, "customer", c.id, 2, before.as_deref())
                .unwrap();
            for item in &page.items {
                if let TimelineItem::Activity { record, .. } = item {
                    seen.push(record["subject"].as_str().unwrap().to_string());
                }
            }
            match page.next {
                Some(n) => before = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ["n2 2021", "n0 2020", "n1 2019", "n3 2018"]);
    }

    #[test]
    fn mentions_are_names_after_an_at_sign_not_addresses() {
        assert_eq!(mentions("请 @amy 和 @mia.wang 跟进。"), ["amy", "mia.wang"]);
        assert_eq!(mentions("mail amy@example.com"), Vec::<String>::new());
        assert_eq!(mentions("@amy @amy"), ["amy"]);
        assert_eq!(mentions("end @bob."), ["bob"]);
    }
}
