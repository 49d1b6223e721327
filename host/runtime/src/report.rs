//! Reporting on plugins: every installed plugin (and refused components) with its status,
//! kept versions, grants, configuration and last install attempt.

use crate::info::{Attempt, PluginInfo};
use crate::lifecycle::{merge_config, LifecycleError, PluginManager};
use crate::manifest::Manifest;
use crate::status::PluginStatus;
use qingguan_core::PluginRow;

impl PluginManager {
    pub(crate) fn attempt(&self, id: &str) -> Option<Attempt> {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Forgets the last install attempt of `id` (an administrator dismissed it; a refused
    /// component that was never installed leaves the list). Whether there was one.
    pub fn forget_attempt(&self, id: &str) -> bool {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .is_some()
    }

    /// What the API shows about one plugin.
    pub fn info(&self, id: &str) -> Result<PluginInfo, LifecycleError> {
        match self.store().plugin(id)? {
            Some(row) => Ok(self.info_of(row)),
            // Not installed: perhaps being installed in the background, or refused.
            None => self
                .list()?
                .into_iter()
                .find(|p| p.id == id)
                .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'"))),
        }
    }

    pub(crate) fn info_of(&self, row: PluginRow) -> PluginInfo {
        let active = self.active(&row.id);
        let versions = self
            .store()
            .plugin_versions(&row.id)
            .map(|v| v.into_iter().map(|v| v.version).collect())
            .unwrap_or_default();
        let manifest = serde_json::from_str::<serde_json::Value>(&row.manifest).unwrap_or_default();
        let default_config = serde_json::from_str::<Manifest>(&row.manifest)
            .map(|m| m.default_config())
            .unwrap_or_default();
        PluginInfo {
            last_attempt: self.attempt(&row.id),
            loaded: active.is_some(),
            recent_faults: active.map(|a| a.recent_faults()).unwrap_or(0),
            config: merge_config(default_config, &row.config),
            approved: serde_json::from_str(&row.approved).unwrap_or_default(),
            manifest,
            versions,
            id: row.id,
            version: row.version,
            enabled: row.enabled,
            status: PluginStatus::parse(&row.status),
            error: row.error,
        }
    }

    /// Every installed plugin, components that were refused without being installed (status
    /// `rejected`, with the reason in `last_attempt`), and first installs still going on in the
    /// background (status `installing`).
    pub fn list(&self) -> Result<Vec<PluginInfo>, LifecycleError> {
        let mut out: Vec<PluginInfo> = self
            .store()
            .plugins()?
            .into_iter()
            .map(|r| self.info_of(r))
            .collect();
        let attempts = self
            .attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (id, a) in attempts {
            if (a.error.is_some() || a.in_progress) && !out.iter().any(|p| p.id == id) {
                out.push(PluginInfo {
                    id,
                    version: a.version.clone().unwrap_or_default(),
                    enabled: false,
                    status: if a.in_progress {
                        PluginStatus::Installing
                    } else {
                        PluginStatus::Rejected
                    },
                    error: a.error.clone(),
                    loaded: false,
                    recent_faults: 0,
                    versions: vec![],
                    manifest: serde_json::Value::Null,
                    approved: serde_json::Value::Null,
                    config: serde_json::Value::Null,
                    last_attempt: Some(a),
                });
            }
        }
        Ok(out)
    }
}
