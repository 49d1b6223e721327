//! Leave requests: working days counted from the dates (Monday to Friday), and a request may
//! not be approved beyond what is left of the person's entitlement for that type and year
//! (the entitlement less the days of their other approved requests). "My leave" shows each
//! type's entitlement, taken and left.

use qingguan_plugin_sdk::date::{self as dates, Date};
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// Monday-to-Friday days from `start` to `end`, both included (0 when `end` is before).
pub fn working_days(start: i64, end: i64) -> i64 {
    // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
    (start..=end).filter(|d| (d + 3).rem_euclid(7) < 5).count() as i64
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
    if end < start {
        return Err(Error::invalid(t("check the dates", "请检查日期"))
            .field("end_on", t("is before the start", "早于开始日期")));
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
    let days = working_days(start, end);
    if days == 0 {
        return Err(Error::invalid(t("no working day", "没有工作日")).field(
            "end_on",
            t("the dates hold no working day", "所选日期内没有工作日"),
        ));
    }
    fields.set("days", Decimal::from(days).to_string());
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
        .find(|r| Some(r.id) != before.map(|b| b.id));
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
        if Decimal::from(days) > left {
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

    #[test]
    fn working_days_skip_weekends() {
        // 2026-11-30 is a Monday.
        assert_eq!(working_days(d("2026-11-30"), d("2026-12-04")), 5);
        assert_eq!(
            working_days(d("2026-11-30"), d("2026-12-06")),
            5,
            "with the weekend"
        );
        assert_eq!(
            working_days(d("2026-12-05"), d("2026-12-06")),
            0,
            "a weekend alone"
        );
        assert_eq!(
            working_days(d("2026-12-04"), d("2026-12-07")),
            2,
            "Friday to Monday"
        );
        assert_eq!(working_days(d("2026-12-07"), d("2026-12-04")), 0);
    }
}
