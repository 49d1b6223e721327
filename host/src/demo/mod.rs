//! The demo company: users for every role, ~200 customers with contacts, spread over owners;
//! then sales data and appraisal cycles made through the first-party plugins.

mod appraisal;
mod finance;
mod inventory;
mod oa;
mod workflows;

pub use appraisal::seed_appraisal;
pub use finance::seed_finance;
pub use inventory::seed_inventory;
pub use oa::seed_oa;
pub use workflows::seed_workflows;

use qingguan_core::{Access, ListQuery, NewUser, Result, Store};
use serde_json::{json, Map, Value};

/// Demo logins: username, password, role. The demo only: `serve` has no default password.
pub const LOGINS: &[(&str, &str, &str)] = &[
    ("admin", "admin", "admin — everything, Studio, users"),
    ("manager", "manager", "manager — team 东区's records"),
    ("sales", "sales", "sales — own customers"),
    ("hr", "hr", "hr — users and appraisal"),
    ("finance", "finance", "finance — read everything"),
];

/// Further sales reps, so that lists and rankings have several owners.
const REPS: &[(&str, &str, &str)] = &[("wang.fang", "王芳", "东区"), ("li.lei", "李雷", "西区")];

/// A small deterministic generator, so every demo looks the same.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const CITIES: &[&str] = &[
    "杭州", "上海", "苏州", "宁波", "南京", "深圳", "广州", "成都", "武汉", "青岛",
];
const WORDS: &[&str] = &[
    "恒信", "华达", "宏远", "鑫源", "瑞丰", "天成", "金桥", "博创", "嘉禾", "永泰", "明辉", "众联",
];
const TRADES: &[(&str, &str)] = &[
    ("科技", "technology"),
    ("贸易", "wholesale"),
    ("机械", "manufacturing"),
    ("食品", "food"),
    ("建材", "construction"),
    ("服饰", "retail"),
    ("咨询", "services"),
];
const LATIN: &[&str] = &[
    "Northwind",
    "Bluehill",
    "Evergreen",
    "Summit",
    "Harbor",
    "Pioneer",
    "Silverline",
    "Redwood",
];
const LATIN_KIND: &[(&str, &str)] = &[
    ("Trading", "wholesale"),
    ("Foods", "food"),
    ("Systems", "technology"),
    ("Machinery", "manufacturing"),
    ("Retail", "retail"),
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "婷", "强", "丽",
];
const FIRST: &[&str] = &[
    "Anna", "Ben", "Chloe", "David", "Emma", "Frank", "Grace", "Henry",
];
const LAST: &[&str] = &["Smith", "Miller", "Chen", "Garcia", "Brown", "Wilson"];
const TITLES: &[&str] = &[
    "总经理",
    "采购经理",
    "财务主管",
    "采购总监",
    "CEO",
    "技术总监",
];

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// Seeds the demo company unless the install already has users. Returns whether it seeded.
pub fn seed_if_empty(store: &Store) -> Result<bool> {
    if store.user_count()? > 0 {
        return Ok(false);
    }
    seed(store, 200)?;
    Ok(true)
}

