//! The value of stock in the books: inventory announces every posting (`inventory.posted`),
//! and finance books it — stock in from a purchase: Dr 库存商品 / Cr 暂估应付 (cleared when the
//! supplier's bill is posted against it); stock out on a
//! sale (and its revaluations — booked by the kind of movement they re-value — and
//! reversals): Dr 主营业务成本 / Cr 库存商品; a stock count's
//! difference: 管理费用 against 库存商品; a return the opposite way. Transfers move stock between
//! warehouses, not accounts: nothing to book. One entry per posting date.

use crate::journal::{self, Line};
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

const INVENTORY: &str = "1405";
const PAYABLE: &str = crate::documents::GRNI;
const COGS: &str = "6401";
const SHRINKAGE: &str = "6602";

/// The account on the other side of a movement, by its source document.
fn counter_account(source: &str) -> Option<&'static str> {
    match source.split_once(':').map(|(kind, _)| kind) {
        Some("purchase_order") => Some(PAYABLE),
        Some("sales_order") => Some(COGS),
        Some("count") => Some(SHRINKAGE),
        _ => None,
    }
}

/// The account on the other side of a revaluation, by the kind of movement it re-values (its
/// source is the back-dated document that caused it); lines written before the kind was
/// named carry the source of the movement they re-value.
fn revaluation_account(kind: &str) -> Option<&'static str> {
    match kind {
        "delivery" => Some(COGS),
        "return_out" => Some(PAYABLE),
        "adjustment" => Some(SHRINKAGE),
        _ => None,
    }
}

/// Books one `inventory.posted` event.
pub fn book(payload: &Value) -> Result<()> {
    // (date, counter account) → the stock's change in value.
    let mut sums: BTreeMap<(String, &'static str), Decimal> = BTreeMap::new();
    for m in payload["movements"].as_array().into_iter().flatten() {
        let (Some(source), Some(on)) = (m["source"].as_str(), m["posted_on"].as_str()) else {
            continue;
        };
        let account = match m["revalued_kind"].as_str() {
            Some(kind) => revaluation_account(kind),
            None => counter_account(source),
        };
        let Some(account) = account else {
            continue;
        };
        let value = decimal_of(&m["value"]).unwrap_or_default();
        *sums.entry((on.to_string(), account)).or_default() += value;
    }
    let mut by_date: BTreeMap<String, Vec<(&'static str, Decimal)>> = BTreeMap::new();
    for ((on, account), v) in sums {
        if !v.is_zero() {
            by_date.entry(on).or_default().push((account, v));
        }
    }
    for (on, changes) in by_date {
        let mut lines = Vec::new();
        for (account, v) in &changes {
            let amount = v.abs();
            if *v > Decimal::ZERO {
                lines.push(Line {
                    account: INVENTORY,
                    debit: amount,
                    credit: Decimal::ZERO,
                    memo: "",
                });
                lines.push(Line {
                    account,
                    debit: Decimal::ZERO,
                    credit: amount,
                    memo: "",
                });
            } else {
                lines.push(Line {
                    account,
                    debit: amount,
                    credit: Decimal::ZERO,
                    memo: "",
                });
                lines.push(Line {
                    account: INVENTORY,
                    debit: Decimal::ZERO,
                    credit: amount,
                    memo: "",
                });
            }
        }
        // Stock moved into a closed month is booked on the first open day, saying so: the
        // books follow the stock ledger rather than lose the movement.
        let booked_on = crate::periods::first_open_day(&on)?;
        let memo = if booked_on == on {
            qingguan_plugin_sdk::text::t("stock postings", "库存记账")
        } else {
            qingguan_plugin_sdk::text::t(
                &format!("stock postings of {on} (its month is closed)"),
                &format!("{on} 的库存记账（该月已结账）"),
            )
        };
        journal::post(&booked_on, &memo, "inventory", &lines, None)?;
    }
    Ok(())
}
