//! Bringing the active set in line with the database: loading every enabled plugin at start,
//! dependencies first, and picking up changes made while the server runs — by another host
//! serving the same database, or by the CLI.

use crate::deps;
use crate::instance::LoadedPlugin;
use crate::lifecycle::{merge_config, sha256_hex, LifecycleError, PluginManager};
use crate::manifest::{Capabilities, Manifest};
use crate::status::PluginStatus;
use qingguan_core::{Origin, PluginRow};
use std::collections::HashSet;
use std::sync::Arc;

impl PluginManager {
    /// Loads every enabled plugin from the database, dependencies first. Plugins that fail to
    /// load are marked `failed` with the reason; the others serve.
    pub fn load_all(&self) -> Result<(), LifecycleError> {
        if let Err(e) = self.keep_components_in_database() {
            tracing::warn!(error = %e, "could not keep plugin components in the database");
        }
        let mut pending: Vec<(PluginRow, Manifest)> = Vec::new();
        for row in self.store().plugins()?.into_iter().filter(|r| r.enabled) {
            match serde_json::from_str::<Manifest>(&row.manifest) {
                Ok(m) => pending.push((row, m)),
                Err(e) => self.mark_failed(&row.id, &format!("stored manifest unreadable: {e}")),
            }
        }
        let (failed, unready) = self.load_in_order(pending);
        for (id, e) in failed {
            self.mark_failed(&id, &e.to_string());
        }
        for row in unready {
            self.mark_failed(
                &row.id,
                "its dependencies are missing, disabled or form a cycle",
            );
        }
        Ok(())
    }

    /// Loads `pending` versions dependencies first: passes in row order, a plugin loading as
    /// soon as its dependencies have (also earlier in the same pass), so the active order —
    /// hook chain, menus — follows the rows. Returns the versions that failed to load, and
    /// those whose dependencies never loaded.
    fn load_in_order(
        &self,
        mut pending: Vec<(PluginRow, Manifest)>,
    ) -> (Vec<(String, LifecycleError)>, Vec<PluginRow>) {
        let mut loaded: HashSet<String> = self
            .active
            .list()
            .iter()
            .map(|p| p.manifest.id.clone())
            .collect();
        let mut failed = Vec::new();
        loop {
            let before = pending.len();
            let mut rest = Vec::new();
            for (row, m) in pending {
                if !deps::ready(&m, &loaded) {
                    rest.push((row, m));
                    continue;
                }
                match self.load_row(&row) {
                    Ok(()) => {
                        loaded.insert(row.id.clone());
                    }
                    Err(e) => {
                        tracing::error!(plugin = %row.id, error = %e, "plugin failed to load");
                        failed.push((row.id.clone(), e));
                    }
                }
            }
            pending = rest;
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        (failed, pending.into_iter().map(|(row, _)| row).collect())
    }

    /// Records that a plugin could not be loaded, and fails closed: unless an earlier version
    /// keeps serving, its hooks cannot run, so its entity types become read-only (its rules
    /// never silently switch off).
    pub(crate) fn mark_failed(&self, id: &str, why: &str) {
        if let Err(e) =
            self.store()
                .set_plugin_status(id, true, PluginStatus::Failed.as_str(), Some(why))
        {
            tracing::error!(plugin = id, error = %e, "could not record the plugin as failed");
        }
        if self.active(id).is_none() {
            if let Err(e) = self.store().retire_origin(&Origin::Plugin(id.to_string())) {
                tracing::error!(plugin = id, error = %e, "could not make the plugin's entity types read-only");
            }
        }
    }

    /// Loads the version a database row names (after a restart, or when the CLI changed it).
    pub(crate) fn load_row(&self, row: &PluginRow) -> Result<(), LifecycleError> {
        let manifest: Manifest = serde_json::from_str(&row.manifest)
            .map_err(|e| LifecycleError::Failed(format!("stored manifest unreadable: {e}")))?;
        let bytes = self.component_bytes(&row.id, &row.version, &row.sha256)?;
        self.check_dependencies(&manifest)?;
        let pre = self.compile(&bytes, &manifest)?;
        let approved: Capabilities = serde_json::from_str(&row.approved).unwrap_or_default();
        let config = merge_config(manifest.default_config(), &row.config);
        self.store()
            .apply_base(&Origin::Plugin(row.id.clone()), &manifest.entities)?;
        let loaded = Arc::new(LoadedPlugin::new(
            manifest,
            row.sha256.clone(),
            approved,
            config,
            pre,
        ));
        if PluginStatus::parse(&row.status) != PluginStatus::Active {
            self.store()
                .set_plugin_status(&row.id, true, PluginStatus::Active.as_str(), None)?;
        }
        self.active.swap(Some(loaded), &row.id);
        Ok(())
    }

    /// Brings the active set in line with the database (changes made by another host or the
    /// CLI while the server runs; calls going on finish on the version they started on).
    /// Returns whether anything changed.
    pub fn sync(&self) -> Result<bool, LifecycleError> {
        let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        let rows = self.store().plugins()?;
        let mut changed = false;
        for p in self.active.list().iter() {
            let keep = rows.iter().any(|r| {
                r.id == p.manifest.id
                    && r.enabled
                    && PluginStatus::parse(&r.status) == PluginStatus::Active
            });
            if !keep {
                self.active.swap(None, &p.manifest.id);
                changed = true;
            }
        }
        // What to load, dependencies first (a pass loads whatever has its dependencies
        // loaded). A version that fails to load here is this host's trouble, not the
        // install's: the row is left as it is (other hosts may serve it), the version this
        // host had keeps serving, and the next sync tries again.
        let mut pending: Vec<(PluginRow, Manifest)> = Vec::new();
        let mut unreadable: Vec<String> = Vec::new();
        for row in rows
            .into_iter()
            .filter(|r| r.enabled && PluginStatus::parse(&r.status) == PluginStatus::Active)
        {
            if self.active(&row.id).is_none_or(|c| c.sha256 != row.sha256) {
                match serde_json::from_str::<Manifest>(&row.manifest) {
                    Ok(m) => pending.push((row, m)),
                    Err(e) => {
                        tracing::error!(plugin = %row.id, error = %e, "stored manifest unreadable");
                        unreadable.push(format!("{}: its stored manifest is unreadable", row.id));
                    }
                }
            }
        }
        changed |= !pending.is_empty();
        let (failed, unready) = self.load_in_order(pending);
        let trouble: Vec<String> = failed
            .iter()
            .map(|(id, e)| format!("{id}: {e}"))
            .chain(
                unready
                    .iter()
                    .map(|row| format!("{}: its dependencies are not loaded here", row.id)),
            )
            .chain(unreadable)
            .collect();
        if !trouble.is_empty() {
            return Err(LifecycleError::Failed(trouble.join("; ")));
        }
        Ok(changed)
    }

    /// Keeps in the database every kept version this host has the file of and the database
    /// lacks (installed by a version of qingguan that kept components in files only), so that
    /// other hosts can load them and roll back to them.
    pub(crate) fn keep_components_in_database(&self) -> Result<(), LifecycleError> {
        for row in self.store().plugins()? {
            for v in self.store().plugin_versions(&row.id)? {
                if self.store().has_plugin_component(&v.sha256)? {
                    continue;
                }
                let Ok(file) = self.file_for(&row.id, &v.version, &v.sha256) else {
                    continue;
                };
                if let Ok(bytes) = std::fs::read(&file) {
                    if sha256_hex(&bytes) == v.sha256 {
                        self.store().put_plugin_component(&v.sha256, &bytes)?;
                    }
                }
            }
        }
        Ok(())
    }
}
