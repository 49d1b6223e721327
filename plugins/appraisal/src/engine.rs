//! Computing a cycle: KPI actuals from the plugins that answer them (batched through a
//! plugin's `summary` query when it has one), manual actuals, team aggregates, scoring rules
//! (built-in or asked of a rule plugin), the 360° part, grade and bonus — and writing the
//! results back, or freezing them as the snapshot when scores close.

use crate::model::{self, Appraisal, Cycle, Target};
use crate::score::{self, Band, Rating};
pub use qingguan_plugin_sdk::decimal_of;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{json, Decimal, Error, Map, Record, Result, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One KPI's figures.
#[derive(Debug, Clone)]
pub struct KpiResult {
    /// Target record id.
    pub id: i64,
    /// Indicator.
    pub name: String,
    /// Source.
    pub source: String,
    /// person or team.
    pub scope: String,
    /// Weight.
    pub weight: i64,
    /// Target.
    pub target: Option<Decimal>,
    /// Actual.
    pub actual: Decimal,
    /// Attainment %.
    pub attainment: Decimal,
    /// Points.
    pub score: Decimal,
}

/// One appraisal's figures.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Appraisal id.
    pub appraisal: i64,
    /// Person.
    pub person: i64,
    /// KPIs.
    pub kpis: Vec<KpiResult>,
    /// Weighted KPI part.
    pub kpi_score: Option<Decimal>,
    /// 360° part.
    pub quality_score: Option<Decimal>,
    /// 360° part per rater group.
    pub groups: BTreeMap<String, Decimal>,
    /// Raters per group.
    pub raters: BTreeMap<String, usize>,
    /// Total.
    pub score: Decimal,
    /// Grade.
    pub grade: String,
    /// Bonus coefficient.
    pub coefficient: Decimal,
    /// Bonus base.
    pub bonus_base: Option<Decimal>,
    /// Bonus.
    pub bonus: Decimal,
    /// What was missing (manual actuals not entered, no ratings, …).
    pub notes: Vec<String>,
}

impl Outcome {
    /// The snapshot kept at close (and the JSON the API shows).
    pub fn to_json(&self, cycle: &Cycle, to: &str) -> Value {
        let s = |d: &Decimal| d.normalize().to_string();
        json!({
            "appraisal": self.appraisal,
            "person": self.person,
            "cycle": cycle.rec.id,
            "from": cycle.from,
            "to": to,
            "kpis": self.kpis.iter().map(|k| json!({
                "id": k.id, "name": k.name, "source": k.source, "scope": k.scope, "weight": k.weight,
                "target": k.target.map(|t| s(&t)), "actual": s(&k.actual),
                "attainment": s(&k.attainment), "score": s(&k.score),
            })).collect::<Vec<_>>(),
            "kpi_score": self.kpi_score.map(|d| s(&d)),
            "quality_score": self.quality_score.map(|d| s(&d)),
            "groups": self.groups.iter().map(|(k, v)| (k.clone(), json!(v.to_string()))).collect::<Map<String, Value>>(),
            "raters": self.raters,
            "score": s(&self.score),
            "grade": self.grade,
            "coefficient": s(&self.coefficient),
            "bonus_base": self.bonus_base.map(|d| s(&d)),
            "bonus": s(&self.bonus),
            "notes": self.notes,
        })
    }
}

fn split_source(source: &str) -> Option<(&str, &str)> {
    source
        .split_once('/')
        .filter(|(p, q)| !p.is_empty() && !q.is_empty())
}

/// Where actual values come from during one computation, with what was already asked.
struct Sources<'a> {
    from: String,
    to: String,
    /// (plugin) → owner → row of its `summary`, or `None` when it has none.
    summaries: BTreeMap<String, Option<BTreeMap<i64, Value>>>,
    /// (source, owner or team) → value.
    asked: BTreeMap<(String, String), Decimal>,
    batch: bool,
    manual: &'a BTreeMap<(String, String, String), Decimal>,
}

