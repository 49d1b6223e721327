//! Defining a workflow with the form instead of JSON (in Chinese): states' required and locked
//! fields, transitions with who, conditions and approval steps; what was saved reads back into
//! the form; the rules hold over the API; a mistake is refused with the form kept; a workflow
//! the form cannot show is left to the JSON editor.

use crate::workflows::expense_type;
use qingguan_tests::{TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::{json, Value};

fn form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("state_field", "status"),
        ("initial", "draft"),
        ("req.submitted", "amount"),
        ("lock.submitted", "amount"),
        ("lock.approved", "amount"),
        ("lock.approved", "note"),
        ("t0.name", "submit"),
        ("t0.label_en", "Submit"),
        ("t0.label_zh", "提交"),
        ("t0.from", "draft"),
        ("t0.to", "submitted"),
        ("t0.who", "owner"),
        ("t0.match", "all"),
        ("t1.name", "ask_approval"),
        ("t1.label_en", "Ask for approval"),
        ("t1.label_zh", "提交审批"),
        ("t1.from", "submitted"),
        ("t1.to", "approved"),
        ("t1.who", "owner"),
        ("t1.match", "all"),
        ("t1.c0.field", "amount"),
        ("t1.c0.op", "gt"),
        ("t1.c0.value", "5000"),
        ("t1.c1.field", ""),
        ("t1.s0.who", "owner_manager"),
        ("t1.s0.mode", "any"),
        ("t1.s1.who", "role:finance"),
        ("t1.s1.mode", "any"),
        // The empty "add a transition" block, as a browser posts it.
        ("t2.name", ""),
        ("t2.to", ""),
    ]
}

/// A server with the expense type, Amy (sales) reporting to Boss (manager), and Fin (finance).
fn expense_office() -> (
    TestServer,
    qingguan_tests::Client,
    qingguan_tests::Client,
    i64,
    qingguan_tests::Client,
    i64,
    qingguan_tests::Client,
) {
    let s = TestServer::start();
    let admin = s.admin();
    expense_type(&admin);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (boss, boss_id) = s.user("boss", "manager", "east");
    let (fin, _) = s.user("fin", "finance", "hq");
    crate::oa::reports_to(&admin, amy_id, boss_id);
    (s, admin, amy, amy_id, boss, boss_id, fin)
}

