//! Workflows and approvals over HTTP on a custom entity type, as an implementer sets them up
//! without code: expenses go draft → submitted → approved; small ones a manager approves at
//! once, large ones need the owner's manager, then finance. No write gets around them: not a
//! PATCH of the state, not a change of a locked field, not an approver deciding out of turn.

use qingguan_tests::{Client, TestServer, ADMIN_PASSWORD, USER_PASSWORD};
use serde_json::{json, Value};

fn label(en: &str, zh: &str) -> Value {
    json!({"en": en, "zh-CN": zh})
}

pub(crate) fn expense_type(admin: &Client) {
    let option = |v: &str| json!({"value": v, "label": label(v, v)});
    let options: Vec<Value> = ["draft", "submitted", "approved"].map(option).into();
    let r = admin.post(
        "/api/v1/entities",
        &json!({"name": "expense", "label": label("Expense", "报销"), "fields": [
            {"name": "title", "type": "text", "label": label("Title", "事由")},
            {"name": "amount", "type": "decimal", "label": label("Amount", "金额")},
            {"name": "status", "type": "select", "label": label("Status", "状态"),
             "options": options},
            {"name": "note", "type": "text", "label": label("Note", "备注")},
            {"name": "reviewer", "type": "user", "label": label("Reviewer", "审核人")},
        ]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

fn workflow() -> Value {
    json!({
        "state_field": "status",
        "initial": "draft",
        "states": {
            "submitted": {"required": ["amount"], "locked": ["amount"]},
            "approved": {"locked": ["amount", "note"]}
        },
        "transitions": [
            {"name": "submit", "label": label("Submit", "提交"), "from": ["draft"], "to": "submitted",
             "who": ["owner"]},
            {"name": "approve", "label": label("Approve", "批准"), "from": ["submitted"], "to": "approved",
             "who": [{"role": "manager"}], "when": {"field": "amount", "op": "lte", "value": 5000}},
            {"name": "ask_approval", "label": label("Ask for approval", "提交审批"), "from": ["submitted"],
             "to": "approved", "who": ["owner"], "when": {"field": "amount", "op": "gt", "value": 5000},
             "approval": [{"approvers": ["owner_manager"]}, {"approvers": [{"role": "finance"}]}]},
            {"name": "send_back", "label": label("Send back", "退回"), "from": ["submitted"], "to": "draft",
             "who": [{"role": "manager"}]}
        ]
    })
}

fn rec(path: &str) -> String {
    format!("/api/v1/records/{path}")
}

fn transition(c: &Client, r: &Value, name: &str) -> qingguan_tests::Resp {
    c.post(
        &rec(&format!("expense/{}/transitions/{name}", r["id"])),
        &json!({"version": r["version"], "comment": name}),
    )
}

fn fresh(c: &Client, r: &Value) -> Value {
    c.get(&rec(&format!("expense/{}", r["id"]))).body
}

#[test]
fn expenses_follow_their_workflow_and_approvals() {
    let s = TestServer::start();
    let admin = s.admin();
    expense_type(&admin);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (boss, boss_id) = s.user("boss", "manager", "east");
    let (fin, _) = s.user("fin", "finance", "hq");
    let amy_user = admin.get(&rec(&format!("user/{amy_id}"))).body;
    let r = admin.patch_v(
        &rec(&format!("user/{amy_id}")),
        amy_user["version"].as_i64().unwrap(),
        &json!({"manager": boss_id}),
    );
    assert_eq!(r.status, 200, "{}", r.text);

    // Only administrators define workflows, and only ones that fit the type.
    assert_eq!(
        amy.put("/api/v1/workflows/expense", &workflow()).status,
        403
    );
    let mut bad = workflow();
    bad["transitions"][0]["to"] = json!("paid");
    let refused = admin.put("/api/v1/workflows/expense", &bad);
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("paid"), "{}", refused.text);
    let set = admin.put("/api/v1/workflows/expense", &workflow());
    assert_eq!(set.status, 200, "{}", set.text);

    // A new expense starts as a draft; its state moves only along transitions.
    let big = amy.create("expense", json!({"title": "Trade fair", "amount": "8000"}));
    assert_eq!(big["status"], "draft", "{big}");
    let skip = amy.patch_v(
        &rec(&format!("expense/{}", big["id"])),
        big["version"].as_i64().unwrap(),
        &json!({"status": "approved"}),
    );
    assert_eq!(skip.error_code(422), "validation_failed");
    assert!(
        skip.body["error"]["fields"]["status"].is_string(),
        "{}",
        skip.text
    );
    let lang = |l: &str| {
        assert_eq!(
            amy.patch("/api/v1/auth/me", &json!({"locale": l})).status,
            200
        )
    };
    lang("zh-CN");
    let zh = amy.patch_v(
        &rec(&format!("expense/{}", big["id"])),
        big["version"].as_i64().unwrap(),
        &json!({"status": "approved"}),
    );
    lang("en");
    assert!(zh.text.contains("您不能"), "{}", zh.text);
    let sub = transition(&amy, &big, "submit");
    assert_eq!(sub.status, 200, "{}", sub.text);
    let big = fresh(&amy, &big);
    assert_eq!(big["status"], "submitted");

    // Submitted: the amount is locked; the manager cannot approve a large one directly.
    let locked = amy.patch_v(
        &rec(&format!("expense/{}", big["id"])),
        big["version"].as_i64().unwrap(),
        &json!({"amount": "1"}),
    );
    assert_eq!(locked.status, 422, "{}", locked.text);
    assert!(
        locked.body["error"]["fields"]["amount"].is_string(),
        "{}",
        locked.text
    );
    let boss_view = boss
        .get(&rec(&format!("expense/{}/workflow", big["id"])))
        .body;
    assert!(
        boss_view["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "approve"),
        "8000 is above the manager's limit: {boss_view}"
    );
    assert_eq!(transition(&boss, &big, "approve").status, 422);

    // Amy asks for approval: her manager first, then finance.
    let asked = transition(&amy, &big, "ask_approval");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let approval = asked.body["approval"].clone();
    assert_eq!(approval["waiting_for"], json!([boss_id]), "{approval}");
    let id = approval["id"].clone();
    let decide = |c: &Client, d: &str| {
        c.post(
            &format!("/api/v1/approvals/{id}/decision"),
            &json!({"decision": d, "comment": "ok"}),
        )
    };
    // Meanwhile the state cannot be patched, and nobody decides out of turn.
    let big = fresh(&amy, &big);
    assert_eq!(big["status"], "submitted", "waits for the approval");
    let meanwhile = boss.patch_v(
        &rec(&format!("expense/{}", big["id"])),
        big["version"].as_i64().unwrap(),
        &json!({"status": "draft"}),
    );
    assert_eq!(meanwhile.status, 422, "{}", meanwhile.text);
    assert_eq!(decide(&amy, "approve").status, 422, "not her step");
    assert_eq!(
        decide(&fin, "approve").status,
        422,
        "finance is the second step"
    );
    let waiting = boss.get("/api/v1/approvals").body;
    assert_eq!(waiting["items"][0]["id"], id, "{waiting}");
    assert!(fin.get("/api/v1/approvals").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let first = decide(&boss, "approve");
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["status"], "pending");
    assert_eq!(first.body["step"], 1);
    assert_eq!(decide(&boss, "approve").status, 422, "step 2 is finance's");
    let done = decide(&fin, "approve");
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["status"], "approved");
    let big = fresh(&amy, &big);
    assert_eq!(big["status"], "approved", "{big}");
    // Amy hears of it: the decision with its comment, over the API too.
    let notes = amy.get("/api/v1/notifications?unread=true").body;
    assert_eq!(notes["unread"], 1, "{notes}");
    assert_eq!(notes["items"][0]["kind"], "approval_approved", "{notes}");
    assert_eq!(notes["items"][0]["params"]["comment"], "ok", "{notes}");
    assert_eq!(
        notes["items"][0]["link"],
        format!("/e/expense/{}", big["id"]),
        "{notes}"
    );
    assert_eq!(
        amy.post("/api/v1/notifications/read", &json!({})).status,
        204
    );
    assert_eq!(amy.get("/api/v1/notifications").body["unread"], 0);
    // Boss and finance were told when it waited for them.
    let kinds = |c: &Client| -> Vec<String> {
        c.get("/api/v1/notifications").body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kinds(&boss), ["approval_waiting"]);
    assert_eq!(kinds(&fin), ["approval_waiting"]);
    let history = amy
        .get(&rec(&format!("expense/{}/history", big["id"])))
        .body;
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "update",
            "approval_requested",
            "approved",
            "approved",
            "update"
        ],
        "{history}"
    );

    // A small one the manager approves at once; a rejection leaves the state as it was.
    let small = amy.create("expense", json!({"title": "Taxi", "amount": "120"}));
    transition(&amy, &small, "submit");
    let small = fresh(&amy, &small);
    assert_eq!(
        transition(&amy, &small, "approve").status,
        422,
        "reps do not approve"
    );
    let ok = transition(&boss, &small, "approve");
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["record"]["status"], "approved");

    let third = amy.create("expense", json!({"title": "Printer", "amount": "9000"}));
    transition(&amy, &third, "submit");
    let third = fresh(&amy, &third);
    let asked = transition(&amy, &third, "ask_approval");
    let id = asked.body["approval"]["id"].clone();
    let no = boss.post(
        &format!("/api/v1/approvals/{id}/decision"),
        &json!({"decision": "reject", "comment": "too dear"}),
    );
    assert_eq!(no.status, 200, "{}", no.text);
    assert_eq!(no.body["status"], "rejected");
    assert_eq!(fresh(&amy, &third)["status"], "submitted");
    let again = transition(&amy, &fresh(&amy, &third), "ask_approval");
    assert_eq!(
        again.status, 202,
        "asked again after a rejection: {}",
        again.text
    );
}

