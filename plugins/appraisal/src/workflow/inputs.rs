//! What the score is made of besides CRM data: actuals of manual indicators (the manager) and
//! 360° ratings (who may rate as which group, and the ratings themselves).

use super::{manages, parse_amount};
use crate::engine;
use crate::model::{self, Appraisal, Cycle, Person};
use crate::who::Caller;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{json, Error, Result};
use std::collections::BTreeMap;

/// The manager enters actuals of manual indicators: `actual_<id>` values.
pub(crate) fn actuals(me: &Caller, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<()> {
    if !manages(me, a) {
        return Err(Error::Denied(
            me.t("only the manager enters actuals", "只有上级可以录入实际值")
                .into(),
        ));
    }
    let cycle = Cycle::load(a.cycle())?;
    if !matches!(cycle.stage.as_str(), "plan" | "appraise") {
        return Err(Error::Conflict(
            me.t("the scores of this cycle are closed", "本周期成绩已锁定")
                .into(),
        ));
    }
    for t in a.targets()? {
        let key = format!("actual_{}", t.rec.id);
        let Some(v) = form.get(&key).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        if t.source != "manual" || t.scope != "person" {
            return Err(Error::invalid(me.t(
                "this indicator comes from CRM data",
                "该指标来自CRM数据，不能手工录入",
            ))
            .field(key, t.name.clone()));
        }
        let d = parse_amount(v, &key, me)?;
        host::elevated().update(
            "appraisal_target",
            t.rec.id,
            t.rec.version,
            &json!({"actual": d.to_string()}),
        )?;
    }
    Ok(())
}

/// Which groups a user may rate an appraisal as.
pub(crate) fn rater_groups(
    uid: i64,
    a: &Appraisal,
    people: &BTreeMap<i64, Person>,
    appraised: &[i64],
) -> Vec<&'static str> {
    let mut g = Vec::new();
    if uid == a.person {
        g.push("self");
    }
    if a.manager == Some(uid) {
        g.push("manager");
    }
    let me = people.get(&uid);
    if uid != a.person
        && a.manager != Some(uid)
        && appraised.contains(&uid)
        && me.is_some_and(|m| m.team == a.team && m.manager != Some(a.person))
    {
        g.push("peer");
    }
    if me.is_some_and(|m| m.manager == Some(a.person)) && uid != a.person {
        g.push("subordinate");
    }
    g
}

/// A rater submits scores for every qualitative item (`score_<item id>` = 1…scale, in HR's
/// order) as one group.
pub(crate) fn rate(me: &Caller, a: &Appraisal, form: &BTreeMap<String, String>) -> Result<usize> {
    let uid = me.user()?;
    let cycle = Cycle::load(a.cycle())?;
    if cycle.stage != "appraise" {
        return Err(Error::Conflict(
            me.t(
                "ratings are given in the appraise stage",
                "只能在考核阶段评分",
            )
            .into(),
        ));
    }
    let people = model::people()?;
    let appraised: Vec<i64> = model::appraisals(cycle.rec.id)?
        .iter()
        .map(|x| x.person)
        .collect();
    let group = form.get("group").cloned().unwrap_or_default();
    if !rater_groups(uid, a, &people, &appraised).contains(&group.as_str()) {
        return Err(Error::Denied(
            me.t(
                "you do not rate this person in that role",
                "您不能以该身份为此人评分",
            )
            .into(),
        ));
    }
    let profile = engine::Profile::load(a.profile())?;
    let scale = host::config()["rating_scale"].as_i64().unwrap_or(5).max(1);
    let mut scores = Vec::new();
    for item in &profile.items {
        // Keyed by the item's record id: `score_<id>`, and optionally `item_<id>` with the name
        // the form showed — if HR renamed the item meanwhile, nothing lands on the wrong one.
        let key = format!("score_{}", item.id);
        if form
            .get(&format!("item_{}", item.id))
            .is_some_and(|shown| shown.trim() != item.name)
        {
            return Err(Error::Conflict(
                me.t(
                    "the items to rate changed; open the form again",
                    "评价项已变更，请重新打开评分表",
                )
                .into(),
            ));
        }
        let v = form.get(&key).map(|s| s.trim()).unwrap_or_default();
        let n: i64 = v
            .parse()
            .ok()
            .filter(|n| (1..=scale).contains(n))
            .ok_or_else(|| {
                Error::invalid(me.t("rate every item", "请为每一项评分"))
                    .field(key.clone(), format!("{}: 1–{scale}", item.name))
            })?;
        scores.push((item.name.clone(), n));
    }
    let comment = form
        .get("comment")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let mine = host::query_all(
        "rating",
        &Query::new()
            .elevated()
            .eq("appraisal", a.rec.id)
            .eq("rater", uid)
            .eq("rater_group", &group),
    )?;
    for (item, n) in &scores {
        let body = json!({"appraisal": a.rec.id, "rater": uid, "rater_group": group, "item": item,
                          "score": n, "comment": comment, "owner": uid});
        match mine.iter().find(|r| r.str("item") == Some(item.as_str())) {
            Some(r) => {
                host::elevated().update("rating", r.id, r.version, &body)?;
            }
            None => {
                host::elevated().create("rating", &body)?;
            }
        }
    }
    Ok(scores.len())
}
