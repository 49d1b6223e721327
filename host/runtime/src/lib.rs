//! The plugin runtime: sandboxed WebAssembly components loaded from manifests, called with
//! fresh instances under time, memory and output limits, and managed (install, upgrade,
//! rollback, enable, disable, remove) while the server keeps serving.
//!
//! It knows nothing of HTTP, the web UI or OpenAPI (its `Cargo.toml` has no axum, no
//! minijinja, no utoipa): the host's API and UI sit on top of it. Layers, lowest first —
//! each module imports only from layers below it:
//!
//! 1. `manifest`, `capabilities`, `outbound`, `inspect`, `pack`, `engine`, `exchange`, `guest_output`, `job_claims`, `status`, `context`, `failure`, `grant`, `deps`
//! 2. `services` — the narrow interface a running call uses to reach the runtime
//! 3. `host_calls` (and `outreach`, contract 1.3's notices and outbound HTTP) — every import a
//!    plugin may call, in the runtime's types, the capability check in front of each
//! 4. `contract` — one module per released WIT version (`v1_1`, `v1_2`, `v1_3`): generated bindings,
//!    its imports adapted to `host_calls`, its exports called in the runtime's types
//! 5. `instance` — a pre-instantiated version and the machinery of one call
//! 6. `active` + `calls` + `jobs` — the active set and calls into it (jobs in resumable
//!    steps); `hooks` — the core's write hooks
//! 7. `lifecycle` + `install` + `reload` + `report` — install, upgrade, rollback, enable, disable,
//!    remove, sync with the database, and what is shown about a plugin (`info`, a plain type
//!    of layer 1); `watch` — the plugins folder

mod action_spec;
mod active;
#[cfg(feature = "bench")]
pub mod bench;
mod calls;
mod capabilities;
mod context;
mod contract;
mod deps;
mod engine;
mod exchange;
mod failure;
mod grant;
mod guest_output;
mod hooks;
mod host_calls;
mod info;
pub mod inspect;
mod install;
mod instance;
mod job_claims;
mod jobs;
mod lifecycle;
pub mod manifest;
pub mod outbound;
mod outreach;
mod pack;
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
pub use exchange::{HttpRequest, HttpResponse, JobProgress};
pub use failure::{CallError, PluginFailure};
pub use grant::PluginGrant;
pub use info::{Attempt, PluginInfo};
pub use instance::LoadedPlugin;
pub use lifecycle::{InstallOptions, LifecycleError, PluginManager};
pub use manifest::{Manifest, ManifestError, HOST_SDK};
pub use pack::{pack, PackError};
pub use status::PluginStatus;
