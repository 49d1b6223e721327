//! Install-wide settings kept in the database: the default language for users who chose none,
//! the time zone times are shown in, and the company currency.

use crate::currency::{currency, DEFAULT_CURRENCY};
use crate::db::OptionalExtension;
use crate::schema::Locale;
use crate::store::{KeptSettings as Kept, Store};
use crate::{Error, Reason, Result};

impl Store {
    /// The install's language for users who chose none and whose browser names no language
    /// Qingguan speaks (setting `locale`; English unless set).
    /// Kept in memory once read, as the time zone is.
    pub fn default_locale(&self) -> Result<Locale> {
        self.kept(
            |k| k.locale,
            |k, v| k.locale = Some(v),
            "locale",
            |v| v.and_then(|l| Locale::parse(&l)).unwrap_or_default(),
        )
    }

    /// Sets the install's default language (see [`Store::default_locale`]).
    pub fn set_default_locale(&self, locale: Locale) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('locale', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [locale.as_str()],
            )?;
            Ok(())
        })?;
        self.forget_settings();
        Ok(())
    }

    /// The install's time zone as a fixed offset from UTC in minutes east (setting
    /// `time_zone`, written `+08:00`), if an administrator or the demo set one. Times are
    /// shown in it; without it the UI uses UTC+8 for Chinese and UTC for English.
    ///
    /// Every time shown asks for it, so it is kept in memory once read (outside a transaction,
    /// or inside one that changed no setting); a change forgets it, and so does the end of the
    /// transaction that changed it.
    pub fn time_zone(&self) -> Result<Option<i32>> {
        self.kept(
            |k| k.time_zone,
            |k, v| k.time_zone = Some(v),
            "time_zone",
            |v| v.and_then(|v| parse_utc_offset(&v)),
        )
    }

    /// Sets the install's time zone (see [`Store::time_zone`]) as minutes east of UTC
    /// (`parse_utc_offset` reads `+08:00`), within ±14 hours.
    pub fn set_time_zone(&self, minutes: i32) -> Result<()> {
        if minutes < -14 * 60 {
            return Err(Error::bad_param(
                "time_zone",
                Reason::AtLeast {
                    min: "-14:00".into(),
                },
            ));
        }
        if minutes > 14 * 60 {
            return Err(Error::bad_param(
                "time_zone",
                Reason::AtMost {
                    max: "+14:00".into(),
                },
            ));
        }
        let text = format!(
            "{}{:02}:{:02}",
            if minutes < 0 { '-' } else { '+' },
            minutes.abs() / 60,
            minutes.abs() % 60
        );
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('time_zone', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [text],
            )?;
            Ok(())
        })?;
        self.forget_settings();
        Ok(())
    }
}

impl Store {
    /// The company currency: what a currency field without its own code is in (setting
    /// `currency`; CNY unless an administrator chose another). Kept in memory once read.
    pub fn company_currency(&self) -> Result<&'static str> {
        self.kept(
            |k| k.currency,
            |k, v| k.currency = Some(v),
            "currency",
            |v| {
                v.and_then(|v| currency(&v).map(|c| c.code))
                    .unwrap_or(DEFAULT_CURRENCY)
            },
        )
    }

    /// A setting from memory, else read (setting `key`, made a value by `parse`) and kept — unless the settings were
    /// forgotten while it was read (a change committed meanwhile), or this thread's open
    /// transaction changed a setting.
    fn kept<T: Copy>(
        &self,
        get: impl Fn(&Kept) -> Option<T>,
        set: impl FnOnce(&mut Kept, T),
        key: &'static str,
        parse: impl FnOnce(Option<String>) -> T,
    ) -> Result<T> {
        let cacheable = self.settings_cacheable();
        let generation = {
            let kept = self
                .settings_cache
                .read()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(known) = get(&kept).filter(|_| cacheable) {
                return Ok(known);
            }
            kept.generation
        };
        let value = self.read(|c| {
            let text: Option<String> = c
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()?;
            Ok(parse(text))
        })?;
        if cacheable {
            let mut kept = self
                .settings_cache
                .write()
                .unwrap_or_else(|e| e.into_inner());
            if kept.generation == generation {
                set(&mut kept, value);
            }
        }
        Ok(value)
    }
}

impl Store {
    /// Sets the company currency (see [`Store::company_currency`]); a code Qingguan does not
    /// know is refused, and so is a change while exchange rates exist: they say what a unit
    /// is worth in the company currency, and would silently mean another one.
    pub fn set_company_currency(&self, code: &str) -> Result<()> {
        let Some(c) = currency(code) else {
            return Err(Error::bad_param(
                "currency",
                Reason::UnknownCurrency {
                    code: code.chars().take(12).collect(),
                },
            ));
        };
        if c.code != self.company_currency()? && !self.exchange_rates()?.is_empty() {
            return Err(Error::bad_param("currency", Reason::RatesInOldCurrency));
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('currency', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [c.code],
            )?;
            Ok(())
        })?;
        self.forget_settings();
        // The effective schema names the company currency in its currency fields.
        self.refresh_schema()
    }
}

/// Reads a UTC offset (`+08:00`, `+0800`, `+8`, `UTC+8`, `GMT-05:30`, `Z`) as minutes east of
/// UTC, within ±14 hours.
pub fn parse_utc_offset(s: &str) -> Option<i32> {
    let t = s.trim();
    let t = t
        .strip_prefix("UTC")
        .or_else(|| t.strip_prefix("GMT"))
        .unwrap_or(t);
    if t.is_empty() || t == "Z" {
        return Some(0);
    }
    let (sign, rest) = match t.as_bytes()[0] {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    if h.is_empty()
        || h.len() > 2
        || m.len() > 2
        || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60 && h * 60 + m <= 14 * 60).then_some(sign * (h * 60 + m))
}

#[cfg(test)]
mod offset_tests {
    use super::parse_utc_offset;

    #[test]
    fn utc_offsets() {
        for (s, m) in [
            ("+08:00", 480),
            ("UTC+8", 480),
            ("+0800", 480),
            ("-05:30", -330),
            ("Z", 0),
            ("GMT", 0),
            ("+14:00", 840),
        ] {
            assert_eq!(parse_utc_offset(s), Some(m), "{s}");
        }
        for s in ["Asia/Shanghai", "8", "+15", "+08:60", "+", "+1:2:3", "+８"] {
            assert_eq!(parse_utc_offset(s), None, "{s}");
        }
    }
}
