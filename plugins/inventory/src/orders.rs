//! Purchase and sales orders: numbering, what may change in which status, line totals, and
//! the postings — approve → receive (partial allowed, never more than outstanding) for
//! purchases; confirm (reserves) → deliver (partial allowed, never more than outstanding or on
//! hand) for sales; cancel while nothing has moved. Every action is one transaction: a
//! delivery of five lines posts all five or none.

use crate::ledger::{self, round, Movement};
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// The two kinds of order and what differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Purchase,
    Sales,
}

impl Kind {
    pub fn of_order(entity: &str) -> Option<Kind> {
        match entity {
            "purchase_order" => Some(Kind::Purchase),
            "sales_order" => Some(Kind::Sales),
            _ => None,
        }
    }
    pub fn of_line(entity: &str) -> Option<Kind> {
        match entity {
            "purchase_line" => Some(Kind::Purchase),
            "sales_line" => Some(Kind::Sales),
            _ => None,
        }
    }
    pub fn order(self) -> &'static str {
        match self {
            Kind::Purchase => "purchase_order",
            Kind::Sales => "sales_order",
        }
    }
    pub fn line(self) -> &'static str {
        match self {
            Kind::Purchase => "purchase_line",
            Kind::Sales => "sales_line",
        }
    }
    /// The line field counting what has moved.
    pub fn moved(self) -> &'static str {
        match self {
            Kind::Purchase => "received",
            Kind::Sales => "delivered",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            Kind::Purchase => "PO",
            Kind::Sales => "SO",
        }
    }
    /// The status once lines are open (before anything moved).
    fn open_status(self) -> &'static str {
        match self {
            Kind::Purchase => "approved",
            Kind::Sales => "confirmed",
        }
    }
    fn done_status(self) -> &'static str {
        match self {
            Kind::Purchase => "received",
            Kind::Sales => "delivered",
        }
    }
}

fn own_write() -> bool {
    host::context().asked_by.as_deref() == Some("inventory")
}

fn readonly_refusal(field: &str) -> Error {
    Error::invalid(t("this field is set by the system", "该字段由系统填写")).field(
        field,
        t(
            "set by postings, not by hand",
            "由记账自动填写，不能手工修改",
        ),
    )
}

/// Before a user's create or update of an order: number it, start it as a draft, keep the
/// system's fields and any posted order as they are.
pub fn before_order(
    kind: Kind,
    op: WriteOp,
    before: Option<&Record>,
    fields: &mut Fields,
) -> Result<()> {
    let own = own_write();
    match op {
        WriteOp::Create => {
            if !own {
                for f in ["status", "total", "number", "deal_amount"] {
                    if fields.get(f).is_some_and(|v| !v.is_null()) {
                        return Err(readonly_refusal(f));
                    }
                }
            }
            if fields.get("number").is_none_or(Value::is_null) {
                let n = host::kv_increment(&format!("seq:{}", kind.prefix()), 1)?;
                fields.set("number", format!("{}-{:05}", kind.prefix(), n));
            }
            if fields.get("status").is_none_or(Value::is_null) {
                fields.set("status", "draft");
            }
            if fields.get("total").is_none_or(Value::is_null) {
                fields.set("total", "0");
            }
            if fields.get("ordered_on").is_none_or(Value::is_null) {
                fields.set("ordered_on", dates::format(dates::today()));
            }
            Ok(())
        }
        _ if own => Ok(()),
        WriteOp::Update => {
            let before = before.ok_or_else(|| Error::not_found("order"))?;
            for f in ["status", "total", "number", "deal_amount", "deal"] {
                if fields.get(f) != before.get(f) {
                    return Err(readonly_refusal(f));
                }
            }
            let header = ["supplier", "customer", "warehouse", "deal"];
            if before.str("status") != Some("draft")
                && header.iter().any(|f| fields.get(f) != before.get(f))
            {
                return Err(Error::invalid(t(
                    "only a draft order can be changed",
                    "只有草稿状态的订单可以修改",
                )));
            }
            Ok(())
        }
        WriteOp::Delete => {
            host::begin_write()?;
            let before = before.ok_or_else(|| Error::not_found("order"))?;
            if !matches!(before.str("status"), Some("draft") | Some("cancelled")) {
                return Err(Error::invalid(t(
                    "only a draft or cancelled order can be deleted",
                    "只有草稿或已取消的订单可以删除",
                )));
            }
            Ok(())
        }
    }
}