#[test]
fn a_workflow_is_defined_with_the_form_and_holds() {
    let (s, admin, amy_api, _, boss_api, boss_id, _) = expense_office();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);

    // A type without a workflow: the form, on its select field, with its states.
    let page = ui.get("/admin/workflows/expense", "zh-CN");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("data-workflow-form")
            && page.text.contains("状态字段")
            && page.text.contains("新增流转")
            && page.text.contains("负责人的上级"),
        "{}",
        page.text
    );

    // A mistake: a transition without a target state. Refused in Chinese, the form kept.
    let mut broken = form();
    broken.retain(|(k, _)| *k != "t1.to");
    let refused = ui.post("/admin/workflows/expense", "zh-CN", &broken);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.text.contains("不是适用于该类型的流程"),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("name=\"t1.c0.value\" value=\"5000\""),
        "the form keeps what was typed: {}",
        refused.text
    );
    assert_eq!(admin.get("/api/v1/workflows/expense").status, 404);

    // A name the definition cannot hold: refused, nothing saved.
    let mut badly_named = form();
    badly_named.retain(|(k, _)| *k != "t0.name");
    badly_named.push(("t0.name", "Submit it!"));
    let refused = ui.post("/admin/workflows/expense", "zh-CN", &badly_named);
    assert_eq!(refused.status, 422, "{}", refused.text);
    // Nobody but an administrator posts the form.
    let amy_ui = s.ui_login("amy", USER_PASSWORD);
    let forged = amy_ui.post("/admin/workflows/expense", "zh-CN", &form());
    assert_eq!(forged.status, 403, "{}", forged.text);
    assert_eq!(admin.get("/api/v1/workflows/expense").status, 404);

    let saved = ui.post("/admin/workflows/expense", "zh-CN", &form());
    assert_eq!(saved.status, 200, "{}", saved.text);
    let wf = admin.get("/api/v1/workflows/expense").body;
    let def = if wf["definition"].is_object() {
        &wf["definition"]
    } else {
        &wf
    };
    assert_eq!(def["initial"], "draft", "{wf}");
    assert_eq!(
        def["states"]["approved"]["locked"],
        json!(["amount", "note"])
    );
    assert_eq!(def["states"]["submitted"]["required"], json!(["amount"]));
    let names: Vec<&str> = def["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["submit", "ask_approval"],
        "the empty block adds nothing"
    );
    let ask = &def["transitions"][1];
    assert_eq!(ask["label"]["zh-CN"], "提交审批");
    assert_eq!(
        ask["when"],
        json!({"all": [{"field": "amount", "op": "gt", "value": "5000"}]})
    );
    assert_eq!(
        ask["approval"],
        json!([{"approvers": ["owner_manager"], "mode": "any", "allow_self": false},
               {"approvers": [{"role": "finance"}], "mode": "any", "allow_self": false}])
    );

    // It reads back into the form.
    let again = ui.get("/admin/workflows/expense", "zh-CN");
    for needle in [
        "name=\"t1.c0.value\" value=\"5000\"",
        "name=\"t1.s0.who\" value=\"owner_manager\" checked",
        "name=\"t1.s1.who\" value=\"role:finance\" checked",
        "name=\"lock.approved\" value=\"note\" checked",
    ] {
        assert!(again.text.contains(needle), "{needle}: {}", again.text);
    }

    // And it holds: the state field cannot be patched past it; the transitions work, the
    // big claim waits for Amy's manager.
    let e = amy_api.create("expense", json!({"title": "Fair", "amount": "8000"}));
    assert_eq!(e["status"], "draft");
    let skip = amy_api.patch_v(
        &format!("/api/v1/records/expense/{}", e["id"]),
        e["version"].as_i64().unwrap(),
        &json!({"status": "approved"}),
    );
    assert_eq!(skip.status, 422, "{}", skip.text);
    let go = |r: &Value, name: &str| {
        amy_api.post(
            &format!("/api/v1/records/expense/{}/transitions/{name}", r["id"]),
            &json!({"version": r["version"]}),
        )
    };
    let submitted = go(&e, "submit");
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let asked = go(&submitted.body["record"], "ask_approval");
    assert_eq!(asked.status, 202, "{}", asked.text);
    assert_eq!(
        asked.body["approval"]["waiting_for"],
        json!([boss_id]),
        "{}",
        asked.text
    );
    let waiting = boss_api.get("/api/v1/notifications").body;
    assert!(
        waiting["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "approval_waiting"),
        "{waiting}"
    );

    // Removing a transition with the form.
    let mut fewer = form();
    fewer.push(("t0.remove", "on"));
    let saved = ui.post("/admin/workflows/expense", "zh-CN", &fewer);
    assert_eq!(saved.status, 200, "{}", saved.text);
    let wf = admin.get("/api/v1/workflows/expense").body;
    let def = if wf["definition"].is_object() {
        &wf["definition"]
    } else {
        &wf
    };
    assert_eq!(def["transitions"].as_array().unwrap().len(), 1, "{wf}");
}

