//! An example appraisal scoring rule from a separate plugin: points for the growth of a
//! figure (for example won revenue) against the period before the cycle. Appraisal passes
//! the KPI's source, the person or team, this period's actual and the previous period's
//! dates; this plugin asks the source for the previous figure and answers the points.

use qingguan_plugin_sdk::rust_decimal::RoundingStrategy;
use qingguan_plugin_sdk::*;

struct GrowthRule;

/// Points for `actual` against `previous`: 100 × actual / previous, at most `cap`; 100 when
/// there is no previous figure but an actual, 0 when both are zero.
pub fn points(actual: Decimal, previous: Decimal, cap: Decimal) -> Decimal {
    let p = if previous <= Decimal::ZERO {
        if actual > Decimal::ZERO {
            Decimal::from(100)
        } else {
            Decimal::ZERO
        }
    } else {
        actual * Decimal::from(100) / previous
    };
    p.max(Decimal::ZERO)
        .min(cap)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

impl Plugin for GrowthRule {
    fn answer(query: &str, args: Value) -> Result<Value> {
        if query != "score" {
            return Err(Error::not_found(format!("no query '{query}'")));
        }
        let source = args["source"].as_str().unwrap_or_default();
        let (plugin, figure) = source.split_once('/').ok_or_else(|| {
            Error::invalid(format!(
                "growth needs a plugin/query source, not '{source}'"
            ))
            .field("source", "plugin/query")
        })?;
        let actual = decimal_of(&args["actual"])
            .ok_or_else(|| Error::invalid("'actual' must be a number").field("actual", "number"))?;
        let mut ask_args = json!({"from": args["previous_from"], "to": args["previous_to"]});
        if args["scope"] == "team" {
            ask_args["team"] = args["team"].clone();
        } else {
            ask_args["owner"] = args["person"].clone();
        }
        let previous =
            decimal_of(&host::ask(plugin, figure, &ask_args)?["value"]).unwrap_or_default();
        let cap = args["cap"]
            .as_i64()
            .map(Decimal::from)
            .unwrap_or(Decimal::from(150));
        let score = points(actual, previous, cap);
        let growth = if previous > Decimal::ZERO {
            json!(((actual - previous) * Decimal::from(100) / previous)
                .round_dp(2)
                .normalize()
                .to_string())
        } else {
            Value::Null
        };
        Ok(json!({"score": score.to_string(), "previous": previous.to_string(), "growth": growth}))
    }
}

export_plugin!(GrowthRule);

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn growth_points() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(points(d("290000"), d("250000"), d("150")), d("116"));
        assert_eq!(points(d("500"), d("100"), d("150")), d("150"), "capped");
        assert_eq!(points(d("10"), d("0"), d("150")), d("100"), "no baseline");
        assert_eq!(points(d("0"), d("0"), d("150")), d("0"));
        assert_eq!(points(d("1"), d("3"), d("150")), d("33.33"));
    }
}