impl Sources<'_> {
    fn ask_value(&mut self, source: &str, key: &str, args: Value) -> Result<Decimal> {
        if let Some(v) = self.asked.get(&(source.to_string(), key.to_string())) {
            return Ok(*v);
        }
        let (plugin, query) = split_source(source)
            .ok_or_else(|| Error::invalid(format!("data source '{source}' is not plugin/query")))?;
        let answer = host::ask(plugin, query, &args)
            .map_err(|e| Error::failed(format!("asking {plugin} for {query} failed: {e}")))?;
        let v = decimal_of(&answer["value"]).ok_or_else(|| {
            Error::failed(format!("{plugin} answered {query} without a numeric value"))
        })?;
        self.asked.insert((source.to_string(), key.to_string()), v);
        Ok(v)
    }

    fn person(&mut self, source: &str, owner: i64) -> Result<Decimal> {
        let (plugin, query) = split_source(source)
            .ok_or_else(|| Error::invalid(format!("data source '{source}' is not plugin/query")))?;
        if self.batch {
            if !self.summaries.contains_key(plugin) {
                let rows = host::ask(
                    plugin,
                    "summary",
                    &json!({"from": self.from, "to": self.to}),
                )
                .ok()
                .and_then(|v| v["owners"].as_array().cloned())
                .map(|rows| {
                    rows.into_iter()
                        .filter_map(|r| Some((r["owner"].as_i64()?, r)))
                        .collect::<BTreeMap<i64, Value>>()
                });
                self.summaries.insert(plugin.to_string(), rows);
            }
            if let Some(Some(rows)) = self.summaries.get(plugin) {
                let answered = rows.values().next().is_none_or(|r| r.get(query).is_some());
                if answered {
                    return Ok(rows
                        .get(&owner)
                        .and_then(|r| decimal_of(&r[query]))
                        .unwrap_or_default());
                }
            }
        }
        let args = json!({"owner": owner, "from": self.from, "to": self.to});
        self.ask_value(source, &format!("owner:{owner}"), args)
    }

    fn team(&mut self, source: &str, team: &str) -> Result<Decimal> {
        let args = json!({"team": team, "from": self.from, "to": self.to});
        self.ask_value(source, &format!("team:{team}"), args)
    }
}

/// Computes the figures of some appraisals of a cycle over `[cycle.from, to]`.
pub fn compute(
    cycle: &Cycle,
    list: &[Appraisal],
    targets: &BTreeMap<i64, Vec<Target>>,
    to: &str,
) -> Result<Vec<Outcome>> {
    let rules = Rules::load()?;
    // Manual actuals by (team, indicator, person) for team aggregates: from the whole cycle,
    // whichever appraisals are being computed.
    let team_manual = targets
        .values()
        .flatten()
        .any(|t| t.source == "manual" && t.scope == "team");
    let (everyone, all_targets);
    let (list_all, targets_all) = if team_manual {
        everyone = model::appraisals(cycle.rec.id)?;
        all_targets = model::targets_of(&everyone)?;
        (&everyone[..], &all_targets)
    } else {
        (list, targets)
    };
    let mut manual: BTreeMap<(String, String, String), Decimal> = BTreeMap::new();
    for a in list_all {
        for t in targets_all.get(&a.rec.id).into_iter().flatten() {
            if t.source == "manual" && t.scope == "person" {
                if let Some(v) = t.rec.decimal("actual") {
                    manual.insert((a.team.clone(), t.name.clone(), a.person.to_string()), v);
                }
            }
        }
    }
    let mut sources = Sources {
        from: cycle.from.clone(),
        to: to.to_string(),
        summaries: BTreeMap::new(),
        asked: BTreeMap::new(),
        batch: list.len() > 3,
        manual: &manual,
    };
    let ratings = ratings_of(list)?;
    let mut profiles: BTreeMap<i64, Profile> = BTreeMap::new();
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        if let std::collections::btree_map::Entry::Vacant(e) = profiles.entry(a.profile()) {
            e.insert(Profile::load(a.profile())?);
        }
        let profile = &profiles[&a.profile()];
        let ts = targets.get(&a.rec.id).cloned().unwrap_or_default();
        let empty = Vec::new();
        let rs = ratings.get(&a.rec.id).unwrap_or(&empty);
        out.push(one(cycle, a, &ts, rs, profile, &rules, &mut sources)?);
    }
    Ok(out)
}

