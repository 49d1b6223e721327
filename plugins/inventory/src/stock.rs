//! What is in stock, derived from the ledger: levels, reservations (open sales orders),
//! availability and moving-average values by product and warehouse; one product's movements
//! with a running balance; and the postings that are not orders — transfers, stock counts and
//! returns.

use crate::ledger::{self, round, Balance, Movement};
use crate::orders::Kind;
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// One product in one warehouse.
#[derive(Debug, Clone, Default)]
pub struct Level {
    pub balance: Balance,
    pub reserved: Decimal,
}

impl Level {
    pub fn available(&self) -> Decimal {
        self.balance.quantity - self.reserved
    }
}

/// Levels by (product, warehouse) from the ledger (as of `at`, inclusive), with reservations;
/// of one product and/or one warehouse when named. One product in one warehouse now is its
/// kept level (`bins`), whatever the ledger's length.
pub fn levels(
    at: Option<&str>,
    product: Option<i64>,
    warehouse: Option<i64>,
) -> Result<BTreeMap<(i64, i64), Level>> {
    let products = product.map(|p| vec![p]);
    if let (None, Some(p), Some(w)) = (at, product, warehouse) {
        let bin = crate::bins::get(p, w)?;
        let reserved = crate::reservations::reserved_of(products.as_deref())?
            .get(&(p, w))
            .copied()
            .unwrap_or_default();
        let mut out = BTreeMap::new();
        if bin.latest.is_some() || !reserved.is_zero() {
            out.insert(
                (p, w),
                Level {
                    balance: bin.balance,
                    reserved,
                },
            );
        }
        return Ok(out);
    }
    let mut q = Query::new().elevated();
    if let Some(at) = at {
        q = q.lte("posted_on", at);
    }
    if let Some(p) = product {
        q = q.eq("product", p);
    }
    if let Some(w) = warehouse {
        q = q.eq("warehouse", w);
    }
    let mut out: BTreeMap<(i64, i64), Level> = BTreeMap::new();
    for g in host::aggregate(
        "stock_move",
        &q,
        &["product", "warehouse"],
        &[Metric::Sum("quantity"), Metric::Sum("value")],
    )? {
        let (Some(p), Some(w)) = (g.group[0].as_i64(), g.group[1].as_i64()) else {
            continue;
        };
        let level = out.entry((p, w)).or_default();
        level.balance.quantity = g.decimal(0).unwrap_or_default();
        level.balance.value = g.decimal(1).unwrap_or_default();
    }
    for ((p, w), r) in crate::reservations::reserved_of(products.as_deref())? {
        if warehouse.is_none_or(|x| x == w) {
            out.entry((p, w)).or_default().reserved = r;
        }
    }
    Ok(out)
}

/// Whether the caller may see costs and values (whoever may read the ledger).
pub fn sees_values() -> bool {
    host::query("stock_move", &Query::new().limit(1)).is_ok()
}

pub(crate) fn names(entity: &str, field: &str) -> Result<BTreeMap<i64, (String, String)>> {
    Ok(
        host::query_all(entity, &Query::new().elevated().sort("id"))?
            .into_iter()
            .map(|r| {
                let code = r.str(field).unwrap_or_default().to_string();
                let name = r.str("name").unwrap_or_default().to_string();
                (r.id, (code, name))
            })
            .collect(),
    )
}

