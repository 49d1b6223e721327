//! Leave requests: working days counted from the dates and the parts of day (a request may
//! start in the afternoon or end at noon: half a day each) — Monday to Friday, less the days
//! off and plus the make-up working days (调休) of the work calendar HR keeps — and a request
//! may not be approved beyond what is left of the person's entitlement for that type and year
//! (the entitlement less the days of their other approved requests). "My leave" shows each
//! type's entitlement, taken and left.

use qingguan_plugin_sdk::date::{self as dates, Date};
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::outreach::{self, Notice};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// The work calendar over some days: days off on what would be working days, and working
/// days on what would be a weekend.
#[derive(Debug, Default)]
pub struct Calendar {
    /// Days off (public holidays, company days off).
    pub off: std::collections::BTreeSet<i64>,
    /// Make-up working days (调休上班).
    pub working: std::collections::BTreeSet<i64>,
}

impl Calendar {
    /// The calendar HR keeps, from `start` to `end`.
    fn read(start: i64, end: i64) -> Result<Calendar> {
        let mut c = Calendar::default();
        for d in host::query_all(
            "calendar_day",
            &Query::new()
                .elevated()
                .gte("day", Date::from_days(start).to_string().as_str())
                .lte("day", Date::from_days(end).to_string().as_str()),
        )? {
            let Some(day) = d.str("day").and_then(Date::parse).map(Date::days) else {
                continue;
            };
            if d.str("kind") == Some("workday") {
                c.working.insert(day);
            } else {
                c.off.insert(day);
            }
        }
        Ok(c)
    }

    /// Whether one is at work on a day.
    pub fn is_working(&self, day: i64) -> bool {
        // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
        let weekday = (day + 3).rem_euclid(7) < 5;
        self.working.contains(&day) || (weekday && !self.off.contains(&day))
    }
}

/// Working days from `start` to `end`, both included (0 when `end` is before), after the
/// calendar; a start in the afternoon or an end at noon takes half of that day off the count.
pub fn working_days(
    start: i64,
    end: i64,
    from_afternoon: bool,
    until_noon: bool,
    calendar: &Calendar,
) -> Decimal {
    if end < start {
        return Decimal::ZERO;
    }
    let whole = (start..=end).filter(|d| calendar.is_working(*d)).count() as i64;
    let half = Decimal::new(5, 1);
    let mut days = Decimal::from(whole);
    if from_afternoon && calendar.is_working(start) {
        days -= half;
    }
    if until_noon && calendar.is_working(end) {
        days -= half;
    }
    days.max(Decimal::ZERO)
}

/// A request's span in half days: `(first, last)`, each day being two (morning, afternoon).
fn half_days(start: i64, end: i64, from_afternoon: bool, until_noon: bool) -> (i64, i64) {
    (
        start * 2 + i64::from(from_afternoon),
        end * 2 + 1 - i64::from(until_noon),
    )
}

fn part_of(fields: &Fields, before: Option<&Record>, name: &str, default: &str) -> String {
    fields
        .str(name)
        .or_else(|| before.and_then(|b| b.str(name)))
        .unwrap_or(default)
        .to_string()
}

fn date_of(fields: &Fields, before: Option<&Record>, name: &str) -> Option<i64> {
    fields
        .str(name)
        .or_else(|| before.and_then(|b| b.str(name)))
        .and_then(Date::parse)
        .map(Date::days)
}

/// Days of a person's approved requests of a type in a year, but one request.
fn taken(person: i64, leave_type: &str, year: i32, except: Option<i64>) -> Result<Decimal> {
    let mut sum = Decimal::ZERO;
    for r in host::query_all(
        "leave_request",
        &Query::new()
            .elevated()
            .eq("owner", person)
            .eq("leave_type", leave_type)
            .eq("status", "approved")
            .gte("start_on", format!("{year}-01-01").as_str())
            .lte("start_on", format!("{year}-12-31").as_str()),
    )? {
        if Some(r.id) != except {
            sum += r.decimal("days").unwrap_or_default();
        }
    }
    Ok(sum)
}