/// A qualitative item of a job profile.
#[derive(Debug, Clone)]
pub struct Item {
    /// Record id: the rating form's fields are keyed by it (`score_<id>`).
    pub id: i64,
    /// Name (what a rating records).
    pub name: String,
    /// Weight.
    pub weight: i64,
    /// What good looks like.
    pub description: String,
}

/// A job profile's weights.
#[derive(Debug, Clone)]
pub struct Profile {
    /// KPI share %.
    pub kpi_share: i64,
    /// Rater group → weight.
    pub groups: BTreeMap<String, i64>,
    /// Qualitative items in HR's order (the order they were created in).
    pub items: Vec<Item>,
}

impl Profile {
    /// Reads a profile and its qualitative items.
    pub fn load(id: i64) -> Result<Profile> {
        let rec = host::elevated().get("job_profile", id)?;
        let groups = ["manager", "peer", "self", "subordinate"]
            .iter()
            .map(|g| (g.to_string(), rec.i64(&format!("{g}_weight")).unwrap_or(0)))
            .collect();
        let items = host::query_all(
            "quality_item",
            &Query::new().elevated().eq("profile", id).sort("id"),
        )?
        .into_iter()
        .map(|q| Item {
            id: q.id,
            name: q.str("name").unwrap_or_default().to_string(),
            weight: q.i64("weight").unwrap_or(0),
            description: q.str("description").unwrap_or_default().to_string(),
        })
        .collect();
        Ok(Profile {
            kpi_share: rec.i64("kpi_weight").unwrap_or(100),
            groups,
            items,
        })
    }

    /// Qualitative item name → weight, for the 360° part.
    pub fn item_weights(&self) -> BTreeMap<String, i64> {
        self.items
            .iter()
            .map(|i| (i.name.clone(), i.weight))
            .collect()
    }
}

/// Ratings of some appraisals, by appraisal id.
pub fn ratings_of(list: &[Appraisal]) -> Result<BTreeMap<i64, Vec<Record>>> {
    let mut out: BTreeMap<i64, Vec<Record>> = BTreeMap::new();
    for chunk in list.chunks(100) {
        let ids: Vec<String> = chunk.iter().map(|a| a.rec.id.to_string()).collect();
        let q = Query::new().elevated().in_list("appraisal", ids).sort("id");
        for r in host::query_all("rating", &q)? {
            out.entry(r.i64("appraisal").unwrap_or(0))
                .or_default()
                .push(r);
        }
    }
    Ok(out)
}

/// The install-wide settings a computation uses, read once per computation.
struct Rules {
    /// The grade table.
    bands: Vec<Band>,
    /// Highest rating.
    scale: i64,
    /// Fewest raters for a peer or subordinate group to count.
    min_raters: usize,
}

impl Rules {
    fn load() -> Result<Rules> {
        let config = host::config();
        Ok(Rules {
            bands: model::bands()?,
            scale: config["rating_scale"].as_i64().unwrap_or(5).max(1),
            min_raters: config["min_raters"].as_u64().unwrap_or(2) as usize,
        })
    }
}

