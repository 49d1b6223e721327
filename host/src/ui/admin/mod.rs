//! Administration pages: users and roles, Studio (fields, labels, hiding, layout, custom
//! entity types), plugins (upload, enable, disable, roll back, remove) and the audit log.

mod audit;
mod builtin_plugins;
mod dashboards;
mod field_rules;
mod plugin_jobs;
mod plugin_words;
mod plugins;
mod settings;
mod studio;
mod users;
mod webhooks;
mod workflow_form;
mod workflows;

pub use audit::{audit, audit_export};
pub use builtin_plugins::install_builtin;
pub(crate) use dashboards::sections as dashboard_sections;
pub use dashboards::{dashboards, save_dashboards};
pub use field_rules::{field_rules, save_field_rules};
pub use plugin_jobs::run_job;
pub use plugins::{dismiss_attempt, plugin_op, plugins, upload_plugin};
pub use settings::{save_settings, settings};
pub use studio::{
    add_field, create_entity, patch_field, retire_field, set_layout, studio, studio_entity,
    unretire_field,
};
pub use users::{add_user, invite_user, reset_password, roles, save_role, users};
pub use webhooks::{add_webhook, replay_delivery, webhook_op, webhooks};
pub use workflows::{remove_workflow, save_workflow, workflow, workflows};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::extract::SignedForm;
use crate::ui::render::{locale_of, message, t};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::Locale;
use serde::Deserialize;

/// Every role's name, in order (for choices by role).
pub(super) fn role_names(state: &AppState) -> Vec<String> {
    state
        .store()
        .roles()
        .iter()
        .map(|r| r.name.clone())
        .collect()
}

/// A form posted by an administrator: a [`SignedForm`] (signed in, CSRF token checked) whose
/// caller is also checked to be an administrator before the handler runs — so no admin
/// handler can forget the check.
#[derive(Debug)]
pub struct AdminForm<T> {
    /// The administrator who posted it.
    pub caller: Caller,
    /// The submitted form.
    pub form: T,
}

impl<T: serde::de::DeserializeOwned + Send> axum::extract::FromRequest<AppState> for AdminForm<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let SignedForm { caller, form } = SignedForm::<T>::from_request(req, state).await?;
        admin_only(state, &caller)?;
        Ok(AdminForm { caller, form })
    }
}

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
    /// What was just done (`password`, `saved`), for a sentence in the page's language.
    #[serde(default)]
    pub(super) done: Option<String>,
}

/// Back to a page with an API error: each refused field by the name its form shows, with its
/// reason, in the language of the request (the core's English summary only when no field is
/// named).
pub(super) fn back_with_api_error(path: &str, e: &ApiError) -> Response {
    let locale = crate::error::request_locale();
    let colon = if locale == Locale::ZhCn { "：" } else { ": " };
    let fields: Vec<String> = e
        .fields
        .iter()
        .map(|(k, v)| format!("{}{colon}{}", form_label(locale, k), v.render(locale)))
        .collect();
    if fields.is_empty() {
        // Never the core's English summary for a reader of Chinese.
        let schema = qingguan_core::Schema::default();
        let text = crate::ui::refusal::refusal_text(&schema, locale, None, e);
        return back_with_error(path, &text);
    }
    back_with_error(
        path,
        &format!("{} {}", t(locale, "fix_errors"), fields.join("; ")),
    )
}

/// The words an admin form shows for a field key of an error (`entities[0].label_en` →
/// "Label (English)"); a key no form names is shown as it is.
fn form_label(locale: Locale, key: &str) -> String {
    let last = key.rsplit('.').next().unwrap_or(key);
    let last = last.split('[').next().unwrap_or(last);
    let ui = match last {
        "username" => "username",
        "password" | "current_password" => "password",
        "display_name" => "display_name",
        "role" => "role",
        "team" => "team",
        "manager" => "manager",
        "locale" => "default_language",
        "time_zone" => "time_zone",
        "name" => "entity_name",
        "label" | "label_en" => "label_en",
        "label_zh" | "zh-CN" => "label_zh",
        "type" | "kind" => "field_type",
        "target" => "target",
        "options" => "options",
        "layout" | "sections" => "layout",
        "list_columns" | "columns" => "list_columns",
        "required" => "required",
        _ => return key.to_string(),
    };
    t(locale, ui)
}

pub(crate) fn back_with_error(path: &str, error: &str) -> Response {
    let e: String = form_urlencoded::byte_serialize(error.as_bytes()).collect();
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}error={e}")).into_response()
}

/// Back to the plugins page with a sentence in the caller's language and the runtime's own
/// words as the technical detail.
pub(super) fn back_with_detail(caller: &Caller, key: &str, raw: &str) -> Response {
    let sentence = t(locale_of(caller), key);
    let detail: String = form_urlencoded::byte_serialize(raw.as_bytes()).collect();
    let error: String = form_urlencoded::byte_serialize(sentence.as_bytes()).collect();
    Redirect::to(&format!("/admin/plugins?error={error}&detail={detail}")).into_response()
}
