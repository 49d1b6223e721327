//! The double-entry journal: every posting is a balanced `journal_entry` with its
//! `journal_line`s (debits equal credits, never zero); a posted entry and its lines are never
//! changed or deleted — a correction is a reversing entry; nothing posts into a closed month.

use crate::money::round;
use crate::periods;
use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// Accounts only documents post to: receivables (invoices, payments), stock and payables
/// (inventory's postings) — a manual entry on them would part the books from the documents.
pub const CONTROL: [&str; 3] = ["1122", "1405", "2202"];

/// One line to post: an account (by code), debit, credit, memo.
pub struct Line<'a> {
    pub account: &'a str,
    pub debit: Decimal,
    pub credit: Decimal,
    pub memo: &'a str,
}

fn own_write() -> bool {
    host::context().asked_by.as_deref() == Some("finance")
}

/// The account with a code.
pub fn account(code: &str) -> Result<Record> {
    host::query(
        "account",
        &Query::new().elevated().eq("code", code).limit(1),
    )?
    .items
    .into_iter()
    .next()
    .ok_or_else(|| {
        Error::not_found(t(
            &format!("no account {code}"),
            &format!("没有科目 {code}"),
        ))
    })
}

fn next_number(prefix: &str) -> Result<String> {
    let n = host::kv_increment(&format!("seq:{prefix}"), 1)?;
    Ok(format!("{prefix}-{n:05}"))
}

fn check_balanced(lines: &[(Decimal, Decimal)]) -> Result<Decimal> {
    let debit: Decimal = lines.iter().map(|l| l.0).sum();
    let credit: Decimal = lines.iter().map(|l| l.1).sum();
    if lines
        .iter()
        .any(|(d, c)| *d < Decimal::ZERO || *c < Decimal::ZERO || (!d.is_zero() && !c.is_zero()))
    {
        return Err(Error::invalid(t("check the lines", "请检查分录")).field(
            "lines",
            t(
                "each line is a debit or a credit, not negative",
                "每行只能填借方或贷方，且不能为负",
            ),
        ));
    }
    if debit != credit || debit.is_zero() {
        return Err(
            Error::invalid(t("the entry does not balance", "借贷不平衡")).field(
                "lines",
                t(
                    &format!("debits {debit} ≠ credits {credit}"),
                    &format!("借方合计 {debit} ≠ 贷方合计 {credit}"),
                ),
            ),
        );
    }
    Ok(debit)
}

/// Posts a balanced entry (the plugin's own postings: invoices, payments, reversals).
pub fn post(
    posted_on: &str,
    memo: &str,
    source: &str,
    lines: &[Line<'_>],
    reverses: Option<i64>,
) -> Result<Record> {
    host::begin_write()?;
    periods::check_open(posted_on)?;
    let amounts: Vec<(Decimal, Decimal)> = lines
        .iter()
        .map(|l| (round(l.debit), round(l.credit)))
        .collect();
    let total = check_balanced(&amounts)?;
    // Every account first (one read), so an unknown code writes nothing.
    let codes: Vec<&str> = lines.iter().map(|l| l.account).collect();
    let accounts = accounts(&codes)?;
    // Written posted at once: lines and entry commit together or not at all.
    let entry = host::elevated().create(
        "journal_entry",
        &json!({
            "number": next_number("JE")?,
            "posted_on": posted_on,
            "memo": memo,
            "status": "posted",
            "source": source,
            "reverses": reverses,
            "total": total.to_string(),
        }),
    )?;
    let mut dated = Vec::new();
    for (l, (d, c)) in lines.iter().zip(amounts) {
        if d.is_zero() && c.is_zero() {
            continue;
        }
        host::elevated().create(
            "journal_line",
            &json!({"entry": entry.id, "account": accounts[l.account], "debit": d.to_string(), "credit": c.to_string(), "memo": l.memo, "posted_on": posted_on}),
        )?;
        dated.push((accounts[l.account], d, c));
    }
    crate::months::add(posted_on, &dated)?;
    Ok(entry)
}

/// The ids of accounts by code, every code known (else refused, naming it).
fn accounts<'a>(codes: &[&'a str]) -> Result<std::collections::BTreeMap<&'a str, i64>> {
    let found: std::collections::BTreeMap<String, i64> = host::query(
        "account",
        &Query::new()
            .elevated()
            .in_list("code", codes.iter().copied())
            .limit(200),
    )?
    .items
    .into_iter()
    .filter_map(|a| Some((a.str("code")?.to_string(), a.id)))
    .collect();
    codes
        .iter()
        .map(|code| match found.get(*code) {
            Some(id) => Ok((*code, *id)),
            None => Err(Error::not_found(t(
                &format!("no account {code}"),
                &format!("没有科目 {code}"),
            ))),
        })
        .collect()
}

