//! Inventory (进销存): products, warehouses, suppliers, purchase orders with (partial)
//! receipts, sales orders with reservations and (partial) deliveries, transfers, stock counts
//! and returns — all posted to an immutable stock ledger valued at moving-average cost, every
//! posting one transaction; a posting that takes stock below its reorder point notifies the
//! configured role. Built only on the Qingguan SDK (1.3).

pub mod alerts;
pub mod bins;
pub mod deals;
pub mod feed;
pub mod ledger;
pub mod money;
pub mod on_hand;
pub mod orders;
pub mod reports;
pub mod reservations;
pub mod revalue;
pub mod reversals;
pub mod slow_movers;
pub mod stock;
pub mod to_invoice;

use orders::Kind;
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

struct Inventory;

/// A sales order may be confirmed only if what it asks for is available (on hand less what
/// other open orders hold), unless the warehouse allows negative stock. What was available
/// is noted for the low-stock notice either way.
fn check_available(order_id: i64) -> Result<()> {
    host::begin_write()?;
    let order = host::elevated().get("sales_order", order_id)?;
    let warehouse = order.i64("warehouse").unwrap_or_default();
    let allows = host::elevated()
        .get("warehouse", warehouse)?
        .get("allow_negative")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut wanted: std::collections::BTreeMap<i64, (Decimal, Vec<i64>)> = Default::default();
    for line in orders::lines(Kind::Sales, order_id)? {
        let e = wanted
            .entry(line.i64("product").unwrap_or_default())
            .or_default();
        e.0 += line.decimal("quantity").unwrap_or_default();
        e.1.push(line.id);
    }
    let products: Vec<i64> = wanted.keys().copied().collect();
    let reserved = reservations::reserved_of(Some(&products))?;
    let mut err = Error::invalid(t("not enough stock to confirm", "库存不足，无法确认"));
    let mut short = false;
    for (product, (q, line_ids)) in wanted {
        let on_hand = ledger::balance(product, warehouse, None)?.quantity;
        let held = reserved
            .get(&(product, warehouse))
            .copied()
            .unwrap_or_default();
        let available = on_hand - held;
        alerts::reserving(product, warehouse, on_hand, q);
        if q > available && !allows {
            short = true;
            for id in line_ids {
                err = err.field(
                    format!("lines.{id}"),
                    t(
                        &format!("only {} available", available.normalize()),
                        &format!("可用量仅 {}", available.normalize()),
                    ),
                );
            }
        }
    }
    if short {
        Err(err)
    } else {
        Ok(())
    }
}

impl Plugin for Inventory {
    fn install() -> Result<()> {
        bins::forget_all()?;
        host::kv_set("installed_on", dates::format(dates::today()).as_bytes())
    }

    fn upgrade(_from: &str) -> Result<()> {
        // The version before may not have kept the levels up to date.
        bins::forget_all()
    }

    fn job_step(name: &str, _cursor: Option<&str>) -> Result<JobProgress> {
        match name {
            "low_stock" => reports::low_stock_job(),
            _ => Err(Error::not_found(format!("no job {name}"))),
        }
    }

    fn health() -> Result<()> {
        host::kv_get("installed_on")?
            .map(|_| ())
            .ok_or_else(|| Error::failed("inventory was not installed"))
    }

    fn before_write(
        op: WriteOp,
        entity: &str,
        before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        if entity == "stock_move" {
            return ledger::guard(op);
        }
        if entity == "product" && op == WriteOp::Create && fields.get("active").is_none() {
            fields.set("active", true);
        }
        if let Some(kind) = Kind::of_order(entity) {
            return orders::before_order(kind, op, before, fields);
        }
        if let Some(kind) = Kind::of_line(entity) {
            return orders::before_line(kind, op, before, fields);
        }
        Ok(())
    }

    fn after_write(_op: WriteOp, entity: &str, record: &Record) -> Result<()> {
        // The plugin's own line writes (received/delivered counts) never change a total.
        let own = host::context().asked_by.as_deref() == Some("inventory");
        if let (Some(kind), false) = (Kind::of_line(entity), own) {
            if let Some(order) = record.i64("order") {
                orders::retotal(kind, order)?;
            }
        }
        Ok(())
    }

    fn action(name: &str, entity: &str, id: i64, input: Value) -> Result<Value> {
        let out = action(name, entity, id, input)?;
        bins::flush()?;
        alerts::settle()?;
        feed::flush()?;
        Ok(out)
    }

    fn http(req: Request) -> Result<Response> {
        let out = http(req)?;
        bins::flush()?;
        if out.status < 400 {
            alerts::settle()?;
            feed::flush()?;
        }
        Ok(out)
    }

    fn answer(query: &str, args: Value) -> Result<Value> {
        answer(query, args)
    }
}

