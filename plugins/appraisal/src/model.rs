//! The appraisal's records as typed values, and the reads that load them.

use qingguan_plugin_sdk::date;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{Decimal, Error, Record, Result};
use std::collections::BTreeMap;

/// An appraisal cycle.
#[derive(Debug, Clone)]
pub struct Cycle {
    /// Record.
    pub rec: Record,
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// plan, appraise, feedback, improve or closed.
    pub stage: String,
}

impl Cycle {
    /// Reads a cycle.
    pub fn load(id: i64) -> Result<Cycle> {
        Ok(Cycle::of(host::elevated().get("appraisal_cycle", id)?))
    }

    /// A cycle from its record.
    pub fn of(rec: Record) -> Cycle {
        let from = rec.str("starts_on").unwrap_or_default().to_string();
        let to = rec
            .str("ends_on")
            .map(str::to_string)
            .unwrap_or_else(|| default_end(&from, rec.str("period").unwrap_or("quarter")));
        let stage = rec.str("stage").unwrap_or("plan").to_string();
        Cycle {
            rec,
            from,
            to,
            stage,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.rec.str("name").unwrap_or_default()
    }

    /// Whether the scores were closed (snapshotted): feedback, improve and closed.
    pub fn scores_closed(&self) -> bool {
        matches!(self.stage.as_str(), "feedback" | "improve" | "closed")
    }

    /// Whether the period has begun (today is on or after its first day). Before it, there
    /// are no actuals to ask for: a source is never asked for a period that ends before it
    /// starts.
    pub fn started(&self) -> bool {
        date::format(date::today()) >= self.from
    }

    /// Whether the period is over (today is after its last day).
    pub fn ended(&self) -> bool {
        date::format(date::today()) > self.to
    }

    /// Whether the figures are being appraised (the appraise stage or later): before, in the
    /// plan stage, pages show targets, not scores.
    pub fn appraising(&self) -> bool {
        self.stage != "plan"
    }

    /// The period figures are counted over today: up to today while the cycle runs.
    pub fn live_to(&self) -> String {
        let today = date::format(date::today());
        if today < self.to {
            today
        } else {
            self.to.clone()
        }
    }

    /// The period of the same kind just before this one (the previous month, quarter, half
    /// year or year), for rules that compare with it.
    pub fn previous(&self) -> (String, String) {
        let Some(f) = date::parse(&self.from) else {
            return (self.from.clone(), self.to.clone());
        };
        let months = months_of(self.rec.str("period").unwrap_or("quarter"));
        (
            date::format(date::month_start(f, -months)),
            date::format(f - 1),
        )
    }
}

fn months_of(period: &str) -> i64 {
    match period {
        "month" => 1,
        "half_year" => 6,
        "year" => 12,
        _ => 3,
    }
}

/// The last day of a period that starts on `from`.
pub fn default_end(from: &str, period: &str) -> String {
    let Some(f) = date::parse(from) else {
        return from.to_string();
    };
    date::format(date::month_start(f, months_of(period)) - 1)
}

/// One KPI of an appraisal.
#[derive(Debug, Clone)]
pub struct Target {
    /// Record.
    pub rec: Record,
    /// Indicator name.
    pub name: String,
    /// `plugin/query` or `manual`.
    pub source: String,
    /// person or team.
    pub scope: String,
    /// Weight.
    pub weight: i64,
    /// linear, bands or plugin.
    pub rule: String,
    /// Cap in points.
    pub cap: Option<i64>,
    /// Threshold bands.
    pub bands: String,
    /// `plugin/query` of a rule plugin.
    pub rule_plugin: String,
    /// Lower is better.
    pub lower_is_better: bool,
    /// Agreed target.
    pub target: Option<Decimal>,
}

impl Target {
    /// A target from its record.
    pub fn of(rec: Record) -> Target {
        Target {
            name: rec.str("kpi_name").unwrap_or_default().to_string(),
            source: rec.str("source").unwrap_or("manual").to_string(),
            scope: rec.str("scope").unwrap_or("person").to_string(),
            weight: rec.i64("weight").unwrap_or(0),
            rule: rec.str("rule").unwrap_or("linear").to_string(),
            cap: rec.i64("cap"),
            bands: rec.str("bands").unwrap_or_default().to_string(),
            rule_plugin: rec.str("rule_plugin").unwrap_or_default().to_string(),
            lower_is_better: rec.get("lower_is_better").and_then(|v| v.as_bool()) == Some(true),
            target: rec.decimal("target"),
            rec,
        }
    }
}

/// One person's appraisal in a cycle.
#[derive(Debug, Clone)]
pub struct Appraisal {
    /// Record.
    pub rec: Record,
    /// Person appraised.
    pub person: i64,
    /// Their manager.
    pub manager: Option<i64>,
    /// Team.
    pub team: String,
    /// Status.
    pub status: String,
}

impl Appraisal {
    /// Reads an appraisal.
    pub fn load(id: i64) -> Result<Appraisal> {
        Ok(Appraisal::of(host::elevated().get("appraisal", id)?))
    }

