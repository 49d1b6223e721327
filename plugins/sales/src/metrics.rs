//! The sales figures per owner (or team) and period that other plugins ask for: won revenue,
//! deals won, win rate, new customers, follow-ups and days to close.

use qingguan_plugin_sdk::date as dates;
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

/// Calls `f` for every record a query matches, one page at a time, so that figures over
/// hundreds of thousands of deals need only one page in memory.
fn for_each(entity: &str, q: Query, mut f: impl FnMut(&Record)) -> Result<()> {
    let mut q = q.limit(200);
    loop {
        let page = host::query(entity, &q)?;
        for r in &page.items {
            f(r);
        }
        match page.next_cursor {
            Some(c) => q = q.cursor(c),
            None => return Ok(()),
        }
    }
}

/// Running totals of one owner.
#[derive(Debug, Default, Clone)]
struct Totals {
    revenue: Decimal,
    won: usize,
    lost: usize,
    followups: usize,
    days: i64,
    spans: usize,
    new_customers: usize,
}

impl Totals {
    fn to_json(&self, owner: Option<i64>) -> Value {
        let mut v = json!({
            "won_revenue": self.revenue.to_string(),
            "deals_won": self.won,
            "win_rate": win_rate(self.won, self.lost),
            "new_customers": self.new_customers,
            "followups": self.followups,
            "avg_days_to_close": if self.spans == 0 { json!(0.0) } else { json!((self.days as f64 * 10.0 / self.spans as f64).round() / 10.0) },
        });
        if let Some(o) = owner {
            v["owner"] = json!(o);
        }
        v
    }
}

fn win_rate(won: usize, lost: usize) -> Value {
    if won + lost == 0 {
        return json!(0.0);
    }
    json!((won as f64 * 1000.0 / (won + lost) as f64).round() / 10.0)
}

/// Streams the period's closed deals and follow-ups into per-owner totals.
fn totals(scope: &Scope, with_followups: bool, with_new: bool) -> Result<BTreeMap<i64, Totals>> {
    let mut by: BTreeMap<i64, Totals> = BTreeMap::new();
    // customer → (closed_on, deal id, owner) of its earliest win in the period.
    let mut first: BTreeMap<i64, (String, i64, i64)> = BTreeMap::new();
    let closed = Query::new()
        .filter("stage", "in", "won,lost")
        .filter("closed_on", "gte", &scope.from)
        .filter("closed_on", "lte", &scope.to);
    for_each("deal", scope.apply(closed), |d| {
        let owner = d.owner.unwrap_or(0);
        let t = by.entry(owner).or_default();
        if d.str("stage") == Some("lost") {
            t.lost += 1;
            return;
        }
        t.won += 1;
        t.revenue += d.decimal("amount").unwrap_or_default();
        if let (Some(o), Some(c)) = (
            d.str("opened_on").and_then(dates::parse),
            d.str("closed_on").and_then(dates::parse),
        ) {
            t.days += c - o;
            t.spans += 1;
        }
        if let (true, Some(c)) = (with_new, d.i64("customer")) {
            let key = (
                d.str("closed_on").unwrap_or_default().to_string(),
                d.id,
                owner,
            );
            if first.get(&c).is_none_or(|f| (&key.0, key.1) < (&f.0, f.1)) {
                first.insert(c, key);
            }
        }
    })?;
    if with_followups {
        let q = Query::new()
            .filter("happened_on", "gte", &scope.from)
            .filter("happened_on", "lte", &scope.to);
        for_each("followup", scope.apply(q), |f| {
            by.entry(f.owner.unwrap_or(0)).or_default().followups += 1
        })?;
    }
    if with_new {
        // A customer is new for the owner of its first win ever, if that win is in the
        // period: any earlier win, by anyone and whoever may see it, makes it not new. The
        // same rule for one owner and for everyone, so the figures add up.
        let customers: Vec<i64> = first.keys().copied().collect();
        let mut earlier: BTreeSet<i64> = BTreeSet::new();
        for chunk in customers.chunks(100) {
            let ids: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
            let q = Query::new()
                .eq("stage", "won")
                .filter("customer", "in", ids.join(","))
                .filter("closed_on", "lte", &scope.to);
            for_each("deal", q, |d| {
                let (Some(c), Some(on)) = (d.i64("customer"), d.str("closed_on")) else {
                    return;
                };
                if first
                    .get(&c)
                    .is_some_and(|f| (on, d.id) < (f.0.as_str(), f.1))
                {
                    earlier.insert(c);
                }
            })?;
        }
        for (c, (_, _, owner)) in first {
            if !earlier.contains(&c) {
                by.entry(owner).or_default().new_customers += 1;
            }
        }
    }
    Ok(by)
}

/// Answers one of the declared queries.
pub fn answer(query: &str, args: &Value) -> Result<Value> {
    let scope = Scope::from_args(args)?;
    if query == "summary" {
        let by = totals(&scope, true, true)?;
        let rows: Vec<Value> = by.iter().map(|(o, t)| t.to_json(Some(*o))).collect();
        return Ok(json!({ "from": scope.from, "to": scope.to, "owners": rows }));
    }
    let key = match query {
        "won_revenue" => "won_revenue",
        "deals_won" => "deals_won",
        "win_rate" => "win_rate",
        "new_customers" => "new_customers",
        "followups" => "followups",
        "avg_days_to_close" => "avg_days_to_close",
        _ => return Err(Error::not_found(format!("no query '{query}'"))),
    };
    let by = totals(&scope, key == "followups", key == "new_customers")?;
    let mut all = Totals::default();
    for t in by.values() {
        all.revenue += t.revenue;
        all.won += t.won;
        all.lost += t.lost;
        all.followups += t.followups;
        all.days += t.days;
        all.spans += t.spans;
        all.new_customers += t.new_customers;
    }
    let value = all.to_json(None)[key].clone();
    Ok(json!({ "value": value, "from": scope.from, "to": scope.to }))
}
