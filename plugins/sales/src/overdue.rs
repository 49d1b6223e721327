//! Overdue follow-ups, computed when read: a next step due before today and not done. The
//! page, its JSON and the dashboard widget never depend on the scheduled job having run.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::{json, Record, Result, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// At most this many are listed (the oldest first); `more` says when there are others.
const LIMIT: u32 = 200;

fn t<'a>(en: &'a str, zh_text: &'a str) -> &'a str {
    if host::context().locale == "zh-CN" {
        zh_text
    } else {
        en
    }
}

/// The overdue follow-ups the user may see (`all`) or owns (otherwise), oldest due first,
/// and whether more than [`LIMIT`] are.
fn overdue(all: bool) -> Result<(Vec<Record>, bool)> {
    let today = dates::format(dates::today());
    let mut q = Query::new()
        .elevated()
        .lt("next_on", &today)
        .ne("done", "true")
        .sort("next_on")
        .limit(LIMIT)
        .as_user();
    if !all {
        let Some(me) = host::context().user_id else {
            return Ok((Vec::new(), false));
        };
        q = q.eq("owner", me);
    }
    let page = host::query("followup", &q)?;
    let more = page.next_cursor.is_some();
    Ok((page.items, more))
}

fn days_overdue(f: &Record) -> i64 {
    f.str("next_on")
        .and_then(dates::parse)
        .map_or(0, |n| dates::today() - n)
}

/// Names of the customers these follow-ups are about.
fn customers(list: &[Record]) -> Result<BTreeMap<i64, String>> {
    let ids: std::collections::BTreeSet<i64> =
        list.iter().filter_map(|f| f.i64("customer")).collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    Ok(
        host::query_all("customer", &Query::new().elevated().in_list("id", ids))?
            .into_iter()
            .map(|c| (c.id, c.str("name").unwrap_or_default().to_string()))
            .collect(),
    )
}

/// As JSON: `{today, items: [{id, subject, customer, customer_name, next_on, days_overdue,
/// owner}], more}`.
pub fn json(all: bool) -> Result<Value> {
    let (list, more) = overdue(all)?;
    let names = customers(&list)?;
    let items: Vec<Value> = list
        .iter()
        .map(|f| {
            let c = f.i64("customer");
            json!({
                "id": f.id, "subject": f.str("subject"), "customer": c,
                "customer_name": c.and_then(|c| names.get(&c)),
                "next_on": f.str("next_on"), "days_overdue": days_overdue(f), "owner": f.owner,
            })
        })
        .collect();
    Ok(json!({"today": dates::format(dates::today()), "items": items, "more": more}))
}

/// As an HTML fragment: the page (`/p/sales/overdue`) and the home page's widget (links are
/// absolute for that reason).
pub fn page(all: bool) -> Result<String> {
    let (list, more) = overdue(all)?;
    let names = customers(&list)?;
    let mut s = String::from("<section class=\"sales-overdue\"><nav class=\"buttons\">");
    for (flag, en, zh_text) in [
        (false, "Mine", "我的"),
        (true, "All I can see", "我可查看的全部"),
    ] {
        let attr = if flag == all {
            " aria-current=\"page\""
        } else {
            ""
        };
        let q = if flag { "?who=all" } else { "" };
        let _ = write!(
            s,
            "<a href=\"/p/sales/overdue{q}\"{attr}>{}</a> ",
            esc(t(en, zh_text))
        );
    }
    s.push_str("</nav>");
    if list.is_empty() {
        let _ = write!(
            s,
            "<p class=\"muted\">{}</p></section>",
            esc(t("No overdue follow-up.", "没有逾期的跟进。"))
        );
        return Ok(s);
    }
    let _ = write!(
        s,
        "<div class=\"table-wrap\"><table class=\"records\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(t("Follow-up", "跟进")),
        esc(t("Customer", "客户")),
        esc(t("Next follow-up", "下次跟进")),
        esc(t("Days overdue", "逾期天数")),
    );
    for f in &list {
        let customer = f
            .i64("customer")
            .map(|c| {
                format!(
                    "<a href=\"/e/customer/{c}\">{}</a>",
                    esc(names.get(&c).map(String::as_str).unwrap_or_default())
                )
            })
            .unwrap_or_default();
        let _ = write!(
            s,
            "<tr><td><a href=\"/e/followup/{}\">{}</a></td><td>{customer}</td><td>{}</td><td>{}</td></tr>",
            f.id,
            esc(f.str("subject").unwrap_or_default()),
            esc(f.str("next_on").unwrap_or_default()),
            days_overdue(f),
        );
    }
    s.push_str("</tbody></table></div>");
    if more {
        let _ = write!(
            s,
            "<p class=\"muted\">{}</p>",
            esc(t(
                "Only the 200 longest overdue are listed.",
                "仅列出逾期最久的200条。"
            ))
        );
    }
    s.push_str("</section>");
    Ok(s)
}
