//! Month close: closing a month closes it and every month before it (books are closed in
//! order), so no posting may be dated on or before the end of the latest closed month; closing
//! and reopening are recorded in the period's history (reopening is for administrators only,
//! and only the latest closed month reopens).

use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

fn period(month: &str) -> Result<Option<Record>> {
    Ok(host::query(
        "period",
        &Query::new().elevated().eq("month", month).limit(1),
    )?
    .items
    .into_iter()
    .next())
}

/// The latest closed month (`YYYY-MM`), if any.
fn latest_closed() -> Result<Option<Record>> {
    Ok(host::query(
        "period",
        &Query::new()
            .elevated()
            .eq("closed", true)
            .sort("-month")
            .limit(1),
    )?
    .items
    .into_iter()
    .next())
}

fn month_text(p: &Record) -> String {
    p.get("month")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// `date`, or — when its month is closed — the first day after the books' closed months (where
/// a posting that must happen, such as stock another plugin moved, is booked).
pub fn first_open_day(date: &str) -> Result<String> {
    let Some(through) = latest_closed()?.map(|p| month_text(&p)) else {
        return Ok(date.to_string());
    };
    if date.get(..7).is_some_and(|m| m > through.as_str()) {
        return Ok(date.to_string());
    }
    let first = qingguan_plugin_sdk::date::parse(&format!("{through}-01")).unwrap_or_default();
    Ok(qingguan_plugin_sdk::date::format(
        qingguan_plugin_sdk::date::month_start(first, 1),
    ))
}

/// Refuses a posting dated in a closed month — the latest closed month or any before it —
/// (or not a date at all).
pub fn check_open(date: &str) -> Result<()> {
    let valid = qingguan_plugin_sdk::date::Date::parse(date).is_some();
    if !valid {
        return Err(Error::invalid(t("check the date", "请检查日期")).field(
            "date",
            t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
        ));
    }
    let month = &date[..7];
    let closed_through = latest_closed()?.map(|p| month_text(&p));
    if closed_through.is_some_and(|through| month <= through.as_str()) {
        return Err(Error::invalid(t("the month is closed", "该月已结账")).field(
            "date",
            t(
                &format!("{month} is closed: post in an open month, or ask an administrator to reopen it"),
                &format!("{month} 已结账：请在未结账月份记账，或请管理员反结账"),
            ),
        ));
    }
    Ok(())
}

fn month_of(input: &Value) -> Result<String> {
    let m = input.get("month").and_then(Value::as_str).unwrap_or("");
    let ok = m.len() == 7 && qingguan_plugin_sdk::date::Date::parse(&format!("{m}-01")).is_some();
    if ok {
        Ok(m.to_string())
    } else {
        Err(Error::invalid(t("check the month", "请检查月份"))
            .field("month", t("a month as YYYY-MM", "月份格式为 YYYY-MM")))
    }
}

fn may_close() -> Result<()> {
    // Whoever may post entries (finance, administrators) may close a month.
    host::query("journal_entry", &Query::new().limit(1))
        .map(|_| ())
        .map_err(|_| Error::Denied(t("closing a month is for finance", "结账需要财务权限")))
}

fn current_month() -> String {
    qingguan_plugin_sdk::date::format(qingguan_plugin_sdk::date::today())[..7].to_string()
}

/// Closes a month (and with it every earlier month); a month not yet begun cannot be closed.
pub fn close(input: &Value) -> Result<Value> {
    may_close()?;
    let month = month_of(input)?;
    if month > current_month() {
        return Err(Error::invalid(t("check the month", "请检查月份")).field(
            "month",
            t(
                &format!("{month} has not begun: only a month that has begun can be closed"),
                &format!("{month} 尚未开始：只能对已开始的月份结账"),
            ),
        ));
    }
    host::begin_write()?;
    if let Some(through) = latest_closed()?.map(|p| month_text(&p)) {
        if month <= through {
            return Err(Error::Conflict(t(
                &format!("{month} is already closed (the books are closed through {through})"),
                &format!("{month} 已结账（账簿已结账至 {through}）"),
            )));
        }
    }
    match period(&month)? {
        Some(p) if p.get("closed").and_then(Value::as_bool) == Some(true) => {
            Err(Error::Conflict(t(
                &format!("{month} is already closed"),
                &format!("{month} 已结账"),
            )))
        }
        Some(p) => host::elevated()
            .update("period", p.id, p.version, &json!({"closed": true}))
            .map(|_| json!({"month": month, "closed": true})),
        None => host::elevated()
            .create("period", &json!({"month": month, "closed": true}))
            .map(|_| json!({"month": month, "closed": true})),
    }
}

/// Reopens the latest closed month: administrators only; the period's history keeps who and
/// when. Months reopen newest first, so the closed months always form one run from the start.
pub fn reopen(input: &Value) -> Result<Value> {
    if host::context().role.as_deref() != Some("admin") {
        return Err(Error::Denied(t(
            "reopening a month is for administrators",
            "反结账需要管理员权限",
        )));
    }
    let month = month_of(input)?;
    host::begin_write()?;
    let p = latest_closed()?.ok_or_else(|| {
        Error::invalid(t(
            &format!("{month} is not closed"),
            &format!("{month} 未结账"),
        ))
    })?;
    let through = month_text(&p);
    if month > through {
        return Err(Error::invalid(t(
            &format!("{month} is not closed"),
            &format!("{month} 未结账"),
        )));
    }
    if month < through {
        return Err(Error::invalid(t(
            &format!("reopen {through} first: months reopen newest first"),
            &format!("请先反结账 {through}：反结账须从最近的月份开始"),
        )));
    }
    host::elevated().update("period", p.id, p.version, &json!({"closed": false}))?;
    Ok(json!({"month": month, "closed": false}))
}

/// Periods are written by closing and reopening only.
pub fn guard() -> Result<()> {
    if host::context().asked_by.as_deref() == Some("finance") {
        Ok(())
    } else {
        Err(Error::Denied(t(
            "months are closed and reopened, not edited",
            "月份通过结账和反结账变更，不能直接编辑",
        )))
    }
}
