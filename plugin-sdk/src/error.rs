//! Plugin errors: values that cross the WebAssembly boundary, never panics.

use crate::bindings::qingguan::plugin1_2_0::types as wit;

/// The result type of plugin code and host calls.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a call failed.
///
/// ```
/// use qingguan_plugin_sdk::Error;
/// let e = Error::invalid("deal is incomplete").field("amount", "required when won");
/// assert_eq!(e.to_string(), "deal is incomplete (amount: required when won)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The entity type, record, key or plugin does not exist.
    NotFound(String),
    /// The plugin lacks the capability, or the user the permission.
    Denied(String),
    /// Input refused, with per-field reasons shown to the user.
    Invalid {
        /// Summary.
        message: String,
        /// `(field, why)` pairs.
        fields: Vec<(String, String)>,
    },
    /// The record changed since it was read (its version is not the one given): read it again
    /// and retry.
    Stale(String),
    /// A unique field's value is already taken.
    Unique {
        /// The field.
        field: String,
        /// Why, in the caller's language.
        message: String,
    },
    /// The write conflicts with the current state in another way (still referenced, a quota
    /// reached).
    Conflict(String),
    /// Anything else.
    Failed(String),
}

impl Error {
    /// The kind of error as a stable key: `not_found`, `denied`, `invalid`, `stale`, `unique`,
    /// `conflict` or `failed` (for answers a program reads).
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Error;
    /// assert_eq!(Error::not_found("deal 7").kind(), "not_found");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::Denied(_) => "denied",
            Error::Invalid { .. } => "invalid",
            Error::Stale(_) => "stale",
            Error::Unique { .. } => "unique",
            Error::Conflict(_) => "conflict",
            Error::Failed(_) => "failed",
        }
    }

    /// A not-found error.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Error;
    /// assert!(matches!(Error::not_found("deal 7"), Error::NotFound(_)));
    /// ```
    pub fn not_found(what: impl Into<String>) -> Error {
        Error::NotFound(what.into())
    }

    /// A refusal with no field detail yet; add fields with [`Error::field`].
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Error;
    /// let e = Error::invalid("check the form");
    /// assert!(matches!(e, Error::Invalid { .. }));
    /// ```
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::Invalid {
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a field reason to an [`Error::Invalid`] (other variants become `Invalid`).
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Error;
    /// let e = Error::invalid("bad").field("stage", "unknown stage");
    /// let Error::Invalid { fields, .. } = e else { panic!() };
    /// assert_eq!(fields, vec![("stage".to_string(), "unknown stage".to_string())]);
    /// ```
    pub fn field(self, field: impl Into<String>, why: impl Into<String>) -> Error {
        let (message, mut fields) = match self {
            Error::Invalid { message, fields } => (message, fields),
            other => (other.to_string(), Vec::new()),
        };
        fields.push((field.into(), why.into()));
        Error::Invalid { message, fields }
    }

    /// A generic failure.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::Error;
    /// assert_eq!(Error::failed("boom").to_string(), "boom");
    /// ```
    pub fn failed(message: impl Into<String>) -> Error {
        Error::Failed(message.into())
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NotFound(m)
            | Error::Denied(m)
            | Error::Stale(m)
            | Error::Conflict(m)
            | Error::Failed(m) => f.write_str(m),
            Error::Unique { field, message } => write!(f, "{field}: {message}"),
            Error::Invalid { message, fields } => {
                f.write_str(message)?;
                if !fields.is_empty() {
                    let parts: Vec<String> =
                        fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    write!(f, " ({})", parts.join("; "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for wit::PluginError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(m) => wit::PluginError::NotFound(m),
            Error::Denied(m) => wit::PluginError::Denied(m),
            Error::Invalid { message, fields } => wit::PluginError::Invalid(wit::InvalidInput {
                message,
                fields: fields
                    .into_iter()
                    .map(|(field, message)| wit::FieldError { field, message })
                    .collect(),
            }),
            Error::Stale(m) => wit::PluginError::Stale(m),
            Error::Unique { field, message } => {
                wit::PluginError::Unique(wit::FieldError { field, message })
            }
            Error::Conflict(m) => wit::PluginError::Conflict(m),
            Error::Failed(m) => wit::PluginError::Failed(m),
        }
    }
}

impl From<wit::PluginError> for Error {
    fn from(e: wit::PluginError) -> Self {
        match e {
            wit::PluginError::NotFound(m) => Error::NotFound(m),
            wit::PluginError::Denied(m) => Error::Denied(m),
            wit::PluginError::Invalid(i) => Error::Invalid {
                message: i.message,
                fields: i.fields.into_iter().map(|f| (f.field, f.message)).collect(),
            },
            wit::PluginError::Stale(m) => Error::Stale(m),
            wit::PluginError::Unique(f) => Error::Unique {
                field: f.field,
                message: f.message,
            },
            wit::PluginError::Conflict(m) => Error::Conflict(m),
            wit::PluginError::Failed(m) => Error::Failed(m),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Failed(format!("JSON: {e}"))
    }
}

/// Parses JSON text crossing the boundary.
pub(crate) fn parse_json(s: &str) -> Result<serde_json::Value> {
    if s.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(s).map_err(Into::into)
}
