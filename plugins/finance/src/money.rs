//! Money: amounts to two places, rounded half away from zero (the rule every figure here
//! follows: each line's net and tax are rounded, totals are sums of rounded lines).

use qingguan_plugin_sdk::rust_decimal::RoundingStrategy;
use qingguan_plugin_sdk::Decimal;

/// Rounds to cents, half away from zero.
pub fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The largest amount a document may carry.
pub fn max_amount() -> Decimal {
    Decimal::from(100_000_000_000i64)
}