/// A person's entitlement of a type in a year (0 without one).
fn entitlement(person: i64, leave_type: &str, year: i32) -> Result<Decimal> {
    Ok(host::query_all(
        "leave_balance",
        &Query::new()
            .elevated()
            .eq("person", person)
            .eq("leave_type", leave_type)
            .eq("year", year as i64),
    )?
    .iter()
    .map(|b| b.decimal("days").unwrap_or_default())
    .sum())
}

/// A day of the work calendar keeps its date: moved, the requests over its old date would
/// stay counted for it. It is removed, and the new date added.
pub fn before_calendar_day(op: WriteOp, before: Option<&Record>, fields: &Fields) -> Result<()> {
    if let (WriteOp::Update, Some(b)) = (op, before) {
        if fields.get("day").is_some_and(|d| Some(d) != b.get("day")) {
            return Err(
                Error::invalid(t("a day keeps its date", "日期不能修改")).field(
                    "day",
                    t(
                        "remove this day and add the new date",
                        "请删除这一天，再按新日期添加",
                    ),
                ),
            );
        }
    }
    Ok(())
}

/// After HR added, changed or removed a day of the work calendar: the requests not cancelled
/// whose dates span it are counted again (a holiday announced after a request was made is no
/// day of leave). The calendar change itself always stands. Whoever changed it is told, with a
/// link, of each request that needs their decision: one the change would leave with no working
/// day or that a rule keeps from changing (it keeps its count), and an approved one that now
/// takes more than is left of its person's entitlement (a holiday removed).
pub fn calendar_changed(day: &str) -> Result<()> {
    let mut told = Vec::new();
    for r in host::query_all(
        "leave_request",
        &Query::new()
            .elevated()
            .ne("status", "cancelled")
            .lte("start_on", day)
            .gte("end_on", day),
    )? {
        let (Some(start), Some(end)) = (
            r.str("start_on").and_then(Date::parse).map(Date::days),
            r.str("end_on").and_then(Date::parse).map(Date::days),
        ) else {
            continue;
        };
        let days = working_days(
            start,
            end,
            r.str("start_half") == Some("pm"),
            r.str("end_half") == Some("am"),
            &Calendar::read(start, end)?,
        );
        let before = r.decimal("days").unwrap_or_default();
        if days == before {
            continue;
        }
        if days.is_zero() {
            told.push(Recount::NoWorkingDay {
                request: r,
                kept: before,
            });
            continue;
        }
        match host::elevated().update(
            "leave_request",
            r.id,
            r.version,
            &json!({"days": days.to_string()}),
        ) {
            Err(e) => told.push(Recount::Refused {
                request: r,
                kept: before,
                why: e.to_string(),
            }),
            Ok(_) if days > before && r.str("status") == Some("approved") => {
                let leave_type = r.str("leave_type").unwrap_or("annual");
                if let (Some(person), true) = (r.owner, matches!(leave_type, "annual" | "personal"))
                {
                    let year = Date::from_days(start).year;
                    // Its own new count, with the others' as stored. A balance that cannot be
                    // read is logged: the calendar change and the other recounts stand.
                    let left = match (
                        entitlement(person, leave_type, year),
                        taken(person, leave_type, year, Some(r.id)),
                    ) {
                        (Ok(allowed), Ok(used)) => allowed - used - days,
                        (Err(e), _) | (_, Err(e)) => {
                            host::log_warn(&format!(
                                "leave request {}: the balance could not be read after the work calendar changed: {e}",
                                r.id
                            ));
                            continue;
                        }
                    };
                    if left < Decimal::ZERO {
                        told.push(Recount::PastEntitlement {
                            request: r,
                            days,
                            over: -left,
                        });
                    }
                }
            }
            Ok(_) => {}
        }
    }
    for recount in &told {
        recount.tell(day);
    }
    Ok(())
}

