//! Customer invoices and supplier bills: lines with net and tax rounded per line (the rounding
//! rule: each line's net = quantity × unit price and tax = net × rate, both to cents half away
//! from zero; totals are sums), and posting — an invoice: Dr receivables / Cr revenue and output
//! VAT; a bill: Dr each line's account and input VAT / Cr payables. A document in another
//! currency posts its amounts converted at its rate (see [`crate::fx`]).

use crate::journal::{self, Line};
use crate::money::{max_amount, round};
use crate::sides::{Side, SALES};
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

pub const REVENUE: &str = "6001";
pub const VAT_OUT: &str = "2221";
pub const VAT_IN: &str = "222101";
/// Goods received not yet billed: inventory's receipts credit it, bills for them debit it.
pub const GRNI: &str = "220201";

pub(crate) fn own_write() -> bool {
    host::context().asked_by.as_deref() == Some("finance")
}

pub(crate) fn readonly(field: &str) -> Error {
    Error::invalid(t("this field is set by the system", "该字段由系统填写")).field(
        field,
        t(
            "set by postings, not by hand",
            "由过账自动填写，不能手工修改",
        ),
    )
}

const DOCUMENT_SYSTEM: [&str; 11] = [
    "number",
    "status",
    "net",
    "tax",
    "total",
    "paid",
    "balance",
    "entry",
    "net_cc",
    "total_cc",
    "balance_cc",
];
const PAYMENT_SYSTEM: [&str; 6] = [
    "number",
    "status",
    "allocated",
    "entry",
    "amount_cc",
    "allocated_cc",
];

