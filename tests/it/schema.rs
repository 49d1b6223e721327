//! Customisation without code: custom fields of every type, hiding, relabelling, layouts and
//! custom entity types — all real columns, filterable and sortable.

use qingguan_tests::{customer, TestServer};
use serde_json::{json, Value};

fn field(name: &str, kind: &str, extra: Value) -> Value {
    let mut f =
        json!({"name": name, "type": kind, "label": {"en": name, "zh-CN": format!("字段{name}")}});
    if let (Some(m), Some(x)) = (f.as_object_mut(), extra.as_object()) {
        m.extend(x.clone());
    }
    f
}

#[test]
fn custom_fields_of_every_type() {
    let s = TestServer::start();
    let c = s.admin();
    let opts = json!({"options": [{"value": "a", "label": {"en": "A", "zh-CN": "甲"}}, {"value": "b", "label": {"en": "B", "zh-CN": "乙"}}]});
    let defs = [
        field("f_text", "text", json!({"unique": true})),
        field("f_long", "long_text", json!({})),
        field("f_int", "integer", json!({"min": 0, "max": 10})),
        field("f_dec", "decimal", json!({"scale": 3})),
        field("f_bool", "boolean", json!({})),
        field("f_date", "date", json!({})),
        field("f_dt", "datetime", json!({})),
        field("f_sel", "select", opts.clone()),
        field("f_multi", "multi_select", opts),
        field("f_ref", "reference", json!({"target": "customer"})),
        field("f_user", "user", json!({})),
        field("f_email", "email", json!({})),
        field("f_phone", "phone", json!({})),
        field("f_url", "url", json!({})),
    ];
    for d in &defs {
        let r = c.post("/api/v1/entities/customer/fields", d);
        assert_eq!(r.status, 201, "{d}: {}", r.text);
        assert_eq!(r.body["origin"], "custom");
    }
    let base = c.create("customer", customer("Base"));
    let rec = c.create("customer", json!({
        "name": "Full", "kind": "company", "status": "lead",
        "f_text": "T-1", "f_long": "line 1\nline 2", "f_int": 7, "f_dec": "12.345", "f_bool": true,
        "f_date": "2026-03-01", "f_dt": "2026-03-01T08:30:00+08:00", "f_sel": "a", "f_multi": ["a", "b"],
        "f_ref": base["id"], "f_user": 1, "f_email": "x@y.cn", "f_phone": "+86 10 1234 5678", "f_url": "https://x.cn"
    }));
    assert_eq!(rec["f_dec"], "12.345");
    assert_eq!(rec["f_dt"], "2026-03-01T00:30:00Z");
    assert_eq!(rec["f_multi"], json!(["a", "b"]));
    let dup = c.post(
        "/api/v1/records/customer",
        &json!({"name": "Dup", "kind": "company", "status": "lead", "f_text": "T-1"}),
    );
    assert_eq!(dup.error_code(409), "conflict");
    assert!(dup.body["error"]["fields"]["f_text"].is_string());
    let big = c.post(
        "/api/v1/records/customer",
        &json!({"name": "Big", "kind": "company", "status": "lead", "f_int": 11}),
    );
    assert_eq!(big.error_code(422), "validation_failed");
    let bad_ref = c.post(
        "/api/v1/records/customer",
        &json!({"name": "R", "kind": "company", "status": "lead", "f_user": 777}),
    );
    assert_eq!(bad_ref.error_code(422), "validation_failed");
    for q in [
        "f_int[gte]=5",
        "f_dec=12.345",
        "f_bool=true",
        "f_date[lt]=2026-04-01",
        "f_sel=a",
        "f_multi[contains]=b",
        "f_ref={ref}",
        "f_user=1",
        "f_dt[gt]=2026-02-28",
        "f_text=T-1",
        "f_email[contains]=y.cn",
    ] {
        let q = q.replace("{ref}", &base["id"].to_string());
        let r = c.get(&format!("/api/v1/records/customer?{q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{q}");
        assert_eq!(items[0]["name"], "Full");
    }
    let sorted = c.get("/api/v1/records/customer?sort=-f_int");
    assert_eq!(sorted.body["items"][0]["name"], "Full");
    let again = c.post("/api/v1/entities/customer/fields", &defs[0]);
    assert_eq!(again.error_code(409), "conflict");
    for (bad, key) in [
        (field("id", "text", json!({})), "name"),
        (field("Bad-Name", "text", json!({})), "name"),
        (field("x1", "select", json!({})), "options"),
        (
            field("x2", "reference", json!({"target": "nowhere"})),
            "target",
        ),
        (field("x3", "integer", json!({"min": 5, "max": 1})), "max"),
    ] {
        let r = c.post("/api/v1/entities/customer/fields", &bad);
        assert_eq!(r.error_code(422), "validation_failed", "{bad}");
        assert!(
            r.body["error"]["fields"][key].is_string(),
            "{key}: {}",
            r.text
        );
    }
    let unknown_type = c.post(
        "/api/v1/entities/customer/fields",
        &field("x4", "colour", json!({})),
    );
    assert_eq!(unknown_type.error_code(422), "invalid_body");
}

#[test]
fn hide_relabel_and_layout() {
    let s = TestServer::start();
    let c = s.admin();
    let r = c.patch(
        "/api/v1/entities/customer/fields/industry",
        &json!({"hidden": true, "label": {"zh-CN": "所属行业"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["hidden"], true);
    assert_eq!(
        r.body["label"],
        json!({"en": "Industry", "zh-CN": "所属行业"})
    );
    let e = c.get("/api/v1/entities/customer").body;
    let placed: Vec<&Value> = e["layout"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["fields"].as_array().unwrap())
        .collect();
    assert!(
        !placed.iter().any(|f| *f == "industry"),
        "hidden fields leave the layout"
    );
    let rec = c.create(
        "customer",
        json!({"name": "Still", "kind": "company", "status": "lead", "industry": "retail"}),
    );
    assert_eq!(rec["industry"], "retail", "hidden fields keep their data");
    assert_eq!(
        c.patch(
            "/api/v1/entities/customer/fields/nope",
            &json!({"hidden": true})
        )
        .error_code(404),
        "not_found"
    );
    assert_eq!(
        c.patch(
            "/api/v1/entities/customer/fields/name",
            &json!({"colour": "red"})
        )
        .error_code(422),
        "invalid_body"
    );

    let layout = json!({
        "sections": [
            {"title": {"en": "Who", "zh-CN": "客户"}, "fields": ["name", "status"]},
            {"title": {"en": "Reach", "zh-CN": "联系"}, "fields": ["phone", "email"]}
        ],
        "list_columns": ["name", "phone", "owner"]
    });
    let r = c.put("/api/v1/entities/customer/layout", &layout);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["layout"]["sections"][0]["fields"],
        json!(["name", "status"])
    );
    assert_eq!(
        r.body["layout"]["list_columns"],
        json!(["name", "phone", "owner"])
    );
    let last = r.body["layout"]["sections"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(
        last["fields"].as_array().unwrap().contains(&json!("kind")),
        "unplaced fields still appear"
    );
    let bad = json!({"sections": [{"title": {"en": "X", "zh-CN": "X"}, "fields": ["ghost"]}], "list_columns": []});
    assert_eq!(
        c.put("/api/v1/entities/customer/layout", &bad)
            .error_code(422),
        "validation_failed"
    );
    let relabel = c.patch(
        "/api/v1/entities/customer",
        &json!({"label": {"en": "Client", "zh-CN": "客户"}}),
    );
    assert_eq!(relabel.body["label"]["en"], "Client");
}

#[test]
fn custom_entity_types_with_references() {
    let s = TestServer::start();
    let c = s.admin();
    let def = json!({
        "name": "project", "label": {"en": "Project", "zh-CN": "项目"},
        "fields": [
            {"name": "title", "type": "text", "label": {"en": "Title", "zh-CN": "标题"}, "required": true},
            {"name": "customer", "type": "reference", "target": "customer", "label": {"en": "Customer", "zh-CN": "客户"}},
            {"name": "stage", "type": "select", "label": {"en": "Stage", "zh-CN": "阶段"},
             "options": [{"value": "plan", "label": {"en": "Plan", "zh-CN": "计划"}}, {"value": "done", "label": {"en": "Done", "zh-CN": "完成"}}]},
            {"name": "budget", "type": "decimal", "label": {"en": "Budget", "zh-CN": "预算"}}
        ],
        "kanban_field": "stage"
    });
    let r = c.post("/api/v1/entities", &def);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["origin"], "custom");
    assert_eq!(c.post("/api/v1/entities", &def).error_code(409), "conflict");
    let bad = json!({"name": "broken", "label": {"en": "B", "zh-CN": "B"}, "fields": [{"name": "a", "type": "text", "label": {"en": "A", "zh-CN": "A"}}, {"name": "a", "type": "text", "label": {"en": "A", "zh-CN": "A"}}], "kanban_field": "a"});
    let br = c.post("/api/v1/entities", &bad);
    assert_eq!(br.error_code(422), "validation_failed");
    assert_eq!(
        c.get("/api/v1/entities/broken").error_code(404),
        "not_found",
        "nothing half-created"
    );
    let cust = c.create("customer", customer("Acme"));
    let p = c.create("project", json!({"title": "ERP rollout 上线", "customer": cust["id"], "stage": "plan", "budget": "50000"}));
    assert_eq!(p["budget"], "50000.00");
    let list = c.get(&format!(
        "/api/v1/records/project?customer={}&stage=plan",
        cust["id"]
    ));
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let hits = c.get("/api/v1/search?q=上线");
    assert_eq!(hits.body["items"][0]["entity"], "project");
    // A custom field on the custom type, then a manager (who reads everything in team scope) sees the type.
    assert_eq!(
        c.post(
            "/api/v1/entities/project/fields",
            &json!({"name": "risk", "type": "integer", "label": {"en": "Risk", "zh-CN": "风险"}})
        )
        .status,
        201
    );
    let (meg, _) = s.user("meg", "manager", "east");
    let names: Vec<String> = meg
        .get("/api/v1/entities")
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"project".to_string()), "{names:?}");
}
