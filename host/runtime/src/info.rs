//! What the API, the UI and the CLI are shown about a plugin: its status, versions, grants,
//! configuration and the outcome of its last install attempt.

use crate::status::PluginStatus;
use serde::Serialize;

/// The outcome of the last install attempt of a plugin.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Version tried, if the manifest was readable.
    pub version: Option<String>,
    /// Where it came from (file name for the plugins folder).
    pub source: Option<String>,
    /// Why it was refused; none if it went live (or is still going on).
    pub error: Option<String>,
    /// Still going on (an install in the background: compiling, migrating).
    pub in_progress: bool,
    /// When.
    pub at: String,
    /// How long validation, compilation, migration and the swap took.
    pub millis: u64,
}

/// What the API and CLI show about a plugin.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// Plugin id.
    pub id: String,
    /// Active (or last attempted) version.
    pub version: String,
    /// Enabled by an administrator.
    pub enabled: bool,
    /// Where it stands.
    pub status: PluginStatus,
    /// Why it is not active.
    pub error: Option<String>,
    /// Serving calls right now.
    pub loaded: bool,
    /// Faults in the current window.
    pub recent_faults: usize,
    /// Kept versions (rollback targets), newest first.
    pub versions: Vec<String>,
    /// The manifest.
    pub manifest: serde_json::Value,
    /// Approved capabilities.
    pub approved: serde_json::Value,
    /// The last install or upgrade attempt (also failed ones: the previous version kept serving).
    pub last_attempt: Option<Attempt>,
    /// Configuration.
    pub config: serde_json::Value,
}
