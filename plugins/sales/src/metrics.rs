//! The sales figures per owner (or team) and period that other plugins ask for: won revenue,
//! deals won, win rate, new customers, follow-ups and days to close.

use crate::dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{json, Decimal, Error, Record, Result, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Whose figures, over which days.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Owners counted (none = everyone).
    pub owners: Option<Vec<i64>>,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// Count only what the calling user may see (a user asked, not another plugin).
    pub as_user: bool,
}

impl Scope {
    /// Reads `{owner | team, from, to}`.
    pub fn from_args(args: &Value) -> Result<Scope> {
        let date = |k: &str| -> Result<String> {
            let s = args[k].as_str().unwrap_or_default();
            dates::parse(s).map(dates::format).ok_or_else(|| {
                Error::invalid(format!("'{k}' must be a date YYYY-MM-DD"))
                    .field(k, "must be a date YYYY-MM-DD")
            })
        };
        let (from, to) = (date("from")?, date("to")?);
        if to < from {
            return Err(Error::invalid("'to' is before 'from'").field("to", "before 'from'"));
        }
        let owners = if let Some(o) = args["owner"].as_i64() {
            Some(vec![o])
        } else if let Some(team) = args["team"].as_str() {
            let users = host::query_all("user", &Query::new().eq("team", team))?;
            Some(users.iter().map(|u| u.id).collect())
        } else {
            None
        };
        let ctx = host::context();
        let as_user = ctx.asked_by.is_none() && ctx.user_id.is_some();
        Ok(Scope {
            owners,
            from,
            to,
            as_user,
        })
    }

    fn apply(&self, mut q: Query) -> Query {
        if self.as_user {
            q = q.as_user();
        }
        if let Some(o) = &self.owners {
            if o.is_empty() {
                // Nobody in the team: a condition nothing meets.
                return q.filter("id", "lt", 0);
            }
            let list: Vec<String> = o.iter().map(|i| i.to_string()).collect();
            q = q.filter("owner", "in", list.join(","));
        }
        q
    }
}

fn closed(scope: &Scope, stage: &str) -> Result<Vec<Record>> {
    let q = Query::new()
        .eq("stage", stage)
        .filter("closed_on", "gte", &scope.from)
        .filter("closed_on", "lte", &scope.to);
    host::query_all("deal", &scope.apply(q))
}

fn revenue(deals: &[Record]) -> Decimal {
    deals.iter().filter_map(|d| d.decimal("amount")).sum()
}

fn win_rate(won: usize, lost: usize) -> Value {
    if won + lost == 0 {
        return json!(0.0);
    }
    json!((won as f64 * 1000.0 / (won + lost) as f64).round() / 10.0)
}

fn avg_days(won: &[Record]) -> Value {
    let spans: Vec<i64> = won
        .iter()
        .filter_map(|d| {
            Some(dates::parse(d.str("closed_on")?)? - dates::parse(d.str("opened_on")?)?)
        })
        .collect();
    if spans.is_empty() {
        return json!(0.0);
    }
    json!((spans.iter().sum::<i64>() as f64 * 10.0 / spans.len() as f64).round() / 10.0)
}

/// Customers whose first won deal is among `won` (i.e. closed in the period), by owner of
/// that first deal.
fn new_customers(scope: &Scope, won: &[Record]) -> Result<BTreeMap<i64, usize>> {
    let mut first: BTreeMap<i64, &Record> = BTreeMap::new();
    for d in won {
        let Some(c) = d.i64("customer") else { continue };
        let better = first
            .get(&c)
            .is_none_or(|f| (d.str("closed_on"), d.id) < (f.str("closed_on"), f.id));
        if better {
            first.insert(c, d);
        }
    }
    let customers: Vec<i64> = first.keys().copied().collect();
    let mut earlier: BTreeSet<i64> = BTreeSet::new();
    for chunk in customers.chunks(100) {
        let ids: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
        // Earlier wins by anyone make a customer not new, whoever may see them.
        let q = Query::new()
            .eq("stage", "won")
            .filter("customer", "in", ids.join(","))
            .filter("closed_on", "lt", &scope.from);
        for d in host::query_all("deal", &q)? {
            if let Some(c) = d.i64("customer") {
                earlier.insert(c);
            }
        }
    }
    let mut out = BTreeMap::new();
    for (c, d) in first {
        if !earlier.contains(&c) {
            *out.entry(d.owner.unwrap_or(0)).or_insert(0) += 1;
        }
    }
    Ok(out)
}

fn followups(scope: &Scope) -> Result<Vec<Record>> {
    let q = Query::new()
        .filter("happened_on", "gte", &scope.from)
        .filter("happened_on", "lte", &scope.to);
    host::query_all("followup", &scope.apply(q))
}

/// Answers one of the declared queries.
pub fn answer(query: &str, args: &Value) -> Result<Value> {
    let scope = Scope::from_args(args)?;
    let value = match query {
        "won_revenue" => json!(revenue(&closed(&scope, "won")?).to_string()),
        "deals_won" => json!(closed(&scope, "won")?.len()),
        "win_rate" => win_rate(closed(&scope, "won")?.len(), closed(&scope, "lost")?.len()),
        "new_customers" => json!(new_customers(&scope, &closed(&scope, "won")?)?
            .values()
            .sum::<usize>()),
        "followups" => json!(followups(&scope)?.len()),
        "avg_days_to_close" => avg_days(&closed(&scope, "won")?),
        "summary" => return summary(&scope),
        _ => return Err(Error::not_found(format!("no query '{query}'"))),
    };
    Ok(json!({ "value": value, "from": scope.from, "to": scope.to }))
}

/// Every figure for every owner with activity in the period.
pub fn summary(scope: &Scope) -> Result<Value> {
    let won = closed(scope, "won")?;
    let lost = closed(scope, "lost")?;
    let fu = followups(scope)?;
    let fresh = new_customers(scope, &won)?;
    let by = |rs: &[Record]| -> BTreeMap<i64, Vec<Record>> {
        let mut m: BTreeMap<i64, Vec<Record>> = BTreeMap::new();
        for r in rs {
            m.entry(r.owner.unwrap_or(0)).or_default().push(r.clone());
        }
        m
    };
    let (won_by, lost_by, fu_by) = (by(&won), by(&lost), by(&fu));
    let owners: BTreeSet<i64> = won_by
        .keys()
        .chain(lost_by.keys())
        .chain(fu_by.keys())
        .copied()
        .collect();
    let empty = Vec::new();
    let rows: Vec<Value> = owners
        .into_iter()
        .map(|o| {
            let w = won_by.get(&o).unwrap_or(&empty);
            let l = lost_by.get(&o).map_or(0, Vec::len);
            json!({
                "owner": o,
                "won_revenue": revenue(w).to_string(),
                "deals_won": w.len(),
                "win_rate": win_rate(w.len(), l),
                "new_customers": fresh.get(&o).copied().unwrap_or(0),
                "followups": fu_by.get(&o).map_or(0, Vec::len),
                "avg_days_to_close": avg_days(w),
            })
        })
        .collect();
    Ok(json!({ "from": scope.from, "to": scope.to, "owners": rows }))
}
