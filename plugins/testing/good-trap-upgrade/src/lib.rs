//! Traps in upgrade(). Same code as `good`, another manifest.

#[path = "../../good/src/plugin.rs"]
mod plugin;
