//! Store behaviour on a real SQLite file: CRUD, scopes, overlay, queries, search, history.

use crate::schema::{
    FieldDef, FieldPatch, FieldType, Label, Layout, Origin, PartialLabel, Section,
};
use crate::{
    Access, EntityDef, Error, FieldErrors, ListQuery, NewUser, Reason, Store, StoreOptions, Value,
};
use serde_json::{json, Map, Value as Json};

/// A store on a fresh file — or, with `QG_TEST_POSTGRES` set, on a new database on that
/// server, dropped when the returned place is.
pub(crate) fn store() -> (Place, Store) {
    let dir = tempfile::tempdir().unwrap();
    let (options, database) = match std::env::var("QG_TEST_POSTGRES") {
        Ok(server) => {
            let (url, name) = postgres_database(&server);
            (StoreOptions::postgres(url), Some((server, name)))
        }
        Err(_) => (StoreOptions::new(dir.path().join("q.db")), None),
    };
    let s = Store::open(options).unwrap();
    (Place { dir, database }, s)
}

/// Where a test's store lives: a temporary directory, and the PostgreSQL database (server
/// URL, name) if it is on one.
pub(crate) struct Place {
    dir: tempfile::TempDir,
    database: Option<(String, String)>,
}

impl Place {
    pub(crate) fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// How to open the same database again.
    pub(crate) fn options(&self) -> StoreOptions {
        match &self.database {
            Some((server, name)) => {
                let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
                StoreOptions::postgres(format!("{base}/{name}"))
            }
            None => StoreOptions::new(self.dir.path().join("q.db")),
        }
    }

    /// A second store over the same database, as another host's.
    pub(crate) fn open_again(&self) -> Store {
        Store::open(self.options()).unwrap()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.database {
            if let Ok(admin) = crate::db::open_postgres(server) {
                let _ = admin
                    .execute_batch_native(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// A new, empty database on the PostgreSQL server at `server` (a URL naming any database
/// the user may connect to): its URL and name.
pub(crate) fn postgres_database(server: &str) -> (String, String) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "qg_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        chrono::Utc::now().timestamp_millis()
    );
    let admin = crate::db::open_postgres(server).unwrap();
    admin
        .execute_batch_native(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
    (format!("{base}/{name}"), name)
}

fn obj(v: Json) -> Map<String, Json> {
    v.as_object().unwrap().clone()
}

/// A user of `role` in `team`, and their access.
pub(crate) fn user(s: &Store, name: &str, role: &str, team: &str) -> Access {
    let r = s
        .create_user(
            &Access::system(),
            &NewUser {
                username: name.into(),
                display_name: None,
                password: "password1".into(),
                invite: false,
                role: role.into(),
                team: Some(team.into()),
                manager: None,
                email: None,
                locale: None,
            },
            false,
        )
        .unwrap();
    s.access_for(r.id).unwrap().0
}

#[test]
fn crud_with_versions_and_history() {
    let (_d, s) = store();
    let admin = user(&s, "root", "admin", "hq");
    let c = s
        .create(
            &admin,
            "customer",
            &obj(json!({"name": "Acme 华为", "kind": "company", "status": "lead"})),
        )
        .unwrap();
    assert_eq!(c.version, 1);
    assert_eq!(c.owner, admin.user_id);
    let err = s
        .update(
            &admin,
            "customer",
            c.id,
            7,
            &obj(json!({"status": "customer"})),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        Error::StaleVersion {
            expected: 7,
            current: 1
        }
    ));
    let u = s
        .update(
            &admin,
            "customer",
            c.id,
            1,
            &obj(json!({"status": "customer"})),
        )
        .unwrap();
    assert_eq!(u.version, 2);
    let same = s
        .update(
            &admin,
            "customer",
            c.id,
            2,
            &obj(json!({"status": "customer"})),
        )
        .unwrap();
    assert_eq!(same.version, 2, "a no-op update makes no new version");
    let h = s.history(&admin, "customer", c.id).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].changes["status"], [json!("lead"), json!("customer")]);
    let hits = s.search(&admin, "华为", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].title, "Acme 华为");
    assert_eq!(s.search(&admin, "acm", 10).unwrap().len(), 1);
    s.delete(&admin, "customer", c.id, 2).unwrap();
    assert!(matches!(
        s.get(&admin, "customer", c.id),
        Err(Error::NotFound(_))
    ));
    assert_eq!(s.history(&admin, "customer", c.id).unwrap().len(), 3);
    assert!(s.search(&admin, "acme", 10).unwrap().is_empty());
}

#[test]
fn validation_refuses_and_writes_nothing() {
    let (_d, s) = store();
    let admin = user(&s, "root", "admin", "hq");
    let err = s
        .create(
            &admin,
            "customer",
            &obj(json!({"kind": "robot", "bogus": 1, "phone": 5})),
        )
        .unwrap_err();
    let Error::Validation { fields, .. } = err else {
        panic!("{err:?}")
    };
    assert!(
        fields.contains_key("kind") && fields.contains_key("bogus") && fields.contains_key("phone")
    );
    assert_eq!(fields["kind"].code(), "not_option");
    assert_eq!(
        fields["bogus"],
        Reason::NoField {
            entity: "customer".into(),
            field: "bogus".into()
        }
    );
    assert_eq!(fields["phone"].code(), "wrong_type");
    assert_eq!(fields["phone"].to_string(), "must be a string");
    let err = s
        .create(
            &admin,
            "contact",
            &obj(json!({"name": "x", "customer": 999})),
        )
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Validation { fields, .. } if fields.get("customer")
                == Some(&Reason::NoRecord { entity: "customer".into(), id: 999 })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid input: customer: no customer with id 999"
    );
    let page = s.list(&admin, "customer", &ListQuery::default()).unwrap();
    assert!(page.items.is_empty());
}

