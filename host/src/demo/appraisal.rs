//! Demo appraisal data, made through the appraisal plugin exactly as users would: HR sets up
//! job profiles and cycles, managers propose targets, people accept (one objects first),
//! raters submit 360° ratings, scores close, feedback is recorded. The last quarter ends
//! closed with scores and bonus; the current quarter is being appraised, with live actuals.

use anyhow::{anyhow, Context};
use chrono::{Datelike, NaiveDate};
use qingguan_core::{Access, ListQuery, Record, Store};
use qingguan_runtime::CallCtx;
use qingguan_runtime::PluginManager;
use serde_json::{json, Value};

/// Calls one of the appraisal plugin's POST routes as a user, the way the web UI does.
fn post(
    plugins: &PluginManager,
    store: &Store,
    user: i64,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let ctx = CallCtx::for_user(store, user)?;
    plugins
        .calls()
        .call_json("appraisal", "POST", path, &body, ctx)
        .map_err(|e| anyhow!("appraisal {path}: {e}"))
}

fn create(store: &Store, entity: &str, v: Value) -> anyhow::Result<Record> {
    let Value::Object(m) = v else {
        unreachable!("demo records are objects")
    };
    store
        .create(&Access::system(), entity, &m)
        .with_context(|| format!("creating a demo {entity}"))
}

fn list(store: &Store, entity: &str, pairs: &[(&str, &str)]) -> anyhow::Result<Vec<Record>> {
    let mut q: Vec<(&str, &str)> = pairs.to_vec();
    q.push(("limit", "200"));
    q.push(("sort", "id"));
    Ok(store
        .list(&Access::system(), entity, &ListQuery::from_pairs(q)?)?
        .items)
}

fn quarter_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap_or(d)
}

