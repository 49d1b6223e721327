//! The forms behind a record's workflow card: making a transition (or asking for its
//! approval) and deciding an approval, with a refusal shown on the record's page.

use super::detail::{detail_page, Notice};
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::refusal::refusal_text;
use crate::ui::render::{locale_of, t};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::TransitionOutcome;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct TransitionForm {
    version: i64,
    #[serde(default)]
    comment: String,
}

/// `POST /e/{entity}/{id}/transition/{name}`: makes the transition or asks for its approval;
/// a refusal shows on the page in the reader's language.
pub async fn transition(
    State(state): State<AppState>,
    Path((entity, id, name)): Path<(String, i64, String)>,
    SignedForm { caller, form: f }: SignedForm<TransitionForm>,
) -> Response {
    let (access, ent) = (caller.access.clone(), entity.clone());
    let outcome = state
        .blocking(move |s| s.make_transition(&access, &ent, id, f.version, &name, &f.comment))
        .await;
    match outcome {
        Ok(TransitionOutcome::Done(_) | TransitionOutcome::Asked(_)) => {
            Redirect::to(&format!("/e/{entity}/{id}")).into_response()
        }
        Err(api) => {
            let locale = locale_of(&caller);
            let why = refusal_text(&state.store().schema(), locale, Some(&entity), &api);
            let notice = Notice {
                error: Some(format!("{} {why}", t(locale, "transition_refused"))),
                status: Some(api.status),
                ..Notice::default()
            };
            detail_page(&state, &caller, &entity, id, notice)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    comment: String,
}

/// `POST /e/{entity}/{id}/approvals/{approval}`: approves or rejects the current step.
pub async fn decide(
    State(state): State<AppState>,
    Path((entity, id, approval)): Path<(String, i64, i64)>,
    SignedForm { caller, form: f }: SignedForm<DecisionForm>,
) -> Response {
    let access = caller.access.clone();
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
    };
    let outcome = state
        .blocking(move |s| s.decide_approval(&access, approval, approve, &f.comment))
        .await;
    match outcome {
        Ok(_) => Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
        Err(api) => {
            let locale = locale_of(&caller);
            let why = refusal_text(&state.store().schema(), locale, Some(&entity), &api);
            let notice = Notice {
                error: Some(format!("{} {why}", t(locale, "decision_refused"))),
                status: Some(api.status),
                ..Notice::default()
            };
            detail_page(&state, &caller, &entity, id, notice)
        }
    }
}
