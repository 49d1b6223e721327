//! The host side of every import a plugin may call, in the runtime's own types, with the
//! capability check in front of each one; each contract version (`contract::v1_1`,
//! `contract::v1_2`) adapts its WIT functions to these. A call's state lives in
//! [`HostState`], created fresh for every call.

use crate::context::{CallCtx, CallUser};
use crate::engine::Limiter;
use crate::failure::{ask_error, core_error, PluginFailure};
use crate::grant::PluginGrant;
use crate::guest_output::GuestOutput;
use crate::services::{CallServices, Event};
use qingguan_core::{Access, AggregateQuery, Filter, Locale, Metric, Page, Record, Role, SortKey};
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Longest log message kept.
const LOG_MAX: usize = 4096;

/// Everything one call can reach.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory limiter of this call.
    pub limiter: Limiter,
    plugin: Arc<PluginGrant>,
    services: Arc<dyn CallServices>,
    ctx: CallCtx,
    /// Events emitted during the call, delivered after it succeeds.
    pub events: Vec<Event>,
    /// What the guest wrote to stdout and stderr.
    pub output: GuestOutput,
    started: std::time::Instant,
    /// People notified so far in this call (contract 1.3).
    pub(crate) notices_sent: usize,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("plugin", &self.plugin.label())
            .finish()
    }
}

impl HostState {
    /// State for one call. WASI is present but empty: no files, network, environment or
    /// arguments; stdout and stderr are kept (capped) for the log and fault reasons.
    pub fn new(
        plugin: Arc<PluginGrant>,
        services: Arc<dyn CallServices>,
        ctx: CallCtx,
        memory: usize,
    ) -> Self {
        let output = GuestOutput::default();
        HostState {
            wasi: WasiCtx::builder()
                .stdout(output.clone())
                .stderr(output.clone())
                .build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(memory),
            plugin,
            services,
            ctx,
            events: Vec::new(),
            output,
            started: std::time::Instant::now(),
            notices_sent: 0,
        }
    }

    /// The plugin version this call runs and what it was granted.
    pub(crate) fn grant(&self) -> &PluginGrant {
        &self.plugin
    }

    /// What the call may reach of the runtime.
    pub(crate) fn services(&self) -> &Arc<dyn CallServices> {
        &self.services
    }

    /// The language the call answers in.
    pub(crate) fn locale(&self) -> Locale {
        self.ctx.locale
    }

    /// What is left of the call's time limit.
    pub(crate) fn time_left(&self) -> std::time::Duration {
        self.services
            .engine()
            .limits
            .call_timeout
            .saturating_sub(self.started.elapsed())
    }

    fn id(&self) -> &str {
        self.plugin.id()
    }

    /// The user whose request caused the call, if one did.
    pub fn user_id(&self) -> Option<i64> {
        self.ctx.user.id()
    }

    /// Plugin-level access: capabilities decide, not roles; writes are attributed to the
    /// calling user when there is one.
    fn plugin_access(&self) -> Access {
        let mut role: Role = (*Access::system().role).clone();
        role.name = format!("plugin:{}", self.id());
        Access {
            user_id: self.ctx.user.id(),
            team: None,
            role: Arc::new(role),
            locale: self.ctx.locale,
        }
    }

    /// The access a read or write runs with (see [`Scope`]).
    fn access(&self, scope: Scope) -> Result<Access, PluginFailure> {
        match (scope, &self.ctx.user) {
            (Scope::Caller, CallUser::None) => Ok(self.plugin_access()),
            (Scope::Caller, _) => self.user_access(),
            (Scope::Elevated, _) if self.plugin.approved.elevate => Ok(self.plugin_access()),
            (Scope::Elevated, _) => Err(PluginFailure::Denied(format!(
                "plugin '{}' was not granted elevated access (capability elevate); \
                 it reads and writes as the calling user",
                self.id()
            ))),
            (Scope::PluginOwn, _) => Ok(self.plugin_access()),
            (Scope::LegacyWrite, CallUser::None) => Ok(self.plugin_access()),
            (Scope::LegacyWrite, _) if self.plugin.approved.elevate => Ok(self.plugin_access()),
            (Scope::LegacyWrite, _) | (Scope::LegacyAsUser, _) => self.user_access(),
        }
    }

    fn user_access(&self) -> Result<Access, PluginFailure> {
        match &self.ctx.user {
            CallUser::Known(k) => Ok(k.0.clone()),
            CallUser::Id(id) => self
                .services
                .store()
                .access_for(*id)
                .map(|(a, _)| a)
                .map_err(|e| core_error(e, self.ctx.locale)),
            CallUser::None => Err(PluginFailure::Denied(
                "this call has no user; as-user queries need one".into(),
            )),
        }
    }

