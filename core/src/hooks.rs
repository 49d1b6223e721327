//! Write hooks: the seam through which code outside the core (the plugin runtime) sees and
//! shapes record writes, without the core knowing what is on the other side.

use crate::record::Record;
use crate::FieldErrors;

/// Which kind of write is happening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOp {
    /// A new record.
    Create,
    /// A change to an existing record.
    Update,
    /// Removal of a record.
    Delete,
}

impl WriteOp {
    /// The lower-case name used in history and hook subscriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteOp::Create => "create",
            WriteOp::Update => "update",
            WriteOp::Delete => "delete",
        }
    }
}

/// What a hook is told about a write.
#[derive(Debug, Clone)]
pub struct WriteEvent<'a> {
    /// Create, update or delete.
    pub op: WriteOp,
    /// The entity type written.
    pub entity: &'a str,
    /// The record as it was before the write (update and delete).
    pub before: Option<&'a Record>,
    /// The user on whose behalf the write happens, if any.
    pub user_id: Option<i64>,
    /// The language of that user (hooks answer in it).
    pub locale: crate::Locale,
    /// The plugin making the write through its host calls, if a plugin is.
    pub via: Option<&'a str>,
}

/// Why a hook stopped a write.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HookError {
    /// The hook looked at the record and refused it, with per-field reasons for the user.
    #[error("{message}")]
    Rejected {
        /// Summary for humans.
        message: String,
        /// Field → why.
        fields: FieldErrors,
    },
    /// The hook itself failed (a plugin trapped, ran out of time, was unavailable).
    #[error("{0}")]
    Failed(String),
}

/// Code that wants to see record writes. All methods have defaults that do nothing.
pub trait Hooks: Send + Sync {
    /// Called before a create or update is validated and written, with the full proposed
    /// field values (as JSON). It may change them, or refuse the write.
    fn before_write(
        &self,
        event: &WriteEvent<'_>,
        values: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), HookError> {
        let _ = (event, values);
        Ok(())
    }

    /// Called before a delete is written; may refuse it.
    fn before_delete(&self, event: &WriteEvent<'_>) -> Result<(), HookError> {
        let _ = event;
        Ok(())
    }

    /// Called after a write has committed. `record` is the record after the write (for a
    /// delete: as it was). Failures here cannot undo the write; implementations log them.
    fn after_write(&self, event: &WriteEvent<'_>, record: &Record) {
        let _ = (event, record);
    }
}

/// Hooks that do nothing: the default when no plugin runtime is attached.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHooks;

impl Hooks for NoHooks {}
