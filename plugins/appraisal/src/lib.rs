//! Appraisal (绩效考核): job profiles with KPI templates, cycles that run plan → appraise →
//! feedback → improve, KPI actuals asked live of other plugins (sales), 360° ratings, grade
//! bands and bonus, CSV for payroll — built only on the Qingguan SDK.

mod engine;
mod export;
mod guard;
mod model;
mod pages;
pub mod score;
mod who;
mod workflow;

use model::{Appraisal, Cycle};
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::*;

struct AppraisalPlugin;

/// The grade table a new install starts with (HR edits it as records).
const BANDS: [(&str, &str, &str); 5] = [
    ("S", "95", "1.5"),
    ("A", "85", "1.2"),
    ("B", "70", "1.0"),
    ("C", "60", "0.6"),
    ("D", "0", "0"),
];

impl Plugin for AppraisalPlugin {
    fn install() -> Result<()> {
        if host::query("grade_band", &Query::new().elevated().limit(1))?
            .items
            .is_empty()
        {
            for (grade, min, coef) in BANDS {
                host::elevated().create(
                    "grade_band",
                    &json!({"grade": grade, "min_score": min, "coefficient": coef}),
                )?;
            }
        }
        host::kv_set("installed", b"1.0.0")
    }

    fn health() -> Result<()> {
        host::kv_get("installed")?
            .map(|_| ())
            .ok_or_else(|| Error::failed("appraisal was not installed"))
    }

    fn before_write(
        op: WriteOp,
        entity: &str,
        before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        guard::before_write(op, entity, before, fields)
    }

    fn after_write(op: WriteOp, entity: &str, record: &Record) -> Result<()> {
        if op == WriteOp::Create {
            return guard::after_create(entity, record);
        }
        Ok(())
    }

    fn action(name: &str, _entity: &str, id: i64, input: Value) -> Result<Value> {
        let me = who::me();
        let cycle = Cycle::load(id)?;
        match name {
            "start" => workflow::start(&me, &cycle),
            "advance" => {
                let form = input
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), String::from)))
                    .collect();
                let confirm = workflow::Confirmation::of(&form);
                workflow::advance_confirmed(&me, &cycle, None, confirm)
            }
            "compute" => workflow::compute(&me, &cycle),
            _ => Err(Error::not_found(format!("no action {name}"))),
        }
    }

    fn job(name: &str) -> Result<()> {
        match name {
            // Keeps stored actuals and provisional scores of running cycles current.
            "refresh" => {
                let me = who::me();
                for c in host::query_all(
                    "appraisal_cycle",
                    &Query::new().elevated().eq("stage", "appraise"),
                )? {
                    workflow::compute(&me, &Cycle::of(c))?;
                }
                Ok(())
            }
            _ => Err(Error::not_found(name)),
        }
    }

    fn http(req: Request) -> Result<Response> {
        let me = who::me();
        let api = req
            .header("accept")
            .is_some_and(|a| a.contains("application/json"));
        let html = |s: String| Response::with_type("text/html; charset=utf-8", s);
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/me") => Ok(html(pages::me_page(&me)?)),
            ("GET", "/widget") => Ok(html(pages::widget(&me)?)),
            ("GET", "/team") => Ok(html(pages::team(&me)?)),
            ("GET", "/hr") => {
                let cycle = req.query_param("cycle").and_then(|c| c.parse().ok());
                let confirm = req.query_param("confirm");
                Ok(html(pages::hr(&me, cycle, confirm.as_deref(), None)?))
            }
            ("GET", "/appraisal") => {
                let id = model::id_arg(req.query_param("id").as_deref(), "id")?;
                Ok(html(pages::appraisal(&me, id, None)?))
            }
            ("GET", "/rate") => {
                let id = model::id_arg(req.query_param("appraisal").as_deref(), "appraisal")?;
                let group = req.query_param("group").unwrap_or_default();
                Ok(html(pages::rate_form(&me, id, &group, None)?))
            }
            ("GET", "/results") => {
                let id = model::id_arg(req.query_param("cycle").as_deref(), "cycle")?;
                me.require_hr()?;
                let cycle = Cycle::load(id)?;
                let list = model::appraisals(id)?;
                Ok(Response::json(&workflow::standing(&cycle, &list)?))
            }
            ("GET", "/export.csv") => {
                let id = model::id_arg(req.query_param("cycle").as_deref(), "cycle")?;
                let keys = req
                    .query_param("keys")
                    .is_some_and(|k| k == "true" || k == "1");
                let csv = export::csv(&me, id, keys)?;
                let mut r = Response::with_type("text/csv; charset=utf-8", csv);
                r.headers.push((
                    "content-disposition".into(),
                    format!("attachment; filename=\"appraisal-{id}.csv\""),
                ));
                Ok(r)
            }
            ("POST", path) => post(&me, path, &req, api),
            _ => Ok(Response::status(404)),
        }
    }

    fn answer(query: &str, args: Value) -> Result<Value> {
        match query {
            "results" => {
                // Another plugin (payroll) may ask; of users, only HR.
                let me = who::me();
                if host::context().asked_by.is_none() {
                    me.require_hr()?;
                }
                let id = args["cycle"].as_i64().ok_or_else(|| {
                    Error::invalid("'cycle' must be an id").field("cycle", "required")
                })?;
                let cycle = Cycle::load(id)?;
                if !cycle.scores_closed() {
                    return Err(Error::Conflict(format!(
                        "the scores of cycle {id} are not closed yet"
                    )));
                }
                Ok(workflow::results(&cycle, &model::appraisals(id)?))
            }
            "standing" => {
                let id = args["appraisal"].as_i64().ok_or_else(|| {
                    Error::invalid("'appraisal' must be an id").field("appraisal", "required")
                })?;
                let a = Appraisal::load(id)?;
                let me = who::me();
                let mine = me.id.is_some() && me.id == Some(a.person);
                if host::context().asked_by.is_none() && !mine && !workflow::manages(&me, &a) {
                    return Err(Error::Denied("not your appraisal".into()));
                }
                pages::figures(&a, &Cycle::load(a.cycle())?)
            }
            _ => Err(Error::not_found(format!("no query '{query}'"))),
        }
    }
}