#[test]
fn scopes_hide_other_peoples_records() {
    let (_d, s) = store();
    let a = user(&s, "amy", "sales", "east");
    let b = user(&s, "bob", "sales", "east");
    let m = user(&s, "meg", "manager", "east");
    let w = user(&s, "wes", "manager", "west");
    let rec = s
        .create(
            &a,
            "customer",
            &obj(json!({"name": "Zebra Trading", "kind": "person", "status": "lead"})),
        )
        .unwrap();
    assert!(matches!(
        s.get(&b, "customer", rec.id),
        Err(Error::NotFound(_))
    ));
    assert!(s.get(&m, "customer", rec.id).is_ok());
    assert!(matches!(
        s.get(&w, "customer", rec.id),
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        s.list(&b, "customer", &ListQuery::default())
            .unwrap()
            .items
            .len(),
        0
    );
    assert_eq!(s.search(&b, "zebra", 10).unwrap().len(), 0);
    assert_eq!(s.search(&m, "zebra", 10).unwrap().len(), 1);
    assert_eq!(
        s.search(&b, "amy", 10).unwrap()[0].entity,
        "user",
        "users are readable by all"
    );
    assert!(matches!(
        s.delete(&a, "customer", rec.id, 1),
        Err(Error::Forbidden(_))
    ));
    let hr = user(&s, "hana", "hr", "hq");
    assert!(matches!(
        s.list(&hr, "customer", &ListQuery::default()),
        Err(Error::Forbidden(_))
    ));
    // HR may edit users but not make anyone an admin.
    let err = s
        .update(
            &hr,
            "user",
            hr.user_id.unwrap(),
            1,
            &obj(json!({"role": "admin"})),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));
}

