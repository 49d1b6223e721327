//! The newest writes logged (`record_writes.rs`), read when a kept entry is first asked for in
//! a new state of the database (after a commit) and shared: every kept entry asked for in that
//! state is checked against this copy in memory, without a statement of its own. One statement
//! — one snapshot — reads the schema version, every type's token and the writes logged since
//! the copy's newest, which are added on to it; the copy keeps the newest [`KEPT`] of them that
//! follow one another without a gap. What it can't tell of the writes since an entry's stamp
//! (an entry stamped before the oldest it holds or after its newest, or with no write logged
//! yet) is told by the tokens alone, or left to the checks in SQL (`store/kept_by_state.rs`).

use super::record_writes::{Written, CHANGES, SPAN, TABLE};
use super::{Conn, DbResult};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// How many of the newest writes the copy holds.
const KEPT: usize = 2 * SPAN as usize;

/// One write logged: its place, its mark, the record's type and id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Logged(i64, i64, Arc<str>, i64);

/// The writes logged as one snapshot saw them.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    schema_version: i64,
    tokens: HashMap<String, i64>,
    /// The newest writes, oldest first, each place one more than the one before.
    writes: VecDeque<Logged>,
}

/// What the writes since an entry was stamped tell of it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Since {
    /// None of its types was written: it holds, stamped with this.
    Unwritten(Written),
    /// Records of its own type were written, none the record asked of: it holds if no record
    /// can have been deleted unlogged (see `Watched::deletes_logged`), stamped with this.
    OthersOfItsOwn(Written),
    /// A record it read, or a record of another of its types, was written, or a token moved
    /// with no write logged, or it was stamped under another schema or in another history
    /// (the mark at its place differs): read it again.
    Written,
    /// The copy can't tell: ask the database.
    Unknown,
}