fn status_of(e: &Error) -> u16 {
    match e {
        Error::NotFound(_) => 404,
        Error::Denied(_) => 403,
        Error::Invalid { .. } => 422,
        Error::Stale(_) | Error::Unique { .. } | Error::Conflict(_) => 409,
        Error::Failed(_) => 502,
    }
}

/// A form post: the change, then a redirect to the page it came from (or JSON for API
/// clients); on error, that page again with the reason (or the error for API clients).
fn post(me: &who::Caller, path: &str, req: &Request, api: bool) -> Result<Response> {
    let form = workflow::form_map(req.form()?);
    let appraisal_id = || model::id_arg(form.get("appraisal").map(String::as_str), "appraisal");
    let outcome: Result<(Value, String)> = (|| match path {
        "/targets" => {
            let a = Appraisal::load(appraisal_id()?)?;
            workflow::propose(me, &a, &form)?;
            Ok((
                json!({"status": "proposed"}),
                format!("/appraisal?id={}", a.rec.id),
            ))
        }
        "/respond" => {
            let a = Appraisal::load(appraisal_id()?)?;
            workflow::respond(me, &a, &form)?;
            let a = Appraisal::load(a.rec.id)?;
            Ok((
                json!({"status": a.status}),
                format!("/appraisal?id={}", a.rec.id),
            ))
        }
        "/actuals" => {
            let a = Appraisal::load(appraisal_id()?)?;
            workflow::actuals(me, &a, &form)?;
            Ok((
                json!({"saved": true}),
                format!("/appraisal?id={}", a.rec.id),
            ))
        }
        "/rate" => {
            let a = Appraisal::load(appraisal_id()?)?;
            let n = workflow::rate(me, &a, &form)?;
            Ok((json!({"rated": n}), "/me".to_string()))
        }
        "/feedback" => {
            let a = Appraisal::load(appraisal_id()?)?;
            let n = workflow::feedback(me, &a, &form)?;
            Ok((
                json!({"improvement_items": n}),
                format!("/appraisal?id={}", a.rec.id),
            ))
        }
        "/improvement" => {
            let id = model::id_arg(form.get("id").map(String::as_str), "id")?;
            workflow::improvement_done(me, id)?;
            let back = workflow::improvement(id)?.i64("appraisal").unwrap_or(0);
            let back = form
                .get("back")
                .and_then(|b| b.parse::<i64>().ok())
                .unwrap_or(back);
            Ok((json!({"status": "done"}), format!("/appraisal?id={back}")))
        }
        "/bases" => {
            let out = workflow::set_bases(me, &form)?;
            let id = out["cycle"].as_i64().unwrap_or(0);
            Ok((out, format!("/hr?cycle={id}")))
        }
        "/cycle" => {
            let id = model::id_arg(form.get("cycle").map(String::as_str), "cycle")?;
            let cycle = Cycle::load(id)?;
            let confirm = workflow::Confirmation::of(&form);
            let out = match form.get("op").map(String::as_str) {
                Some("start") => workflow::start(me, &cycle)?,
                Some("advance") => workflow::advance_confirmed(
                    me,
                    &cycle,
                    form.get("stage").map(String::as_str),
                    confirm,
                )?,
                Some("compute") => workflow::compute(me, &cycle)?,
                Some("delete") => {
                    let out = workflow::delete_cycle(me, &cycle, confirm.confirmed)?;
                    return Ok((out, "/hr".to_string()));
                }
                _ => {
                    return Err(Error::invalid("unknown operation")
                        .field("op", "start | advance | compute | delete"))
                }
            };
            Ok((out, format!("/hr?cycle={id}")))
        }
        _ => Err(Error::not_found(format!("no route POST {path}"))),
    })();
    match outcome {
        Ok((json, _)) if api => Ok(Response::json(&json)),
        Ok((_, back)) => Ok(Response::redirect(&back)),
        Err(e) if api => Err(e),
        Err(e) => {
            // Show the page the form was on again, with the reason.
            let page = match path {
                "/bases" => pages::hr(
                    me,
                    form.get("cycle").and_then(|c| c.parse().ok()),
                    None,
                    Some(&e),
                ),
                "/cycle" => {
                    // A refused close or delete shows its confirmation again, with the reason.
                    let confirm = match form.get("op").map(String::as_str) {
                        Some("delete") => Some("delete"),
                        Some("advance")
                            if form.get("stage").map(String::as_str) == Some("appraise") =>
                        {
                            Some("close")
                        }
                        _ => None,
                    };
                    pages::hr(
                        me,
                        form.get("cycle").and_then(|c| c.parse().ok()),
                        confirm,
                        Some(&e),
                    )
                }
                "/rate" => appraisal_id().and_then(|id| {
                    pages::rate_form(
                        me,
                        id,
                        form.get("group").map(String::as_str).unwrap_or_default(),
                        Some(&e),
                    )
                }),
                _ => appraisal_id().and_then(|id| pages::appraisal(me, id, Some(&e))),
            };
            let body = page.unwrap_or_else(|_| {
                format!(
                    "<p class=\"error\" role=\"alert\">{}</p>",
                    html::escape(&e.to_string())
                )
            });
            Ok(Response::html(status_of(&e), body))
        }
    }
}

export_plugin!(AppraisalPlugin);
