//! Customer invoices and payments received: lines with net and tax rounded per line (the
//! rounding rule: each line's net = quantity × unit price and tax = net × rate, both to cents
//! half away from zero; totals are sums), posting (Dr receivables / Cr revenue and output VAT),
//! payments (Dr bank or cash / Cr receivables) and their allocation to invoices, from which an
//! invoice's paid amount, balance and status follow. Over-allocation is refused.

use crate::journal::{self, Line};
use crate::money::{max_amount, round};
use crate::text::t;
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::*;

pub const AR: &str = "1122";
pub const BANK: &str = "1002";
pub const CASH: &str = "1001";
pub const REVENUE: &str = "6001";
pub const VAT_OUT: &str = "2221";

fn own_write() -> bool {
    host::context().asked_by.as_deref() == Some("finance")
}

fn readonly(field: &str) -> Error {
    Error::invalid(t("this field is set by the system", "该字段由系统填写")).field(
        field,
        t(
            "set by postings, not by hand",
            "由过账自动填写，不能手工修改",
        ),
    )
}

const INVOICE_SYSTEM: [&str; 8] = [
    "number", "status", "net", "tax", "total", "paid", "balance", "entry",
];
const PAYMENT_SYSTEM: [&str; 4] = ["number", "status", "allocated", "entry"];

/// Before a person's write of an invoice or payment: numbered drafts, system fields kept,
/// posted documents read-only.
pub fn before_document(
    entity: &str,
    op: WriteOp,
    before: Option<&Record>,
    fields: &mut Fields,
) -> Result<()> {
    // Serialise with postings and allocations: a draft checked here stays a draft until commit.
    host::begin_write()?;
    if own_write() {
        return Ok(());
    }
    let (system, prefix): (&[&str], &str) = if entity == "invoice" {
        (&INVOICE_SYSTEM, "INV")
    } else {
        (&PAYMENT_SYSTEM, "RC")
    };
    match op {
        WriteOp::Create => {
            for f in system {
                if fields.get(f).is_some_and(|v| !v.is_null()) {
                    return Err(readonly(f));
                }
            }
            let n = host::kv_increment(&format!("seq:{prefix}"), 1)?;
            fields.set("number", format!("{prefix}-{n:05}"));
            fields.set("status", "draft");
            if entity == "invoice" {
                for f in ["net", "tax", "total", "paid", "balance"] {
                    fields.set(f, "0");
                }
                if fields.get("issued_on").is_none_or(Value::is_null) {
                    fields.set("issued_on", dates::format(dates::today()));
                }
                if fields.get("due_on").is_none_or(Value::is_null) {
                    let issued = fields
                        .str("issued_on")
                        .and_then(dates::parse)
                        .unwrap_or_else(dates::today);
                    fields.set("due_on", dates::format(issued + 30));
                }
            } else {
                fields.set("allocated", "0");
                if fields
                    .decimal("amount")
                    .is_none_or(|a| a <= Decimal::ZERO || a > max_amount())
                {
                    return Err(Error::invalid(t("check the amount", "请检查金额"))
                        .field("amount", t("more than zero", "必须大于零")));
                }
            }
            Ok(())
        }
        WriteOp::Update | WriteOp::Delete => {
            let b = before.ok_or_else(|| Error::not_found(entity))?;
            if b.str("status") != Some("draft") {
                return Err(Error::invalid(t(
                    "a posted document cannot be changed or deleted",
                    "已过账的单据不能修改或删除",
                )));
            }
            if op == WriteOp::Update {
                for f in system {
                    if fields.get(f) != b.get(f) {
                        return Err(readonly(f));
                    }
                }
                if entity == "invoice"
                    && fields.get("customer") != b.get("customer")
                    && has_delivery_lines(b.id)?
                {
                    return Err(Error::invalid(t(
                        "this invoice bills deliveries",
                        "该发票开具的是已发货的货物",
                    ))
                    .field(
                        "customer",
                        t(
                            "cannot change: its lines bill this customer's deliveries",
                            "不能修改：明细开具的是该客户的发货",
                        ),
                    ));
                }
                if entity == "payment"
                    && fields
                        .decimal("amount")
                        .is_none_or(|a| a <= Decimal::ZERO || a > max_amount())
                {
                    return Err(Error::invalid(t("check the amount", "请检查金额"))
                        .field("amount", t("more than zero", "必须大于零")));
                }
            }
            Ok(())
        }
    }
}

