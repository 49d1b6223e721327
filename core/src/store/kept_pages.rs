//! List pages read lately, kept as the API writes them with the state of the database they were
//! read in, so that the same page asked for again before its records have changed is neither
//! read nor written out again (a page of 50 walks an index, reads 50 rows and renders each: most
//! of its cost). The state is the WAL index header `kept_records.rs` reads, with the same rules:
//! read before the page's first statement, a page is kept only when each statement that read it
//! was one of its own; nothing is kept inside a transaction, on PostgreSQL, or while keeping is
//! off. A page is given out at once while the header reads the same. After a commit — of any
//! connection, of any process — a page is given out again only if none of the types whose
//! records its statements read was written since (the tokens of `db/record_writes.rs`, read
//! with the page before its statements, and again then: one small read instead of the page's),
//! and it is kept again in the new state. A page whose statements read anything else — which
//! records wait for the caller, a search's full-text table — is given out only in its state.
//!
//! A page is kept under the type as its reader sees it and the text and parameters of every
//! statement that reads it — the caller's scope and the filters, sort, cursor and size are in
//! those — so two callers share a page only where the same statements read it. Pages are let
//! go as `kept_by_state.rs` lets entries go.

use super::kept_by_state::{KeptByState, Stamp, State, Weighed};
use super::list::ListPlan;
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
/// no other's while the page is kept), when it was read, and the page.
struct KeptPage {
    view: SharedEntity,
    stamp: Stamp,
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
            (Some(_), Some(types)) => self.records_written(&borrowed(types))?,
            _ => None,
        };
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
                view: plan.e.clone(),
                stamp: Stamp { state, written },
                bytes: (json.items.len() + key.2.len() + 256) as u64,
                page: json.clone(),
            };
            self.pages.0.keep(key, kept, self.schema());
        }
        Ok(json)
    }

    /// The page kept under `key`, if it is the page in `state` (see [`Store::still_holds`]);
    /// one kept in an earlier state is stamped with this one, so that the next to ask for it
    /// is answered without asking the database.
    fn kept_page(&self, key: &Key, state: &State, plan: &ListPlan) -> Result<Option<PageJson>> {
        let Some(kept) = self.pages.0.get(key) else {
            return Ok(None);
        };
        // A page whose statements read more than records was stamped with no tokens.
        let types = borrowed(plan.types_read.as_deref().unwrap_or_default());
        if !self.still_holds(&kept.stamp, state, &types)? {
            return Ok(None);
        }
        if kept.stamp.state != *state {
            let again = KeptPage {
                view: kept.view.clone(),
                stamp: kept.stamp.in_state(*state),
                page: kept.page.clone(),
                bytes: kept.bytes,
            };
            self.pages.0.keep(key.clone(), again, self.schema());
        }
        Ok(Some(kept.page.clone()))
    }
}