/// Groups of conditions joined by and/or, and approvers named by person, made with the form:
/// saved as the definition the API takes, shown again as they were, and holding — the named
/// approver is the one asked, and the condition opens the transition only as written.
#[test]
fn nested_conditions_and_named_approvers_are_made_with_the_form() {
    let (s, admin, amy_api, _, _, _, fin_api) = expense_office();
    let fin_id = fin_api.get("/api/v1/auth/me").body["id"].as_i64().unwrap();
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get("/admin/workflows/expense", "zh-CN");
    assert!(
        page.text.contains("指定人员") && page.text.contains(&format!("value=\"user:{fin_id}\"")),
        "{}",
        page.text
    );
    let fin_key = format!("user:{fin_id}");
    // amount > 100 and (note is filled in or reviewer is filled in); Fin approves by name.
    let posted: Vec<(&str, &str)> = vec![
        ("state_field", "status"),
        ("initial", "draft"),
        ("t0.name", "submit"),
        ("t0.label_en", "Submit"),
        ("t0.label_zh", "提交"),
        ("t0.from", "draft"),
        ("t0.to", "submitted"),
        ("t0.join", "all"),
        ("t0.match", "all"),
        ("t0.c0.field", "amount"),
        ("t0.c0.op", "gt"),
        ("t0.c0.value", "100"),
        ("t0.g1.match", "any"),
        ("t0.g1.c0.field", "note"),
        ("t0.g1.c0.op", "set"),
        ("t0.g1.c1.field", "reviewer"),
        ("t0.g1.c1.op", "set"),
        ("t0.g2.c0.field", ""),
        ("t0.s0.who", &fin_key),
        ("t0.s0.mode", "any"),
    ];
    let saved = ui.post("/admin/workflows/expense", "zh-CN", &posted);
    assert_eq!(saved.status, 200, "{}", saved.text);
    let wf = admin.get("/api/v1/workflows/expense").body;
    let def = if wf["definition"].is_object() {
        &wf["definition"]
    } else {
        &wf
    };
    let submit = &def["transitions"][0];
    assert_eq!(
        submit["when"],
        json!({"all": [{"all": [{"field": "amount", "op": "gt", "value": "100"}]},
                       {"any": [{"field": "note", "op": "set", "value": null},
                                {"field": "reviewer", "op": "set", "value": null}]}]}),
        "{wf}"
    );
    assert_eq!(
        submit["approval"][0]["approvers"],
        json!([{ "user": fin_id }])
    );

    // Shown again as it was: the second group with its "any", the named approver chosen.
    let again = ui.get("/admin/workflows/expense", "zh-CN");
    for needle in [
        "name=\"t0.g1.match\" value=\"any\" checked".to_string(),
        "name=\"t0.c0.value\" value=\"100\"".to_string(),
        format!("value=\"user:{fin_id}\" selected"),
    ] {
        assert!(again.text.contains(&needle), "{needle}: {}", again.text);
    }
    assert!(again.text.contains("data-workflow-form"));

    // It holds: 500 without a note is not enough; with one, the claim waits for Fin alone.
    let e = amy_api.create("expense", json!({"title": "Fair", "amount": "500"}));
    let go = |r: &Value| {
        amy_api.post(
            &format!("/api/v1/records/expense/{}/transitions/submit", r["id"]),
            &json!({"version": r["version"]}),
        )
    };
    let closed = go(&e);
    assert_eq!(closed.status, 422, "{}", closed.text);
    let noted = amy_api.patch_v(
        &format!("/api/v1/records/expense/{}", e["id"]),
        e["version"].as_i64().unwrap(),
        &json!({"note": "展会"}),
    );
    assert_eq!(noted.status, 200, "{}", noted.text);
    let asked = go(&noted.body);
    assert_eq!(asked.status, 202, "{}", asked.text);
    assert_eq!(asked.body["approval"]["waiting_for"], json!([fin_id]));
    let small = amy_api.create(
        "expense",
        json!({"title": "Taxi", "amount": "50", "note": "x"}),
    );
    assert_eq!(go(&small).status, 422);
}

