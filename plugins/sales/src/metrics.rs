//! The sales figures per owner (or team) and period that other plugins ask for: won revenue,
//! deals won, win rate, new customers, follow-ups and days to close.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Group, Metric, Query};
use qingguan_plugin_sdk::{json, Decimal, Error, Result, Value};
use std::collections::BTreeMap;

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
            let users = host::query_all("user", &Query::new().elevated().eq("team", team))?;
            Some(users.iter().map(|u| u.id).collect())
        } else {
            None
        };
        let ctx = host::context();
        let as_user = ctx.asked_by.is_none() && ctx.user_id.is_some();
        let scope = Scope {
            owners,
            from,
            to,
            as_user,
        };
        scope.check_visible(ctx.user_id)?;
        Ok(scope)
    }

    /// A user asking for someone else's figures (an owner or a team) must be able to see all
    /// of that person's deals: a rep asking for a colleague gets 403, not a misleading 0.
    fn check_visible(&self, me: Option<i64>) -> Result<()> {
        let Some(owners) = &self.owners else {
            return Ok(());
        };
        if !self.as_user || owners.is_empty() || owners.iter().all(|o| Some(*o) == me) {
            return Ok(());
        }
        let list: Vec<String> = owners.iter().map(|i| i.to_string()).collect();
        let q = Query::new().elevated().in_list("owner", list);
        let count = |q: &Query| -> Result<i64> {
            Ok(host::aggregate("deal", q, &[], &[Metric::Count])?
                .first()
                .and_then(|g| g.i64(0))
                .unwrap_or(0))
        };
        if count(&q.clone().as_user())? < count(&q)? {
            return Err(Error::Denied(
                "you may only see the sales figures of people whose deals you can see".into(),
            ));
        }
        Ok(())
    }

    fn apply(&self, mut q: Query) -> Query {
        if self.as_user {
            q = q.as_user();
        }
        if let Some(o) = &self.owners {
            if o.is_empty() {
                // Nobody in the team: a condition nothing meets.
                return q.lt("id", 0);
            }
            let list: Vec<String> = o.iter().map(|i| i.to_string()).collect();
            q = q.in_list("owner", list);
        }
        q
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
            // Full precision: whoever uses a figure rounds it once (appraisal computes
            // attainment from it; rounding here too would round twice).
            "avg_days_to_close": if self.spans == 0 { json!(0.0) } else { json!(self.days as f64 / self.spans as f64) },
        });
        if let Some(o) = owner {
            v["owner"] = json!(o);
        }
        v
    }
}

/// Won / (won + lost) in percent, unrounded (see `to_json`).
fn win_rate(won: usize, lost: usize) -> Value {
    if won + lost == 0 {
        return json!(0.0);
    }
    json!(won as f64 * 100.0 / (won + lost) as f64)
}

/// The period's figures per owner, computed by the database (grouped counts and sums), so
/// that a year over a million deals is a few queries rather than every deal read.
fn totals(scope: &Scope, with_followups: bool, with_new: bool) -> Result<BTreeMap<i64, Totals>> {
    let mut by: BTreeMap<i64, Totals> = BTreeMap::new();
    let owner_of = |g: &Group| g.group.first().and_then(Value::as_i64).unwrap_or(0);
    let closed = Query::new()
        .elevated()
        .in_list("stage", ["won", "lost"])
        .gte("closed_on", &scope.from)
        .lte("closed_on", &scope.to);
    for g in host::aggregate(
        "deal",
        &scope.apply(closed),
        &["owner", "stage"],
        &[Metric::Count, Metric::Sum("amount")],
    )? {
        let t = by.entry(owner_of(&g)).or_default();
        if g.group.get(1).and_then(Value::as_str) == Some("won") {
            t.won += g.i64(0).unwrap_or(0) as usize;
            // A sum over deals without amounts is null: they add nothing.
            t.revenue += g.decimal(1).unwrap_or_default();
        } else {
            t.lost += g.i64(0).unwrap_or(0) as usize;
        }
    }
    // Days from opened to won: the sums of both dates' day numbers over the same deals.
    let spans = won_in(scope).not_null("opened_on");
    for g in host::aggregate(
        "deal",
        &scope.apply(spans),
        &["owner"],
        &[
            Metric::Count,
            Metric::Sum("closed_on"),
            Metric::Sum("opened_on"),
        ],
    )? {
        let t = by.entry(owner_of(&g)).or_default();
        t.spans += g.i64(0).unwrap_or(0) as usize;
        t.days += g.i64(1).unwrap_or(0) - g.i64(2).unwrap_or(0);
    }
    if with_followups {
        let q = Query::new()
            .elevated()
            .gte("happened_on", &scope.from)
            .lte("happened_on", &scope.to);
        for g in host::aggregate("followup", &scope.apply(q), &["owner"], &[Metric::Count])? {
            by.entry(owner_of(&g)).or_default().followups += g.i64(0).unwrap_or(0) as usize;
        }
    }
    if with_new {
        for (owner, n) in new_customers(scope)? {
            by.entry(owner).or_default().new_customers += n;
        }
    }
    Ok(by)
}