/// `post` on a draft entry a person wrote: balanced, in an open month, then read-only.
pub fn post_draft(id: i64) -> Result<Value> {
    host::begin_write()?;
    let entry = host::elevated().get("journal_entry", id)?;
    if entry.str("status") != Some("draft") {
        return Err(Error::invalid(t(
            "this entry is already posted",
            "该凭证已过账",
        )));
    }
    let posted_on = entry.str("posted_on").unwrap_or_default().to_string();
    periods::check_open(&posted_on)?;
    let lines = host::query_all("journal_line", &Query::new().elevated().eq("entry", id))?;
    for l in &lines {
        let acc = host::elevated().get("account", l.i64("account").unwrap_or_default())?;
        if let Some(code) = acc.str("code").filter(|c| CONTROL.contains(c)) {
            return Err(Error::invalid(t("a control account", "受控科目")).field(
                "account",
                t(
                    &format!("{code} is kept by invoices, payments and stock postings; not in manual entries"),
                    &format!("{code} 由发票、收款和库存记账自动维护，不能用于手工凭证"),
                ),
            ));
        }
    }
    let amounts: Vec<(Decimal, Decimal)> = lines
        .iter()
        .map(|l| {
            (
                l.decimal("debit").unwrap_or_default(),
                l.decimal("credit").unwrap_or_default(),
            )
        })
        .collect();
    let total = check_balanced(&amounts)?;
    // The lines carry the entry's date from now on: the books sum them by it.
    for l in &lines {
        host::elevated().update(
            "journal_line",
            l.id,
            l.version,
            &json!({"posted_on": posted_on}),
        )?;
    }
    crate::months::add(&posted_on, &amounts_by_account(&lines))?;
    let posted = host::elevated().update(
        "journal_entry",
        entry.id,
        entry.version,
        &json!({"status": "posted", "total": total.to_string()}),
    )?;
    Ok(json!({"status": posted.str("status"), "number": posted.str("number")}))
}

/// `reverse`: a new posted entry with debits and credits swapped, dated `on` (an open month).
pub fn reverse(id: i64, on: Option<&str>) -> Result<Value> {
    host::begin_write()?;
    let entry = host::elevated().get("journal_entry", id)?;
    if entry.str("status") != Some("posted") {
        return Err(Error::invalid(t(
            "only a posted entry can be reversed",
            "只有已过账的凭证可以冲销",
        )));
    }
    let done = host::query(
        "journal_entry",
        &Query::new().elevated().eq("reverses", id).limit(1),
    )?;
    if !done.items.is_empty() {
        return Err(Error::Conflict(t(
            "this entry has already been reversed",
            "该凭证已冲销",
        )));
    }
    if entry.str("source").is_some_and(|s| !s.is_empty()) {
        return Err(Error::invalid(t(
            "this entry belongs to a document (an invoice, a payment, a stock posting); correct the document instead",
            "该凭证来自单据（发票、收款或库存记账），请更正单据",
        )));
    }
    let on = on
        .map(str::to_string)
        .unwrap_or_else(|| dates::format(dates::today()));
    if dates::Date::parse(&on).is_none() {
        return Err(Error::invalid(t("check the date", "请检查日期")).field(
            "date",
            t("not a date (YYYY-MM-DD)", "不是有效日期（YYYY-MM-DD）"),
        ));
    }
    if on.as_str() < entry.str("posted_on").unwrap_or("") {
        return Err(Error::invalid(t("check the date", "请检查日期")).field(
            "date",
            t(
                "a reversal is dated on or after its entry",
                "冲销日期不能早于原凭证",
            ),
        ));
    }
    let lines = host::query_all(
        "journal_line",
        &Query::new().elevated().eq("entry", id).sort("id"),
    )?;
    let codes: Vec<String> = lines
        .iter()
        .map(|l| {
            host::elevated()
                .get("account", l.i64("account").unwrap_or_default())
                .map(|a| a.str("code").unwrap_or_default().to_string())
        })
        .collect::<Result<_>>()?;
    let swapped: Vec<Line<'_>> = lines
        .iter()
        .zip(&codes)
        .map(|(l, code)| Line {
            account: code,
            debit: l.decimal("credit").unwrap_or_default(),
            credit: l.decimal("debit").unwrap_or_default(),
            memo: "",
        })
        .collect();
    let memo = t(
        &format!("reversal of {}", entry.str("number").unwrap_or("")),
        &format!("冲销 {}", entry.str("number").unwrap_or("")),
    );
    let r = post(
        &on,
        &memo,
        entry.str("source").unwrap_or(""),
        &swapped,
        Some(id),
    )?;
    Ok(json!({"entry": r.id, "number": r.str("number")}))
}

