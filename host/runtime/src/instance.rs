//! A compiled, pre-instantiated plugin version and the machinery of one call: a fresh
//! instance, an epoch deadline, a memory limiter, an output cap, and fault accounting.

use super::bindings::{wit, Plugin, PluginPre};
use super::host_calls::{CallUser, HostState};
use super::manager::PluginManager;
use super::manifest::{Capabilities, Manifest};
use qingguan_core::Locale;
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap};

/// Plugin calls nested deeper than this fail (a hook that writes, whose write runs a hook …).
pub const MAX_DEPTH: u32 = 8;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Why a plugin call did not produce a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The plugin ran and returned an error value.
    #[error("{0}")]
    Plugin(PluginFailure),
    /// The plugin misbehaved: trapped, ran out of time or memory, or returned too much.
    #[error("plugin '{plugin}' failed: {reason}")]
    Fault {
        /// Plugin id.
        plugin: String,
        /// What happened.
        reason: String,
    },
    /// The plugin is not serving (disabled, faulted, not installed) or the host is saturated.
    #[error("{0}")]
    Unavailable(String),
}

/// A plugin's error value, in host types.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginFailure {
    /// Not found.
    #[error("{0}")]
    NotFound(String),
    /// Denied.
    #[error("{0}")]
    Denied(String),
    /// Invalid, with field reasons.
    #[error("{0}")]
    Invalid(String, Vec<(String, String)>),
    /// Conflict.
    #[error("{0}")]
    Conflict(String),
    /// Failed.
    #[error("{0}")]
    Failed(String),
}

impl From<wit::PluginError> for PluginFailure {
    fn from(e: wit::PluginError) -> Self {
        match e {
            wit::PluginError::NotFound(m) => PluginFailure::NotFound(m),
            wit::PluginError::Denied(m) => PluginFailure::Denied(m),
            wit::PluginError::Invalid((m, f)) => {
                PluginFailure::Invalid(m, f.into_iter().map(|f| (f.field, f.message)).collect())
            }
            wit::PluginError::Conflict(m) => PluginFailure::Conflict(m),
            wit::PluginError::Failed(m) => PluginFailure::Failed(m),
        }
    }
}

impl From<PluginFailure> for wit::PluginError {
    fn from(f: PluginFailure) -> Self {
        match f {
            PluginFailure::NotFound(m) => wit::PluginError::NotFound(m),
            PluginFailure::Denied(m) => wit::PluginError::Denied(m),
            PluginFailure::Invalid(m, fields) => super::host_calls::invalid(m, fields),
            PluginFailure::Conflict(m) => wit::PluginError::Conflict(m),
            PluginFailure::Failed(m) => wit::PluginError::Failed(m),
        }
    }
}

/// Sizes of call results, to enforce the output cap.
pub trait OutputSize {
    /// Approximate bytes.
    fn output_size(&self) -> usize;
}

impl OutputSize for () {
    fn output_size(&self) -> usize {
        0
    }
}
impl OutputSize for String {
    fn output_size(&self) -> usize {
        self.len()
    }
}
impl OutputSize for Option<String> {
    fn output_size(&self) -> usize {
        self.as_ref().map_or(0, String::len)
    }
}
impl OutputSize for wit::HttpResponse {
    fn output_size(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

/// A loaded plugin version, ready to serve calls.
pub struct LoadedPlugin {
    /// Its manifest.
    pub manifest: Manifest,
    /// SHA-256 of the component.
    pub sha256: String,
    /// What the administrator approved.
    pub approved: Capabilities,
    /// Configuration (manifest defaults overlaid with the administrator's).
    pub config: serde_json::Value,
    pre: PluginPre<HostState>,
    faults: Mutex<VecDeque<Instant>>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version.to_string())
            .finish()
    }
}

/// Who a call is for.
#[derive(Debug, Clone)]
pub struct CallCtx {
    /// The user, if a user's request caused the call.
    pub user: CallUser,
    /// Locale of the call.
    pub locale: Locale,
    /// The plugin whose `ask` caused the call.
    pub asked_by: Option<String>,
}

impl CallCtx {
    /// A call on nobody's behalf (install, jobs).
    pub fn system() -> CallCtx {
        CallCtx {
            user: CallUser::None,
            locale: Locale::En,
            asked_by: None,
        }
    }

    /// A call made by a user (their role, team and language), as a request from them would.
    pub fn for_user(store: &qingguan_core::Store, user_id: i64) -> qingguan_core::Result<CallCtx> {
        let (access, info) = store.access_for(user_id)?;
        Ok(CallCtx {
            locale: access.locale,
            user: CallUser::Known(Box::new((access, info))),
            asked_by: None,
        })
    }
}