pub(crate) fn num(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Movements on one page of a product's history.
pub const MOVEMENT_ROWS: u32 = 200;

/// One page of a product's movements (in a warehouse, or all), in posting order (date, then
/// id), with the running balance from the opening balance before the page; `next_cursor`
/// opens the next page.
pub fn movements(product: i64, warehouse: Option<i64>, cursor: Option<&str>) -> Result<Value> {
    host::get("product", product)?; // the caller must see the product
    let values = sees_values();
    let mut base = Query::new().elevated().eq("product", product);
    if let Some(w) = warehouse {
        base = base.eq("warehouse", w);
    }
    let mut q = base.clone().sort("posted_on").limit(MOVEMENT_ROWS);
    if let Some(c) = cursor {
        q = q.cursor(c);
    }
    let page = host::query("stock_move", &q)?;
    let moves = page.items;
    let mut running: BTreeMap<i64, Balance> = BTreeMap::new();
    if let Some(first) = moves.first() {
        // Everything posted before the page's first movement, by warehouse.
        let on = first.str("posted_on").unwrap_or_default();
        let before = [
            base.clone().lt("posted_on", on),
            base.clone().eq("posted_on", on).lt("id", first.id),
        ];
        for q in &before {
            for g in host::aggregate(
                "stock_move",
                q,
                &["warehouse"],
                &[Metric::Sum("quantity"), Metric::Sum("value")],
            )? {
                let b = running
                    .entry(g.group[0].as_i64().unwrap_or_default())
                    .or_default();
                b.quantity += g.decimal(0).unwrap_or_default();
                b.value += g.decimal(1).unwrap_or_default();
            }
        }
    }
    let rows: Vec<Value> = moves
        .iter()
        .map(|m| {
            let w = m.i64("warehouse").unwrap_or_default();
            let b = running.entry(w).or_default();
            b.quantity += m.decimal("quantity").unwrap_or_default();
            b.value += m.decimal("value").unwrap_or_default();
            let mut row = json!({
                "id": m.id,
                "posted_on": m.str("posted_on"),
                "warehouse": w,
                "kind": m.str("kind"),
                "quantity": num(m.decimal("quantity").unwrap_or_default()),
                "balance": num(b.quantity),
            });
            if values {
                row["source"] = json!(m.str("source"));
                row["unit_cost"] = json!(m.decimal("unit_cost").map(num));
                row["value"] = json!(m.decimal("value").map(|v| v.to_string()));
                row["balance_value"] = json!(b.value.to_string());
            }
            row
        })
        .collect();
    Ok(json!({"product": product, "rows": rows, "next_cursor": page.next_cursor}))
}

/// Whether the caller may move stock in a warehouse: whoever may edit the warehouse (the
/// check changes nothing).
fn may_move(warehouse: i64) -> Result<Record> {
    let w = host::get("warehouse", warehouse)?;
    host::update("warehouse", w.id, w.version, &json!({})).map_err(|e| match e {
        Error::Denied(_) => Error::Denied(t(
            "moving stock in this warehouse needs the right to edit it",
            "在此仓库调拨或盘点需要仓库的编辑权限",
        )),
        other => other,
    })
}

fn field_decimal(input: &Value, field: &str) -> Result<Decimal> {
    input.get(field).and_then(decimal_of).ok_or_else(|| {
        Error::invalid(t("check the form", "请检查表单"))
            .field(field, t("a number is required", "需要填写数字"))
    })
}

fn field_id(input: &Value, field: &str) -> Result<i64> {
    input
        .get(field)
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .ok_or_else(|| {
            Error::invalid(t("check the form", "请检查表单")).field(field, t("required", "必填"))
        })
}

fn field_date(input: &Value) -> Result<String> {
    match input
        .get("date")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        None => Ok(dates::format(dates::today())),
        Some(d) => dates::Date::parse(d).map(|d| d.to_string()).ok_or_else(|| {
            Error::invalid(t("check the date", "请检查日期")).field(
                "date",
                t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
            )
        }),
    }
}

/// `{product, from, to, quantity, date?}`: out of one warehouse at its average cost and into
/// the other at exactly that value.
pub fn transfer(input: &Value) -> Result<Value> {
    let product = field_id(input, "product")?;
    let (from, to) = (field_id(input, "from")?, field_id(input, "to")?);
    let quantity = field_decimal(input, "quantity")?;
    if quantity <= Decimal::ZERO {
        return Err(Error::invalid(t("check the quantity", "请检查数量"))
            .field("quantity", t("must be more than zero", "必须大于零")));
    }
    if from == to {
        return Err(Error::invalid(t("check the warehouses", "请检查仓库"))
            .field("to", t("must differ from the source", "必须与调出仓库不同")));
    }
    may_move(from)?;
    may_move(to)?;
    host::get("product", product)?;
    let date = field_date(input)?;
    let source = format!("transfer:{}", host::kv_increment("seq:TR", 1)?);
    let out = ledger::post(&Movement {
        product,
        warehouse: from,
        kind: "transfer_out",
        quantity: -quantity,
        unit_cost: None,
        value: None,
        posted_on: &date,
        source: source.clone(),
        source_line: None,
        reverses: None,
        reason: None,
    })?;
    let value = -out.decimal("value").unwrap_or_default();
    let into = ledger::post(&Movement {
        product,
        warehouse: to,
        kind: "transfer_in",
        quantity,
        unit_cost: out.decimal("unit_cost"),
        value: Some(value),
        posted_on: &date,
        source,
        source_line: None,
        reverses: None,
        reason: None,
    })?;
    Ok(json!({"movements": [out.id, into.id]}))
}

