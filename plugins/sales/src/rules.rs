//! The rules of deals, follow-ups and targets, enforced in before-write hooks with field
//! errors the UI shows beside the fields.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::{host, json, Error, Fields, Record, Result, Value, WriteOp};

/// Stage probabilities from the configuration (an administrator may change them).
fn probability(stage: &str) -> Option<i64> {
    host::config()["probabilities"][stage].as_i64()
}

/// Deals: won needs an amount and sets the closing date; lost needs a reason.
pub fn deal(op: WriteOp, before: Option<&Record>, f: &mut Fields) -> Result<()> {
    let today = dates::format(dates::today());
    let stage = f.str("stage").unwrap_or_default().to_string();
    let was = before
        .and_then(|b| b.str("stage"))
        .unwrap_or_default()
        .to_string();
    if f.str("currency").is_none() {
        let c = host::config()["currency"]
            .as_str()
            .unwrap_or("CNY")
            .to_string();
        f.set("currency", c);
    }
    if f.str("opened_on").is_none() {
        let opened = before.map(|b| b.created_at.get(..10).unwrap_or(&today).to_string());
        f.set("opened_on", opened.unwrap_or_else(|| today.clone()));
    }
    let entering = op == WriteOp::Create || was != stage;
    match stage.as_str() {
        "won" => {
            let amount = f.decimal("amount");
            if amount.is_none_or(|a| a.is_zero()) {
                return Err(
                    Error::invalid(t("a won deal needs its amount", "赢单必须填写金额"))
                        .field("amount", t("required when the deal is won", "赢单时必填")),
                );
            }
            if entering && f.str("closed_on").is_none() {
                f.set("closed_on", today);
            }
            f.set("probability", 100);
        }
        "lost" => {
            if f.str("lost_reason").is_none() {
                // A drag to "lost" on the kanban shows this message: it names the page that
                // asks for the reason.
                let message = match before {
                    Some(b) => format!(
                        "{} /p/sales/lose?deal={}",
                        t(
                            "a lost deal needs a reason: choose it on",
                            "输单必须填写原因，请在此页选择："
                        ),
                        b.id
                    ),
                    None => t("a lost deal needs a reason", "输单必须填写原因"),
                };
                return Err(Error::invalid(message).field(
                    "lost_reason",
                    t("required when the deal is lost", "输单时必填"),
                ));
            }
            if entering && f.str("closed_on").is_none() {
                f.set("closed_on", today);
            }
            f.set("probability", 0);
        }
        open => {
            if entering && matches!(was.as_str(), "won" | "lost") {
                f.set("closed_on", Value::Null);
            }
            if entering || f.i64("probability").is_none() {
                if let Some(p) = probability(open) {
                    f.set("probability", p);
                }
            }
        }
    }
    if let (Some(o), Some(c)) = (
        f.str("opened_on").and_then(dates::parse),
        f.str("closed_on").and_then(dates::parse),
    ) {
        if c < o {
            return Err(Error::invalid(t(
                "a deal cannot close before it opened",
                "成交日期不能早于创建日期",
            ))
            .field("closed_on", t("before the opening date", "早于创建日期")));
        }
    }
    Ok(())
}

/// After a deal is won, its customer is a customer (no longer a lead).
pub fn deal_won(record: &Record) -> Result<()> {
    if record.str("stage") != Some("won") {
        return Ok(());
    }
    let Some(customer) = record.i64("customer") else {
        return Ok(());
    };
    let c = host::elevated().get("customer", customer)?;
    if c.str("status") != Some("customer") {
        host::update("customer", c.id, c.version, &json!({"status": "customer"}))?;
    }
    host::emit(
        "deal.won",
        &json!({"deal": record.id, "customer": customer, "amount": record.str("amount"),
                "currency": record.str("currency")}),
    )
}

/// Follow-ups: dated today unless given; the next step cannot precede the follow-up.
pub fn followup(f: &mut Fields) -> Result<()> {
    if f.str("happened_on").is_none() {
        f.set("happened_on", dates::format(dates::today()));
    }
    if let (Some(h), Some(n)) = (
        f.str("happened_on").and_then(dates::parse),
        f.str("next_on").and_then(dates::parse),
    ) {
        if n < h {
            return Err(Error::invalid(t(
                "the next follow-up is before this one",
                "下次跟进日期早于本次",
            ))
            .field(
                "next_on",
                t("must not be before the follow-up date", "不能早于跟进日期"),
            ));
        }
    }
    // The stored mark follows the due date on every write (finishing or postponing the next
    // step clears it, a date already past sets it); the scheduled job sets it on follow-ups
    // that fall due while nobody writes them. Pages and the API compute "overdue" from the
    // date when read (`overdue.rs`), so they never wait for the job.
    f.set("overdue", is_overdue(f.str("next_on"), f.bool("done")));
    Ok(())
}

/// Whether a next step due on `next_on` (and `done` or not) is overdue today.
pub fn is_overdue(next_on: Option<&str>, done: Option<bool>) -> bool {
    !done.unwrap_or(false)
        && next_on
            .and_then(dates::parse)
            .is_some_and(|n| n < dates::today())
}

/// Targets: for a person or a team, starting on the first day of a month or quarter.
pub fn target(f: &mut Fields) -> Result<()> {
    if f.i64("person").is_none() && f.str("team").is_none() {
        return Err(Error::invalid(t(
            "a target is for a person or a team",
            "目标需指定人员或团队",
        ))
        .field(
            "person",
            t("set a person or a team", "请选择人员或填写团队"),
        ));
    }
    let Some(start) = f.str("starts_on").and_then(dates::parse) else {
        return Ok(());
    };
    let (_, m, d) = dates::civil_from_days(start);
    let quarter = f.str("period") == Some("quarter");
    if d != 1 || (quarter && (m - 1) % 3 != 0) {
        return Err(Error::invalid(t(
            "targets start on the first day of their period",
            "目标须从周期第一天开始",
        ))
        .field(
            "starts_on",
            t(
                "first day of a month (quarter: Jan, Apr, Jul, Oct)",
                "月初（季度：1、4、7、10 月）",
            ),
        ));
    }
    if f.str("name").is_none() {
        let who = f
            .str("team")
            .map(String::from)
            .unwrap_or_else(|| format!("#{}", f.i64("person").unwrap_or(0)));
        let label = if quarter {
            format!(
                "{}-Q{}",
                dates::format(start).get(..4).unwrap_or(""),
                (m - 1) / 3 + 1
            )
        } else {
            dates::format(start)[..7].to_string()
        };
        f.set("name", format!("{label} {who}"));
    }
    Ok(())
}