/// Before a person's write of an invoice, a bill or a payment: numbered drafts, system fields
/// kept, posted documents read-only.
pub fn before_document(
    side: &Side,
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
    let is_document = entity == side.document;
    let (system, prefix): (&[&str], &str) = if is_document {
        (&DOCUMENT_SYSTEM, side.document_prefix)
    } else {
        (&PAYMENT_SYSTEM, side.payment_prefix)
    };
    match op {
        WriteOp::Create => {
            for f in system {
                if fields.get(f).is_some_and(|v| !v.is_null()) {
                    return Err(readonly(f));
                }
            }
            let credit_note = is_document && side.document == SALES.document && {
                crate::credit_notes::check(fields)?
            };
            let prefix = if credit_note { "CN" } else { prefix };
            let n = host::kv_increment(&format!("seq:{prefix}"), 1)?;
            fields.set("number", format!("{prefix}-{n:05}"));
            fields.set("status", "draft");
            if credit_note {
                // In the credited invoice's currency, at the rate it was booked at.
                let original = host::elevated()
                    .get(SALES.document, fields.i64("credits").unwrap_or_default())?;
                fields.set("currency", crate::fx::currency_of(&original).as_str());
                fields.set("rate", crate::fx::rate_of(&original).to_string());
            } else {
                crate::fx::default_rate(None, fields)?;
            }
            if is_document {
                for f in [
                    "net",
                    "tax",
                    "total",
                    "paid",
                    "balance",
                    "net_cc",
                    "total_cc",
                    "balance_cc",
                ] {
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
                fields.set("amount_cc", "0");
                fields.set("allocated_cc", "0");
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
                for f in system.iter().chain(&["kind", "credits"]) {
                    if fields.get(f) != b.get(f) {
                        return Err(readonly(f));
                    }
                }
                if b.str("kind") == Some("credit_note") {
                    for f in ["currency", "rate"] {
                        if fields.get(f) != b.get(f) {
                            return Err(Error::invalid(t(
                                "a credit note is in its invoice's currency, at its rate",
                                "红字发票的币种和汇率与原发票相同",
                            ))
                            .field(f, t("cannot change", "不能修改")));
                        }
                    }
                } else {
                    crate::fx::default_rate(Some(b), fields)?;
                }
                if is_document
                    && fields.get(side.party) != b.get(side.party)
                    && (b.str("kind") == Some("credit_note") || has_stock_lines(side, b.id)?)
                {
                    return Err(if side.document == SALES.document {
                        Error::invalid(t("the customer stays", "客户不能修改")).field(
                            "customer",
                            t(
                                "cannot change: the lines bill this customer's deliveries, or the credit note credits this customer's invoice",
                                "不能修改：明细开具的是该客户的发货，或红字发票冲抵的是该客户的发票",
                            ),
                        )
                    } else {
                        Error::invalid(t("the supplier stays", "供应商不能修改")).field(
                            "supplier",
                            t(
                                "cannot change: the lines bill this supplier's receipts",
                                "不能修改：明细对应的是该供应商的采购入库",
                            ),
                        )
                    });
                }
                if !is_document
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

/// Whether a document's lines bill what inventory moved (deliveries, receipts).
fn has_stock_lines(side: &Side, document: i64) -> Result<bool> {
    Ok(host::query_all(
        side.line,
        &Query::new().elevated().eq(side.document, document),
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

/// Before a write of an invoice's or bill's line: only on a draft; net and tax computed here;
/// a bill's line names an account a purchase may be booked to.
pub fn before_line(
    side: &Side,
    op: WriteOp,
    before: Option<&Record>,
    fields: &mut Fields,
) -> Result<()> {
    let parent = side.document;
    let word = side.document_word();
    let invoice_id = match op {
        WriteOp::Delete => before.and_then(|b| b.i64(parent)),
        _ => fields.i64(parent),
    }
    .ok_or_else(|| {
        Error::invalid(t(
            &format!("a line needs its {word}"),
            &format!("明细需要所属{word}"),
        ))
    })?;
    host::begin_write()?;
    let invoice = host::elevated().get(parent, invoice_id)?;
    if invoice.str("status") != Some("draft") {
        return Err(Error::invalid(t(
            &format!("the {word} is posted"),
            &format!("{word}已过账"),
        ))
        .field(
            parent,
            t(
                "a posted document's lines cannot change",
                "已过账单据的明细不能修改",
            ),
        ));
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
                let (what, by) = if side.document == "bill" {
                    (
                        t("this line bills a receipt", "该明细对应一次采购入库"),
                        t(
                            "set by the receipt: delete the line instead",
                            "由采购入库决定：如需修改请删除该明细",
                        ),
                    )
                } else {
                    (
                        t("this line bills a delivery", "该明细开具的是一次发货"),
                        t(
                            "set by the delivery: delete the line instead",
                            "由发货决定：如需修改请删除该明细",
                        ),
                    )
                };
                for f in ["quantity", "unit_price", "tax_rate", "product", "account"] {
                    if fields.get(f) != b.get(f) && (f != "account" || side.document == "bill") {
                        return Err(Error::invalid(what).field(f, by));
                    }
                }
            }
            if b.i64(parent) != fields.i64(parent) {
                return Err(Error::invalid(t(
                    "a line stays on its invoice",
                    "明细不能移到其他发票",
                ))
                .field(parent, t("cannot be changed", "不能修改")));
            }
        }
    }
    if side.document != SALES.document {
        check_purchase_account(fields)?;
    }
    let q = fields.decimal("quantity").unwrap_or_default();
    if q <= Decimal::ZERO {
        return Err(Error::invalid(t("check the quantity", "请检查数量"))
            .field("quantity", t("must be more than zero", "必须大于零")));
    }
    let price = fields.decimal("unit_price").unwrap_or_default();
    let rate = fields.decimal("tax_rate").unwrap_or_default();
    // The invoice's total stays within the largest amount too: the other lines plus this one.
    let others: Decimal =
        host::query_all(side.line, &Query::new().elevated().eq(parent, invoice_id))?
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

/// A bill's line is booked to an asset or expense account a purchase may go to: not one kept
/// by documents (receivables, stock, payables) — except goods received and not yet billed.
fn check_purchase_account(fields: &Fields) -> Result<()> {
    let refused = || {
        Error::invalid(t("check the account", "请检查科目")).field(
            "account",
            t(
                "an expense or asset account, or 220201 for goods received",
                "请选择费用或资产科目；已入库货物请选 220201 暂估应付",
            ),
        )
    };
    let id = fields.i64("account").ok_or_else(refused)?;
    let account = host::elevated().get("account", id).map_err(|_| refused())?;
    let code = account.str("code").unwrap_or("");
    let bookable = code == GRNI
        || (matches!(account.str("kind"), Some("asset") | Some("expense"))
            && !journal::CONTROL.contains(&code));
    if bookable {
        Ok(())
    } else {
        Err(refused())
    }
}

/// A document's lines.
fn lines_of(side: &Side, id: i64) -> Result<Vec<Record>> {
    host::query_all(side.line, &Query::new().elevated().eq(side.document, id))
}

/// A document's net, tax and total summed from its lines.
fn line_totals(side: &Side, invoice_id: i64) -> Result<(Decimal, Decimal, Decimal)> {
    let lines = lines_of(side, invoice_id)?;
    let net: Decimal = lines.iter().filter_map(|l| l.decimal("net")).sum();
    let tax: Decimal = lines.iter().filter_map(|l| l.decimal("tax")).sum();
    Ok((net, tax, net + tax))
}

/// Recomputes a draft document's totals from its lines.
pub fn retotal(side: &Side, invoice_id: i64) -> Result<()> {
    host::begin_write()?;
    let inv = match host::elevated().get(side.document, invoice_id) {
        Ok(i) => i,
        Err(Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if inv.str("status") != Some("draft") {
        return Ok(());
    }
    let (net, tax, total) = line_totals(side, invoice_id)?;
    let paid = inv.decimal("paid").unwrap_or_default();
    host::elevated().update(
        side.document,
        inv.id,
        inv.version,
        &json!({"net": net.to_string(), "tax": tax.to_string(), "total": total.to_string(), "balance": (total - paid).to_string()}),
    )?;
    Ok(())
}

/// `post` an invoice (Dr receivables total / Cr revenue net, output VAT tax) or a bill (Dr each
/// line's account its net and input VAT the tax / Cr payables total).
pub fn post_document(side: &Side, id: i64) -> Result<Value> {
    host::begin_write()?;
    let word = side.document_word();
    let inv = host::elevated().get(side.document, id)?;
    if inv.str("status") != Some("draft") {
        return Err(Error::invalid(t(
            &format!("this {word} is already posted"),
            &format!("该{word}已过账"),
        )));
    }
    // Post what the lines say now, not a total stored by an earlier, racing write.
    let (net, tax, total) = line_totals(side, id)?;
    if total <= Decimal::ZERO {
        return Err(Error::invalid(t(
            &format!("the {word} has no amount"),
            &format!("{word}金额为零"),
        )));
    }
    let on = inv.str("issued_on").unwrap_or_default().to_string();
    let number = inv.str("number").unwrap_or_default().to_string();
    let zero = Decimal::ZERO;
    // The journal's amounts, in the company currency at the document's rate.
    let rate = crate::fx::rate_of(&inv);
    let cc = |amount: Decimal| crate::fx::to_company(amount, rate);
    let (net_cc, tax_cc) = (cc(net), cc(tax));
    let total_cc = net_cc + tax_cc;
    let line = |account, debit, credit| Line {
        account,
        debit,
        credit,
        memo: &number,
    };
    let mut codes: Vec<(String, Decimal)> = Vec::new();
    if side.document != SALES.document {
        // Per account, the bill's net.
        let mut by: std::collections::BTreeMap<i64, Decimal> = Default::default();
        for l in lines_of(side, id)? {
            // The account may have changed since the line was written: check it again.
            let mut line_fields = Fields::default();
            line_fields.set("account", l.i64("account").unwrap_or_default());
            check_purchase_account(&line_fields)?;
            *by.entry(l.i64("account").unwrap_or_default()).or_default() +=
                l.decimal("net").unwrap_or_default();
        }
        for (account, amount) in by {
            let code = host::elevated().get("account", account)?;
            codes.push((code.str("code").unwrap_or_default().to_string(), cc(amount)));
        }
    }
    // Per account rounded, the bill's net in the company currency is the sum of its accounts'.
    let net_cc = if side.document == SALES.document {
        net_cc
    } else {
        codes.iter().map(|(_, a)| *a).sum()
    };
    let total_cc = if side.document == SALES.document {
        total_cc
    } else {
        net_cc + tax_cc
    };
    let credits = (inv.str("kind") == Some("credit_note"))
        .then(|| inv.i64("credits"))
        .flatten();
    let lines: Vec<Line> = if let Some(original) = credits {
        // A credit note: the invoice's entry turned round, and applied to the invoice at once.
        // What it releases of the invoice's receivable may differ from its own converted
        // total by rounding: the difference is an exchange difference.
        let released = crate::credit_notes::apply(original, inv.get("customer"), total, &number)?;
        let mut v = vec![
            line(REVENUE, net_cc, zero),
            line(VAT_OUT, tax_cc, zero),
            line(side.control, zero, released),
        ];
        let gain = released - total_cc;
        if gain > zero {
            v.push(line(crate::fx::FX_ACCOUNT, gain, zero));
        } else if gain < zero {
            v.push(line(crate::fx::FX_ACCOUNT, zero, -gain));
        }
        v
    } else if side.document == SALES.document {
        vec![
            line(side.control, total_cc, zero),
            line(REVENUE, zero, net_cc),
            line(VAT_OUT, zero, tax_cc),
        ]
    } else {
        let mut v: Vec<Line> = codes
            .iter()
            .map(|(code, amount)| line(code, *amount, zero))
            .collect();
        v.push(line(VAT_IN, tax_cc, zero));
        v.push(line(side.control, zero, total_cc));
        v
    };
    let entry = journal::post(
        &on,
        &number,
        &format!("{}:{id}", side.document),
        &lines,
        None,
    )?;
    // A credit note is settled by posting it: nothing of it is left to apply.
    let (status, paid, balance_cc) = if credits.is_some() {
        ("applied", total, zero)
    } else {
        (
            crate::sides::settled_status(total, zero, inv.str("due_on")),
            zero,
            total_cc,
        )
    };
    let inv = host::elevated().update(
        side.document,
        inv.id,
        inv.version,
        &json!({"status": status, "entry": entry.id, "paid": paid.to_string(), "balance": (total - paid).to_string(),
                "net": net.to_string(), "tax": tax.to_string(), "total": total.to_string(),
                "net_cc": net_cc.to_string(), "total_cc": total_cc.to_string(),
                "balance_cc": balance_cc.to_string()}),
    )?;
    Ok(json!({"status": inv.str("status"), "entry": entry.str("number")}))
}
