//! KPI figures for appraisal, per customer owner (the rep who owns the customer) over a period:
//! invoiced revenue (net of tax: invoices issued in the period less credit notes issued in it),
//! collected (payments received in the period, 回款), collection rate (collected ÷ invoiced, %,
//! unrounded) and overdue receivables (what open invoices due before the period's end still
//! ask, at today's balances). One grouped sum per figure over the documents, by customer; each
//! customer's owner read once. Asked as `invoiced`, `collected`, `collection_rate`, `overdue`
//! with `{owner | team, from, to}` (`{"value": …}`; neither: every customer's, owned or not),
//! or all owners at once as `summary`.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// One owner's figures.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    invoiced: Decimal,
    collected: Decimal,
    overdue: Decimal,
}

impl std::ops::Add for Figures {
    type Output = Figures;
    fn add(self, o: Figures) -> Figures {
        Figures {
            invoiced: self.invoiced + o.invoiced,
            collected: self.collected + o.collected,
            overdue: self.overdue + o.overdue,
        }
    }
}

impl Figures {
    fn rate(&self) -> Decimal {
        if self.invoiced > Decimal::ZERO {
            self.collected * Decimal::ONE_HUNDRED / self.invoiced
        } else {
            Decimal::ZERO
        }
    }

    fn get(&self, query: &str) -> Option<Decimal> {
        Some(match query {
            "invoiced" => self.invoiced,
            "collected" => self.collected,
            "collection_rate" => self.rate(),
            "overdue" => self.overdue,
            _ => return None,
        })
    }
}

/// Sums of `field` by customer over a query.
/// A sum per customer in the company currency: the kept `cc_field` (`field` for documents
/// from before currencies).
fn by_customer(
    entity: &str,
    q: Query,
    cc_field: &'static str,
    field: &'static str,
) -> Result<BTreeMap<i64, Decimal>> {
    Ok(
        crate::fx::sum_kept(entity, &q.elevated(), "customer", cc_field, field)?
            .into_values()
            .filter_map(|(customer, sum)| Some((customer.as_i64()?, sum)))
            .collect(),
    )
}

fn date_arg(args: &Value, name: &str, default: &str) -> Result<String> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default.to_string()),
        Some(v) => v
            .as_str()
            .filter(|s| dates::Date::parse(s).is_some())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::invalid(t("check the date", "请检查日期")).field(
                    name,
                    t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
                )
            }),
    }
}

/// Every owner's figures over [from, to] (`None`: customers nobody owns).
fn figures(from: &str, to: &str) -> Result<BTreeMap<Option<i64>, Figures>> {
    let issued = |kind: &str| {
        Query::new()
            .eq("kind", kind)
            .in_list(
                "status",
                ["posted", "partly_paid", "overdue", "paid", "applied"],
            )
            .gte("issued_on", from)
            .lte("issued_on", to)
    };
    let invoiced = by_customer("invoice", issued("invoice"), "net_cc", "net")?;
    let credited = by_customer("invoice", issued("credit_note"), "net_cc", "net")?;
    let collected = by_customer(
        "payment",
        Query::new()
            .eq("status", "posted")
            .gte("received_on", from)
            .lte("received_on", to),
        "amount_cc",
        "amount",
    )?;
    let overdue = by_customer(
        "invoice",
        Query::new()
            .eq("kind", "invoice")
            .in_list("status", crate::sides::OPEN)
            .lt("due_on", to),
        "balance_cc",
        "balance",
    )?;
    let mut customers: Vec<i64> = invoiced
        .keys()
        .chain(credited.keys())
        .chain(collected.keys())
        .chain(overdue.keys())
        .copied()
        .collect();
    customers.sort_unstable();
    customers.dedup();
    let owner_of: BTreeMap<i64, i64> =
        host::records_by_id("customer", &customers, &Query::new().elevated())?
            .into_iter()
            .filter_map(|c| Some((c.id, c.owner?)))
            .collect();
    let mut out: BTreeMap<Option<i64>, Figures> = BTreeMap::new();
    let mut add = |sums: &BTreeMap<i64, Decimal>, f: fn(&mut Figures, Decimal)| {
        for (customer, v) in sums {
            f(out.entry(owner_of.get(customer).copied()).or_default(), *v);
        }
    };
    add(&invoiced, |f, v| f.invoiced += v);
    add(&credited, |f, v| f.invoiced -= v);
    add(&collected, |f, v| f.collected += v);
    add(&overdue, |f, v| f.overdue += v);
    Ok(out)
}

/// Answers a KPI query: one owner's or one team's figure, or every owner's (`summary`).
pub fn answer(query: &str, args: &Value) -> Result<Value> {
    // Another plugin's `ask` (granted by an administrator) reaches here; a person must read
    // the books.
    if host::context().asked_by.is_none() {
        host::query("journal_entry", &Query::new().limit(1))?;
    }
    let from = date_arg(args, "from", "1000-01-01")?;
    let to = date_arg(args, "to", "9999-12-31")?;
    let refuse = |field: &str, en: &str, zh: &str| {
        Err(Error::invalid(t("check the question", "请检查查询参数")).field(field, t(en, zh)))
    };
    if from > to {
        return refuse("to", "on or after `from`", "不能早于起始日期");
    }
    let owner = match args.get("owner") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().filter(|o| *o > 0) {
            Some(o) => Some(o),
            None => return refuse("owner", "a user id (a whole number)", "用户编号（整数）"),
        },
    };
    let team = match args.get("team") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if !t.is_empty() => Some(t.as_str()),
        Some(_) => return refuse("team", "a team's name", "团队名称"),
    };
    if owner.is_some() && team.is_some() {
        return refuse(
            "team",
            "ask for a rep or a team, not both",
            "只能按个人或团队查询，不能同时指定",
        );
    }
    if query == "summary" && (owner.is_some() || team.is_some()) {
        return refuse(
            if owner.is_some() { "owner" } else { "team" },
            "the summary lists every rep; ask one figure for a rep or a team",
            "汇总列出所有人员；按个人或团队请查询单项指标",
        );
    }
    let all = figures(&from, &to)?;
    if query == "summary" {
        let owners: Vec<Value> = all
            .iter()
            .filter_map(|(owner, f)| Some((owner.as_ref()?, f)))
            .map(|(owner, f)| {
                json!({
                    "owner": owner, "invoiced": f.invoiced.to_string(), "collected": f.collected.to_string(),
                    "collection_rate": f.rate().to_string(), "overdue": f.overdue.to_string(),
                })
            })
            .collect();
        return Ok(json!({ "owners": owners }));
    }
    let picked = if let Some(owner) = owner {
        all.get(&Some(owner)).copied().unwrap_or_default()
    } else if let Some(team) = team {
        host::query_all("user", &Query::new().elevated().eq("team", team))?
            .iter()
            .filter_map(|u| all.get(&Some(u.id)).copied())
            .fold(Figures::default(), |acc, f| acc + f)
    } else {
        // In all: every customer's documents, owned or not.
        all.values()
            .copied()
            .fold(Figures::default(), |acc, f| acc + f)
    };
    let value = picked
        .get(query)
        .ok_or_else(|| Error::not_found(query.to_string()))?;
    Ok(json!({ "value": value.to_string() }))
}
