//! The arithmetic of an appraisal, free of host calls: attainment, the built-in scoring rules
//! (linear to a cap, threshold bands), the weighted KPI and 360° parts, the total, the grade
//! and the bonus. Every figure shown is rounded to two places (half away from zero) and the
//! next figure is computed from the rounded one, so a user can redo the sums by hand.

use qingguan_plugin_sdk::rust_decimal::RoundingStrategy;
use qingguan_plugin_sdk::{Decimal, Error, Result};
use std::collections::BTreeMap;
use std::str::FromStr;

/// Rounds to two places, half away from zero.
pub fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

/// Actual against target, in percent. Zero when there is no target (or, when lower is
/// better, no actual yet: no deals closed is not a fast close).
pub fn attainment(actual: Decimal, target: Option<Decimal>, lower_is_better: bool) -> Decimal {
    let Some(target) = target.filter(|t| !t.is_zero()) else {
        return Decimal::ZERO;
    };
    if lower_is_better {
        if actual <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        return round2(target * dec(100) / actual);
    }
    round2(actual * dec(100) / target)
}

/// Threshold bands `attainment:points, …` (for example `80:60, 100:100, 120:120`), sorted by
/// threshold.
pub fn parse_bands(text: &str) -> Result<Vec<(Decimal, Decimal)>> {
    let mut out = Vec::new();
    for part in text
        .split([',', '，', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (a, p) = part
            .split_once([':', '：'])
            .ok_or_else(|| bad_bands(part))?;
        let a = Decimal::from_str(a.trim()).map_err(|_| bad_bands(part))?;
        let p = Decimal::from_str(p.trim()).map_err(|_| bad_bands(part))?;
        if a.is_sign_negative() || p.is_sign_negative() {
            return Err(bad_bands(part));
        }
        out.push((a, p));
    }
    if out.is_empty() {
        return Err(Error::invalid("threshold bands are empty").field(
            "bands",
            "write attainment%:points pairs, e.g. 80:60, 100:100, 120:120",
        ));
    }
    out.sort();
    if out.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(Error::invalid("two bands have the same threshold")
            .field("bands", "every threshold must be different"));
    }
    Ok(out)
}

fn bad_bands(part: &str) -> Error {
    Error::invalid(format!("'{part}' is not attainment%:points")).field(
        "bands",
        "write attainment%:points pairs, e.g. 80:60, 100:100, 120:120",
    )
}

/// A built-in rule's score for an attainment.
pub fn builtin(rule: &str, attainment: Decimal, cap: Option<i64>, bands: &str) -> Result<Decimal> {
    match rule {
        "linear" => Ok(round2(attainment.min(dec(cap.unwrap_or(120))))),
        "bands" => {
            let bands = parse_bands(bands)?;
            let points = bands
                .iter()
                .rev()
                .find(|(threshold, _)| attainment >= *threshold)
                .map(|(_, p)| *p)
                .unwrap_or_default();
            Ok(round2(points))
        }
        other => Err(Error::invalid(format!(
            "no built-in scoring rule '{other}'"
        ))),
    }
}

/// `Σ weight × score / Σ weight`, rounded; zero without weights.
pub fn weighted(parts: &[(i64, Decimal)]) -> Decimal {
    let total: i64 = parts.iter().map(|(w, _)| *w).sum();
    if total <= 0 {
        return Decimal::ZERO;
    }
    let sum: Decimal = parts.iter().map(|(w, s)| dec(*w) * *s).sum();
    round2(sum / dec(total))
}

/// One rating as the 360° part sees it.
#[derive(Debug, Clone)]
pub struct Rating {
    /// manager, peer, self or subordinate.
    pub group: String,
    /// The qualitative item rated.
    pub item: String,
    /// 1 to the scale.
    pub score: i64,
}

/// The 360° part: per group, each item's mean over that group's raters, weighted by item,
/// scaled to 100; then the groups weighted by the profile's group weights. Groups without
/// ratings (or with weight 0) are left out and the others re-weighted. `None` without any
/// rating.
pub fn quality(
    ratings: &[Rating],
    item_weights: &BTreeMap<String, i64>,
    group_weights: &BTreeMap<String, i64>,
    scale: i64,
) -> (Option<Decimal>, BTreeMap<String, Decimal>) {
    let mut by_group: BTreeMap<&str, BTreeMap<&str, Vec<i64>>> = BTreeMap::new();
    for r in ratings {
        by_group
            .entry(r.group.as_str())
            .or_default()
            .entry(r.item.as_str())
            .or_default()
            .push(r.score);
    }
    let mut groups = BTreeMap::new();
    let mut parts = Vec::new();
    for (group, items) in by_group {
        let mut item_parts = Vec::new();
        for (item, scores) in items {
            let w = item_weights.get(item).copied().unwrap_or(0);
            if w <= 0 || scores.is_empty() {
                continue;
            }
            let mean = Decimal::from(scores.iter().sum::<i64>()) / dec(scores.len() as i64);
            item_parts.push((w, round2(mean * dec(100) / dec(scale.max(1)))));
        }
        if item_parts.is_empty() {
            continue;
        }
        let g = weighted(&item_parts);
        groups.insert(group.to_string(), g);
        let gw = group_weights.get(group).copied().unwrap_or(0);
        if gw > 0 {
            parts.push((gw, g));
        }
    }
    if parts.is_empty() {
        return (None, groups);
    }
    (Some(weighted(&parts)), groups)
}

/// The total: the KPI part and the 360° part by the profile's KPI share. Without ratings the
/// KPI part counts fully; without KPIs the 360° part does.
pub fn total(kpi: Option<Decimal>, quality: Option<Decimal>, kpi_share: i64) -> Decimal {
    match (kpi, quality) {
        (Some(k), Some(q)) => {
            let share = kpi_share.clamp(0, 100);
            round2((dec(share) * k + dec(100 - share) * q) / dec(100))
        }
        (Some(k), None) => k,
        (None, Some(q)) => q,
        (None, None) => Decimal::ZERO,
    }
}

/// One row of the grade table.
#[derive(Debug, Clone)]
pub struct Band {
    /// S, A, B, …
    pub grade: String,
    /// Lowest score of the grade.
    pub min_score: Decimal,
    /// Bonus coefficient.
    pub coefficient: Decimal,
}

/// The grade and coefficient of a score: the band with the highest minimum not above it.
pub fn grade(score: Decimal, bands: &[Band]) -> Option<&Band> {
    bands
        .iter()
        .filter(|b| score >= b.min_score)
        .max_by(|a, b| a.min_score.cmp(&b.min_score))
}

/// Bonus = base × coefficient, rounded.
pub fn bonus(base: Option<Decimal>, coefficient: Decimal) -> Decimal {
    round2(base.unwrap_or_default() * coefficient)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rules() {
        assert_eq!(attainment(d("330000"), Some(d("300000")), false), d("110"));
        assert_eq!(attainment(d("40"), Some(d("30")), true), d("75"));
        assert_eq!(
            builtin("linear", d("130"), Some(120), "").unwrap(),
            d("120")
        );
        assert_eq!(
            builtin("bands", d("99.99"), None, "80:60, 100:100").unwrap(),
            d("60")
        );
        assert_eq!(
            builtin("bands", d("79"), None, "80:60,100:100").unwrap(),
            d("0")
        );
        assert!(parse_bands("80-60").is_err());
        assert_eq!(weighted(&[(60, d("110")), (40, d("50"))]), d("86"));
        assert_eq!(total(Some(d("86")), Some(d("70")), 70), d("81.2"));
        assert_eq!(round2(d("2.345")), d("2.35"));
    }
}
