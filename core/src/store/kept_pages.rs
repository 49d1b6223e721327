//! List pages read lately, kept as the API writes them with the state of the database they were
//! read in, so that the same page asked for again before anything has changed is neither read
//! nor written out again (a page of 50 walks an index, reads 50 rows and renders each: most of
//! its cost). The state is the WAL index header `kept_records.rs` reads, with the same rules:
//! read before the page's first statement, a page kept in one state is given out only while
//! the header still reads the same, and a page is kept only when each statement that read it
//! was one of its own; nothing is kept inside a transaction, on PostgreSQL, or while keeping
//! is off.
//!
//! A page is kept under the type as its reader sees it and the text and parameters of every
//! statement that reads it — the caller's scope and the filters, sort, cursor and size are in
//! those — so two callers share a page only where the same statements read it.

use super::kept_by_state::{KeptByState, State, Stated};
use super::Store;
use crate::query::ListQuery;
use crate::schema::SharedEntity;
use crate::{Access, Result};
use bytes::Bytes;

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
/// no other's while the page is kept), the state it was read in, and the page.
struct KeptPage {
    _view: SharedEntity,
    state: State,
    page: PageJson,
    bytes: u64,
}

impl Stated for KeptPage {
    fn state(&self) -> &State {
        &self.state
    }
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
    /// out again while the database is unchanged (see above).
    pub fn list_json(&self, access: &Access, entity: &str, query: &ListQuery) -> Result<PageJson> {
        let state = match self.in_batch_here() {
            true => None,
            false => self.kept.state(),
        };
        let plan = self.list_plan(access, entity, query)?;
        let (schema, at) = plan.e.identity();
        let key = (schema, at, plan.statements_key());
        if let Some(kept) = state.and_then(|state| self.pages.0.get(&key, &state)) {
            return Ok(kept.page.clone());
        }
        let (page, own_statements) = self.read_plan(&plan)?;
        // Serializing records writes only strings and numbers: it can't fail.
        let json = PageJson {
            items: serde_json::to_vec(&page.api_items())
                .unwrap_or_default()
                .into(),
            next_cursor: page.next_cursor,
        };
        if let Some(state) = state.filter(|_| own_statements) {
            let kept = KeptPage {
                _view: plan.e.clone(),
                state,
                bytes: (json.items.len() + key.2.len() + 256) as u64,
                page: json.clone(),
            };
            self.pages.0.keep(key, kept);
        }
        Ok(json)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::tests::{store, user};
    use crate::{Access, ListQuery};
    use serde_json::{json, Value};

    fn items(page: &super::PageJson) -> Vec<Value> {
        serde_json::from_slice::<Vec<Value>>(&page.items).unwrap()
    }

    fn names(page: &super::PageJson) -> Vec<String> {
        items(page)
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// A page kept is the page read: given out again while nothing changes, read again after
    /// any commit, never another caller's, and never given out with keeping off.
    #[test]
    fn a_kept_page_is_given_out_only_while_the_database_is_unchanged() {
        let (_dir, s) = store();
        if s.is_postgres() {
            return; // nothing is kept there
        }
        let sys = Access::system();
        let (amy, bob) = (
            user(&s, "amy", "sales", "east"),
            user(&s, "bob", "sales", "west"),
        );
        let make = |who: &Access, name: &str| {
            let input = json!({"name": name, "kind": "company", "status": "lead"});
            s.create(who, "customer", input.as_object().unwrap())
                .unwrap()
        };
        make(&amy, "a1");
        make(&bob, "b1");
        let query = ListQuery::from_pairs([("status", "lead"), ("sort", "name")]).unwrap();
        let first = s.list_json(&amy, "customer", &query).unwrap();
        assert_eq!(names(&first), ["a1"]);
        assert_eq!(s.pages.len(), 1);
        let again = s.list_json(&amy, "customer", &query).unwrap();
        assert_eq!(again.items, first.items);
        // Bob's scope is in his page's statements: his own page, not Amy's.
        assert_eq!(
            names(&s.list_json(&bob, "customer", &query).unwrap()),
            ["b1"]
        );
        assert_eq!(s.pages.len(), 2);
        // The administrator's page holds both.
        assert_eq!(
            names(&s.list_json(&sys, "customer", &query).unwrap()),
            ["a1", "b1"]
        );
        // A commit, of a record no page holds, changes the state: each page is read again.
        make(&bob, "b2");
        assert_eq!(
            names(&s.list_json(&amy, "customer", &query).unwrap()),
            ["a1"]
        );
        assert_eq!(s.pages.len(), 1, "pages of the old state let go");
        make(&amy, "a2");
        assert_eq!(
            names(&s.list_json(&amy, "customer", &query).unwrap()),
            ["a1", "a2"]
        );
        // The same page as `list_ordered` writes it.
        let ordered = s.list_ordered(&amy, "customer", &query).unwrap();
        let written = serde_json::to_value(ordered.api_items()).unwrap();
        let kept = s.list_json(&amy, "customer", &query).unwrap();
        assert_eq!(Value::Array(items(&kept)), written);
        // A page's cursor is kept with it.
        let one =
            ListQuery::from_pairs([("status", "lead"), ("sort", "name"), ("limit", "1")]).unwrap();
        let page = s.list_json(&amy, "customer", &one).unwrap();
        let cursor = page.next_cursor.clone().expect("a next page");
        assert_eq!(
            s.list_json(&amy, "customer", &one).unwrap().next_cursor,
            Some(cursor)
        );
        // Off, nothing is given out: a write the state can't see (none can, but the switch
        // must hold without one) is read at once.
        s.set_keep_records(false);
        assert_eq!(s.pages.len(), 0);
        s.list_json(&amy, "customer", &query).unwrap();
        assert_eq!(s.pages.len(), 0, "nothing kept while off");
        s.set_keep_records(true);
    }

    /// A page read inside a transaction sees its writes, and is not kept: a transaction
    /// rolled back leaves the state as it was, and its page is never given out after it.
    #[test]
    fn a_page_read_in_a_transaction_is_its_own() {
        let (_dir, s) = store();
        if s.is_postgres() {
            return;
        }
        let sys = Access::system();
        let query = ListQuery::from_pairs([("sort", "name")]).unwrap();
        assert!(names(&s.list_json(&sys, "customer", &query).unwrap()).is_empty());
        let undone = s.transaction::<(), crate::Error>(|| {
            let input = json!({"name": "undone", "kind": "company"});
            s.create(&sys, "customer", input.as_object().unwrap())?;
            let inside = s.list_json(&sys, "customer", &query)?;
            assert_eq!(names(&inside), ["undone"]);
            Err(crate::Error::NotFound("rolled back".into()))
        });
        assert!(undone.is_err());
        assert!(
            names(&s.list_json(&sys, "customer", &query).unwrap()).is_empty(),
            "the rolled-back page is not given out"
        );
        let seen: super::PageJson = s
            .transaction::<_, crate::Error>(|| {
                let input = json!({"name": "inside", "kind": "company"});
                s.create(&sys, "customer", input.as_object().unwrap())?;
                s.list_json(&sys, "customer", &query)
            })
            .unwrap();
        assert_eq!(names(&seen), ["inside"]);
        assert_eq!(
            names(&s.list_json(&sys, "customer", &query).unwrap()),
            ["inside"]
        );
    }
}
