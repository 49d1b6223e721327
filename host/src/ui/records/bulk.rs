//! Bulk work from a list page: the rows ticked, and one action for all of them — set a field,
//! change the owner, delete — then the same list again with a report of what was done and
//! why any record was refused.

use super::list::{list_page, Notice};
use crate::bulk::{self, BulkAction};
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::render::{locale_of, t};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

/// `POST /e/{entity}/bulk`: `id` (repeated), `action` (`set`, `owner`, `delete`), `field` and
/// `value` for `set`, `owner` for `owner`, `back` (the list's query).
pub async fn bulk_action(
    State(state): State<AppState>,
    Path(entity): Path<String>,
    SignedForm { caller, form }: SignedForm<Vec<(String, String)>>,
) -> Response {
    let locale = locale_of(&caller);
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let back = get("back");
    let ids: Vec<i64> = form
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let action = match get("action").as_str() {
        "delete" => Ok(BulkAction::Delete { ids }),
        "owner" => match get("owner").parse::<i64>() {
            Ok(owner) => Ok(BulkAction::Owner { ids, owner }),
            Err(_) => Err(t(locale, "bulk_choose_owner")),
        },
        _ => {
            let field = get("field");
            bulk::value_from_text(state.store(), &entity, &field, &get("value"))
                .map(|value| BulkAction::Set { ids, field, value })
                .map_err(|e| qingguan_core::imports::describe(&e, locale))
        }
    };
    let outcome = match action {
        Ok(action) => {
            let (e, access) = (entity.clone(), caller.access.clone());
            state
                .blocking(move |s| bulk::run(s, &access, &e, &action, locale))
                .await
                .map_err(|err| crate::ui::refusal::form_refusal(locale, &err))
        }
        Err(why) => Err(why),
    };
    let (notice, status) = match outcome {
        Ok(report) => {
            if entity == "user" {
                state.forget_sessions();
            }
            let mut text = t(locale, "bulk_done").replace("{done}", &report.done.to_string());
            for r in report.refused.iter().take(50) {
                text.push_str(&format!(" · #{}: {}", r.id, r.reason));
            }
            (Notice::Done(text), StatusCode::OK)
        }
        Err(why) => (Notice::Refused(why), StatusCode::UNPROCESSABLE_ENTITY),
    };
    list_page(&state, &caller, &entity, Some(&back), Some(notice), status)
}
