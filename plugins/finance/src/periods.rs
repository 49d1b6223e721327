//! Month close: a closed month (`period` with `closed`) takes no posting; closing and reopening
//! are recorded in the period's history (reopening is for administrators only).

use crate::text::t;
use qingguan_plugin_sdk::host::{self, Query};
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

/// Refuses a posting dated in a closed month (or not a date at all).
pub fn check_open(date: &str) -> Result<()> {
    let valid = qingguan_plugin_sdk::date::Date::parse(date).is_some();
    if !valid {
        return Err(Error::invalid(t("check the date", "请检查日期")).field(
            "date",
            t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
        ));
    }
    let month = &date[..7];
    if period(month)?.is_some_and(|p| p.get("closed").and_then(Value::as_bool) == Some(true)) {
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

/// Closes a month.
pub fn close(input: &Value) -> Result<Value> {
    may_close()?;
    let month = month_of(input)?;
    host::begin_write()?;
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

/// Reopens a closed month: administrators only; the period's history keeps who and when.
pub fn reopen(input: &Value) -> Result<Value> {
    if host::context().role.as_deref() != Some("admin") {
        return Err(Error::Denied(t(
            "reopening a month is for administrators",
            "反结账需要管理员权限",
        )));
    }
    let month = month_of(input)?;
    host::begin_write()?;
    let p = period(&month)?
        .filter(|p| p.get("closed").and_then(Value::as_bool) == Some(true))
        .ok_or_else(|| {
            Error::invalid(t(
                &format!("{month} is not closed"),
                &format!("{month} 未结账"),
            ))
        })?;
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