impl Seen {
    /// The writes logged now, read after `before` (the copy read last, if any) and joined to
    /// it where they follow on from its newest.
    pub(crate) fn read(conn: &Conn, before: Option<&Seen>) -> DbResult<Seen> {
        let from = before.and_then(|b| b.writes.back()).map_or(0, |w| w.0);
        let sql = format!(
            "SELECT (SELECT schema_version FROM pragma_schema_version),
                    (SELECT json_group_object(entity, token) FROM {TABLE}),
                    (SELECT json_group_array(json_array(seq, mark, entity, record_id)) FROM
                       (SELECT seq, mark, entity, record_id FROM {CHANGES}
                        WHERE seq >= ?1 ORDER BY seq DESC LIMIT ?2))"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let (schema_version, tokens, newest): (i64, String, String) = stmt
            .query_row((from, KEPT as i64), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let unreadable = |column| {
            move |e: serde_json::Error| super::DbError::Column {
                column,
                why: e.to_string(),
            }
        };
        let tokens = serde_json::from_str(&tokens).map_err(unreadable(1))?;
        let newest: Vec<(i64, i64, String, i64)> =
            serde_json::from_str(&newest).map_err(unreadable(2))?;
        // Newest first, whatever order the aggregate kept.
        let mut newest: Vec<Logged> = newest
            .into_iter()
            .map(|(seq, mark, entity, id)| Logged(seq, mark, entity.into(), id))
            .collect();
        newest.sort_unstable_by_key(|w| std::cmp::Reverse(w.0));
        Ok(Seen {
            schema_version,
            tokens,
            writes: joined(before, newest),
        })
    }

    /// What the writes since `kept` — an entry's stamp, with `entities` its types, its own
    /// first — tell of it, asked of the record `record` of its own type (`None`: of any).
    pub(crate) fn since(&self, kept: &Written, entities: &[&str], record: Option<i64>) -> Since {
        if kept.schema_version != self.schema_version || kept.tokens.len() != entities.len() {
            return Since::Written;
        }
        let (Some((seq, mark)), Some(oldest), Some(newest)) =
            (kept.last, self.writes.front(), self.writes.back())
        else {
            return Since::Unknown;
        };
        if seq < oldest.0 || seq > newest.0 {
            return Since::Unknown;
        }
        let at = (seq - oldest.0) as usize;
        let Some(stamped) = self.writes.get(at).filter(|w| w.0 == seq) else {
            return Since::Unknown;
        };
        if stamped.1 != mark {
            return Since::Written; // another history's place: a log rewritten, a backup restored
        }
        let mut own = false;
        for Logged(_, _, entity, id) in self.writes.range(at + 1..) {
            match entities.iter().position(|e| *e == &**entity) {
                Some(0) if record.is_none_or(|r| r != *id) => own = true,
                Some(_) => return Since::Written,
                None => {}
            }
        }
        let mut tokens = Vec::with_capacity(entities.len());
        for (at, entity) in entities.iter().enumerate() {
            let Some(token) = self.tokens.get(*entity) else {
                return Since::Written;
            };
            // A token renewed with no write logged (set by hand): not told apart.
            if *token != kept.tokens[at] && !(at == 0 && own) {
                return Since::Written;
            }
            tokens.push(*token);
        }
        let now = self.written(tokens);
        match own {
            false => Since::Unwritten(now),
            true => Since::OthersOfItsOwn(now),
        }
    }

    /// What `entities` were written in as this copy saw them, if the tokens are those of
    /// `kept` (an entry's stamp under the same schema): none of them was written since.
    pub(crate) fn same_tokens(&self, kept: &Written, entities: &[&str]) -> Option<Written> {
        self.now(entities).filter(|now| now.same_tokens(kept))
    }

    /// What `entities` were written in as this copy saw them (`None`: a type with no token).
    pub(crate) fn now(&self, entities: &[&str]) -> Option<Written> {
        let tokens = entities.iter().map(|e| self.tokens.get(*e).copied());
        Some(self.written(tokens.collect::<Option<Vec<i64>>>()?))
    }

    /// Its schema version.
    pub(crate) fn schema_version(&self) -> i64 {
        self.schema_version
    }

    fn written(&self, tokens: Vec<i64>) -> Written {
        Written {
            schema_version: self.schema_version,
            tokens,
            last: self.writes.back().map(|w| (w.0, w.1)),
        }
    }
}

/// The newest writes `newest` (newest first) that follow one another without a gap, oldest
/// first, after those of `before` where its newest is their oldest (the same place and
/// mark); the newest [`KEPT`] of them.
fn joined(before: Option<&Seen>, newest: Vec<Logged>) -> VecDeque<Logged> {
    let unbroken = newest
        .windows(2)
        .position(|pair| pair[1].0 != pair[0].0 - 1)
        .map_or(newest.len(), |at| at + 1);
    let mut writes: VecDeque<Logged> = newest.into_iter().take(unbroken).rev().collect();
    let earlier = before
        .map(|b| &b.writes)
        .filter(|b| b.back() == writes.front());
    if let (Some(earlier), false) = (earlier, writes.is_empty()) {
        let room = KEPT.saturating_sub(writes.len());
        let skip = (earlier.len() - 1).saturating_sub(room);
        for write in earlier.range(..earlier.len() - 1).skip(skip).rev() {
            writes.push_front(write.clone());
        }
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(seq: i64, entity: &str, id: i64) -> Logged {
        Logged(seq, seq * 7, entity.into(), id)
    }

    fn seen(writes: Vec<Logged>) -> Seen {
        Seen {
            schema_version: 3,
            tokens: [("customer".to_string(), 10), ("user".to_string(), 20)].into(),
            writes: writes.into(),
        }
    }

    fn stamp(seq: i64, tokens: Vec<i64>) -> Written {
        Written {
            schema_version: 3,
            tokens,
            last: Some((seq, seq * 7)),
        }
    }

    #[test]
    fn writes_since_a_stamp_tell_what_holds() {
        let s = seen(vec![
            logged(5, "contact", 1),
            logged(6, "customer", 2),
            logged(7, "contact", 3),
        ]);
        let now = |tokens| Written {
            schema_version: 3,
            tokens,
            last: Some((7, 49)),
        };
        // Only another type written since 6.
        assert_eq!(
            s.since(&stamp(6, vec![10]), &["customer"], Some(2)),
            Since::Unwritten(now(vec![10]))
        );
        // Since 5: customer 2 written — the record itself, or another one.
        assert_eq!(
            s.since(&stamp(5, vec![9]), &["customer"], Some(2)),
            Since::Written
        );
        assert_eq!(
            s.since(&stamp(5, vec![9]), &["customer"], Some(4)),
            Since::OthersOfItsOwn(now(vec![10]))
        );
        assert_eq!(
            s.since(&stamp(5, vec![9]), &["customer"], None),
            Since::OthersOfItsOwn(now(vec![10]))
        );
        // A second type written (the users, when a team decides the scope).
        assert_eq!(
            s.since(&stamp(5, vec![9, 20]), &["contact", "user"], None),
            Since::Written
        );
        // A token moved with no write logged: not told apart.
        assert_eq!(
            s.since(&stamp(6, vec![11]), &["customer"], Some(2)),
            Since::Written
        );
        // Another history's place (its mark), another schema, a place the copy doesn't hold.
        let mut other = stamp(6, vec![10]);
        other.last = Some((6, 1));
        assert_eq!(s.since(&other, &["customer"], None), Since::Written);
        let mut schema = stamp(6, vec![10]);
        schema.schema_version = 4;
        assert_eq!(s.since(&schema, &["customer"], None), Since::Written);
        for seq in [4, 8] {
            assert_eq!(
                s.since(&stamp(seq, vec![10]), &["customer"], None),
                Since::Unknown
            );
        }
        let mut none = stamp(6, vec![10]);
        none.last = None;
        assert_eq!(s.since(&none, &["customer"], None), Since::Unknown);
    }

    #[test]
    fn a_copy_holds_the_newest_writes_without_a_gap_joined_to_the_last() {
        // Newest first, as read: a gap below 8 (7 deleted by hand).
        let read = vec![logged(9, "a", 1), logged(8, "a", 1), logged(6, "a", 1)];
        let w = joined(None, read);
        assert_eq!(w.iter().map(|l| l.0).collect::<Vec<_>>(), [8, 9]);
        // Joined to what was read before where its newest is the same place and mark.
        let before = seen(w.into());
        let read = vec![logged(11, "a", 1), logged(10, "a", 1), logged(9, "a", 1)];
        let w = joined(Some(&before), read);
        assert_eq!(w.iter().map(|l| l.0).collect::<Vec<_>>(), [8, 9, 10, 11]);
        // Not where the mark differs (the log rewritten from there).
        let mut read = vec![logged(10, "a", 1), logged(9, "a", 1)];
        read[1].1 = 0;
        let w = joined(Some(&before), read);
        assert_eq!(w.iter().map(|l| l.0).collect::<Vec<_>>(), [9, 10]);
        // At most KEPT.
        let many: Vec<Logged> = (1..=KEPT as i64).map(|s| logged(s, "a", 1)).collect();
        let before = seen(many);
        let read = (KEPT as i64..KEPT as i64 + 10)
            .rev()
            .map(|s| logged(s, "a", 1))
            .collect();
        let w = joined(Some(&before), read);
        assert_eq!(w.len(), KEPT);
        assert_eq!(w.back().unwrap().0, KEPT as i64 + 9);
        assert!(w.iter().zip(w.iter().skip(1)).all(|(a, b)| b.0 == a.0 + 1));
    }
}
