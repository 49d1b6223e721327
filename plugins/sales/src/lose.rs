//! Marking a deal lost with its reason. The manifest's `mark_lost` action declares the reason
//! as an input, so the UI asks for it in a form; called without one (through the API), the
//! action answers 422 naming the `reason` field and the page `/p/sales/lose?deal=ID` (also in
//! the menu, where it offers the user's open deals), which has the same form.

use qingguan_plugin_sdk::date as dates;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::text::t;
use qingguan_plugin_sdk::{json, Error, Record, Request, Response, Result, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The reasons the manifest declares for `lost_reason` (value, English, Chinese).
const REASONS: [(&str, &str, &str); 5] = [
    ("price", "Price", "价格"),
    ("competitor", "Competitor", "竞争对手"),
    ("no_budget", "No budget", "没有预算"),
    ("no_decision", "No decision", "未决策"),
    ("other", "Other", "其他"),
];

/// The refusal of a missing or unknown reason: field `reason`, and where to choose one.
fn reason_error(deal: i64) -> Error {
    Error::invalid(format!(
        "{} /p/sales/lose?deal={deal}",
        t(
            "a lost deal needs a reason: choose it on",
            "输单必须填写原因，请在此页选择："
        )
    ))
    .field(
        "reason",
        t(
            "required: price, competitor, no_budget, no_decision or other",
            "必填：价格、竞争对手、没有预算、未决策或其他",
        ),
    )
}

/// The deal if the user may see it (404 otherwise, as for the record itself).
fn visible_deal(id: i64) -> Result<Record> {
    host::query(
        "deal",
        &Query::new().elevated().eq("id", id).limit(1).as_user(),
    )?
    .items
    .pop()
    .ok_or_else(|| Error::not_found(format!("deal {id}")))
}

/// Marks a deal lost with a reason (and an optional note appended to its notes), as the
/// user: their role decides whether they may. Field errors name `reason`.
pub fn mark_lost(id: i64, reason: Option<&str>, note: Option<&str>) -> Result<Record> {
    let deal = visible_deal(id)?;
    let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
        return Err(reason_error(id));
    };
    let mut patch = json!({"stage": "lost", "lost_reason": reason});
    if let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) {
        let line = format!("{} {note}", dates::format(dates::today()));
        patch["notes"] = json!(match deal.str("notes").filter(|n| !n.is_empty()) {
            Some(old) => format!("{old}\n{line}"),
            None => line,
        });
    }
    host::update("deal", id, deal.version, &patch).map_err(|e| match e {
        // An unknown reason (the core checks the select's options): the form's field.
        Error::Invalid { message, fields } => Error::Invalid {
            message,
            fields: fields
                .into_iter()
                .map(|(k, v)| {
                    if k == "lost_reason" {
                        ("reason".to_string(), v)
                    } else {
                        (k, v)
                    }
                })
                .collect(),
        },
        other => other,
    })
}

/// The deal's answer to an action or an API client.
pub fn outcome(r: &Record) -> Value {
    json!({"id": r.id, "stage": r.str("stage"), "lost_reason": r.str("lost_reason"),
           "closed_on": r.str("closed_on"), "version": r.version})
}

