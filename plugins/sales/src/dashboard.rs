//! The sales dashboard (an HTML fragment with SVG charts) and targets versus actuals. Both
//! show only what the signed-in user may see.

use crate::metrics;
use crate::period::{self, Period};
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Group, Metric, Query};
use qingguan_plugin_sdk::{json, Decimal, Error, Result, Value};
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

/// A decimal metric as a float for charts.
fn f(g: &Group, i: usize) -> f64 {
    // A sum over deals without amounts is null: nothing to chart.
    g.decimal(i)
        .map_or(0.0, |d| d.to_string().parse::<f64>().unwrap_or(0.0))
}

/// Won revenue per month from `start` (the first day of a month) over `months` months, of
/// deals closed from `from` to `to` (no end: up to today and beyond): one aggregate per
/// closing day (at most a few thousand groups), rolled up to months.
fn won_by_month(start: i64, months: i64, from: i64, to: Option<i64>) -> Result<Vec<(String, f64)>> {
    let mut q = Query::new()
        .elevated()
        .eq("stage", "won")
        .gte("closed_on", dates::format(from))
        .as_user();
    if let Some(to) = to {
        q = q.lte("closed_on", dates::format(to));
    }
    let won = host::aggregate("deal", &q, &["closed_on"], &[Metric::Sum("amount")])?;
    let mut by_month: BTreeMap<String, f64> = (0..months)
        .map(|i| {
            (
                dates::format(dates::month_start(start, i))[..7].to_string(),
                0.0,
            )
        })
        .collect();
    for g in &won {
        if let Some(m) = g
            .group
            .first()
            .and_then(Value::as_str)
            .and_then(|c| c.get(..7))
        {
            if let Some(v) = by_month.get_mut(m) {
                *v += f(g, 0);
            }
        }
    }
    Ok(by_month.into_iter().collect())
}

/// Won revenue per owner of deals closed from `from` to `to`, the ten best, with names.
fn ranking(from: i64, to: Option<i64>) -> Result<Vec<(String, f64, String)>> {
    let mut q = Query::new()
        .elevated()
        .eq("stage", "won")
        .gte("closed_on", dates::format(from))
        .as_user();
    if let Some(to) = to {
        q = q.lte("closed_on", dates::format(to));
    }
    let per_owner: BTreeMap<i64, f64> =
        host::aggregate("deal", &q, &["owner"], &[Metric::Sum("amount")])?
            .iter()
            .map(|g| {
                (
                    g.group.first().and_then(Value::as_i64).unwrap_or(0),
                    f(g, 0),
                )
            })
            .collect();
    let mut ranking: Vec<(String, f64, String)> = per_owner
        .into_iter()
        .map(|(o, v)| {
            let name = host::elevated()
                .get("user", o)
                .ok()
                .and_then(|u| u.str("display_name").map(String::from))
                .unwrap_or_else(|| format!("#{o}"));
            (name, v, money(v))
        })
        .collect();
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranking.truncate(10);
    Ok(ranking)
}

/// The dashboard fragment. Every figure is aggregated in the database (the guest never holds
/// the deals themselves), so its cost does not grow with what one user has entered.
///
/// Without a period: won revenue over the last twelve months and the ranking of this
/// quarter; with one (`?period=month|quarter|year&at=DAY` or `?from=&to=`): both over it.
/// The open pipeline is always as it stands today.
pub fn dashboard(period: Option<&Period>) -> Result<String> {
    let today = dates::today();
    let open = host::aggregate(
        "deal",
        &Query::new()
            .elevated()
            .in_list("stage", ["lead", "qualified", "proposal", "negotiation"])
            .as_user(),
        &["stage"],
        &[Metric::Count, Metric::Sum("amount")],
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
            let g = open
                .iter()
                .find(|g| g.group.first().and_then(Value::as_str) == Some(v));
            let (n, sum) = g.map_or((0, 0.0), |g| (g.i64(0).unwrap_or(0), f(g, 1)));
            (
                t(en, zh_text).to_string(),
                n as f64,
                format!("{n} · {}", money(sum)),
            )
        })
        .collect();
    let (months, ranked, ranking_title) = match period {
        None => {
            let start = dates::month_start(today, -11);
            let q_start =
                dates::month_start(today, -(((dates::civil_from_days(today).1 as i64) - 1) % 3));
            (
                won_by_month(start, 12, start, None)?,
                ranking(q_start, None)?,
                t(
                    "Ranking this quarter (won revenue)",
                    "本季度排行（赢单金额）",
                )
                .to_string(),
            )
        }
        Some(p) => {
            let starts = p.months();
            (
                won_by_month(starts[0], starts.len() as i64, p.from, Some(p.to))?,
                ranking(p.from, Some(p.to))?,
                format!(
                    "{} {} → {}",
                    t("Ranking (won revenue)", "排行（赢单金额）"),
                    dates::format(p.from),
                    dates::format(p.to)
                ),
            )
        }
    };
    let mut html = String::from("<section class=\"sales-dashboard\">");
    html.push_str(&period::selector(period, t));
    html.push_str(&bars(
        t("Open pipeline by stage", "在途商机（按阶段）"),
        &funnel,
    ));
    html.push_str(&columns(t("Won revenue by month", "月度赢单金额"), &months));
    html.push_str(&bars(&ranking_title, &ranked));
    html.push_str("</section>");
    Ok(html)
}