/// The same in the web UI, in Chinese: the administrator saves a workflow (a broken one is
/// refused with its reason and the text kept), the rep sees the state and a button, asks for
/// approval; her manager approves on the record's page.
#[test]
fn the_record_page_shows_the_workflow_and_takes_decisions() {
    let s = TestServer::start();
    let admin = s.admin();
    expense_type(&admin);
    let (_, amy_id) = s.user("amy", "sales", "east");
    let (_, boss_id) = s.user("boss", "manager", "east");
    s.user("fin", "finance", "hq");
    let u = admin.get(&rec(&format!("user/{amy_id}"))).body;
    admin.patch_v(
        &rec(&format!("user/{amy_id}")),
        u["version"].as_i64().unwrap(),
        &json!({"manager": boss_id}),
    );
    let admin_ui = s.ui_login("admin", ADMIN_PASSWORD);
    let editor = admin_ui.get("/admin/workflows/expense", "zh-CN");
    assert_eq!(editor.status, 200);
    assert!(
        editor
            .text
            .contains("&quot;state_field&quot;: &quot;status&quot;")
            || editor.text.contains("\"state_field\": \"status\""),
        "an example from the type's select field: {}",
        editor.text
    );
    let broken = admin_ui.post(
        "/admin/workflows/expense",
        "zh-CN",
        &[(
            "definition",
            "{\"state_field\": \"title\", \"transitions\": []}",
        )],
    );
    assert_eq!(broken.status, 422, "{}", broken.text);
    assert!(
        broken.text.contains("不是适用于该类型的流程"),
        "{}",
        broken.text
    );
    let saved = admin_ui.post(
        "/admin/workflows/expense",
        "zh-CN",
        &[("definition", &workflow().to_string())],
    );
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(admin.get("/api/v1/workflows/expense").status == 200);

    let amy = s.ui_login("amy", USER_PASSWORD);
    let amy_api = s.login("amy", USER_PASSWORD);
    let e = amy_api.create("expense", json!({"title": "Fair", "amount": "8000"}));
    let path = format!("/e/expense/{}", e["id"]);
    let page = amy.get(&path, "zh-CN");
    assert!(
        page.text.contains("流程") && page.text.contains("data-transition=\"submit\""),
        "{}",
        page.text
    );
    let ui_transition = |name: &str, version: &str| {
        amy.post(
            &format!("{path}/transition/{name}"),
            "zh-CN",
            &[("version", version)],
        )
    };
    let r = ui_transition("submit", "1");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("data-transition=\"ask_approval\""),
        "{}",
        r.text
    );
    let stale = ui_transition("ask_approval", "1");
    assert_eq!(stale.status, 409, "an old version: {}", stale.text);
    assert!(stale.text.contains("流转未执行"), "{}", stale.text);
    let asked = ui_transition("ask_approval", "2");
    assert_eq!(asked.status, 200, "{}", asked.text);
    assert!(
        asked.text.contains("等待审批") && !asked.text.contains("name=\"decision\""),
        "{}",
        asked.text
    );

    let boss = s.ui_login("boss", USER_PASSWORD);
    let home = boss.get("/", "zh-CN");
    assert!(
        home.text.contains("待我审批") && home.text.contains("报销 · Fair"),
        "the dashboard lists it: {}",
        home.text
    );
    // His inbox says so, in Chinese, with a count in the header; reading it clears the count.
    let inbox = boss.get("/inbox", "zh-CN");
    assert!(
        inbox.text.contains("等待您审批") && inbox.text.contains("报销 · Fair"),
        "{}",
        inbox.text
    );
    assert!(inbox.text.contains("data-unread=\"1\""), "{}", inbox.text);
    let read = boss.post("/inbox/read", "zh-CN", &[]);
    assert!(read.text.contains("data-unread=\"0\""), "{}", read.text);
    let page = boss.get(&path, "zh-CN");
    assert!(
        page.text.contains("name=\"decision\" value=\"approve\""),
        "{}",
        page.text
    );
    let approval = amy_api
        .get(&rec(&format!("expense/{}/workflow", e["id"])))
        .body["pending"]["id"]
        .clone();
    let done = boss.post(
        &format!("{path}/approvals/{approval}"),
        "zh-CN",
        &[("decision", "approve"), ("comment", "同意")],
    );
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(
        done.text.contains("同意"),
        "the comment in the trail: {}",
        done.text
    );
    let wf = amy_api
        .get(&rec(&format!("expense/{}/workflow", e["id"])))
        .body;
    assert_eq!(wf["pending"]["step"], 1, "now finance's step: {wf}");
}