fn won_in(scope: &Scope) -> Query {
    Query::new()
        .elevated()
        .eq("stage", "won")
        .gte("closed_on", &scope.from)
        .lte("closed_on", &scope.to)
}

/// New customers per owner (looked up 500 customers at a time): a customer is new for the owner of its first won deal ever (by
/// anyone, whoever may see it; on a tie, the deal with the lowest id), if that deal is in the
/// period and in scope. The same rule for one owner and for everyone, so the figures add up.
fn new_customers(scope: &Scope) -> Result<BTreeMap<i64, usize>> {
    // Customers with a win in scope, and the day of their first one.
    let mut first: BTreeMap<i64, String> = BTreeMap::new();
    for g in host::aggregate(
        "deal",
        &scope.apply(won_in(scope)),
        &["customer"],
        &[Metric::Min("closed_on")],
    )? {
        if let (Some(c), Some(d)) = (g.group[0].as_i64(), g.values[0].as_str()) {
            first.insert(c, d.to_string());
        }
    }
    let mut out: BTreeMap<i64, usize> = BTreeMap::new();
    let customers: Vec<i64> = first.keys().copied().collect();
    for chunk in customers.chunks(500) {
        let ids: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
        // The first win by anyone: new only if it is the one in scope.
        let everyone = Query::new()
            .elevated()
            .eq("stage", "won")
            .in_list("customer", ids)
            .lte("closed_on", &scope.to);
        let mut new: BTreeMap<i64, String> = BTreeMap::new();
        for g in host::aggregate(
            "deal",
            &everyone,
            &["customer"],
            &[Metric::Min("closed_on")],
        )? {
            let (Some(c), Some(day)) = (g.group[0].as_i64(), g.values[0].as_str()) else {
                continue;
            };
            if day >= scope.from.as_str() && first.get(&c).map(String::as_str) == Some(day) {
                new.insert(c, day.to_string());
            }
        }
        if new.is_empty() {
            continue;
        }
        // Whose deal it was: the lowest id among the wins on that first day.
        let days: std::collections::BTreeSet<&str> = new.values().map(String::as_str).collect();
        let ids: Vec<String> = new.keys().map(|i| i.to_string()).collect();
        let on_first_day = Query::new()
            .elevated()
            .eq("stage", "won")
            .in_list("customer", ids)
            .in_list("closed_on", days);
        let mut owner_of: BTreeMap<i64, (i64, i64)> = BTreeMap::new(); // customer → (deal id, owner)
        for g in host::aggregate(
            "deal",
            &on_first_day,
            &["customer", "closed_on", "owner"],
            &[Metric::Min("id")],
        )? {
            let (Some(c), Some(day), Some(id)) = (
                g.group[0].as_i64(),
                g.group[1].as_str(),
                g.values[0].as_i64(),
            ) else {
                continue;
            };
            if new.get(&c).map(String::as_str) != Some(day) {
                continue;
            }
            let owner = g.group[2].as_i64().unwrap_or(0);
            if owner_of.get(&c).is_none_or(|(best, _)| id < *best) {
                owner_of.insert(c, (id, owner));
            }
        }
        for (_, (_, owner)) in owner_of {
            if scope.owners.as_ref().is_none_or(|o| o.contains(&owner)) {
                *out.entry(owner).or_default() += 1;
            }
        }
    }
    Ok(out)
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
