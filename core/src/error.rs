//! The one error type of the core, with a variant per way a request can fail.

use crate::Reason;
use std::collections::BTreeMap;

/// Per-field reasons: field name (or a path such as `fields[2].name`) → why it was refused, as
/// a [`Reason`] the edge renders in the user's language.
pub type FieldErrors = BTreeMap<String, Reason>;

/// Result alias for core operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core. Each variant says whose fault it is, so the edge
/// (HTTP, CLI, plugin host) can map it to a status without inspecting messages.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The entity type, record, field or user does not exist (or the caller may not know it does).
    #[error("{0}")]
    NotFound(String),
    /// The input was well-formed but some fields are invalid; nothing was written.
    #[error("{message}")]
    Validation {
        /// Summary for humans.
        message: String,
        /// Which fields failed and why.
        fields: FieldErrors,
    },
    /// The request itself is malformed: an unknown filter field, a bad operator, a bad cursor.
    #[error("{message}")]
    BadRequest {
        /// Summary for humans.
        message: String,
        /// Which parameters failed and why.
        fields: FieldErrors,
    },
    /// The write conflicts with the current state: a duplicate unique value, a record still
    /// referenced by others, a name already taken.
    #[error("{message}")]
    Conflict {
        /// Summary for humans.
        message: String,
        /// Which fields conflict, where known.
        fields: FieldErrors,
    },
    /// Optimistic concurrency: the caller's version is not the record's current version.
    #[error("record has changed: expected version {expected}, current version is {current}")]
    StaleVersion {
        /// The version the caller sent.
        expected: i64,
        /// The version stored now.
        current: i64,
    },
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Wrong username or password, or an expired or unknown session.
    #[error("{0}")]
    Unauthenticated(String),
    /// A hook (for example a plugin's before-save hook) refused or failed the write.
    #[error("{0}")]
    Hook(#[from] crate::hooks::HookError),
    /// The database failed in a way no input explains (disk full, corruption, a bug).
    #[error("database error: {0}")]
    Database(String),
    /// This host may not use the database any more (hosts of a newer version took it).
    #[error("{0}")]
    Unavailable(String),
}

impl Error {
    /// A validation error with a single field reason.
    pub fn field(field: impl Into<String>, why: Reason) -> Self {
        let field = field.into();
        Error::Validation {
            message: format!("{field}: {why}"),
            fields: BTreeMap::from([(field, why)]),
        }
    }

    /// A validation error from collected field reasons.
    pub fn validation(fields: FieldErrors) -> Self {
        let message = summarize("invalid input", &fields);
        Error::Validation { message, fields }
    }

    /// A bad-request error for one query parameter.
    pub fn bad_param(param: impl Into<String>, why: Reason) -> Self {
        let param = param.into();
        Error::BadRequest {
            message: format!("{param}: {why}"),
            fields: BTreeMap::from([(param, why)]),
        }
    }

    /// A conflict with a message and no field detail.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            fields: FieldErrors::new(),
        }
    }

    /// A conflict on one field.
    pub fn conflict_on(field: impl Into<String>, why: Reason) -> Self {
        let field = field.into();
        Error::Conflict {
            message: format!("{field}: {why}"),
            fields: BTreeMap::from([(field, why)]),
        }
    }
}

/// "summary: a: why; b: why" for logs and CLI output.
fn summarize(head: &str, fields: &FieldErrors) -> String {
    if fields.is_empty() {
        return head.to_string();
    }
    let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{head}: {}", parts.join("; "))
}

impl From<crate::db::DbError> for Error {
    fn from(e: crate::db::DbError) -> Self {
        Error::Database(e.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database(e.to_string())
    }
}
