//! Calendar dates as day numbers (days since 1970-01-01), without a date crate: today from
//! the host clock, `YYYY-MM-DD` parsing and formatting, month starts.

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A calendar date that exists, with a four-digit year — the same rule the host applies.
///
/// ```
/// use qingguan_plugin_sdk::date::Date;
/// let d = Date::parse("2026-02-28").unwrap();
/// assert_eq!(d.to_string(), "2026-02-28");
/// assert_eq!(Date::from_days(d.days()), d);
/// assert!(Date::parse("2026-02-31").is_none());
/// assert!(Date::parse("26-02-01").is_none());
/// assert!(Date::parse("0026-02-01").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// 1000 to 9999.
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
    /// 1 to the month's length.
    pub day: u8,
}

fn month_len(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl Date {
    /// Parses exactly `YYYY-MM-DD`; `None` for anything else or a date that does not exist.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            s.get(r)
                .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?
                .parse()
                .ok()
        };
        let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let ok = (1000..=9999).contains(&y)
            && (1..=12).contains(&m)
            && d >= 1
            && d <= month_len(y.into(), m);
        ok.then_some(Date {
            year: y as i32,
            month: m as u8,
            day: d as u8,
        })
    }

    /// The date of a day number (days since 1970-01-01).
    pub fn from_days(days: i64) -> Date {
        let (y, m, d) = civil_from_days(days);
        Date {
            year: y as i32,
            month: m as u8,
            day: d as u8,
        }
    }

    /// Its day number.
    pub fn days(self) -> i64 {
        days_from_civil(self.year.into(), self.month.into(), self.day.into())
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Parses `YYYY-MM-DD` (strictly: see [`Date::parse`]) into a day number. A longer text (a
/// timestamp) is read by its first ten characters.
///
/// ```
/// assert!(qingguan_plugin_sdk::date::parse("2026-02-31").is_none());
/// assert_eq!(qingguan_plugin_sdk::date::parse("1970-01-02T08:00:00Z"), Some(1));
/// ```
pub fn parse(s: &str) -> Option<i64> {
    Date::parse(s.get(..10)?).map(Date::days)
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today (UTC) as a day number, from the host's wall clock.
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    secs.div_euclid(86_400)
}

/// The first day of the month `months` months after the month of `day`.
pub fn month_start(day: i64, months: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    let total = y * 12 + (m as i64 - 1) + months;
    days_from_civil(total.div_euclid(12), (total.rem_euclid(12) + 1) as u32, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in ["1970-01-01", "2024-02-29", "2026-12-31", "2000-03-01"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
        assert_eq!(
            parse("2026-01-31").unwrap() - parse("2025-12-31").unwrap(),
            31
        );
        assert_eq!(
            format(month_start(parse("2026-11-27").unwrap(), 0)),
            "2026-11-01"
        );
        assert_eq!(
            format(month_start(parse("2026-11-27").unwrap(), 2)),
            "2027-01-01"
        );
        assert_eq!(
            format(month_start(parse("2026-01-15").unwrap(), -1)),
            "2025-12-01"
        );
        assert!(parse("2026-13-01").is_none());
    }
}
