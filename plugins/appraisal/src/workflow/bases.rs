//! HR sets the bonus base of every appraisal of a cycle in one request (the table form on the
//! HR overview, or JSON `{"cycle": id, "bases": {"<appraisal id>": "10000", …}}`): all or
//! nothing, with a field error `bases.<id>` per refused row.

use super::parse_amount;
use crate::model::{self, Cycle};
use crate::score;
use crate::who::Caller;
use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::serde_json;
use qingguan_plugin_sdk::{json, Decimal, Error, Result, Value};
use std::collections::BTreeMap;

/// The rows of a request: `bases.<id>` form fields, and a `bases` JSON object (as the SDK's
/// `form()` passes it: its JSON text). An empty value clears a base.
fn rows(form: &BTreeMap<String, String>) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("bases.")
                .map(|id| (id.to_string(), v.clone()))
        })
        .collect();
    if let Some(text) = form.get("bases").filter(|t| !t.trim().is_empty()) {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
            return Err(
                Error::invalid("'bases' must be an object: appraisal id → base")
                    .field("bases", "appraisal id → amount"),
            );
        };
        for (id, v) in map {
            let v = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.push((id, v));
        }
    }
    Ok(out)
}

/// Sets the bases; answers how many appraisals changed.
pub(crate) fn set_bases(me: &Caller, form: &BTreeMap<String, String>) -> Result<Value> {
    me.require_hr()?;
    let cycle_id = model::id_arg(form.get("cycle").map(String::as_str), "cycle")?;
    let cycle = Cycle::load(cycle_id)?;
    let list = model::appraisals(cycle.rec.id)?;
    let rows = rows(form)?;
    if rows.is_empty() {
        return Err(
            Error::invalid(me.t("no bonus base was given", "未填写奖金基数"))
                .field("bases", me.t("appraisal id → amount", "考核表编号 → 金额")),
        );
    }
    // Everything is checked before anything is written.
    let mut fields = Vec::new();
    let mut plan = Vec::new();
    for (id, v) in &rows {
        let key = format!("bases.{id}");
        let Some(a) = id
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| list.iter().find(|a| a.rec.id == id))
        else {
            fields.push((
                key,
                me.t("not an appraisal of this cycle", "不是本周期的考核表")
                    .to_string(),
            ));
            continue;
        };
        let base = if v.trim().is_empty() {
            None
        } else {
            match parse_amount(v, &key, me) {
                Ok(d) => Some(d),
                Err(_) => {
                    fields.push((
                        key,
                        me.t("must be a number ≥ 0", "必须是不小于0的数字")
                            .to_string(),
                    ));
                    continue;
                }
            }
        };
        plan.push((a, base));
    }
    if !fields.is_empty() {
        return Err(Error::Invalid {
            message: me
                .t(
                    "some bonus bases were refused; nothing was saved",
                    "部分奖金基数有误，均未保存",
                )
                .into(),
            fields,
        });
    }
    let mut done: Vec<(i64, Option<Decimal>, Value)> = Vec::new();
    for (a, base) in plan {
        let old = a.rec.decimal("bonus_base");
        if old.map(|d| d.normalize()) == base.map(|d| d.normalize()) {
            continue;
        }
        // The bonus follows its base once a grade's coefficient is set (as the guard does
        // for HR's own edits; the plugin's writes pass it).
        let mut patch = json!({"bonus_base": base.map(|d| d.to_string())});
        if let Some(coef) = a.rec.decimal("coefficient") {
            patch["bonus"] = json!(base.map(|b| score::bonus(Some(b), coef).to_string()));
        }
        match host::elevated().update("appraisal", a.rec.id, a.rec.version, &patch) {
            Ok(_) => done.push((
                a.rec.id,
                old,
                a.rec.get("bonus").cloned().unwrap_or(Value::Null),
            )),
            Err(e) => {
                undo(&done);
                return Err(e);
            }
        }
    }
    Ok(json!({"cycle": cycle.rec.id, "updated": done.len()}))
}

/// Puts back what was written before a later write failed (all or nothing).
fn undo(done: &[(i64, Option<Decimal>, Value)]) {
    for (id, old, bonus) in done {
        let Ok(r) = host::elevated().get("appraisal", *id) else {
            continue;
        };
        let patch = json!({"bonus_base": old.map(|d| d.to_string()), "bonus": bonus});
        if let Err(e) = host::elevated().update("appraisal", *id, r.version, &patch) {
            host::log_error(&format!(
                "bonus bases: could not put back appraisal {id}: {e}"
            ));
        }
    }
}
