//! The plugin manager: installs, upgrades, enables, disables and removes plugins; keeps the
//! set of active versions that new calls go to; and routes hooks, actions, HTTP routes,
//! queries, events and jobs to them.

use super::bindings::{wit, Plugin as Bindings, PluginPre};
use super::engine::{Limits, PluginEngine};
use super::host_calls::{record_to_wit, CallUser, HostState};
use super::loaded::{CallCtx, CallError, LoadedPlugin, PluginFailure};
use super::manifest::{Capabilities, HookEvent, Manifest, ManifestError, HOST_SDK};
use qingguan_core::{HookError, Hooks, Origin, PluginRow, Record, Store, WriteEvent, WriteOp};
use semver::Version;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use wasmtime::component::{Component, Linker};

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

/// The outcome of the last install attempt of a plugin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    /// Version tried, if the manifest was readable.
    pub version: Option<String>,
    /// Where it came from (file name for the plugins folder).
    pub source: Option<String>,
    /// Why it was refused; none if it went live.
    pub error: Option<String>,
    /// When.
    pub at: String,
    /// How long validation, compilation, migration and the swap took.
    pub millis: u64,
}

/// What the API and CLI show about a plugin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginInfo {
    /// Plugin id.
    pub id: String,
    /// Active (or last attempted) version.
    pub version: String,
    /// Enabled by an administrator.
    pub enabled: bool,
    /// `active`, `disabled`, `faulted` or `failed`.
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
    pub last_attempt: Option<Attempt>,
    /// Configuration.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// Shared plugin runtime state. Create with [`PluginManager::new`].
pub struct PluginManager {
    engine: PluginEngine,
    linker: Linker<HostState>,
    store: Arc<Store>,
    root: PathBuf,
    files: PathBuf,
    active: RwLock<Arc<Vec<Arc<LoadedPlugin>>>>,
    lifecycle: Mutex<()>,
    attempts: Mutex<BTreeMap<String, Attempt>>,
    me: Weak<PluginManager>,
}

