//! Host-side bindings of the `qingguan:plugin@1.1.0` world, generated from the SDK's WIT.
//! Plugins built against 1.0.0 link too: wasmtime matches semver-compatible interface
//! versions, and 1.1.0 only adds to 1.0.0.

wasmtime::component::bindgen!({
    path: "../../plugin-sdk/wit/v1.1.0",
    world: "plugin",
});

pub use self::exports::qingguan::plugin::guest::Guest;
pub use self::qingguan::plugin::types as wit;
