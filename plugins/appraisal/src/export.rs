//! The CSV export for payroll (`/export.csv?cycle=`, HR only): one row per appraisal of a
//! cycle whose scores are closed.

use crate::model::{self, Cycle};
use crate::who::Caller;
use crate::workflow;
use qingguan_plugin_sdk::host::{self, Query};
use qingguan_plugin_sdk::{Decimal, Error, Result};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The columns: the machine key, English and Chinese headings.
const COLUMNS: [(&str, &str, &str); 12] = [
    ("cycle", "Cycle", "考核周期"),
    ("employee", "Employee", "员工"),
    ("username", "Username", "用户名"),
    ("team", "Team", "团队"),
    ("position", "Position", "职务"),
    ("kpi_score", "KPI score", "KPI 得分"),
    ("quality_score", "Quality score", "素质得分"),
    ("score", "Score", "总分"),
    ("grade", "Grade", "等级"),
    ("coefficient", "Coefficient", "系数"),
    ("bonus_base", "Bonus base", "奖金基数"),
    ("bonus", "Bonus", "奖金"),
];

/// CSV for payroll: one row per appraisal of a cycle whose scores are closed; headings in the
/// reader's language, or the machine keys (`keys`) for a program reading it.
pub(crate) fn csv(me: &Caller, cycle_id: i64, keys: bool) -> Result<String> {
    me.require_hr()?;
    let cycle = Cycle::load(cycle_id)?;
    if !cycle.scores_closed() {
        return Err(Error::Conflict(
            me.t(
                "export follows the close of the scores",
                "成绩锁定后才能导出",
            )
            .into(),
        ));
    }
    let list = model::appraisals(cycle_id)?;
    let people = model::people()?;
    let profiles: BTreeMap<i64, String> = host::query_all("job_profile", &Query::new().elevated())?
        .into_iter()
        .map(|p| (p.id, p.str("name").unwrap_or_default().to_string()))
        .collect();
    let results = workflow::results(&cycle, &list);
    let headings: Vec<String> = COLUMNS
        .iter()
        .map(|(key, en, zh)| {
            if keys {
                key.to_string()
            } else {
                csv_cell(me.t(en, zh))
            }
        })
        .collect();
    let mut out = format!("\u{feff}{}\r\n", headings.join(","));
    for r in results["appraisals"].as_array().into_iter().flatten() {
        let a = list.iter().find(|a| r["appraisal"] == a.rec.id);
        let p = people.get(&r["person"].as_i64().unwrap_or(0));
        let cells = [
            cycle.name().to_string(),
            p.map(|p| p.name.clone()).unwrap_or_default(),
            p.map(|p| p.username.clone()).unwrap_or_default(),
            a.map(|a| a.team.clone()).unwrap_or_default(),
            a.and_then(|a| profiles.get(&a.profile()).cloned())
                .unwrap_or_default(),
            r["kpi_score"].as_str().unwrap_or_default().to_string(),
            r["quality_score"].as_str().unwrap_or_default().to_string(),
            r["score"].as_str().unwrap_or_default().to_string(),
            r["grade"].as_str().unwrap_or_default().to_string(),
            r["coefficient"].as_str().unwrap_or_default().to_string(),
            r["bonus_base"].as_str().unwrap_or_default().to_string(),
            r["bonus"].as_str().unwrap_or_default().to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// One CSV cell: quoted when needed, and text that a spreadsheet would run as a formula
/// is prefixed with an apostrophe.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && Decimal::from_str(s).is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
