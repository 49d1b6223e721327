//! A cycle's figures: computed and stored while it runs, today's standing (nothing written),
//! and the frozen results once the scores closed.

use crate::engine;
use crate::model::{self, Appraisal, Cycle};
use crate::who::Caller;
use qingguan_plugin_sdk::{json, Decimal, Result, Value};
use std::str::FromStr;

/// Updates a running cycle's actuals and scores from today's data (a closed cycle keeps its
/// snapshot). Returns every appraisal's figures.
pub(crate) fn compute(me: &Caller, cycle: &Cycle) -> Result<Value> {
    me.require_hr()?;
    let list = model::appraisals(cycle.rec.id)?;
    if cycle.scores_closed() {
        return Ok(results(cycle, &list));
    }
    if !cycle.appraising() {
        // The plan stage sets targets: no scores are computed or stored yet.
        return planned(cycle, &list);
    }
    let targets = model::targets_of(&list)?;
    let to = cycle.live_to();
    let outcomes = engine::compute(cycle, &list, &targets, &to)?;
    engine::persist(cycle, &list, &outcomes, &to, false)?;
    Ok(json!({
        "cycle": cycle.rec.id, "stage": cycle.stage, "closed": false, "from": cycle.from, "to": to,
        "appraisals": outcomes.iter().map(|o| o.to_json(cycle, &to)).collect::<Vec<_>>(),
    }))
}

/// The figures of some appraisals of a cycle, in the results shape: the snapshots once the
/// scores closed, else computed now over the period so far (nothing is written).
pub(crate) fn standing(cycle: &Cycle, list: &[Appraisal]) -> Result<Value> {
    if cycle.scores_closed() {
        return Ok(results(cycle, list));
    }
    if !cycle.appraising() {
        return planned(cycle, list);
    }
    let targets = model::targets_of(list)?;
    let to = cycle.live_to();
    let out = engine::compute(cycle, list, &targets, &to)?;
    Ok(json!({
        "cycle": cycle.rec.id, "stage": cycle.stage, "closed": false, "from": cycle.from, "to": to,
        "appraisals": out.iter().map(|o| o.to_json(cycle, &to)).collect::<Vec<_>>(),
    }))
}

/// A cycle in the plan stage: the targets being agreed, without actuals or scores (a score
/// before the period is appraised would only mislead: a total of 1.75 and grade D for targets
/// not yet agreed). Nothing is asked of any source.
pub(crate) fn planned(cycle: &Cycle, list: &[Appraisal]) -> Result<Value> {
    let targets = model::targets_of(list)?;
    let s = |d: &Decimal| d.normalize().to_string();
    Ok(json!({
        "cycle": cycle.rec.id, "stage": cycle.stage, "closed": false, "planning": true,
        "started": cycle.started(), "from": cycle.from, "to": cycle.to,
        "appraisals": list.iter().map(|a| json!({
            "appraisal": a.rec.id, "person": a.person, "cycle": cycle.rec.id, "planning": true,
            "from": cycle.from, "to": cycle.to, "status": a.status,
            "kpis": targets.get(&a.rec.id).into_iter().flatten().map(|t| json!({
                "id": t.rec.id, "name": t.name, "source": t.source, "scope": t.scope,
                "weight": t.weight, "target": t.target.map(|v| s(&v)),
                "actual": null, "attainment": null, "score": null,
            })).collect::<Vec<_>>(),
            "kpi_score": null, "quality_score": null, "groups": {}, "raters": {},
            "score": null, "grade": null, "coefficient": null,
            "bonus_base": a.rec.decimal("bonus_base").map(|d| s(&d)), "bonus": null, "notes": [],
        })).collect::<Vec<_>>(),
    }))
}

/// A closed cycle's results, from the snapshots.
pub(crate) fn results(cycle: &Cycle, list: &[Appraisal]) -> Value {
    json!({
        "cycle": cycle.rec.id, "stage": cycle.stage, "closed": true, "from": cycle.from, "to": cycle.to,
        "appraisals": list.iter().filter_map(|a| {
            let mut s = engine::snapshot(a)?;
            // The bonus base may be set after the close; the frozen coefficient applies.
            if let (Some(base), Some(coef)) = (a.rec.decimal("bonus_base"), s["coefficient"].as_str().and_then(|c| Decimal::from_str(c).ok())) {
                s["bonus_base"] = json!(base.normalize().to_string());
                s["bonus"] = json!(crate::score::bonus(Some(base), coef).to_string());
            }
            Some(s)
        }).collect::<Vec<_>>(),
    })
}