fn has_delivery_lines(invoice_id: i64) -> Result<bool> {
    Ok(host::query_all(
        "invoice_line",
        &Query::new().elevated().eq("invoice", invoice_id),
    )?
    .iter()
    .any(|l| l.i64("source_line").is_some()))
}

/// A line's net and tax (see the module's rounding rule).
pub fn line_amounts(
    quantity: Decimal,
    unit_price: Decimal,
    rate: Decimal,
) -> Option<(Decimal, Decimal)> {
    let net = round(quantity.checked_mul(unit_price)?);
    let tax = round(net.checked_mul(rate)? / Decimal::ONE_HUNDRED);
    Some((net, tax))
}

/// Before a write of an invoice line: only on a draft invoice; net and tax computed here.
pub fn before_line(op: WriteOp, before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    let invoice_id = match op {
        WriteOp::Delete => before.and_then(|b| b.i64("invoice")),
        _ => fields.i64("invoice"),
    }
    .ok_or_else(|| Error::invalid(t("a line needs an invoice", "明细需要所属发票")))?;
    host::begin_write()?;
    let invoice = host::elevated().get("invoice", invoice_id)?;
    if invoice.str("status") != Some("draft") {
        return Err(
            Error::invalid(t("the invoice is posted", "发票已过账")).field(
                "invoice",
                t(
                    "a posted invoice's lines cannot change",
                    "已过账发票的明细不能修改",
                ),
            ),
        );
    }
    if op == WriteOp::Delete {
        return Ok(());
    }
    if !own_write() {
        for f in ["net", "tax", "source_line"] {
            let was = before
                .and_then(|b| b.get(f))
                .cloned()
                .unwrap_or(Value::Null);
            if fields.get(f).cloned().unwrap_or(Value::Null) != was && f == "source_line" {
                return Err(readonly(f));
            }
        }
        if let Some(b) = before {
            if b.i64("source_line").is_some() {
                for f in ["quantity", "unit_price", "tax_rate", "product"] {
                    if fields.get(f) != b.get(f) {
                        return Err(Error::invalid(t(
                            "this line bills a delivery",
                            "该明细开具的是一次发货",
                        ))
                        .field(
                            f,
                            t(
                                "set by the delivery: delete the line instead",
                                "由发货决定：如需修改请删除该明细",
                            ),
                        ));
                    }
                }
            }
            if b.i64("invoice") != fields.i64("invoice") {
                return Err(Error::invalid(t(
                    "a line stays on its invoice",
                    "明细不能移到其他发票",
                ))
                .field("invoice", t("cannot be changed", "不能修改")));
            }
        }
    }
    let q = fields.decimal("quantity").unwrap_or_default();
    if q <= Decimal::ZERO {
        return Err(Error::invalid(t("check the quantity", "请检查数量"))
            .field("quantity", t("must be more than zero", "必须大于零")));
    }
    let price = fields.decimal("unit_price").unwrap_or_default();
    let rate = fields.decimal("tax_rate").unwrap_or_default();
    // The invoice's total stays within the largest amount too: the other lines plus this one.
    let others: Decimal = host::query_all(
        "invoice_line",
        &Query::new().elevated().eq("invoice", invoice_id),
    )?
    .iter()
    .filter(|l| before.is_none_or(|b| b.id != l.id))
    .filter_map(|l| Some(l.decimal("net")? + l.decimal("tax")?))
    .sum();
    match line_amounts(q, price, rate) {
        Some((net, tax)) if net + tax + others <= max_amount() => {
            fields.set("net", net.to_string());
            fields.set("tax", tax.to_string());
            Ok(())
        }
        _ => Err(
            Error::invalid(t("the amount is too large", "金额过大")).field(
                "unit_price",
                t("quantity × price is too large", "数量 × 单价过大"),
            ),
        ),
    }
}

