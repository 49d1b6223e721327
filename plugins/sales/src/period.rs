//! The period the sales dashboard shows: a month, quarter or year around a date, or a custom
//! range — read from the page's query parameters — and the links that choose one.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::{Error, Request, Result};
use std::fmt::Write;

/// The longest custom range (about five years): the chart has a column per month.
const MAX_DAYS: i64 = 5 * 366;

/// A chosen period: `kind` is `month`, `quarter`, `year` or `custom`; days inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub kind: String,
    pub from: i64,
    pub to: i64,
}

/// A strict `YYYY-MM-DD` (a day that exists).
fn strict(s: &str) -> Option<i64> {
    dates::parse(s).filter(|d| dates::format(*d) == s)
}

fn bad(field: &str, why: &str) -> Error {
    Error::invalid(format!("'{field}' {why}")).field(field, why)
}

impl Period {
    /// The month, quarter or year containing `day`.
    pub fn around(kind: &str, day: i64) -> Option<Period> {
        let (_, m, _) = dates::civil_from_days(day);
        let back = match kind {
            "month" => 0,
            "quarter" => (i64::from(m) - 1) % 3,
            "year" => i64::from(m) - 1,
            _ => return None,
        };
        let from = dates::month_start(day, -back);
        let to = dates::month_start(from, Period::months_of(kind)) - 1;
        Some(Period {
            kind: kind.into(),
            from,
            to,
        })
    }

    fn months_of(kind: &str) -> i64 {
        match kind {
            "quarter" => 3,
            "year" => 12,
            _ => 1,
        }
    }

    /// Reads `period` (+ `at`) or `from` and `to`; `None` when none is given (the default
    /// view: the last twelve months and this quarter).
    pub fn of(req: &Request) -> Result<Option<Period>> {
        let param = |k: &str| req.query_param(k).filter(|v| !v.trim().is_empty());
        let (from, to) = (param("from"), param("to"));
        if from.is_some() || to.is_some() {
            let from = from
                .as_deref()
                .and_then(strict)
                .ok_or_else(|| bad("from", "must be a date YYYY-MM-DD"))?;
            let to = to
                .as_deref()
                .and_then(strict)
                .ok_or_else(|| bad("to", "must be a date YYYY-MM-DD"))?;
            if to < from {
                return Err(bad("to", "is before 'from'"));
            }
            if to - from > MAX_DAYS {
                return Err(bad("to", "is more than five years after 'from'"));
            }
            return Ok(Some(Period {
                kind: "custom".into(),
                from,
                to,
            }));
        }
        let Some(kind) = param("period") else {
            return Ok(None);
        };
        let at = match param("at") {
            Some(a) => strict(&a).ok_or_else(|| bad("at", "must be a date YYYY-MM-DD"))?,
            None => dates::today(),
        };
        Period::around(&kind, at)
            .map(Some)
            .ok_or_else(|| bad("period", "must be month, quarter or year"))
    }

    /// The first days of the months the period touches.
    pub fn months(&self) -> Vec<i64> {
        let mut out = Vec::new();
        let mut m = dates::month_start(self.from, 0);
        while m <= self.to {
            out.push(m);
            m = dates::month_start(m, 1);
        }
        out
    }

    /// The same kind of period just before (`-1`) or after (`1`) this one.
    fn step(&self, by: i64) -> Option<Period> {
        let at = dates::month_start(self.from, by * Period::months_of(&self.kind));
        Period::around(&self.kind, at)
    }
}

fn link(query: &str, text: &str, current: bool) -> String {
    let attr = if current {
        " aria-current=\"page\""
    } else {
        ""
    };
    format!(
        "<a href=\"/p/sales/dashboard{}\"{attr}>{}</a>",
        esc(query),
        esc(text)
    )
}

/// The period links and the custom range form (links are absolute: the fragment is also the
/// home page's widget). `t` picks English or Chinese.
pub fn selector(
    chosen: Option<&Period>,
    t: impl Fn(&'static str, &'static str) -> &'static str,
) -> String {
    let today = dates::today();
    let this = |kind: &str| Period::around(kind, today);
    let last_year = Period::around("year", dates::month_start(today, -12));
    let mut s = String::from("<nav class=\"period-selector buttons\">");
    s.push_str(&link("", t("Last 12 months", "近12个月"), chosen.is_none()));
    let options = [
        ("month", this("month"), t("This month", "本月")),
        ("quarter", this("quarter"), t("This quarter", "本季度")),
        ("year", this("year"), t("This year", "本年")),
        ("year", last_year, t("Last year", "去年")),
    ];
    for (kind, p, label) in options {
        let Some(p) = p else { continue };
        let q = format!("?period={kind}&at={}", dates::format(p.from));
        s.push(' ');
        s.push_str(&link(&q, label, chosen == Some(&p)));
    }
    if let Some(p) = chosen.filter(|p| p.kind != "custom") {
        for (by, label) in [
            (-1, t("← Previous", "← 上一期")),
            (1, t("Next →", "下一期 →")),
        ] {
            if let Some(n) = p.step(by) {
                let q = format!("?period={}&at={}", n.kind, dates::format(n.from));
                s.push(' ');
                s.push_str(&link(&q, label, false));
            }
        }
    }
    let (from, to) = chosen.map_or((String::new(), String::new()), |p| {
        (dates::format(p.from), dates::format(p.to))
    });
    let _ = write!(
        s,
        "</nav><form method=\"get\" action=\"/p/sales/dashboard\" class=\"inline-form\"><label for=\"period-from\">{}</label> <input type=\"date\" id=\"period-from\" name=\"from\" value=\"{}\" required> <label for=\"period-to\">{}</label> <input type=\"date\" id=\"period-to\" name=\"to\" value=\"{}\" required> <button>{}</button></form>",
        esc(t("From", "从")),
        esc(&from),
        esc(t("to", "至")),
        esc(&to),
        esc(t("Show", "查看")),
    );
    if let Some(p) = chosen {
        let _ = write!(
            s,
            "<p class=\"muted\">{} {} → {}</p>",
            esc(t("Period:", "统计期间：")),
            dates::format(p.from),
            dates::format(p.to)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_around_a_day() {
        let d = dates::parse("2025-05-20").unwrap();
        let q = Period::around("quarter", d).unwrap();
        assert_eq!(dates::format(q.from), "2025-04-01");
        assert_eq!(dates::format(q.to), "2025-06-30");
        let y = Period::around("year", d).unwrap();
        assert_eq!(
            (dates::format(y.from), dates::format(y.to)),
            ("2025-01-01".into(), "2025-12-31".into())
        );
        assert_eq!(y.months().len(), 12);
        assert_eq!(dates::format(y.step(-1).unwrap().from), "2024-01-01");
        assert!(Period::around("week", d).is_none());
        assert!(strict("2026-02-30").is_none());
    }
}
