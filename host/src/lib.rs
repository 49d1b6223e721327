//! The `qingguan` binary's library: the HTTP API, the web UI, the server, the CLI and the
//! demo, on top of the core (`qingguan-core`) and the plugin runtime (`qingguan-runtime`).
//! This crate maps between core types, JSON DTOs and WIT types; neither the core nor the
//! runtime knows anything of HTTP.
//!
//! Layers, lowest first (no module imports from a layer above it; `tests/it/layers.rs`
//! checks it): `caller`, `error`, `builtin`, `proxies` → `throttle` → `state` → `api` → `ui` → `app`,
//! `background`, `server`, `demo`, `scaffold`, `cli`.

mod api;
mod app;
mod background;
mod backup;
mod builtin;
mod bulk;
mod caller;
pub mod cli;
mod demo;
mod error;
mod import;
mod invitations;
mod mail;
mod migrate;
mod peers;
mod plugin_outbound;
mod plugin_upload;
mod proxies;
mod scaffold;
pub mod server;
mod spreadsheet;
mod standing;
mod state;
mod throttle;
mod ui;
mod web_args;
mod webhook_sender;

pub use app::app;
pub use mail::MailSettings;
pub use proxies::TrustedProxies;
pub use state::{AppState, Config};
pub use throttle::LoginLimits;
