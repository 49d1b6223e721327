//! Documents in other currencies: each invoice, bill and payment has a currency and the rate
//! of one unit of it in the company currency (the books' currency, `currency` in the plugin's
//! settings) at its date — from the install's exchange rates unless finance gives its own. Its
//! amounts stay in its currency; the journal and every report are in the company currency, each
//! amount converted at the document's rate and rounded to cents. Settling a document at another
//! rate than it was booked at (a payment in dollars received when the dollar is worth more)
//! makes an exchange difference, posted to 6603 at the allocation.
//!
//! Documents written before currencies (finance 1.5 and older) have none of the new fields:
//! they are in the company currency at rate 1, and their company-currency amounts are their
//! own. The `keep_amounts` job writes those in, 200 of each kind a step; until it is done, sums
//! also read such documents' own amounts (a second grouped sum).

use crate::money::round;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// Exchange differences: 财务费用——汇兑损益 (a gain is a credit).
pub const FX_ACCOUNT: &str = "6603";

/// The company currency the books are kept in.
pub fn company() -> String {
    host::config()["currency"]
        .as_str()
        .filter(|c| c.len() == 3)
        .unwrap_or("CNY")
        .to_string()
}

/// A document's currency (the company's when it has none).
pub fn currency_of(r: &Record) -> String {
    r.str("currency")
        .map(str::to_string)
        .unwrap_or_else(company)
}

/// A document's rate to the company currency (1 when it has none).
pub fn rate_of(r: &Record) -> Decimal {
    r.decimal("rate")
        .filter(|r| *r > Decimal::ZERO)
        .unwrap_or(Decimal::ONE)
}

/// An amount in a document's currency, in the company currency at `rate`, to cents.
pub fn to_company(amount: Decimal, rate: Decimal) -> Decimal {
    round(amount * rate)
}

/// A company-currency amount a document keeps in `cc_field`, or — a document from before
/// currencies — its own amount in `field`.
pub fn kept(r: &Record, cc_field: &str, field: &str) -> Decimal {
    r.decimal(cc_field)
        .or_else(|| r.decimal(field))
        .unwrap_or_default()
}

/// The install's current rate for a currency, or a refusal naming it on `field`.
pub fn current_rate(currency: &str, field: &str) -> Result<Decimal> {
    host::query(
        "exchange_rate",
        &Query::new().elevated().eq("currency", currency).limit(1),
    )?
    .items
    .first()
    .and_then(|r| r.decimal("rate"))
    .filter(|r| *r > Decimal::ZERO)
    .ok_or_else(|| {
        Error::invalid(t("which exchange rate?", "汇率是多少？")).field(
            field,
            t(
                &format!("there is no exchange rate for {currency}: give the rate, or have one added under Exchange rates"),
                &format!("没有 {currency} 的汇率：请填写汇率，或在“汇率”中添加"),
            ),
        )
    })
}

/// Fills in a draft's currency and rate: the company currency at 1 when none is given; another
/// currency at the rate given, else at the install's current rate when the currency is set or
/// changed. The company currency is always at 1.
pub fn default_rate(before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    let company = company();
    let currency = fields
        .str("currency")
        .map(str::to_string)
        .or_else(|| before.map(currency_of))
        .unwrap_or_else(|| company.clone());
    fields.set("currency", currency.as_str());
    if currency == company {
        // A rate this write gives (a draft switched back keeps its old one in `fields`).
        let given = fields
            .decimal("rate")
            .filter(|r| before.is_none_or(|b| b.decimal("rate") != Some(*r)));
        if given.is_some_and(|r| r != Decimal::ONE) {
            return Err(Error::invalid(t("check the rate", "请检查汇率")).field(
                "rate",
                t(
                    &format!("{company} is the company currency: its rate is 1"),
                    &format!("{company} 是本位币，汇率为 1"),
                ),
            ));
        }
        fields.set("rate", "1");
        return Ok(());
    }
    let changed_currency = before.is_none_or(|b| currency_of(b) != currency);
    let given = fields
        .decimal("rate")
        .filter(|r| before.is_none_or(|b| b.decimal("rate") != Some(*r)) || !changed_currency);
    let rate = match given {
        Some(r) if r > Decimal::ZERO => r,
        Some(_) => {
            return Err(Error::invalid(t("check the rate", "请检查汇率"))
                .field("rate", t("more than zero", "必须大于零")))
        }
        None => current_rate(&currency, "currency")?,
    };
    fields.set("rate", rate.to_string());
    Ok(())
}

/// The kv key saying every posted document keeps its company-currency amounts.
const ALL_KEPT: &str = "fx:all_kept";

/// Whether documents from before currencies may still lack their company-currency amounts.
pub fn may_lack() -> Result<bool> {
    Ok(host::kv_get(ALL_KEPT)?.is_none())
}