/// A request a calendar change could not simply count again, for whoever changed it.
enum Recount {
    /// The change leaves it no working day: it keeps its count.
    NoWorkingDay { request: Record, kept: Decimal },
    /// A rule (its workflow's lock) refused the new count: it keeps its count.
    Refused {
        request: Record,
        kept: Decimal,
        why: String,
    },
    /// Approved, and now more than its person's entitlement by `over` days.
    PastEntitlement {
        request: Record,
        days: Decimal,
        over: Decimal,
    },
}

impl Recount {
    /// Logs it and tells the person who changed the calendar; a notice that cannot be written
    /// is only logged (the calendar change stands either way).
    fn tell(&self, day: &str) {
        let (r, en, zh) = match self {
            Recount::NoWorkingDay { request, kept } => (
                request,
                format!(
                    "keeps {} days: {day} leaves it no working day",
                    kept.normalize()
                ),
                format!("仍计 {} 天：{day} 起它已没有工作日", kept.normalize()),
            ),
            Recount::Refused { request, kept, why } => (
                request,
                format!(
                    "keeps {} days: it could not be counted again ({why})",
                    kept.normalize()
                ),
                format!("仍计 {} 天：无法重新计算（{why}）", kept.normalize()),
            ),
            Recount::PastEntitlement {
                request,
                days,
                over,
            } => (
                request,
                format!(
                    "now counts {} days, {} more than the entitlement leaves",
                    days.normalize(),
                    over.normalize()
                ),
                format!(
                    "现计 {} 天，超出假期余额 {} 天",
                    days.normalize(),
                    over.normalize()
                ),
            ),
        };
        let what = format!(
            "#{} ({} – {})",
            r.id,
            r.str("start_on").unwrap_or(""),
            r.str("end_on").unwrap_or("")
        );
        host::log_warn(&format!("leave request {what} {en}"));
        let Some(changer) = host::context().user_id else {
            return;
        };
        let notice = Notice::new(format!(
            "After the work calendar changed, leave request {what} {en}"
        ))
        .zh(format!("工作日历变更后，请假申请 {what} {zh}"))
        .link(format!("/e/leave_request/{}", r.id));
        if let Err(e) = outreach::notify_users(&[changer], &notice) {
            host::log_warn(&format!("could not tell of leave request {what}: {e}"));
        }
    }
}

