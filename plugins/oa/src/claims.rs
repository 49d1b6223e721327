//! Expense claims: the total is the sum of the lines (never typed), lines change only while
//! their claim is a draft, a claim with lines is not deleted, and a paid claim carries the
//! day it was paid.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// A claim's total and paid day are the plugin's; a claim with lines stays.
pub fn before_claim(op: WriteOp, before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    match op {
        WriteOp::Delete => {
            // An approved or paid claim is a record of money spent: it stays.
            if before.and_then(|b| b.str("status")).unwrap_or("draft") != "draft" {
                return Err(Error::invalid(t(
                    "only a draft claim can be deleted",
                    "只能删除草稿状态的报销单",
                )));
            }
            let id = before.map(|b| b.id).unwrap_or_default();
            let lines = host::query(
                "expense_line",
                &Query::new().elevated().eq("claim", id).limit(1),
            )?;
            if !lines.items.is_empty() {
                return Err(Error::invalid(t(
                    "delete the claim's lines first",
                    "请先删除报销明细",
                )));
            }
            Ok(())
        }
        _ => {
            // Written only by this plugin (after a line changes): whatever the client sent.
            if host::context().asked_by.as_deref() != Some("oa") {
                match before {
                    Some(b) => fields.set("total", b.get("total").cloned().unwrap_or(Value::Null)),
                    None => fields.set("total", "0"),
                }
            }
            let becomes_paid = fields.str("status") == Some("paid")
                && before.is_none_or(|b| b.str("status") != Some("paid"));
            if becomes_paid {
                fields.set("paid_on", dates::format(dates::today()));
            }
            Ok(())
        }
    }
}

fn claim_status(claim: i64) -> Result<String> {
    Ok(host::elevated()
        .get("expense_claim", claim)?
        .str("status")
        .unwrap_or("draft")
        .to_string())
}

/// Lines change only on a draft claim, and stay on it.
pub fn before_line(before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    let claim = fields
        .i64("claim")
        .or_else(|| before.and_then(|b| b.i64("claim")))
        .unwrap_or_default();
    if claim_status(claim)? != "draft" {
        return Err(Error::invalid(t(
            "the claim has been submitted: its lines no longer change",
            "报销单已提交，明细不能再修改",
        ))
        .field("claim", t("not a draft", "不是草稿")));
    }
    // A line stays on its claim (moving it would leave the first claim's total behind).
    if let (Some(b), Some(new)) = (before, fields.i64("claim")) {
        if b.i64("claim") != Some(new) {
            return Err(Error::invalid(t(
                "a line stays on its claim: delete it and add it to the other",
                "明细不能移到其他报销单：请删除后在另一报销单中重新添加",
            ))
            .field("claim", t("cannot change", "不能修改")));
        }
    }
    Ok(())
}

/// Adds up a claim's lines into its total.
pub fn retotal(claim: i64) -> Result<()> {
    let total: Decimal =
        host::query_all("expense_line", &Query::new().elevated().eq("claim", claim))?
            .iter()
            .map(|l| l.decimal("amount").unwrap_or_default())
            .sum();
    let c = host::elevated().get("expense_claim", claim)?;
    if c.decimal("total") != Some(total) {
        host::elevated().update(
            "expense_claim",
            c.id,
            c.version,
            &json!({"total": total.round_dp(2).to_string()}),
        )?;
    }
    Ok(())
}
