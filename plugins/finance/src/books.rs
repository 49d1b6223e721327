//! The books' sums: debits and credits of posted journal lines by account (and by day) over a
//! period, for every report. Lines carry their entry's posting date (`posted_on`, written when
//! the entry is posted), so a period's sums are the kept totals of its whole months plus one
//! grouped sum over the lines of the months it only partly covers. Lines posted before lines carried dates (finance 1.1 and earlier) are read through
//! their entries until the `date_lines` job has dated them.

use crate::months;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::*;
use std::collections::BTreeMap;

/// Debits and credits, keyed by account and — when asked by day — the posting date (else "").
pub type Sums = BTreeMap<(i64, String), (Decimal, Decimal)>;

/// Lines dated in one step of the `date_lines` job.
const DATE_STEP: u32 = 200;

/// Sums of posted lines dated in [from, to], of the given accounts only when named. By
/// account alone, whole months come from their kept totals (`months.rs`) and only the parts of
/// months at the period's ends are summed from the lines; by day, every line is summed.
pub fn sums(from: &str, to: &str, accounts: Option<&[i64]>, by_day: bool) -> Result<Sums> {
    host::query("journal_entry", &Query::new().limit(1))?; // the caller must read the journal
    let mut out = Sums::new();
    if by_day {
        dated(from, to, accounts, true, &mut out)?;
    } else {
        let (whole, parts) = months::split(from, to);
        let kept: std::collections::BTreeSet<String> = host::kv_keys("month:")?
            .into_iter()
            .filter_map(|k| k.strip_prefix("month:").map(str::to_string))
            .collect();
        for month in whole.iter().filter(|m| kept.contains(*m)) {
            for (account, (d, c)) in months::read(month)? {
                if accounts.is_some_and(|a| !a.contains(&account)) {
                    continue;
                }
                let s = out.entry((account, String::new())).or_default();
                s.0 += d;
                s.1 += c;
            }
        }
        for (lo, hi) in &parts {
            dated(lo, hi, accounts, false, &mut out)?;
        }
    }
    for (account, on, d, c) in undated(accounts)? {
        if on.as_str() < from || on.as_str() > to {
            continue;
        }
        let day = if by_day { on } else { String::new() };
        let s = out.entry((account, day)).or_default();
        s.0 += d;
        s.1 += c;
    }
    Ok(out)
}

/// Adds the dated lines of [from, to] to `out`, grouped by account (and day).
fn dated(
    from: &str,
    to: &str,
    accounts: Option<&[i64]>,
    by_day: bool,
    out: &mut Sums,
) -> Result<()> {
    let mut q = Query::new()
        .elevated()
        .gte("posted_on", from)
        .lte("posted_on", to);
    if let Some(a) = accounts {
        q = q.in_list("account", a.iter().copied());
    }
    let group: &[&str] = if by_day {
        &["account", "posted_on"]
    } else {
        &["account"]
    };
    for g in host::aggregate(
        "journal_line",
        &q,
        group,
        &[Metric::Sum("debit"), Metric::Sum("credit")],
    )? {
        let account = g.group[0].as_i64().unwrap_or_default();
        let day = if by_day {
            g.group[1].as_str().unwrap_or_default().to_string()
        } else {
            String::new()
        };
        let s = out.entry((account, day)).or_default();
        s.0 += g.decimal(0).unwrap_or_default();
        s.1 += g.decimal(1).unwrap_or_default();
    }
    Ok(())
}

/// Posted lines without a date of their own, with their entry's date: `(account, date, debit,
/// credit)`. (Draft entries' lines have none either; they are not posted, so not counted.)
fn undated(accounts: Option<&[i64]>) -> Result<Vec<(i64, String, Decimal, Decimal)>> {
    let mut q = Query::new().elevated().is_null("posted_on");
    if let Some(a) = accounts {
        q = q.in_list("account", a.iter().copied());
    }
    let lines = host::query_all("journal_line", &q)?;
    let dates = posted_dates(&lines)?;
    Ok(lines
        .iter()
        .filter_map(|l| {
            let on = dates.get(&l.i64("entry")?)?;
            Some((
                l.i64("account").unwrap_or_default(),
                on.clone(),
                l.decimal("debit").unwrap_or_default(),
                l.decimal("credit").unwrap_or_default(),
            ))
        })
        .collect())
}

/// The posting dates of the posted entries these lines belong to.
fn posted_dates(lines: &[Record]) -> Result<BTreeMap<i64, String>> {
    let mut ids: Vec<i64> = lines.iter().filter_map(|l| l.i64("entry")).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(200) {
        for e in host::query_all(
            "journal_entry",
            &Query::new()
                .elevated()
                .eq("status", "posted")
                .in_list("id", chunk.iter().copied()),
        )? {
            out.insert(e.id, e.str("posted_on").unwrap_or_default().to_string());
        }
    }
    Ok(out)
}

/// One step of the `date_lines` job: gives undated lines of posted entries their entry's date,
/// from line `cursor` on.
pub fn date_lines(cursor: Option<&str>) -> Result<JobProgress> {
    let after: i64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let page = host::query(
        "journal_line",
        &Query::new()
            .elevated()
            .is_null("posted_on")
            .gt("id", after)
            .sort("id")
            .limit(DATE_STEP),
    )?;
    let dates = posted_dates(&page.items)?;
    let mut done = 0;
    for l in &page.items {
        if let Some(on) = l.i64("entry").and_then(|e| dates.get(&e)) {
            host::elevated().update("journal_line", l.id, l.version, &json!({"posted_on": on}))?;
            // Dated now: its month's totals count it from now on.
            months::add(
                on,
                &[(
                    l.i64("account").unwrap_or_default(),
                    l.decimal("debit").unwrap_or_default(),
                    l.decimal("credit").unwrap_or_default(),
                )],
            )?;
            done += 1;
        }
    }
    Ok(match (page.items.last(), page.next_cursor) {
        (Some(last), Some(_)) => JobProgress::more(last.id.to_string(), done),
        _ => JobProgress::done(done),
    })
}
