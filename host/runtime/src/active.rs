//! The active set: the plugin versions new calls go to (swapped atomically; calls already
//! running keep the version they started on), and the services a running call may use.

use crate::context::CallCtx;
use crate::contract::{Guest, Out};
use crate::engine::PluginEngine;
use crate::failure::CallError;
use crate::instance::{LoadedPlugin, OutputSize};
use crate::job_claims::RunningJobs;
use crate::outbound::Outbound;
use crate::services::{CallServices, Event};
use crate::status::PluginStatus;
use qingguan_core::{Origin, Store};
use std::sync::{Arc, RwLock, Weak};

/// Active plugin versions and everything a call reaches. Shared by the lifecycle manager
/// (which swaps versions in and out), the hooks bridge and every running call.
pub struct ActiveSet {
    engine: PluginEngine,
    store: Arc<Store>,
    active: RwLock<Arc<Vec<Arc<LoadedPlugin>>>>,
    running_jobs: RunningJobs,
    outbound: RwLock<Option<Arc<dyn Outbound>>>,
    me: Weak<ActiveSet>,
}

impl std::fmt::Debug for ActiveSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveSet")
            .field("plugins", &self.list().len())
            .finish()
    }
}

impl ActiveSet {
    /// An empty set over a store and an engine.
    pub fn new(store: Arc<Store>, engine: PluginEngine) -> Arc<ActiveSet> {
        Arc::new_cyclic(|me| ActiveSet {
            engine,
            store,
            active: RwLock::new(Arc::new(Vec::new())),
            running_jobs: RunningJobs::default(),
            outbound: RwLock::new(None),
            me: me.clone(),
        })
    }

    fn services(&self) -> Arc<dyn CallServices> {
        self.me()
    }

    pub(crate) fn me(&self) -> Arc<ActiveSet> {
        self.me.upgrade().expect("active set alive while in use")
    }

    pub(crate) fn running_jobs(&self) -> &RunningJobs {
        &self.running_jobs
    }

    /// The record store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The engine and its limits.
    pub fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// Sets the sender of plugins' outbound HTTP requests (none: `fetch` fails, saying so).
    pub fn set_outbound(&self, sender: Option<Arc<dyn Outbound>>) {
        *self.outbound.write().unwrap_or_else(|e| e.into_inner()) = sender;
    }

    /// Active plugin versions, in load (dependency) order.
    pub fn list(&self) -> Arc<Vec<Arc<LoadedPlugin>>> {
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The active version of a plugin.
    pub fn get(&self, id: &str) -> Option<Arc<LoadedPlugin>> {
        self.list().iter().find(|p| p.manifest.id == id).cloned()
    }

    /// Puts `p` in place of plugin `replace` (keeping its position), or removes `replace`.
    pub(crate) fn swap(&self, p: Option<Arc<LoadedPlugin>>, replace: &str) {
        let mut guard = self.active.write().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<Arc<LoadedPlugin>> = guard
            .iter()
            .filter(|x| x.manifest.id != replace)
            .cloned()
            .collect();
        if let Some(p) = p {
            match guard.iter().position(|x| x.manifest.id == replace) {
                Some(i) if i <= list.len() => list.insert(i, p),
                _ => list.push(p),
            }
        }
        *guard = Arc::new(list);
    }

    /// The active version of a plugin, or why there is none.
    pub(crate) fn require(&self, id: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        self.get(id).ok_or_else(|| {
            let why = match self.store.plugin(id) {
                Ok(Some(row)) => format!(
                    "plugin '{id}' is {}{}",
                    PluginStatus::parse(&row.status).as_str(),
                    row.error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
                _ => format!("no plugin '{id}' is installed"),
            };
            CallError::Unavailable(why)
        })
    }

    /// Runs one call of `p` (which need not be active: installs call a version before the
    /// swap).
    pub(crate) fn call<R: OutputSize>(
        &self,
        p: &Arc<LoadedPlugin>,
        ctx: CallCtx,
        f: impl FnOnce(&Guest, &mut wasmtime::Store<crate::host_calls::HostState>) -> Out<R>,
    ) -> Result<R, CallError> {
        p.call(&self.services(), ctx, f)
    }

    /// Takes a plugin that keeps faulting out of service, recording why; its entity types
    /// become read-only.
    pub fn auto_disable(&self, id: &str, reason: &str) {
        tracing::error!(plugin = id, reason, "disabling plugin");
        self.swap(None, id);
        // Recorded even when the call that faulted rolls back: inside an open transaction the
        // record is written from another thread, once the writer is free.
        if self.store.in_call_scope() {
            let (store, id, reason) = (self.store.clone(), id.to_string(), reason.to_string());
            std::thread::spawn(move || record_faulted(&store, &id, &reason));
        } else {
            record_faulted(&self.store, id, reason);
        }
    }

    /// Delivers events emitted by a call to the plugins subscribed to them, each handler
    /// running for the user of the emitting call (so that an event never widens what a
    /// user's request reaches), with the emitting plugin as `asked_by`.
    pub fn dispatch_events(&self, from: &str, events: Vec<Event>, emitted_in: CallCtx) {
        for (name, payload) in events {
            tracing::debug!(plugin = from, event = %name, "event");
            for p in self.list().iter() {
                if p.manifest.events.iter().any(|e| e.name == name) {
                    let ctx = CallCtx {
                        asked_by: Some(from.to_string()),
                        ..emitted_in.clone()
                    };
                    if let Err(e) = self.call(p, ctx, |i, s| i.event(s, &name, &payload)) {
                        tracing::warn!(plugin = %p.manifest.id, event = %name, error = %e, "event handler failed");
                    }
                }
            }
        }
    }
}

impl CallServices for ActiveSet {
    fn store(&self) -> &Arc<Store> {
        &self.store
    }

    fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    fn ask(
        &self,
        plugin: &str,
        query: &str,
        args: &str,
        ctx: CallCtx,
    ) -> Result<String, CallError> {
        ActiveSet::ask(self, plugin, query, args, ctx)
    }

    fn deliver_events(&self, from: &str, events: Vec<Event>, emitted_in: CallCtx) {
        self.dispatch_events(from, events, emitted_in)
    }

    fn disable_faulty(&self, plugin: &str, reason: &str) {
        self.auto_disable(plugin, reason)
    }

    fn outbound(&self) -> Option<Arc<dyn Outbound>> {
        self.outbound
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Records a plugin as faulted and its entity types as read-only.
fn record_faulted(store: &Store, id: &str, reason: &str) {
    if let Err(e) = store.set_plugin_status(id, false, PluginStatus::Faulted.as_str(), Some(reason))
    {
        tracing::error!(plugin = id, error = %e, "could not record the plugin as faulted");
    }
    if let Err(e) = store.retire_origin(&Origin::Plugin(id.to_string())) {
        tracing::error!(plugin = id, error = %e, "could not retire the plugin's entity types");
    }
}