/// Seeds job profiles, a closed last quarter and a running current quarter.
pub fn seed_appraisal(store: &Store, plugins: &PluginManager) -> anyhow::Result<()> {
    let id = |u: &str| -> anyhow::Result<i64> {
        store
            .user_id(u)?
            .ok_or_else(|| anyhow!("demo user {u} is missing"))
    };
    let hr = id("hr")?;
    let rep = create(
        store,
        "job_profile",
        json!({
            "name": "销售代表", "roles": "sales", "kpi_weight": 70,
            "manager_weight": 50, "peer_weight": 20, "self_weight": 10, "subordinate_weight": 20,
            "responsibilities": "开发新客户、推进商机、按时跟进。",
        }),
    )?;
    for (name, w, source, rule, extra) in [
        (
            "赢单金额",
            40,
            "sales/won_revenue",
            "linear",
            json!({"cap": 120}),
        ),
        (
            "回款率",
            10,
            "finance/collection_rate",
            "linear",
            json!({"cap": 110, "default_target": "90"}),
        ),
        (
            "新客户",
            20,
            "sales/new_customers",
            "bands",
            json!({"bands": "50:60, 80:80, 100:100, 130:120", "default_target": "8"}),
        ),
        (
            "跟进次数",
            15,
            "sales/followups",
            "linear",
            json!({"cap": 110, "default_target": "60"}),
        ),
        (
            "客户满意度",
            15,
            "manual",
            "linear",
            json!({"cap": 110, "default_target": "90"}),
        ),
    ] {
        let mut v = json!({"profile": rep.id, "name": name, "weight": w, "source": source, "rule": rule, "default_target": "100000"});
        for (k, x) in extra.as_object().into_iter().flatten() {
            v[k] = x.clone();
        }
        create(store, "kpi", v)?;
    }
    for (name, w) in [("工作态度", 40), ("团队协作", 30), ("学习成长", 30)] {
        create(
            store,
            "quality_item",
            json!({"profile": rep.id, "name": name, "weight": w}),
        )?;
    }
    let lead = create(
        store,
        "job_profile",
        json!({
            "name": "销售经理", "roles": "manager", "kpi_weight": 60,
            "manager_weight": 50, "peer_weight": 0, "self_weight": 10, "subordinate_weight": 40,
            "responsibilities": "带领团队完成业绩、辅导下属。",
        }),
    )?;
    for v in [
        json!({"name": "团队赢单金额", "weight": 50, "source": "sales/won_revenue", "scope": "team", "rule": "linear", "cap": 120}),
        json!({"name": "团队业绩增长", "weight": 20, "source": "sales/won_revenue", "scope": "team", "rule": "plugin", "rule_plugin": "growth_rule/score", "cap": 150, "default_target": "1"}),
        json!({"name": "团队赢单率", "weight": 30, "source": "sales/win_rate", "scope": "team", "rule": "bands", "bands": "80:60, 95:90, 100:100, 110:120", "default_target": "60"}),
    ] {
        let mut v = v;
        v["profile"] = json!(lead.id);
        create(store, "kpi", v)?;
    }
    for (name, w) in [("领导力", 50), ("辅导下属", 50)] {
        create(
            store,
            "quality_item",
            json!({"profile": lead.id, "name": name, "weight": w}),
        )?;
    }
    let today = chrono::Utc::now().date_naive();
    let current = quarter_start(today);
    let last = quarter_start(current - chrono::Duration::days(1));
    let label = |d: NaiveDate| format!("{} Q{} 季度考核", d.year(), d.month0() / 3 + 1);
    let cycle_op = |cycle: i64, op: &str| {
        post(
            plugins,
            store,
            hr,
            "/cycle",
            // Closing the scores asks for a confirmation (the demo's last quarter has ended).
            json!({"cycle": cycle, "op": op, "confirm": "yes"}),
        )
    };
    // Last quarter: the whole cycle.
    let c1 = cycle(
        store,
        plugins,
        hr,
        &label(last),
        last,
        "6500000",
        &[("东区", "5000000"), ("西区", "1500000")],
    )?;
    agree(store, plugins, hr, c1, true)?;
    cycle_op(c1, "advance")?;
    appraise(store, plugins, hr, c1, true)?;
    cycle_op(c1, "advance")?;
    for a in list(store, "appraisal", &[("cycle", &c1.to_string())])? {
        let by = a.get("manager").to_json().as_i64().unwrap_or(hr);
        post(
            plugins,
            store,
            by,
            "/feedback",
            json!({
                "appraisal": a.id, "feedback_on": (current - chrono::Duration::days(20)).to_string(),
                "feedback": "回顾了季度数据：赢单金额与跟进次数；讨论了新客户开发。",
                "item_1": "每周新增两家目标客户", "due_1": (current + chrono::Duration::days(45)).to_string(),
            }),
        )?;
    }
    cycle_op(c1, "advance")?;
    cycle_op(c1, "advance")?;
    // This quarter: targets agreed (one after an objection), being appraised.
    let c2 = cycle(
        store,
        plugins,
        hr,
        &label(current),
        current,
        "9000000",
        &[("东区", "7000000"), ("西区", "2000000")],
    )?;
    agree(store, plugins, hr, c2, false)?;
    cycle_op(c2, "advance")?;
    appraise(store, plugins, hr, c2, false)?;
    cycle_op(c2, "compute")?;
    Ok(())
}

fn cycle(
    store: &Store,
    plugins: &PluginManager,
    hr: i64,
    name: &str,
    start: NaiveDate,
    company: &str,
    teams: &[(&str, &str)],
) -> anyhow::Result<i64> {
    let c = create(
        store,
        "appraisal_cycle",
        json!({"name": name, "period": "quarter", "starts_on": start.to_string()}),
    )?;
    create(
        store,
        "cycle_target",
        json!({"cycle": c.id, "source": "sales/won_revenue", "target": company}),
    )?;
    for (team, target) in teams {
        create(
            store,
            "cycle_target",
            json!({"cycle": c.id, "team": team, "source": "sales/won_revenue", "target": target}),
        )?;
    }
    post(
        plugins,
        store,
        hr,
        "/cycle",
        json!({"cycle": c.id, "op": "start"}),
    )?;
    let system = Access::system();
    for a in list(store, "appraisal", &[("cycle", &c.id.to_string())])? {
        let base = if a.get("team").to_text() == "东区"
            && a.get("manager").to_json().as_i64().is_none()
        {
            "20000"
        } else {
            "10000"
        };
        let mut patch = serde_json::Map::new();
        patch.insert("bonus_base".into(), json!(base));
        store.update(&system, "appraisal", a.id, a.version, &patch)?;
    }
    Ok(c.id)
}

