//! Finance (财务管理): customer invoices (direct, or from what inventory delivered and was not
//! yet invoiced), supplier bills (direct, or from what inventory received and was not yet
//! billed), payments received and their allocation to invoices, a double-entry journal
//! under every posting (balanced, immutable, corrected by reversal), month close, and reports
//! from the journal. Built only on the Qingguan SDK (1.2); every posting one transaction.

pub mod aging;
pub mod books;
pub mod chart;
pub mod credit_notes;
pub mod documents;
pub mod from_stock;
pub mod fx;
pub mod journal;
pub mod kpi;
pub mod money;
pub mod months;
mod page;
pub mod payments;
pub mod periods;
pub mod profit;
pub mod reminders;
pub mod reports;
pub mod sides;
pub mod statements;
pub mod stock_books;

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use sides::{Side, PURCHASES, SALES};

struct Finance;

fn as_response(outcome: Result<Response>) -> Result<Response> {
    outcome.or_else(|e| Ok(Response::from_error(&e)))
}

impl Plugin for Finance {
    fn install() -> Result<()> {
        months::forget_all()?;
        // Nothing from before currencies: every document keeps its company-currency amounts.
        fx::all_kept()?;
        chart::seed()
    }

    fn upgrade(_from: &str) -> Result<()> {
        // The month totals as the dated lines say (a version between may not have kept them).
        months::rebuild()?;
        chart::seed()
    }

    fn health() -> Result<()> {
        journal::account(SALES.control).map(|_| ())
    }

    fn job_step(name: &str, cursor: Option<&str>) -> Result<JobProgress> {
        match name {
            "date_lines" => books::date_lines(cursor),
            "overdue_reminders" => reminders::overdue_reminders(cursor),
            "keep_amounts" => fx::keep_amounts(cursor),
            _ => Err(Error::not_found(format!("no job {name}"))),
        }
    }

    fn before_write(
        op: WriteOp,
        entity: &str,
        before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        match entity {
            "account" => chart::guard(op, before, fields),
            "journal_entry" => journal::before_entry(op, before, fields),
            "journal_line" => journal::before_line(op, before, fields),
            "period" => periods::guard(),
            _ => match Side::of(entity) {
                Some(side) if entity == side.line => {
                    documents::before_line(side, op, before, fields)
                }
                Some(side) if entity == side.allocation => payments::guard_allocation(),
                Some(side) => documents::before_document(side, entity, op, before, fields),
                None => Ok(()),
            },
        }
    }