/// One target the user may see, with its period, actual won revenue and attainment.
struct TargetRow {
    id: i64,
    name: Option<String>,
    person: Option<i64>,
    team: Option<String>,
    period: Option<String>,
    from: String,
    to: String,
    target: Decimal,
    /// `None`: the caller may see the target but not all of the deals it counts.
    actual: Option<Decimal>,
    /// Percent, rounded once to one place for display.
    attainment: Option<f64>,
}

/// Targets the user may see (newest period first), each with its actual won revenue over its
/// period as far as the user may see the deals (the same rule as the figures' queries).
fn target_rows() -> Result<Vec<TargetRow>> {
    let list = host::query_all(
        "sales_target",
        &Query::new().elevated().sort("-starts_on").as_user(),
    )?;
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
        let target = tg.decimal("amount").unwrap_or_default();
        let actual = match metrics::answer("won_revenue", &args) {
            Ok(v) => Some(qingguan_plugin_sdk::decimal_of(&v["value"]).unwrap_or_default()),
            // A colleague's figures the caller may not see: the target, without an actual.
            Err(Error::Denied(_)) => None,
            Err(e) => return Err(e),
        };
        let attainment = actual.map(|a| {
            if target.is_zero() {
                0.0
            } else {
                (a / target * Decimal::from(1000))
                    .round()
                    .to_string()
                    .parse::<f64>()
                    .unwrap_or(0.0)
                    / 10.0
            }
        });
        out.push(TargetRow {
            id: tg.id,
            name: tg.str("name").map(String::from),
            person: tg.i64("person"),
            team: tg.str("team").map(String::from),
            period: tg.str("period").map(String::from),
            from: dates::format(start),
            to: dates::format(end),
            target,
            actual,
            attainment,
        });
    }
    Ok(out)
}

/// Targets versus actuals as JSON (API clients).
pub fn targets() -> Result<Value> {
    Ok(json!(target_rows()?
        .into_iter()
        .map(|r| json!({
            "id": r.id, "name": r.name, "person": r.person, "team": r.team,
            "period": r.period, "from": r.from, "to": r.to,
            "target": r.target.to_string(), "actual": r.actual.map(|a| a.to_string()),
            "attainment": r.attainment,
        }))
        .collect::<Vec<_>>()))
}

fn user_name(id: i64, cache: &mut BTreeMap<i64, String>) -> String {
    cache
        .entry(id)
        .or_insert_with(|| {
            host::elevated()
                .get("user", id)
                .ok()
                .and_then(|u| {
                    u.str("display_name")
                        .or(u.str("username"))
                        .map(String::from)
                })
                .unwrap_or_else(|| format!("#{id}"))
        })
        .clone()
}

fn plain(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Targets versus actuals as a page: per person and per team, a table (target, actual,
/// attainment) and a bar chart of attainment.
pub fn targets_page() -> Result<String> {
    let rows = target_rows()?;
    let mut names = BTreeMap::new();
    let mut html = String::from("<section class=\"sales-targets\">");
    if rows.is_empty() {
        let _ = write!(
            html,
            "<p class=\"muted\">{} <a href=\"/e/sales_target/new\">{}</a></p></section>",
            esc(t(
                "No sales target you can see yet.",
                "暂无您可查看的销售目标。"
            )),
            esc(t("Set a target", "设定目标"))
        );
        return Ok(html);
    }
    let parts: [(bool, &str, &str); 2] = [
        (true, "Per person", "按人员"),
        (false, "Per team", "按团队"),
    ];
    for (personal, en, zh_text) in parts {
        let mine: Vec<&TargetRow> = rows
            .iter()
            .filter(|r| r.person.is_some() == personal)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let who_of = |r: &TargetRow, names: &mut BTreeMap<i64, String>| match r.person {
            Some(p) => user_name(p, names),
            None => r.team.clone().unwrap_or_default(),
        };
        let mut chart = Vec::new();
        let mut table = format!(
            "<div class=\"table-wrap\"><table class=\"records\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            esc(if personal { t("Person", "人员") } else { t("Team", "团队") }),
            esc(t("Period", "周期")),
            esc(t("Target", "目标")),
            esc(t("Actual (won)", "实际（赢单）")),
            esc(t("Attainment", "完成率")),
            esc(t("Name", "目标名称")),
        );
        for r in &mine {
            let who = who_of(r, &mut names);
            let actual = r.actual.map(plain).unwrap_or_else(|| "—".into());
            let att = r
                .attainment
                .map(|a| format!("{a:.1}%"))
                .unwrap_or_else(|| "—".into());
            let _ = write!(
                table,
                "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/e/sales_target/{}\">{}</a></td></tr>",
                esc(&who),
                esc(&r.from),
                esc(&r.to),
                esc(&plain(r.target)),
                esc(&actual),
                esc(&att),
                r.id,
                esc(r.name.as_deref().unwrap_or_default()),
            );
            if let Some(a) = r.attainment {
                let label = format!("{who} {}", r.from.get(..7).unwrap_or_default());
                chart.push((label, a, format!("{a:.1}%")));
            }
        }
        table.push_str("</tbody></table></div>");
        let _ = write!(
            html,
            "<section class=\"card\"><h2>{}</h2>",
            esc(t(en, zh_text))
        );
        if !chart.is_empty() {
            html.push_str(&bars(t("Attainment %", "目标完成率 %"), &chart));
        }
        html.push_str(&table);
        html.push_str("</section>");
    }
    if rows.iter().any(|r| r.actual.is_none()) {
        let _ = write!(
            html,
            "<p class=\"muted\">{}</p>",
            esc(t(
                "— : you may see this target but not all of the deals it counts.",
                "—：您可查看该目标，但无权查看其统计的全部商机。"
            ))
        );
    }
    html.push_str("</section>");
    Ok(html)
}
