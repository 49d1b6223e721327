//! The bonus bases of a cycle as one table form on HR's overview: every appraisal's base in
//! one post (`POST /bases`), all or nothing.

use super::person_link;
use crate::model::{self, Appraisal, Cycle};
use crate::who::Caller;
use qingguan_plugin_sdk::html::escape as esc;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The form: one row per appraisal (person, team, base); an empty cell clears a base.
pub(crate) fn bases_form(
    me: &Caller,
    cycle: &Cycle,
    list: &[Appraisal],
    people: &BTreeMap<i64, model::Person>,
) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "<section class=\"card\"><h2>{}</h2><form method=\"post\" action=\"bases\"><input type=\"hidden\" name=\"cycle\" value=\"{}\"><div class=\"table-wrap\"><table class=\"records\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(me.t("Bonus bases", "奖金基数")),
        cycle.rec.id,
        esc(me.t("Person", "员工")),
        esc(me.t("Team", "团队")),
        esc(me.t("Bonus base", "奖金基数")),
    );
    for a in list {
        let id = a.rec.id;
        let value = a
            .rec
            .decimal("bonus_base")
            .map(|d| d.normalize().to_string())
            .unwrap_or_default();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td><input name=\"bases.{id}\" inputmode=\"decimal\" value=\"{}\" aria-label=\"{} {}\"></td></tr>",
            person_link(people, a),
            esc(&a.team),
            esc(&value),
            esc(me.t("Bonus base", "奖金基数")),
            esc(&model::name_of(people, Some(a.person))),
        );
    }
    let _ = write!(
        s,
        "</tbody></table></div><p class=\"muted\">{}</p><button class=\"primary\">{}</button></form></section>",
        esc(me.t(
            "Saved together: if one value is refused, none is saved. An empty cell clears a base.",
            "一并保存：任一数值有误则全部不保存。留空即清除基数。"
        )),
        esc(me.t("Save the bonus bases", "保存奖金基数"))
    );
    s
}
