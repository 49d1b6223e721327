//! The lifecycle manager: installs, upgrades, rolls back, enables, disables and removes
//! plugins — off the request path, under one lifecycle lock — and swaps versions into the
//! active set. A version that fails to compile, migrate or pass its health check never
//! replaces a working one.

use crate::active::ActiveSet;
use crate::context::CallCtx;
use crate::contract::{GuestPre, Linkers};
use crate::deps;
use crate::engine::{Limits, PluginEngine};
use crate::failure::CallError;
use crate::hooks::HooksBridge;
use crate::info::{Attempt, PluginInfo};
use crate::inspect;
use crate::instance::LoadedPlugin;
use crate::manifest::{Capabilities, Manifest, ManifestError, HOST_SDK};
use crate::status::PluginStatus;
use qingguan_core::{Origin, PluginRow, Store};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wasmtime::component::Component;

/// Why an install or another lifecycle operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The manifest is missing, malformed, or asks for another SDK.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The bytes are not a component this host can compile and link.
    #[error("{0}")]
    Compile(String),
    /// A dependency is missing or its version does not fit, or a dependent would break.
    #[error("{0}")]
    Dependency(String),
    /// New capabilities await an administrator's approval.
    #[error("{0}")]
    Approval(String),
    /// The plugin's own install, upgrade or health call failed; the previous state stands.
    #[error("{0}")]
    Failed(String),
    /// No such plugin or version.
    #[error("{0}")]
    NotFound(String),
    /// The operation conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] qingguan_core::Error),
    /// Reading or writing plugin files failed.
    #[error("{0}")]
    Io(String),
}

/// How to install.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// The administrator approves the capabilities the manifest requests.
    pub approve: bool,
    /// Where the component came from (a dropped file's name), for the record.
    pub source: Option<String>,
}

/// Shared plugin runtime state. Create with [`PluginManager::new`].
pub struct PluginManager {
    pub(crate) active: Arc<ActiveSet>,
    linkers: Linkers,
    root: PathBuf,
    pub(crate) files: PathBuf,
    pub(crate) lifecycle: Mutex<()>,
    pub(crate) attempts: Mutex<BTreeMap<String, Attempt>>,
}

