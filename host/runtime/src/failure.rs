//! Why a plugin call did not produce a result, and how core errors look to a plugin — in the
//! runtime's own types; each contract version maps them to its WIT variants.

use qingguan_core::{Error as CoreError, FieldErrors, Locale, Reason};

/// Why a plugin call did not produce a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The plugin ran and returned an error value.
    #[error("{0}")]
    Plugin(PluginFailure),
    /// The plugin misbehaved: trapped, ran out of time or memory, or returned too much.
    #[error("plugin '{plugin}' failed: {reason}")]
    Fault {
        /// Plugin id.
        plugin: String,
        /// What happened.
        reason: String,
    },
    /// The plugin is not serving (disabled, faulted, failed to load, not installed).
    #[error("{0}")]
    Unavailable(String),
    /// Every instance slot is in use; the call may succeed when retried.
    #[error("the plugin runtime is at capacity; try again")]
    AtCapacity,
}

/// An error value crossing the wasm boundary, in host types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginFailure {
    /// Not found.
    #[error("{0}")]
    NotFound(String),
    /// Denied.
    #[error("{0}")]
    Denied(String),
    /// Invalid, with field reasons.
    #[error("{0}")]
    Invalid(String, Vec<(String, String)>),
    /// The record changed since it was read.
    #[error("{0}")]
    Stale(String),
    /// A unique field's value is taken.
    #[error("{field}: {message}")]
    Unique {
        /// The field.
        field: String,
        /// Why, in the call's language.
        message: String,
    },
    /// Another conflict with the current state.
    #[error("{0}")]
    Conflict(String),
    /// Failed.
    #[error("{0}")]
    Failed(String),
}

/// A core error as a plugin sees it, reasons in the call's language.
pub fn core_error(e: CoreError, locale: Locale) -> PluginFailure {
    match e {
        CoreError::NotFound(m) => PluginFailure::NotFound(m),
        CoreError::Forbidden(m) | CoreError::Unauthenticated(m) => PluginFailure::Denied(m),
        CoreError::Validation { message, fields } | CoreError::BadRequest { message, fields } => {
            PluginFailure::Invalid(message, reasons(fields, locale))
        }
        CoreError::Conflict { message, fields } => {
            match fields
                .iter()
                .find(|(_, why)| matches!(why, Reason::Unique { .. }))
            {
                Some((field, why)) => PluginFailure::Unique {
                    field: field.clone(),
                    message: why.render(locale),
                },
                None => PluginFailure::Conflict(message),
            }
        }
        e @ CoreError::StaleVersion { .. } => PluginFailure::Stale(e.to_string()),
        CoreError::Hook(qingguan_core::HookError::Rejected { message, fields }) => {
            PluginFailure::Invalid(message, reasons(fields, locale))
        }
        e => PluginFailure::Failed(e.to_string()),
    }
}

/// Field reasons as the plugin reads them.
fn reasons(fields: FieldErrors, locale: Locale) -> Vec<(String, String)> {
    fields
        .into_iter()
        .map(|(field, why)| (field, why.render(locale)))
        .collect()
}

/// A call failure as the plugin that asked another plugin sees it: the asked plugin's own
/// error as it gave it; "not installed" (or disabled, faulted) as not found, so that the asker
/// can say plainly that a module is missing; anything else as failed.
pub fn ask_error(e: CallError) -> PluginFailure {
    match e {
        CallError::Plugin(f) => f,
        CallError::Unavailable(why) => PluginFailure::NotFound(why),
        other => PluginFailure::Failed(other.to_string()),
    }
}
