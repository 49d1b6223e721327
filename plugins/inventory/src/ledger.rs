//! The stock ledger: every movement is an immutable `stock_move` line (product, warehouse,
//! quantity ±, unit cost, value, source, posting date). Levels and moving-average values are
//! sums over it; nothing edits a posted line (a correction is a reversing line). Postings take
//! the writer first (`host::begin_write`), so the balance a posting checks is the balance it
//! changes: concurrent deliveries of the last units never oversell.

pub use crate::bins::Balance;
pub use crate::money::{check_date, max_quantity, mul, round};
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// The balance of a product in a warehouse: now (its kept level), or up to a date
/// (inclusive) summed from the ledger.
pub fn balance(product: i64, warehouse: i64, at: Option<&str>) -> Result<Balance> {
    let Some(at) = at else {
        return Ok(crate::bins::get(product, warehouse)?.balance);
    };
    let q = Query::new()
        .elevated()
        .eq("product", product)
        .eq("warehouse", warehouse)
        .lte("posted_on", at);
    let rows = host::aggregate(
        "stock_move",
        &q,
        &[],
        &[Metric::Sum("quantity"), Metric::Sum("value")],
    )?;
    let row = rows.first();
    Ok(Balance {
        // No movements: nothing on hand.
        quantity: row.and_then(|g| g.decimal(0)).unwrap_or_default(),
        value: row.and_then(|g| g.decimal(1)).unwrap_or_default(),
    })
}

/// One movement to post.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    pub product: i64,
    pub warehouse: i64,
    /// `receipt`, `delivery`, `return_in`, `return_out`, `transfer_in`, `transfer_out`,
    /// `adjustment`, `reversal`.
    pub kind: &'a str,
    /// Positive in, negative out.
    pub quantity: Decimal,
    /// For incoming stock: its unit cost (none: the current average, else the product's
    /// purchase price). Outgoing stock always leaves at the current average.
    pub unit_cost: Option<Decimal>,
    /// For incoming stock: its exact value, when it must equal what left elsewhere (a
    /// transfer, a customer return at the cost it left with).
    pub value: Option<Decimal>,
    pub posted_on: &'a str,
    pub source: String,
    pub source_line: Option<i64>,
    pub reverses: Option<i64>,
    pub reason: Option<&'a str>,
}

/// Whether the warehouse lets stock go below zero.
fn allows_negative(warehouse: i64) -> Result<bool> {
    Ok(host::elevated()
        .get("warehouse", warehouse)?
        .get("allow_negative")
        .and_then(Value::as_bool)
        .unwrap_or(false))
}

fn product_cost(product: i64) -> Result<Decimal> {
    Ok(host::elevated()
        .get("product", product)?
        .decimal("purchase_price")
        .unwrap_or_default())
}

/// Posts one movement at moving-average cost and returns the ledger line. Refuses stock
/// going negative (unless the warehouse allows it). Stock coming in before the product's latest
/// movement in that warehouse is valued as of its date and re-values what left after it
/// (`revalue`); stock going out before it is refused.
pub fn post(m: &Movement<'_>) -> Result<Record> {
    host::begin_write()?;
    crate::bins::remember();
    check_date(m.posted_on)?;
    if m.quantity.abs() > max_quantity() {
        return Err(Error::invalid(t("check the quantity", "请检查数量"))
            .field("quantity", t("too large", "数量过大")));
    }
    if m.quantity.is_zero() {
        return Err(Error::invalid(t("nothing to post", "数量为零，无需记账"))
            .field("quantity", t("must not be zero", "不能为零")));
    }
    // Back-dated: stock coming in on an earlier date is valued as of that date and the later
    // movements are re-valued after it; stock going out earlier is refused (it could have
    // taken what was not there yet).
    let bin = crate::bins::get(m.product, m.warehouse)?;
    let latest = bin.latest;
    let back_dated = latest.as_deref().is_some_and(|l| m.posted_on < l);
    if back_dated && m.quantity < Decimal::ZERO {
        let latest = latest.unwrap_or_default();
        return Err(Error::invalid(t("back-dated issue", "不能倒记出库")).field(
            "posted_on",
            t(
                &format!("this product has movements up to {latest}; stock can leave on or after that date (stock may come in earlier)"),
                &format!("该商品在此仓库已有 {latest} 的流水，出库日期不能早于该日期（入库可以倒记）"),
            ),
        ));
    }
    let before = if back_dated {
        balance(m.product, m.warehouse, Some(m.posted_on))?
    } else {
        bin.balance
    };
    let (unit_cost, value) = if m.quantity > Decimal::ZERO {
        let cost = match m.unit_cost {
            Some(c) => c,
            None => match before.unit_cost() {
                Some(c) => c,
                None => product_cost(m.product)?,
            },
        };
        let value = match m.value {
            Some(v) => v,
            None => round(mul(m.quantity, cost)?, 2),
        };
        (cost, value)
    } else {
        crate::alerts::before_out(m.product, m.warehouse, before.quantity);
        let out = -m.quantity;
        if out > before.quantity && !allows_negative(m.warehouse)? {
            return Err(Error::invalid(t("not enough stock", "库存不足")).field(
                "quantity",
                t(
                    &format!("only {} on hand", before.quantity.normalize()),
                    &format!("当前库存仅 {}", before.quantity.normalize()),
                ),
            ));
        }
        match before.unit_cost() {
            // All of it leaves: exactly its value, so no cent is left behind.
            Some(_) if out == before.quantity => {
                (before.unit_cost().unwrap_or_default(), -before.value)
            }
            Some(c) => (c, -round(mul(out, before.value)? / before.quantity, 2)),
            None => {
                let c = product_cost(m.product)?;
                (c, -round(mul(out, c)?, 2))
            }
        }
    };
    let line = host::elevated().create(
        "stock_move",
        &json!({
            "product": m.product,
            "warehouse": m.warehouse,
            "kind": m.kind,
            "quantity": m.quantity.normalize().to_string(),
            "unit_cost": unit_cost.to_string(),
            "value": value.to_string(),
            "posted_on": m.posted_on,
            "source": m.source,
            "source_line": m.source_line,
            "reverses": m.reverses,
            "reason": m.reason,
        }),
    )?;
    crate::feed::record(&line);
    crate::bins::add(
        line.id,
        m.product,
        m.warehouse,
        m.quantity,
        value,
        m.posted_on,
    )?;
    if back_dated {
        crate::revalue::revalue(m.product, m.warehouse, m.posted_on, &m.source)?;
    }
    Ok(line)
}