/// Creates the demo users and `customers` customers with one to three contacts each.
pub fn seed(store: &Store, customers: usize) -> Result<()> {
    // A Chinese company: Chinese for whoever's browser names neither language.
    store.set_default_locale(qingguan_core::Locale::ZhCn)?;
    // The demo company is in China: times read in UTC+8.
    store.set_time_zone(480)?;
    let system = Access::system();
    // What a unit of the currencies its customers pay in is worth in yuan.
    for (code, rate) in [
        ("USD", "7.1"),
        ("EUR", "7.8"),
        ("HKD", "0.91"),
        ("JPY", "0.048"),
    ] {
        store.create(
            &system,
            qingguan_core::schema::EXCHANGE_RATE,
            serde_json::json!({"currency": code, "rate": rate})
                .as_object()
                .expect("an object"),
        )?;
    }
    let mut ids = std::collections::HashMap::new();
    let people = [
        ("admin", "管理员", "admin", "总部"),
        ("manager", "陈静", "manager", "东区"),
        ("sales", "张伟", "sales", "东区"),
        ("hr", "刘洋", "hr", "总部"),
        ("finance", "赵敏", "finance", "总部"),
    ];
    for (username, name, role, team) in people {
        let r = store.create_user(
            &system,
            &NewUser {
                username: username.into(),
                display_name: Some(name.into()),
                password: username.into(),
                invite: false,
                role: role.into(),
                team: Some(team.into()),
                manager: ids.get("manager").copied().filter(|_| role == "sales"),
                email: Some(format!("{username}@demo.qingguan.example")),
                locale: None,
            },
            true,
        )?;
        ids.insert(username, r.id);
    }
    for (username, name, team) in REPS {
        let r = store.create_user(
            &system,
            &NewUser {
                username: (*username).into(),
                display_name: Some((*name).into()),
                password: "sales".into(),
                invite: false,
                role: "sales".into(),
                team: Some((*team).into()),
                manager: ids.get("manager").copied(),
                email: Some(format!("{username}@demo.qingguan.example")),
                locale: Some("zh-CN".into()),
            },
            true,
        )?;
        ids.insert(username, r.id);
    }
    // Skewed ownership: the top rep owns the most.
    let owners = [
        ids["sales"],
        ids["sales"],
        ids["sales"],
        ids["wang.fang"],
        ids["wang.fang"],
        ids["li.lei"],
        ids["manager"],
    ];
    let mut rng = Rng(20261127);
    for i in 0..customers {
        let (name, industry, latin) = if rng.below(4) == 0 {
            let (kind, ind) = rng.pick(LATIN_KIND);
            (format!("{} {kind} {}", rng.pick(LATIN), i), *ind, true)
        } else {
            let (trade, ind) = rng.pick(TRADES);
            (
                format!(
                    "{}{}{}{}有限公司",
                    rng.pick(CITIES),
                    rng.pick(WORDS),
                    trade,
                    ["", "第二", "新"][i % 3]
                ),
                *ind,
                false,
            )
        };
        let status = [
            "lead", "lead", "customer", "customer", "customer", "inactive",
        ][rng.below(6)];
        let source = [
            "referral",
            "website",
            "exhibition",
            "cold_call",
            "advertising",
        ][rng.below(5)];
        let owner = owners[rng.below(owners.len())];
        let mut v = json!({
            "name": name,
            "kind": if rng.below(8) == 0 { "person" } else { "company" },
            "status": status,
            "industry": industry,
            "source": source,
            "phone": format!("+86 1{:02} {:04} {:04}", 30 + rng.below(60), rng.below(10000), rng.below(10000)),
            "address": if latin { format!("{} Harbour Road", 1 + rng.below(300)) } else { format!("{}市{}路{}号", rng.pick(CITIES), rng.pick(WORDS), 1 + rng.below(300)) },
            "owner": owner,
        });
        if rng.below(3) == 0 {
            let tag = ["vip", "key_account", "new", "at_risk"][rng.below(4)];
            v["tags"] = json!([tag]);
        }
        if rng.below(2) == 0 {
            v["email"] = json!(format!("info{i}@customer{i}.example"));
        }
        let c = store.create(&system, "customer", &obj(v))?;
        for _ in 0..1 + rng.below(3) {
            let person = if latin {
                format!("{} {}", rng.pick(FIRST), rng.pick(LAST))
            } else {
                format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
            };
            store.create(
                &system,
                "contact",
                &obj(json!({
                    "name": person,
                    "customer": c.id,
                    "title": rng.pick(TITLES),
                    "phone": format!("+86 139 {:04} {:04}", rng.below(10000), rng.below(10000)),
                    "owner": owner,
                })),
            )?;
        }
    }
    Ok(())
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

const PRODUCTS: [&str; 5] = ["ERP", "设备采购", "年度框架", "Renewal", "咨询服务"];

/// Deals, follow-ups and targets spread over the last twelve months (the sales plugin's
/// hooks check every one of them).
pub fn seed_sales(store: &Store) -> Result<()> {
    let system = Access::system();
    let customers = store
        .list(
            &system,
            "customer",
            &ListQuery::from_pairs([("limit", "200"), ("sort", "id")])?,
        )?
        .items;
    let reps: Vec<i64> = ["sales", "wang.fang", "li.lei", "manager"]
        .iter()
        .filter_map(|u| store.user_id(u).ok().flatten())
        .collect();
    let mut rng = Rng(77_712_026);
    let open_stages = ["lead", "qualified", "proposal", "negotiation"];
    for (n, c) in customers.iter().enumerate() {
        let owner = c.owner.unwrap_or(reps[n % reps.len()]);
        for k in 0..1 + rng.below(3) {
            let opened = -(rng.below(360) as i64) - 5;
            let roll = rng.below(10);
            let amount = format!("{}.00", (5 + rng.below(300)) * 1000);
            let source =
                ["referral", "website", "exhibition", "cold_call", "existing"][rng.below(5)];
            let mut v = json!({
                "title": format!("{} · {}", c.get("name").to_text(), PRODUCTS[(n + k) % 5]),
                "customer": c.id,
                "amount": amount,
                "opened_on": day(opened),
                "expected_close": day(opened + 30 + rng.below(60) as i64),
                "source": source,
                "owner": owner,
            });
            let close = (opened + 5 + rng.below(80) as i64).min(-1);
            if roll < 4 {
                v["stage"] = json!("won");
                v["closed_on"] = json!(day(close));
            } else if roll < 6 {
                v["stage"] = json!("lost");
                let reason = ["price", "competitor", "no_budget", "no_decision"][rng.below(4)];
                v["lost_reason"] = json!(reason);
                v["closed_on"] = json!(day(close));
            } else {
                v["stage"] = json!(open_stages[rng.below(4)]);
            }
            let deal = store.create(&system, "deal", &obj(v))?;
            for f in 0..1 + rng.below(3) {
                let happened = (opened + 3 * f as i64 + rng.below(20) as i64).min(0);
                let next = happened + 7 + rng.below(30) as i64;
                let subject = [
                    "电话沟通需求",
                    "上门拜访",
                    "方案演示",
                    "发送报价单",
                    "微信跟进",
                ][(n + f) % 5];
                let kind = ["call", "visit", "meeting", "message", "note"][rng.below(5)];
                store.create(
                    &system,
                    "followup",
                    &obj(json!({
                        "subject": subject,
                        "kind": kind,
                        "customer": c.id,
                        "deal": deal.id,
                        "happened_on": day(happened),
                        "outcome": "客户有兴趣，需要进一步报价",
                        "next_on": day(next),
                        "done": next < -10,
                        "owner": owner,
                    })),
                )?;
            }
        }
    }
    let this_month = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-01")
        .to_string();
    for (i, rep) in reps.iter().enumerate() {
        store.create(
            &system,
            "sales_target",
            &obj(json!({"person": rep, "period": "month", "starts_on": this_month, "amount": format!("{}.00", 200_000 + 50_000 * i), "owner": rep})),
        )?;
    }
    Ok(())
}