    fn check_read(&self, entity: &str) -> Result<(), PluginFailure> {
        if self.plugin.may_read(entity) {
            Ok(())
        } else {
            Err(PluginFailure::Denied(format!(
                "plugin '{}' was not granted read access to '{entity}'",
                self.id()
            )))
        }
    }

    fn check_kv(&self) -> Result<(), PluginFailure> {
        if self.plugin.approved.kv {
            Ok(())
        } else {
            Err(PluginFailure::Denied(format!(
                "plugin '{}' was not granted a key-value store (capability kv)",
                self.id()
            )))
        }
    }

    fn check_write(&self, entity: &str) -> Result<(), PluginFailure> {
        if self.plugin.may_write(entity) {
            Ok(())
        } else {
            Err(PluginFailure::Denied(format!(
                "plugin '{}' was not granted write access to '{entity}'",
                self.id()
            )))
        }
    }
}

/// Whose access a host call runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The calling user's; the plugin's own grant when no user caused the call (1.2 default).
    Caller,
    /// The plugin's own grant; needs the `elevate` capability (1.2).
    Elevated,
    /// The plugin's own grant without asking (reads of 1.0 and 1.1 plugins).
    PluginOwn,
    /// As the calling user unless the plugin holds `elevate` (writes of 1.0 and 1.1 plugins).
    LegacyWrite,
    /// The calling user's, refused when there is none (`as-user` reads of 1.0 and 1.1).
    LegacyAsUser,
}

/// A list query in the runtime's terms.
#[derive(Debug, Clone)]
pub(crate) struct PluginQuery {
    pub filters: Vec<Filter>,
    pub sort: Option<SortKey>,
    pub limit: u32,
    pub cursor: Option<String>,
    pub search: Option<String>,
    pub scope: Scope,
}

/// An aggregate query in the runtime's terms.
#[derive(Debug, Clone)]
pub(crate) struct PluginAggregate {
    pub filters: Vec<Filter>,
    pub search: Option<String>,
    pub group_by: Vec<String>,
    pub metrics: Vec<Metric>,
    pub scope: Scope,
}

/// The current call as a plugin sees it.
#[derive(Debug, Clone)]
pub(crate) struct CallInfo {
    pub plugin_id: String,
    pub plugin_version: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub locale: Locale,
    pub asked_by: Option<String>,
}

/// Log levels a plugin may write at.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

