//! A test host for plugin authors: run a compiled plugin against an in-process Qingguan with
//! a temporary database, from a normal `cargo test` (see the crate `qingguan plugin new` makes).
//!
//! ```no_run
//! use qingguan_runtime::testing::{build_plugin, TestHost};
//! let wasm = build_plugin(env!("CARGO_MANIFEST_DIR")).unwrap();
//! let host = TestHost::new().unwrap();
//! host.install(&wasm).unwrap();
//! let rec = host.create("customer", serde_json::json!({"name": "Acme", "kind": "company", "status": "lead"})).unwrap();
//! ```

use crate::context::CallCtx;
use crate::exchange::HttpRequest;
use crate::{InstallOptions, Limits, PluginInfo, PluginManager};
use anyhow::{anyhow, bail, Context};
use qingguan_core::{Access, NewUser, Store, StoreOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// Builds the plugin crate at `crate_dir` for `wasm32-wasip2` (release) and returns the
/// component's path. Uses `target/wasm` inside the crate so that it does not wait on the
/// `cargo test` that runs it.
pub fn build_plugin(crate_dir: impl AsRef<Path>) -> anyhow::Result<PathBuf> {
    let dir = crate_dir.as_ref();
    build_plugin_in(dir, dir.join("target").join("wasm"))
}

/// [`build_plugin`] into the cargo target directory `target_dir`: one that other plugins
/// were built in reuses the dependencies they share (not one the calling `cargo` holds).
pub fn build_plugin_in(
    crate_dir: impl AsRef<Path>,
    target_dir: impl AsRef<Path>,
) -> anyhow::Result<PathBuf> {
    let dir = crate_dir.as_ref();
    let target_dir = target_dir.as_ref();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).context("read Cargo.toml")?;
    let table: toml::Table = toml::from_str(&manifest).context("parse Cargo.toml")?;
    let name = table
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .ok_or_else(|| anyhow!("Cargo.toml has no package name"))?
        .replace('-', "_");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--lib",
            "--target-dir",
        ])
        .arg(target_dir);
    qingguan_build_support::without_outer_cargo_env(&mut cmd);
    let status = cmd.status().context("run cargo")?;
    if !status.success() {
        bail!("building the plugin failed");
    }
    let wasm = target_dir
        .join("wasm32-wasip2")
        .join("release")
        .join(format!("{name}.wasm"));
    if !wasm.exists() {
        bail!("{} was not produced", wasm.display());
    }
    Ok(wasm)
}

/// An in-process Qingguan: a store in a temporary directory and the plugin runtime.
#[derive(Debug)]
pub struct TestHost {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    plugins: Arc<PluginManager>,
    admin: Access,
}

impl TestHost {
    /// A fresh host with one administrator.
    pub fn new() -> anyhow::Result<TestHost> {
        Self::with_limits(Limits::default())
    }

    /// A fresh host with custom call limits.
    pub fn with_limits(limits: Limits) -> anyhow::Result<TestHost> {
        let dir = tempfile::tempdir()?;
        let store = Arc::new(Store::open(StoreOptions::new(
            dir.path().join("qingguan.db"),
        ))?);
        let plugins = PluginManager::new(store.clone(), &dir.path().join("plugins"), limits)?;
        let admin = store.create_user(
            &Access::system(),
            &NewUser {
                username: "admin".into(),
                display_name: None,
                password: "test-admin".into(),
                invite: false,
                role: "admin".into(),
                team: Some("hq".into()),
                manager: None,
                email: None,
                locale: None,
            },
            false,
        )?;
        let (admin, _) = store.access_for(admin.id)?;
        Ok(TestHost {
            _dir: dir,
            store,
            plugins,
            admin,
        })
    }

    /// The store (records, schema, users).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The plugin runtime.
    pub fn plugins(&self) -> &Arc<PluginManager> {
        &self.plugins
    }

    /// The administrator's access.
    pub fn admin(&self) -> &Access {
        &self.admin
    }

    /// Installs (or upgrades) a component, approving its capabilities.
    pub fn install(&self, wasm: impl AsRef<Path>) -> anyhow::Result<PluginInfo> {
        let bytes = std::fs::read(wasm.as_ref())
            .with_context(|| format!("read {}", wasm.as_ref().display()))?;
        Ok(self.plugins.install(
            &bytes,
            InstallOptions {
                approve: true,
                source: None,
                by: None,
            },
        )?)
    }

    /// Adds a user and returns their access.
    pub fn user(&self, username: &str, role: &str, team: &str) -> anyhow::Result<Access> {
        let r = self.store.create_user(
            &Access::system(),
            &NewUser {
                username: username.into(),
                display_name: None,
                password: "test-password".into(),
                invite: false,
                role: role.into(),
                team: Some(team.into()),
                manager: None,
                email: None,
                locale: None,
            },
            false,
        )?;
        Ok(self.store.access_for(r.id)?.0)
    }

    /// Creates a record as the administrator (plugin hooks run) and returns it as the API would.
    pub fn create(&self, entity: &str, fields: Value) -> Result<Value, qingguan_core::Error> {
        self.create_as(&self.admin, entity, fields)
    }

    /// Creates a record as a user.
    pub fn create_as(
        &self,
        access: &Access,
        entity: &str,
        fields: Value,
    ) -> Result<Value, qingguan_core::Error> {
        let map = fields.as_object().cloned().unwrap_or_default();
        let r = self.store.create(access, entity, &map)?;
        let schema = self.store.schema();
        Ok(schema
            .entity(entity)
            .map(|e| r.to_json(e))
            .unwrap_or_default())
    }

    fn ctx(&self, access: &Access) -> anyhow::Result<CallCtx> {
        let id = access.user_id.ok_or_else(|| anyhow!("no user"))?;
        Ok(CallCtx::for_user(&self.store, id)?)
    }

    /// Calls a plugin route as the administrator: `(status, body)`.
    pub fn http(
        &self,
        plugin: &str,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let req = HttpRequest {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: vec![],
            body: body.to_vec(),
        };
        let r = self
            .plugins
            .calls()
            .http(plugin, req, self.ctx(&self.admin)?)?;
        Ok((r.status, r.body))
    }

    /// Asks a plugin a query as the administrator.
    pub fn ask(&self, plugin: &str, query: &str, args: Value) -> anyhow::Result<Value> {
        let out =
            self.plugins
                .calls()
                .ask(plugin, query, &args.to_string(), self.ctx(&self.admin)?)?;
        Ok(serde_json::from_str(&out)?)
    }

    /// Runs a record action as the administrator.
    pub fn action(
        &self,
        plugin: &str,
        name: &str,
        entity: &str,
        id: i64,
        input: Value,
    ) -> anyhow::Result<Value> {
        let out = self.plugins.calls().action(
            plugin,
            name,
            entity,
            id,
            &input.to_string(),
            self.ctx(&self.admin)?,
        )?;
        Ok(serde_json::from_str(&out)?)
    }

    /// Runs a job to its end (all its steps) and returns the finished run.
    pub fn run_job(&self, plugin: &str, job: &str) -> anyhow::Result<qingguan_core::JobRun> {
        Ok(self.plugins.calls().run_job(plugin, job, false)?)
    }
}
