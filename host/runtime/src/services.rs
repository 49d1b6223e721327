//! The narrow interface through which a running call reaches the rest of the runtime: the
//! store, the engine's limits, other plugins' queries, events and fault reporting. A call
//! never holds the lifecycle manager.

use crate::context::CallCtx;
use crate::engine::PluginEngine;
use crate::failure::CallError;
use crate::outbound::Outbound;
use qingguan_core::Store;
use std::sync::Arc;

/// An event a call emitted: `(name, payload)`, delivered after the call succeeds.
pub type Event = (String, String);

/// What a call may use of the runtime around it.
pub trait CallServices: Send + Sync + 'static {
    /// The record store.
    fn store(&self) -> &Arc<Store>;
    /// The engine and its limits.
    fn engine(&self) -> &PluginEngine;
    /// Asks another active plugin one of its declared queries.
    fn ask(&self, plugin: &str, query: &str, args: &str, ctx: CallCtx)
        -> Result<String, CallError>;
    /// Delivers the events of a successful call to their subscribers, on behalf of the user
    /// of the call that emitted them.
    fn deliver_events(&self, from: &str, events: Vec<Event>, emitted_in: CallCtx);
    /// Takes a plugin out of service after repeated faults of its own.
    fn disable_faulty(&self, plugin: &str, reason: &str);
    /// Sends plugins' outbound HTTP requests, when the embedding program provides a sender.
    fn outbound(&self) -> Option<Arc<dyn Outbound>>;
}
