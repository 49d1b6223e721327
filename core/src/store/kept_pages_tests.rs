//! What a kept list page is given out for, and when it is read again (`kept_pages.rs`).

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
    // A commit of a customer Amy's page neither holds nor would hold (Bob's, outside her
    // scope): her page is given out as kept; the administrator's, which would hold it, is
    // read again, and kept anew under its key; pages are let go by weight, not by state.
    let before = s.list_json(&amy, "customer", &query).unwrap();
    make(&bob, "b2");
    let after = s.list_json(&amy, "customer", &query).unwrap();
    assert_eq!(after.items.as_ptr(), before.items.as_ptr(), "kept");
    assert_eq!(
        names(&s.list_json(&sys, "customer", &query).unwrap()),
        ["a1", "b1", "b2"]
    );
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

/// A page outlives writes of its own type to records its statements neither read nor
/// would read now — from the store or any connection — and is read again when a record
/// written is among those it read (the one after its last included: it said there were
/// more), now passes its conditions, or when the writes since can't be told.
#[test]
fn a_page_outlives_writes_of_its_type_to_records_it_neither_read_nor_would_read() {
    let (place, s) = store();
    if s.is_postgres() {
        return; // nothing is kept there
    }
    let sys = Access::system();
    let make = |name: &str, status: &str| {
        let input = json!({"name": name, "kind": "company", "status": status});
        s.create(&sys, "customer", input.as_object().unwrap())
            .unwrap()
            .id
    };
    let leads: Vec<i64> = ["a1", "a2", "a3", "a4"].map(|n| make(n, "lead")).into();
    let other = make("x1", "customer");
    let query =
        ListQuery::from_pairs([("status", "lead"), ("sort", "name"), ("limit", "2")]).unwrap();
    let read = || s.list_json(&sys, "customer", &query).unwrap();
    let page = read();
    assert_eq!(names(&page), ["a1", "a2"]);
    assert!(page.next_cursor.is_some());
    // A customer the page's conditions refuse, made and changed: kept.
    make("a0", "customer");
    assert!(
        same(&read(), &page),
        "kept across a record it would not read"
    );
    let version = s.get(&sys, "customer", other).unwrap().version;
    let renamed = json!({"name": "a00"});
    s.update(
        &sys,
        "customer",
        other,
        version,
        renamed.as_object().unwrap(),
    )
    .unwrap();
    assert!(same(&read(), &page));
    // The fourth lead passes its conditions, but sorts after the third, which said there were
    // more: no statement of the page reaches it, and the page is kept. So is one made there,
    // and deleted.
    let outside = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
    let phone = "UPDATE r_customer SET c_phone = ?1 WHERE id = ?2";
    outside.execute(phone, ("110", leads[3])).unwrap();
    assert!(
        same(&read(), &page),
        "kept across a lead after those it read"
    );
    let late = make("a9", "lead");
    assert!(same(&read(), &page), "and one made there");
    outside
        .execute("DELETE FROM r_customer WHERE id = ?1", [late])
        .unwrap();
    assert!(same(&read(), &page), "and deleted");
    // A lead made before the third: read again, and on the page.
    let early = make("a11", "lead");
    assert_eq!(names(&read()), ["a1", "a11"]);
    outside
        .execute("DELETE FROM r_customer WHERE id = ?1", [early])
        .unwrap();
    let again = read();
    assert_eq!(names(&again), ["a1", "a2"]);
    // A customer that passes none, from that connection: kept.
    outside.execute(phone, ("110", other)).unwrap();
    assert!(
        same(&read(), &again),
        "kept across another connection's write"
    );
    // The third: read again (its change might have ended the list there), though it
    // would no longer pass.
    let to_customer = "UPDATE r_customer SET c_status = 'customer' WHERE id = ?1";
    outside.execute(to_customer, [leads[2]]).unwrap();
    let page = read();
    assert!(!same(&page, &again), "read again");
    assert_eq!(names(&page), ["a1", "a2"]);
    assert!(page.next_cursor.is_some(), "a4 is after them");
    outside
        .execute(
            "UPDATE r_customer SET c_status = 'lead' WHERE id = ?1",
            [leads[2]],
        )
        .unwrap();
    read();
    // A customer that now passes the conditions: read again, and on the page.
    let to_lead = "UPDATE r_customer SET c_status = 'lead' WHERE id = ?1";
    outside.execute(to_lead, [other]).unwrap();
    assert_eq!(names(&read()), ["a00", "a1"]);
    // One on the page deleted: read again.
    outside
        .execute("DELETE FROM r_customer WHERE id = ?1", [other])
        .unwrap();
    let page = read();
    assert_eq!(names(&page), ["a1", "a2"]);
    // The page after: the first's records are before its cursor, but the conditions
    // every stretch shares don't say so: a lead written there has it read again.
    let cursor = page.next_cursor.clone().unwrap();
    let after = ListQuery::from_pairs([
        ("status", "lead"),
        ("sort", "name"),
        ("limit", "2"),
        ("cursor", cursor.as_str()),
    ])
    .unwrap();
    let second = s.list_json(&sys, "customer", &after).unwrap();
    assert_eq!(names(&second), ["a3", "a4"]);
    assert!(second.next_cursor.is_none());
    make("zz", "customer");
    assert!(same(
        &s.list_json(&sys, "customer", &after).unwrap(),
        &second
    ));
    make("a5", "lead");
    let second = s.list_json(&sys, "customer", &after).unwrap();
    assert_eq!(names(&second), ["a3", "a4"]);
    assert!(second.next_cursor.is_some(), "a5 is after it");
    // A write missing from the log (a part of it deleted by hand): read again.
    let page = read();
    make("b1", "customer");
    make("b2", "customer");
    outside
        .execute_batch(
            "DELETE FROM record_changes WHERE seq = (SELECT max(seq) - 1 FROM record_changes)",
        )
        .unwrap();
    let again = read();
    assert!(!same(&again, &page), "read again");
    assert_eq!(again.items, page.items);
    // The log emptied (as a backup of another history restored): read again.
    let page = again;
    outside.execute_batch("DELETE FROM record_changes").unwrap();
    make("b0", "customer");
    let again = read();
    assert!(!same(&again, &page));
    assert_eq!(again.items, page.items);
    // More writes since than are checked, each of a customer it would not read: read again.
    let far = make("x9", "customer");
    let page = read();
    for n in 0..crate::db::record_writes::SPAN {
        outside.execute(phone, (n.to_string(), far)).unwrap();
    }
    assert!(same(&read(), &page), "as many as are checked: kept");
    let page = read();
    for n in 0..=crate::db::record_writes::SPAN {
        outside.execute(phone, (n.to_string(), far)).unwrap();
    }
    let again = read();
    assert!(!same(&again, &page));
    assert_eq!(again.items, page.items);
}

