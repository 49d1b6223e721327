//! A newer version of the good plugin: adds a field. Same code as `good`, another manifest.

#[path = "../../good/src/plugin.rs"]
mod plugin;