/// Counts the days; refuses a request that ends before it starts, spans two years, or — when
/// it becomes approved — needs more days than are left (sick and other leave have no cap).
pub fn before_write(op: WriteOp, before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    if op == WriteOp::Delete {
        // An approved (or cancelled) request is the record of leave taken: it is cancelled
        // through the workflow, never deleted — else its days would come back unseen.
        if before.and_then(|b| b.str("status")).unwrap_or("draft") != "draft" {
            return Err(Error::invalid(t(
                "only a draft request can be deleted; cancel an approved one",
                "只能删除草稿；已批准的请假请撤销",
            )));
        }
        return Ok(());
    }
    let (Some(start), Some(end)) = (
        date_of(fields, before, "start_on"),
        date_of(fields, before, "end_on"),
    ) else {
        return Ok(());
    };
    let from_afternoon = part_of(fields, before, "start_half", "am") == "pm";
    let until_noon = part_of(fields, before, "end_half", "pm") == "am";
    let (first, last) = half_days(start, end, from_afternoon, until_noon);
    if end < start || last < first {
        return Err(Error::invalid(t("check the dates", "请检查日期"))
            .field("end_on", t("is before the start", "早于开始时间")));
    }
    let (from, to) = (Date::from_days(start), Date::from_days(end));
    if from.year != to.year {
        return Err(
            Error::invalid(t("one request per year", "每个申请不能跨年")).field(
                "end_on",
                t(
                    "split a request that spans the new year",
                    "跨年的请假请分成两个申请",
                ),
            ),
        );
    }
    let days = working_days(
        start,
        end,
        from_afternoon,
        until_noon,
        &Calendar::read(start, end)?,
    );
    if days.is_zero() {
        return Err(Error::invalid(t("no working day", "没有工作日")).field(
            "end_on",
            t(
                "the dates hold no working day (weekends and the work calendar's days off)",
                "所选日期内没有工作日（周末及工作日历中的休息日）",
            ),
        ));
    }
    fields.set("days", days.to_string());
    // One person is not on leave twice on a day: a request overlapping another that is not
    // cancelled is refused.
    let person = fields
        .i64("owner")
        .or_else(|| before.and_then(|b| b.owner))
        .or(host::context().user_id);
    if let Some(person) = person {
        let (from_text, to_text) = (from.to_string(), to.to_string());
        let clash = host::query_all(
            "leave_request",
            &Query::new()
                .elevated()
                .eq("owner", person)
                .ne("status", "cancelled")
                .lte("start_on", to_text.as_str())
                .gte("end_on", from_text.as_str()),
        )?
        .into_iter()
        .filter(|r| Some(r.id) != before.map(|b| b.id))
        // Same days, other halves: a morning off and an afternoon off do not clash.
        .find(|r| {
            let day = |name: &str| r.str(name).and_then(Date::parse).map(Date::days);
            let (Some(s), Some(e)) = (day("start_on"), day("end_on")) else {
                return true;
            };
            let (a, b) = half_days(
                s,
                e,
                r.str("start_half") == Some("pm"),
                r.str("end_half") == Some("am"),
            );
            a <= last && first <= b
        });
        if let Some(other) = clash {
            return Err(Error::invalid(t(
                "the dates overlap another request",
                "日期与另一请假申请重叠",
            ))
            .field(
                "start_on",
                format!(
                    "{} #{} ({} – {})",
                    t("overlaps request", "与申请重叠"),
                    other.id,
                    other.str("start_on").unwrap_or(""),
                    other.str("end_on").unwrap_or("")
                ),
            ));
        }
    }
    let status = fields
        .str("status")
        .or_else(|| before.and_then(|b| b.str("status")))
        .unwrap_or("draft");
    let leave_type = fields
        .str("leave_type")
        .or_else(|| before.and_then(|b| b.str("leave_type")))
        .unwrap_or("annual")
        .to_string();
    let becomes_approved =
        status == "approved" && before.is_none_or(|b| b.str("status") != Some("approved"));
    if becomes_approved && matches!(leave_type.as_str(), "annual" | "personal") {
        let person = before
            .and_then(|b| b.owner)
            .or(host::context().user_id)
            .unwrap_or_default();
        let left = entitlement(person, &leave_type, from.year)?
            - taken(person, &leave_type, from.year, before.map(|b| b.id))?;
        if days > left {
            return Err(
                Error::invalid(t("not enough leave left", "假期余额不足")).field(
                    "days",
                    format!(
                        "{} {} {}",
                        t("only", "仅剩"),
                        left.normalize(),
                        t("days left", "天")
                    ),
                ),
            );
        }
    }
    Ok(())
}