impl std::fmt::Debug for PluginManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginManager")
            .field("files", &self.files)
            .finish()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn merge_config(defaults: serde_json::Value, overrides: &str) -> serde_json::Value {
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
        let mut linker = Linker::new(&engine.engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| anyhow::anyhow!("cannot link WASI: {e:#}"))?;
        Bindings::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| anyhow::anyhow!("cannot link the host interface: {e:#}"))?;
        let files = dir.join("versions");
        std::fs::create_dir_all(&files)?;
        let mgr = Arc::new_cyclic(|me| PluginManager {
            engine,
            linker,
            store: store.clone(),
            root: dir.to_path_buf(),
            files,
            active: RwLock::new(Arc::new(Vec::new())),
            lifecycle: Mutex::new(()),
            attempts: Mutex::new(BTreeMap::new()),
            me: me.clone(),
        });
        store.set_hooks(Arc::new(HooksBridge(Arc::downgrade(&mgr))));
        Ok(mgr)
    }

    fn arc(&self) -> Arc<PluginManager> {
        self.me
            .upgrade()
            .expect("plugin manager alive while in use")
    }

    /// The plugins folder: drop a `.wasm` here to install or upgrade it.
    pub fn folder(&self) -> &Path {
        &self.root
    }

    /// The engine and its limits.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// The record store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Active plugin versions, in load (dependency) order.
    pub fn active_list(&self) -> Arc<Vec<Arc<LoadedPlugin>>> {
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The active version of a plugin.
    pub fn active(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.active_list()
            .iter()
            .find(|p| p.manifest.id == id)
            .cloned()
    }

    fn set_active(&self, p: Option<Arc<LoadedPlugin>>, remove: &str) {
        let mut guard = self.active.write().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<Arc<LoadedPlugin>> = guard
            .iter()
            .filter(|x| x.manifest.id != remove)
            .cloned()
            .collect();
        if let Some(p) = p {
            match guard.iter().position(|x| x.manifest.id == remove) {
                Some(i) if i <= list.len() => list.insert(i, p),
                _ => list.push(p),
            }
        }
        *guard = Arc::new(list);
    }

    fn file_for(&self, id: &str, version: &str, sha: &str) -> PathBuf {
        self.files
            .join(id)
            .join(format!("{version}-{}.wasm", &sha[..12.min(sha.len())]))
    }

    /// Compiles (or loads from the cache) and links a component; runs none of its code.
    pub fn compile(
        &self,
        bytes: &[u8],
        manifest: &Manifest,
    ) -> Result<PluginPre<HostState>, LifecycleError> {
        let component = Component::new(&self.engine.engine, bytes)
            .map_err(|e| LifecycleError::Compile(format!("not a valid component: {e:#}")))?;
        let ty = component.component_type();
        let mut sdk = None;
        for (name, _) in ty.imports(&self.engine.engine) {
            if let Some(v) = name.strip_prefix("qingguan:plugin/host@") {
                sdk = Version::parse(v).ok();
            }
        }
        if let Some(v) = &sdk {
            manifest.check_sdk(v)?;
        }
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            LifecycleError::Compile(format!(
                "plugin '{}' imports something this host (SDK {HOST_SDK}) does not provide: {e:#}",
                manifest.id
            ))
        })?;
        PluginPre::new(pre).map_err(|e| LifecycleError::Compile(format!("plugin '{}' does not export the qingguan:plugin/guest interface of SDK {HOST_SDK}: {e:#}", manifest.id)))
    }

    fn check_dependencies(&self, m: &Manifest) -> Result<(), LifecycleError> {
        let active = self.active_list();
        for (dep, range) in &m.dependencies {
            match active.iter().find(|p| &p.manifest.id == dep) {
                Some(p) if range.matches(&p.manifest.version) => {}
                Some(p) => {
                    return Err(LifecycleError::Dependency(format!(
                        "plugin '{}' {} requires '{dep}' {range}, but '{dep}' {} is installed",
                        m.id, m.version, p.manifest.version
                    )))
                }
                None => {
                    return Err(LifecycleError::Dependency(format!(
                    "plugin '{}' {} requires '{dep}' {range}, which is not installed and active",
                    m.id, m.version
                )))
                }
            }
        }
        // A cycle: something this plugin needs (transitively) needs this plugin.
        let mut seen = HashSet::new();
        let mut todo: Vec<String> = m.dependencies.keys().cloned().collect();
        while let Some(d) = todo.pop() {
            if d == m.id {
                return Err(LifecycleError::Dependency(format!(
                    "plugin '{}' {} would form a dependency cycle",
                    m.id, m.version
                )));
            }
            if seen.insert(d.clone()) {
                if let Some(p) = active.iter().find(|p| p.manifest.id == d) {
                    todo.extend(p.manifest.dependencies.keys().cloned());
                }
            }
        }
        for p in active.iter() {
            if let Some(range) = p.manifest.dependencies.get(&m.id) {
                if !range.matches(&m.version) {
                    return Err(LifecycleError::Dependency(format!(
                        "'{}' {} requires '{}' {range}; version {} would break it",
                        p.manifest.id, p.manifest.version, m.id, m.version
                    )));
                }
            }
        }
        Ok(())
    }

    fn dependents(&self, id: &str) -> Vec<String> {
        self.active_list()
            .iter()
            .filter(|p| p.manifest.dependencies.contains_key(id))
            .map(|p| format!("{} {}", p.manifest.id, p.manifest.version))
            .collect()
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

    fn attempt(&self, id: &str) -> Option<Attempt> {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Returns a plugin to the version that was active before the current one (versions are
    /// kept). Refused if a dependent's range or a stored field type would not fit.
    pub fn rollback(&self, id: &str) -> Result<PluginInfo, LifecycleError> {
        let guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        let row = self
            .store
            .plugin(id)?
            .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'")))?;
        let versions = self.store.plugin_versions(id)?;
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
        let me = self.arc();
        let new_row = PluginRow {
            version: target.version.clone(),
            manifest: target.manifest.clone(),
            sha256: target.sha256.clone(),
            enabled: true,
            status: "active".into(),
            error: None,
            ..row
        };
        self.store.transaction(|| {
            self.store
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
            loaded
                .call(&me, CallCtx::system(), |i, s| {
                    i.qingguan_plugin_guest().call_health(s)
                })
                .map_err(|e| fault_to_lifecycle("health check", e))?;
            self.store.put_plugin(&new_row)?;
            Ok::<(), LifecycleError>(())
        })?;
        self.set_active(Some(loaded), id);
        tracing::info!(plugin = id, version = %target.version, "plugin rolled back");
        drop(guard);
        self.info(id)
    }

    fn install_inner(
        &self,
        bytes: &[u8],
        opts: &InstallOptions,
    ) -> Result<PluginInfo, LifecycleError> {
        let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        if bytes.len() > self.engine.limits.max_component_bytes {
            return Err(LifecycleError::Compile(format!(
                "component is {} bytes; the limit is {}",
                bytes.len(),
                self.engine.limits.max_component_bytes
            )));
        }
        let manifest = Manifest::from_component(bytes)?;
        let sha = sha256_hex(bytes);
        let existing = self.store.plugin(&manifest.id)?;
        let previous = existing
            .as_ref()
            .and_then(|row| serde_json::from_str::<Manifest>(&row.manifest).ok());
        if let (Some(row), Some(prev)) = (&existing, &previous) {
            if prev.version == manifest.version {
                if row.sha256 == sha {
                    drop(_guard);
                    return self.info(&manifest.id);
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
        self.check_dependencies(&manifest)?;
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
        let pre = self.compile(bytes, &manifest)?;
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
        let me = self.arc();
        let row = PluginRow {
            id: manifest.id.clone(),
            version: manifest.version.to_string(),
            enabled: true,
            status: "active".into(),
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
        self.store.transaction(|| {
            self.store.apply_base(&origin, &manifest.entities)?;
            self.store.seed_permissions(&manifest.permissions)?;
            let lifecycle = match &previous {
                Some(prev) => {
                    let from = prev.version.to_string();
                    loaded.call(&me, CallCtx::system(), |i, s| {
                        i.qingguan_plugin_guest().call_upgrade(s, &from)
                    })
                }
                None => loaded.call(&me, CallCtx::system(), |i, s| {
                    i.qingguan_plugin_guest().call_install(s)
                }),
            };
            if let Err(e) = lifecycle {
                let what = if previous.is_some() {
                    "upgrade"
                } else {
                    "install"
                };
                return Err(fault_to_lifecycle(what, e));
            }
            loaded
                .call(&me, CallCtx::system(), |i, s| {
                    i.qingguan_plugin_guest().call_health(s)
                })
                .map_err(|e| fault_to_lifecycle("health check", e))?;
            self.store.put_plugin(&row)?;
            Ok::<(), LifecycleError>(())
        })?;
        self.set_active(Some(loaded), &manifest.id);
        tracing::info!(plugin = %manifest.id, version = %manifest.version, "plugin is live");
        drop(_guard);
        self.info(&manifest.id)
    }

    /// Loads every enabled plugin from the database, dependencies first. Plugins that fail to
    /// load are marked `failed` with the reason; the others serve.
    pub fn load_all(&self) -> Result<(), LifecycleError> {
        let rows = self.store.plugins()?;
        let mut pending: Vec<PluginRow> = rows.into_iter().filter(|r| r.enabled).collect();
        loop {
            let before = pending.len();
            let mut rest = Vec::new();
            for row in pending {
                let manifest: Option<Manifest> = serde_json::from_str(&row.manifest).ok();
                let ready = manifest
                    .as_ref()
                    .is_some_and(|m| m.dependencies.keys().all(|d| self.active(d).is_some()));
                if ready {
                    if let Err(e) = self.load_row(&row) {
                        tracing::error!(plugin = %row.id, error = %e, "plugin failed to load");
                        let _ = self.store.set_plugin_status(
                            &row.id,
                            true,
                            "failed",
                            Some(&e.to_string()),
                        );
                    }
                } else {
                    rest.push(row);
                }
            }
            if rest.is_empty() {
                return Ok(());
            }
            if rest.len() == before {
                for row in rest {
                    let msg = "its dependencies are missing, disabled or form a cycle";
                    let _ = self
                        .store
                        .set_plugin_status(&row.id, true, "failed", Some(msg));
                }
                return Ok(());
            }
            pending = rest;
        }
    }

    /// Loads the version a database row names (after a restart, or when the CLI changed it).
    fn load_row(&self, row: &PluginRow) -> Result<(), LifecycleError> {
        let manifest: Manifest = serde_json::from_str(&row.manifest)
            .map_err(|e| LifecycleError::Failed(format!("stored manifest unreadable: {e}")))?;
        let file = self.file_for(&row.id, &row.version, &row.sha256);
        let bytes = std::fs::read(&file)
            .map_err(|e| LifecycleError::Io(format!("{}: {e}", file.display())))?;
        if sha256_hex(&bytes) != row.sha256 {
            return Err(LifecycleError::Failed(format!(
                "{} does not match its recorded hash",
                file.display()
            )));
        }
        self.check_dependencies(&manifest)?;
        let pre = self.compile(&bytes, &manifest)?;
        let approved: Capabilities = serde_json::from_str(&row.approved).unwrap_or_default();
        let config = merge_config(manifest.default_config(), &row.config);
        self.store
            .apply_base(&Origin::Plugin(row.id.clone()), &manifest.entities)?;
        let loaded = Arc::new(LoadedPlugin::new(
            manifest,
            row.sha256.clone(),
            approved,
            config,
            pre,
        ));
        if row.status != "active" {
            self.store
                .set_plugin_status(&row.id, true, "active", None)?;
        }
        self.set_active(Some(loaded), &row.id);
        Ok(())
    }

    /// Brings the active set in line with the database (changes made by the CLI while the
    /// server runs). Returns whether anything changed.
    pub fn sync(&self) -> Result<bool, LifecycleError> {
        let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        let rows = self.store.plugins()?;
        let mut changed = false;
        for p in self.active_list().iter() {
            let keep = rows
                .iter()
                .any(|r| r.id == p.manifest.id && r.enabled && r.status == "active");
            if !keep {
                self.set_active(None, &p.manifest.id);
                changed = true;
            }
        }
        for row in rows.iter().filter(|r| r.enabled && r.status == "active") {
            let current = self.active(&row.id);
            if current.as_ref().is_none_or(|c| c.sha256 != row.sha256) {
                if let Err(e) = self.load_row(row) {
                    tracing::error!(plugin = %row.id, error = %e, "plugin failed to load");
                    let _ =
                        self.store
                            .set_plugin_status(&row.id, true, "failed", Some(&e.to_string()));
                }
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Enables a plugin: loads its recorded version and shows its entity types again.
    pub fn enable(&self, id: &str) -> Result<PluginInfo, LifecycleError> {
        let guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        let row = self
            .store
            .plugin(id)?
            .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'")))?;
        self.store.set_plugin_status(id, true, "active", None)?;
        let row = PluginRow {
            enabled: true,
            status: "active".into(),
            error: None,
            ..row
        };
        if let Err(e) = self.load_row(&row) {
            let _ = self
                .store
                .set_plugin_status(id, true, "failed", Some(&e.to_string()));
            return Err(e);
        }
        drop(guard);
        self.info(id)
    }

    /// Disables a plugin: new calls stop reaching it, its entity types become read-only and
    /// leave menus; data stays. Refused while enabled plugins depend on it.
    pub fn disable(&self, id: &str) -> Result<PluginInfo, LifecycleError> {
        let guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        if self.store.plugin(id)?.is_none() {
            return Err(LifecycleError::NotFound(format!("no plugin '{id}'")));
        }
        let deps = self.dependents(id);
        if !deps.is_empty() {
            return Err(LifecycleError::Dependency(format!(
                "cannot disable '{id}': {} depend on it",
                deps.join(", ")
            )));
        }
        self.store.set_plugin_status(id, false, "disabled", None)?;
        self.set_active(None, id);
        self.store.retire_origin(&Origin::Plugin(id.to_string()))?;
        drop(guard);
        self.info(id)
    }

    /// Disables a plugin that keeps faulting, recording why.
    pub fn auto_disable(&self, id: &str, reason: &str) {
        tracing::error!(plugin = id, reason, "disabling plugin");
        self.set_active(None, id);
        if let Err(e) = self
            .store
            .set_plugin_status(id, false, "faulted", Some(reason))
        {
            tracing::error!(plugin = id, error = %e, "could not record the plugin as faulted");
        }
        if let Err(e) = self.store.retire_origin(&Origin::Plugin(id.to_string())) {
            tracing::error!(plugin = id, error = %e, "could not retire the plugin's entity types");
        }
    }

    /// Removes a plugin (its `uninstall` runs first). Data is kept unless `purge`.
    pub fn remove(&self, id: &str, purge: bool) -> Result<(), LifecycleError> {
        let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        if self.store.plugin(id)?.is_none() {
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
            if let Err(e) = p.call(&self.arc(), CallCtx::system(), |i, s| {
                i.qingguan_plugin_guest().call_uninstall(s)
            }) {
                tracing::warn!(plugin = id, error = %e, "uninstall hook failed; removing anyway");
            }
        }
        self.set_active(None, id);
        self.store.remove_plugin(id, purge)?;
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
            .store
            .plugin(id)?
            .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'")))?;
        self.store.set_plugin_config(id, &config.to_string())?;
        if row.enabled && row.status == "active" {
            let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
            let row = self.store.plugin(id)?.unwrap_or(row);
            self.load_row(&row)?;
        }
        self.info(id)
    }

    /// What the API shows about one plugin.
    pub fn info(&self, id: &str) -> Result<PluginInfo, LifecycleError> {
        let row = self
            .store
            .plugin(id)?
            .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'")))?;
        Ok(self.info_of(row))
    }

    fn info_of(&self, row: PluginRow) -> PluginInfo {
        let active = self.active(&row.id);
        let versions = self
            .store
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
            status: row.status,
            error: row.error,
        }
    }

    /// Every installed plugin, and components that were refused without being installed
    /// (status `rejected`, with the reason in `last_attempt`).
    pub fn list(&self) -> Result<Vec<PluginInfo>, LifecycleError> {
        let mut out: Vec<PluginInfo> = self
            .store
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
            if a.error.is_some() && !out.iter().any(|p| p.id == id) {
                out.push(PluginInfo {
                    id,
                    version: a.version.clone().unwrap_or_default(),
                    enabled: false,
                    status: "rejected".into(),
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

    fn require_active(&self, id: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        self.active(id).ok_or_else(|| {
            let why = match self.store.plugin(id) {
                Ok(Some(row)) => format!(
                    "plugin '{id}' is {}{}",
                    row.status,
                    row.error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
                _ => format!("no plugin '{id}' is installed"),
            };
            CallError::Unavailable(why)
        })
    }

    /// Asks a plugin one of the queries its manifest declares.
    pub fn ask(
        &self,
        id: &str,
        query: &str,
        args: &str,
        ctx: CallCtx,
    ) -> Result<String, CallError> {
        let p = self.require_active(id)?;
        if !p.manifest.queries.iter().any(|q| q.name == query) {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' answers no query '{query}'"
            ))));
        }
        let args = args.to_string();
        p.call(&self.arc(), ctx, |i, s| {
            i.qingguan_plugin_guest().call_answer(s, query, &args)
        })
    }

    /// Runs a record action a plugin declares for the record's entity type.
    pub fn action(
        &self,
        id: &str,
        name: &str,
        entity: &str,
        record: i64,
        input: &str,
        ctx: CallCtx,
    ) -> Result<String, CallError> {
        let p = self.require_active(id)?;
        if !p
            .manifest
            .actions
            .iter()
            .any(|a| a.name == name && a.entity == entity)
        {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' has no action '{name}' on '{entity}'"
            ))));
        }
        let input = input.to_string();
        p.call(&self.arc(), ctx, |i, s| {
            i.qingguan_plugin_guest()
                .call_action(s, name, entity, record, &input)
        })
    }

    /// Serves a request to a plugin route, if the manifest declares one that matches.
    pub fn http(
        &self,
        id: &str,
        req: wit::HttpRequest,
        ctx: CallCtx,
    ) -> Result<wit::HttpResponse, CallError> {
        let p = self.require_active(id)?;
        let declared = p.manifest.routes.iter().any(|r| {
            r.method.eq_ignore_ascii_case(&req.method)
                && match r.path.strip_suffix("/*") {
                    Some(prefix) => {
                        req.path == prefix || req.path.starts_with(&format!("{prefix}/"))
                    }
                    None => r.path == req.path,
                }
        });
        if !declared {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' has no route {} {}",
                req.method, req.path
            ))));
        }
        p.call(&self.arc(), ctx, |i, s| {
            i.qingguan_plugin_guest().call_http(s, &req)
        })
    }

    /// Calls one of a plugin's routes as an API client does: a JSON body, `Accept:
    /// application/json`, the answer parsed as JSON. A status other than 200 is an error
    /// naming it (used by the demo seeding and the benchmarks).
    pub fn call_json(
        &self,
        id: &str,
        method: &str,
        path_and_query: &str,
        body: &serde_json::Value,
        ctx: CallCtx,
    ) -> Result<serde_json::Value, CallError> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let req = wit::HttpRequest {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("accept".into(), "application/json".into()),
            ],
            body: body.to_string().into_bytes(),
        };
        let resp = self.http(id, req, ctx)?;
        let text = String::from_utf8_lossy(&resp.body);
        if resp.status != 200 {
            return Err(CallError::Plugin(PluginFailure::Failed(format!(
                "{method} {path_and_query} answered {}: {text}",
                resp.status
            ))));
        }
        serde_json::from_str(&text).map_err(|e| {
            CallError::Plugin(PluginFailure::Failed(format!(
                "{method} {path_and_query} answered invalid JSON: {e}"
            )))
        })
    }

    /// Runs a job now.
    pub fn run_job(&self, id: &str, name: &str) -> Result<(), CallError> {
        let p = self.require_active(id)?;
        if !p.manifest.jobs.iter().any(|j| j.name == name) {
            return Err(CallError::Plugin(PluginFailure::NotFound(format!(
                "plugin '{id}' has no job '{name}'"
            ))));
        }
        p.call(&self.arc(), CallCtx::system(), |i, s| {
            i.qingguan_plugin_guest().call_job(s, name)
        })
    }

    /// Jobs of active plugins: `(plugin, job, interval)`.
    pub fn jobs(&self) -> Vec<(String, String, u64)> {
        self.active_list()
            .iter()
            .flat_map(|p| {
                p.manifest
                    .jobs
                    .iter()
                    .map(|j| (p.manifest.id.clone(), j.name.clone(), j.every_seconds))
            })
            .collect()
    }

    /// Delivers events emitted by a call to the plugins subscribed to them.
    pub fn dispatch_events(&self, from: &str, events: Vec<(String, String)>) {
        if events.is_empty() {
            return;
        }
        let me = self.arc();
        for (name, payload) in events {
            tracing::debug!(plugin = from, event = %name, "event");
            for p in self.active_list().iter() {
                if p.manifest.events.iter().any(|e| e.name == name) {
                    if let Err(e) = p.call(&me, CallCtx::system(), |i, s| {
                        i.qingguan_plugin_guest().call_event(s, &name, &payload)
                    }) {
                        tracing::warn!(plugin = %p.manifest.id, event = %name, error = %e, "event handler failed");
                    }
                }
            }
        }
    }

    /// Calls a plugin's `health` export on a fresh instance (as every call runs).
    pub fn call_health(&self, id: &str) -> Result<(), CallError> {
        let p = self.require_active(id)?;
        p.call(&self.arc(), CallCtx::system(), |i, s| {
            i.qingguan_plugin_guest().call_health(s)
        })
    }

    /// Benchmark baseline: `n` calls of the no-op `health` export on one instance that is
    /// reused (no per-call instantiation, no limits reset). Returns the total time.
    #[doc(hidden)]
    pub fn bench_raw_health(&self, id: &str, n: u32) -> anyhow::Result<std::time::Duration> {
        let p = self.require_active(id)?;
        let file = self.file_for(&p.manifest.id, &p.manifest.version.to_string(), &p.sha256);
        let bytes = std::fs::read(file)?;
        let pre = self.compile(&bytes, &p.manifest)?;
        let state = HostState::new(
            p.clone(),
            self.arc(),
            CallCtx::system(),
            self.engine.limits.memory_bytes,
            Default::default(),
        );
        let mut store = wasmtime::Store::new(&self.engine.engine, state);
        store.set_epoch_deadline(u64::MAX / 2);
        let inst = pre
            .instantiate(&mut store)
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let started = std::time::Instant::now();
        for _ in 0..n {
            let _ = inst
                .qingguan_plugin_guest()
                .call_health(&mut store)
                .map_err(|e| anyhow::anyhow!("{e:#}"))?;
        }
        Ok(started.elapsed())
    }
}

