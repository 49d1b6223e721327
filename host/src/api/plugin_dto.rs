//! What the API shows about a plugin, with its OpenAPI schema (the runtime's `PluginInfo`
//! knows nothing of OpenAPI).

use qingguan_runtime::{Attempt, PluginInfo};
use serde::Serialize;
use utoipa::ToSchema;

/// The outcome of the last install attempt of a plugin.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptDto {
    /// Version tried, if the manifest was readable.
    pub version: Option<String>,
    /// Where it came from (file name for the plugins folder).
    pub source: Option<String>,
    /// Why it was refused; none if it went live (or is still going on).
    pub error: Option<String>,
    /// Still going on: installing in the background (compiling, migrating).
    pub in_progress: bool,
    /// When.
    pub at: String,
    /// How long validation, compilation, migration and the swap took.
    pub millis: u64,
}

/// A plugin: status, versions, grants, configuration.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PluginDto {
    /// Plugin id.
    pub id: String,
    /// Active (or last attempted) version.
    pub version: String,
    /// Enabled by an administrator.
    pub enabled: bool,
    /// `active`, `disabled`, `faulted`, `failed` or `rejected`.
    pub status: String,
    /// Why it is not active.
    pub error: Option<String>,
    /// Serving calls right now.
    pub loaded: bool,
    /// Faults in the current window.
    pub recent_faults: usize,
    /// Kept versions (rollback targets), newest first.
    pub versions: Vec<String>,
    /// The manifest.
    #[schema(value_type = Object)]
    pub manifest: serde_json::Value,
    /// Approved capabilities.
    #[schema(value_type = Object)]
    pub approved: serde_json::Value,
    /// The last install or upgrade attempt (also failed ones: the previous version kept serving).
    pub last_attempt: Option<AttemptDto>,
    /// Configuration.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

impl PluginDto {
    /// What a user who is not an administrator is shown: which plugins serve and their menus,
    /// not their grants, configuration, errors or files.
    pub fn for_user(self) -> PluginDto {
        let menu = self
            .manifest
            .get("menu")
            .cloned()
            .unwrap_or(serde_json::json!([]));
        PluginDto {
            manifest: serde_json::json!({"id": self.id, "version": self.version, "menu": menu}),
            approved: serde_json::Value::Null,
            config: serde_json::Value::Null,
            error: None,
            last_attempt: None,
            versions: Vec::new(),
            recent_faults: 0,
            ..self
        }
    }

    /// The view for a caller: everything for administrators, [`PluginDto::for_user`] otherwise.
    pub fn shown_to(self, admin: bool) -> PluginDto {
        if admin {
            self
        } else {
            self.for_user()
        }
    }
}

impl From<Attempt> for AttemptDto {
    fn from(a: Attempt) -> Self {
        AttemptDto {
            version: a.version,
            source: a.source,
            error: a.error,
            in_progress: a.in_progress,
            at: a.at,
            millis: a.millis,
        }
    }
}

impl From<PluginInfo> for PluginDto {
    fn from(p: PluginInfo) -> Self {
        PluginDto {
            id: p.id,
            version: p.version,
            enabled: p.enabled,
            status: p.status.as_str().to_string(),
            error: p.error,
            loaded: p.loaded,
            recent_faults: p.recent_faults,
            versions: p.versions,
            manifest: p.manifest,
            approved: p.approved,
            last_attempt: p.last_attempt.map(AttemptDto::from),
            config: p.config,
        }
    }
}

/// Where a plugin job's latest run stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobRunDto {
    /// Plugin id.
    pub plugin: String,
    /// Job name.
    pub job: String,
    /// `running`, `finished` or `failed`.
    pub state: String,
    /// Units of work done so far (as the plugin counts them).
    pub done: i64,
    /// Units in all, when the plugin said.
    pub total: Option<i64>,
    /// Steps committed (each its own call and transaction).
    pub steps: i64,
    /// When the run started (UTC).
    pub started_at: String,
    /// When it last moved (UTC).
    pub updated_at: String,
    /// Why it failed.
    pub error: Option<String>,
}

impl From<qingguan_core::JobRun> for JobRunDto {
    fn from(r: qingguan_core::JobRun) -> Self {
        JobRunDto {
            plugin: r.plugin,
            job: r.job,
            state: r.state,
            done: r.done,
            total: r.total,
            steps: r.steps,
            started_at: r.started_at,
            updated_at: r.updated_at,
            error: r.error,
        }
    }
}
