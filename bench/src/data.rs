//! A generator of realistic customers: Chinese and Latin names, skewed owners, dates over
//! years, a custom decimal and a custom date field — written straight into the store.

use qingguan_core::{Access, FieldDef, FieldType, NewUser};
use qingguan_tests::TestServer;
use serde_json::json;

/// Adds the custom fields and the owners the generator uses.
pub fn prepare(server: &TestServer) -> anyhow::Result<()> {
    let store = &server.store;
    let system = Access::system();
    store.add_field(
        &system,
        "customer",
        &FieldDef::new("signed_on", FieldType::Date, "Signed on", "签约日期"),
    )?;
    store.add_field(
        &system,
        "customer",
        &FieldDef::new("revenue", FieldType::Decimal, "Revenue", "营收"),
    )?;
    // 50 reps in five teams: the deals' owners and the people appraisal scores.
    for i in 0..50 {
        store.create_user(
            &system,
            &NewUser {
                username: format!("rep{i}"),
                display_name: Some(format!("Rep {i}")),
                password: "bench-password".into(),
                invite: false,
                role: "sales".into(),
                team: Some(["east", "west", "north", "south", "central"][i % 5].into()),
                manager: None,
                email: None,
                locale: None,
            },
            true,
        )?;
    }
    Ok(())
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub(crate) const CITIES: &[&str] = &[
    "杭州", "上海", "苏州", "宁波", "南京", "深圳", "广州", "成都", "武汉", "青岛",
];
pub(crate) const WORDS: &[&str] = &[
    "恒信", "华达", "宏远", "鑫源", "瑞丰", "天成", "金桥", "博创", "嘉禾", "永泰",
];
pub(crate) const TRADES: &[&str] = &["科技", "贸易", "机械", "食品", "建材", "服饰"];
pub(crate) const LATIN: &[&str] = &[
    "Northwind",
    "Bluehill",
    "Evergreen",
    "Summit",
    "Harbor",
    "Pioneer",
    "Smith & Sons",
    "Redwood",
];

/// Grows the customer table from `from` to `to` records.
pub fn seed(server: &TestServer, from: usize, to: usize) -> anyhow::Result<()> {
    let store = &server.store;
    let system = Access::system();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ from as u64);
    let industries = [
        "retail",
        "technology",
        "manufacturing",
        "food",
        "services",
        "wholesale",
    ];
    let statuses = ["lead", "customer", "customer", "inactive"];
    crate::in_batches(store, from..to, |i| {
        let name = if rng.below(4) == 0 {
            format!(
                "{} {} {i}",
                LATIN[rng.below(LATIN.len() as u64) as usize],
                ["Trading", "Foods", "Systems"][rng.below(3) as usize]
            )
        } else {
            format!(
                "{}{}{}有限公司{i}",
                CITIES[rng.below(CITIES.len() as u64) as usize],
                WORDS[rng.below(WORDS.len() as u64) as usize],
                TRADES[rng.below(TRADES.len() as u64) as usize]
            )
        };
        // Skewed owners: rep k owns roughly 1/(k+1) as much as rep 0.
        let mut owner = 2;
        let r = rng.below(1000);
        let mut acc = 0;
        for k in 0..20u64 {
            acc += 1000 / (k + 2) / 2;
            if r < acc {
                owner = 2 + k as i64;
                break;
            }
        }
        let days = rng.below(5 * 365);
        let date = chrono_like(days);
        let v = json!({
            "name": name,
            "kind": if rng.below(8) == 0 { "person" } else { "company" },
            "status": statuses[rng.below(4) as usize],
            "industry": industries[rng.below(6) as usize],
            "phone": format!("+86 13{} {:04} {:04}", rng.below(10), rng.below(10000), rng.below(10000)),
            "signed_on": date,
            "revenue": format!("{}.{:02}", rng.below(200_000), rng.below(100)),
            "owner": owner,
        });
        store.create(&system, "customer", v.as_object().expect("object"))?;
        Ok(())
    })
}

/// A date `days` after 2021-01-01, as YYYY-MM-DD.
fn chrono_like(days: u64) -> String {
    let month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut year = 2021;
    let mut d = days as i64;
    loop {
        let len = if year % 4 == 0 { 366 } else { 365 };
        if d < len {
            break;
        }
        d -= len;
        year += 1;
    }
    let mut month = 0;
    loop {
        let len = month_days[month] + i64::from(month == 1 && year % 4 == 0);
        if d < len {
            break;
        }
        d -= len;
        month += 1;
    }
    format!("{year}-{:02}-{:02}", month + 1, d + 1)
}