/// Connects the core's write hooks to the plugins that subscribe to them.
struct HooksBridge(Weak<PluginManager>);

fn wit_op(op: WriteOp) -> wit::WriteOp {
    match op {
        WriteOp::Create => wit::WriteOp::Create,
        WriteOp::Update => wit::WriteOp::Update,
        WriteOp::Delete => wit::WriteOp::Delete,
    }
}

fn hook_error(e: CallError) -> HookError {
    match e {
        CallError::Plugin(PluginFailure::Invalid(message, fields)) => HookError::Rejected {
            message,
            fields: fields.into_iter().collect(),
        },
        CallError::Plugin(other) => HookError::Rejected {
            message: other.to_string(),
            fields: Default::default(),
        },
        other => HookError::Failed(other.to_string()),
    }
}

impl HooksBridge {
    fn ctx(ev: &WriteEvent<'_>) -> CallCtx {
        CallCtx {
            user: ev.user_id.map(CallUser::Id).unwrap_or(CallUser::None),
            locale: qingguan_core::Locale::En,
            asked_by: ev.via.map(str::to_string),
        }
    }
}

fn before_json(r: Option<&Record>) -> Option<wit::EntityRecord> {
    r.map(record_to_wit)
}

impl Hooks for HooksBridge {
    fn before_write(
        &self,
        ev: &WriteEvent<'_>,
        values: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), HookError> {
        let Some(m) = self.0.upgrade() else {
            return Ok(());
        };
        let event = match ev.op {
            WriteOp::Create => HookEvent::BeforeCreate,
            _ => HookEvent::BeforeUpdate,
        };
        let list = m.active_list();
        let subscribed: Vec<&Arc<LoadedPlugin>> = list
            .iter()
            .filter(|p| p.manifest.hooks_on(ev.entity, event))
            .collect();
        if subscribed.is_empty() {
            return Ok(());
        }
        let before = before_json(ev.before);
        for p in subscribed {
            let json = serde_json::Value::Object(values.clone()).to_string();
            let out = p
                .call(&m, Self::ctx(ev), |i, s| {
                    i.qingguan_plugin_guest().call_before_write(
                        s,
                        wit_op(ev.op),
                        ev.entity,
                        before.as_ref(),
                        &json,
                    )
                })
                .map_err(hook_error)?;
            if let Some(new) = out {
                match serde_json::from_str(&new) {
                    Ok(serde_json::Value::Object(obj)) => *values = obj,
                    _ => {
                        return Err(HookError::Failed(format!(
                            "plugin '{}' returned fields that are not a JSON object",
                            p.manifest.id
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    fn before_delete(&self, ev: &WriteEvent<'_>) -> Result<(), HookError> {
        let Some(m) = self.0.upgrade() else {
            return Ok(());
        };
        let list = m.active_list();
        let before = before_json(ev.before);
        for p in list
            .iter()
            .filter(|p| p.manifest.hooks_on(ev.entity, HookEvent::BeforeDelete))
        {
            let fields = before
                .as_ref()
                .map(|b| b.fields.clone())
                .unwrap_or_else(|| "{}".into());
            p.call(&m, Self::ctx(ev), |i, s| {
                i.qingguan_plugin_guest().call_before_write(
                    s,
                    wit::WriteOp::Delete,
                    ev.entity,
                    before.as_ref(),
                    &fields,
                )
            })
            .map_err(hook_error)?;
        }
        Ok(())
    }

    fn after_write(&self, ev: &WriteEvent<'_>, record: &Record) {
        let Some(m) = self.0.upgrade() else { return };
        let event = match ev.op {
            WriteOp::Create => HookEvent::AfterCreate,
            WriteOp::Update => HookEvent::AfterUpdate,
            WriteOp::Delete => HookEvent::AfterDelete,
        };
        let list = m.active_list();
        let subscribed: Vec<&Arc<LoadedPlugin>> = list
            .iter()
            .filter(|p| p.manifest.hooks_on(ev.entity, event))
            .collect();
        if subscribed.is_empty() {
            return;
        }
        let rec = record_to_wit(record);
        for p in subscribed {
            if let Err(e) = p.call(&m, Self::ctx(ev), |i, s| {
                i.qingguan_plugin_guest()
                    .call_after_write(s, wit_op(ev.op), ev.entity, &rec)
            }) {
                tracing::warn!(plugin = %p.manifest.id, entity = ev.entity, error = %e, "after-write hook failed");
            }
        }
    }
}