fn action(name: &str, entity: &str, id: i64, input: Value) -> Result<Value> {
    let kind = Kind::of_order(entity);
    match (name, kind) {
        ("approve", Some(Kind::Purchase)) => orders::open(Kind::Purchase, id),
        ("confirm", Some(Kind::Sales)) => {
            check_available(id)?;
            orders::open(Kind::Sales, id)
        }
        ("receive", Some(k @ Kind::Purchase)) | ("deliver", Some(k @ Kind::Sales)) => {
            orders::post_order(k, id, &input)
        }
        ("cancel", Some(k)) => orders::cancel(k, id),
        ("reverse", None) if entity == "stock_move" => {
            let date = match input.get("date") {
                None | Some(Value::Null) => dates::format(dates::today()),
                Some(Value::String(d)) => d.clone(),
                Some(_) => {
                    return Err(Error::invalid(t("check the date", "请检查日期")).field(
                        "date",
                        t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
                    ))
                }
            };
            host::begin_write()?;
            let original = host::elevated().get("stock_move", id)?;
            // A transfer is undone whole: both legs, the incoming one first.
            let legs: Vec<Record> = match original.str("kind") {
                Some("transfer_in") | Some("transfer_out") => {
                    let mut legs = host::query_all(
                        "stock_move",
                        &Query::new()
                            .elevated()
                            .eq("source", original.str("source").unwrap_or_default())
                            .in_list("kind", ["transfer_in", "transfer_out"])
                            .eq("product", original.i64("product").unwrap_or_default()),
                    )?;
                    legs.sort_by_key(|l| l.str("kind") != Some("transfer_in"));
                    legs
                }
                _ => vec![original],
            };
            let mut posted = Vec::new();
            for leg in &legs {
                let q = leg.decimal("quantity").unwrap_or_default();
                reversals::check_reversal(
                    leg.str("kind"),
                    leg.str("source"),
                    leg.i64("source_line"),
                    q,
                )?;
                posted.push(ledger::reverse(leg.id, &date)?.id);
                reversals::reversed(
                    leg.str("kind"),
                    leg.str("source"),
                    leg.i64("source_line"),
                    q,
                )?;
            }
            Ok(json!({"movement": posted.first(), "movements": posted}))
        }
        _ => Err(Error::not_found(format!("no action {name} on {entity}"))),
    }
}

/// A date parameter that is not one, refused beside its field.
fn not_a_date(field: &str) -> Error {
    Error::invalid(t("check the date", "请检查日期")).field(
        field,
        t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
    )
}

