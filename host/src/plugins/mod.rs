//! The plugin runtime: sandboxed WebAssembly components loaded from manifests, called with
//! fresh instances under time, memory and output limits, and managed (install, upgrade,
//! enable, disable, remove) while the server keeps serving.

pub mod background;
pub mod bindings;
pub mod engine;
pub mod host_calls;
pub mod loaded;
pub mod manager;
pub mod manifest;
pub mod scaffold;
pub mod watch;

pub use engine::Limits;
pub use loaded::CallError;
pub use manager::{InstallOptions, PluginInfo, PluginManager};
pub use manifest::{Manifest, ManifestError, HOST_SDK};