/// A list of users read under a team's scope depends on other users' records (the
/// members of the team decide which users are in it): any write of a user has it read
/// again, where a list of customers under that scope outlives writes of other users.
#[test]
fn a_team_scoped_list_of_users_is_read_again_after_any_write_of_a_user() {
    let (place, s) = store();
    if s.is_postgres() {
        return;
    }
    let sys = Access::system();
    let mut role = (*s.roles().into_iter().find(|r| r.name == "manager").unwrap()).clone();
    role.name = "lead".into();
    let team_scope = role.permissions["*"];
    assert_eq!(team_scope.scope, crate::access::Scope::Team);
    role.permissions.insert("user".into(), team_scope);
    s.put_role(&sys, &role).unwrap();
    let lea = user(&s, "lea", "lead", "east");
    let ann = user(&s, "ann", "sales", "east");
    let kim = user(&s, "kim", "sales", "west");
    let [lea_id, ann_id, kim_id] = [&lea, &ann, &kim].map(|u| u.user_id.unwrap());
    // Ann's record is Kim's (of the west), Kim's no one's, Lea's her own.
    let outside = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
    let own = "UPDATE r_user SET owner = ?1 WHERE id = ?2";
    outside.execute(own, (Some(kim_id), ann_id)).unwrap();
    outside.execute(own, (None::<i64>, kim_id)).unwrap();
    outside.execute(own, (Some(lea_id), lea_id)).unwrap();
    let query = ListQuery::from_pairs([("sort", "username")]).unwrap();
    let users = |who: &Access| {
        let page = s.list_json(who, "user", &query).unwrap();
        let names: Vec<String> = items(&page)
            .iter()
            .map(|r| r["username"].as_str().unwrap().to_string())
            .collect();
        (page, names)
    };
    let (page, names) = users(&lea);
    assert_eq!(names, ["lea"]);
    assert!(same(&users(&lea).0, &page));
    let plan = s.list_plan(&lea, "user", &query).unwrap();
    assert!(
        plan.rows_read("[]", 0, None).is_none(),
        "its scope reads other users"
    );
    assert!(s
        .list_plan(&lea, "customer", &query_by("name"))
        .unwrap()
        .rows_read("[]", 0, None)
        .is_some());
    // Kim moves to her team. His record is on no page of hers and passes no condition of
    // it, but Ann's, which is his, now does: the page is read again, with Ann.
    let version = s.get(&sys, "user", kim_id).unwrap().version;
    let moved = json!({"team": "east"});
    s.update(&sys, "user", kim_id, version, moved.as_object().unwrap())
        .unwrap();
    let (again, names) = users(&lea);
    assert!(!same(&again, &page));
    assert_eq!(names, ["ann", "lea"]);
}