#[test]
fn custom_fields_are_real_columns_and_survive_base_changes() {
    let (_d, s) = store();
    let admin = user(&s, "root", "admin", "hq");
    let mut score = FieldDef::new("score", FieldType::Integer, "Score", "评分");
    score.max = Some(100.0);
    s.add_field(&admin, "customer", &score).unwrap();
    s.patch_field(
        &admin,
        "customer",
        "industry",
        &FieldPatch {
            label: Some(PartialLabel {
                en: None,
                zh_cn: Some("所属行业".into()),
            }),
            hidden: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    for (i, n) in [30, 90, 60].iter().enumerate() {
        s.create(
            &admin,
            "customer",
            &obj(json!({"name": format!("c{i}"), "kind": "company", "status": "lead", "score": n})),
        )
        .unwrap();
    }
    let q = ListQuery::from_pairs([("score[gte]", "50"), ("sort", "-score")]).unwrap();
    let page = s.list(&admin, "customer", &q).unwrap();
    let scores: Vec<&Value> = page.items.iter().map(|r| r.get("score")).collect();
    assert_eq!(scores, vec![&Value::Integer(90), &Value::Integer(60)]);
    // A plugin-style base change elsewhere must not erase the overlay.
    let plugin_entity = EntityDef {
        name: "deal".into(),
        label: Label::new("Deal", "商机"),
        fields: vec![
            FieldDef::new("title", FieldType::Text, "Title", "标题").required(),
            FieldDef::new("old", FieldType::Text, "Old", "旧"),
        ],
        title_field: None,
        kanban_field: None,
        layout: None,
        indexes: Vec::new(),
        searchable: true,
    };
    let origin = Origin::Plugin("sales".into());
    s.apply_base(&origin, std::slice::from_ref(&plugin_entity))
        .unwrap();
    s.add_field(
        &admin,
        "deal",
        &FieldDef::new("region", FieldType::Text, "Region", "区域"),
    )
    .unwrap();
    let mut v2 = plugin_entity.clone();
    v2.fields.pop();
    v2.fields.push(FieldDef::new(
        "amount",
        FieldType::Decimal,
        "Amount",
        "金额",
    ));
    s.apply_base(&origin, &[v2]).unwrap();
    s.apply_base(&Origin::Core, &crate::schema::builtin_entities())
        .unwrap();
    let schema = s.schema();
    let deal = schema.entity("deal").unwrap();
    assert!(deal.field("old").unwrap().retired);
    assert!(deal.field("region").is_some());
    assert!(deal.field("amount").is_some());
    let cust = schema.entity("customer").unwrap();
    let ind = cust.field("industry").unwrap();
    assert!(ind.hidden);
    assert_eq!(ind.def.label.zh_cn, "所属行业");
    assert!(cust.field("score").is_some());
    // Changing a field's type in a way that loses data is refused.
    let mut v3 = plugin_entity.clone();
    v3.fields[0].kind = FieldType::Integer;
    let err = s.apply_base(&origin, &[v3]).unwrap_err();
    let Error::Conflict { fields, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        fields.values().map(Reason::code).collect::<Vec<_>>(),
        ["incompatible_change"],
        "{err:?}"
    );
}

#[test]
fn layout_and_custom_entities() {
    let (_d, s) = store();
    let admin = user(&s, "root", "admin", "hq");
    let def = EntityDef {
        name: "visit".into(),
        label: Label::new("Visit", "拜访"),
        fields: vec![
            FieldDef::new("customer", FieldType::Reference, "Customer", "客户")
                .target("customer")
                .required(),
            FieldDef::new("summary", FieldType::Text, "Summary", "摘要"),
        ],
        title_field: None,
        kanban_field: None,
        layout: None,
        indexes: Vec::new(),
        searchable: true,
    };
    s.create_entity(&admin, &def).unwrap();
    let again = s.create_entity(&admin, &def).unwrap_err();
    assert!(
        matches!(&again, Error::Conflict { fields, .. }
            if fields.get("name") == Some(&Reason::EntityExists { name: "visit".into() })),
        "{again:?}"
    );
    assert_eq!(
        again.to_string(),
        "name: entity type 'visit' already exists"
    );
    let c = s
        .create(
            &admin,
            "customer",
            &obj(json!({"name": "A", "kind": "company", "status": "lead"})),
        )
        .unwrap();
    let v = s
        .create(
            &admin,
            "visit",
            &obj(json!({"customer": c.id, "summary": "hello"})),
        )
        .unwrap();
    let err = s.delete(&admin, "customer", c.id, 1).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    s.delete(&admin, "visit", v.id, 1).unwrap();
    s.delete(&admin, "customer", c.id, 1).unwrap();
    let layout = Layout {
        sections: vec![Section {
            title: Label::new("Main", "主要"),
            fields: vec!["summary".into()],
        }],
        list_columns: vec!["summary".into(), "owner".into()],
    };
    s.set_layout(&admin, "visit", &layout).unwrap();
    let e = s.schema().entity("visit").unwrap().clone();
    assert_eq!(e.layout.sections[0].fields, vec!["summary"]);
    assert_eq!(
        e.layout.sections[1].fields,
        vec!["customer"],
        "unplaced fields are appended"
    );
    let bad = Layout {
        sections: vec![],
        list_columns: vec!["nope".into()],
    };
    let err = s.set_layout(&admin, "visit", &bad).unwrap_err();
    assert!(
        matches!(&err, Error::Validation { fields, .. }
            if fields.get("list_columns") == Some(&Reason::UnknownField { name: "nope".into() })),
        "{err:?}"
    );
}

/// A rep paging a descending list past its last address into the empty ones sees only their
/// own records, in order: the scope holds in each stretch read after a cursor.
#[test]
fn a_reps_pages_past_the_empty_keys_hold_only_their_records() {
    let (_d, s) = store();
    let amy = user(&s, "amy", "sales", "east");
    let bob = user(&s, "bob", "sales", "east");
    let mut amys = Vec::new();
    for i in 0..12 {
        let who = if i % 2 == 0 { &amy } else { &bob };
        let mut v = json!({"name": format!("c{i}"), "kind": "company", "status": "lead"});
        if i % 3 != 0 {
            v["address"] = json!(format!("street {i:02}"));
        }
        let id = s.create(who, "customer", &obj(v)).unwrap().id;
        if i % 2 == 0 {
            amys.push((i % 3 != 0, format!("street {i:02}"), id));
        }
    }
    // Amy's six: addresses going down, then the empty ones by id going down.
    amys.sort_by(|a, b| b.cmp(a));
    let expected: Vec<i64> = amys.iter().map(|(_, _, id)| *id).collect();
    for per in 1..=4 {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut pairs = vec![
                ("sort".to_string(), "-address".to_string()),
                ("limit".into(), per.to_string()),
            ];
            if let Some(c) = &cursor {
                pairs.push(("cursor".into(), c.clone()));
            }
            let page = s
                .list(&amy, "customer", &ListQuery::from_pairs(pairs).unwrap())
                .unwrap();
            seen.extend(page.items.iter().map(|r| r.id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{per} a page");
    }
}

#[test]
fn keyset_pages_cover_everything_once() {
    let (_d, s) = store();
    let admin = user(&s, "root", "admin", "hq");
    for i in 0..23 {
        let mut v = json!({"name": format!("n{:02}", i % 7), "kind": "company", "status": "lead"});
        if i % 5 == 0 {
            v["address"] = Json::Null;
        } else {
            v["address"] = json!(format!("street {}", i % 3));
        }
        s.create(&admin, "customer", &obj(v)).unwrap();
    }
    // Sorts alone (all 23), then a `ne` filter on the sort's field, which keeps the five
    // without an address (they come last in a descending list): 23 less the 7 on street 1;
    // then a full-text search (every name holds `n`). Pages of every size from 1 to 6, so that
    // a page ends at each place around the empty addresses (which are read as a stretch of
    // their own, after a cursor), must give the list read as one page, in its order.
    let sorts = ["name", "-name", "address", "-address", "id", "-updated_at"];
    // A `gt` filter on the sort's field keeps the empty addresses out (one stretch after a
    // cursor): the 12 on streets 1 and 2. `n03` is in three names, one without an address.
    let ne = Some(("address[ne]", "street 1"));
    let gt = Some(("address[gt]", "street 0"));
    let cases = sorts.iter().map(|s| (*s, None, None, 23)).chain([
        ("-address", ne, None, 16),
        ("address", ne, None, 16),
        ("-address", gt, None, 12),
        ("address", gt, None, 12),
        ("-address", None, Some("n"), 23),
        ("address", None, Some("n"), 23),
        ("-address", None, Some("n03"), 3),
        ("address", None, Some("n03"), 3),
    ]);
    for (sort, not, q, expected) in cases {
        let query = |limit: usize, cursor: Option<&String>| {
            let mut pairs = vec![
                ("sort".to_string(), sort.to_string()),
                ("limit".into(), limit.to_string()),
            ];
            if let Some((k, v)) = not {
                pairs.push((k.to_string(), v.to_string()));
            }
            if let Some(q) = q {
                pairs.push(("q".into(), q.to_string()));
            }
            if let Some(c) = cursor {
                pairs.push(("cursor".into(), c.clone()));
            }
            ListQuery::from_pairs(pairs).unwrap()
        };
        let whole: Vec<i64> = s
            .list(&admin, "customer", &query(100, None))
            .unwrap()
            .items
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(whole.len(), expected, "sort {sort}, not {not:?}, q {q:?}");
        for per in 1..=6 {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = s
                    .list(&admin, "customer", &query(per, cursor.as_ref()))
                    .unwrap();
                assert!(page.items.len() <= per);
                // A cursor is given only when a record follows it.
                assert!(
                    cursor.is_none() || !page.items.is_empty(),
                    "sort {sort}, {per} a page"
                );
                seen.extend(page.items.iter().map(|r| r.id));
                match page.next_cursor {
                    Some(c) => {
                        assert_eq!(page.items.len(), per, "a page with more after it is full");
                        cursor = Some(c)
                    }
                    None => break,
                }
            }
            assert_eq!(
                seen, whole,
                "sort {sort}, not {not:?}, q {q:?}, {per} a page"
            );
        }
    }
    let bad_param = |q: ListQuery| match s.list(&admin, "customer", &q) {
        Err(Error::BadRequest { fields, .. }) => fields,
        other => panic!("{:?}", other.map(|p| p.items.len())),
    };
    let bad = ListQuery::from_pairs([("cursor", "garbage!")]).unwrap();
    assert_eq!(
        bad_param(bad),
        FieldErrors::from([("cursor".into(), Reason::BadCursor)])
    );
    let bad = ListQuery::from_pairs([("nope", "1")]).unwrap();
    assert_eq!(
        bad_param(bad),
        FieldErrors::from([(
            "nope".into(),
            Reason::NoField {
                entity: "customer".into(),
                field: "nope".into()
            }
        )])
    );
    let bad = ListQuery::from_pairs([("tags[lt]", "x")]).unwrap();
    assert_eq!(bad_param(bad)["tags[lt]"], Reason::MultiSelectOps);
}

#[test]
fn passwords_and_sessions() {
    let (_d, s) = store();
    let a = user(&s, "amy", "sales", "east");
    let id = s.authenticate("amy", "password1").unwrap();
    assert_eq!(Some(id), a.user_id);
    assert!(matches!(
        s.authenticate("amy", "nope"),
        Err(Error::Unauthenticated(_))
    ));
    assert!(matches!(
        s.authenticate("ghost", "x"),
        Err(Error::Unauthenticated(_))
    ));
    let sess = s.create_session(id, chrono::Duration::hours(1)).unwrap();
    let (acc, info, csrf) = s.session(&sess.token).unwrap();
    assert_eq!(acc.user_id, Some(id));
    assert_eq!(info.username, "amy");
    assert_eq!(csrf, sess.csrf);
    s.end_session(&sess.token).unwrap();
    assert!(s.session(&sess.token).is_err());
    let dup = s.create_user(
        &Access::system(),
        &NewUser {
            username: "amy".into(),
            display_name: None,
            password: "password1".into(),
            invite: false,
            role: "sales".into(),
            team: None,
            manager: None,
            email: None,
            locale: None,
        },
        false,
    );
    assert!(
        matches!(&dup, Err(Error::Conflict { fields, .. })
            if matches!(fields.get("username"), Some(Reason::Unique { entity, .. }) if entity == "user")),
        "{dup:?}"
    );
}

#[test]
fn a_lost_database_connection_fails_only_the_call_that_met_it_and_is_replaced() {
    let (_d, s) = store();
    if !s.is_postgres() {
        return; // a SQLite connection is never lost
    }
    let admin = user(&s, "root", "admin", "hq");
    let customer = |name: &str| obj(json!({"name": name, "kind": "company", "status": "lead"}));
    s.create(&admin, "customer", &customer("before")).unwrap();
    // As a restart of PostgreSQL would: every other session of the database is ended.
    s.read(|c| {
        c.execute_batch_native(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )?;
        Ok(())
    })
    .unwrap();
    // The writer's next call may meet the closed connection; the one after is on a new one.
    if s.create(&admin, "customer", &customer("met it")).is_err() {
        s.create(&admin, "customer", &customer("after")).unwrap();
    }
    let mut failed_reads = 0;
    for _ in 0..12 {
        if s.count(&admin, "customer", &ListQuery::default()).is_err() {
            failed_reads += 1;
        }
    }
    assert!(
        failed_reads <= 8,
        "each lost idle reader fails once at most: {failed_reads}"
    );
    assert_eq!(
        s.count(&admin, "customer", &ListQuery::default()).unwrap(),
        2
    );
}

#[test]
fn backup_is_a_consistent_copy() {
    let (d, s) = store();
    if s.is_postgres() {
        let err = s.backup(&d.path().join("b.db")).unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        return;
    }
    let admin = user(&s, "root", "admin", "hq");
    s.create(
        &admin,
        "customer",
        &obj(json!({"name": "A", "kind": "company", "status": "lead"})),
    )
    .unwrap();
    let target = d.path().join("backup.db");
    s.backup(&target).unwrap();
    assert!(matches!(s.backup(&target), Err(Error::Conflict { .. })));
    let copy = Store::open(StoreOptions::new(&target)).unwrap();
    assert_eq!(
        copy.list(&admin, "customer", &ListQuery::default())
            .unwrap()
            .items
            .len(),
        1
    );
}

#[test]
fn transactions_commit_or_roll_back_everything() {
    let (_d, s) = store();
    let admin = user(&s, "root", "admin", "hq");
    let failed: Result<(), Error> = s.transaction(|| {
        let c = s.create(
            &admin,
            "customer",
            &obj(json!({"name": "A", "kind": "company", "status": "lead"})),
        )?;
        assert_eq!(
            s.get(&admin, "customer", c.id)?.id,
            c.id,
            "the batch sees its own writes"
        );
        s.add_field(
            &admin,
            "customer",
            &FieldDef::new("tmp", FieldType::Integer, "Tmp", "临时"),
        )?;
        Err(Error::conflict("changed my mind"))
    });
    assert!(failed.is_err());
    assert!(s
        .list(&admin, "customer", &ListQuery::default())
        .unwrap()
        .items
        .is_empty());
    assert!(
        s.schema()
            .entity("customer")
            .unwrap()
            .field("tmp")
            .is_none(),
        "schema change rolled back"
    );
    let ok: Result<i64, Error> = s.transaction(|| {
        let c = s.create(
            &admin,
            "customer",
            &obj(json!({"name": "B", "kind": "company", "status": "lead"})),
        )?;
        let bad = s.create(&admin, "customer", &obj(json!({"name": 5})));
        assert!(
            bad.is_err(),
            "a failed write inside the batch undoes only itself"
        );
        // Refused by the database itself (the username is taken): the batch goes on.
        let taken = NewUser {
            username: "root".into(),
            display_name: None,
            password: "password1".into(),
            invite: false,
            role: "admin".into(),
            team: None,
            manager: None,
            email: None,
            locale: None,
        };
        assert!(s.create_user(&Access::system(), &taken, false).is_err());
        let after = s.create(
            &admin,
            "customer",
            &obj(json!({"name": "C", "kind": "company", "status": "lead"})),
        )?;
        assert_eq!(s.get(&admin, "customer", after.id)?.id, after.id);
        Ok(c.id)
    });
    let id = ok.unwrap();
    assert_eq!(s.get(&admin, "customer", id).unwrap().version, 1);
    assert_eq!(s.history(&admin, "customer", id).unwrap().len(), 1);
    let names: Vec<String> = s
        .list(&admin, "customer", &ListQuery::default())
        .unwrap()
        .items
        .iter()
        .map(|r| format!("{:?}", r.values["name"]))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_setting_changed_in_a_transaction_is_its_own_until_committed_and_forgotten_if_undone() {
    let (_d, s) = store();
    s.set_time_zone(60).unwrap();
    assert_eq!(s.time_zone().unwrap(), Some(60));
    let elsewhere =
        |s: &Store| std::thread::scope(|t| t.spawn(|| s.time_zone().unwrap()).join().unwrap());
    let undone: Result<(), Error> = s.transaction(|| {
        s.set_time_zone(120)?;
        assert_eq!(
            s.time_zone()?,
            Some(120),
            "the transaction sees its own change"
        );
        assert_eq!(
            elsewhere(&s),
            Some(60),
            "others see what is committed, and keep it"
        );
        assert_eq!(s.time_zone()?, Some(120), "whatever others kept meanwhile");
        Err(Error::conflict("changed my mind"))
    });
    assert!(undone.is_err());
    assert_eq!(s.time_zone().unwrap(), Some(60));
    assert_eq!(elsewhere(&s), Some(60));
    s.transaction(|| {
        s.set_time_zone(180)?;
        assert_eq!(elsewhere(&s), Some(60));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        elsewhere(&s),
        Some(180),
        "committed: kept values are forgotten"
    );
    assert_eq!(s.time_zone().unwrap(), Some(180));
}

#[test]
fn a_sum_past_64_bits_is_refused_as_too_large() {
    use crate::{AggregateQuery, Metric};
    let (_d, s) = store();
    let sys = Access::system();
    s.add_field(
        &sys,
        "customer",
        &FieldDef::new("units", FieldType::Integer, "Units", "数量"),
    )
    .unwrap();
    for name in ["A", "B"] {
        s.create(
            &sys,
            "customer",
            &obj(json!({"name": name, "kind": "company", "status": "lead", "units": 5_000_000_000_000_000_000_i64})),
        )
        .unwrap();
    }
    let q = AggregateQuery {
        filters: vec![],
        q: None,
        group_by: vec![],
        metrics: vec![Metric::Sum("units".into())],
    };
    match s.aggregate(&sys, "customer", &q) {
        Err(Error::BadRequest { fields, .. }) => {
            assert_eq!(fields.get("metrics"), Some(&Reason::SumTooLarge))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn aggregates_group_sum_min_max_within_scope() {
    use crate::{AggregateQuery, Filter, Metric, Op};
    let (_d, s) = store();
    let sys = Access::system();
    s.add_field(
        &sys,
        "customer",
        &FieldDef::new("revenue", FieldType::Decimal, "Revenue", "营收"),
    )
    .unwrap();
    s.add_field(
        &sys,
        "customer",
        &FieldDef::new("signed_on", FieldType::Date, "Signed", "签约"),
    )
    .unwrap();
    let amy = user(&s, "amy", "sales", "east");
    let bob = user(&s, "bob", "sales", "east");
    for (who, status, revenue, signed) in [
        (&amy, "customer", "100.50", "2025-01-02"),
        (&amy, "customer", "0.25", "2025-01-01"),
        (&amy, "lead", "7", "2025-03-01"),
        (&bob, "customer", "1000", "2024-12-31"),
    ] {
        s.create(who, "customer", &obj(json!({"name": "c", "kind": "company", "status": status, "revenue": revenue, "signed_on": signed}))).unwrap();
    }
    let q = AggregateQuery {
        filters: vec![],
        q: None,
        group_by: vec!["owner".into(), "status".into()],
        metrics: vec![
            Metric::Count,
            Metric::Sum("revenue".into()),
            Metric::Min("signed_on".into()),
            Metric::Sum("signed_on".into()),
        ],
    };
    let rows = s.aggregate(&sys, "customer", &q).unwrap();
    let flat: Vec<(Json, Json)> = rows
        .iter()
        .map(|r| (json!(r.group), json!(r.values)))
        .collect();
    // 2025-01-01 is day 20089 since 1970-01-01.
    assert_eq!(
        flat,
        vec![
            (
                json!([amy.user_id, "customer"]),
                json!([2, "100.75", "2025-01-01", 20089 * 2 + 1])
            ),
            (
                json!([amy.user_id, "lead"]),
                json!([1, "7.00", "2025-03-01", 20148])
            ),
            (
                json!([bob.user_id, "customer"]),
                json!([1, "1000.00", "2024-12-31", 20088])
            ),
        ]
    );
    // Scope: Amy's own records only; filters as in lists.
    let mine = AggregateQuery {
        filters: vec![Filter {
            field: "status".into(),
            op: Op::Eq,
            value: "customer".into(),
        }],
        q: None,
        group_by: vec![],
        metrics: vec![Metric::Count, Metric::Max("revenue".into())],
    };
    let rows = s.aggregate(&amy, "customer", &mine).unwrap();
    assert_eq!(json!(rows[0].values), json!([2, "100.50"]));
    let _ = bob;
    // Bad requests are errors, not SQL.
    for bad in [
        AggregateQuery {
            metrics: vec![],
            ..mine.clone()
        },
        AggregateQuery {
            metrics: vec![Metric::Sum("name".into())],
            ..mine.clone()
        },
        AggregateQuery {
            metrics: vec![Metric::Count],
            group_by: vec!["nope".into()],
            ..mine.clone()
        },
    ] {
        assert!(
            matches!(
                s.aggregate(&amy, "customer", &bad),
                Err(Error::BadRequest { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        s.count_up_to(&sys, "customer", &ListQuery::default(), 2)
            .unwrap(),
        (2, true)
    );
    assert_eq!(
        s.count_up_to(&sys, "customer", &ListQuery::default(), 4)
            .unwrap(),
        (4, false)
    );
    assert!(
        matches!(Metric::parse("median:x"), Err(Error::BadRequest { fields, .. })
            if fields["metrics"] == Reason::BadMetric { metric: "median:x".into() }),
    );
    assert_eq!(
        Metric::parse("sum:amount").unwrap(),
        Metric::Sum("amount".into())
    );
    assert_eq!(Metric::parse("avg:x").unwrap(), Metric::Avg("x".into()));
}

fn hits(s: &Store, access: &Access, q: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = s
        .search(access, q, 100)
        .unwrap()
        .into_iter()
        .map(|h| (h.entity, h.title))
        .collect();
    v.sort();
    v
}

pub(crate) fn titled(name: &str) -> EntityDef {
    EntityDef {
        name: name.into(),
        label: Label::new(name, name),
        fields: vec![FieldDef::new("title", FieldType::Text, "Title", "标题").unique()],
        title_field: None,
        kanban_field: None,
        layout: None,
        indexes: Vec::new(),
        searchable: true,
    }
}

#[test]
fn plugin_entity_types_named_like_shadow_tables_keep_their_own_storage() {
    let (_d, s) = store();
    let sys = Access::system();
    let plugin = Origin::Plugin("p".into());
    let defs: Vec<EntityDef> = ["box", "box_data", "box_idx", "box_config", "box_docsize"]
        .into_iter()
        .map(titled)
        .collect();
    s.apply_base(&plugin, &defs).unwrap();
    for d in &defs {
        s.create(
            &sys,
            &d.name,
            &obj(json!({"title": format!("Found {}", d.name)})),
        )
        .unwrap();
    }
    assert_eq!(hits(&s, &sys, "found").len(), defs.len());
    // Unique indexes of colliding old names (`ux_box_data_title` could be either) are apart.
    let dup = s.create(&sys, "box_data", &obj(json!({"title": "Found box_data"})));
    assert!(matches!(dup, Err(Error::Conflict { .. })), "{dup:?}");
    assert_eq!(s.reindex(&sys, "box_data").unwrap(), 1);
    assert_eq!(hits(&s, &sys, "found").len(), defs.len());
}

#[test]
fn reindex_rebuilds_a_damaged_index_for_administrators_only() {
    let (_d, s) = store();
    let admin = user(&s, "root", "admin", "hq");
    let amy = user(&s, "amy", "sales", "east");
    let c = s
        .create(
            &admin,
            "customer",
            &obj(json!({"name": "Rebuilt Co", "kind": "company", "status": "lead"})),
        )
        .unwrap();
    s.write(|tx| {
        tx.execute_batch(&format!(
            "DELETE FROM {fts}; INSERT INTO {fts} (rowid, body) VALUES (999, 'ghost')",
            fts = crate::db::ddl::fts_table("customer")
        ))?;
        Ok(())
    })
    .unwrap();
    assert!(hits(&s, &admin, "rebuilt").is_empty());
    assert!(matches!(
        s.reindex(&amy, "customer"),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(s.reindex(&admin, "nope"), Err(Error::NotFound(_))));
    assert_eq!(s.reindex(&admin, "customer").unwrap(), 1);
    assert_eq!(
        hits(&s, &admin, "rebuilt"),
        vec![("customer".to_string(), "Rebuilt Co".to_string())]
    );
    assert!(hits(&s, &admin, "ghost").is_empty());
    assert_eq!(c.id, 1);
}

/// An install made before storage names were collision-free: indexes named
/// `ix_<entity>_<field>`, full-text tables `fts_<entity>`, and a custom entity type
/// `customer_data` whose full-text table was `customer`'s shadow table.
#[test]
fn installs_with_old_storage_names_are_moved_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    {
        let s = Store::open(StoreOptions::new(&path)).unwrap();
        let sys = Access::system();
        s.create_entity(&user(&s, "root", "admin", "hq"), &titled("customer_data"))
            .unwrap();
        s.create(
            &sys,
            "customer",
            &obj(json!({"name": "Old Acme", "kind": "company", "status": "lead"})),
        )
        .unwrap();
        s.create(&sys, "customer_data", &obj(json!({"title": "Old sheet"})))
            .unwrap();
        s.write(|tx| {
            let mut stmt = tx.prepare(
                "SELECT type, name FROM sqlite_master WHERE (type = 'index' AND instr(name, ':') > 0)
                 OR (type = 'table' AND name LIKE 'search\\_%\\_fts' ESCAPE '\\')",
            )?;
            let new: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (kind, name) in new {
                let what = if kind == "index" { "INDEX" } else { "TABLE" };
                tx.execute_batch(&format!("DROP {what} IF EXISTS \"{name}\""))?;
            }
            tx.execute_batch(
                "CREATE INDEX ix_customer__owner ON r_customer (owner);
                 CREATE INDEX ix_customer_status ON r_customer (c_status);
                 CREATE UNIQUE INDEX ux_user_username ON r_user (c_username);
                 CREATE INDEX ix_customer_data__owner ON r_customer_data (owner);
                 CREATE VIRTUAL TABLE fts_customer USING fts5(body, content = '', contentless_delete = 1);
                 CREATE VIRTUAL TABLE fts_contact USING fts5(body, content = '', contentless_delete = 1);
                 CREATE VIRTUAL TABLE fts_user USING fts5(body, content = '', contentless_delete = 1);
                 INSERT INTO fts_customer (rowid, body) VALUES (1, 'stale words');",
            )?;
            Ok(())
        })
        .unwrap();
    }
    let s = Store::open(StoreOptions::new(&path)).unwrap();
    let sys = Access::system();
    assert_eq!(
        hits(&s, &sys, "old"),
        vec![
            ("customer".to_string(), "Old Acme".to_string()),
            ("customer_data".to_string(), "Old sheet".to_string()),
        ]
    );
    assert!(hits(&s, &sys, "stale").is_empty());
    let names = storage_names(&s);
    assert!(!names.iter().any(|n| n.starts_with("fts_")), "{names:?}");
    for n in [
        "ix_customer:owner",
        "ix_customer:status",
        "ux_user:username",
        "ix_customer_data:owner",
        "ux_customer_data:title",
        "search_customer_fts",
        "search_customer_data_fts",
    ] {
        // A plain index's name goes on with a digest of its columns.
        let plain = n.starts_with("ix_");
        let found = |x: &String| match plain {
            true => x.starts_with(&format!("{n}:+")),
            false => x == n,
        };
        assert!(names.iter().any(found), "{n} missing from {names:?}");
        if plain {
            assert!(!names.iter().any(|x| x == n), "{n} kept its old form");
        }
    }
    // Still unique, and later opens change nothing.
    let dup = s.create(&sys, "customer_data", &obj(json!({"title": "Old sheet"})));
    assert!(matches!(dup, Err(Error::Conflict { .. })), "{dup:?}");
    drop(s);
    let s = Store::open(StoreOptions::new(&path)).unwrap();
    assert_eq!(hits(&s, &sys, "old").len(), 2);
    assert_eq!(
        storage_names(&s),
        names,
        "a second open made or dropped some"
    );
}

/// The names of every index and table with SQL (SQLite), in order.
fn storage_names(s: &Store) -> Vec<String> {
    s.read(|c| {
        let mut stmt =
            c.prepare("SELECT name FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")?;
        let v = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(v)
    })
    .unwrap()
}

#[test]
fn filters_are_bounded_for_lists_and_aggregates() {
    use crate::{AggregateQuery, Filter, Metric, Op};
    let (_d, s) = store();
    let sys = Access::system();
    let filter = |op, value: &str| Filter {
        field: "id".into(),
        op,
        value: value.into(),
    };
    let too_many = vec![filter(Op::Ne, "0"); 51];
    let agg = |filters: Vec<Filter>| AggregateQuery {
        filters,
        q: None,
        group_by: vec![],
        metrics: vec![Metric::Count],
    };
    let err = s
        .aggregate(&sys, "customer", &agg(too_many.clone()))
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest { fields, .. }
            if fields.get("filters") == Some(&Reason::TooManyFilters { max: 50 })),
        "{err:?}"
    );
    let list = ListQuery {
        filters: too_many,
        ..ListQuery::default()
    };
    assert!(matches!(
        s.list(&sys, "customer", &list),
        Err(Error::BadRequest { .. })
    ));
    assert!(matches!(
        s.count(&sys, "customer", &list),
        Err(Error::BadRequest { .. })
    ));
    assert!(s
        .aggregate(&sys, "customer", &agg(vec![filter(Op::Ne, "0"); 50]))
        .is_ok());
    // Fifty `in` lists of a thousand values: more than SQLite binds in one statement.
    let ids = vec!["1"; 1000].join(",");
    let wide = ListQuery {
        filters: vec![filter(Op::In, &ids); 50],
        ..ListQuery::default()
    };
    let err = s.list(&sys, "customer", &wide).unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest { fields, .. }
            if fields.get("filters") == Some(&Reason::TooManyFilterValues { max: 10_000 })),
        "{err:?}"
    );
}

#[test]
fn references_and_owners_stay_within_the_writers_scope() {
    let (_d, s) = store();
    let sys = Access::system();
    let amy = user(&s, "amy", "sales", "east");
    let hidden = s
        .create(
            &sys,
            "customer",
            &obj(json!({"name": "Hidden", "kind": "company", "status": "lead"})),
        )
        .unwrap();
    let err = s
        .create(
            &amy,
            "contact",
            &obj(json!({"name": "Lee", "customer": hidden.id})),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { fields, .. }
            if fields.get("customer") == Some(&Reason::NoRecord { entity: "customer".into(), id: hidden.id })),
        "{err:?}"
    );
    // The system (and plugins, whose role is an administrator's) reference anything.
    s.create(
        &sys,
        "contact",
        &obj(json!({"name": "Lee", "customer": hidden.id})),
    )
    .unwrap();
    let mine = s
        .create(
            &amy,
            "customer",
            &obj(json!({"name": "Mine", "kind": "company", "status": "lead", "owner": null})),
        )
        .unwrap();
    assert_eq!(mine.owner, amy.user_id);
    let err = s
        .update(&amy, "customer", mine.id, 1, &obj(json!({"owner": null})))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { fields, .. }
            if fields.get("owner") == Some(&Reason::OwnerRequired)),
        "{err:?}"
    );
}

#[test]
fn own_password_changes_need_the_current_one() {
    let (_d, s) = store();
    let amy = user(&s, "amy", "sales", "east");
    let id = amy.user_id.unwrap();
    let field = |r: Result<(), Error>| match r {
        Err(Error::Validation { fields, .. }) => fields.get("current_password").cloned(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(s.set_password(&amy, id, None, "new-password")),
        Some(Reason::Required)
    );
    assert_eq!(
        field(s.set_password(&amy, id, Some("guess"), "new-password")),
        Some(Reason::WrongPassword)
    );
    s.set_password(&amy, id, Some("password1"), "new-password")
        .unwrap();
    assert!(s.authenticate("amy", "new-password").is_ok());
    s.set_password(&Access::system(), id, None, "by-the-system")
        .unwrap();
    let bob = user(&s, "bob", "sales", "east");
    assert!(matches!(
        s.set_password(&bob, id, Some("by-the-system"), "taken-over"),
        Err(Error::Forbidden(_))
    ));
}

#[cfg(unix)]
#[test]
fn database_and_backup_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = data.join("q.db");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let s = Store::open(StoreOptions::new(&db)).unwrap();
    s.create(
        &Access::system(),
        "customer",
        &obj(json!({"name": "A", "kind": "company", "status": "lead"})),
    )
    .unwrap();
    assert_eq!(mode(&data), 0o700);
    for f in ["q.db", "q.db-wal", "q.db-shm"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    let copy = dir.path().join("copy.db");
    s.backup(&copy).unwrap();
    assert_eq!(mode(&copy), 0o600);
    let fresh = dir.path().join("new").join("deeper").join("q.db");
    Store::open(StoreOptions::new(&fresh)).unwrap();
    assert_eq!(mode(fresh.parent().unwrap()), 0o700);
    assert_eq!(mode(&fresh), 0o600);
}

#[test]
fn a_type_kept_out_of_the_index_is_not_searched_and_goes_back_in_whole() {
    let (_d, s) = store();
    let sys = Access::system();
    let plugin = Origin::Plugin("p".into());
    s.apply_base(&plugin, &[titled("ledger")]).unwrap();
    s.create(&sys, "ledger", &obj(json!({"title": "Quarterly entry"})))
        .unwrap();
    assert_eq!(hits(&s, &sys, "quarterly").len(), 1);
    // Out of the index: global search skips it, its index is emptied and new records stay out;
    // a list's `q` still finds them in their textual fields.
    let out = EntityDef {
        searchable: false,
        ..titled("ledger")
    };
    s.apply_base(&plugin, std::slice::from_ref(&out)).unwrap();
    s.create(&sys, "ledger", &obj(json!({"title": "Quarterly close"})))
        .unwrap();
    assert!(hits(&s, &sys, "quarterly").is_empty());
    let indexed: i64 = s
        .read(|c| {
            Ok(c.query_row(
                &format!(
                    "SELECT COUNT(*) FROM {}",
                    crate::db::ddl::fts_table("ledger")
                ),
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(indexed, 0);
    let q = ListQuery::from_pairs([("q", "Quarterly")]).unwrap();
    assert_eq!(s.list(&sys, "ledger", &q).unwrap().items.len(), 2);
    // Back in: every record indexed again, both found.
    s.apply_base(&plugin, &[titled("ledger")]).unwrap();
    assert_eq!(hits(&s, &sys, "quarterly").len(), 2);
}
