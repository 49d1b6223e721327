//! Quantities, money and posting dates: rounding, overflow-safe products, the largest
//! quantity one posting moves, and the dates a posting may carry.

use qingguan_plugin_sdk::rust_decimal::RoundingStrategy;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// The largest quantity one posting may move.
pub fn max_quantity() -> Decimal {
    Decimal::from(1_000_000_000i64)
}

/// A product of money and quantity, refused (not a panic) when it cannot be represented.
pub fn mul(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_mul(b).ok_or_else(|| {
        Error::invalid(t("the amount is too large", "金额过大"))
            .field("quantity", t("too large", "数量过大"))
    })
}

/// Postings are dated from 1000-01-01 to tomorrow (a day's grace for time zones): a date in
/// the future would lock the product out of every posting before it.
pub fn check_date(date: &str) -> Result<()> {
    let ok = qingguan_plugin_sdk::date::Date::parse(date)
        .is_some_and(|d| d.days() <= qingguan_plugin_sdk::date::today() + 1);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(t("check the date", "请检查日期")).field(
            "date",
            t(
                "a date (YYYY-MM-DD), not in the future",
                "有效日期（YYYY-MM-DD），不能是将来的日期",
            ),
        ))
    }
}

/// Rounds half away from zero (money to 2 places, unit costs to 4).
pub fn round(d: Decimal, places: u32) -> Decimal {
    d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}
