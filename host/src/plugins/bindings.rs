//! Host-side bindings of the `qingguan:plugin@1.0.0` world, generated from the SDK's WIT.

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit/v1.0.0",
    world: "plugin",
});

pub use self::exports::qingguan::plugin::guest::Guest;
pub use self::qingguan::plugin::types as wit;
