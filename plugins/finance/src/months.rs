//! Month totals: each month's debits and credits per account, kept in the plugin's key-value
//! store and added to in the transaction of every posting that dates a journal line (a
//! document's entry, a manual entry's post, the `date_lines` job) — so a period of whole months
//! is read from one key a month, not from every line. Upgrading rebuilds them from the dated
//! lines; the lines stay the truth.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

const PREFIX: &str = "month:";

/// Debits and credits per account.
pub type Totals = BTreeMap<i64, (Decimal, Decimal)>;

fn key(month: &str) -> String {
    format!("{PREFIX}{month}")
}

/// A month's totals (`YYYY-MM`).
pub fn read(month: &str) -> Result<Totals> {
    let Some(bytes) = host::kv_get(&key(month))? else {
        return Ok(Totals::new());
    };
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut out = Totals::new();
    for (account, pair) in v.as_object().into_iter().flatten() {
        let num = |i: usize| {
            pair[i]
                .as_str()
                .and_then(|s| s.parse::<Decimal>().ok())
                .unwrap_or_default()
        };
        if let Ok(a) = account.parse() {
            out.insert(a, (num(0), num(1)));
        }
    }
    Ok(out)
}

fn write(month: &str, totals: &Totals) -> Result<()> {
    let v: serde_json::Map<String, Value> = totals
        .iter()
        .map(|(a, (d, c))| (a.to_string(), json!([d.to_string(), c.to_string()])))
        .collect();
    host::kv_set(&key(month), Value::Object(v).to_string().as_bytes())
}

/// Adds lines dated `on` — `(account, debit, credit)` — to their month.
pub fn add(on: &str, lines: &[(i64, Decimal, Decimal)]) -> Result<()> {
    let Some(month) = on.get(..7) else {
        return Ok(());
    };
    let mut totals = read(month)?;
    for (account, d, c) in lines {
        let t = totals.entry(*account).or_default();
        t.0 += *d;
        t.1 += *c;
    }
    write(month, &totals)
}

/// Drops every month's totals.
pub fn forget_all() -> Result<()> {
    loop {
        let keys = host::kv_keys(PREFIX)?;
        if keys.is_empty() {
            return Ok(());
        }
        for k in keys {
            host::kv_delete(&k)?;
        }
    }
}

/// Rebuilds every month's totals from the dated lines, a year at a time.
pub fn rebuild() -> Result<()> {
    forget_all()?;
    let bounds = host::aggregate(
        "journal_line",
        &Query::new().elevated().not_null("posted_on"),
        &[],
        &[Metric::Min("posted_on"), Metric::Max("posted_on")],
    )?;
    let year = |i: usize| -> Option<i64> {
        bounds
            .first()?
            .values
            .get(i)?
            .as_str()?
            .get(..4)?
            .parse()
            .ok()
    };
    let (Some(first), Some(last)) = (year(0), year(1)) else {
        return Ok(());
    };
    for y in first..=last {
        let mut months: BTreeMap<String, Totals> = BTreeMap::new();
        for g in host::aggregate(
            "journal_line",
            &Query::new()
                .elevated()
                .gte("posted_on", format!("{y:04}-01-01"))
                .lte("posted_on", format!("{y:04}-12-31")),
            &["posted_on", "account"],
            &[Metric::Sum("debit"), Metric::Sum("credit")],
        )? {
            let (Some(on), Some(account)) = (g.group[0].as_str(), g.group[1].as_i64()) else {
                continue;
            };
            let t = months
                .entry(on[..7].to_string())
                .or_default()
                .entry(account)
                .or_default();
            t.0 += g.decimal(0).unwrap_or_default();
            t.1 += g.decimal(1).unwrap_or_default();
        }
        for (month, totals) in &months {
            write(month, totals)?;
        }
    }
    Ok(())
}

/// A period cut into the whole months it covers (`YYYY-MM`) and the parts of months at its
/// ends (`[from, to]` date ranges).
pub fn split(from: &str, to: &str) -> (Vec<String>, Vec<(String, String)>) {
    let (Some(start), Some(end)) = (dates::parse(from), dates::parse(to)) else {
        return (Vec::new(), vec![(from.to_string(), to.to_string())]);
    };
    let (mut whole, mut parts) = (Vec::new(), Vec::new());
    let mut m = dates::month_start(start, 0);
    while m <= end {
        let next = dates::month_start(m, 1);
        let (lo, hi) = (m.max(start), (next - 1).min(end));
        if lo == m && hi == next - 1 {
            whole.push(dates::format(m)[..7].to_string());
        } else if lo <= hi {
            parts.push((dates::format(lo), dates::format(hi)));
        }
        m = next;
    }
    (whole, parts)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn periods_split_into_whole_months_and_ends() {
        let (whole, parts) = split("2026-01-01", "2026-12-31");
        assert_eq!(whole.len(), 12);
        assert!(parts.is_empty());
        let (whole, parts) = split("2026-01-15", "2026-03-10");
        assert_eq!(whole, ["2026-02"]);
        assert_eq!(
            parts,
            [
                ("2026-01-15".to_string(), "2026-01-31".to_string()),
                ("2026-03-01".to_string(), "2026-03-10".to_string())
            ]
        );
        let (whole, parts) = split("2026-02-03", "2026-02-20");
        assert!(whole.is_empty());
        assert_eq!(
            parts,
            [("2026-02-03".to_string(), "2026-02-20".to_string())]
        );
        let (whole, _) = split("2024-02-01", "2024-02-29");
        assert_eq!(whole, ["2024-02"]);
    }
}