impl LoadedPlugin {
    /// Wraps a pre-instantiated component.
    pub fn new(
        manifest: Manifest,
        sha256: String,
        approved: Capabilities,
        config: serde_json::Value,
        pre: PluginPre<HostState>,
    ) -> Self {
        LoadedPlugin {
            manifest,
            sha256,
            approved,
            config,
            pre,
            faults: Mutex::new(VecDeque::new()),
        }
    }

    /// `id@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.manifest.id, self.manifest.version)
    }

    /// Runs one call on a fresh instance. `f` calls an export; its result is size-checked.
    pub fn call<R: OutputSize>(
        self: &Arc<Self>,
        mgr: &Arc<PluginManager>,
        ctx: CallCtx,
        f: impl FnOnce(&Plugin, &mut Store<HostState>) -> wasmtime::Result<Result<R, wit::PluginError>>,
    ) -> Result<R, CallError> {
        let depth = DEPTH.with(|d| d.get());
        if depth >= MAX_DEPTH {
            return Err(CallError::Fault {
                plugin: self.manifest.id.clone(),
                reason: format!("plugin calls nested more than {MAX_DEPTH} deep (a hook loop?)"),
            });
        }
        DEPTH.with(|d| d.set(depth + 1));
        let _reset = DepthGuard(depth);
        let limits = &mgr.engine().limits;
        let state = HostState::new(
            self.clone(),
            mgr.clone(),
            ctx,
            limits.memory_bytes,
            ResourceTable::new(),
        );
        let mut store = Store::new(&mgr.engine().engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(limits.ticks());
        store.epoch_deadline_trap();
        let started = Instant::now();
        let instance = match self.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => {
                let msg = format!("{e:#}");
                if msg.contains("maximum concurrent")
                    || msg.contains("pooling")
                    || msg.contains("limit")
                {
                    return Err(CallError::Unavailable(format!(
                        "the plugin runtime is at capacity; try again ({msg})"
                    )));
                }
                return Err(self.fault(mgr, format!("could not start: {msg}")));
            }
        };
        let out = f(&instance, &mut store);
        let state = store.data_mut();
        let events = std::mem::take(&mut state.events);
        match out {
            Ok(Ok(r)) => {
                let size = r.output_size();
                if size > limits.output_bytes {
                    return Err(self.fault(
                        mgr,
                        format!(
                            "returned {size} bytes, more than the output limit of {} bytes",
                            limits.output_bytes
                        ),
                    ));
                }
                drop(store);
                mgr.dispatch_events(&self.manifest.id, events);
                Ok(r)
            }
            Ok(Err(e)) => Err(CallError::Plugin(e.into())),
            Err(e) => {
                let reason = if state.limiter.denied {
                    format!(
                        "exceeded its memory limit of {} MiB",
                        limits.memory_bytes / (1024 * 1024)
                    )
                } else if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                    format!(
                        "ran longer than its time limit of {} ms (stopped after {} ms)",
                        limits.call_timeout.as_millis(),
                        started.elapsed().as_millis()
                    )
                } else if let Some(t) = e.downcast_ref::<Trap>() {
                    format!("trapped: {t}")
                } else {
                    format!("{e:#}")
                };
                Err(self.fault(mgr, reason))
            }
        }
    }

    /// Records a fault; disables the plugin when faults pile up.
    fn fault(self: &Arc<Self>, mgr: &Arc<PluginManager>, reason: String) -> CallError {
        let limits = &mgr.engine().limits;
        tracing::warn!(plugin = %self.manifest.id, version = %self.manifest.version, %reason, "plugin call failed");
        let count = {
            let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            f.push_back(now);
            while f
                .front()
                .is_some_and(|t| now.duration_since(*t) > limits.fault_window)
            {
                f.pop_front();
            }
            f.len()
        };
        if count >= limits.fault_threshold {
            mgr.auto_disable(
                &self.manifest.id,
                &format!("disabled after {count} faults; last: {reason}"),
            );
        }
        CallError::Fault {
            plugin: self.manifest.id.clone(),
            reason,
        }
    }

    /// Faults counted in the current window.
    pub fn recent_faults(&self) -> usize {
        self.faults.lock().map(|f| f.len()).unwrap_or(0)
    }
}

struct DepthGuard(u32);

impl Drop for DepthGuard {
    fn drop(&mut self) {
        let d = self.0;
        DEPTH.with(|c| c.set(d));
    }
}
