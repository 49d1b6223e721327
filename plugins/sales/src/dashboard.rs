//! The sales dashboard (an HTML fragment with SVG charts) and targets versus actuals. Both
//! show only what the signed-in user may see.

use crate::metrics::{self, Scope};
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{json, Decimal, Record, Result, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

use qingguan_plugin_sdk::html::{bars, escape as esc};

fn zh() -> bool {
    host::context().locale == "zh-CN"
}

fn t<'a>(en: &'a str, zh_text: &'a str) -> &'a str {
    if zh() {
        zh_text
    } else {
        en
    }
}

fn amount(d: &Record) -> f64 {
    d.decimal("amount")
        .map(|a| a.to_string().parse::<f64>().unwrap_or(0.0))
        .unwrap_or(0.0)
}

fn money(v: f64) -> String {
    // An empty sum is -0.0; show it as 0.
    let v = v + 0.0;
    if v >= 10_000.0 {
        format!("{:.1}万", v / 10_000.0)
    } else {
        format!("{v:.0}")
    }
}

/// Vertical bars by month.
fn columns(title: &str, rows: &[(String, f64)]) -> String {
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1.0);
    let mut s = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg viewBox=\"0 0 480 200\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    let w = 480.0 / rows.len().max(1) as f64;
    for (i, (label, v)) in rows.iter().enumerate() {
        let bh = v / max * 150.0;
        let x = i as f64 * w;
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#2e7d32\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"195\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x + 4.0,
            170.0 - bh,
            w - 8.0,
            esc(label),
            money(*v),
            x + w / 2.0,
            esc(&label[5..])
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// The dashboard fragment.
pub fn dashboard() -> Result<String> {
    let today = dates::today();
    let open = host::query_all(
        "deal",
        &Query::new()
            .filter("stage", "in", "lead,qualified,proposal,negotiation")
            .as_user(),
    )?;
    let stages = [
        ("lead", "Lead", "初步接触"),
        ("qualified", "Qualified", "需求确认"),
        ("proposal", "Proposal", "方案报价"),
        ("negotiation", "Negotiation", "商务谈判"),
    ];
    let funnel: Vec<(String, f64, String)> = stages
        .iter()
        .map(|(v, en, zh_text)| {
            let ds: Vec<&Record> = open.iter().filter(|d| d.str("stage") == Some(v)).collect();
            let sum: f64 = ds.iter().map(|d| amount(d)).sum();
            (
                t(en, zh_text).to_string(),
                ds.len() as f64,
                format!("{} · {}", ds.len(), money(sum)),
            )
        })
        .collect();
    let start = dates::month_start(today, -11);
    let won = host::query_all(
        "deal",
        &Query::new()
            .eq("stage", "won")
            .filter("closed_on", "gte", dates::format(start))
            .as_user(),
    )?;
    let mut by_month: BTreeMap<String, f64> = (0..12)
        .map(|i| {
            (
                dates::format(dates::month_start(today, i - 11))[..7].to_string(),
                0.0,
            )
        })
        .collect();
    for d in &won {
        if let Some(m) = d.str("closed_on").and_then(|c| c.get(..7)) {
            if let Some(v) = by_month.get_mut(m) {
                *v += amount(d);
            }
        }
    }
    let months: Vec<(String, f64)> = by_month.into_iter().collect();
    let q_start = dates::month_start(today, -(((dates::civil_from_days(today).1 as i64) - 1) % 3));
    let mut per_owner: BTreeMap<i64, f64> = BTreeMap::new();
    for d in won.iter().filter(|d| {
        d.str("closed_on")
            .and_then(dates::parse)
            .is_some_and(|c| c >= q_start)
    }) {
        *per_owner.entry(d.owner.unwrap_or(0)).or_default() += amount(d);
    }
    let mut ranking: Vec<(String, f64, String)> = per_owner
        .into_iter()
        .map(|(o, v)| {
            let name = host::get("user", o)
                .ok()
                .and_then(|u| u.str("display_name").map(String::from))
                .unwrap_or_else(|| format!("#{o}"));
            (name, v, money(v))
        })
        .collect();
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranking.truncate(10);
    let mut html = String::from("<section class=\"sales-dashboard\">");
    html.push_str(&bars(
        t("Open pipeline by stage", "在途商机（按阶段）"),
        &funnel,
    ));
    html.push_str(&columns(t("Won revenue by month", "月度赢单金额"), &months));
    html.push_str(&bars(
        t(
            "Ranking this quarter (won revenue)",
            "本季度排行（赢单金额）",
        ),
        &ranking,
    ));
    html.push_str("</section>");
    Ok(html)
}

/// Targets the user may see, each with its period, actual won revenue and attainment.
pub fn targets() -> Result<Value> {
    let list = host::query_all("sales_target", &Query::new().sort("-starts_on").as_user())?;
    let mut out = Vec::new();
    for tg in list {
        let Some(start) = tg.str("starts_on").and_then(dates::parse) else {
            continue;
        };
        let months = if tg.str("period") == Some("quarter") {
            3
        } else {
            1
        };
        let end = dates::month_start(start, months) - 1;
        let mut args = json!({"from": dates::format(start), "to": dates::format(end)});
        if let Some(p) = tg.i64("person") {
            args["owner"] = json!(p);
        } else if let Some(team) = tg.str("team") {
            args["team"] = json!(team);
        }
        let scope = Scope::from_args(&args)?;
        let actual = metrics::answer("won_revenue", &args)?;
        let target = tg.decimal("amount").unwrap_or_default();
        let actual_d: Decimal = actual["value"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let attainment = if target.is_zero() {
            0.0
        } else {
            (actual_d / target * Decimal::from(1000))
                .round()
                .to_string()
                .parse::<f64>()
                .unwrap_or(0.0)
                / 10.0
        };
        out.push(json!({
            "id": tg.id, "name": tg.str("name"), "person": tg.i64("person"), "team": tg.str("team"),
            "period": tg.str("period"), "from": scope.from, "to": scope.to,
            "target": target.to_string(), "actual": actual_d.to_string(), "attainment": attainment,
        }));
    }
    Ok(json!(out))
}