/// Before a write of an entry: numbered drafts; posted entries are never changed or deleted;
/// the system's fields are the system's.
pub fn before_entry(op: WriteOp, before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    if own_write() {
        return Ok(());
    }
    host::begin_write()?;
    match op {
        WriteOp::Create => {
            for f in ["number", "status", "source", "reverses", "total"] {
                if fields.get(f).is_some_and(|v| !v.is_null()) {
                    return Err(readonly(f));
                }
            }
            fields.set("number", next_number("JE")?);
            fields.set("status", "draft");
            Ok(())
        }
        WriteOp::Update | WriteOp::Delete => {
            let b = before.ok_or_else(|| Error::not_found("entry"))?;
            if b.str("status") != Some("draft") {
                return Err(Error::invalid(t(
                    "a posted entry cannot be changed or deleted; reverse it",
                    "已过账的凭证不能修改或删除，请冲销",
                )));
            }
            if op == WriteOp::Update {
                for f in ["number", "status", "source", "reverses", "total"] {
                    if fields.get(f) != b.get(f) {
                        return Err(readonly(f));
                    }
                }
            }
            Ok(())
        }
    }
}

/// Before a write of a line: only on a draft entry (of people's), a debit or a credit.
pub fn before_line(op: WriteOp, before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    if own_write() {
        return Ok(());
    }
    // The writer first: the entry cannot be posted between this check and the line's write.
    host::begin_write()?;
    let entry_id = match op {
        WriteOp::Delete => before.and_then(|b| b.i64("entry")),
        _ => fields.i64("entry"),
    }
    .ok_or_else(|| Error::invalid(t("a line needs an entry", "分录需要所属凭证")))?;
    let entry = host::elevated().get("journal_entry", entry_id)?;
    if entry.str("status") != Some("draft") {
        return Err(
            Error::invalid(t("the entry is posted", "凭证已过账")).field(
                "entry",
                t(
                    "a posted entry's lines cannot change; reverse it",
                    "已过账凭证的分录不能修改，请冲销",
                ),
            ),
        );
    }
    // The posting date is the posting's to write.
    let dated = fields.get("posted_on").is_some_and(|v| !v.is_null());
    if op != WriteOp::Delete
        && dated
        && before.and_then(|b| b.get("posted_on")) != fields.get("posted_on")
    {
        return Err(readonly("posted_on"));
    }
    if let (Some(b), WriteOp::Update) = (before, op) {
        if b.i64("entry") != fields.i64("entry") {
            return Err(
                Error::invalid(t("a line stays in its entry", "分录不能移到其他凭证"))
                    .field("entry", t("cannot be changed", "不能修改")),
            );
        }
    }
    Ok(())
}

fn readonly(field: &str) -> Error {
    Error::invalid(t("this field is set by the system", "该字段由系统填写")).field(
        field,
        t(
            "set by postings, not by hand",
            "由过账自动填写，不能手工修改",
        ),
    )
}

/// A draft's lines as `(account, debit, credit)`.
fn amounts_by_account(lines: &[Record]) -> Vec<(i64, Decimal, Decimal)> {
    lines
        .iter()
        .map(|l| {
            (
                l.i64("account").unwrap_or_default(),
                l.decimal("debit").unwrap_or_default(),
                l.decimal("credit").unwrap_or_default(),
            )
        })
        .collect()
}