/// Before a user's write of an order line: only on a draft order, quantities positive, the
/// moved quantities the system's.
pub fn before_line(
    kind: Kind,
    op: WriteOp,
    before: Option<&Record>,
    fields: &mut Fields,
) -> Result<()> {
    if own_write() {
        return Ok(());
    }
    let order_id = match op {
        WriteOp::Delete => before.and_then(|b| b.i64("order")),
        _ => fields.i64("order"),
    }
    .ok_or_else(|| Error::invalid(t("a line needs an order", "明细需要所属订单")))?;
    // Serialise with confirm/receive/deliver: the draft seen here stays a draft until commit.
    host::begin_write()?;
    let order = host::elevated().get(kind.order(), order_id)?;
    if order.str("status") != Some("draft") {
        return Err(Error::invalid(t(
            "lines can only change while the order is a draft",
            "只有草稿状态的订单可以修改明细",
        ))
        .field(
            "order",
            t("the order is no longer a draft", "订单已不是草稿"),
        ));
    }
    if op == WriteOp::Delete {
        return Ok(());
    }
    if let Some(b) = before {
        if b.i64("order") != fields.i64("order") {
            return Err(
                Error::invalid(t("a line stays on its order", "明细不能移到其他订单"))
                    .field("order", t("cannot be changed", "不能修改")),
            );
        }
    }
    for f in [kind.moved(), "returned"] {
        let was = before
            .and_then(|b| b.get(f))
            .cloned()
            .unwrap_or(Value::Null);
        if fields.get(f).cloned().unwrap_or(Value::Null) != was {
            return Err(readonly_refusal(f));
        }
    }
    if fields
        .decimal("quantity")
        .is_none_or(|q| q <= Decimal::ZERO)
    {
        return Err(Error::invalid(t("check the quantity", "请检查数量"))
            .field("quantity", t("must be more than zero", "必须大于零")));
    }
    if op == WriteOp::Create {
        fields.set(kind.moved(), "0");
        fields.set("returned", "0");
        if fields.get("price").is_none_or(Value::is_null) {
            let product = host::elevated()
                .get("product", fields.i64("product").unwrap_or(0))
                .map_err(|e| match e {
                    Error::NotFound(_) => Error::invalid(t("check the product", "请检查商品"))
                        .field("product", t("no such product", "没有这个商品")),
                    other => other,
                })?;
            let price = match kind {
                Kind::Purchase => product.decimal("purchase_price"),
                Kind::Sales => product.decimal("sale_price"),
            };
            fields.set("price", price.unwrap_or_default().to_string());
        }
    }
    if fields
        .decimal("quantity")
        .is_some_and(|q| q > crate::ledger::max_quantity())
    {
        return Err(Error::invalid(t("check the quantity", "请检查数量"))
            .field("quantity", t("too large", "数量过大")));
    }
    let amount = fields
        .decimal("quantity")
        .unwrap_or_default()
        .checked_mul(fields.decimal("price").unwrap_or_default());
    if amount.is_none_or(|a| a >= Decimal::from(1_000_000_000_000i64)) {
        return Err(
            Error::invalid(t("the line's amount is too large", "明细金额过大")).field(
                "price",
                t(
                    "quantity × price must stay under 1,000,000,000,000",
                    "数量 × 单价须小于 1,000,000,000,000",
                ),
            ),
        );
    }
    if op == WriteOp::Create && orders_lines_count(kind, order_id)? >= MAX_LINES {
        return Err(Error::invalid(t("too many lines", "明细过多")).field(
            "order",
            t(
                &format!("an order has at most {MAX_LINES} lines; start another order"),
                &format!("一个订单最多 {MAX_LINES} 行明细，请另建订单"),
            ),
        ));
    }
    if let Some(product) = fields.i64("product") {
        if let Ok(p) = host::elevated().get("product", product) {
            if kind == Kind::Sales && p.get("active").and_then(Value::as_bool) == Some(false) {
                return Err(Error::invalid(t("check the product", "请检查商品")).field(
                    "product",
                    t("this product is no longer sold", "该商品已停售"),
                ));
            }
        }
    }
    Ok(())
}

/// Lines an order may have: one posting of them stays well within a call's time limit.
pub const MAX_LINES: usize = 200;

fn orders_lines_count(kind: Kind, order: i64) -> Result<usize> {
    let rows = host::aggregate(
        kind.line(),
        &Query::new().elevated().eq("order", order),
        &[],
        &[qingguan_plugin_sdk::host::Metric::Count],
    )?;
    Ok(rows.first().and_then(|g| g.i64(0)).unwrap_or(0) as usize)
}

