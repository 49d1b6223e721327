//! Credit notes (红字发票): a new invoice of kind `credit_note` credits a posted invoice of the
//! same customer with a balance left, in that invoice's currency and at its rate; posting it
//! applies its total to that invoice at once, never more than the invoice's balance.

use crate::sides::SALES;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// Whether a new invoice is a credit note (红字发票); one credits a posted invoice of the same
/// customer, and only an invoice.
pub fn check(fields: &mut Fields) -> Result<bool> {
    match fields.str("kind") {
        None | Some("invoice") => {
            if fields.get("credits").is_some_and(|v| !v.is_null()) {
                return Err(Error::invalid(t("check the kind", "请检查类型")).field(
                    "credits",
                    t(
                        "only a credit note credits an invoice",
                        "只有红字发票可以冲抵发票",
                    ),
                ));
            }
            fields.set("kind", "invoice");
            Ok(false)
        }
        Some("credit_note") => {
            let refused = |why: (&str, &str)| {
                Error::invalid(t("which invoice does it credit?", "冲抵哪张发票？"))
                    .field("credits", t(why.0, why.1))
            };
            let id = fields.i64("credits").ok_or_else(|| {
                refused((
                    "a credit note names the invoice it credits",
                    "红字发票须指明所冲抵的发票",
                ))
            })?;
            let original = host::elevated()
                .get(SALES.document, id)
                .map_err(|_| refused(("not an invoice", "不是发票")))?;
            if original.str("kind") == Some("credit_note")
                || !crate::sides::is_open(original.str("status"))
            {
                return Err(refused((
                    "a posted invoice with a balance left",
                    "须为已过账且仍有未收金额的发票",
                )));
            }
            if original.get("customer") != fields.get("customer") {
                return Err(refused((
                    "the same customer's invoice",
                    "须为同一客户的发票",
                )));
            }
            Ok(true)
        }
        Some(_) => Err(Error::invalid(t("check the kind", "请检查类型"))
            .field("kind", t("an invoice or a credit note", "发票或红字发票"))),
    }
}

/// Applies a credit note's total to the invoice it credits: never more than its balance.
/// Returns what it releases of the invoice's balance in the company currency.
pub fn apply(
    invoice_id: i64,
    customer: Option<&Value>,
    amount: Decimal,
    credit_number: &str,
) -> Result<Decimal> {
    let inv = host::elevated().get(SALES.document, invoice_id)?;
    let balance = inv.decimal("balance").unwrap_or_default();
    let open = crate::sides::is_open(inv.str("status"));
    if inv.get("customer") != customer {
        return Err(
            Error::invalid(t("another customer's invoice", "其他客户的发票")).field(
                "credits",
                t("the same customer's invoice", "须为同一客户的发票"),
            ),
        );
    }
    if !open || amount > balance {
        return Err(Error::invalid(t(
            "the credit note is more than the invoice's balance",
            "红字发票金额超过原发票未收金额",
        ))
        .field(
            "credits",
            t(
                &format!("{credit_number}: the invoice's balance is {balance}"),
                &format!("{credit_number}：原发票未收金额为 {balance}"),
            ),
        ));
    }
    let balance_cc = crate::fx::kept(&inv, "balance_cc", "balance");
    let released = crate::fx::released(balance, balance_cc, amount, crate::fx::rate_of(&inv));
    crate::sides::settle(SALES.document, &inv, amount, released)?;
    Ok(released)
}
