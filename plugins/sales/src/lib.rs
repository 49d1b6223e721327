//! Sales (销售管理): deals in a configurable pipeline, follow-ups with overdue tracking,
//! sales targets with actual versus target, a dashboard, and the per-person sales figures
//! that appraisal is scored from — built only on the Qingguan SDK.

mod dashboard;
mod lose;
pub mod metrics;
mod overdue;
mod period;
mod rules;

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::*;

struct Sales;

impl Plugin for Sales {
    fn install() -> Result<()> {
        host::kv_set("installed_on", dates::format(dates::today()).as_bytes())
    }

    fn health() -> Result<()> {
        host::kv_get("installed_on")?
            .map(|_| ())
            .ok_or_else(|| Error::failed("sales was not installed"))
    }

    fn before_write(
        op: WriteOp,
        entity: &str,
        before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        match entity {
            "deal" if op != WriteOp::Delete => rules::deal(op, before, fields),
            "followup" if op != WriteOp::Delete => rules::followup(fields),
            "sales_target" if op != WriteOp::Delete => rules::target(fields),
            _ => Ok(()),
        }
    }

    fn after_write(_op: WriteOp, entity: &str, record: &Record) -> Result<()> {
        match entity {
            "deal" => rules::deal_won(record),
            _ => Ok(()),
        }
    }

    fn action(name: &str, entity: &str, id: i64, input: Value) -> Result<Value> {
        if name == "mark_lost" {
            // The action has no input form: without a reason it answers 422 on `reason`,
            // naming the page that asks for it.
            let reason = input.get("reason").and_then(Value::as_str);
            let note = input.get("note").and_then(Value::as_str);
            return Ok(lose::outcome(&lose::mark_lost(id, reason, note)?));
        }
        let deal = host::elevated().get(entity, id)?;
        let patch = match name {
            "mark_won" => {
                let mut p = json!({"stage": "won"});
                if let Some(a) = input.get("amount").filter(|a| !a.is_null()) {
                    p["amount"] = a.clone();
                }
                p
            }
            _ => return Err(Error::not_found(format!("no action {name}"))),
        };
        let r = host::update(entity, id, deal.version, &patch)?;
        Ok(json!({"stage": r.str("stage"), "closed_on": r.str("closed_on"), "version": r.version}))
    }

    fn job(name: &str) -> Result<()> {
        match name {
            "mark_overdue" => mark_overdue(),
            _ => Err(Error::not_found(name)),
        }
    }

    fn http(req: Request) -> Result<Response> {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/dashboard") => {
                let period = period::Period::of(&req)?;
                Ok(Response::with_type(
                    "text/html; charset=utf-8",
                    dashboard::dashboard(period.as_ref())?,
                ))
            }
            // Overdue follow-ups computed from their due date: the caller's own (the
            // dashboard widget), or `?who=all` that the caller may see.
            ("GET", "/overdue") => {
                let all = req.query_param("who").as_deref() == Some("all");
                if req.wants_json() {
                    Ok(Response::json(&overdue::json(all)?))
                } else {
                    Ok(Response::with_type(
                        "text/html; charset=utf-8",
                        overdue::page(all)?,
                    ))
                }
            }
            ("GET", "/lose") => {
                let deal = match req.query_param("deal").filter(|d| !d.is_empty()) {
                    Some(d) => Some(d.parse::<i64>().map_err(|_| {
                        Error::invalid("'deal' must be an id").field("deal", "must be an id")
                    })?),
                    None => None,
                };
                let done = req.query_param("done").is_some();
                Ok(Response::with_type(
                    "text/html; charset=utf-8",
                    lose::page(deal, done, None, &Default::default())?,
                ))
            }
            ("POST", "/lose") => lose::post(&req, req.wants_json()),
            // A page for people, JSON for API clients that ask for it.
            ("GET", "/targets") if req.wants_json() => Ok(Response::json(&dashboard::targets()?)),
            ("GET", "/targets") => Ok(Response::with_type(
                "text/html; charset=utf-8",
                dashboard::targets_page()?,
            )),
            _ => Ok(Response::status(404)),
        }
    }

    fn answer(query: &str, args: Value) -> Result<Value> {
        metrics::answer(query, &args)
    }
}

/// Sets the stored mark on follow-ups that fell due since they were last written (the write
/// hook keeps it right on every write; pages compute "overdue" from the date anyway).
fn mark_overdue() -> Result<()> {
    let today = dates::format(dates::today());
    let due = host::query_all(
        "followup",
        &Query::new()
            .elevated()
            .lt("next_on", &today)
            .ne("overdue", "true")
            .ne("done", "true"),
    )?;
    for f in due {
        host::update("followup", f.id, f.version, &json!({"overdue": true}))?;
    }
    Ok(())
}

export_plugin!(Sales);