/// Notes that every posted document keeps its company-currency amounts (a new install, or the
/// job done).
pub fn all_kept() -> Result<()> {
    host::kv_set(ALL_KEPT, b"1")
}

/// The company-currency fields of documents and payments, each with the field it mirrors at
/// rate 1.
const DOCUMENT_KEPT: [(&str, &str); 3] = [
    ("net_cc", "net"),
    ("total_cc", "total"),
    ("balance_cc", "balance"),
];
const PAYMENT_KEPT: [(&str, &str); 2] = [("amount_cc", "amount"), ("allocated_cc", "allocated")];

/// One step of the `keep_amounts` job: up to 200 posted documents of each kind from before
/// currencies get the company currency at rate 1 and their own amounts as company-currency
/// ones; a step that finds none notes that all are kept.
pub fn keep_amounts(_cursor: Option<&str>) -> Result<JobProgress> {
    if !may_lack()? {
        return Ok(JobProgress::done(0));
    }
    let mut done = 0;
    for (entity, kept) in [
        ("invoice", &DOCUMENT_KEPT[..]),
        ("bill", &DOCUMENT_KEPT[..]),
        ("payment", &PAYMENT_KEPT[..]),
        ("payment_made", &PAYMENT_KEPT[..]),
    ] {
        let page = host::query(
            entity,
            &Query::new()
                .elevated()
                .is_null(kept[0].0)
                .ne("status", "draft")
                .sort("id")
                .limit(200),
        )?;
        for r in &page.items {
            let mut values = serde_json::Map::new();
            values.insert("currency".into(), json!(currency_of(r).as_str()));
            values.insert("rate".into(), json!(rate_of(r).to_string()));
            for (cc, own) in kept {
                values.insert(
                    cc.to_string(),
                    json!(r.decimal(own).unwrap_or_default().to_string()),
                );
            }
            host::elevated().update(entity, r.id, r.version, &Value::Object(values))?;
            done += 1;
        }
    }
    if done == 0 {
        all_kept()?;
        return Ok(JobProgress::done(0));
    }
    Ok(JobProgress::more("more".to_string(), done))
}

/// A grouped sum of a company-currency amount over `q`, per value of `group`: the kept
/// company-currency field where documents have it, their own amount where they are from
/// before currencies (while any may be).
pub fn sum_kept(
    entity: &str,
    q: &Query,
    group: &str,
    cc_field: &'static str,
    field: &'static str,
) -> Result<BTreeMap<String, (Value, Decimal)>> {
    let mut out: BTreeMap<String, (Value, Decimal)> = BTreeMap::new();
    let passes = if may_lack()? {
        vec![
            (q.clone().not_null(cc_field), cc_field),
            (q.clone().is_null(cc_field), field),
        ]
    } else {
        vec![(q.clone(), cc_field)]
    };
    for (query, metric) in passes {
        for g in host::aggregate(entity, &query, &[group], &[Metric::Sum(metric)])? {
            let key = g.group.first().cloned().unwrap_or(Value::Null);
            out.entry(key.to_string())
                .or_insert_with(|| (key, Decimal::ZERO))
                .1 += g.decimal(0).unwrap_or_default();
        }
    }
    Ok(out)
}

/// The share of a document's company-currency balance that settling `amount` of its balance
/// releases: all that is left when it settles the rest (so rounding leaves nothing behind),
/// else `amount` at the document's rate.
pub fn released(balance: Decimal, balance_cc: Decimal, amount: Decimal, rate: Decimal) -> Decimal {
    if amount >= balance {
        balance_cc
    } else {
        // Never more than is left: many small shares, each rounded up, could pass it.
        to_company(amount, rate).min(balance_cc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn conversion_rounds_to_cents_and_the_last_settlement_takes_the_rest() {
        assert_eq!(to_company(d("100"), d("7.1")), d("710.00"));
        // 33.33 × 7.123456 = 237.42478848.
        assert_eq!(to_company(d("33.33"), d("7.123456")), d("237.42"));
        // 100 booked at 7.123456 is 712.35; settled 33.33 + 33.33 + 33.34.
        let booked = to_company(d("100"), d("7.123456"));
        assert_eq!(booked, d("712.35"));
        let first = released(d("100"), booked, d("33.33"), d("7.123456"));
        let second = released(d("66.67"), booked - first, d("33.33"), d("7.123456"));
        let last = released(
            d("33.34"),
            booked - first - second,
            d("33.34"),
            d("7.123456"),
        );
        assert_eq!((first, second), (d("237.42"), d("237.42")));
        assert_eq!(last, d("237.51"));
        assert_eq!(first + second + last, booked, "nothing left behind");
    }
}