/// An invoice's net, tax and total summed from its lines.
fn line_totals(invoice_id: i64) -> Result<(Decimal, Decimal, Decimal)> {
    let lines = host::query_all(
        "invoice_line",
        &Query::new().elevated().eq("invoice", invoice_id),
    )?;
    let net: Decimal = lines.iter().filter_map(|l| l.decimal("net")).sum();
    let tax: Decimal = lines.iter().filter_map(|l| l.decimal("tax")).sum();
    Ok((net, tax, net + tax))
}

/// Recomputes a draft invoice's totals from its lines.
pub fn retotal(invoice_id: i64) -> Result<()> {
    host::begin_write()?;
    let inv = match host::elevated().get("invoice", invoice_id) {
        Ok(i) => i,
        Err(Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if inv.str("status") != Some("draft") {
        return Ok(());
    }
    let (net, tax, total) = line_totals(invoice_id)?;
    let paid = inv.decimal("paid").unwrap_or_default();
    host::elevated().update(
        "invoice",
        inv.id,
        inv.version,
        &json!({"net": net.to_string(), "tax": tax.to_string(), "total": total.to_string(), "balance": (total - paid).to_string()}),
    )?;
    Ok(())
}

/// `post` an invoice: Dr receivables total / Cr revenue net, output VAT tax.
pub fn post_invoice(id: i64) -> Result<Value> {
    host::begin_write()?;
    let inv = host::elevated().get("invoice", id)?;
    if inv.str("status") != Some("draft") {
        return Err(Error::invalid(t(
            "this invoice is already posted",
            "该发票已过账",
        )));
    }
    // Post what the lines say now, not a total stored by an earlier, racing write.
    let (net, tax, total) = line_totals(id)?;
    if total <= Decimal::ZERO {
        return Err(Error::invalid(t(
            "the invoice has no amount",
            "发票金额为零",
        )));
    }
    let on = inv.str("issued_on").unwrap_or_default().to_string();
    let number = inv.str("number").unwrap_or_default().to_string();
    let entry = journal::post(
        &on,
        &number,
        &format!("invoice:{id}"),
        &[
            Line {
                account: AR,
                debit: total,
                credit: Decimal::ZERO,
                memo: &number,
            },
            Line {
                account: REVENUE,
                debit: Decimal::ZERO,
                credit: net,
                memo: &number,
            },
            Line {
                account: VAT_OUT,
                debit: Decimal::ZERO,
                credit: tax,
                memo: &number,
            },
        ],
        None,
    )?;
    let inv = host::elevated().update(
        "invoice",
        inv.id,
        inv.version,
        &json!({"status": "posted", "entry": entry.id, "paid": "0", "balance": total.to_string(),
                "net": net.to_string(), "tax": tax.to_string(), "total": total.to_string()}),
    )?;
    Ok(json!({"status": inv.str("status"), "entry": entry.str("number")}))
}

/// `post` a payment: Dr bank or cash / Cr receivables.
pub fn post_payment(id: i64) -> Result<Value> {
    host::begin_write()?;
    let p = host::elevated().get("payment", id)?;
    if p.str("status") != Some("draft") {
        return Err(Error::invalid(t(
            "this payment is already posted",
            "该收款已过账",
        )));
    }
    let amount = p.decimal("amount").unwrap_or_default();
    let on = p.str("received_on").unwrap_or_default().to_string();
    let number = p.str("number").unwrap_or_default().to_string();
    let account = if p.str("method") == Some("cash") {
        CASH
    } else {
        BANK
    };
    let entry = journal::post(
        &on,
        &number,
        &format!("payment:{id}"),
        &[
            Line {
                account,
                debit: amount,
                credit: Decimal::ZERO,
                memo: &number,
            },
            Line {
                account: AR,
                debit: Decimal::ZERO,
                credit: amount,
                memo: &number,
            },
        ],
        None,
    )?;
    let p = host::elevated().update(
        "payment",
        p.id,
        p.version,
        &json!({"status": "posted", "entry": entry.id}),
    )?;
    Ok(json!({"status": p.str("status"), "entry": entry.str("number")}))
}

fn invoice_status(total: Decimal, paid: Decimal) -> &'static str {
    if paid >= total {
        "paid"
    } else if paid > Decimal::ZERO {
        "partly_paid"
    } else {
        "posted"
    }
}

/// `allocate` a payment: `{"invoices": {"<invoice id>": amount, …}}` — never more than the
/// payment has left nor than an invoice's balance, same customer, both posted.
pub fn allocate(payment_id: i64, input: &Value) -> Result<Value> {
    host::begin_write()?;
    let p = host::elevated().get("payment", payment_id)?;
    if p.str("status") != Some("posted") {
        return Err(Error::invalid(t(
            "post the payment first",
            "请先过账收款单",
        )));
    }
    let map = input
        .get("invoices")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            Error::invalid(t("which invoices?", "核销哪些发票？")).field(
                "invoices",
                t(
                    "an object of invoice id → amount",
                    "应为 发票ID → 金额 的对象",
                ),
            )
        })?;
    let mut left =
        p.decimal("amount").unwrap_or_default() - p.decimal("allocated").unwrap_or_default();
    let mut done = Vec::new();
    for (key, amount) in map {
        let field = format!("invoices.{key}");
        let amount = decimal_of(amount)
            .filter(|a| *a > Decimal::ZERO && a.scale() <= 2)
            .ok_or_else(|| {
                Error::invalid(t("check the amounts", "请检查金额")).field(
                    &field,
                    t(
                        "an amount more than zero, in cents",
                        "大于零的金额（最多两位小数）",
                    ),
                )
            })?;
        let id: i64 = key.parse().map_err(|_| {
            Error::invalid(t("check the invoices", "请检查发票"))
                .field(&field, t("not an invoice", "不是发票"))
        })?;
        let inv = host::elevated().get("invoice", id).map_err(|_| {
            Error::invalid(t("check the invoices", "请检查发票"))
                .field(&field, t("not an invoice", "不是发票"))
        })?;
        if inv.i64("customer") != p.i64("customer") {
            return Err(
                Error::invalid(t("another customer's invoice", "其他客户的发票")).field(
                    &field,
                    t("the invoice is another customer's", "该发票属于其他客户"),
                ),
            );
        }
        if !matches!(inv.str("status"), Some("posted") | Some("partly_paid")) {
            return Err(
                Error::invalid(t("the invoice is not open", "发票不是待收款状态"))
                    .field(&field, t("not posted, or already paid", "未过账或已收清")),
            );
        }
        let balance = inv.decimal("balance").unwrap_or_default();
        if amount > balance {
            return Err(
                Error::invalid(t("more than the invoice's balance", "超过发票未收金额")).field(
                    &field,
                    t(
                        &format!("the balance is {balance}"),
                        &format!("未收金额为 {balance}"),
                    ),
                ),
            );
        }
        if amount > left {
            return Err(
                Error::invalid(t("more than the payment has left", "超过收款未核销金额")).field(
                    &field,
                    t(
                        &format!("{left} left to allocate"),
                        &format!("剩余可核销 {left}"),
                    ),
                ),
            );
        }
        left -= amount;
        host::elevated().create(
            "allocation",
            &json!({"payment": payment_id, "invoice": id, "amount": amount.to_string()}),
        )?;
        let paid = inv.decimal("paid").unwrap_or_default() + amount;
        let total = inv.decimal("total").unwrap_or_default();
        host::elevated().update(
            "invoice",
            inv.id,
            inv.version,
            &json!({"paid": paid.to_string(), "balance": (total - paid).to_string(), "status": invoice_status(total, paid)}),
        )?;
        done.push(id);
    }
    let allocated = p.decimal("amount").unwrap_or_default() - left;
    let p = host::elevated().update(
        "payment",
        p.id,
        p.version,
        &json!({"allocated": allocated.to_string()}),
    )?;
    Ok(
        json!({"allocated": p.str("allocated").map(str::to_string).or_else(|| p.decimal("allocated").map(|d| d.to_string())), "invoices": done}),
    )
}

/// Allocations are made by `allocate` only.
pub fn guard_allocation() -> Result<()> {
    if own_write() {
        Ok(())
    } else {
        Err(Error::Denied(t(
            "allocations are made with the payment's Allocate action",
            "核销记录通过收款单的“核销发票”生成",
        )))
    }
}
