//! Migrates 3,000 records in upgrade() (for the crash test). Same code as `good`, another manifest.

#[path = "../../good/src/plugin.rs"]
mod plugin;
