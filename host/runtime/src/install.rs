//! Installing and upgrading: the one path the API, the CLI and the plugins folder share —
//! quick refusals, the compile (outside the lifecycle lock), the same checks again under the
//! lock, then schema, migration, health check and swap in one transaction; or all of it in the
//! background for components that take seconds to compile.

use crate::context::CallCtx;
use crate::info::{Attempt, PluginInfo};
use crate::instance::LoadedPlugin;
use crate::lifecycle::{
    fault_to_lifecycle, merge_config, sha256_hex, InstallOptions, LifecycleError, PluginManager,
};
use crate::manifest::{Capabilities, Manifest, ManifestError};
use crate::status::PluginStatus;
use qingguan_core::{Origin, PluginRow};
use std::sync::Arc;

impl PluginManager {
    /// Installs a new plugin or upgrades an installed one from a component's bytes: the same
    /// path serves the API, the CLI and the plugins folder. Validation, compilation, the
    /// plugin's install/upgrade and health calls all happen before the swap; on any failure
    /// the previous version keeps serving. The outcome is kept as the plugin's last attempt.
    pub fn install(
        &self,
        bytes: &[u8],
        opts: InstallOptions,
    ) -> Result<PluginInfo, LifecycleError> {
        let started = std::time::Instant::now();
        let before = Manifest::from_component(bytes)
            .ok()
            .and_then(|m| self.store().plugin(&m.id).ok().flatten())
            .map(|row| row.version);
        let out = self.install_inner(bytes, &opts);
        let (id, version) = match Manifest::from_component(bytes) {
            Ok(m) => (m.id, Some(m.version.to_string())),
            Err(ManifestError::Sdk { id, version, .. }) => (id, Some(version)),
            Err(_) => (
                opts.source
                    .clone()
                    .unwrap_or_else(|| "(unreadable component)".into()),
                None,
            ),
        };
        let attempt = Attempt {
            version,
            source: opts.source.clone(),
            error: out.as_ref().err().map(|e| e.to_string()),
            in_progress: false,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            millis: started.elapsed().as_millis() as u64,
        };
        let action = if attempt.error.is_some() {
            "plugin_install_refused"
        } else {
            "plugin_installed"
        };
        self.audit(
            opts.by,
            action,
            &id,
            serde_json::json!({"version": attempt.version, "from": before, "approve": opts.approve,
                               "source": opts.source, "error": attempt.error}),
        );
        match &attempt.error {
            Some(e) => {
                tracing::warn!(plugin = %id, error = %e, "plugin install refused; the previous version keeps serving")
            }
            None => tracing::info!(plugin = %id, millis = attempt.millis, "plugin installed"),
        }
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, attempt);
        out.map(|mut info| {
            info.last_attempt = self.attempt(&info.id);
            info
        })
    }

    /// Installs in the background: reads the manifest (refusing an unreadable component at
    /// once), records the attempt as in progress, and returns it with the plugin id while a
    /// thread validates, compiles, migrates and swaps — for components whose compile takes
    /// seconds (interpreter-based ones: Python, JavaScript). The outcome replaces the attempt.
    pub fn install_in_background(
        self: &Arc<Self>,
        bytes: Vec<u8>,
        opts: InstallOptions,
    ) -> Result<(String, Attempt), LifecycleError> {
        let manifest = Manifest::from_component(&bytes)?;
        let attempt = Attempt {
            version: Some(manifest.version.to_string()),
            source: opts.source.clone(),
            error: None,
            in_progress: true,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            millis: 0,
        };
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(manifest.id.clone(), attempt.clone());
        let me = self.clone();
        std::thread::Builder::new()
            .name(format!("install {}", manifest.id))
            .spawn(move || {
                let _ = me.install(&bytes, opts);
            })
            .map_err(|e| LifecycleError::Io(format!("cannot start an install thread: {e}")))?;
        Ok((manifest.id, attempt))
    }

    /// Whether a component may be installed now: the same build already installed, or the
    /// row it replaces, the manifest it replaces and the capabilities it runs with.
    fn admission(
        &self,
        manifest: &Manifest,
        sha: &str,
        opts: &InstallOptions,
    ) -> Result<Admission, LifecycleError> {
        let existing = self.store().plugin(&manifest.id)?;
        let previous = existing
            .as_ref()
            .and_then(|row| serde_json::from_str::<Manifest>(&row.manifest).ok());
        if let (Some(row), Some(prev)) = (&existing, &previous) {
            if prev.version == manifest.version {
                if row.sha256 == sha {
                    return Ok(Admission::Installed);
                }
                return Err(LifecycleError::Conflict(format!(
                    "'{}' {} is already installed with different contents; give the new build a new version",
                    manifest.id, manifest.version
                )));
            }
            if manifest.version < prev.version {
                return Err(LifecycleError::Conflict(format!(
                    "'{}' {} is installed; {} is older — use rollback to return to a kept version",
                    manifest.id, prev.version, manifest.version
                )));
            }
        }
        self.check_dependencies(manifest)?;
        let approved: Capabilities = match &existing {
            Some(row) => serde_json::from_str(&row.approved).unwrap_or_default(),
            None => Capabilities::default(),
        };
        let approved = if manifest.capabilities.within(&approved) {
            approved
        } else if opts.approve {
            manifest.capabilities.clone()
        } else {
            return Err(LifecycleError::Approval(format!(
                "'{}' {} requests capabilities that need an administrator's approval: {}",
                manifest.id,
                manifest.version,
                serde_json::to_string(&manifest.capabilities).unwrap_or_default()
            )));
        };
        Ok(Admission::Go(Box::new(Going {
            existing,
            previous,
            approved,
        })))
    }

    fn install_inner(
        &self,
        bytes: &[u8],
        opts: &InstallOptions,
    ) -> Result<PluginInfo, LifecycleError> {
        if bytes.len() > self.engine().limits.max_component_bytes {
            return Err(LifecycleError::Compile(format!(
                "component is {} bytes; the limit is {}",
                bytes.len(),
                self.engine().limits.max_component_bytes
            )));
        }
        let manifest = Manifest::from_component(bytes)?;
        let sha = sha256_hex(bytes);
        // Quick refusals first, then the compile — seconds for an interpreter-based component
        // — without the lifecycle lock, so other installs, rollbacks and enables go on
        // meanwhile; under the lock the checks are made again against what is there now.
        if let Admission::Installed = self.admission(&manifest, &sha, opts)? {
            return self.info(&manifest.id);
        }
        let pre = self.compile(bytes, &manifest)?;
        let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        let (existing, previous, approved) = match self.admission(&manifest, &sha, opts)? {
            Admission::Installed => {
                drop(_guard);
                return self.info(&manifest.id);
            }
            Admission::Go(go) => (go.existing, go.previous, go.approved),
        };
        let config_row = existing
            .as_ref()
            .map(|r| r.config.clone())
            .unwrap_or_else(|| "{}".into());
        let config = merge_config(manifest.default_config(), &config_row);
        let loaded = Arc::new(LoadedPlugin::new(
            manifest.clone(),
            sha.clone(),
            approved.clone(),
            config,
            pre,
        ));
        let origin = Origin::Plugin(manifest.id.clone());
        let file = self.file_for(&manifest.id, &manifest.version.to_string(), &sha)?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| LifecycleError::Io(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(&file, bytes)
            .map_err(|e| LifecycleError::Io(format!("{}: {e}", file.display())))?;
        let row = PluginRow {
            id: manifest.id.clone(),
            version: manifest.version.to_string(),
            enabled: true,
            status: PluginStatus::Active.as_str().into(),
            error: None,
            manifest: serde_json::to_string(&manifest).unwrap_or_default(),
            sha256: sha,
            approved: serde_json::to_string(&approved).unwrap_or_default(),
            config: config_row,
            installed_at: String::new(),
            updated_at: String::new(),
        };
        // Schema changes, the plugin's own migration, its health check and the new version's
        // row commit together or not at all (also if the process dies half-way).
        self.store().transaction(|| {
            self.store().put_plugin_component(&row.sha256, bytes)?;
            self.store().apply_base(&origin, &manifest.entities)?;
            let roles = self.store().roles();
            self.store()
                .seed_permissions(&manifest.permission_defaults(&roles))?;
            let lifecycle = match &previous {
                Some(prev) => {
                    let from = prev.version.to_string();
                    self.active
                        .call(&loaded, CallCtx::system(), |i, s| i.upgrade(s, &from))
                }
                None => self
                    .active
                    .call(&loaded, CallCtx::system(), |i, s| i.install(s)),
            };
            if let Err(e) = lifecycle {
                let what = if previous.is_some() {
                    "upgrade"
                } else {
                    "install"
                };
                return Err(fault_to_lifecycle(what, e));
            }
            self.active
                .call(&loaded, CallCtx::system(), |i, s| i.health(s))
                .map_err(|e| fault_to_lifecycle("health check", e))?;
            self.store().put_plugin(&row)?;
            Ok::<(), LifecycleError>(())
        })?;
        self.active.swap(Some(loaded), &manifest.id);
        tracing::info!(plugin = %manifest.id, version = %manifest.version, "plugin is live");
        drop(_guard);
        self.info(&manifest.id)
    }
}

/// What [`PluginManager::admission`] decided.
enum Admission {
    /// This very build is installed: nothing to do.
    Installed,
    /// Go ahead, replacing `existing` (whose manifest is `previous`), with these grants.
    Go(Box<Going>),
}

/// What an install that may go ahead replaces and runs with.
struct Going {
    existing: Option<PluginRow>,
    previous: Option<Manifest>,
    approved: Capabilities,
}
