//! Starting a cycle: an appraisal per person a job profile names, its targets cascaded from
//! the company and team targets, and open improvement items carried in.

use crate::model::{self, Appraisal, Cycle, Person};
use crate::score::round2;
use crate::who::Caller;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{json, Decimal, Error, Record, Result, Value};
use std::collections::BTreeMap;

/// The manager of a person: their `manager` field, else the team's manager.
fn manager_of(p: &Person, people: &BTreeMap<i64, Person>) -> Option<i64> {
    p.manager.or_else(|| {
        people
            .values()
            .find(|u| u.active && u.role == "manager" && u.team == p.team && u.id != p.id)
            .map(|u| u.id)
    })
}

/// Creates the appraisals of every active user whose role a job profile names, with targets
/// from the profile's KPIs cascaded from the company and team targets, and carries open
/// improvement items in. Idempotent: people who already have an appraisal are skipped.
pub(crate) fn start(me: &Caller, cycle: &Cycle) -> Result<Value> {
    me.require_hr()?;
    if cycle.stage != "plan" {
        return Err(Error::Conflict(
            me.t(
                "appraisals are created in the plan stage",
                "只能在计划阶段生成考核表",
            )
            .into(),
        ));
    }
    let people = model::people()?;
    let profiles = host::query_all("job_profile", &Query::new().elevated().sort("id"))?;
    let existing: Vec<i64> = model::appraisals(cycle.rec.id)?
        .iter()
        .map(|a| a.person)
        .collect();
    let mut created = Vec::new();
    for p in people.values().filter(|p| p.active) {
        if existing.contains(&p.id) {
            continue;
        }
        let Some(profile) = profiles.iter().find(|pr| {
            pr.get("active").and_then(|v| v.as_bool()) != Some(false)
                && pr
                    .str("roles")
                    .unwrap_or_default()
                    .split([',', '，', ' '])
                    .any(|r| r.trim() == p.role)
        }) else {
            continue;
        };
        let a = host::elevated().create(
            "appraisal",
            &json!({
                "title": format!("{} · {}", cycle.name(), p.name),
                "cycle": cycle.rec.id, "person": p.id, "manager": manager_of(p, &people),
                "profile": profile.id, "team": p.team, "status": "draft", "owner": p.id,
            }),
        )?;
        created.push(a.id);
    }
    let all = model::appraisals(cycle.rec.id)?;
    // New appraisals, and any a failed earlier run left without targets.
    let targets = model::targets_of(&all)?;
    let cascade = Cascade::load(cycle, &all)?;
    for a in all.iter().filter(|a| {
        created.contains(&a.rec.id) || targets.get(&a.rec.id).is_none_or(|t| t.is_empty())
    }) {
        seed(a, &cascade)?;
    }
    Ok(json!({"created": created.len(), "appraisals": all.len()}))
}

/// What seeding appraisals needs from a cycle, read once: its company and team targets, each
/// profile's KPIs, and how many people share each cascaded target (appraisals, of a team or
/// of the company, whose profile has a personal KPI with that source).
pub(crate) struct Cascade {
    targets: Vec<Record>,
    kpis: BTreeMap<i64, Vec<Record>>,
    sharing: BTreeMap<(String, String), i64>,
}

impl Cascade {
    /// Reads the cascade of a cycle with these appraisals.
    pub(crate) fn load(cycle: &Cycle, all: &[Appraisal]) -> Result<Cascade> {
        let targets = host::query_all(
            "cycle_target",
            &Query::new().elevated().eq("cycle", cycle.rec.id),
        )?;
        let mut kpis: BTreeMap<i64, Vec<Record>> = BTreeMap::new();
        let mut sharing: BTreeMap<(String, String), i64> = BTreeMap::new();
        for a in all {
            if let std::collections::btree_map::Entry::Vacant(e) = kpis.entry(a.profile()) {
                e.insert(host::query_all(
                    "kpi",
                    &Query::new()
                        .elevated()
                        .eq("profile", a.profile())
                        .sort("id"),
                )?);
            }
            let personal = kpis[&a.profile()]
                .iter()
                .filter(|k| k.str("scope").unwrap_or("person") == "person")
                .filter_map(|k| k.str("source"));
            for source in personal {
                *sharing
                    .entry((a.team.clone(), source.to_string()))
                    .or_default() += 1;
                *sharing
                    .entry((String::new(), source.to_string()))
                    .or_default() += 1;
            }
        }
        Ok(Cascade {
            targets,
            kpis,
            sharing,
        })
    }

    fn target_of(&self, team: &str, source: &str) -> Option<Decimal> {
        self.targets
            .iter()
            .find(|c| c.str("team").unwrap_or_default() == team && c.str("source") == Some(source))
            .and_then(|c| c.decimal("target"))
    }

    fn share(&self, team: &str, source: &str) -> Decimal {
        let n = self.sharing.get(&(team.to_string(), source.to_string()));
        Decimal::from(n.copied().unwrap_or(1).max(1))
    }
}

/// Gives a new appraisal its targets (from the profile, cascaded) and carries the person's
/// open improvement items into it.
pub(crate) fn seed(a: &Appraisal, cascade: &Cascade) -> Result<()> {
    let kpis = match cascade.kpis.get(&a.profile()) {
        Some(k) => k.clone(),
        None => host::query_all(
            "kpi",
            &Query::new()
                .elevated()
                .eq("profile", a.profile())
                .sort("id"),
        )?,
    };
    for k in kpis {
        let source = k.str("source").unwrap_or("manual").to_string();
        let scope = k.str("scope").unwrap_or("person").to_string();
        let target = if scope == "team" {
            cascade
                .target_of(&a.team, &source)
                .or_else(|| k.decimal("default_target"))
        } else if let Some(t) = cascade.target_of(&a.team, &source) {
            Some(round2(t / cascade.share(&a.team, &source)))
        } else if let Some(t) = cascade.target_of("", &source) {
            Some(round2(t / cascade.share("", &source)))
        } else {
            k.decimal("default_target")
        };
        host::elevated().create(
            "appraisal_target",
            &json!({
                "appraisal": a.rec.id, "kpi_name": k.str("name"), "source": source, "scope": scope,
                "weight": k.i64("weight"), "rule": k.str("rule").unwrap_or("linear"),
                "cap": k.i64("cap"), "bands": k.str("bands"), "rule_plugin": k.str("rule_plugin"),
                "lower_is_better": k.get("lower_is_better").cloned().unwrap_or(json!(false)),
                "target": target.map(|t| t.to_string()), "owner": a.person,
            }),
        )?;
    }
    // Open items of earlier cycles (also ones carried before and still open) move on.
    let open = host::query_all(
        "improvement",
        &Query::new()
            .elevated()
            .eq("person", a.person)
            .eq("status", "open"),
    )?;
    for i in open {
        if i.i64("appraisal") != Some(a.rec.id) && i.i64("carried_to") != Some(a.rec.id) {
            host::elevated().update(
                "improvement",
                i.id,
                i.version,
                &json!({"carried_to": a.rec.id}),
            )?;
        }
    }
    Ok(())
}