fn one(
    cycle: &Cycle,
    a: &Appraisal,
    targets: &[Target],
    ratings: &[Record],
    profile: &Profile,
    rules: &Rules,
    sources: &mut Sources<'_>,
) -> Result<Outcome> {
    let mut notes = Vec::new();
    let mut kpis = Vec::new();
    // Counted up to a day before the first: the period has not started.
    let started = sources.to >= sources.from;
    if !started {
        notes.push(format!(
            "the period starts on {}: not started",
            sources.from
        ));
    }
    for t in targets {
        let actual = if !started && t.source != "manual" {
            // Before the period starts there is nothing to count, and no source is asked.
            Decimal::ZERO
        } else if t.source == "manual" && t.scope == "person" {
            match t.rec.decimal("actual") {
                Some(v) => v,
                None => {
                    notes.push(format!("{}: no actual entered", t.name));
                    Decimal::ZERO
                }
            }
        } else if t.source == "manual" {
            // A lead's manual team indicator: the sum of the members' entries.
            sources
                .manual
                .iter()
                .filter(|((team, name, person), _)| {
                    team == &a.team && name == &t.name && person != &a.person.to_string()
                })
                .map(|(_, v)| *v)
                .sum()
        } else if t.scope == "team" {
            sources.team(&t.source, &a.team)?
        } else {
            sources.person(&t.source, a.person)?
        };
        let actual = score::round2(actual);
        let attainment = score::attainment(actual, t.target, t.lower_is_better);
        if t.target.is_none_or(|v| v.is_zero()) {
            notes.push(format!("{}: no target", t.name));
        }
        let points = if !started {
            Decimal::ZERO
        } else if t.rule == "plugin" {
            rule_plugin(cycle, a, t, actual, attainment, sources)?
        } else {
            score::builtin(&t.rule, attainment, t.cap, &t.bands)
                .map_err(|e| Error::invalid(format!("{}: {e}", t.name)))?
        };
        kpis.push(KpiResult {
            id: t.rec.id,
            name: t.name.clone(),
            source: t.source.clone(),
            scope: t.scope.clone(),
            weight: t.weight,
            target: t.target,
            actual,
            attainment,
            score: points,
        });
    }
    let kpi_score = (!kpis.is_empty())
        .then(|| score::weighted(&kpis.iter().map(|k| (k.weight, k.score)).collect::<Vec<_>>()));
    let mut raters: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for r in ratings {
        raters
            .entry(r.str("rater_group").unwrap_or_default().to_string())
            .or_default()
            .insert(r.i64("rater").unwrap_or(0));
    }
    // Anonymity: a peer or subordinate group counts only with enough raters, so that no
    // figure anyone sees is one colleague's rating.
    let min = rules.min_raters;
    let too_few: Vec<String> = raters
        .iter()
        .filter(|(g, r)| matches!(g.as_str(), "peer" | "subordinate") && r.len() < min)
        .map(|(g, _)| g.clone())
        .collect();
    for g in &too_few {
        notes.push(format!("{g}: fewer than {min} raters, not counted"));
    }
    let rs: Vec<Rating> = ratings
        .iter()
        .map(|r| Rating {
            group: r.str("rater_group").unwrap_or_default().to_string(),
            item: r.str("item").unwrap_or_default().to_string(),
            score: r.i64("score").unwrap_or(0),
        })
        .filter(|r| !too_few.contains(&r.group))
        .collect();
    let (quality_score, groups) =
        score::quality(&rs, &profile.item_weights(), &profile.groups, rules.scale);
    if quality_score.is_none() && !profile.items.is_empty() && profile.kpi_share < 100 {
        notes.push("no 360° ratings: the KPI part counts fully".into());
    }
    let total = score::total(kpi_score, quality_score, profile.kpi_share);
    let band = score::grade(total, &rules.bands);
    let coefficient = band.map(|b| b.coefficient).unwrap_or_default();
    let bonus_base = a.rec.decimal("bonus_base");
    Ok(Outcome {
        appraisal: a.rec.id,
        person: a.person,
        kpis,
        kpi_score,
        quality_score,
        groups,
        raters: raters.into_iter().map(|(k, v)| (k, v.len())).collect(),
        score: total,
        grade: band.map(|b| b.grade.clone()).unwrap_or_else(|| "-".into()),
        coefficient,
        bonus_base,
        bonus: score::bonus(bonus_base, coefficient),
        notes,
    })
}

