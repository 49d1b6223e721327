//! The manager's page `/team`: the appraisals they manage in running cycles.

use super::{figures_in, num, person_link, stage_text, standing, status_label, table};
use crate::model::{self, Appraisal, Cycle};
use crate::who::Caller;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::html::escape as esc;
use qingguan_plugin_sdk::Result;
use std::fmt::Write;

/// `/team`: the appraisals I manage in running cycles, with today's standing.
pub(crate) fn team(me: &Caller) -> Result<String> {
    let uid = me.user()?;
    let people = model::people()?;
    let mut s = String::new();
    let cycles = host::query_all(
        "appraisal_cycle",
        &Query::new()
            .elevated()
            .ne("stage", "closed")
            .sort("-starts_on"),
    )?;
    let mut any = false;
    for c in cycles {
        let cycle = Cycle::of(c);
        let all = model::appraisals(cycle.rec.id)?;
        let mine: Vec<Appraisal> = all.into_iter().filter(|a| a.manager == Some(uid)).collect();
        if mine.is_empty() {
            continue;
        }
        any = true;
        let figures = standing(&cycle, &mine)?;
        let rows: Vec<Vec<String>> = mine
            .iter()
            .map(|a| {
                let f = figures_in(&figures, a);
                vec![
                    person_link(&people, a),
                    esc(&status_label(me, &a.status)),
                    num(&f["kpi_score"]),
                    num(&f["quality_score"]),
                    num(&f["score"]),
                    esc(f["grade"].as_str().unwrap_or("-")),
                ]
            })
            .collect();
        let _ = write!(
            s,
            "<section class=\"card\"><h2>{} <span class=\"muted\">{} → {} · {}</span></h2>{}</section>",
            esc(cycle.name()), esc(&cycle.from), esc(&cycle.to), esc(&stage_text(me, &cycle)),
            table(&[me.t("Person", "员工"), me.t("Status", "状态"), me.t("KPI", "KPI"), me.t("360°", "360度"), me.t("Score", "总分"), me.t("Grade", "等级")], &rows)
        );
    }
    if !any {
        let _ = write!(
            s,
            "<p class=\"muted\">{}</p>",
            me.t(
                "Nobody's appraisal names you as manager in a running cycle.",
                "进行中的周期里没有由您考核的员工。"
            )
        );
    }
    Ok(s)
}