#[test]
fn a_workflow_the_form_cannot_show_is_left_to_json() {
    let s = TestServer::start();
    let admin = s.admin();
    expense_type(&admin);
    // Three levels deep: more than the form's groups of comparisons.
    let nested = json!({"state_field": "status", "transitions": [
        {"name": "submit", "label": {"en": "Submit", "zh-CN": "提交"}, "from": ["draft"], "to": "submitted",
         "when": {"all": [{"field": "amount", "op": "gt", "value": 1},
                          {"any": [{"field": "note", "op": "set"},
                                   {"all": [{"field": "reviewer", "op": "set"}, {"field": "title", "op": "set"}]}]}]}}]});
    let r = admin.put("/api/v1/workflows/expense", &nested);
    assert_eq!(r.status, 200, "{}", r.text);
    let ui = s.ui_login("admin", ADMIN_PASSWORD);
    let page = ui.get("/admin/workflows/expense", "en");
    assert!(
        page.text.contains("rules the form cannot show")
            && !page.text.contains("data-workflow-form"),
        "{}",
        page.text
    );
    assert!(page.text.contains("&quot;any&quot;") || page.text.contains("\"any\""));
    // A person or a role the install does not have is refused: the step would wait for ever.
    for (who, who_text) in [
        (json!({"user": 999_999}), "999999"),
        (json!({"role": "astronaut"}), "astronaut"),
    ] {
        let named = json!({"state_field": "status", "transitions": [
            {"name": "submit", "label": {"en": "Submit", "zh-CN": "提交"}, "from": ["draft"], "to": "submitted",
             "approval": [{"approvers": [who]}]}]});
        let refused = admin.put("/api/v1/workflows/expense", &named);
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(
            refused.body["error"]["fields"]["definition"]
                .as_str()
                .is_some_and(|why| why.contains(who_text)),
            "{}",
            refused.text
        );
    }
    assert_eq!(
        admin.get("/api/v1/workflows/expense").body["transitions"][0]["when"]["all"][1]["any"][0]
            ["field"],
        "note",
        "the refused definitions left the stored one"
    );

    // A flat condition, but on a field the form does not offer (hidden): saving the form would
    // drop the guard, so the form is not offered either.
    let flat = json!({"state_field": "status", "transitions": [
        {"name": "submit", "label": {"en": "Submit", "zh-CN": "提交"}, "from": ["draft"], "to": "submitted",
         "when": {"field": "note", "op": "set"}}]});
    assert_eq!(admin.put("/api/v1/workflows/expense", &flat).status, 200);
    assert!(ui
        .get("/admin/workflows/expense", "en")
        .text
        .contains("data-workflow-form"));
    let hidden = admin.patch(
        "/api/v1/entities/expense/fields/note",
        &json!({"hidden": true}),
    );
    assert_eq!(hidden.status, 200, "{}", hidden.text);
    let page = ui.get("/admin/workflows/expense", "en");
    assert!(
        page.text.contains("rules the form cannot show")
            && !page.text.contains("data-workflow-form"),
        "{}",
        page.text
    );
}