fn http(req: Request) -> Result<Response> {
    let id = |name: &str| req.query_param(name).and_then(|v| v.parse::<i64>().ok());
    let outcome = match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/stock") => {
            let at = req.query_param("at");
            let page = match req.query_param("page").filter(|p| !p.is_empty()) {
                None => Ok(0),
                Some(p) => p
                    .parse::<usize>()
                    .ok()
                    .filter(|p| *p < 1_000_000)
                    .ok_or_else(|| {
                        Error::invalid(t("check the page", "请检查页码"))
                            .field("page", t("a page number from 0", "从 0 开始的页码"))
                    }),
            };
            if let Err(e) = page {
                Err(e)
            } else if at.as_ref().is_some_and(|a| dates::Date::parse(a).is_none()) {
                Err(not_a_date("at"))
            } else if req.wants_json() {
                on_hand::report(at.as_deref(), id("warehouse"), page.unwrap_or(0))
                    .map(|v| Response::json(&v))
            } else {
                on_hand::page(at.as_deref(), id("warehouse"), page.unwrap_or(0))
                    .map(|h| Response::html(200, h))
            }
        }
        ("GET", "/movements")
            if req
                .query_param("warehouse")
                .is_some_and(|w| !w.is_empty() && w.parse::<i64>().is_err()) =>
        {
            Err(Error::invalid(t("which warehouse?", "哪个仓库？"))
                .field("warehouse", t("a warehouse id", "仓库编号")))
        }
        ("GET", "/movements") => match id("product") {
            Some(p) if req.wants_json() => {
                stock::movements(p, id("warehouse"), req.query_param("cursor").as_deref())
                    .map(|v| Response::json(&v))
            }
            Some(p) => {
                reports::movements_page(p, id("warehouse"), req.query_param("cursor").as_deref())
                    .map(|h| Response::html(200, h))
            }
            None => Err(Error::invalid(t("which product?", "哪个商品？"))
                .field("product", t("required", "必填"))),
        },
        ("GET", "/slow-movers") => {
            let at = req
                .query_param("at")
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| dates::format(dates::today()));
            let days = match req.query_param("days").filter(|d| !d.is_empty()) {
                None => Ok(90),
                Some(d) => d
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (0..=3650).contains(d))
                    .ok_or_else(|| {
                        Error::invalid(t("check the number of days", "请检查天数")).field(
                            "days",
                            t("a whole number from 0 to 3650", "0 到 3650 的整数"),
                        )
                    }),
            };
            match (dates::Date::parse(&at), days) {
                (None, _) => Err(not_a_date("at")),
                (_, Err(e)) => Err(e),
                (Some(_), Ok(days)) if req.wants_json() => {
                    slow_movers::report(&at, days).map(|v| Response::json(&v))
                }
                (Some(_), Ok(days)) => slow_movers::page(&at, days).map(|h| Response::html(200, h)),
            }
        }
        ("GET", "/low-stock") => {
            if req.wants_json() {
                reports::low_stock().map(|rows| Response::json(&json!(rows)))
            } else {
                reports::low_stock_page().map(|h| Response::html(200, h))
            }
        }
        ("GET", "/sales") => {
            let today = dates::today();
            let month_start =
                dates::format(today - i64::from(dates::Date::from_days(today).day) + 1);
            let from = req
                .query_param("from")
                .filter(|f| !f.is_empty())
                .unwrap_or(month_start);
            let to = req
                .query_param("to")
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| dates::format(today));
            if dates::Date::parse(&from).is_none() {
                Err(not_a_date("from"))
            } else if dates::Date::parse(&to).is_none() {
                Err(not_a_date("to"))
            } else if req.wants_json() {
                reports::sales(&from, &to).map(|v| Response::json(&v))
            } else {
                reports::sales_page(&from, &to).map(|h| Response::html(200, h))
            }
        }
        ("POST", "/transfer") => req
            .json()
            .and_then(|b| stock::transfer(&b))
            .map(|v| Response::json(&v)),
        ("POST", "/count") => req
            .json()
            .and_then(|b| stock::count(&b))
            .map(|v| Response::json(&v)),
        ("POST", "/return") => req
            .json()
            .and_then(|b| stock::return_goods(&b))
            .map(|v| Response::json(&v)),
        ("POST", "/from-deal") => req.json().and_then(|b| {
            let deal = b.get("deal").and_then(Value::as_i64).ok_or_else(|| {
                Error::invalid(t("which deal?", "哪个商机？")).field("deal", t("required", "必填"))
            })?;
            let warehouse = b.get("warehouse").and_then(Value::as_i64).ok_or_else(|| {
                Error::invalid(t("which warehouse?", "哪个仓库？"))
                    .field("warehouse", t("required", "必填"))
            })?;
            deals::from_deal(deal, warehouse)
                .map(|o| Response::json(&json!({"order": o.id, "number": o.str("number")})))
        }),
        _ => return Ok(Response::status(404)),
    };
    // Errors answer with their kind and per-field reasons (a 4xx rolls the call back).
    outcome.or_else(|e| Ok(Response::from_error(&e)))
}

fn answer(query: &str, args: Value) -> Result<Value> {
    // Another plugin (finance, appraisal) gets the figures it asked for; a user asking
    // directly gets what their role lets them see.
    let by_plugin = host::context().asked_by.is_some();
    match query {
        "stock" => {
            let at = args.get("at").and_then(Value::as_str);
            if let Some(a) = at {
                if dates::Date::parse(a).is_none() {
                    return Err(Error::invalid(t("check the date", "请检查日期")).field(
                        "at",
                        t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
                    ));
                }
            }
            if !by_plugin {
                host::query("product", &Query::new().limit(1))?;
            }
            let values = by_plugin || stock::sees_values();
            let mut rows = Vec::new();
            let product = args.get("product").and_then(Value::as_i64);
            let warehouse = args.get("warehouse").and_then(Value::as_i64);
            for ((p, w), l) in stock::levels(at, product, warehouse)? {
                let mut row = json!({
                    "product": p, "warehouse": w,
                    "quantity": l.balance.quantity.normalize().to_string(),
                });
                if values {
                    row["value"] = json!(l.balance.value.to_string());
                    row["unit_cost"] =
                        json!(l.balance.unit_cost().map(|c| c.normalize().to_string()));
                }
                rows.push(row);
            }
            Ok(json!(rows))
        }
        "sales_by_product" => {
            let from = args
                .get("from")
                .and_then(Value::as_str)
                .unwrap_or("1000-01-01");
            let to = args
                .get("to")
                .and_then(Value::as_str)
                .unwrap_or("9999-12-31");
            let owner = args.get("owner").and_then(Value::as_i64);
            let data = reports::sales_for(from, to, by_plugin, owner)?;
            let product = args.get("product").and_then(Value::as_i64);
            Ok(json!(data["products"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| product.is_none_or(|p| r["product"] == p))
                    .map(|r| json!({"product": r["product"], "quantity": r["quantity"], "revenue": r["revenue"]}))
                    .collect::<Vec<_>>()))
        }
        "delivered_lines" => {
            to_invoice::delivered_lines(args.get("customer").and_then(Value::as_i64))
        }
        "received_lines" => {
            to_invoice::received_lines(args.get("supplier").and_then(Value::as_i64))
        }
        _ => Err(Error::not_found(query)),
    }
}

export_plugin!(Inventory);