fn query_by(field: &str) -> ListQuery {
    ListQuery::from_pairs([("sort", field)]).unwrap()
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

/// A page read fresh in a state whose copy of the log was read already (`records_written`)
/// is stamped from that copy: a later write of a record on it, from any connection, has it
/// read again, and a write of another type doesn't.
#[test]
fn a_page_stamped_from_the_copy_of_the_log_is_read_again_after_a_write_of_it() {
    let (place, s) = store();
    if s.is_postgres() {
        return; // nothing is kept there
    }
    let sys = Access::system();
    let make = |name: &str| {
        let input = json!({"name": name, "kind": "company", "status": "lead"});
        s.create(&sys, "customer", input.as_object().unwrap())
            .unwrap()
            .id
    };
    let (first, _) = (make("a1"), make("a2"));
    let record = || s.get_json(&sys, "customer", first).unwrap();
    record();
    let contact = json!({"name": "Lin", "customer": first});
    s.create(&sys, "contact", contact.as_object().unwrap())
        .unwrap();
    // The record asked for in the new state reads the copy; the page is then read fresh in
    // that state and stamped from it.
    record();
    let copy_read_in = || {
        let recent = s.kept.recent.lock().unwrap();
        recent.as_ref().map(|(label, _)| *label)
    };
    assert_eq!(
        copy_read_in(),
        s.kept.state(),
        "the copy read in this state"
    );
    let query = ListQuery::from_pairs([("status", "lead"), ("sort", "name")]).unwrap();
    let page = s.list_json(&sys, "customer", &query).unwrap();
    assert_eq!(names(&page), ["a1", "a2"]);
    let outside = rusqlite::Connection::open(place.path().join("q.db")).unwrap();
    outside
        .execute("UPDATE r_contact SET c_title = 'CEO'", [])
        .unwrap();
    let kept = s.list_json(&sys, "customer", &query).unwrap();
    assert_eq!(kept.items.as_ptr(), page.items.as_ptr(), "kept");
    outside
        .execute("UPDATE r_customer SET c_name = 'a0' WHERE id = ?1", [first])
        .unwrap();
    assert_eq!(
        names(&s.list_json(&sys, "customer", &query).unwrap()),
        ["a0", "a2"]
    );
}
