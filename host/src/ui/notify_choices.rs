//! The inbox's "what I hear of" form: per kind of notification, in the inbox and by e-mail,
//! in the inbox only, or not at all (the core keeps and obeys the choice).

use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::render::{locale_of, t};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::notification_choices::{Delivery, GROUPS};
use qingguan_core::Locale;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, HashMap};

/// The form's context: each group with its words and the person's choice.
pub fn context(state: &AppState, locale: Locale, user: i64) -> Json {
    let chosen = state.store().notification_choices(user).unwrap_or_default();
    let groups: Vec<Json> = GROUPS
        .iter()
        .map(|(group, _)| {
            let now = chosen.get(*group).copied().unwrap_or_default();
            let options: Vec<Json> = Delivery::ALL
                .iter()
                .map(|d| {
                    json!({"value": d.name(), "label": t(locale, &format!("notify_{}", d.name())),
                           "selected": *d == now})
                })
                .collect();
            json!({"name": group, "label": t(locale, &format!("notify_group_{group}")), "options": options})
        })
        .collect();
    json!({
        "groups": groups,
        "W": {"title": t(locale, "choices_title"), "help": t(locale, "choices_help"),
              "save": t(locale, "choices_save")},
    })
}

/// `POST /inbox/choices`: one field per group (`approvals=inbox`, …); unknown values are
/// ignored, groups not sent keep their choice.
pub async fn save(
    State(state): State<AppState>,
    SignedForm { caller, form }: SignedForm<HashMap<String, String>>,
) -> Response {
    let choices: BTreeMap<String, Delivery> = GROUPS
        .iter()
        .filter_map(|(group, _)| {
            let value = form.get(*group)?;
            let d = Delivery::parse(value)?;
            Some((group.to_string(), d))
        })
        .collect();
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.set_notification_choices(&access, &choices))
        .await
    {
        Ok(_) => Redirect::to("/inbox").into_response(),
        Err(err) => {
            let locale = locale_of(&caller);
            let text = crate::ui::refusal::form_refusal(locale, &err);
            crate::ui::render::message(
                &state,
                &caller,
                err.status,
                &t(locale, "choices_title"),
                &text,
            )
        }
    }
}
