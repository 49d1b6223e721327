//! A compiled, pre-instantiated plugin version and the machinery of one call: a fresh
//! instance, an epoch deadline, a memory limiter, an output cap, and fault accounting.

use crate::context::CallCtx;
use crate::contract::{Guest, GuestPre, Out};
use crate::exchange::{HttpResponse, JobProgress};
use crate::failure::{CallError, PluginFailure};
use crate::grant::PluginGrant;
use crate::host_calls::HostState;
use crate::manifest::{Capabilities, Manifest};
use crate::services::CallServices;
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wasmtime::{PoolConcurrencyLimitError, Store, Trap};

/// Plugin calls nested deeper than this fail (a hook that writes, whose write runs a hook …).
pub const MAX_DEPTH: u32 = 8;

/// Calls that wrote output, numbered for the log.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Sizes of call results, to enforce the output cap, and whether a result keeps the call's
/// writes.
pub trait OutputSize {
    /// Approximate bytes.
    fn output_size(&self) -> usize;
    /// Whether the call's writes commit (a route answering 400 or above rolls them back).
    fn commits(&self) -> bool {
        true
    }
}
impl OutputSize for JobProgress {
    fn output_size(&self) -> usize {
        self.cursor.as_ref().map_or(0, String::len)
    }
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
impl OutputSize for HttpResponse {
    fn output_size(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
    fn commits(&self) -> bool {
        self.status < 400
    }
}

/// A loaded plugin version, ready to serve calls.
pub struct LoadedPlugin {
    grant: Arc<PluginGrant>,
    pre: GuestPre,
    faults: Mutex<VecDeque<(Instant, Blame)>>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version.to_string())
            .finish()
    }
}

impl std::ops::Deref for LoadedPlugin {
    type Target = PluginGrant;

    fn deref(&self) -> &PluginGrant {
        &self.grant
    }
}

impl LoadedPlugin {
    /// Its identity and grants, as every call's state holds them.
    pub fn grant(&self) -> Arc<PluginGrant> {
        self.grant.clone()
    }

    /// Wraps a pre-instantiated component.
    pub(crate) fn new(
        manifest: Manifest,
        sha256: String,
        approved: Capabilities,
        config: serde_json::Value,
        pre: GuestPre,
    ) -> Self {
        LoadedPlugin {
            grant: Arc::new(PluginGrant {
                manifest,
                sha256,
                approved,
                config,
            }),
            pre,
            faults: Mutex::new(VecDeque::new()),
        }
    }