    fn after_write(_op: WriteOp, entity: &str, record: &Record) -> Result<()> {
        match Side::of(entity) {
            Some(side) if entity == side.line => match record.i64(side.document) {
                Some(id) => documents::retotal(side, id),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn action(name: &str, entity: &str, id: i64, input: Value) -> Result<Value> {
        match (entity, name) {
            ("invoice", "post") => documents::post_document(&SALES, id),
            ("bill", "post") => documents::post_document(&PURCHASES, id),
            ("payment", "post") => payments::post_payment(&SALES, id),
            ("payment_made", "post") => payments::post_payment(&PURCHASES, id),
            ("payment", "allocate") => payments::allocate(&SALES, id, &input),
            ("payment_made", "allocate") => payments::allocate(&PURCHASES, id, &input),
            ("journal_entry", "post") => journal::post_draft(id),
            ("journal_entry", "reverse") => match input.get("date") {
                None | Some(Value::Null) => journal::reverse(id, None),
                Some(Value::String(on)) => journal::reverse(id, Some(on)),
                Some(_) => Err(Error::invalid(t("check the date", "请检查日期")).field(
                    "date",
                    t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
                )),
            },
            _ => Err(Error::not_found(format!("no action {name} on {entity}"))),
        }
    }

    fn http(req: Request) -> Result<Response> {
        let today = dates::format(dates::today());
        let year_start = format!("{}-01-01", &today[..4]);
        let param = |n: &str, default: &str| {
            req.query_param(n)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        let check = |d: &str, field: &str| -> Result<()> {
            dates::Date::parse(d).map(|_| ()).ok_or_else(|| {
                Error::invalid(t("check the date", "请检查日期")).field(
                    field,
                    t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
                )
            })
        };
        let outcome = match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/trial-balance") => {
                let (from, to) = (param("from", &year_start), param("to", &today));
                check(&from, "from")
                    .and_then(|_| check(&to, "to"))
                    .and_then(|_| {
                        if req.wants_json() {
                            reports::trial_balance(&from, &to).map(|v| Response::json(&v))
                        } else {
                            reports::trial_balance_page(&from, &to).map(|h| Response::html(200, h))
                        }
                    })
            }
            ("GET", path @ ("/aging" | "/payables-aging")) => {
                let side = if path == "/aging" { &SALES } else { &PURCHASES };
                let at = param("at", &today);
                check(&at, "at").and_then(|_| {
                    if req.wants_json() {
                        aging::aging(side, &at).map(|v| Response::json(&v))
                    } else {
                        aging::aging_page(side, &at).map(|h| Response::html(200, h))
                    }
                })
            }
            ("GET", "/profit-and-loss") => {
                let (from, to) = (param("from", &year_start), param("to", &today));
                check(&from, "from")
                    .and_then(|_| check(&to, "to"))
                    .and_then(|_| {
                        if req.wants_json() {
                            profit::profit_and_loss(&from, &to).map(|v| Response::json(&v))
                        } else {
                            profit::profit_and_loss_page(&from, &to).map(|h| Response::html(200, h))
                        }
                    })
            }
            ("GET", "/balance-sheet") => {
                let at = param("at", &today);
                check(&at, "at").and_then(|_| {
                    if req.wants_json() {
                        statements::balance_sheet(&at).map(|v| Response::json(&v))
                    } else {
                        statements::balance_sheet_page(&at).map(|h| Response::html(200, h))
                    }
                })
            }
            ("GET", "/cash") => {
                let (from, to) = (param("from", &year_start), param("to", &today));
                check(&from, "from")
                    .and_then(|_| check(&to, "to"))
                    .and_then(|_| {
                        if req.wants_json() {
                            statements::cash(&from, &to).map(|v| Response::json(&v))
                        } else {
                            statements::cash_page(&from, &to).map(|h| Response::html(200, h))
                        }
                    })
            }
            ("GET", "/statement") => match req
                .query_param("customer")
                .and_then(|c| c.parse::<i64>().ok())
            {
                None => Err(Error::invalid(t("which customer?", "哪个客户？"))
                    .field("customer", t("required", "必填"))),
                Some(c) if req.wants_json() => {
                    statements::customer_statement(c).map(|v| Response::json(&v))
                }
                Some(c) => statements::customer_statement_page(c).map(|h| Response::html(200, h)),
            },
            ("POST", "/close") => req
                .json()
                .and_then(|b| periods::close(&b))
                .map(|v| Response::json(&v)),
            ("POST", "/reopen") => req
                .json()
                .and_then(|b| periods::reopen(&b))
                .map(|v| Response::json(&v)),
            ("POST", "/invoice-deliveries") => req
                .json()
                .and_then(|b| from_stock::invoice_deliveries(&b))
                .map(|v| Response::json(&v)),
            ("POST", "/bill-receipts") => req
                .json()
                .and_then(|b| from_stock::bill_receipts(&b))
                .map(|v| Response::json(&v)),
            _ => return Ok(Response::status(404)),
        };
        as_response(outcome)
    }

    fn event(name: &str, payload: Value) -> Result<()> {
        match name {
            "inventory.posted" => stock_books::book(&payload),
            _ => Ok(()),
        }
    }

    fn answer(query: &str, args: Value) -> Result<Value> {
        match query {
            "invoiced" | "collected" | "collection_rate" | "overdue" | "summary" => {
                kpi::answer(query, &args)
            }
            _ => Err(Error::not_found(query)),
        }
    }
}

export_plugin!(Finance);