/// `GET /lose?deal=ID[&done=1]`: the form for one deal (or, without a deal, a choice of the
/// user's open deals); `done` confirms a deal just marked lost.
pub fn page(
    deal: Option<i64>,
    done: bool,
    err: Option<&Error>,
    form: &BTreeMap<String, String>,
) -> Result<String> {
    let mut s = String::from("<section class=\"card sales-lose\">");
    if let Some(e) = err {
        let detail = match e {
            Error::Invalid { message, fields } => {
                let f: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{message} ({})", f.join("; "))
            }
            other => other.to_string(),
        };
        let _ = write!(s, "<p class=\"error\" role=\"alert\">{}</p>", esc(&detail));
    }
    if let (Some(id), true) = (deal, done) {
        let d = visible_deal(id)?;
        let _ = write!(
            s,
            "<p>{} <a href=\"/e/deal/{id}\">{}</a></p></section>",
            esc(&t("Marked lost:", "已标记输单：")),
            esc(d.str("title").unwrap_or_default())
        );
        return Ok(s);
    }
    let _ = write!(
        s,
        "<h2>{}</h2><form method=\"post\" action=\"lose\">",
        esc(&t("Mark a deal lost", "标记输单"))
    );
    match deal {
        Some(id) => {
            let d = visible_deal(id)?;
            if matches!(d.str("stage"), Some("won" | "lost")) {
                let _ = write!(
                    s,
                    "<p class=\"muted\">{}</p>",
                    esc(&t("This deal is already closed.", "该商机已关闭。"))
                );
            }
            let _ = write!(
                s,
                "<p><a href=\"/e/deal/{id}\">{}</a></p><input type=\"hidden\" name=\"deal\" value=\"{id}\">",
                esc(d.str("title").unwrap_or_default())
            );
        }
        None => {
            let open = host::query(
                "deal",
                &Query::new()
                    .elevated()
                    .in_list("stage", ["lead", "qualified", "proposal", "negotiation"])
                    .sort("-id")
                    .limit(200)
                    .as_user(),
            )?
            .items;
            if open.is_empty() {
                let _ = write!(
                    s,
                    "<p class=\"muted\">{}</p></form></section>",
                    esc(&t("No open deal you can see.", "没有您可查看的在途商机。"))
                );
                return Ok(s);
            }
            let _ = write!(
                s,
                "<div class=\"field\"><label for=\"deal\">{}</label><select id=\"deal\" name=\"deal\" required>",
                esc(&t("Deal", "商机"))
            );
            let chosen = form.get("deal").and_then(|d| d.parse::<i64>().ok());
            for d in open {
                let sel = if chosen == Some(d.id) {
                    " selected"
                } else {
                    ""
                };
                let _ = write!(
                    s,
                    "<option value=\"{}\"{sel}>{}</option>",
                    d.id,
                    esc(d.str("title").unwrap_or_default())
                );
            }
            s.push_str("</select></div>");
        }
    }
    let _ = write!(
        s,
        "<div class=\"field\"><label for=\"reason\">{}</label><select id=\"reason\" name=\"reason\" required><option value=\"\"></option>",
        esc(&t("Lost reason", "输单原因"))
    );
    let chosen = form.get("reason").map(String::as_str);
    for (value, en, zh_text) in REASONS {
        let sel = if chosen == Some(value) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<option value=\"{value}\"{sel}>{}</option>",
            esc(&t(en, zh_text))
        );
    }
    let _ = write!(
        s,
        "</select></div><div class=\"field\"><label for=\"note\">{}</label><textarea id=\"note\" name=\"note\">{}</textarea></div><button class=\"danger\">{}</button></form></section>",
        esc(&t("Note (added to the deal's notes)", "说明（追加到商机备注）")),
        esc(form.get("note").map(String::as_str).unwrap_or_default()),
        esc(&t("Mark lost", "标记输单"))
    );
    Ok(s)
}

/// `POST /lose` with `deal`, `reason` and `note` (a form, or JSON for API clients that accept
/// JSON): marks the deal lost and goes back to the page, or shows the form again with the
/// reason it was refused (422).
pub fn post(req: &Request, api: bool) -> Result<Response> {
    let form: BTreeMap<String, String> = req.form()?.into_iter().collect();
    let deal = form
        .get("deal")
        .and_then(|d| d.trim().parse::<i64>().ok())
        .ok_or_else(|| {
            Error::invalid(t("choose a deal", "请选择商机")).field("deal", "required")
        })?;
    let done = mark_lost(
        deal,
        form.get("reason").map(String::as_str),
        form.get("note").map(String::as_str),
    );
    match done {
        Ok(r) if api => Ok(Response::json(&outcome(&r))),
        Ok(_) => Ok(Response::redirect(&format!("/lose?deal={deal}&done=1"))),
        Err(e) if api => Err(e),
        Err(e @ Error::Invalid { .. }) => Ok(Response::html(
            422,
            page(Some(deal), false, Some(&e), &form)?,
        )),
        Err(e) => Err(e),
    }
}