    /// The contract version the plugin was built against (`1.1` serves 1.0 too).
    pub fn contract(&self) -> &'static str {
        self.pre.contract()
    }

    /// Runs one call on a fresh instance. `f` calls an export; its result is size-checked.
    /// The call's writes are one transaction (begun at its first write): kept if the export
    /// returns a result that commits, undone on an error value, a trap, a limit or an
    /// oversized result.
    pub(crate) fn call<R: OutputSize>(
        self: &Arc<Self>,
        services: &Arc<dyn CallServices>,
        ctx: CallCtx,
        f: impl FnOnce(&Guest, &mut Store<HostState>) -> Out<R>,
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
        let limits = &services.engine().limits;
        let emitter = ctx.clone();
        let state = HostState::new(
            self.grant.clone(),
            services.clone(),
            ctx,
            limits.memory_bytes,
        );
        let mut store = Store::new(&services.engine().engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(limits.ticks());
        store.epoch_deadline_trap();
        let started = Instant::now();
        let user = store.data().user_id();
        let resource = |u: Option<i64>| u.map_or(Blame::Plugin, Blame::User);
        let instance = match self.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) if e.downcast_ref::<PoolConcurrencyLimitError>().is_some() => {
                return Err(CallError::AtCapacity);
            }
            Err(e) => {
                return Err(self.fault(services, format!("could not start: {e:#}"), Blame::Plugin))
            }
        };
        let scope = match services.store().begin_call_alone() {
            Ok(s) => s,
            Err(e) => {
                return Err(CallError::Plugin(PluginFailure::Failed(format!(
                    "could not start the call's transaction: {e}"
                ))))
            }
        };
        let out = f(&instance, &mut store);
        let state = store.data_mut();
        let events = std::mem::take(&mut state.events);
        let last_output = self.log_output(&state.output.text(), user);
        let denied = state.limiter.denied;
        let commits =
            matches!(&out, Ok(Ok(r)) if r.commits() && r.output_size() <= limits.output_bytes);
        // The instance is let go of before the commit, which does not need it: its pool slot
        // is free again as soon as the call's own work is done.
        drop(store);
        if commits && !events.is_empty() {
            // Delivered once these writes are committed for good (after the outermost call
            // on this thread commits; never if it rolls back), as the emitting call's user.
            let (services, from) = (services.clone(), self.manifest.id.clone());
            services
                .store()
                .clone()
                .after_commit(move || services.deliver_events(&from, events, emitter));
        }
        if let Err(e) = scope.finish(commits) {
            return Err(CallError::Plugin(PluginFailure::Failed(format!(
                "the call's writes could not be committed: {e}"
            ))));
        }
        match out {
            Ok(Ok(r)) => {
                let size = r.output_size();
                if size > limits.output_bytes {
                    return Err(self.fault(
                        services,
                        format!(
                            "returned {size} bytes, more than the output limit of {} bytes",
                            limits.output_bytes
                        ),
                        resource(user),
                    ));
                }
                Ok(r)
            }
            Ok(Err(e)) => Err(CallError::Plugin(e)),
            Err(e) => {
                let (reason, blame) = if denied {
                    let r = format!(
                        "exceeded its memory limit of {} MiB",
                        limits.memory_bytes / (1024 * 1024)
                    );
                    (r, resource(user))
                } else if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                    let r = format!(
                        "ran longer than its time limit of {} ms (stopped after {} ms)",
                        limits.call_timeout.as_millis(),
                        started.elapsed().as_millis()
                    );
                    (r, resource(user))
                } else if let Some(t) = e.downcast_ref::<Trap>() {
                    (format!("trapped: {t}"), Blame::Plugin)
                } else {
                    (format!("{e:#}"), Blame::Plugin)
                };
                let reason = match last_output {
                    Some(line) => format!("{reason}; its last output: {line}"),
                    None => reason,
                };
                Err(self.fault(services, reason, blame))
            }
        }
    }

    /// Records a fault; disables the plugin when faults of its own pile up (a user's request
    /// that exhausts a limit fails that call only, unless several users' do).
    fn fault(&self, services: &Arc<dyn CallServices>, reason: String, blame: Blame) -> CallError {
        let limits = &services.engine().limits;
        tracing::warn!(plugin = %self.manifest.id, version = %self.manifest.version, %reason, ?blame, "plugin call failed");
        let count = {
            let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            f.push_back((now, blame));
            while f
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > limits.fault_window)
            {
                f.pop_front();
            }
            let users: std::collections::HashSet<i64> = f
                .iter()
                .filter_map(|(_, b)| match b {
                    Blame::User(u) => Some(*u),
                    Blame::Plugin => None,
                })
                .collect();
            if users.len() >= USERS_FOR_A_PLUGIN_FAULT {
                f.len()
            } else {
                f.iter().filter(|(_, b)| *b == Blame::Plugin).count()
            }
        };
        if count >= limits.fault_threshold {
            services.disable_faulty(
                &self.manifest.id,
                &format!("disabled after {count} faults; last: {reason}"),
            );
        }
        CallError::Fault {
            plugin: self.manifest.id.clone(),
            reason,
        }
    }

    /// Logs what a call wrote to stdout and stderr, tagged with the plugin, its version, the
    /// call's sequence number and user; returns the line that names the cause.
    fn log_output(&self, text: &str, user: Option<i64>) -> Option<String> {
        if text.trim().is_empty() {
            return None;
        }
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(
            plugin = %self.manifest.id,
            version = %self.manifest.version,
            call,
            user,
            "guest output:\n{}",
            text.trim_end()
        );
        crate::guest_output::cause_line(text)
    }

    /// Faults counted in the current window.
    pub fn recent_faults(&self) -> usize {
        self.faults.lock().map(|f| f.len()).unwrap_or(0)
    }
}

/// Whose a fault is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blame {
    /// The plugin's own: a trap, a failure to start, or any fault of a call no user caused.
    Plugin,
    /// A user's request exhausted a limit (time, memory, output): their data or their request
    /// may be the cause, so it fails their call and does not count against the plugin — unless
    /// it happens to several users.
    User(i64),
}

/// Users whose calls exhausted limits within the window before such faults count against
/// the plugin (it then fails for everyone, not for one user's data).
const USERS_FOR_A_PLUGIN_FAULT: usize = 3;

struct DepthGuard(u32);

impl Drop for DepthGuard {
    fn drop(&mut self) {
        let d = self.0;
        DEPTH.with(|c| c.set(d));
    }
}