/// "My leave": each type's entitlement in a year (`?year=`, this one by default), taken and
/// left, and the caller's requests.
pub fn my_leave_page(req: &Request) -> Result<Response> {
    let me = host::context()
        .user_id
        .ok_or_else(|| Error::Denied(t("sign in first", "请先登录")))?;
    let year = match req.query_param("year").filter(|y| !y.is_empty()) {
        None => Date::from_days(dates::today()).year,
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| {
                Error::invalid(t("which year?", "哪一年？"))
                    .field("year", t("a year such as 2026", "年份，例如 2026"))
            })?,
    };
    let types = [
        ("annual", t("Annual leave", "年假")),
        ("sick", t("Sick leave", "病假")),
        ("personal", t("Personal leave", "事假")),
        ("other", t("Other", "其他")),
    ];
    let mut rows = String::new();
    for (code, label) in &types {
        let allowed = entitlement(me, code, year)?;
        let used = taken(me, code, year, None)?;
        rows.push_str(&format!(
            "<tr data-type=\"{code}\"><td>{}</td><td>{}</td><td>{}</td><td data-left>{}</td></tr>",
            esc(label),
            allowed.normalize(),
            used.normalize(),
            (allowed - used).normalize()
        ));
    }
    let mut requests = String::new();
    for r in host::query_all(
        "leave_request",
        &Query::new().eq("owner", me).sort("-start_on").limit(50),
    )?
    .iter()
    .take(50)
    {
        requests.push_str(&format!(
            "<li><a href=\"/e/leave_request/{}\">{} {} – {}</a> · {} · {}</li>",
            r.id,
            esc(r.str("reason").unwrap_or("")),
            esc(r.str("start_on").unwrap_or("")),
            esc(r.str("end_on").unwrap_or("")),
            r.decimal("days").unwrap_or_default().normalize(),
            esc(r.str("status").unwrap_or(""))
        ));
    }
    Ok(Response::html(
        200,
        format!(
            "<h1>{title} {year}</h1><table class=\"records\"><thead><tr><th>{ty}</th><th>{al}</th><th>{us}</th><th>{le}</th></tr></thead><tbody>{rows}</tbody></table><h2>{my}</h2><ul>{requests}</ul><p><a class=\"button\" href=\"/e/leave_request/new\">{new}</a></p>",
            title = esc(&t("My leave", "我的假期")),
            ty = esc(&t("Type", "类型")),
            al = esc(&t("Entitled", "额度")),
            us = esc(&t("Taken", "已休")),
            le = esc(&t("Left", "剩余")),
            my = esc(&t("My requests", "我的申请")),
            new = esc(&t("Request leave", "申请请假")),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> i64 {
        Date::parse(s).unwrap().days()
    }

    fn days(start: &str, end: &str, pm: bool, am: bool, c: &Calendar) -> String {
        working_days(d(start), d(end), pm, am, c).to_string()
    }

    #[test]
    fn working_days_skip_weekends() {
        let none = Calendar::default();
        // 2026-11-30 is a Monday.
        assert_eq!(days("2026-11-30", "2026-12-04", false, false, &none), "5");
        assert_eq!(
            days("2026-11-30", "2026-12-06", false, false, &none),
            "5",
            "with the weekend"
        );
        assert_eq!(
            days("2026-12-05", "2026-12-06", false, false, &none),
            "0",
            "a weekend alone"
        );
        assert_eq!(
            days("2026-12-04", "2026-12-07", false, false, &none),
            "2",
            "Friday to Monday"
        );
        assert_eq!(days("2026-12-07", "2026-12-04", false, false, &none), "0");
    }

    #[test]
    fn the_calendar_and_half_days_count() {
        let mut c = Calendar::default();
        c.off.insert(d("2026-12-02")); // a Wednesday off
        c.working.insert(d("2026-12-05")); // a Saturday at work
        assert_eq!(days("2026-11-30", "2026-12-06", false, false, &c), "5");
        assert_eq!(days("2026-11-30", "2026-12-06", true, false, &c), "4.5");
        assert_eq!(
            days("2026-11-30", "2026-12-05", true, true, &c),
            "4.0",
            "afternoon Monday to Saturday noon"
        );
        assert_eq!(days("2026-12-02", "2026-12-02", false, false, &c), "0");
        assert_eq!(
            days("2026-12-02", "2026-12-03", true, false, &c),
            "1",
            "a half of a day off is no half day"
        );
        assert_eq!(days("2026-12-01", "2026-12-01", true, false, &c), "0.5");
        assert_eq!(
            half_days(d("2026-12-01"), d("2026-12-01"), false, true),
            (d("2026-12-01") * 2, d("2026-12-01") * 2)
        );
        let (a, b) = half_days(d("2026-12-01"), d("2026-12-01"), true, true);
        assert!(b < a, "afternoon to noon of one day is nothing");
    }
}
