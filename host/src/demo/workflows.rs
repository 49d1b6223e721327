//! The demo's workflow on deals: stages move freely while a deal is open, a deal up to ¥100,000
//! is won by whoever works it, a larger one only once the owner's manager approves, and a
//! closed deal is reopened by a manager — enough to see approvals at work on real data.

use qingguan_core::{Access, Store};
use serde_json::json;

/// Sets the deal workflow (as the first administrator).
pub fn seed_workflows(store: &Store) -> anyhow::Result<()> {
    let admin = store
        .user_id("admin")?
        .ok_or_else(|| anyhow::anyhow!("the demo has no admin"))?;
    let (access, _): (Access, _) = store.access_for(admin)?;
    let open = ["lead", "qualified", "proposal", "negotiation"];
    let label = |en: &str, zh: &str| json!({"en": en, "zh-CN": zh});
    let mut transitions: Vec<serde_json::Value> = [
        ("lead", "Back to lead", "退回初步接触"),
        ("qualified", "Qualified", "需求确认"),
        ("proposal", "Send proposal", "方案报价"),
        ("negotiation", "Negotiate", "进入商务谈判"),
    ]
    .iter()
    .map(|(to, en, zh)| json!({"name": format!("to_{to}"), "label": label(en, zh), "from": open, "to": to}))
    .collect();
    transitions.extend([
        json!({"name": "win", "label": label("Win", "赢单"), "from": open, "to": "won",
               "when": {"field": "amount", "op": "lte", "value": 100000}}),
        json!({"name": "win_big", "label": label("Win (manager approves)", "赢单（上级审批）"),
               "from": open, "to": "won", "who": ["owner"],
               "when": {"field": "amount", "op": "gt", "value": 100000},
               "approval": [{"approvers": ["owner_manager"]}]}),
        json!({"name": "lose", "label": label("Lose", "输单"), "from": open, "to": "lost"}),
        json!({"name": "reopen", "label": label("Reopen", "重新打开"), "from": ["won", "lost"],
               "to": "negotiation", "who": [{"role": "manager"}, {"role": "admin"}]}),
    ]);
    store.set_workflow(
        &access,
        "deal",
        &json!({"state_field": "stage", "initial": "lead", "transitions": transitions,
            // A closed deal's figures stay what they were closed with (else a won deal could
            // grow past the approval threshold after winning below it).
            "states": {"won": {"locked": ["amount", "customer", "closed_on"]},
                       "lost": {"locked": ["amount", "customer"]}}}),
    )?;
    Ok(())
}