/// Parallel steps: `all` waits for every manager, `any` for one; the requester is never their
/// own approver unless the step allows it; a step nobody can decide is refused up front; a
/// delegate decides while the approver is away.
#[test]
fn parallel_steps_self_approval_and_steps_nobody_can_decide() {
    let s = TestServer::start();
    let admin = s.admin();
    expense_type(&admin);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (boss, boss_id) = s.user("boss", "manager", "east");
    let (boss2, boss2_id) = s.user("boss2", "manager", "west");
    let mut wf = workflow();
    wf["transitions"] = json!([
        {"name": "submit", "label": label("Submit", "提交"), "to": "submitted"},
        {"name": "all_managers", "label": label("All", "全体"), "from": ["submitted"], "to": "approved",
         "approval": [{"approvers": [{"role": "manager"}], "mode": "all"}]},
        {"name": "by_manager", "label": label("Manager", "上级"), "from": ["submitted"], "to": "approved",
         "approval": [{"approvers": ["owner_manager"]}]}
    ]);
    assert_eq!(admin.put("/api/v1/workflows/expense", &wf).status, 200);
    let decide = |c: &Client, id: &Value, d: &str| {
        c.post(
            &format!("/api/v1/approvals/{id}/decision"),
            &json!({"decision": d}),
        )
    };

    // All managers: boss, then boss2; the record moves only after both.
    let e = amy.create("expense", json!({"title": "A", "amount": "10"}));
    transition(&amy, &e, "submit");
    let asked = transition(&amy, &fresh(&amy, &e), "all_managers");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let id = asked.body["approval"]["id"].clone();
    assert_eq!(
        asked.body["approval"]["waiting_for"],
        json!([boss_id, boss2_id])
    );
    assert_eq!(decide(&boss, &id, "approve").body["status"], "pending");
    assert_eq!(decide(&boss, &id, "approve").status, 409, "once");
    assert_eq!(fresh(&amy, &e)["status"], "submitted");
    assert_eq!(decide(&boss2, &id, "approve").body["status"], "approved");
    assert_eq!(fresh(&amy, &e)["status"], "approved");

    // Both managers deciding at the same moment, again and again: never stuck half-way.
    for round in 0..6 {
        let e = amy.create(
            "expense",
            json!({"title": format!("R{round}"), "amount": "10"}),
        );
        transition(&amy, &e, "submit");
        let asked = transition(&amy, &fresh(&amy, &e), "all_managers");
        let id = asked.body["approval"]["id"].clone();
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let runs: Vec<_> = [&boss, &boss2]
                .into_iter()
                .map(|c| {
                    let id = id.clone();
                    scope.spawn(move || decide(c, &id, "approve").status)
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        // Taken one after the other under the writer: both count, and the step is done.
        assert_eq!(statuses, [200, 200], "round {round}");
        let w = amy.get(&rec(&format!("expense/{}/workflow", e["id"]))).body;
        assert!(w["pending"].is_null(), "round {round}: {w}");
        assert_eq!(fresh(&amy, &e)["status"], "approved", "round {round}: {w}");
    }

    // Amy has no manager: a step for the owner's manager has nobody, refused before asking.
    let e = amy.create("expense", json!({"title": "B", "amount": "10"}));
    transition(&amy, &e, "submit");
    let nobody = transition(&amy, &fresh(&amy, &e), "by_manager");
    assert_eq!(nobody.status, 422, "{}", nobody.text);
    assert!(nobody.text.contains("step 1"), "{}", nobody.text);

    // Boss asks himself: all managers but him; he may not decide his own request.
    let mine = boss.create("expense", json!({"title": "C", "amount": "10"}));
    transition(&boss, &mine, "submit");
    let asked = transition(&boss, &fresh(&boss, &mine), "all_managers");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let id = asked.body["approval"]["id"].clone();
    assert_eq!(asked.body["approval"]["waiting_for"], json!([boss2_id]));
    let own = decide(&boss, &id, "approve");
    assert_eq!(own.status, 422, "{}", own.text);
    assert!(own.text.contains("yourself"), "{}", own.text);
    // Boss2 goes away: amy decides for him meanwhile (a delegate who is not herself asking).
    let bad = boss2.put(
        "/api/v1/approvals/delegation",
        &json!({"delegate": boss2_id, "until": "2999-01-01"}),
    );
    assert_eq!(bad.status, 422, "not oneself: {}", bad.text);
    let past = boss2.put(
        "/api/v1/approvals/delegation",
        &json!({"delegate": amy_id, "until": "2000-01-01"}),
    );
    assert_eq!(past.status, 422, "{}", past.text);
    let away = boss2.put(
        "/api/v1/approvals/delegation",
        &json!({"delegate": amy_id, "until": "2999-01-01"}),
    );
    assert_eq!(away.status, 200, "{}", away.text);
    let amy_waits = amy.get("/api/v1/approvals").body;
    assert_eq!(amy_waits["items"][0]["id"], id, "{amy_waits}");
    let no = decide(&amy, &id, "reject");
    assert_eq!(no.body["status"], "rejected", "{}", no.text);
    assert_eq!(
        boss2.delete_v("/api/v1/approvals/delegation", 0).status,
        204
    );
    assert_eq!(fresh(&boss, &mine)["status"], "submitted");
    assert!(boss2.get("/api/v1/approvals").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Attacks from a review: one write cannot make its writer eligible (a user field or the owner
/// changed with the state); a delegate never decides their own request, stops when the
/// delegation ends, and in an `all` step stands in for the one away rather than adding a vote;
/// an approver who does not exist is refused up front.
#[test]
fn writes_cannot_make_their_writer_eligible_and_delegates_stay_in_their_lane() {
    let s = TestServer::start();
    let admin = s.admin();
    expense_type(&admin);
    let (amy, amy_id) = s.user("amy", "sales", "east");
    let (boss, boss_id) = s.user("boss", "manager", "east");
    let (boss2, boss2_id) = s.user("boss2", "manager", "west");
    let (carl, carl_id) = s.user("carl", "sales", "west");
    let (_, ghost_id) = s.user("ghost", "sales", "west");
    let mut wf = workflow();
    wf["states"] = json!({});
    wf["transitions"] = json!([
        {"name": "submit", "label": label("Submit", "提交"), "from": ["draft"], "to": "submitted", "who": ["owner"]},
        {"name": "review_ok", "label": label("OK", "通过"), "from": ["submitted"], "to": "approved",
         "who": [{"user_field": "reviewer"}]},
        {"name": "ask_boss", "label": label("Boss", "上级"), "from": ["submitted"], "to": "approved",
         "approval": [{"approvers": [{"user": boss_id}]}]},
        {"name": "ask_both", "label": label("Both", "两位"), "from": ["submitted"], "to": "approved",
         "approval": [{"approvers": [{"user": boss_id}, {"user": boss2_id}], "mode": "all"}]},
        {"name": "ask_ghost", "label": label("Ghost", "无人"), "from": ["submitted"], "to": "approved",
         "approval": [{"approvers": [{"user": ghost_id}]}]}
    ]);
    // Nobody by that id: refused when the workflow is saved.
    let mut nobody = wf.clone();
    nobody["transitions"][4]["approval"][0]["approvers"][0]["user"] = json!(99999);
    let refused = admin.put("/api/v1/workflows/expense", &nobody);
    assert_eq!(refused.status, 422, "{}", refused.text);
    let set = admin.put("/api/v1/workflows/expense", &wf);
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(
        amy.get("/api/v1/workflows").status,
        403,
        "definitions are for administrators"
    );
    let patch = |c: &Client, r: &Value, body: Value| {
        c.patch_v(
            &rec(&format!("expense/{}", r["id"])),
            r["version"].as_i64().unwrap(),
            &body,
        )
    };
    let decide = |c: &Client, id: &Value, d: &str| {
        c.post(
            &format!("/api/v1/approvals/{id}/decision"),
            &json!({"decision": d}),
        )
    };

    // Naming herself reviewer in the same write that approves: refused, nothing written.
    let e = amy.create("expense", json!({"title": "A", "amount": "10"}));
    assert_eq!(transition(&amy, &e, "submit").status, 200);
    let e = fresh(&amy, &e);
    let sneaky = patch(&amy, &e, json!({"reviewer": amy_id, "status": "approved"}));
    assert_eq!(sneaky.status, 422, "{}", sneaky.text);
    let e = fresh(&amy, &e);
    assert_eq!(
        (&e["status"], &e["reviewer"]),
        (&json!("submitted"), &Value::Null)
    );
    // Taking a draft over and submitting it in one write: refused too.
    let d = amy.create("expense", json!({"title": "D", "amount": "10"}));
    let grab = patch(&boss, &d, json!({"owner": boss_id, "status": "submitted"}));
    assert_eq!(grab.status, 422, "{}", grab.text);

    // An approver who has left (deactivated since): refused before anything waits for nobody.
    let g = admin.get(&rec(&format!("user/{ghost_id}"))).body;
    let left = admin.patch_v(
        &rec(&format!("user/{ghost_id}")),
        g["version"].as_i64().unwrap(),
        &json!({"active": false}),
    );
    assert_eq!(left.status, 200, "{}", left.text);
    let ghost = transition(&amy, &e, "ask_ghost");
    assert_eq!(ghost.status, 422, "{}", ghost.text);

    // Boss delegates to amy, who asked: she never decides her own request.
    let asked = transition(&amy, &e, "ask_boss");
    assert_eq!(asked.status, 202, "{}", asked.text);
    let id = asked.body["approval"]["id"].clone();
    let delegate = |to: i64| {
        let r = boss.put(
            "/api/v1/approvals/delegation",
            &json!({"delegate": to, "until": "2999-01-01"}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    };
    delegate(amy_id);
    assert!(amy.get("/api/v1/approvals").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(decide(&amy, &id, "approve").status, 422);
    // To carl instead; ended, he decides nothing.
    delegate(carl_id);
    assert_eq!(carl.get("/api/v1/approvals").body["items"][0]["id"], id);
    assert_eq!(boss.delete_v("/api/v1/approvals/delegation", 0).status, 204);
    assert!(carl.get("/api/v1/approvals").body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(decide(&carl, &id, "reject").status, 422);
    assert_eq!(decide(&boss, &id, "approve").body["status"], "approved");

    // An `all` step with boss away (carl stands in): boss's own approval settles his part, so
    // carl has nothing left to overrule; boss2's completes the step.
    let e = amy.create("expense", json!({"title": "B", "amount": "10"}));
    transition(&amy, &e, "submit");
    delegate(carl_id);
    let asked = transition(&amy, &fresh(&amy, &e), "ask_both");
    let id = asked.body["approval"]["id"].clone();
    assert_eq!(
        asked.body["approval"]["waiting_for"],
        json!([boss_id, boss2_id, carl_id])
    );
    assert_eq!(
        decide(&boss, &id, "approve").body["waiting_for"],
        json!([boss2_id])
    );
    assert_eq!(
        decide(&carl, &id, "reject").status,
        422,
        "boss has decided his part"
    );
    // Carl cannot read amy's expense: his notification names it by number, not by its title.
    let note = carl.get("/api/v1/notifications").body;
    assert!(note["items"][0]["params"]["title"].is_null(), "{note}");
    assert_eq!(note["items"][0]["params"]["id"], e["id"], "{note}");
    let carl_ui = s.ui_login("carl", USER_PASSWORD);
    let inbox = carl_ui.get("/inbox", "en");
    assert!(
        inbox.text.contains(&format!("Expense · #{}", e["id"]))
            && !inbox.text.contains("Expense · B"),
        "{}",
        inbox.text
    );
    assert_eq!(decide(&boss2, &id, "approve").body["status"], "approved");
    assert_eq!(fresh(&amy, &e)["status"], "approved");
}
