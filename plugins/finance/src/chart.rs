//! The chart of accounts seeded for a small Chinese company (codes after the 小企业会计准则),
//! editable afterwards — except that an account the journal uses keeps its code and kind.

use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::*;

/// `(code, Chinese name, English name, kind)`.
const CHART: [(&str, &str, &str, &str); 17] = [
    ("1001", "库存现金", "Cash on hand", "asset"),
    ("1002", "银行存款", "Bank deposits", "asset"),
    ("1122", "应收账款", "Accounts receivable", "asset"),
    ("1405", "库存商品", "Inventory", "asset"),
    ("1601", "固定资产", "Fixed assets", "asset"),
    ("2202", "应付账款", "Accounts payable", "liability"),
    (
        "220201",
        "应付账款——暂估应付",
        "Goods received not billed",
        "liability",
    ),
    ("2211", "应付职工薪酬", "Salaries payable", "liability"),
    (
        "2221",
        "应交税费——应交增值税（销项）",
        "VAT output payable",
        "liability",
    ),
    (
        "222101",
        "应交税费——应交增值税（进项税额）",
        "VAT input (deductible)",
        "liability",
    ),
    ("3001", "实收资本", "Paid-in capital", "equity"),
    ("3103", "本年利润", "Current-year profit", "equity"),
    ("6001", "主营业务收入", "Sales revenue", "revenue"),
    ("6401", "主营业务成本", "Cost of goods sold", "expense"),
    ("6601", "销售费用", "Selling expenses", "expense"),
    ("6602", "管理费用", "Administrative expenses", "expense"),
    (
        "6603",
        "财务费用——汇兑损益",
        "Exchange differences (financial expenses)",
        "expense",
    ),
];

/// Accounts postings need, added to an install's chart when missing (an upgrade from 1.0).
const POSTING_ACCOUNTS: [&str; 3] = ["220201", "222101", crate::fx::FX_ACCOUNT];

/// Creates the chart once (an install that has accounts keeps them, gaining only accounts its
/// postings need and it lacks).
pub fn seed() -> Result<()> {
    let has_chart = !host::query("account", &Query::new().elevated().limit(1))?
        .items
        .is_empty();
    for (code, zh, en, kind) in CHART {
        if has_chart
            && (!POSTING_ACCOUNTS.contains(&code)
                || !host::query(
                    "account",
                    &Query::new().elevated().eq("code", code).limit(1),
                )?
                .items
                .is_empty())
        {
            continue;
        }
        host::elevated().create(
            "account",
            &json!({"code": code, "name": format!("{zh} / {en}"), "kind": kind}),
        )?;
    }
    Ok(())
}

/// An account the journal uses keeps its code and kind, and is not deleted.
pub fn guard(op: WriteOp, before: Option<&Record>, fields: &Fields) -> Result<()> {
    let Some(b) = before else { return Ok(()) };
    let used = !host::query(
        "journal_line",
        &Query::new().elevated().eq("account", b.id).limit(1),
    )?
    .items
    .is_empty();
    if !used {
        return Ok(());
    }
    let changes_identity = op == WriteOp::Delete
        || fields.get("code") != b.get("code")
        || fields.get("kind") != b.get("kind");
    if changes_identity {
        return Err(Error::invalid(t(
            "the journal uses this account: its code and kind stay, and it is not deleted",
            "该科目已有凭证使用：科目代码和类别不能修改，也不能删除",
        )));
    }
    Ok(())
}
