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

    /// The activities about a record the caller may read (whoever wrote them; at most
    /// `limit`, newest first). Refused like reading the record when they may not.
    pub fn activities_about(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        limit: usize,
    ) -> Result<Vec<Record>> {
        self.get(access, entity, id)?;
        if !access.role.permission(ACTIVITY).read {
            return Ok(vec![]);
        }
        let (id_text, limit_text) = (id.to_string(), limit.min(200).to_string());
        let q = ListQuery::from_pairs([
            ("about_entity", entity),
            ("about_id", id_text.as_str()),
            ("limit", limit_text.as_str()),
        ])?;
        // The record is the caller's to read: so are the notes about it — as their role
        // reads notes (a field it hides is not in them).
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

    /// A record's timeline for the caller: the activities about it and its history, newest
    /// first (at most 200 activities).
    pub fn timeline(&self, access: &Access, entity: &str, id: i64) -> Result<Vec<TimelineItem>> {
        self.get(access, entity, id)?;
        let mut items: Vec<TimelineItem> = self
            .history(access, entity, id)?
            .into_iter()
            .map(|entry| TimelineItem::Change {
                at: entry.at.clone(),
                entry,
            })
            .collect();
        let schema = self.schema_for(access);
        if let Some(e) = schema.entity(ACTIVITY) {
            for r in self.activities_about(access, entity, id, 200)? {
                items.push(TimelineItem::Activity {
                    at: crate::db::time_text(r.created_at),
                    record: r.to_json(e),
                });
            }
        }
        items.sort_by(|a, b| b.at().cmp(a.at()));
        Ok(items)
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