fn parse_object(json: &str) -> Result<serde_json::Map<String, serde_json::Value>, PluginFailure> {
    match serde_json::from_str(json) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(PluginFailure::Invalid(
            "fields must be a JSON object".into(),
            vec![],
        )),
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

type HostResult<T> = Result<T, PluginFailure>;

impl HostState {
    fn fail(&self, e: qingguan_core::Error) -> PluginFailure {
        core_error(e, self.ctx.locale)
    }

    pub(crate) fn call_info(&self) -> CallInfo {
        let (username, role, locale) = match &self.ctx.user {
            CallUser::Known(k) => (
                Some(k.1.username.clone()),
                Some(k.1.role.clone()),
                self.ctx.locale,
            ),
            CallUser::Id(id) => match self.services.store().access_for(*id) {
                Ok((_, info)) => (
                    Some(info.username),
                    Some(info.role),
                    info.locale.unwrap_or(self.ctx.locale),
                ),
                Err(_) => (None, None, self.ctx.locale),
            },
            CallUser::None => (None, None, self.ctx.locale),
        };
        CallInfo {
            plugin_id: self.id().to_string(),
            plugin_version: self.plugin.manifest.version.to_string(),
            user_id: self.ctx.user.id(),
            username,
            role,
            locale,
            asked_by: self.ctx.asked_by.clone(),
        }
    }

    pub(crate) fn get_record(&self, entity: &str, id: i64, scope: Scope) -> HostResult<Record> {
        self.check_read(entity)?;
        let access = self.access(scope)?;
        self.services
            .store()
            .get(&access, entity, id)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn query_records(&self, entity: &str, q: PluginQuery) -> HostResult<Page> {
        self.check_read(entity)?;
        let access = self.access(q.scope)?;
        if q.limit == 0 || q.limit > 200 {
            return Err(PluginFailure::Invalid("limit must be 1-200".into(), vec![]));
        }
        let mut lq = qingguan_core::ListQuery {
            filters: q.filters,
            limit: q.limit as usize,
            cursor: q.cursor,
            q: q.search,
            ..Default::default()
        };
        if let Some(s) = q.sort {
            lq.sort = s;
        }
        self.services
            .store()
            .list(&access, entity, &lq)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn aggregate_records(&self, entity: &str, q: PluginAggregate) -> HostResult<String> {
        self.check_read(entity)?;
        let access = self.access(q.scope)?;
        let aq = AggregateQuery {
            filters: q.filters,
            q: q.search,
            group_by: q.group_by,
            metrics: q.metrics,
        };
        let rows = self
            .services
            .store()
            .aggregate(&access, entity, &aq)
            .map_err(|e| self.fail(e))?;
        Ok(serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()))
    }

    pub(crate) fn create_record(
        &self,
        entity: &str,
        fields: &str,
        scope: Scope,
    ) -> HostResult<Record> {
        self.check_write(entity)?;
        let input = parse_object(fields)?;
        let access = self.access(scope)?;
        self.services
            .store()
            .create(&access, entity, &input)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn update_record(
        &self,
        entity: &str,
        id: i64,
        version: i64,
        fields: &str,
        scope: Scope,
    ) -> HostResult<Record> {
        self.check_write(entity)?;
        let input = parse_object(fields)?;
        let access = self.access(scope)?;
        self.services
            .store()
            .update(&access, entity, id, version, &input)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn delete_record(
        &self,
        entity: &str,
        id: i64,
        version: i64,
        scope: Scope,
    ) -> HostResult<()> {
        self.check_write(entity)?;
        let access = self.access(scope)?;
        self.services
            .store()
            .delete(&access, entity, id, version)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn kv_get(&self, key: &str) -> HostResult<Option<Vec<u8>>> {
        self.check_kv()?;
        self.services
            .store()
            .kv_get(self.id(), key)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn kv_set(&self, key: &str, value: &[u8]) -> HostResult<()> {
        self.check_kv()?;
        let quota = self.services.engine().limits.kv_quota;
        self.services
            .store()
            .kv_set(self.id(), key, value, quota)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn kv_delete(&self, key: &str) -> HostResult<()> {
        self.check_kv()?;
        self.services
            .store()
            .kv_delete(self.id(), key)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn kv_keys(&self, prefix: &str) -> HostResult<Vec<String>> {
        self.check_kv()?;
        self.services
            .store()
            .kv_keys(self.id(), prefix)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn kv_increment(&self, key: &str, delta: i64) -> HostResult<i64> {
        self.check_kv()?;
        let quota = self.services.engine().limits.kv_quota;
        self.services
            .store()
            .kv_increment(self.id(), key, delta, quota)
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn kv_compare_and_set(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> HostResult<bool> {
        self.check_kv()?;
        let quota = self.services.engine().limits.kv_quota;
        self.services
            .store()
            .kv_compare_and_set(self.id(), key, expected, new, quota)
            .map_err(|e| self.fail(e))
    }

    /// Takes the writer for the rest of the call — only for a plugin that may write something,
    /// so one granted nothing cannot hold every writer back.
    pub(crate) fn begin_write(&self) -> HostResult<()> {
        if !self.plugin.may_write_anything() {
            return Err(PluginFailure::Denied(format!(
                "plugin '{}' may write nothing, so it cannot take the writer (begin-write)",
                self.id()
            )));
        }
        self.services
            .store()
            .begin_write()
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn config_json(&self) -> String {
        self.plugin.config.to_string()
    }

    pub(crate) fn write_log(&self, level: LogLevel, message: String) {
        let mut message = message;
        if message.len() > LOG_MAX {
            let mut cut = LOG_MAX;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let plugin = self.id();
        let version = self.plugin.manifest.version.to_string();
        match level {
            LogLevel::Trace => tracing::trace!(plugin, %version, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, %version, "{message}"),
            LogLevel::Info => tracing::info!(plugin, %version, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, %version, "{message}"),
            LogLevel::Error => tracing::error!(plugin, %version, "{message}"),
        }
    }

    pub(crate) fn emit_event(&mut self, event: String, payload: String) -> HostResult<()> {
        if !self.plugin.approved.emit {
            return Err(PluginFailure::Denied(format!(
                "plugin '{}' was not granted emit",
                self.id()
            )));
        }
        if event.is_empty() || event.len() > 100 || payload.len() > 64 * 1024 {
            return Err(PluginFailure::Invalid(
                "event names are 1-100 bytes, payloads at most 64 KiB".into(),
                vec![],
            ));
        }
        if self.events.len() >= 100 {
            return Err(PluginFailure::Invalid(
                "at most 100 events per call".into(),
                vec![],
            ));
        }
        self.events.push((event, payload));
        Ok(())
    }

    pub(crate) fn ask_plugin(&self, plugin: &str, query: &str, args: &str) -> HostResult<String> {
        if !self.plugin.may_ask(plugin) {
            return Err(PluginFailure::Denied(format!(
                "plugin '{}' was not granted asking '{plugin}'",
                self.id()
            )));
        }
        self.services
            .ask(
                plugin,
                query,
                args,
                CallCtx {
                    asked_by: Some(self.id().to_string()),
                    ..self.ctx.clone()
                },
            )
            .map_err(ask_error)
    }
}