/// The names in `types`, borrowed.
fn borrowed(types: &[String]) -> Vec<&str> {
    types.iter().map(String::as_str).collect()
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
        // A commit of a customer no page holds: each page is read again (its type was
        // written), and kept anew under its key; pages are let go by weight, not by state.
        let before = s.list_json(&amy, "customer", &query).unwrap();
        make(&bob, "b2");
        let after = s.list_json(&amy, "customer", &query).unwrap();
        assert_eq!(names(&after), ["a1"]);
        assert_ne!(after.items.as_ptr(), before.items.as_ptr(), "read again");
        assert_eq!(s.pages.len(), 3);
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

    /// The same bytes as a page given out before: the page was not read again.
    fn same(a: &super::PageJson, b: &super::PageJson) -> bool {
        a.items.as_ptr() == b.items.as_ptr()
    }

    /// A page outlives commits that write none of the records its statements read, whoever
    /// commits; a write to one of them — its own type's, or for a caller whose team decides
    /// the scope, the users' — from any connection, is on the next page; a search's page and
    /// one of the records waiting for the caller are their state's alone; a schema change lets
    /// every page go.
    #[test]
    fn a_page_outlives_commits_that_write_none_of_its_records() {
        let (place, s) = store();
        if s.is_postgres() {
            return; // nothing is kept there
        }
        let sys = Access::system();
        let mia = user(&s, "mia", "manager", "east");
        let bob = user(&s, "bob", "sales", "east");
        let make = |name: &str, owner: &Access| {
            let input = json!({"name": name, "kind": "company", "status": "lead",
                               "owner": owner.user_id});
            s.create(&sys, "customer", input.as_object().unwrap())
                .unwrap()
                .id
        };
        let first_id = make("a1", &bob);
        let query = ListQuery::from_pairs([("status", "lead"), ("sort", "name")]).unwrap();
        let page = s.list_json(&sys, "customer", &query).unwrap();
        let teams = s.list_json(&mia, "customer", &query).unwrap();
        assert_eq!(names(&teams), ["a1"], "bob's, of her team");
        let search = ListQuery::from_pairs([("q", "a1")]).unwrap();
        let found = s.list_json(&sys, "customer", &search).unwrap();
        assert_eq!(names(&found), ["a1"]);
        assert!(same(
            &s.list_json(&sys, "customer", &search).unwrap(),
            &found
        ));

        // A contact, a record of another type: the customers' pages are given out as kept.
        let contact = json!({"name": "Lin", "customer": first_id});
        s.create(&sys, "contact", contact.as_object().unwrap())
            .unwrap();
        assert!(same(&s.list_json(&sys, "customer", &query).unwrap(), &page));
        assert!(same(
            &s.list_json(&mia, "customer", &query).unwrap(),
            &teams
        ));
        // ...and kept again in the new state: the next is answered as before.
        assert!(same(&s.list_json(&sys, "customer", &query).unwrap(), &page));
        // A search's page reads the full-text table too: read again.
        let again = s.list_json(&sys, "customer", &search).unwrap();
        assert!(!same(&again, &found));
        assert_eq!(names(&again), ["a1"]);

        // A statement from a connection the store does not hold, on a customer.
        let outside = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
        let sql = "UPDATE r_customer SET c_name = 'a0' WHERE id = ?1";
        assert_eq!(outside.execute(sql, [first_id]).unwrap(), 1);
        let page = s.list_json(&sys, "customer", &query).unwrap();
        assert_eq!(names(&page), ["a0"]);
        let teams = s.list_json(&mia, "customer", &query).unwrap();
        assert_eq!(names(&teams), ["a0"]);
        // ...and on another type, from there too: kept.
        assert_eq!(
            outside
                .execute("UPDATE r_contact SET c_title = 'CEO'", [])
                .unwrap(),
            1
        );
        assert!(same(&s.list_json(&sys, "customer", &query).unwrap(), &page));
        assert!(same(
            &s.list_json(&mia, "customer", &query).unwrap(),
            &teams
        ));

        // Bob moves to the west: the page of a caller whose team decides the scope reads the
        // users, and is read again; the page of one who sees every customer is kept.
        let bob_id = bob.user_id.unwrap();
        let version = s.get(&sys, "user", bob_id).unwrap().version;
        let moved = json!({"team": "west"});
        s.update(&sys, "user", bob_id, version, moved.as_object().unwrap())
            .unwrap();
        assert!(names(&s.list_json(&mia, "customer", &query).unwrap()).is_empty());
        assert!(same(&s.list_json(&sys, "customer", &query).unwrap(), &page));

        // Records waiting for the caller are in another table: that page is its state's.
        let waiting = ListQuery::from_pairs([("waiting", "me")]).unwrap();
        let plan = s.list_plan(&sys, "customer", &waiting).unwrap();
        assert!(plan.types_read.is_none());
        assert!(s
            .list_plan(&sys, "customer", &search)
            .unwrap()
            .types_read
            .is_none());
        assert_eq!(
            s.list_plan(&mia, "customer", &query).unwrap().types_read,
            Some(vec!["customer".to_string(), "user".to_string()])
        );

        // A field added: no page of the old schema is kept.
        let field = crate::FieldDef::new("region", crate::FieldType::Text, "Region", "区域");
        s.add_field(&sys, "customer", &field).unwrap();
        assert!(s.pages.len() > 1);
        let page = s.list_json(&sys, "customer", &query).unwrap();
        assert_eq!(
            items(&page)[0]["region"],
            Value::Null,
            "read with the field"
        );
        assert_eq!(s.pages.len(), 1, "the pages of the old schema let go");
    }

    /// One caller asking for page after large page that no one asks for again (each filter
    /// new) fills the memory pages may take over twice, yet does not push out the small page
    /// others ask for again and again meanwhile: the cache lets go of what was asked for once
    /// before what is asked for again.
    #[test]
    fn a_flood_of_pages_asked_for_once_leaves_a_page_asked_for_again() {
        let (_dir, s) = store();
        if s.is_postgres() {
            return;
        }
        let sys = Access::system();
        let notes = "备注".repeat(2_800); // about 16 KB of JSON
        s.transaction(|| {
            for i in 0..60 {
                let input = json!({"name": format!("c{i:02}"), "kind": "company",
                                   "status": "lead", "notes": notes});
                s.create(&sys, "customer", input.as_object().unwrap())?;
            }
            Ok::<(), crate::Error>(())
        })
        .unwrap();
        let often =
            ListQuery::from_pairs([("status", "lead"), ("sort", "name"), ("limit", "2")]).unwrap();
        let kept = s.list_json(&sys, "customer", &often).unwrap();
        for _ in 0..3 {
            assert!(same(&s.list_json(&sys, "customer", &often).unwrap(), &kept));
        }
        let mut flooded = 0;
        for i in 0..80 {
            let never = format!("nobody {i}");
            let once = ListQuery::from_pairs([
                ("sort", "name"),
                ("limit", "60"),
                ("name[ne]", never.as_str()),
            ])
            .unwrap();
            flooded += s.list_json(&sys, "customer", &once).unwrap().items.len();
            if i % 4 == 3 {
                let again = s.list_json(&sys, "customer", &often).unwrap();
                assert!(same(&again, &kept), "pushed out after {i} large pages");
            }
        }
        assert!(flooded as u64 > 2 * super::KEPT_BYTES, "{flooded} bytes");
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
