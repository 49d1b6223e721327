//! Demo office work (办公): workflows on leave requests (the manager approves) and expense
//! claims (by amount band: the manager up to ¥5,000, then finance too; finance pays), this
//! year's leave entitlements for everyone, two announcements, tasks for the sales rep, a leave
//! request waiting for the manager and a claim with lines — each made as its person would.

use anyhow::{anyhow, Context};
use chrono::Datelike;
use qingguan_core::{Access, Store};
use serde_json::{json, Value};

fn create(
    store: &Store,
    access: &Access,
    entity: &str,
    v: Value,
) -> anyhow::Result<qingguan_core::Record> {
    store
        .create(access, entity, &v.as_object().cloned().unwrap_or_default())
        .with_context(|| format!("demo {entity}"))
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// The next Monday at least `weeks` weeks after `today`.
fn monday_in(today: chrono::NaiveDate, weeks: i64) -> chrono::NaiveDate {
    let to_monday = (7 - i64::from(today.weekday().num_days_from_monday())) % 7;
    today + chrono::Duration::days(to_monday + 7 * weeks)
}

/// A working week (Monday to Friday) two to four weeks after `today` that does not cross a new
/// year: a leave request may not, so late in December the week before or after is taken.
fn leave_week(today: chrono::NaiveDate) -> (chrono::NaiveDate, chrono::NaiveDate) {
    [3, 2, 4]
        .into_iter()
        .map(|weeks| {
            let start = monday_in(today, weeks);
            (start, start + chrono::Duration::days(4))
        })
        .find(|(start, end)| start.year() == end.year())
        .expect("of three consecutive weeks at most one crosses a new year")
}

/// Sets the two workflows (as the first administrator).
pub fn oa_workflows(store: &Store, admin: &Access) -> anyhow::Result<()> {
    let label = |en: &str, zh: &str| json!({"en": en, "zh-CN": zh});
    store.set_workflow(
        admin,
        "leave_request",
        &json!({"state_field": "status", "initial": "draft",
            "states": {"approved": {"locked": ["leave_type", "start_on", "end_on", "reason"]},
                       "cancelled": {"locked": ["leave_type", "start_on", "end_on", "reason"]}},
            "transitions": [
                {"name": "submit", "label": label("Ask for leave", "提交请假"), "from": ["draft"], "to": "approved",
                 "who": ["owner"], "approval": [{"approvers": ["owner_manager"]}]},
                {"name": "withdraw", "label": label("Withdraw", "撤回"), "from": ["draft"], "to": "cancelled",
                 "who": ["owner"]},
                {"name": "cancel", "label": label("Cancel (manager approves)", "撤销（上级审批）"), "from": ["approved"],
                 "to": "cancelled", "who": ["owner"], "approval": [{"approvers": ["owner_manager"]}]},
                {"name": "cancel_by_manager", "label": label("Cancel", "撤销"), "from": ["approved"], "to": "cancelled",
                 "who": ["owner_manager"]}
            ]}),
    )?;
    store.set_workflow(
        admin,
        "expense_claim",
        &json!({"state_field": "status", "initial": "draft",
            "states": {"approved": {"locked": ["title"]}, "paid": {"locked": ["title"]}},
            "transitions": [
                {"name": "submit", "label": label("Submit", "提交报销"), "from": ["draft"], "to": "approved",
                 "who": ["owner"], "when": {"field": "total", "op": "lte", "value": 5000},
                 "approval": [{"approvers": ["owner_manager"]}]},
                {"name": "submit_large", "label": label("Submit (finance approves too)", "提交报销（财务复核）"),
                 "from": ["draft"], "to": "approved", "who": ["owner"],
                 "when": {"field": "total", "op": "gt", "value": 5000},
                 "approval": [{"approvers": ["owner_manager"]}, {"approvers": [{"role": "finance"}]}]},
                {"name": "pay", "label": label("Mark paid", "确认付款"), "from": ["approved"], "to": "paid",
                 "who": [{"role": "finance"}]}
            ]}),
    )?;
    Ok(())
}

/// Seeds the demo's office work.
pub fn seed_oa(store: &Store) -> anyhow::Result<()> {
    let id = |name: &str| -> anyhow::Result<i64> {
        store
            .user_id(name)?
            .ok_or_else(|| anyhow!("the demo has no {name}"))
    };
    let as_user = |name: &str| -> anyhow::Result<Access> { Ok(store.access_for(id(name)?)?.0) };
    let (admin, hr, sales, manager, finance) = (
        as_user("admin")?,
        as_user("hr")?,
        as_user("sales")?,
        as_user("manager")?,
        as_user("finance")?,
    );
    oa_workflows(store, &admin)?;
    // Everyone's requests need someone to approve them: those without a manager report to the
    // administrator.
    let admin_id = id("admin")?;
    for person in ["manager", "hr", "finance"] {
        let u = store.get(&admin, "user", id(person)?)?;
        if u.get("manager").is_null() {
            let patch = json!({"manager": admin_id});
            store.update(
                &admin,
                "user",
                u.id,
                u.version,
                patch.as_object().expect("object"),
            )?;
        }
    }
    let today = chrono::Utc::now().date_naive();
    let (leave_start, leave_end) = leave_week(today);
    // This year's entitlements, and next year's too once the waiting request falls in it.
    let mut years = vec![today.year()];
    if leave_start.year() != today.year() {
        years.push(leave_start.year());
    }
    for year in years {
        for person in ["manager", "sales", "hr", "finance"] {
            for (kind, days) in [("annual", "10"), ("personal", "5"), ("sick", "15")] {
                create(
                    store,
                    &hr,
                    "leave_balance",
                    json!({"person": id(person)?, "year": year, "leave_type": kind, "days": days}),
                )?;
            }
        }
    }
    create(
        store,
        &hr,
        "announcement",
        json!({
        "title": "年终总结会安排", "pinned": true, "published_on": day(-2),
        "body": "各团队请于本月底前提交年度总结，12 月第二周召开年终总结会。"}),
    )?;
    create(
        store,
        &manager,
        "announcement",
        json!({
        "title": "东区销售周会改到周四", "audience_team": "东区",
        "published_on": day(-1), "body": "本周起东区销售周会改为每周四上午 9:30。"}),
    )?;
    let sales_id = id("sales")?;
    for (title, due, state) in [
        ("回访杭州恒信科技，确认二期需求", -2, "open"),
        ("准备下周报价单", 3, "doing"),
        ("整理本季度客户拜访记录", 7, "open"),
        ("提交出差报销", -10, "done"),
    ] {
        create(
            store,
            &manager,
            "task",
            json!({"title": title, "assignee": sales_id, "due_on": day(due), "state": state, "owner": sales_id}),
        )?;
    }
    // The work calendar: the company's annual meeting falls on the Wednesday of that week
    // (a day off for everyone), made up on the Saturday before it.
    for (day, kind, name) in [
        (
            leave_start + chrono::Duration::days(2),
            "holiday",
            "公司年会（全员休息）",
        ),
        (
            leave_start - chrono::Duration::days(2),
            "workday",
            "调休上班（补年会）",
        ),
    ] {
        create(
            store,
            &hr,
            "calendar_day",
            json!({"day": day.to_string(), "kind": kind, "name": name}),
        )?;
    }
    // A week of annual leave a few weeks away, waiting for the manager (four working days:
    // the Wednesday is off).
    let leave = create(
        store,
        &sales,
        "leave_request",
        json!({
        "leave_type": "annual", "start_on": leave_start.to_string(),
        "end_on": leave_end.to_string(), "reason": "年假 家庭旅行"}),
    )?;
    store.make_transition(
        &sales,
        "leave_request",
        leave.id,
        leave.version,
        "submit",
        "工作已交接给同事",
    )?;
    // A claim for last week's trip, with lines, submitted.
    let claim = create(
        store,
        &sales,
        "expense_claim",
        json!({"title": "上海客户拜访差旅"}),
    )?;
    for (spent, category, what, amount) in [
        (-8, "travel", "杭州—上海 高铁往返", "146.00"),
        (-8, "lodging", "上海 酒店 1 晚", "480.00"),
        (-7, "meals", "客户午餐", "326.50"),
    ] {
        create(
            store,
            &sales,
            "expense_line",
            json!({"claim": claim.id, "spent_on": day(spent),
            "category": category, "description": what, "amount": amount, "receipt_amount": amount}),
        )?;
    }
    let claim = store.get(&sales, "expense_claim", claim.id)?;
    store.make_transition(
        &sales,
        "expense_claim",
        claim.id,
        claim.version,
        "submit",
        "",
    )?;
    // Last month's claim, approved and paid.
    let old = create(
        store,
        &sales,
        "expense_claim",
        json!({"title": "10 月客户招待"}),
    )?;
    create(
        store,
        &sales,
        "expense_line",
        json!({"claim": old.id, "spent_on": day(-35),
        "category": "meals", "description": "客户晚餐", "amount": "860.00", "receipt_amount": "860.00"}),
    )?;
    let old = store.get(&sales, "expense_claim", old.id)?;
    if let qingguan_core::TransitionOutcome::Asked(approval) =
        store.make_transition(&sales, "expense_claim", old.id, old.version, "submit", "")?
    {
        store.decide_approval(&manager, approval.id, true, "同意")?;
        let approved = store.get(&finance, "expense_claim", old.id)?;
        store.make_transition(
            &finance,
            "expense_claim",
            old.id,
            approved.version,
            "pay",
            "已转账",
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_leave_week_never_crosses_a_new_year() {
        // 2026-12-01 is a Tuesday: three weeks on is Mon 28 Dec – Fri 1 Jan, so two weeks on.
        assert_eq!(
            leave_week(date("2026-12-01")),
            (date("2026-12-21"), date("2026-12-25"))
        );
        assert_eq!(
            leave_week(date("2026-06-10")),
            (date("2026-07-06"), date("2026-07-10"))
        );
        let mut day = date("2026-01-01");
        while day < date("2028-01-01") {
            let (start, end) = leave_week(day);
            assert_eq!(start.year(), end.year(), "{day}");
            assert_eq!(start.weekday(), chrono::Weekday::Mon, "{day}");
            assert!(start > day, "{day}");
            day += chrono::Duration::days(1);
        }
    }
}
