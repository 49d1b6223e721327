//! Exchange rates as the store uses them: what one unit of a currency is worth in the company
//! currency (records of the built-in `exchange_rate` type). A currency amount whose currency
//! differs per record (`FieldDef::currency_field`) may be in another currency only once that
//! currency has a rate, and totals over such amounts are converted at the rates.

use super::Store;
use crate::db::ddl;
use crate::db::ValueRef;
use crate::record::Record;
use crate::schema::FieldDef;
use crate::schema::{Entity, FieldType, EXCHANGE_RATE};
use crate::value::Value;
use crate::{Error, Reason, Result};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Places a rate keeps: a rate is stored as rate × 10^6, exactly.
pub(crate) const RATE_SCALE: u32 = 6;

impl Store {
    /// The rates by currency code, each as stored (rate × 10^[`RATE_SCALE`]).
    pub(crate) fn exchange_rates(&self) -> Result<BTreeMap<String, i64>> {
        let sql = format!(
            "SELECT {}, {} FROM {} WHERE {0} IS NOT NULL AND {1} IS NOT NULL",
            ddl::column("currency"),
            ddl::column("rate"),
            ddl::table(EXCHANGE_RATE)
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            Ok(rows.collect::<crate::db::DbResult<_>>()?)
        })
    }
}

/// The rules of rates and of amounts in several currencies, for a write of `changed` over
/// `current` (`None` on create): a rate is not for the company currency itself; an amount's
/// currency, when it is not the company's, has a rate.
pub(super) fn check(
    store: &Store,
    e: &Entity,
    current: Option<&Record>,
    changed: &BTreeMap<String, Value>,
) -> Result<()> {
    let company = store.company_currency()?;
    if e.name == EXCHANGE_RATE {
        if let Some(Value::Text(code)) = changed.get("currency") {
            if code == company {
                return Err(Error::field(
                    "currency",
                    Reason::IsCompanyCurrency { code: code.clone() },
                ));
            }
        }
        return Ok(());
    }
    let per_record = e.fields.iter().filter_map(|f| {
        (f.def.kind == FieldType::Currency && !f.retired)
            .then_some(())
            .and(f.def.currency_field.as_deref().map(|cf| (&f.def.name, cf)))
    });
    let mut rates = None;
    for (amount, code_field) in per_record {
        if !changed.contains_key(code_field) && !changed.contains_key(amount.as_str()) {
            continue;
        }
        let after = |name: &str| {
            changed
                .get(name)
                .or_else(|| current.map(|c| c.get(name)))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let Value::Text(code) = after(code_field) else {
            continue;
        };
        if code == company || after(amount).is_null() {
            continue;
        }
        if rates.is_none() {
            rates = Some(store.exchange_rates()?);
        }
        if !rates.as_ref().is_some_and(|r| r.contains_key(&code)) {
            return Err(Error::field(code_field, Reason::NoExchangeRate { code }));
        }
    }
    Ok(())
}

/// Amounts in several currencies, converted: `amount × rate` for each record, exactly (the
/// rate as stored, × 10^6; the company currency and an empty currency at 1), and the SQL
/// naming a currency a record has a value in but no rate for.
pub(super) struct Conversion {
    /// SQL for the rate of the record's currency (null when it has none).
    rate: String,
    /// The column holding each record's currency.
    code_col: String,
    /// SQL for a currency without a rate, for one record with a value in `col`.
    missing: String,
}

impl Conversion {
    pub(super) fn new(
        code_col: &str,
        company: &str,
        rates: &std::collections::BTreeMap<String, i64>,
    ) -> Self {
        // Codes are select options (ISO codes); only plain ones are written into the SQL.
        let plain = |c: &str| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase());
        let unit = 10i64.pow(RATE_SCALE);
        let mut rate =
            format!("CASE WHEN {code_col} IS NULL OR {code_col} = '{company}' THEN {unit}");
        let mut known = vec![format!("'{company}'")];
        for (code, r) in rates
            .iter()
            .filter(|(c, _)| plain(c) && c.as_str() != company)
        {
            rate.push_str(&format!(" WHEN {code_col} = '{code}' THEN {r}"));
            known.push(format!("'{code}'"));
        }
        rate.push_str(" END");
        let missing = format!(
            "{code_col} IS NOT NULL AND {code_col} NOT IN ({})",
            known.join(", ")
        );
        Conversion {
            rate,
            code_col: code_col.to_string(),
            missing,
        }
    }

    /// The converted amount of `col`.
    pub(super) fn amount(&self, col: &str) -> String {
        format!("({col} * ({}))", self.rate)
    }

    /// A column naming a currency found without a rate among records with a value in `col`.
    pub(super) fn missing_column(&self, col: &str) -> String {
        format!(
            "MAX(CASE WHEN {col} IS NOT NULL AND {} THEN {} END)",
            self.missing, self.code_col
        )
    }
}

/// A converted value (stored places plus the rate's) at the field's places, rounded half away
/// from zero once, on the total.
pub(super) fn converted_decimal(
    def: &FieldDef,
    v: ValueRef<'_>,
) -> Result<Option<rust_decimal::Decimal>> {
    let scale = def.effective_scale();
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(i) => {
            let mut d = rust_decimal::Decimal::from_i128_with_scale(i as i128, scale + RATE_SCALE)
                .round_dp_with_strategy(
                    scale,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                );
            d.rescale(scale);
            Ok(Some(d))
        }
        // SQLite turns an integer product that overflows into a float.
        _ => Err(Error::bad_param("metrics", Reason::SumTooLarge)),
    }
}

/// The refusal for a currency found without a rate, if one was.
pub(super) fn no_rate(v: ValueRef<'_>) -> Result<()> {
    match v {
        ValueRef::Text(t) => Err(Error::bad_param(
            "metrics",
            Reason::NoExchangeRate {
                code: String::from_utf8_lossy(t).chars().take(12).collect(),
            },
        )),
        _ => Ok(()),
    }
}

/// An average of converted amounts: the converted sum over the count, rounded as
/// [`avg_json`] rounds.
pub(super) fn converted_avg(def: &FieldDef, sum: ValueRef<'_>, count: i64) -> Result<Json> {
    let (Some(_), true) = (converted_decimal(def, sum)?, count > 0) else {
        return Ok(Json::Null);
    };
    let ValueRef::Integer(raw) = sum else {
        return Ok(Json::Null);
    };
    let scale = def.effective_scale();
    let total = rust_decimal::Decimal::from_i128_with_scale(raw as i128, scale + RATE_SCALE);
    Ok(crate::value::average(total, count, scale).map_or(Json::Null, Json::String))
}
