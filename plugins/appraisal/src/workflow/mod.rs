//! The cycle's workflow, one file per step: starting a cycle (appraisals, cascaded targets,
//! carried improvement items), target negotiation, bonus bases, manual actuals and 360° ratings, feedback
//! with an improvement plan, the stage transitions — the close of the scores among them — and
//! the figures; the notices people get on the way. Here: who manages an appraisal, and the form helpers the steps share.

mod bases;
mod feedback;
mod figures;
mod inputs;
mod negotiation;
mod notices;
mod remove;
mod stages;
mod start;

pub(crate) use bases::set_bases;
pub(crate) use feedback::{feedback, improvement, improvement_done};
pub(crate) use figures::{compute, results, standing};
pub(crate) use inputs::{actuals, rate, rater_groups};
pub(crate) use negotiation::{propose, respond};
pub(crate) use remove::{
    check_removable, delete_cycle, remove_cycle_parts, remove_parts, what_goes,
};
pub(crate) use stages::{advance_confirmed, Confirmation, Outstanding};
pub(crate) use start::{seed, start, Cascade};

use crate::model::Appraisal;
use crate::who::Caller;
use qingguan_plugin_sdk::{Decimal, Error, Result};
use std::collections::BTreeMap;
use std::str::FromStr;

/// Whether the caller manages this appraisal (its manager, or HR).
pub(crate) fn manages(me: &Caller, a: &Appraisal) -> bool {
    if me.id.is_some() && me.id == Some(a.person) {
        return false; // nobody manages their own appraisal, HR included
    }
    me.hr || (me.id.is_some() && a.manager == me.id)
}

fn parse_amount(v: &str, field: &str, me: &Caller) -> Result<Decimal> {
    Decimal::from_str(v.trim().replace([',', '，'], "").as_str())
        .ok()
        .filter(|d| !d.is_sign_negative())
        .ok_or_else(|| {
            Error::invalid(me.t("a value is not a number", "有数值格式不正确"))
                .field(field, me.t("must be a number ≥ 0", "必须是不小于0的数字"))
        })
}

/// Reads a form into a map (the last value of a repeated key wins).
pub(crate) fn form_map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}
