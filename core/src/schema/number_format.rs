//! The pattern of an auto-number field: literal text, date parts and one sequence
//! (`HT-{YYYY}-{seq:4}` → `HT-2026-0001`).

use crate::Reason;
use chrono::{Datelike, NaiveDate};

/// Longest pattern, in characters.
const MAX_CHARS: usize = 40;
/// Widest zero-padding of the sequence.
const MAX_WIDTH: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Year,
    ShortYear,
    Month,
    Day,
    Seq(usize),
}

/// A parsed auto-number pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFormat {
    parts: Vec<Part>,
}

impl Default for NumberFormat {
    fn default() -> Self {
        NumberFormat {
            parts: vec![Part::Seq(0)],
        }
    }
}

impl NumberFormat {
    /// The date parts a pattern may hold, as written.
    pub const DATE_PARTS: &'static str = "{YYYY} {YY} {MM} {DD}";

    /// Reads a pattern: text, `{YYYY}`, `{YY}`, `{MM}`, `{DD}` and exactly one `{seq}` or
    /// `{seq:N}` (N from 1 to 10), at most 40 characters, no other braces or control
    /// characters.
    pub fn parse(pattern: &str) -> Result<NumberFormat, Reason> {
        let bad = || Reason::BadNumberFormat {
            example: "HT-{YYYY}-{seq:4}".into(),
        };
        if pattern.chars().count() > MAX_CHARS || pattern.chars().any(char::is_control) {
            return Err(bad());
        }
        let mut parts = Vec::new();
        let mut rest = pattern;
        let mut seqs = 0;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or_else(bad)?;
                let token = &after[..end];
                let part = match token {
                    "YYYY" => Part::Year,
                    "YY" => Part::ShortYear,
                    "MM" => Part::Month,
                    "DD" => Part::Day,
                    "seq" => Part::Seq(0),
                    t => {
                        let width = t
                            .strip_prefix("seq:")
                            .and_then(|w| w.parse::<usize>().ok())
                            .filter(|w| (1..=MAX_WIDTH).contains(w))
                            .ok_or_else(bad)?;
                        Part::Seq(width)
                    }
                };
                if matches!(part, Part::Seq(_)) {
                    seqs += 1;
                }
                parts.push(part);
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let text = &rest[..end];
                if text.contains('}') {
                    return Err(bad());
                }
                parts.push(Part::Text(text.to_string()));
                rest = &rest[end..];
            }
        }
        if seqs != 1 {
            return Err(bad());
        }
        Ok(NumberFormat { parts })
    }

    /// What the sequence counts within: the pattern rendered for `date` without the
    /// sequence (`HT-2026-{seq}`), so each year (or month) of a dated pattern starts at 1.
    pub fn scope(&self, date: NaiveDate) -> String {
        self.render_with(date, "{seq}")
    }

    /// The number for `date` and sequence value `n`.
    pub fn render(&self, date: NaiveDate, n: i64) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Seq(width) => out.push_str(&format!("{n:0width$}")),
                other => push_part(&mut out, other, date),
            }
        }
        out
    }

    fn render_with(&self, date: NaiveDate, seq: &str) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Seq(_) => out.push_str(seq),
                other => push_part(&mut out, other, date),
            }
        }
        out
    }
}

fn push_part(out: &mut String, part: &Part, date: NaiveDate) {
    match part {
        Part::Text(t) => out.push_str(t),
        Part::Year => out.push_str(&format!("{:04}", date.year())),
        Part::ShortYear => out.push_str(&format!("{:02}", date.year().rem_euclid(100))),
        Part::Month => out.push_str(&format!("{:02}", date.month())),
        Part::Day => out.push_str(&format!("{:02}", date.day())),
        Part::Seq(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn patterns_render_and_scope() {
        let f = NumberFormat::parse("HT-{YYYY}-{seq:4}").unwrap();
        assert_eq!(f.render(day("2026-03-09"), 1), "HT-2026-0001");
        assert_eq!(f.render(day("2026-03-09"), 12345), "HT-2026-12345");
        assert_eq!(f.scope(day("2026-12-31")), "HT-2026-{seq}");
        assert_ne!(f.scope(day("2026-12-31")), f.scope(day("2027-01-01")));
        let g = NumberFormat::parse("{YY}{MM}{DD}-{seq:3}号").unwrap();
        assert_eq!(g.render(day("2026-03-09"), 7), "260309-007号");
        assert_eq!(NumberFormat::default().render(day("2026-03-09"), 42), "42");
        assert_eq!(
            NumberFormat::parse("{seq}").unwrap(),
            NumberFormat::default()
        );
        for bad in [
            "HT-{YYYY}",
            "{seq}{seq}",
            "{seq:0}",
            "{seq:11}",
            "{seq",
            "a}b{seq}",
            "{Q}{seq}",
            "x\n{seq}",
            "0123456789012345678901234567890123456789{seq}",
        ] {
            assert!(NumberFormat::parse(bad).is_err(), "{bad}");
        }
    }
}
