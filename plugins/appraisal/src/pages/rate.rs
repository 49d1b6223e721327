//! The 360° rating form (`/rate?appraisal=&group=`) a rater fills in for one group.

use super::{error_box, group_label};
use crate::engine::Profile;
use crate::model::{self, Appraisal};
use crate::who::Caller;
use crate::workflow;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::{Error, Result};
use std::fmt::Write;

/// `/rate?appraisal=&group=`: the rating form.
pub(crate) fn rate_form(me: &Caller, id: i64, group: &str, err: Option<&Error>) -> Result<String> {
    let uid = me.user()?;
    let a = Appraisal::load(id)?;
    let people = model::people()?;
    let appraised: Vec<i64> = model::appraisals(a.cycle())?
        .iter()
        .map(|x| x.person)
        .collect();
    if !workflow::rater_groups(uid, &a, &people, &appraised).contains(&group) {
        return Err(Error::Denied(
            me.t(
                "you do not rate this person in that role",
                "您不能以该身份为此人评分",
            )
            .into(),
        ));
    }
    let profile = Profile::load(a.profile())?;
    let scale = host::config()["rating_scale"].as_i64().unwrap_or(5).max(1);
    let given = host::query_all(
        "rating",
        &Query::new()
            .elevated()
            .eq("appraisal", id)
            .eq("rater", uid)
            .eq("rater_group", group),
    )?;
    let mut s = error_box(err);
    let _ = write!(
        s,
        "<form method=\"post\" action=\"rate\" class=\"card\"><h2>{} — {} ({})</h2><input type=\"hidden\" name=\"appraisal\" value=\"{id}\"><input type=\"hidden\" name=\"group\" value=\"{}\">",
        me.t("Rate", "评分"), esc(&model::name_of(&people, Some(a.person))), esc(&group_label(me, group)), esc(group)
    );
    for item in &profile.items {
        let (i, name, desc) = (item.id, &item.name, &item.description);
        let current = given
            .iter()
            .find(|r| r.str("item") == Some(name.as_str()))
            .and_then(|r| r.i64("score"));
        let _ = write!(s, "<div class=\"field\"><label for=\"score_{i}\">{}</label><input type=\"hidden\" name=\"item_{i}\" value=\"{}\"><select id=\"score_{i}\" name=\"score_{i}\" required><option value=\"\">—</option>", esc(name), esc(name));
        for n in 1..=scale {
            let sel = if current == Some(n) { " selected" } else { "" };
            let _ = write!(s, "<option value=\"{n}\"{sel}>{n}</option>");
        }
        let _ = write!(
            s,
            "</select><span class=\"help\">{}</span></div>",
            esc(desc)
        );
    }
    let comment = given
        .first()
        .and_then(|r| r.str("comment"))
        .unwrap_or_default();
    let _ = write!(s, "<div class=\"field\"><label for=\"comment\">{}</label><textarea id=\"comment\" name=\"comment\">{}</textarea></div><button class=\"primary\">{}</button></form>", me.t("Comment", "评语"), esc(comment), me.t("Submit rating", "提交评分"));
    Ok(s)
}
