//! The first-party plugins built into this binary (sales, growth_rule, appraisal, inventory,
//! finance, oa):
//! their components, their manifests, and installing one by name — from the CLI
//! (`plugin install --builtin`), the plugins page and the demo.

use qingguan_runtime::{InstallOptions, LifecycleError, Manifest, PluginInfo, PluginManager};
use std::sync::OnceLock;

/// The first-party plugins built into this binary: `(id, component)`, in an order that
/// installs each after what it depends on.
pub const FIRST_PARTY: &[(&str, &[u8])] = &[
    (
        "sales",
        include_bytes!(concat!(
            env!("QINGGUAN_FIRST_PARTY"),
            "/qingguan_sales.wasm"
        )),
    ),
    (
        "growth_rule",
        include_bytes!(concat!(
            env!("QINGGUAN_FIRST_PARTY"),
            "/qingguan_growth_rule.wasm"
        )),
    ),
    (
        "appraisal",
        include_bytes!(concat!(
            env!("QINGGUAN_FIRST_PARTY"),
            "/qingguan_appraisal.wasm"
        )),
    ),
    (
        "inventory",
        include_bytes!(concat!(
            env!("QINGGUAN_FIRST_PARTY"),
            "/qingguan_inventory.wasm"
        )),
    ),
    (
        "finance",
        include_bytes!(concat!(
            env!("QINGGUAN_FIRST_PARTY"),
            "/qingguan_finance.wasm"
        )),
    ),
    (
        "oa",
        include_bytes!(concat!(env!("QINGGUAN_FIRST_PARTY"), "/qingguan_oa.wasm")),
    ),
];

/// The ids of the built-in plugins, in install order.
pub fn names() -> Vec<&'static str> {
    FIRST_PARTY.iter().map(|(id, _)| *id).collect()
}

/// The component of the built-in plugin `name` (`growth-rule` is taken for `growth_rule`).
pub fn component(name: &str) -> Option<&'static [u8]> {
    let name = name.trim().replace('-', "_");
    FIRST_PARTY
        .iter()
        .find(|(id, _)| *id == name)
        .map(|(_, bytes)| *bytes)
}

/// The manifests of the built-in plugins, in install order (read once from the components).
pub fn manifests() -> &'static [Manifest] {
    static MANIFESTS: OnceLock<Vec<Manifest>> = OnceLock::new();
    MANIFESTS.get_or_init(|| {
        FIRST_PARTY
            .iter()
            .filter_map(|(_, bytes)| Manifest::from_component(bytes).ok())
            .collect()
    })
}

/// Why a built-in plugin was not installed.
#[derive(Debug, thiserror::Error)]
pub enum BuiltinError {
    /// No built-in plugin has that name.
    #[error("no built-in plugin '{name}' (built in: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// The runtime refused it (approval, dependency, its own install call…).
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
}

/// Installs (or upgrades to) the built-in plugin `name`, with its capabilities approved only
/// when `approve` — the same rule as an uploaded component.
pub fn install(
    plugins: &PluginManager,
    name: &str,
    approve: bool,
    by: Option<i64>,
) -> Result<PluginInfo, BuiltinError> {
    let bytes = component(name).ok_or_else(|| BuiltinError::Unknown {
        name: name.to_string(),
        known: names().join(", "),
    })?;
    Ok(plugins.install(
        bytes,
        InstallOptions {
            approve,
            source: Some(format!("built-in {}", name.trim().replace('-', "_"))),
            by,
        },
    )?)
}

/// Installs (or upgrades to) every built-in plugin, approving their capabilities (the demo).
pub fn install_all(plugins: &PluginManager) -> anyhow::Result<()> {
    for (id, _) in FIRST_PARTY {
        install(plugins, id, true, None)
            .map_err(|e| anyhow::anyhow!("cannot install the built-in '{id}' plugin: {e}"))?;
    }
    Ok(())
}