fn rule_plugin(
    cycle: &Cycle,
    a: &Appraisal,
    t: &Target,
    actual: Decimal,
    attainment: Decimal,
    sources: &Sources<'_>,
) -> Result<Decimal> {
    let (plugin, query) = split_source(&t.rule_plugin).ok_or_else(|| {
        Error::invalid(format!(
            "{}: the rule plugin must be written plugin/query, not '{}'",
            t.name, t.rule_plugin
        ))
    })?;
    let (pf, pt) = cycle.previous();
    let args = json!({
        "person": a.person, "team": a.team, "source": t.source, "scope": t.scope,
        "from": cycle.from, "to": sources.to, "previous_from": pf, "previous_to": pt,
        "actual": actual.to_string(), "target": t.target.map(|v| v.to_string()),
        "attainment": attainment.to_string(), "cap": t.cap,
    });
    let answer = host::ask(plugin, query, &args)
        .map_err(|e| Error::failed(format!("{}: rule {plugin}/{query} failed: {e}", t.name)))?;
    let points = decimal_of(&answer["score"]).ok_or_else(|| {
        Error::failed(format!(
            "{}: rule {plugin}/{query} answered without a numeric score",
            t.name
        ))
    })?;
    let cap = Decimal::from(t.cap.unwrap_or(1000));
    Ok(score::round2(points.max(Decimal::ZERO).min(cap)))
}

/// Writes figures to the target and appraisal records where they changed. With `close`,
/// also the snapshot and the `scored` status.
pub fn persist(
    cycle: &Cycle,
    list: &[Appraisal],
    outcomes: &[Outcome],
    to: &str,
    close: bool,
) -> Result<()> {
    let by_id: BTreeMap<i64, &Appraisal> = list.iter().map(|a| (a.rec.id, a)).collect();
    let targets = model::targets_of(list)?;
    for o in outcomes {
        for k in &o.kpis {
            let Some(t) = targets
                .get(&o.appraisal)
                .and_then(|ts| ts.iter().find(|t| t.rec.id == k.id))
            else {
                continue;
            };
            let mut patch = json!({
                "attainment": k.attainment.to_string(),
                "score": k.score.to_string(),
            });
            if t.source != "manual" || t.scope != "person" {
                patch["actual"] = json!(k.actual.to_string());
            }
            if changed(&t.rec, &patch) {
                host::elevated().update("appraisal_target", t.rec.id, t.rec.version, &patch)?;
            }
        }
        let a = by_id[&o.appraisal];
        let mut patch = json!({
            "kpi_score": o.kpi_score.map(|d| d.to_string()),
            "quality_score": o.quality_score.map(|d| d.to_string()),
            "score": o.score.to_string(),
            "grade": o.grade,
            "coefficient": o.coefficient.to_string(),
            "bonus": o.bonus.to_string(),
        });
        if close {
            patch["snapshot"] = json!(o.to_json(cycle, to).to_string());
            patch["status"] = json!("scored");
        }
        if changed(&a.rec, &patch) {
            host::elevated().update("appraisal", a.rec.id, a.rec.version, &patch)?;
        }
    }
    Ok(())
}

/// Whether a patch would change a record (decimals compared as numbers).
fn changed(r: &Record, patch: &Value) -> bool {
    patch.as_object().is_some_and(|m| {
        m.iter().any(|(k, v)| {
            let old = r.get(k).cloned().unwrap_or(Value::Null);
            match (decimal_of(&old), decimal_of(v)) {
                (Some(a), Some(b)) => a != b,
                _ => old != *v,
            }
        })
    })
}

/// The snapshot of a closed appraisal.
pub fn snapshot(a: &Appraisal) -> Option<Value> {
    a.rec
        .str("snapshot")
        .and_then(|s| qingguan_plugin_sdk::serde_json::from_str(s).ok())
}
