//! Payments received and made: posting (received: Dr bank or cash / Cr receivables; made:
//! Dr payables / Cr bank or cash) and allocation to invoices or bills, from which a document's
//! paid amount, balance and status follow. Over-allocation is refused. A payment pays documents
//! in its own currency; settling them at another rate than they were booked at posts the
//! exchange difference (see [`crate::fx`]).

use crate::documents::own_write;
use crate::journal::{self, Line};
use crate::sides::{Side, SALES};
use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

pub const BANK: &str = "1002";
pub const CASH: &str = "1001";

/// `post` a payment: received, Dr bank or cash / Cr receivables; made, the other way round
/// against payables.
pub fn post_payment(side: &Side, id: i64) -> Result<Value> {
    host::begin_write()?;
    let p = host::elevated().get(side.payment, id)?;
    if p.str("status") != Some("draft") {
        let word = side.payment_word();
        return Err(Error::invalid(t(
            &format!("this {word} is already posted"),
            &format!("该{word}已过账"),
        )));
    }
    let amount_cc = crate::fx::to_company(
        p.decimal("amount").unwrap_or_default(),
        crate::fx::rate_of(&p),
    );
    let amount = amount_cc;
    let on = p.str(side.paid_on).unwrap_or_default().to_string();
    let number = p.str("number").unwrap_or_default().to_string();
    let account = if p.str("method") == Some("cash") {
        CASH
    } else {
        BANK
    };
    // Money in debits the bank and credits receivables; money out the other way round.
    let (debited, credited) = if side.document == SALES.document {
        (account, side.control)
    } else {
        (side.control, account)
    };
    let entry = journal::post(
        &on,
        &number,
        &format!("{}:{id}", side.payment),
        &[
            Line {
                account: debited,
                debit: amount,
                credit: Decimal::ZERO,
                memo: &number,
            },
            Line {
                account: credited,
                debit: Decimal::ZERO,
                credit: amount,
                memo: &number,
            },
        ],
        None,
    )?;
    let p = host::elevated().update(
        side.payment,
        p.id,
        p.version,
        &json!({"status": "posted", "entry": entry.id, "amount_cc": amount_cc.to_string(),
                "allocated_cc": "0"}),
    )?;
    Ok(json!({"status": p.str("status"), "entry": entry.str("number")}))
}

