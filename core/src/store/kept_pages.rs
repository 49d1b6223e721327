//! List pages read lately, kept as the API writes them with the state of the database they were
//! read in, so that the same page asked for again before its records have changed is neither
//! read nor written out again (a page of 50 walks an index, reads 50 rows and renders each: most
//! of its cost). The state is the WAL index header `kept_records.rs` reads, with the same rules:
//! read before the page's first statement, a page is kept only when each statement that read it
//! was one of its own; nothing is kept inside a transaction, on PostgreSQL, or while keeping is
//! off. A page is given out at once while the header reads the same. After a commit — of any
//! connection, of any process — a page is given out again only if none of the types whose
//! records its statements read was written since (the tokens and the log of
//! `db/record_writes.rs`, taken before the page's statements — from the copy of the log
//! `db/recent_writes.rs` holds when it was read in the same state, else read — and looked for
//! again then in that copy, with no statement), or only records of its own type that are
//! neither among those its statements read (the ids kept with it) nor pass the conditions they
//! share now (the writes logged, checked in one statement), and it is kept again, stamped
//! anew. A page whose statements read anything else — which
//! records wait for the caller, a search's full-text table — is given out only in its state.
//!
//! A page is kept under the type as its reader sees it and the text and parameters of every
//! statement that reads it — the caller's scope and the filters, sort, cursor and size are in
//! those — so two callers share a page only where the same statements read it. Pages are let
//! go as `kept_by_state.rs` lets entries go.

use super::kept_by_state::{Holds, KeptByState, Stamp, State, Weighed};
use super::list_plan::ListPlan;
use super::Store;
use crate::db::Value as Sql;
use crate::query::ListQuery;
use crate::schema::SharedEntity;
use crate::{Access, Result};
use bytes::Bytes;
use std::sync::Arc;

/// The memory kept pages may take, about.
const KEPT_BYTES: u64 = 32 << 20;

/// The pages kept when they are of a usual size (50 records of a few dozen fields).
const USUAL_COUNT: usize = 1_024;

/// A page larger than this is read each time rather than kept.
const LARGEST_KEPT: u64 = 2 << 20;

/// A list page as the API writes it: its records (a JSON array) and the next page's cursor.
#[derive(Debug, Clone)]
pub struct PageJson {
    /// The records, a JSON array of each as [`crate::Record::as_api`] writes it.
    pub items: Bytes,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A kept page's place: the type as its reader sees it (schema snapshot, place) and its
/// statements.
type Key = (usize, usize, String);

/// A page kept: the type its records were read with (held, so that the snapshot's address is
/// no other's while the page is kept), when it was read, the ids of the records its statements
/// read (a JSON array, and how many), and the page.
struct KeptPage {
    view: SharedEntity,
    stamp: Stamp,
    ids: Arc<str>,
    count: usize,
    /// The sort key and id of the record after the page, when there is one.
    probe: Option<(Sql, i64)>,
    page: PageJson,
    bytes: u64,
}

impl Weighed for KeptPage {
    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The pages kept.
pub(super) struct KeptPages(KeptByState<Key, KeptPage>);

impl Default for KeptPages {
    fn default() -> Self {
        KeptPages(KeptByState::new(USUAL_COUNT, KEPT_BYTES, LARGEST_KEPT))
    }
}

impl KeptPages {
    /// Lets every kept page go (keeping turned off).
    pub(super) fn clear(&self) {
        self.0.clear();
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}

impl Store {
    /// A list page as the API writes it: [`Store::list_ordered`]'s page, rendered, and given
    /// out again while its records are unchanged (see above).
    pub fn list_json(&self, access: &Access, entity: &str, query: &ListQuery) -> Result<PageJson> {
        let state = match self.in_batch_here() {
            true => None,
            false => self.kept.state(),
        };
        let plan = self.list_plan(access, entity, query)?;
        let (schema, at) = plan.e.identity();
        let key = (schema, at, plan.statements_key());
        if let Some(state) = &state {
            if let Some(page) = self.kept_page(&key, state, &plan)? {
                return Ok(page);
            }
        }
        // Read after the state and before the page's first statement: a write between the two
        // reads makes the page newer than what it is kept with, never older.
        let written = match (&state, &plan.types_read) {
            (Some(state), Some(types)) => self.records_written(&borrowed(types), state)?,
            _ => None,
        };
        let read = self.read_plan(&plan)?;
        // Serializing records writes only strings and numbers: it can't fail.
        let json = PageJson {
            items: serde_json::to_vec(&read.page.api_items())
                .unwrap_or_default()
                .into(),
            next_cursor: read.page.next_cursor,
        };
        if let Some(state) = state.filter(|_| read.own_statements) {
            let ids = serde_json::to_string(&read.ids).unwrap_or_default();
            let kept = KeptPage {
                view: plan.e.clone(),
                stamp: Stamp { state, written },
                bytes: (json.items.len() + key.2.len() + ids.len() + 256) as u64,
                ids: ids.into(),
                count: read.ids.len(),
                probe: read.probe,
                page: json.clone(),
            };
            self.pages.0.keep(key, kept, self.schema());
        }
        Ok(json)
    }

    /// The page kept under `key`, if it is the page in `state` (see [`Store::still_holds`]);
    /// one kept in an earlier state is stamped anew, so that the next to ask for it is
    /// answered without asking the database.
    fn kept_page(&self, key: &Key, state: &State, plan: &ListPlan) -> Result<Option<PageJson>> {
        let Some(kept) = self.pages.0.get(key) else {
            return Ok(None);
        };
        // A page whose statements read more than records was stamped with no tokens.
        let read = || {
            let types = borrowed(plan.types_read.as_deref().unwrap_or_default());
            (
                types,
                plan.rows_read(&kept.ids, kept.count, kept.probe.as_ref()),
            )
        };
        match self.still_holds(&kept.stamp, state, None, read)? {
            Holds::InItsState => {}
            Holds::Again(stamp) => {
                let again = KeptPage {
                    view: kept.view.clone(),
                    stamp,
                    ids: kept.ids.clone(),
                    count: kept.count,
                    probe: kept.probe.clone(),
                    page: kept.page.clone(),
                    bytes: kept.bytes,
                };
                self.pages.0.keep(key.clone(), again, self.schema());
            }
            Holds::No => return Ok(None),
        }
        Ok(Some(kept.page.clone()))
    }
}

/// The names in `types`, borrowed.
fn borrowed(types: &[String]) -> Vec<&str> {
    types.iter().map(String::as_str).collect()
}

#[cfg(test)]
#[path = "kept_pages_tests.rs"]
mod tests;
