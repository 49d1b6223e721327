//! The `qingguan` binary's library: the HTTP API, the server, the CLI and the demo. This crate
//! maps between core types and JSON; the core itself knows nothing of HTTP.

pub mod api;
pub mod app;
pub mod cli;
pub mod demo;
pub mod plugins;
pub mod server;
pub mod state;
pub mod testing;
pub mod ui;

pub use app::app;
pub use state::{AppState, Config};
