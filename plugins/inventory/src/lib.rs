//! Inventory (进销存): products, warehouses, suppliers, purchase orders with (partial)
//! receipts, sales orders with reservations and (partial) deliveries, transfers, stock counts
//! and returns — all posted to an immutable stock ledger valued at moving-average cost, every
//! posting one transaction. Built only on the Qingguan SDK (1.2).

pub mod ledger;
pub mod orders;
pub mod reports;
pub mod revalue;
pub mod stock;
mod text;

use orders::Kind;
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::*;
use text::t;

struct Inventory;

/// A sales order may be confirmed only if what it asks for is available (on hand less what
/// other open orders hold), unless the warehouse allows negative stock.
fn check_available(order_id: i64) -> Result<()> {
    host::begin_write()?;
    let order = host::elevated().get("sales_order", order_id)?;
    let warehouse = order.i64("warehouse").unwrap_or_default();
    let allows = host::elevated()
        .get("warehouse", warehouse)?
        .get("allow_negative")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if allows {
        return Ok(());
    }
    let mut wanted: std::collections::BTreeMap<i64, (Decimal, Vec<i64>)> = Default::default();
    for line in orders::lines(Kind::Sales, order_id)? {
        let e = wanted
            .entry(line.i64("product").unwrap_or_default())
            .or_default();
        e.0 += line.decimal("quantity").unwrap_or_default();
        e.1.push(line.id);
    }
    let reserved = stock::reserved()?;
    let mut err = Error::invalid(t("not enough stock to confirm", "库存不足，无法确认"));
    let mut short = false;
    for (product, (q, line_ids)) in wanted {
        let on_hand = ledger::balance(product, warehouse, None)?.quantity;
        let held = reserved
            .get(&(product, warehouse))
            .copied()
            .unwrap_or_default();
        let available = on_hand - held;
        if q > available {
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

fn wants_json(req: &Request) -> bool {
    req.header("accept")
        .is_some_and(|a| a.contains("application/json"))
}

impl Plugin for Inventory {
    fn install() -> Result<()> {
        host::kv_set("installed_on", dates::format(dates::today()).as_bytes())
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
                let date = input
                    .get("date")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| dates::format(dates::today()));
                let original = host::elevated().get("stock_move", id)?;
                let r = ledger::reverse(id, &date)?;
                orders::reversed(
                    original.str("source"),
                    original.i64("source_line"),
                    original.decimal("quantity").unwrap_or_default(),
                )?;
                Ok(json!({"movement": r.id}))
            }
            _ => Err(Error::not_found(format!("no action {name} on {entity}"))),
        }
    }

    fn http(req: Request) -> Result<Response> {
        let id = |name: &str| req.query_param(name).and_then(|v| v.parse::<i64>().ok());
        let outcome = match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/stock") => {
                let at = req.query_param("at");
                if let Some(a) = &at {
                    if dates::Date::parse(a).is_none() {
                        return Ok(Response::json_status(
                            422,
                            &json!({"error": t("at: not a date (YYYY-MM-DD)", "at：不是有效日期（YYYY-MM-DD）")}),
                        ));
                    }
                }
                if wants_json(&req) {
                    stock::report(at.as_deref(), id("warehouse")).map(|v| Response::json(&v))
                } else {
                    stock::page(at.as_deref(), id("warehouse")).map(|h| Response::html(200, h))
                }
            }
            ("GET", "/movements") => match id("product") {
                Some(p) if wants_json(&req) => {
                    stock::movements(p, id("warehouse")).map(|v| Response::json(&v))
                }
                Some(p) => {
                    reports::movements_page(p, id("warehouse")).map(|h| Response::html(200, h))
                }
                None => Err(Error::invalid(t("which product?", "哪个商品？"))
                    .field("product", t("required", "必填"))),
            },
            ("GET", "/low-stock") => {
                if wants_json(&req) {
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
                if dates::Date::parse(&from).is_none() || dates::Date::parse(&to).is_none() {
                    Err(Error::invalid(t("check the period", "请检查期间"))
                        .field("from", t("dates as YYYY-MM-DD", "日期格式为 YYYY-MM-DD")))
                } else if wants_json(&req) {
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
                    Error::invalid(t("which deal?", "哪个商机？"))
                        .field("deal", t("required", "必填"))
                })?;
                let warehouse = b.get("warehouse").and_then(Value::as_i64).ok_or_else(|| {
                    Error::invalid(t("which warehouse?", "哪个仓库？"))
                        .field("warehouse", t("required", "必填"))
                })?;
                orders::from_deal(deal, warehouse)
                    .map(|o| Response::json(&json!({"order": o.id, "number": o.str("number")})))
            }),
            _ => return Ok(Response::status(404)),
        };
        // Errors answer with their kind and per-field reasons (a 4xx rolls the call back).
        outcome.or_else(|e| {
            let status = match &e {
                Error::NotFound(_) => 404,
                Error::Denied(_) => 403,
                Error::Invalid { .. } => 422,
                Error::Stale(_) | Error::Unique { .. } | Error::Conflict(_) => 409,
                Error::Failed(_) => 500,
            };
            let fields: Map<String, Value> = match &e {
                Error::Invalid { fields, .. } => {
                    fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect()
                }
                _ => Map::new(),
            };
            Ok(Response::json_status(
                status,
                &json!({"error": e.to_string(), "fields": fields}),
            ))
        })
    }

    fn answer(query: &str, args: Value) -> Result<Value> {
        match query {
            "stock" => {
                let at = args.get("at").and_then(Value::as_str);
                let mut rows = Vec::new();
                for ((p, w), l) in stock::levels(at)? {
                    if args
                        .get("product")
                        .and_then(Value::as_i64)
                        .is_some_and(|x| x != p)
                        || args
                            .get("warehouse")
                            .and_then(Value::as_i64)
                            .is_some_and(|x| x != w)
                    {
                        continue;
                    }
                    rows.push(json!({
                        "product": p, "warehouse": w,
                        "quantity": l.balance.quantity.normalize().to_string(),
                        "value": l.balance.value.to_string(),
                        "unit_cost": l.balance.unit_cost().map(|c| c.normalize().to_string()),
                    }));
                }
                Ok(json!(rows))
            }
            "delivered_lines" => {
                reports::delivered_lines(args.get("customer").and_then(Value::as_i64))
            }
            "sales_by_product" => {
                let from = args
                    .get("from")
                    .and_then(Value::as_str)
                    .unwrap_or("0001-01-01");
                let to = args
                    .get("to")
                    .and_then(Value::as_str)
                    .unwrap_or("9999-12-31");
                let mut q = Query::new()
                    .elevated()
                    .eq("kind", "delivery")
                    .gte("posted_on", from)
                    .lte("posted_on", to);
                if let Some(p) = args.get("product").and_then(Value::as_i64) {
                    q = q.eq("product", p);
                }
                let mut by: std::collections::BTreeMap<i64, (Decimal, Decimal)> =
                    Default::default();
                for m in host::query_all("stock_move", &q)? {
                    let Some(line) = m.i64("source_line") else {
                        continue;
                    };
                    let line = host::elevated().get("sales_line", line)?;
                    let q = -m.decimal("quantity").unwrap_or_default();
                    let price = line.decimal("price").unwrap_or_default();
                    let discount = line.decimal("discount").unwrap_or_default();
                    let revenue = ledger::round(
                        q * price * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED,
                        2,
                    );
                    let e = by.entry(m.i64("product").unwrap_or_default()).or_default();
                    e.0 += q;
                    e.1 += revenue;
                }
                Ok(json!(by
                    .into_iter()
                    .map(|(p, (q, r))| json!({"product": p, "quantity": q.normalize().to_string(), "revenue": r.to_string()}))
                    .collect::<Vec<_>>()))
            }
            _ => Err(Error::not_found(query)),
        }
    }
}

export_plugin!(Inventory);