/// In a real headless Chromium, in Chinese: the administrator builds the workflow with the form
/// (typing, ticking, choosing), Amy asks for approval on the record page, her manager and then
/// finance approve there.
#[test]
fn a_workflow_built_in_the_browser_is_approved_in_the_browser() {
    use crate::browser::{browser, go, login, wait_text};
    use headless_chrome::Tab;
    let (s, admin, amy_api, _, boss_api, _, fin_api) = expense_office();
    for c in [&admin, &amy_api, &boss_api, &fin_api] {
        assert_eq!(
            c.patch("/api/v1/auth/me", &json!({"locale": "zh-CN"}))
                .status,
            200
        );
    }
    // Replaces what the field holds (the form starts from an example) by typing, key by key.
    let type_into = |tab: &Tab, selector: &str, text: &str| {
        let field = tab.wait_for_element(selector).unwrap();
        let js = format!("document.querySelector(\"{selector}\").value = ''");
        tab.evaluate(&js, false).unwrap();
        field.click().unwrap().type_into(text).unwrap();
    };
    // The same, set at once (typing key by key costs about half a second a character here).
    let fill = |tab: &Tab, selector: &str, text: &str| {
        tab.wait_for_element(selector).unwrap();
        let js = format!(
            "(() => {{ const f = document.querySelector(\"{selector}\"); f.value = {}; \
             f.dispatchEvent(new Event('input', {{bubbles: true}})); return f.value; }})()",
            json!(text)
        );
        assert_eq!(tab.evaluate(&js, false).unwrap().value, Some(json!(text)));
    };
    // A click in the page (the box toggles as under a mouse; no pointer travel).
    let tick = |tab: &Tab, selector: &str| {
        tab.wait_for_element(selector)
            .unwrap_or_else(|e| panic!("{selector}: {e}"));
        let js = format!("document.querySelector(\"{selector}\").click()");
        tab.evaluate(&js, false).unwrap();
    };
    let choose = |tab: &Tab, name: &str, value: &str| {
        let js = format!(
            "(() => {{ const s = document.querySelector('select[name=\"{name}\"]'); s.value = '{value}'; return s.value; }})()"
        );
        let got = tab.evaluate(&js, false).unwrap().value.unwrap();
        assert_eq!(got, json!(value), "{name}");
    };
    let save = |tab: &Tab| {
        tab.wait_for_element("form[data-workflow-form] button.primary")
            .unwrap()
            .click()
            .unwrap();
        wait_text(tab, "流程");
    };

    let b = browser(1400, 2400);
    let tab = b.new_tab().unwrap();
    login(&tab, &s.url, "admin", ADMIN_PASSWORD);
    go(&tab, &format!("{}/admin/workflows/expense", s.url));
    wait_text(&tab, "新增流转");
    // The form starts from an example on the type's select field (draft → submitted →
    // approved, anyone); the administrator shapes it. First: Amy submits her draft.
    choose(&tab, "initial", "draft");
    tick(&tab, "input[name='req.submitted'][value=amount]");
    type_into(&tab, "input[name='t0.name']", "submit");
    fill(&tab, "input[name='t0.label_en']", "Submit");
    fill(&tab, "input[name='t0.label_zh']", "提交");
    choose(&tab, "t0.to", "submitted");
    tick(&tab, "input[name='t0.who'][value=owner]");
    // Then: over 5000, her manager and then finance approve.
    fill(&tab, "input[name='t1.name']", "ask_approval");
    fill(&tab, "input[name='t1.label_en']", "Ask for approval");
    fill(&tab, "input[name='t1.label_zh']", "提交审批");
    choose(&tab, "t1.to", "approved");
    tick(&tab, "input[name='t1.who'][value=owner]");
    choose(&tab, "t1.c0.field", "amount");
    choose(&tab, "t1.c0.op", "gt");
    fill(&tab, "input[name='t1.c0.value']", "5000");
    tick(&tab, "input[name='t1.s0.who'][value=owner_manager]");
    tick(&tab, "input[name='t1.s1.who'][value='role:finance']");
    save(&tab);
    let wf = admin.get("/api/v1/workflows/expense").body;
    assert_eq!(wf["transitions"].as_array().map(Vec::len), Some(2), "{wf}");
    // Saved again from the form as it reads back, unchanged: the definition is the same.
    go(&tab, &format!("{}/admin/workflows/expense", s.url));
    wait_text(&tab, "新增流转");
    save(&tab);
    assert_eq!(
        admin.get("/api/v1/workflows/expense").body,
        wf,
        "a round trip changes nothing"
    );
    assert_eq!(
        wf["transitions"][1]["approval"][1]["approvers"],
        json!([{"role": "finance"}])
    );

    // Amy, in her own browser: submit, then ask for approval, on the record page.
    let e = amy_api.create("expense", json!({"title": "展会", "amount": "8000"}));
    let record = format!("{}/e/expense/{}", s.url, e["id"]);
    // One browser, one person after the other (signing in replaces the session).
    let amy = b.new_tab().unwrap();
    login(&amy, &s.url, "amy", USER_PASSWORD);
    go(&amy, &record);
    wait_text(&amy, "展会");
    if amy.find_element("button[data-transition=submit]").is_err() {
        panic!("{}", crate::browser::text(&amy));
    }
    amy.wait_for_element("button[data-transition=submit]")
        .unwrap()
        .click()
        .unwrap();
    amy.wait_until_navigated().unwrap();
    amy.wait_for_element("button[data-transition=ask_approval]")
        .unwrap()
        .click()
        .unwrap();
    amy.wait_until_navigated().unwrap();
    wait_text(&amy, "待审批");
    // Her manager approves, then finance.
    for name in ["boss", "fin"] {
        let t = b.new_tab().unwrap();
        login(&t, &s.url, name, USER_PASSWORD);
        go(&t, &record);
        t.wait_for_element("form.decide button[value=approve]")
            .unwrap()
            .click()
            .unwrap();
        t.wait_until_navigated().unwrap();
        wait_text(&t, "展会");
    }
    let done = admin
        .get(&format!("/api/v1/records/expense/{}", e["id"]))
        .body;
    assert_eq!(done["status"], "approved", "{done}");
}