/// Refuses every write to the ledger that is not the plugin's own posting: a posted line is
/// never edited or deleted, and nobody creates one by hand.
pub fn guard(op: WriteOp) -> Result<()> {
    let own = host::context().asked_by.as_deref() == Some("inventory");
    match op {
        WriteOp::Create if own => Ok(()),
        WriteOp::Create => Err(Error::Denied(t(
            "stock movements are posted by receipts, deliveries, transfers and counts, not entered by hand",
            "库存流水由入库、发货、调拨和盘点自动记账，不能手工录入",
        ))),
        _ => Err(Error::Denied(t(
            "a posted stock movement cannot be changed or deleted; reverse it instead",
            "已记账的库存流水不能修改或删除，请使用冲销",
        ))),
    }
}

/// Posts the reverse of a movement (once). Stock that left comes back at exactly the value it
/// left with (revaluations included); stock that came in leaves again at the current average
/// — so the product's value never drifts from its quantity (nothing on hand is worth nothing).
pub fn reverse(id: i64, posted_on: &str) -> Result<Record> {
    host::begin_write()?;
    let m = host::elevated().get("stock_move", id)?;
    if matches!(m.str("kind"), Some("reversal") | Some("revaluation")) {
        return Err(Error::invalid(t(
            "a reversal or revaluation cannot be reversed",
            "冲销或成本重估流水不能再冲销",
        )));
    }
    let already = host::query(
        "stock_move",
        &Query::new().elevated().eq("reverses", id).limit(1),
    )?;
    if !already.items.is_empty() {
        return Err(Error::Conflict(t(
            "this movement has already been reversed",
            "该流水已冲销",
        )));
    }
    let product = m.i64("product").unwrap_or_default();
    let warehouse = m.i64("warehouse").unwrap_or_default();
    let quantity = m.decimal("quantity").unwrap_or_default();
    check_date(posted_on)?;
    let latest = crate::bins::get(product, warehouse)?
        .latest
        .unwrap_or_default();
    let posted_on = if posted_on < latest.as_str() {
        latest.as_str()
    } else {
        posted_on
    };
    let (unit_cost, value) = if quantity < Decimal::ZERO {
        let corrections: Decimal = crate::revalue::corrections(product, warehouse, &[&m])?
            .values()
            .sum();
        let value = -(m.decimal("value").unwrap_or_default() + corrections);
        (m.decimal("unit_cost"), Some(value))
    } else {
        (None, None)
    };
    post(&Movement {
        product,
        warehouse,
        kind: "reversal",
        quantity: -quantity,
        unit_cost,
        value,
        posted_on,
        source: m.str("source").unwrap_or_default().to_string(),
        source_line: m.i64("source_line"),
        reverses: Some(id),
        reason: Some(&t("reversal", "冲销")),
    })
}
