//! Write hooks: defaults and checks on what implementers edit (profiles, KPIs, cycles,
//! company and team targets), and protection of what only the workflow may change (stages,
//! targets, actuals, ratings, scores). Writes the plugin makes itself pass unchecked.

use crate::model::{self, Cycle};
use crate::score;
use crate::who;
use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::{json, Error, Fields, Record, Result, WriteOp};

/// Fields of an appraisal a user (HR) may edit directly.
const APPRAISAL_EDITABLE: [&str; 3] = ["title", "manager", "bonus_base"];

/// Checks one write by a user (or another plugin).
pub fn before_write(
    op: WriteOp,
    entity: &str,
    before: Option<&Record>,
    f: &mut Fields,
) -> Result<()> {
    let ctx = host::context();
    if ctx.asked_by.as_deref() == Some(ctx.plugin_id.as_str()) {
        return Ok(());
    }
    let me = who::me();
    let workflow = || {
        Error::Denied(
            me.t(
                "targets, actuals, ratings and scores change through the appraisal pages",
                "目标、实际值、评分和成绩只能在考核页面中修改",
            )
            .into(),
        )
    };
    match (entity, op) {
        ("job_profile", WriteOp::Create) => {
            for (k, v) in [
                ("kpi_weight", 70),
                ("manager_weight", 50),
                ("peer_weight", 20),
                ("self_weight", 10),
                ("subordinate_weight", 20),
            ] {
                if f.get(k).is_none_or(|v| v.is_null()) {
                    f.set(k, v);
                }
            }
            if f.get("active").is_none_or(|v| v.is_null()) {
                f.set("active", true);
            }
            Ok(())
        }
        ("kpi", WriteOp::Create | WriteOp::Update) => {
            let source = f.str("source").unwrap_or("manual").to_string();
            if source != "manual" && !source.contains('/') {
                return Err(
                    Error::invalid(me.t("unknown data source", "数据来源无效")).field(
                        "source",
                        me.t("manual or plugin/query", "manual 或 插件/查询"),
                    ),
                );
            }
            if f.get("scope").is_none_or(|v| v.is_null()) {
                f.set("scope", "person");
            }
            match f.str("rule").unwrap_or("linear") {
                "bands" => {
                    score::parse_bands(f.str("bands").unwrap_or_default())?;
                }
                "plugin" => {
                    let r = f.str("rule_plugin").unwrap_or_default();
                    if !r
                        .split_once('/')
                        .is_some_and(|(p, q)| !p.is_empty() && !q.is_empty())
                    {
                        return Err(
                            Error::invalid(me.t("name the rule plugin", "请填写规则插件")).field(
                                "rule_plugin",
                                me.t(
                                    "write plugin/query, e.g. growth_rule/score",
                                    "格式为 插件/查询，例如 growth_rule/score",
                                ),
                            ),
                        );
                    }
                }
                _ => {
                    if f.get("cap").is_none_or(|v| v.is_null()) {
                        f.set("cap", 120);
                    }
                }
            }
            Ok(())
        }
        ("appraisal_cycle", WriteOp::Create) => {
            if f.str("stage").is_some_and(|s| s != "plan") {
                return Err(Error::invalid(me.t(
                    "a new cycle starts in the plan stage",
                    "新周期从计划阶段开始",
                ))
                .field("stage", "plan"));
            }
            f.set("stage", "plan");
            fill_end(f, &me)
        }
        ("appraisal_cycle", WriteOp::Update) => {
            let before = before.map(|b| Cycle::of(b.clone()));
            let stage = before.as_ref().map(|c| c.stage.clone()).unwrap_or_default();
            if f.str("stage").unwrap_or("plan") != stage {
                return Err(Error::invalid(me.t(
                    "stages change with the cycle's “Next stage” action",
                    "阶段只能通过“进入下一阶段”操作变更",
                ))
                .field("stage", stage));
            }
            let dates_changed = before.as_ref().is_some_and(|b| {
                b.rec.str("starts_on") != f.str("starts_on")
                    || b.rec.str("ends_on") != f.str("ends_on")
            });
            if dates_changed && stage != "plan" {
                return Err(Error::invalid(me.t(
                    "the period is fixed once the cycle runs",
                    "周期开始后不能修改起止日期",
                ))
                .field("starts_on", stage));
            }
            fill_end(f, &me)
        }
        ("appraisal_cycle", WriteOp::Delete) => {
            // A cycle whose scores are not closed may be cancelled: its appraisals go with it.
            let cycle = Cycle::of(before.cloned().ok_or_else(workflow)?);
            crate::workflow::check_removable(&me, &cycle)?;
            crate::workflow::remove_cycle_parts(&cycle)?;
            Ok(())
        }
        ("cycle_target", _) => {
            let cycle = f
                .i64("cycle")
                .or_else(|| before.and_then(|b| b.i64("cycle")))
                .unwrap_or(0);
            if Cycle::load(cycle).map(|c| c.stage).unwrap_or_default() != "plan" {
                return Err(Error::Conflict(
                    me.t(
                        "company and team targets are set in the plan stage",
                        "公司与团队目标只能在计划阶段设定",
                    )
                    .into(),
                ));
            }
            if op != WriteOp::Delete
                && !f
                    .str("source")
                    .is_some_and(|s| s == "manual" || s.contains('/'))
            {
                return Err(Error::invalid(me.t("unknown data source", "数据来源无效"))
                    .field("source", "plugin/query"));
            }
            Ok(())
        }
        ("appraisal", WriteOp::Create) => {
            let cycle = Cycle::load(f.i64("cycle").unwrap_or(0))?;
            if cycle.stage != "plan" {
                return Err(Error::Conflict(
                    me.t(
                        "people are added to a cycle in the plan stage",
                        "只能在计划阶段添加被考核人",
                    )
                    .into(),
                ));
            }
            let person = f.i64("person").unwrap_or(0);
            if model::appraisals(cycle.rec.id)?
                .iter()
                .any(|a| a.person == person)
            {
                return Err(Error::invalid(me.t(
                    "this person already has an appraisal in the cycle",
                    "此人在该周期已有考核表",
                ))
                .field("person", me.t("already appraised", "已存在")));
            }
            for k in f.as_map().keys().cloned().collect::<Vec<_>>() {
                let allowed = ["cycle", "person", "owner", "profile"].contains(&k.as_str())
                    || APPRAISAL_EDITABLE.contains(&k.as_str());
                if !allowed && f.get(&k).is_some_and(|v| !v.is_null()) {
                    return Err(workflow());
                }
            }
            let people = model::people()?;
            let p = people
                .get(&person)
                .ok_or_else(|| Error::invalid("no such user").field("person", "unknown user"))?;
            f.set("team", p.team.clone());
            f.set("status", "draft");
            // The person owns their appraisal (the core takes an owner a hook sets).
            f.set("owner", person);
            if f.str("title").is_none() {
                f.set("title", format!("{} · {}", cycle.name(), p.name));
            }
            if f.i64("manager").is_none() {
                if let Some(m) = p.manager {
                    f.set("manager", m);
                }
            }
            Ok(())
        }
        ("appraisal", WriteOp::Update) => {
            let b = before.ok_or_else(workflow)?;
            for (k, v) in f.as_map().clone() {
                let old = b.get(&k).cloned().unwrap_or(json!(null));
                let same = match (
                    crate::engine::decimal_of(&old),
                    crate::engine::decimal_of(&v),
                ) {
                    (Some(x), Some(y)) => x == y,
                    _ => old == v,
                };
                if !same && !APPRAISAL_EDITABLE.contains(&k.as_str()) {
                    return Err(workflow());
                }
            }
            // The bonus follows its base; the grade's coefficient stays as closed.
            if let (Some(base), Some(coef)) = (f.decimal("bonus_base"), b.decimal("coefficient")) {
                f.set("bonus", score::bonus(Some(base), coef).to_string());
            }
            Ok(())
        }
        ("appraisal", WriteOp::Delete) => {
            // Removing a person from a cycle whose scores are not closed: their targets,
            // negotiation and ratings go with the appraisal.
            let b = before.ok_or_else(workflow)?;
            let cycle = Cycle::load(b.i64("cycle").unwrap_or(0))?;
            crate::workflow::check_removable(&me, &cycle)?;
            crate::workflow::remove_parts(&model::Appraisal::of(b.clone()))
        }
        ("appraisal_target" | "rating", _) => Err(workflow()),
        ("improvement", WriteOp::Create) => Err(workflow()),
        ("improvement", WriteOp::Update) => {
            let b = before.ok_or_else(workflow)?;
            for (k, v) in f.as_map().clone() {
                if k != "status" && k != "due_on" && b.get(&k).cloned().unwrap_or(json!(null)) != v
                {
                    return Err(workflow());
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn fill_end(f: &mut Fields, me: &who::Caller) -> Result<()> {
    let from = f.str("starts_on").unwrap_or_default().to_string();
    if f.str("ends_on").is_none() {
        let end = model::default_end(&from, f.str("period").unwrap_or("quarter"));
        f.set("ends_on", end);
    }
    if f.str("ends_on").unwrap_or_default() < from.as_str() {
        return Err(Error::invalid(
            me.t("the cycle ends before it starts", "结束日期早于开始日期"),
        )
        .field("ends_on", me.t("before the start", "早于开始日期")));
    }
    Ok(())
}

/// After HR adds a person to a cycle by hand: their targets and carried items.
pub fn after_create(entity: &str, r: &Record) -> Result<()> {
    let ctx = host::context();
    if entity != "appraisal" || ctx.asked_by.as_deref() == Some(ctx.plugin_id.as_str()) {
        return Ok(());
    }
    let a = model::Appraisal::of(r.clone());
    let cycle = Cycle::load(a.cycle())?;
    let all = model::appraisals(cycle.rec.id)?;
    crate::workflow::seed(&a, &crate::workflow::Cascade::load(&cycle, &all)?)
}
