//! Benchmark baselines that need the runtime's internals (built only with the `bench`
//! feature, never into the shipped binary).

use crate::context::CallCtx;
use crate::host_calls::HostState;
use crate::lifecycle::PluginManager;
use crate::services::CallServices;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `n` calls of a plugin's no-op `health` export on one instance that is reused (no per-call
/// instantiation, no limits reset). Returns the total time.
pub fn raw_health(mgr: &PluginManager, id: &str, n: u32) -> anyhow::Result<Duration> {
    let p = mgr.calls().require(id)?;
    let file = mgr.file_for(&p.manifest.id, &p.manifest.version.to_string(), &p.sha256)?;
    let bytes = std::fs::read(file)?;
    let pre = mgr.compile(&bytes, &p.manifest)?;
    let services: Arc<dyn CallServices> = mgr.calls().clone();
    let state = HostState::new(
        p.grant(),
        services,
        CallCtx::system(),
        mgr.engine().limits.memory_bytes,
    );
    let mut store = wasmtime::Store::new(&mgr.engine().engine, state);
    store.set_epoch_deadline(u64::MAX / 2);
    let inst = pre
        .instantiate(&mut store)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let started = Instant::now();
    for _ in 0..n {
        let _ = inst
            .health(&mut store)
            .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    }
    Ok(started.elapsed())
}