/// `allocate` a payment: `{"invoices": {"<invoice id>": amount, …}}` (`"bills"` for a payment
/// made) — never more than the payment has left nor than a document's balance, same party,
/// both posted.
pub fn allocate(side: &Side, payment_id: i64, input: &Value) -> Result<Value> {
    host::begin_write()?;
    let (doc, pay, party) = (side.document_word(), side.payment_word(), side.party_word());
    let key = side.allocate_key();
    let p = host::elevated().get(side.payment, payment_id)?;
    if p.str("status") != Some("posted") {
        return Err(Error::invalid(t(
            &format!("post the {pay} first"),
            &format!("请先过账{pay}"),
        )));
    }
    let map = input.get(&key).and_then(Value::as_object).ok_or_else(|| {
        Error::invalid(t(&format!("which {key}?"), &format!("核销哪些{doc}？"))).field(
            &key,
            t(
                &format!("an object of {doc} id → amount"),
                &format!("应为 {doc}ID → 金额 的对象"),
            ),
        )
    })?;
    let mut left =
        p.decimal("amount").unwrap_or_default() - p.decimal("allocated").unwrap_or_default();
    let (currency, pay_rate) = (crate::fx::currency_of(&p), crate::fx::rate_of(&p));
    // What is left of the payment in the company currency (a payment from before currencies
    // is in it already).
    let mut left_cc = crate::fx::kept(&p, "amount_cc", "amount")
        - crate::fx::kept(&p, "allocated_cc", "allocated");
    let mut done = Vec::new();
    for (id_text, amount) in map {
        let key = id_text;
        let field = format!("{}.{key}", side.allocate_key());
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
        let not_one = || {
            Error::invalid(t(&format!("check the {key}"), &format!("请检查{doc}")))
                .field(&field, t(&format!("not a {doc}"), &format!("不是{doc}")))
        };
        let id: i64 = key.parse().map_err(|_| not_one())?;
        let inv = host::elevated()
            .get(side.document, id)
            .map_err(|_| not_one())?;
        if inv.get(side.party) != p.get(side.party) {
            return Err(Error::invalid(t(
                &format!("another {party}'s {doc}"),
                &format!("其他{party}的{doc}"),
            ))
            .field(
                &field,
                t(
                    &format!("the {doc} is another {party}'s"),
                    &format!("该{doc}属于其他{party}"),
                ),
            ));
        }
        if crate::fx::currency_of(&inv) != currency {
            return Err(Error::invalid(t(
                &format!("a {pay} in {currency} pays {doc}s in {currency}"),
                &format!("{currency}{pay}只能核销{currency}{doc}"),
            ))
            .field(
                &field,
                t(
                    &format!("the {doc} is in {}", crate::fx::currency_of(&inv)),
                    &format!("该{doc}币种为 {}", crate::fx::currency_of(&inv)),
                ),
            ));
        }
        if !crate::sides::is_open(inv.str("status")) {
            return Err(Error::invalid(t(
                &format!("the {doc} is not open"),
                &format!("{doc}不是待结算状态"),
            ))
            .field(&field, t("not posted, or already paid", "未过账或已结清")));
        }
        let balance = inv.decimal("balance").unwrap_or_default();
        if amount > balance {
            return Err(Error::invalid(t(
                &format!("more than the {doc}'s balance"),
                &format!("超过{doc}未结金额"),
            ))
            .field(
                &field,
                t(
                    &format!("the balance is {balance}"),
                    &format!("未结金额为 {balance}"),
                ),
            ));
        }
        if amount > left {
            return Err(Error::invalid(t(
                &format!("more than the {pay} has left"),
                &format!("超过{pay}未核销金额"),
            ))
            .field(
                &field,
                t(
                    &format!("{left} left to allocate"),
                    &format!("剩余可核销 {left}"),
                ),
            ));
        }
        // In the company currency: what it releases of the document as booked, and what it
        // uses of the payment as received; the last of either takes what rounding left.
        let balance_cc = crate::fx::kept(&inv, "balance_cc", "balance");
        let released = crate::fx::released(balance, balance_cc, amount, crate::fx::rate_of(&inv));
        let used = crate::fx::released(left, left_cc, amount, pay_rate);
        left -= amount;
        left_cc -= used;
        // A gain when the money is worth more than the document was booked at: received more
        // for an invoice, paid less for a bill.
        let gain = if side.document == SALES.document {
            used - released
        } else {
            released - used
        };
        let allocation = host::elevated().create(
            side.allocation,
            &json!({"payment": payment_id, (side.document): id, "amount": amount.to_string(),
                    "fx": gain.to_string()}),
        )?;
        if !gain.is_zero() {
            post_difference(side, &allocation, gain, &p)?;
        }
        crate::sides::settle(side.document, &inv, amount, released)?;
        done.push(id);
    }
    let allocated = p.decimal("amount").unwrap_or_default() - left;
    let allocated_cc = crate::fx::kept(&p, "amount_cc", "amount") - left_cc;
    let p = host::elevated().update(
        side.payment,
        p.id,
        p.version,
        &json!({"allocated": allocated.to_string(), "allocated_cc": allocated_cc.to_string()}),
    )?;
    Ok(
        json!({"allocated": p.str("allocated").map(str::to_string).or_else(|| p.decimal("allocated").map(|d| d.to_string())), "invoices": done}),
    )
}

/// The exchange difference of one allocation, dated today (when it is made): a gain credits
/// 6603 and brings the receivable (or payable) back to what settled it; a loss the other way.
fn post_difference(
    side: &Side,
    allocation: &Record,
    gain: Decimal,
    payment: &Record,
) -> Result<()> {
    let number = payment.str("number").unwrap_or_default().to_string();
    let zero = Decimal::ZERO;
    let amount = gain.abs();
    let line = |account, debit, credit| Line {
        account,
        debit,
        credit,
        memo: &number,
    };
    // Receivables: a gain is more received than booked — receivables were credited more than
    // the invoice's share, and are debited back. Payables: a gain is less paid than booked —
    // payables still hold the difference, and are debited to clear it. A loss the other way.
    let control_debit = gain > zero;
    let (first, second) = if control_debit {
        (
            line(side.control, amount, zero),
            line(crate::fx::FX_ACCOUNT, zero, amount),
        )
    } else {
        (
            line(crate::fx::FX_ACCOUNT, amount, zero),
            line(side.control, zero, amount),
        )
    };
    let gain_word = if gain > zero {
        t("exchange gain", "汇兑收益")
    } else {
        t("exchange loss", "汇兑损失")
    };
    journal::post(
        &qingguan_plugin_sdk::date::format(qingguan_plugin_sdk::date::today()),
        &format!("{number} {gain_word}"),
        &format!("{}:{}", side.allocation, allocation.id),
        &[first, second],
        None,
    )?;
    Ok(())
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
