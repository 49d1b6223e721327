//! Why a plugin call did not produce a result, and the mapping of errors across the wasm
//! boundary (core errors and plugin errors are values on both sides).

use crate::bindings::wit;
use qingguan_core::{Error as CoreError, FieldErrors};

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

/// A plugin's error value, in host types.
#[derive(Debug, Clone, thiserror::Error)]
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
    /// Conflict.
    #[error("{0}")]
    Conflict(String),
    /// Failed.
    #[error("{0}")]
    Failed(String),
}

impl From<wit::PluginError> for PluginFailure {
    fn from(e: wit::PluginError) -> Self {
        match e {
            wit::PluginError::NotFound(m) => PluginFailure::NotFound(m),
            wit::PluginError::Denied(m) => PluginFailure::Denied(m),
            wit::PluginError::Invalid((m, f)) => {
                PluginFailure::Invalid(m, f.into_iter().map(|f| (f.field, f.message)).collect())
            }
            wit::PluginError::Conflict(m) => PluginFailure::Conflict(m),
            wit::PluginError::Failed(m) => PluginFailure::Failed(m),
        }
    }
}

impl From<PluginFailure> for wit::PluginError {
    fn from(f: PluginFailure) -> Self {
        match f {
            PluginFailure::NotFound(m) => wit::PluginError::NotFound(m),
            PluginFailure::Denied(m) => wit::PluginError::Denied(m),
            PluginFailure::Invalid(m, fields) => invalid(m, fields),
            PluginFailure::Conflict(m) => wit::PluginError::Conflict(m),
            PluginFailure::Failed(m) => wit::PluginError::Failed(m),
        }
    }
}

/// An `invalid` error with per-field reasons.
pub fn invalid(
    message: String,
    fields: impl IntoIterator<Item = (String, String)>,
) -> wit::PluginError {
    wit::PluginError::Invalid((
        message,
        fields
            .into_iter()
            .map(|(field, message)| wit::FieldError { field, message })
            .collect(),
    ))
}

/// A core error as the plugin sees it.
pub fn core_error(e: CoreError) -> wit::PluginError {
    match e {
        CoreError::NotFound(m) => wit::PluginError::NotFound(m),
        CoreError::Forbidden(m) | CoreError::Unauthenticated(m) => wit::PluginError::Denied(m),
        CoreError::Validation { message, fields } | CoreError::BadRequest { message, fields } => {
            invalid(message, reasons(fields))
        }
        CoreError::Conflict { message, .. } => wit::PluginError::Conflict(message),
        e @ CoreError::StaleVersion { .. } => wit::PluginError::Conflict(e.to_string()),
        CoreError::Hook(qingguan_core::HookError::Rejected { message, fields }) => {
            invalid(message, reasons(fields))
        }
        e => wit::PluginError::Failed(e.to_string()),
    }
}

/// Field reasons as the plugin reads them.
fn reasons(fields: FieldErrors) -> impl Iterator<Item = (String, String)> {
    fields
        .into_iter()
        .map(|(field, why)| (field, why.to_string()))
}

/// A call failure as the plugin that asked another plugin sees it.
pub fn ask_error(e: CallError) -> wit::PluginError {
    match e {
        CallError::Plugin(f) => f.into(),
        other => wit::PluginError::Failed(other.to_string()),
    }
}
