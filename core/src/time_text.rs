//! The fixed-width text forms of dates (`2026-12-03`) and instants (`2026-12-03T07:05:09Z`,
//! `…09.042Z`) that the store keeps and the API writes, read and written by hand for years
//! 0–9999: a list page reads and writes several per record, and chrono's general parser and
//! formatter were about 5% of a page's time (`perf`, session 22). Anything else is left to
//! chrono, so the results are chrono's (a test holds them to it).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, SecondsFormat, Timelike, Utc};

/// A date or instant written in a buffer on the stack.
pub(crate) struct Written {
    bytes: [u8; 24],
    len: usize,
}

impl Written {
    /// The text written (ASCII digits and separators only).
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

fn put(out: &mut [u8], mut n: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

fn put_date(out: &mut [u8], d: NaiveDate) -> bool {
    let Ok(year) = u32::try_from(d.year()) else {
        return false;
    };
    if year > 9999 {
        return false;
    }
    put(&mut out[0..4], year);
    out[4] = b'-';
    put(&mut out[5..7], d.month());
    out[7] = b'-';
    put(&mut out[8..10], d.day());
    true
}

/// `%Y-%m-%d`, for years 0–9999 (`None` otherwise).
pub(crate) fn write_date(d: NaiveDate) -> Option<Written> {
    let mut w = Written {
        bytes: [0; 24],
        len: 10,
    };
    put_date(&mut w.bytes, d).then_some(w)
}

/// RFC 3339 in UTC with `Z`, to the second or the millisecond, for years 0–9999 and no leap
/// second (`None` otherwise).
pub(crate) fn write_instant(t: DateTime<Utc>, millis: bool) -> Option<Written> {
    let mut w = Written {
        bytes: [0; 24],
        len: if millis { 24 } else { 20 },
    };
    let time = t.time();
    if time.nanosecond() >= 1_000_000_000 || !put_date(&mut w.bytes, t.date_naive()) {
        return None;
    }
    let b = &mut w.bytes;
    b[10] = b'T';
    put(&mut b[11..13], time.hour());
    b[13] = b':';
    put(&mut b[14..16], time.minute());
    b[16] = b':';
    put(&mut b[17..19], time.second());
    if millis {
        b[19] = b'.';
        put(&mut b[20..23], time.nanosecond() / 1_000_000);
    }
    b[w.len - 1] = b'Z';
    Some(w)
}

/// chrono's own form of what [`write_instant`] does not write.
fn chrono_instant(t: DateTime<Utc>, millis: bool) -> String {
    let form = if millis {
        SecondsFormat::Millis
    } else {
        SecondsFormat::Secs
    };
    t.to_rfc3339_opts(form, true)
}

/// The instant as text: [`write_instant`], else chrono's own form.
pub(crate) fn instant_text(t: DateTime<Utc>, millis: bool) -> String {
    match write_instant(t, millis) {
        Some(w) => w.as_str().to_string(),
        None => chrono_instant(t, millis),
    }
}

/// The date as text: [`write_date`], else chrono's `Display`.
pub(crate) fn date_text(d: NaiveDate) -> String {
    match write_date(d) {
        Some(w) => w.as_str().to_string(),
        None => d.to_string(),
    }
}

/// Writes a date as a JSON string in `%Y-%m-%d` (chrono's `Display` past year 9999).
pub(crate) fn serialize_date<S: serde::Serializer>(d: NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    match write_date(d) {
        Some(w) => s.serialize_str(w.as_str()),
        None => s.collect_str(&d),
    }
}

/// Writes an instant as a JSON string ([`instant_text`]'s form), from the stack when it can.
pub(crate) fn serialize_instant<S: serde::Serializer>(
    t: DateTime<Utc>,
    millis: bool,
    s: S,
) -> Result<S::Ok, S::Error> {
    match write_instant(t, millis) {
        Some(w) => s.serialize_str(w.as_str()),
        None => s.serialize_str(&chrono_instant(t, millis)),
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

fn date_of(b: &[u8]) -> Option<Option<NaiveDate>> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    Some(NaiveDate::from_ymd_opt(y as i32, m, d))
}

/// A date in the form `%Y-%m-%d`, as chrono's `parse_from_str` reads it.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    match (s.len(), date_of(s.as_bytes())) {
        (10, Some(d)) => d,
        _ => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
    }
}

/// An RFC 3339 instant (as chrono's `parse_from_rfc3339` reads it), in UTC; the stored form
/// `…T07:05:09.042Z` is read by hand.
pub(crate) fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let by_hand = || {
        if b.len() != 24 || (b[10], b[13], b[16], b[19], b[23]) != (b'T', b':', b':', b'.', b'Z') {
            return None;
        }
        let date = date_of(b)??;
        let (h, m, sec) = (
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
        );
        let time = NaiveTime::from_hms_milli_opt(h, m, sec, digits(&b[20..23])?)?;
        Some(date.and_time(time).and_utc())
    };
    by_hand().or_else(|| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Every form written or read by hand is chrono's, over dates from year 0 to 9999 and
    /// the times of a day; out of range, chrono answers.
    #[test]
    fn the_hand_forms_are_chronos() {
        let mut d = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        let mut n = 0u64;
        while d.year() <= 9999 {
            let text = d.format("%Y-%m-%d").to_string();
            assert_eq!(write_date(d).unwrap().as_str(), text);
            assert_eq!(date_text(d), text);
            assert_eq!(parse_date(&text), Some(d));
            n += 1;
            let t = d
                .and_hms_milli_opt(
                    (n % 24) as u32,
                    (n % 60) as u32,
                    ((n * 7) % 60) as u32,
                    (n * 13 % 1000) as u32,
                )
                .unwrap()
                .and_utc();
            for millis in [true, false] {
                let form = if millis {
                    SecondsFormat::Millis
                } else {
                    SecondsFormat::Secs
                };
                let text = t.to_rfc3339_opts(form, true);
                assert_eq!(write_instant(t, millis).unwrap().as_str(), text);
                assert_eq!(instant_text(t, millis), text);
            }
            let stored = t.to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(parse_instant(&stored), Some(t));
            // Every day of some years, then a stride that lands on every month and day.
            d = if d.year() < 3 || (1999..2002).contains(&d.year()) {
                d.succ_opt().unwrap()
            } else {
                d + chrono::Duration::days(37)
            };
        }
        let far = NaiveDate::from_ymd_opt(12_026, 2, 3).unwrap();
        assert!(write_date(far).is_none());
        assert_eq!(date_text(far), far.to_string());
        let far_t = far.and_hms_opt(1, 2, 3).unwrap().and_utc();
        assert_eq!(
            instant_text(far_t, true),
            far_t.to_rfc3339_opts(SecondsFormat::Millis, true)
        );
        let leap = Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 59).unwrap();
        let leap = leap.with_nanosecond(1_500_000_000).unwrap();
        assert!(write_instant(leap, true).is_none());
        assert_eq!(
            instant_text(leap, true),
            leap.to_rfc3339_opts(SecondsFormat::Millis, true)
        );
    }

