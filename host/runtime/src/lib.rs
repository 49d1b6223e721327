//! The plugin runtime: sandboxed WebAssembly components loaded from manifests, called with
//! fresh instances under time, memory and output limits, and managed (install, upgrade,
//! rollback, enable, disable, remove) while the server keeps serving.
//!
//! It knows nothing of HTTP, the web UI or OpenAPI (its `Cargo.toml` has no axum, no
//! minijinja, no utoipa): the host's API and UI sit on top of it. Layers, lowest first —
//! each module imports only from layers below it:
//!
//! 1. `manifest`, `engine`, `bindings`, `status`, `context`, `failure`, `grant`, `deps`
//! 2. `services` — the narrow interface a running call uses to reach the runtime
//! 3. `host_calls` — every import a plugin may call, the capability check in front of each
//! 4. `instance` — a pre-instantiated version and the machinery of one call
//! 5. `active` + `calls` — the active set and calls into it; `hooks` — the core's write hooks
//! 6. `lifecycle` + `reload` + `report` — install, upgrade, rollback, enable, disable,
//!    remove, sync with the database, and what is shown about a plugin (`info`, a plain type
//!    of layer 1); `watch` — the plugins folder

mod active;
#[cfg(feature = "bench")]
pub mod bench;
pub mod bindings;
mod calls;
mod context;
mod deps;
mod engine;
mod failure;
mod grant;
mod hooks;
mod host_calls;
mod info;
mod instance;
mod lifecycle;
pub mod manifest;
mod reload;
mod report;
mod services;
mod status;
#[cfg(feature = "testing")]
pub mod testing;
pub mod watch;

pub use active::ActiveSet;
pub use context::{CallCtx, CallUser};
pub use engine::Limits;
pub use failure::{CallError, PluginFailure};
pub use grant::PluginGrant;
pub use info::{Attempt, PluginInfo};
pub use instance::LoadedPlugin;
pub use lifecycle::{InstallOptions, LifecycleError, PluginManager};
pub use manifest::{Manifest, ManifestError, HOST_SDK};
pub use status::PluginStatus;
