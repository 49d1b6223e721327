//! Fails its health check. Same code as `good`, another manifest.

#[path = "../../good/src/plugin.rs"]
mod plugin;