    #[test]
    fn what_the_hand_does_not_read_chrono_does() {
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-2-3"), NaiveDate::from_ymd_opt(2026, 2, 3));
        assert_eq!(
            parse_date("+12026-02-03"),
            NaiveDate::parse_from_str("+12026-02-03", "%Y-%m-%d").ok()
        );
        assert_eq!(parse_date("2026-0a-03"), None);
        assert_eq!(parse_date(""), None);
        let offset = "2026-12-03T08:05:09.042+01:00";
        assert_eq!(
            parse_instant(offset),
            Some(
                Utc.with_ymd_and_hms(2026, 12, 3, 7, 5, 9).unwrap()
                    + chrono::Duration::milliseconds(42)
            )
        );
        assert_eq!(
            parse_instant("2026-12-03T07:05:09Z").map(|t| t.second()),
            Some(9)
        );
        assert_eq!(parse_instant("2026-12-03T25:05:09.042Z"), None);
        assert_eq!(parse_instant("2026-13-03T07:05:09.042Z"), None);
        assert_eq!(parse_instant("not a time"), None);
        // A leap second in the stored form is read as chrono reads it.
        let leap = "2016-12-31T23:59:60.500Z";
        assert_eq!(
            parse_instant(leap),
            DateTime::parse_from_rfc3339(leap)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        );
    }
}
