//! The plugins page's offer of the first-party plugins built into the binary: each one not
//! installed (or installed at an older version) with its name, version and capabilities in
//! the reader's words, and installing it with the same approval rule as an upload.

use super::back_with_error;
use super::plugin_words::{capability_words, refusal_key};
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::render::{locale_of, t};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::Locale;
use serde::Deserialize;
use serde_json::{json, Value as Json};

/// The built-in plugins worth offering, given the installed ones (`list` as the page shows
/// them): not installed, refused, or installed at an older version.
pub(super) fn offers(state: &AppState, locale: Locale, list: &Json) -> Vec<Json> {
    let installed = |id: &str| -> Option<semver::Version> {
        list.as_array()?
            .iter()
            .find(|p| p["id"] == id && p["status"] != "rejected")
            .and_then(|p| semver::Version::parse(p["version"].as_str()?).ok())
    };
    let sep = if locale == Locale::ZhCn { "、" } else { ", " };
    crate::builtin::manifests()
        .iter()
        .filter_map(|m| {
            let current = installed(&m.id);
            if current.as_ref().is_some_and(|v| *v >= m.version) {
                return None;
            }
            let name = m
                .name
                .as_ref()
                .map(|l| l.get(locale).to_string())
                .unwrap_or_else(|| m.id.clone());
            let description = m.description.as_ref().map(|l| l.get(locale).to_string());
            let caps = serde_json::to_value(&m.capabilities).unwrap_or_default();
            let capabilities = capability_words(state, locale, &caps, crate::builtin::manifests());
            let needs: Vec<String> = m
                .dependencies
                .keys()
                .map(|d| {
                    crate::builtin::manifests()
                        .iter()
                        .find(|o| &o.id == d)
                        .and_then(|o| o.name.as_ref())
                        .map(|l| l.get(locale).to_string())
                        .unwrap_or_else(|| d.clone())
                })
                .collect();
            let button = t(
                locale,
                if current.is_some() {
                    "builtin_upgrade"
                } else {
                    "builtin_install"
                },
            );
            Some(json!({
                "id": m.id,
                "name": name,
                "description": description,
                "version": m.version.to_string(),
                "installed_version": current.map(|v| v.to_string()),
                "capabilities": capabilities,
                "needs": (!needs.is_empty())
                    .then(|| t(locale, "builtin_needs").replace("{list}", &needs.join(sep))),
                "button": button,
            }))
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct BuiltinForm {
    #[serde(default)]
    name: String,
    /// The approval checkbox (`true` when ticked).
    #[serde(default)]
    approve: Option<String>,
}

/// `POST /admin/plugins/builtin`: installs (or upgrades to) a built-in plugin by name.
pub async fn install_builtin(
    State(state): State<AppState>,
    AdminForm { caller, form: f }: AdminForm<BuiltinForm>,
) -> Response {
    let locale = locale_of(&caller);
    if crate::builtin::component(&f.name).is_none() {
        return back_with_error(
            "/admin/plugins",
            &t(locale, "builtin_unknown").replace("{name}", &f.name),
        );
    }
    let approve = f
        .approve
        .as_deref()
        .is_some_and(|v| matches!(v, "true" | "on" | "1"));
    let plugins = state.plugins().clone();
    let name = f.name.clone();
    let by = caller.user.id;
    match tokio::task::spawn_blocking(move || {
        crate::builtin::install(&plugins, &name, approve, Some(by))
    })
    .await
    {
        Ok(Ok(_)) => {
            state.forget_sessions();
            Redirect::to("/admin/plugins").into_response()
        }
        Ok(Err(e)) => {
            let raw = e.to_string();
            super::back_with_detail(&caller, refusal_key(&raw), &raw)
        }
        Err(_) => back_with_error("/admin/plugins", &t(locale, "refused_other")),
    }
}