/// `{product, warehouse, counted, reason, date?}`: the difference to the ledger posted as an
/// adjustment at average cost.
pub fn count(input: &Value) -> Result<Value> {
    let product = field_id(input, "product")?;
    let warehouse = field_id(input, "warehouse")?;
    let counted = field_decimal(input, "counted")?;
    if counted < Decimal::ZERO {
        return Err(Error::invalid(t("check the count", "请检查盘点数量"))
            .field("counted", t("cannot be negative", "不能为负数")));
    }
    let reason = input
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if reason.is_empty() {
        return Err(
            Error::invalid(t("say why", "请说明原因")).field("reason", t("required", "必填"))
        );
    }
    may_move(warehouse)?;
    host::get("product", product)?;
    let date = field_date(input)?;
    host::begin_write()?;
    let on_hand = ledger::balance(product, warehouse, None)?.quantity;
    let diff = counted - on_hand;
    if diff.is_zero() {
        return Ok(json!({"movements": [], "difference": "0"}));
    }
    let m = ledger::post(&Movement {
        product,
        warehouse,
        kind: "adjustment",
        quantity: diff,
        unit_cost: None,
        value: None,
        posted_on: &date,
        source: format!("count:{}", host::kv_increment("seq:CT", 1)?),
        source_line: None,
        reverses: None,
        reason: Some(reason),
    })?;
    Ok(json!({"movements": [m.id], "difference": num(diff)}))
}

/// `{kind: purchase|sales, line, quantity, date?, reason?}`: goods back to the supplier (out at
/// average cost) or from a customer (in at the cost they left with).
pub fn return_goods(input: &Value) -> Result<Value> {
    let kind = match input.get("kind").and_then(Value::as_str) {
        Some("purchase") => Kind::Purchase,
        Some("sales") => Kind::Sales,
        _ => {
            return Err(Error::invalid(t("check the form", "请检查表单"))
                .field("kind", t("purchase or sales", "采购或销售")))
        }
    };
    let line_id = field_id(input, "line")?;
    let quantity = field_decimal(input, "quantity")?;
    if quantity <= Decimal::ZERO {
        return Err(Error::invalid(t("check the quantity", "请检查数量"))
            .field("quantity", t("must be more than zero", "必须大于零")));
    }
    let date = field_date(input)?;
    host::begin_write()?;
    let line = host::elevated().get(kind.line(), line_id)?;
    let order_id = line.i64("order").unwrap_or_default();
    // The caller must be allowed to change the order (the check writes nothing).
    let order = host::get(kind.order(), order_id)?;
    host::update(kind.order(), order.id, order.version, &json!({}))?;
    let moved = line.decimal(kind.moved()).unwrap_or_default();
    let returned = line.decimal("returned").unwrap_or_default();
    let open = moved - returned;
    if quantity > open {
        return Err(
            Error::invalid(t("more than can be returned", "超过可退数量")).field(
                "quantity",
                t(
                    &format!("only {} can be returned", num(open)),
                    &format!("最多可退 {}", num(open)),
                ),
            ),
        );
    }
    let warehouse = order.i64("warehouse").unwrap_or_default();
    let product = line.i64("product").unwrap_or_default();
    let source = format!("{}:{}", kind.order(), order_id);
    let movement = match kind {
        Kind::Purchase => Movement {
            product,
            warehouse,
            kind: "return_out",
            quantity: -quantity,
            unit_cost: None,
            value: None,
            posted_on: &date,
            source,
            source_line: Some(line_id),
            reverses: None,
            reason: input.get("reason").and_then(Value::as_str),
        },
        Kind::Sales => {
            // At the cost the line's deliveries left with.
            let out = host::query_all(
                "stock_move",
                &Query::new()
                    .elevated()
                    .eq("source_line", line_id)
                    .eq("kind", "delivery"),
            )?;
            let q: Decimal = out.iter().filter_map(|m| m.decimal("quantity")).sum();
            // With what later revaluations corrected of them (a back-dated receipt).
            let delivered: Vec<&Record> = out.iter().collect();
            let corrections: Decimal = crate::revalue::corrections(product, warehouse, &delivered)?
                .values()
                .sum();
            let v: Decimal = out
                .iter()
                .filter_map(|m| m.decimal("value"))
                .sum::<Decimal>()
                + corrections;
            let cost = (!q.is_zero()).then(|| round(v / q, 4));
            Movement {
                product,
                warehouse,
                kind: "return_in",
                quantity,
                unit_cost: cost,
                value: cost.map(|c| round(c * quantity, 2)),
                posted_on: &date,
                source,
                source_line: Some(line_id),
                reverses: None,
                reason: input.get("reason").and_then(Value::as_str),
            }
        }
    };
    let m = ledger::post(&movement)?;
    host::elevated().update(
        kind.line(),
        line.id,
        line.version,
        &json!({"returned": num(returned + quantity)}),
    )?;
    Ok(json!({"movements": [m.id]}))
}