    /// An appraisal from its record.
    pub fn of(rec: Record) -> Appraisal {
        Appraisal {
            person: rec.i64("person").unwrap_or(0),
            manager: rec.i64("manager"),
            team: rec.str("team").unwrap_or_default().to_string(),
            status: rec.str("status").unwrap_or("draft").to_string(),
            rec,
        }
    }

    /// The cycle id.
    pub fn cycle(&self) -> i64 {
        self.rec.i64("cycle").unwrap_or(0)
    }

    /// The job profile id.
    pub fn profile(&self) -> i64 {
        self.rec.i64("profile").unwrap_or(0)
    }

    /// Its targets, in the profile's order.
    pub fn targets(&self) -> Result<Vec<Target>> {
        Ok(host::query_all(
            "appraisal_target",
            &Query::new()
                .elevated()
                .eq("appraisal", self.rec.id)
                .sort("id"),
        )?
        .into_iter()
        .map(Target::of)
        .collect())
    }
}

/// Every appraisal of a cycle, by id.
pub fn appraisals(cycle: i64) -> Result<Vec<Appraisal>> {
    Ok(host::query_all(
        "appraisal",
        &Query::new().elevated().eq("cycle", cycle).sort("id"),
    )?
    .into_iter()
    .map(Appraisal::of)
    .collect())
}

/// Every target of a cycle's appraisals, grouped by appraisal id.
pub fn targets_of(list: &[Appraisal]) -> Result<BTreeMap<i64, Vec<Target>>> {
    let mut out: BTreeMap<i64, Vec<Target>> = list.iter().map(|a| (a.rec.id, vec![])).collect();
    for chunk in list.chunks(100) {
        let ids: Vec<String> = chunk.iter().map(|a| a.rec.id.to_string()).collect();
        let q = Query::new().elevated().in_list("appraisal", ids).sort("id");
        for r in host::query_all("appraisal_target", &q)? {
            let a = r.i64("appraisal").unwrap_or(0);
            out.entry(a).or_default().push(Target::of(r));
        }
    }
    Ok(out)
}

/// A user as appraisal needs them.
#[derive(Debug, Clone)]
pub struct Person {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Username.
    pub username: String,
    /// Role.
    pub role: String,
    /// Team.
    pub team: String,
    /// Manager.
    pub manager: Option<i64>,
    /// Active.
    pub active: bool,
}

/// Every user, by id.
pub fn people() -> Result<BTreeMap<i64, Person>> {
    Ok(
        host::query_all("user", &Query::new().elevated().sort("id"))?
            .into_iter()
            .map(|u| {
                let p = Person {
                    id: u.id,
                    name: u
                        .str("display_name")
                        .or(u.str("username"))
                        .unwrap_or_default()
                        .to_string(),
                    username: u.str("username").unwrap_or_default().to_string(),
                    role: u.str("role").unwrap_or_default().to_string(),
                    team: u.str("team").unwrap_or_default().to_string(),
                    manager: u.i64("manager"),
                    active: u.get("active").and_then(|v| v.as_bool()) != Some(false),
                };
                (u.id, p)
            })
            .collect(),
    )
}

/// A display name for a user id.
pub fn name_of(people: &BTreeMap<i64, Person>, id: Option<i64>) -> String {
    id.and_then(|i| people.get(&i))
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "—".into())
}

/// The grade table, highest first.
pub fn bands() -> Result<Vec<crate::score::Band>> {
    let mut v: Vec<crate::score::Band> =
        host::query_all("grade_band", &Query::new().elevated().sort("-min_score"))?
            .into_iter()
            .map(|r| crate::score::Band {
                grade: r.str("grade").unwrap_or_default().to_string(),
                min_score: r.decimal("min_score").unwrap_or_default(),
                coefficient: r.decimal("coefficient").unwrap_or_default(),
            })
            .collect();
    v.sort_by_key(|b| std::cmp::Reverse(b.min_score));
    Ok(v)
}

/// Reads a positive integer form or query value.
pub fn id_arg(v: Option<&str>, what: &str) -> Result<i64> {
    v.and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|i| *i > 0)
        .ok_or_else(|| {
            Error::invalid(format!("'{what}' must be a record id"))
                .field(what, "must be a record id")
        })
}