impl std::fmt::Debug for PluginManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginManager")
            .field("files", &self.files)
            .finish()
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn merge_config(defaults: serde_json::Value, overrides: &str) -> serde_json::Value {
    let mut base = match defaults {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_str(overrides) {
        base.extend(o);
    }
    serde_json::Value::Object(base)
}

fn fault_to_lifecycle(what: &str, e: CallError) -> LifecycleError {
    LifecycleError::Failed(format!("{what} failed: {e}"))
}

impl PluginManager {
    /// A manager for an install: plugin files and the compile cache live under `dir`.
    pub fn new(
        store: Arc<Store>,
        dir: &Path,
        limits: Limits,
    ) -> anyhow::Result<Arc<PluginManager>> {
        let engine = PluginEngine::new(limits, Some(&dir.join("cache")))?;
        let linkers = Linkers::new(&engine.engine)?;
        let files = dir.join("versions");
        std::fs::create_dir_all(&files)?;
        let active = ActiveSet::new(store.clone(), engine);
        store.set_hooks(Arc::new(HooksBridge(Arc::downgrade(&active))));
        Ok(Arc::new(PluginManager {
            active,
            linkers,
            root: dir.to_path_buf(),
            files,
            lifecycle: Mutex::new(()),
            attempts: Mutex::new(BTreeMap::new()),
        }))
    }

    /// The plugins folder: drop a `.wasm` here to install or upgrade it.
    pub fn folder(&self) -> &Path {
        &self.root
    }

    /// The engine and its limits.
    pub fn engine(&self) -> &PluginEngine {
        self.active.engine()
    }

    /// The record store.
    pub fn store(&self) -> &Arc<Store> {
        self.active.store()
    }

    /// The active set: what calls (API, UI, jobs) go to.
    pub fn calls(&self) -> &Arc<ActiveSet> {
        &self.active
    }

    /// The active version of a plugin.
    pub fn active(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.active.get(id)
    }

    pub(crate) fn check_dependencies(&self, m: &Manifest) -> Result<(), LifecycleError> {
        let list = self.active.list();
        let manifests: Vec<&Manifest> = list.iter().map(|p| &p.manifest).collect();
        deps::check(m, &manifests).map_err(|e| LifecycleError::Dependency(e.0))
    }

    pub(crate) fn dependents(&self, id: &str) -> Vec<String> {
        let list = self.active.list();
        let manifests: Vec<&Manifest> = list.iter().map(|p| &p.manifest).collect();
        deps::dependents(id, &manifests)
    }

    pub(crate) fn file_for(&self, id: &str, version: &str, sha: &str) -> PathBuf {
        self.files
            .join(id)
            .join(format!("{version}-{}.wasm", &sha[..12.min(sha.len())]))
    }

    /// Compiles (or loads from the cache) and links a component; runs none of its code.
    pub(crate) fn compile(
        &self,
        bytes: &[u8],
        manifest: &Manifest,
    ) -> Result<GuestPre, LifecycleError> {
        // Imports first: a component this host cannot link is refused before the compile.
        let imported = inspect::imports(bytes)
            .and_then(|names| inspect::check(&names))
            .map_err(|e| LifecycleError::Compile(e.to_string()))?;
        let contract = imported.unwrap_or_else(|| manifest.sdk_version().unwrap_or(HOST_SDK));
        manifest.check_sdk(&contract)?;
        let component = Component::new(&self.engine().engine, bytes)
            .map_err(|e| LifecycleError::Compile(format!("not a valid component: {e:#}")))?;
        self.linkers.link(&component, &contract).map_err(|e| {
            LifecycleError::Compile(format!(
                "plugin '{}' (built against contract {contract}) imports or exports something \
                 this host (SDK {HOST_SDK}) does not match: {e:#}",
                manifest.id
            ))
        })
    }

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
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            millis: started.elapsed().as_millis() as u64,
        };
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

    /// Returns a plugin to the version that was active before the current one (versions are
    /// kept). Refused if a dependent's range or a stored field type would not fit.
    pub fn rollback(&self, id: &str) -> Result<PluginInfo, LifecycleError> {
        let guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        let row = self
            .store()
            .plugin(id)?
            .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'")))?;
        let versions = self.store().plugin_versions(id)?;
        let target = versions
            .iter()
            .find(|v| v.version != row.version)
            .ok_or_else(|| {
                LifecycleError::Conflict(format!(
                    "'{id}' has no earlier version kept to roll back to"
                ))
            })?;
        let manifest: Manifest = serde_json::from_str(&target.manifest).map_err(|e| {
            LifecycleError::Failed(format!(
                "kept manifest of {id} {} unreadable: {e}",
                target.version
            ))
        })?;
        self.check_dependencies(&manifest)?;
        let approved: Capabilities = serde_json::from_str(&row.approved).unwrap_or_default();
        if !manifest.capabilities.within(&approved) {
            return Err(LifecycleError::Approval(format!(
                "'{id}' {} requests capabilities that are not approved",
                target.version
            )));
        }
        let file = self.file_for(id, &target.version, &target.sha256);
        let bytes = std::fs::read(&file)
            .map_err(|e| LifecycleError::Io(format!("{}: {e}", file.display())))?;
        let pre = self.compile(&bytes, &manifest)?;
        let config = merge_config(manifest.default_config(), &row.config);
        let loaded = Arc::new(LoadedPlugin::new(
            manifest.clone(),
            target.sha256.clone(),
            approved,
            config,
            pre,
        ));
        let new_row = PluginRow {
            version: target.version.clone(),
            manifest: target.manifest.clone(),
            sha256: target.sha256.clone(),
            enabled: true,
            status: PluginStatus::Active.as_str().into(),
            error: None,
            ..row
        };
        self.store().transaction(|| {
            self.store()
                .apply_base(&Origin::Plugin(id.to_string()), &manifest.entities)
                .map_err(|e| match e {
                    qingguan_core::Error::Conflict { message, .. } => {
                        LifecycleError::Conflict(format!(
                            "rolling '{id}' back to {} would lose data: {message}",
                            target.version
                        ))
                    }
                    other => other.into(),
                })?;
            self.active
                .call(&loaded, CallCtx::system(), |i, s| i.health(s))
                .map_err(|e| fault_to_lifecycle("health check", e))?;
            self.store().put_plugin(&new_row)?;
            Ok::<(), LifecycleError>(())
        })?;
        self.active.swap(Some(loaded), id);
        tracing::info!(plugin = id, version = %target.version, "plugin rolled back");
        drop(guard);
        self.info(id)
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
        let file = self.file_for(&manifest.id, &manifest.version.to_string(), &sha);
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

    /// Enables a plugin: loads its recorded version and shows its entity types again.
    pub fn enable(&self, id: &str) -> Result<PluginInfo, LifecycleError> {
        let guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        let row = self
            .store()
            .plugin(id)?
            .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'")))?;
        self.store()
            .set_plugin_status(id, true, PluginStatus::Active.as_str(), None)?;
        let row = PluginRow {
            enabled: true,
            status: PluginStatus::Active.as_str().into(),
            error: None,
            ..row
        };
        if let Err(e) = self.load_row(&row) {
            self.mark_failed(id, &e.to_string());
            return Err(e);
        }
        drop(guard);
        self.info(id)
    }

    /// Disables a plugin: new calls stop reaching it, its entity types become read-only and
    /// leave menus; data stays. Refused while enabled plugins depend on it.
    pub fn disable(&self, id: &str) -> Result<PluginInfo, LifecycleError> {
        let guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        if self.store().plugin(id)?.is_none() {
            return Err(LifecycleError::NotFound(format!("no plugin '{id}'")));
        }
        let deps = self.dependents(id);
        if !deps.is_empty() {
            return Err(LifecycleError::Dependency(format!(
                "cannot disable '{id}': {} depend on it",
                deps.join(", ")
            )));
        }
        self.store()
            .set_plugin_status(id, false, PluginStatus::Disabled.as_str(), None)?;
        self.active.swap(None, id);
        self.store()
            .retire_origin(&Origin::Plugin(id.to_string()))?;
        drop(guard);
        self.info(id)
    }

    /// Removes a plugin (its `uninstall` runs first). Data is kept unless `purge`.
    pub fn remove(&self, id: &str, purge: bool) -> Result<(), LifecycleError> {
        let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        if self.store().plugin(id)?.is_none() {
            return Err(LifecycleError::NotFound(format!("no plugin '{id}'")));
        }
        let deps = self.dependents(id);
        if !deps.is_empty() {
            return Err(LifecycleError::Dependency(format!(
                "cannot remove '{id}': {} depend on it",
                deps.join(", ")
            )));
        }
        if let Some(p) = self.active(id) {
            if let Err(e) = self
                .active
                .call(&p, CallCtx::system(), |i, s| i.uninstall(s))
            {
                tracing::warn!(plugin = id, error = %e, "uninstall hook failed; removing anyway");
            }
        }
        self.active.swap(None, id);
        self.store().remove_plugin(id, purge)?;
        if purge {
            let _ = std::fs::remove_dir_all(self.files.join(id));
        }
        Ok(())
    }

    /// Replaces a plugin's configuration (a JSON object); takes effect for new calls.
    pub fn set_config(
        &self,
        id: &str,
        config: &serde_json::Value,
    ) -> Result<PluginInfo, LifecycleError> {
        if !config.is_object() {
            return Err(LifecycleError::Conflict(
                "configuration must be a JSON object".into(),
            ));
        }
        let row = self
            .store()
            .plugin(id)?
            .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'")))?;
        self.store().set_plugin_config(id, &config.to_string())?;
        if row.enabled && PluginStatus::parse(&row.status) == PluginStatus::Active {
            let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
            let row = self.store().plugin(id)?.unwrap_or(row);
            self.load_row(&row)?;
        }
        self.info(id)
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
