//! The wasmtime engine every plugin runs in: component model, pooling allocator, epoch
//! deadlines, a compile cache keyed by component hash and engine configuration, and the
//! limits every call runs under.

use anyhow::Context;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
};

/// How long one epoch tick is.
pub const TICK: Duration = Duration::from_millis(10);

/// Bounds on every plugin call.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time one call may run (rounded up to 10 ms ticks).
    pub call_timeout: Duration,
    /// Linear memory one instance may use.
    pub memory_bytes: usize,
    /// Largest result one call may return.
    pub output_bytes: usize,
    /// Faults within `fault_window` after which a plugin is disabled.
    pub fault_threshold: usize,
    /// Window for counting faults.
    pub fault_window: Duration,
    /// Instances alive at once across all plugins (pool size).
    pub max_instances: u32,
    /// Largest component accepted.
    pub max_component_bytes: usize,
    /// What one plugin may keep in its key-value store.
    pub kv_quota: qingguan_core::KvQuota,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(2),
            memory_bytes: 64 * 1024 * 1024,
            output_bytes: 4 * 1024 * 1024,
            fault_threshold: 5,
            fault_window: Duration::from_secs(300),
            max_instances: 128,
            max_component_bytes: 32 * 1024 * 1024,
            kv_quota: qingguan_core::KvQuota::default(),
        }
    }
}

impl Limits {
    /// The epoch deadline in ticks.
    pub fn ticks(&self) -> u64 {
        (self.call_timeout.as_millis() as u64)
            .div_ceil(TICK.as_millis() as u64)
            .max(1)
    }
}

/// The engine plus the thread that advances its epoch.
pub struct PluginEngine {
    /// The wasmtime engine.
    pub engine: Engine,
    /// Limits for calls.
    pub limits: Limits,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine")
            .field("limits", &self.limits)
            .finish()
    }
}

impl PluginEngine {
    /// Builds the engine; compiled components are cached under `cache_dir`.
    pub fn new(limits: Limits, cache_dir: Option<&Path>) -> anyhow::Result<PluginEngine> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        // Small reservations with explicit bounds checks keep many engines (one per test
        // server) within the address space; hooks are short, so the checks cost little.
        let reservation = (limits.memory_bytes as u64)
            .next_power_of_two()
            .max(1 << 20);
        config.memory_reservation(reservation);
        config.memory_guard_size(64 * 1024);
        config.memory_reservation_for_growth(0);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(limits.max_instances);
        pool.total_core_instances(limits.max_instances * 4);
        pool.total_memories(limits.max_instances * 2);
        pool.total_tables(limits.max_instances * 4);
        pool.total_stacks(limits.max_instances);
        pool.max_memories_per_component(4);
        pool.max_tables_per_component(8);
        pool.max_core_instances_per_component(16);
        pool.max_memory_size(limits.memory_bytes);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if let Some(dir) = cache_dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut cc = CacheConfig::new();
            cc.with_directory(dir);
            config.cache(Some(Cache::new(cc).map_err(|e| {
                anyhow::anyhow!("cannot open the compile cache: {e:#}")
            })?));
        }
        let engine = Engine::new(&config)
            .map_err(|e| anyhow::anyhow!("cannot create the wasm engine: {e:#}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (e, s) = (engine.weak(), stop.clone());
        std::thread::Builder::new()
            .name("qingguan-epoch".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    match e.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .context("cannot start the epoch thread")?;
        Ok(PluginEngine {
            engine,
            limits,
            stop,
        })
    }
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Denies growth past the memory cap and remembers that it did (for a clear error).
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    /// A growth was refused during this call.
    pub denied: bool,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.denied = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl Limiter {
    /// A limiter allowing `max` bytes of linear memory.
    pub fn new(max: usize) -> Limiter {
        Limiter { max, denied: false }
    }
}
