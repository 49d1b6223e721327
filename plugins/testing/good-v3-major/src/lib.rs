//! A new major version (2.0.0). Same code as `good`, another manifest.

#[path = "../../good/src/plugin.rs"]
mod plugin;
