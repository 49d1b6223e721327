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
    /// Who asked (a user id; none: the command line, the plugins folder, the demo), for the
    /// audit log.
    pub by: Option<i64>,
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

/// The file name a kept version is cached under in its plugin's folder, if its parts are
/// plain: an id and version of letters, digits and `-_.+` not starting with a dot (no path
/// elsewhere), and a hash of 64 hex digits.
fn kept_file_name(id: &str, version: &str, sha: &str) -> Option<String> {
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
    };
    let hash = sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit());
    (plain(id) && plain(version) && hash).then(|| format!("{version}-{}.wasm", &sha[..12]))
}

pub(crate) fn fault_to_lifecycle(what: &str, e: CallError) -> LifecycleError {
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

    /// Sets the sender of plugins' outbound HTTP requests (contract 1.3 `fetch`); without one,
    /// `fetch` fails saying this host sends none.
    pub fn set_outbound(&self, sender: Option<Arc<dyn crate::outbound::Outbound>>) {
        self.active.set_outbound(sender);
    }

    /// Records a lifecycle step in the administrators' audit log (a failure to record is
    /// logged; the step stands).
    pub(crate) fn audit(&self, by: Option<i64>, action: &str, id: &str, detail: serde_json::Value) {
        if let Err(e) = self.store().audit(by, "", action, id, &detail) {
            tracing::warn!(plugin = id, error = %e, "could not record {action} in the audit log");
        }
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

    /// The file a kept version is cached in. Its parts come from database rows, so they are
    /// checked first: an id or version that could name a path elsewhere, or a hash that is
    /// not 64 hex digits, is refused.
    pub(crate) fn file_for(
        &self,
        id: &str,
        version: &str,
        sha: &str,
    ) -> Result<PathBuf, LifecycleError> {
        let name = kept_file_name(id, version, sha).ok_or_else(|| {
            LifecycleError::Failed(format!(
                "a stored plugin version names no file this host may keep ({id:?} {version:?})"
            ))
        })?;
        Ok(self.files.join(id).join(name))
    }

    /// The bytes of a kept version: from this host's file if it has one that matches its
    /// hash (and kept in the database too, if an older version of qingguan installed it),
    /// else from the database — where every host's installs keep them — written to the file
    /// for next time.
    pub(crate) fn component_bytes(
        &self,
        id: &str,
        version: &str,
        sha: &str,
    ) -> Result<Vec<u8>, LifecycleError> {
        let file = self.file_for(id, version, sha)?;
        if let Ok(bytes) = std::fs::read(&file) {
            if sha256_hex(&bytes) == sha {
                // Kept in the database too, and a copy there that is damaged is replaced.
                let kept = self.store().plugin_component(sha)?;
                if kept.is_none_or(|k| sha256_hex(&k) != sha) {
                    self.store().put_plugin_component(sha, &bytes)?;
                }
                return Ok(bytes);
            }
            tracing::warn!(file = %file.display(), "a plugin file does not match its hash; reading the database's copy");
        }
        let bytes = self.store().plugin_component(sha)?.ok_or_else(|| {
            LifecycleError::Io(format!(
                "{id} {version}: neither {} nor the database holds it",
                file.display()
            ))
        })?;
        if sha256_hex(&bytes) != sha {
            return Err(LifecycleError::Failed(format!(
                "the database's copy of {id} {version} does not match its recorded hash"
            )));
        }
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&file, &bytes));
        if let Err(e) = written {
            tracing::warn!(file = %file.display(), error = %e, "cannot keep a plugin file");
        }
        Ok(bytes)
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

    /// Returns a plugin to the version that was active before the current one (versions are
    /// kept). Refused if a dependent's range or a stored field type would not fit.
    pub fn rollback(&self, id: &str, by: Option<i64>) -> Result<PluginInfo, LifecycleError> {
        let guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
        let row = self
            .store()
            .plugin(id)?
            .ok_or_else(|| LifecycleError::NotFound(format!("no plugin '{id}'")))?;
        let row_version = row.version.clone();
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
        let bytes = self.component_bytes(id, &target.version, &target.sha256)?;
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
        self.audit(
            by,
            "plugin_rolled_back",
            id,
            serde_json::json!({"from": row_version, "to": target.version}),
        );
        drop(guard);
        self.info(id)
    }

    /// Enables a plugin: loads its recorded version and shows its entity types again.
    pub fn enable(&self, id: &str, by: Option<i64>) -> Result<PluginInfo, LifecycleError> {
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
        self.audit(
            by,
            "plugin_enabled",
            id,
            serde_json::json!({"version": row.version}),
        );
        drop(guard);
        self.info(id)
    }

    /// Disables a plugin: new calls stop reaching it, its entity types become read-only and
    /// leave menus; data stays. Refused while enabled plugins depend on it.
    pub fn disable(&self, id: &str, by: Option<i64>) -> Result<PluginInfo, LifecycleError> {
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
        self.audit(by, "plugin_disabled", id, serde_json::json!({}));
        drop(guard);
        self.info(id)
    }

    /// Removes a plugin (its `uninstall` runs first). Data is kept unless `purge`.
    pub fn remove(&self, id: &str, purge: bool, by: Option<i64>) -> Result<(), LifecycleError> {
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
        self.audit(
            by,
            "plugin_removed",
            id,
            serde_json::json!({"purge": purge}),
        );
        Ok(())
    }

    /// Replaces a plugin's configuration (a JSON object); takes effect for new calls.
    pub fn set_config(
        &self,
        id: &str,
        config: &serde_json::Value,
        by: Option<i64>,
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
        // The keys only: a configuration may hold secrets.
        let keys: Vec<&String> = config
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        self.audit(
            by,
            "plugin_configured",
            id,
            serde_json::json!({"keys": keys}),
        );
        if row.enabled && PluginStatus::parse(&row.status) == PluginStatus::Active {
            let _guard = self.lifecycle.lock().unwrap_or_else(|e| e.into_inner());
            let row = self.store().plugin(id)?.unwrap_or(row);
            self.load_row(&row)?;
        }
        self.info(id)
    }
}

#[cfg(test)]
mod tests {
    use super::kept_file_name;

    #[test]
    fn a_kept_file_is_named_only_from_plain_parts() {
        let sha = "ab".repeat(32);
        assert_eq!(
            kept_file_name("sales", "1.2.0", &sha).as_deref(),
            Some("1.2.0-abababababab.wasm")
        );
        for (id, version, hash) in [
            ("../etc", "1.0.0", sha.as_str()),
            ("sales", "../../x", sha.as_str()),
            ("sales", "1.0/0", sha.as_str()),
            (".hidden", "1.0.0", sha.as_str()),
            ("", "1.0.0", sha.as_str()),
            ("sales", "1.0.0", "abc"),
            ("sales", "1.0.0", &"é".repeat(32)),
            ("sales", "1.0.0", &"zz".repeat(32)),
        ] {
            assert_eq!(
                kept_file_name(id, version, hash),
                None,
                "{id:?} {version:?} {hash:?}"
            );
        }
    }
}