/// Managers propose the cascaded targets; people accept; in the current cycle one person
/// objects first and the manager revises.
fn agree(
    store: &Store,
    plugins: &PluginManager,
    hr: i64,
    cycle: i64,
    closed: bool,
) -> anyhow::Result<()> {
    for (n, a) in list(store, "appraisal", &[("cycle", &cycle.to_string())])?
        .into_iter()
        .enumerate()
    {
        let by = a.get("manager").to_json().as_i64().unwrap_or(hr);
        let person = a.get("person").to_json().as_i64().unwrap_or(0);
        let targets = list(
            store,
            "appraisal_target",
            &[("appraisal", &a.id.to_string())],
        )?;
        let mut body = json!({"appraisal": a.id, "comment": "按公司与团队目标分解"});
        for t in &targets {
            body[format!("target_{}", t.id)] = json!(t.get("target").to_text());
        }
        post(plugins, store, by, "/targets", body.clone())?;
        if !closed && n == 1 {
            post(
                plugins,
                store,
                person,
                "/respond",
                json!({"appraisal": a.id, "decision": "object",
                "comment": "新客户目标偏高，本季度有两个大客户续约",
                "resources": "需要一名售前支持，为期两周"}),
            )?;
            for t in &targets {
                if t.get("source").to_text() == "sales/new_customers" {
                    body[format!("target_{}", t.id)] = json!("6");
                }
            }
            body["comment"] = json!("新客户目标调整为6");
            post(plugins, store, by, "/targets", body)?;
        }
        post(
            plugins,
            store,
            person,
            "/respond",
            json!({"appraisal": a.id, "decision": "accept"}),
        )?;
    }
    Ok(())
}

/// Manual actuals and 360° ratings: everyone who may rate someone does (in the current
/// cycle only the self-ratings are in so far).
fn appraise(
    store: &Store,
    plugins: &PluginManager,
    hr: i64,
    cycle: i64,
    all: bool,
) -> anyhow::Result<()> {
    let appraisals = list(store, "appraisal", &[("cycle", &cycle.to_string())])?;
    let raters: Vec<i64> = ["sales", "wang.fang", "li.lei", "manager", "hr"]
        .iter()
        .filter_map(|u| store.user_id(u).ok().flatten())
        .collect();
    for (n, a) in appraisals.iter().enumerate() {
        let by = a.get("manager").to_json().as_i64().unwrap_or(hr);
        // Rating items are keyed by their id, in the order HR created them.
        let items = match a.get("profile").to_json().as_i64() {
            Some(p) => list(store, "quality_item", &[("profile", &p.to_string())])?,
            None => Vec::new(),
        };
        let mut body = json!({"appraisal": a.id});
        for t in list(
            store,
            "appraisal_target",
            &[("appraisal", &a.id.to_string())],
        )? {
            if t.get("source").to_text() == "manual" {
                body[format!("actual_{}", t.id)] = json!(format!("{}", 84 + (n * 5) % 17));
            }
        }
        post(plugins, store, by, "/actuals", body)?;
        for (k, r) in raters.iter().enumerate() {
            for group in ["self", "manager", "peer", "subordinate"] {
                if !all && group != "self" {
                    continue;
                }
                let mut body = json!({"appraisal": a.id, "group": group, "comment": "认真负责"});
                for (i, item) in items.iter().enumerate() {
                    body[format!("score_{}", item.id)] = json!(3 + (n + k + i) % 3);
                }
                // Only the combinations the plugin accepts are meant to succeed.
                let _ = post(plugins, store, *r, "/rate", body);
            }
        }
    }
    Ok(())
}
