//! Filters with every operator, sorting and keyset paging through the HTTP API.

use qingguan_tests::{Client, TestServer};
use serde_json::json;
use std::collections::HashSet;

fn names(c: &Client, q: &str) -> Vec<String> {
    let r = c.get(&format!("/api/v1/records/customer?{q}"));
    assert_eq!(r.status, 200, "{q}: {}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn operators_sorting_and_paging() {
    let s = TestServer::start();
    let c = s.admin();
    let field =
        json!({"name": "revenue", "type": "decimal", "label": {"en": "Revenue", "zh-CN": "营收"}});
    assert_eq!(
        c.post("/api/v1/entities/customer/fields", &field).status,
        201
    );
    let rows = [
        ("Alpha", "lead", "retail", Some("100.50"), vec!["vip"]),
        ("Bravo", "customer", "retail", Some("2000"), vec![]),
        (
            "Charlie",
            "customer",
            "technology",
            None,
            vec!["vip", "new"],
        ),
        ("Delta", "inactive", "food", Some("99.99"), vec![]),
        ("Echo 回声", "lead", "technology", Some("0"), vec!["new"]),
    ];
    for (name, status, industry, revenue, tags) in rows {
        c.create("customer", json!({"name": name, "kind": "company", "status": status, "industry": industry, "revenue": revenue, "tags": tags}));
    }
    assert_eq!(
        names(&c, "status=lead&sort=name"),
        vec!["Alpha", "Echo 回声"]
    );
    assert_eq!(
        names(&c, "status[eq]=lead&sort=-name"),
        vec!["Echo 回声", "Alpha"]
    );
    assert_eq!(
        names(&c, "status[ne]=lead&sort=name"),
        vec!["Bravo", "Charlie", "Delta"]
    );
    assert_eq!(
        names(&c, "status[in]=inactive,customer&sort=name"),
        vec!["Bravo", "Charlie", "Delta"]
    );
    assert_eq!(
        names(&c, "revenue[gt]=99.99&sort=revenue"),
        vec!["Alpha", "Bravo"]
    );
    assert_eq!(
        names(&c, "revenue[gte]=99.99&sort=revenue"),
        vec!["Delta", "Alpha", "Bravo"]
    );
    assert_eq!(
        names(&c, "revenue[lt]=100&sort=revenue"),
        vec!["Echo 回声", "Delta"]
    );
    assert_eq!(names(&c, "revenue[lte]=0&sort=name"), vec!["Echo 回声"]);
    assert_eq!(names(&c, "revenue[null]=true"), vec!["Charlie"]);
    assert_eq!(
        names(&c, "revenue[null]=false&sort=-revenue&limit=1"),
        vec!["Bravo"]
    );
    assert_eq!(names(&c, "name[contains]=回&sort=name"), vec!["Echo 回声"]);
    assert_eq!(
        names(&c, "name[contains]=ha&sort=name"),
        vec!["Alpha", "Charlie"]
    );
    assert_eq!(
        names(&c, "tags[contains]=vip&sort=name"),
        vec!["Alpha", "Charlie"]
    );
    assert_eq!(
        names(&c, "tags[null]=true&sort=name"),
        vec!["Bravo", "Delta"]
    );
    assert_eq!(
        names(&c, "industry=technology&status=lead"),
        vec!["Echo 回声"]
    );
    assert_eq!(
        names(&c, "created_at[gte]=2000-01-01&sort=id&limit=2"),
        vec!["Alpha", "Bravo"]
    );
    assert_eq!(names(&c, "sort=-revenue&limit=2"), vec!["Bravo", "Alpha"]);
    // Nulls sort first ascending, last descending.
    assert_eq!(names(&c, "sort=revenue")[0], "Charlie");
    assert_eq!(names(&c, "sort=-revenue")[4], "Charlie");

    for sort in [
        "name",
        "-name",
        "revenue",
        "-revenue",
        "industry",
        "-updated_at",
        "id",
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q = format!("/api/v1/records/customer?sort={sort}&limit=2");
            if let Some(cur) = &cursor {
                q.push_str(&format!("&cursor={cur}"));
            }
            let page = c.get(&q);
            assert_eq!(page.status, 200, "{}", page.text);
            for item in page.body["items"].as_array().unwrap() {
                seen.push(item["name"].as_str().unwrap().to_string());
            }
            match page.body["next_cursor"].as_str() {
                Some(n) => cursor = Some(n.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5, "sort {sort}: {seen:?}");
        assert_eq!(
            seen.iter().collect::<HashSet<_>>().len(),
            5,
            "sort {sort}: {seen:?}"
        );
        let all = names(&c, &format!("sort={sort}"));
        assert_eq!(seen, all, "paging in order for {sort}");
    }
}