/// A line's net amount: quantity × price, less its discount (sales).
pub fn line_amount(line: &Record) -> Decimal {
    let q = line.decimal("quantity").unwrap_or_default();
    let p = line.decimal("price").unwrap_or_default();
    let discount = line.decimal("discount").unwrap_or_default();
    round(
        q * p * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED,
        2,
    )
}

/// The lines of an order, in the order they were added.
pub fn lines(kind: Kind, order: i64) -> Result<Vec<Record>> {
    host::query_all(
        kind.line(),
        &Query::new().elevated().eq("order", order).sort("id"),
    )
}

/// Recomputes an order's total from its lines (after a line changed).
pub fn retotal(kind: Kind, order_id: i64) -> Result<()> {
    let order = match host::elevated().get(kind.order(), order_id) {
        Ok(o) => o,
        // The order went away with the line (deleting a draft): nothing to total.
        Err(Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let total: Decimal = lines(kind, order_id)?.iter().map(line_amount).sum();
    if order.decimal("total") != Some(total) {
        host::elevated().update(
            kind.order(),
            order.id,
            order.version,
            &json!({"total": total.to_string()}),
        )?;
    }
    Ok(())
}

fn set_status(kind: Kind, order: &Record, status: &str) -> Result<Record> {
    host::elevated().update(
        kind.order(),
        order.id,
        order.version,
        &json!({"status": status}),
    )
}

/// `approve` (purchase) / `confirm` (sales): a draft with lines opens for receiving or
/// delivery (a confirmed sales order reserves its quantities).
pub fn open(kind: Kind, id: i64) -> Result<Value> {
    host::begin_write()?;
    let order = host::elevated().get(kind.order(), id)?;
    if order.str("status") != Some("draft") {
        return Err(Error::invalid(t(
            "only a draft can be approved or confirmed",
            "只有草稿可以审批或确认",
        )));
    }
    if lines(kind, id)?.is_empty() {
        return Err(Error::invalid(t("the order has no lines", "订单没有明细")));
    }
    let order = set_status(kind, &order, kind.open_status())?;
    Ok(json!({"status": order.str("status")}))
}

/// `cancel`: allowed while nothing has been received or delivered.
pub fn cancel(kind: Kind, id: i64) -> Result<Value> {
    host::begin_write()?;
    let order = host::elevated().get(kind.order(), id)?;
    if matches!(
        order.str("status"),
        Some("cancelled") | Some("received") | Some("delivered")
    ) {
        return Err(Error::invalid(t(
            "this order cannot be cancelled",
            "该订单不能取消",
        )));
    }
    let moved = lines(kind, id)?
        .iter()
        .any(|l| l.decimal(kind.moved()).unwrap_or_default() > Decimal::ZERO);
    if moved {
        return Err(Error::invalid(t(
            "goods have already moved for this order; reverse those movements first",
            "该订单已有出入库，请先冲销相关流水",
        )));
    }
    let order = set_status(kind, &order, "cancelled")?;
    Ok(json!({"status": order.str("status")}))
}

/// What to move: `{"lines": {"<line id>": quantity, …}, "date": "YYYY-MM-DD"}`; without
/// lines, everything outstanding.
pub fn post_order(kind: Kind, id: i64, input: &Value) -> Result<Value> {
    host::begin_write()?;
    let order = host::elevated().get(kind.order(), id)?;
    if !matches!(order.str("status"), Some(s) if s == kind.open_status() || s == "partial") {
        return Err(Error::invalid(match kind {
            Kind::Purchase => t("approve the order before receiving", "请先审批订单再入库"),
            Kind::Sales => t("confirm the order before delivering", "请先确认订单再发货"),
        }));
    }
    if !input.is_object() && !input.is_null() {
        return Err(Error::invalid(t("send a JSON object", "请发送 JSON 对象")));
    }
    let date = match input.get("date") {
        None | Some(Value::Null) => dates::format(dates::today()),
        Some(Value::String(d)) => {
            crate::ledger::check_date(d)?;
            d.clone()
        }
        Some(_) => {
            return Err(Error::invalid(t("check the date", "请检查日期")).field(
                "date",
                t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
            ))
        }
    };
    if input
        .get("lines")
        .is_some_and(|l| !l.is_object() && !l.is_null())
    {
        return Err(Error::invalid(t("check the lines", "请检查明细")).field(
            "lines",
            t(
                "an object of line id → quantity",
                "应为 明细ID → 数量 的对象",
            ),
        ));
    }
    let warehouse = order.i64("warehouse").unwrap_or_default();
    let all = lines(kind, id)?;
    let wanted: Vec<(Record, Decimal)> = match input.get("lines").and_then(Value::as_object) {
        None => all
            .into_iter()
            .map(|l| {
                let open = outstanding(kind, &l);
                (l, open)
            })
            .filter(|(_, q)| *q > Decimal::ZERO)
            .collect(),
        Some(map) => {
            let mut out = Vec::new();
            for (line_id, q) in map {
                let line = all
                    .iter()
                    .find(|l| l.id.to_string() == *line_id)
                    .cloned()
                    .ok_or_else(|| {
                        Error::invalid(t("unknown line", "未知明细")).field(
                            format!("lines.{line_id}"),
                            t("not a line of this order", "不是本订单的明细"),
                        )
                    })?;
                let q = decimal_of(q)
                    .filter(|q| *q > Decimal::ZERO)
                    .ok_or_else(|| {
                        Error::invalid(t("check the quantities", "请检查数量")).field(
                            format!("lines.{line_id}"),
                            t("must be a number more than zero", "必须是大于零的数"),
                        )
                    })?;
                let open = outstanding(kind, &line);
                if q > open {
                    return Err(Error::invalid(t("more than outstanding", "超过未完成数量"))
                        .field(
                            format!("lines.{line_id}"),
                            t(
                                &format!("only {} outstanding", open.normalize()),
                                &format!("未完成数量仅 {}", open.normalize()),
                            ),
                        ));
                }
                out.push((line, q));
            }
            out
        }
    };
    if wanted.is_empty() {
        return Err(Error::invalid(t(
            "nothing outstanding to post",
            "没有未完成的数量",
        )));
    }
    let mut posted = Vec::new();
    for (line, q) in &wanted {
        let product = line.i64("product").unwrap_or_default();
        let movement = match kind {
            Kind::Purchase => Movement {
                product,
                warehouse,
                kind: "receipt",
                quantity: *q,
                unit_cost: line.decimal("price"),
                value: None,
                posted_on: &date,
                source: format!("purchase_order:{id}"),
                source_line: Some(line.id),
                reverses: None,
                reason: None,
            },
            Kind::Sales => Movement {
                product,
                warehouse,
                kind: "delivery",
                quantity: -*q,
                unit_cost: None,
                value: None,
                posted_on: &date,
                source: format!("sales_order:{id}"),
                source_line: Some(line.id),
                reverses: None,
                reason: None,
            },
        };
        let m = ledger::post(&movement).map_err(|e| on_line(e, line.id))?;
        if kind == Kind::Sales {
            // Delivered against the order: that much of its reservation is released.
            crate::alerts::released(product, warehouse, *q);
        }
        posted.push(m.id);
        let moved = line.decimal(kind.moved()).unwrap_or_default() + *q;
        host::elevated().update(
            kind.line(),
            line.id,
            line.version,
            &json!({ kind.moved(): moved.normalize().to_string() }),
        )?;
    }
    let order = refresh_status(kind, id)?;
    Ok(json!({"status": order.str("status"), "movements": posted}))
}

/// A posting's field errors named after the line they concern.
fn on_line(e: Error, line: i64) -> Error {
    match e {
        Error::Invalid { message, fields } => Error::Invalid {
            message,
            fields: fields
                .into_iter()
                .map(|(_, why)| (format!("lines.{line}"), why))
                .collect(),
        },
        other => other,
    }
}

/// What is still to receive or deliver on a line.
pub fn outstanding(kind: Kind, line: &Record) -> Decimal {
    let q = line.decimal("quantity").unwrap_or_default();
    let moved = line.decimal(kind.moved()).unwrap_or_default();
    (q - moved).max(Decimal::ZERO)
}

/// Sets an open order's status from its lines: all moved → done; some → partial; none → open.
pub fn refresh_status(kind: Kind, id: i64) -> Result<Record> {
    let order = host::elevated().get(kind.order(), id)?;
    if matches!(order.str("status"), Some("draft") | Some("cancelled")) {
        return Ok(order);
    }
    let all = lines(kind, id)?;
    let moved_any = all
        .iter()
        .any(|l| l.decimal(kind.moved()).unwrap_or_default() > Decimal::ZERO);
    let open_any = all.iter().any(|l| outstanding(kind, l) > Decimal::ZERO);
    let status = match (moved_any, open_any) {
        (_, false) => kind.done_status(),
        (true, true) => "partial",
        (false, true) => kind.open_status(),
    };
    if order.str("status") == Some(status) {
        return Ok(order);
    }
    set_status(kind, &order, status)
}
