//! Administration pages: users and roles, Studio (fields, labels, hiding, layout, custom
//! entity types) and plugins (upload, enable, disable, roll back, remove).

mod plugins;
mod studio;
mod users;

pub use plugins::{dismiss_attempt, plugin_op, plugins, upload_plugin};
pub use studio::{add_field, create_entity, patch_field, set_layout, studio, studio_entity};
pub use users::{add_user, roles, save_role, users};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::render::{locale_of, message, t};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub(super) fn admin_only(state: &AppState, caller: &Caller) -> Result<(), Response> {
    if caller.access.is_admin() {
        Ok(())
    } else {
        Err(message(
            state,
            caller,
            StatusCode::FORBIDDEN,
            &t(locale_of(caller), "forbidden"),
            "",
        ))
    }
}

/// `?error=` on a page redirected back to after a refused change.
#[derive(Debug, Deserialize, Default)]
pub struct ErrorQuery {
    #[serde(default)]
    pub(super) error: Option<String>,
    /// The technical detail behind `error`, shown folded away (the plugins page).
    #[serde(default)]
    pub(super) detail: Option<String>,
}

/// Back to a page with an API error: its message and the reason of each field, in the
/// language of the request.
pub(super) fn back_with_api_error(path: &str, e: &ApiError) -> Response {
    let locale = crate::error::request_locale();
    let fields: Vec<String> = e
        .fields
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.render(locale)))
        .collect();
    back_with_error(path, format!("{} {}", e.message, fields.join("; ")).trim())
}

pub(super) fn back_with_error(path: &str, error: &str) -> Response {
    let e: String = form_urlencoded::byte_serialize(error.as_bytes()).collect();
    Redirect::to(&format!("{path}?error={e}")).into_response()
}
