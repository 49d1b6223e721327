//! The host side of every import a plugin may call, with the capability check in front of
//! each one. A call's state lives in [`HostState`], created fresh for every call.

use crate::bindings::qingguan::plugin::{host, types};
use crate::bindings::wit;
use crate::context::{CallCtx, CallUser};
use crate::engine::Limiter;
use crate::failure::{ask_error, core_error};
use crate::grant::PluginGrant;
use crate::services::{CallServices, Event};
use qingguan_core::{Access, AggregateQuery, ListQuery, Metric, Record, Role, SortKey};
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
    /// arguments; stdio goes nowhere.
    pub fn new(
        plugin: Arc<PluginGrant>,
        services: Arc<dyn CallServices>,
        ctx: CallCtx,
        memory: usize,
    ) -> Self {
        HostState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(memory),
            plugin,
            services,
            ctx,
            events: Vec::new(),
        }
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

    /// The access a write runs with: the plugin's own grant when no user caused the call
    /// (install, jobs) or when the plugin holds an approved elevation; otherwise the calling
    /// user's, so that no user reaches through a plugin what their role does not allow.
    fn write_access(&self) -> Result<Access, wit::PluginError> {
        match &self.ctx.user {
            CallUser::None => Ok(self.plugin_access()),
            _ if self.plugin.approved.elevate => Ok(self.plugin_access()),
            _ => self.user_access(),
        }
    }

    fn user_access(&self) -> Result<Access, wit::PluginError> {
        match &self.ctx.user {
            CallUser::Known(k) => Ok(k.0.clone()),
            CallUser::Id(id) => self
                .services
                .store()
                .access_for(*id)
                .map(|(a, _)| a)
                .map_err(core_error),
            CallUser::None => Err(wit::PluginError::Denied(
                "this call has no user; as-user queries need one".into(),
            )),
        }
    }

    fn check_read(&self, entity: &str) -> Result<(), wit::PluginError> {
        if self.plugin.may_read(entity) {
            Ok(())
        } else {
            Err(wit::PluginError::Denied(format!(
                "plugin '{}' was not granted read access to '{entity}'",
                self.id()
            )))
        }
    }

    fn check_kv(&self) -> Result<(), wit::PluginError> {
        if self.plugin.approved.kv {
            Ok(())
        } else {
            Err(wit::PluginError::Denied(format!(
                "plugin '{}' was not granted a key-value store (capability kv)",
                self.id()
            )))
        }
    }

    fn check_write(&self, entity: &str) -> Result<(), wit::PluginError> {
        if self.plugin.may_write(entity) {
            Ok(())
        } else {
            Err(wit::PluginError::Denied(format!(
                "plugin '{}' was not granted write access to '{entity}'",
                self.id()
            )))
        }
    }
}

/// A core record in WIT form.
pub fn record_to_wit(r: &Record) -> wit::EntityRecord {
    let t =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    wit::EntityRecord {
        entity: r.entity.clone(),
        id: r.id,
        version: r.version,
        owner: r.owner,
        created_by: r.created_by,
        created_at: t(r.created_at),
        updated_by: r.updated_by,
        updated_at: t(r.updated_at),
        fields: serde_json::Value::Object(r.values_json()).to_string(),
    }
}

fn parse_object(
    json: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, wit::PluginError> {
    match serde_json::from_str(json) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(wit::PluginError::Invalid((
            "fields must be a JSON object".into(),
            vec![],
        ))),
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

impl types::Host for HostState {}

impl host::Host for HostState {
    fn context(&mut self) -> wit::CallContext {
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
        wit::CallContext {
            plugin_id: self.id().to_string(),
            plugin_version: self.plugin.manifest.version.to_string(),
            user_id: self.ctx.user.id(),
            username,
            role,
            locale: locale.as_str().to_string(),
            asked_by: self.ctx.asked_by.clone(),
        }
    }

    fn get_record(
        &mut self,
        entity: String,
        id: i64,
    ) -> Result<wit::EntityRecord, wit::PluginError> {
        self.check_read(&entity)?;
        let r = self
            .services
            .store()
            .get(&self.plugin_access(), &entity, id)
            .map_err(core_error)?;
        Ok(record_to_wit(&r))
    }

    fn query_records(
        &mut self,
        entity: String,
        q: wit::RecordQuery,
    ) -> Result<wit::RecordPage, wit::PluginError> {
        self.check_read(&entity)?;
        let access = if q.as_user {
            self.user_access()?
        } else {
            self.plugin_access()
        };
        let mut lq = list_query(&q.filters)?;
        if let Some(s) = &q.sort {
            let (field, descending) = match s.strip_prefix('-') {
                Some(f) => (f.to_string(), true),
                None => (s.clone(), false),
            };
            lq.sort = SortKey { field, descending };
        }
        if q.limit == 0 || q.limit > 200 {
            return Err(wit::PluginError::Invalid((
                "limit must be 1-200".into(),
                vec![],
            )));
        }
        lq.limit = q.limit as usize;
        lq.cursor = q.cursor.clone();
        lq.q = q.search.clone();
        let page = self
            .services
            .store()
            .list(&access, &entity, &lq)
            .map_err(core_error)?;
        Ok(wit::RecordPage {
            items: page.items.iter().map(record_to_wit).collect(),
            next_cursor: page.next_cursor,
        })
    }

    fn aggregate_records(
        &mut self,
        entity: String,
        q: wit::AggregateQuery,
    ) -> Result<String, wit::PluginError> {
        self.check_read(&entity)?;
        let access = if q.as_user {
            self.user_access()?
        } else {
            self.plugin_access()
        };
        let metrics = q
            .metrics
            .iter()
            .map(|m| Metric::parse(m))
            .collect::<Result<Vec<_>, _>>()
            .map_err(core_error)?;
        let aq = AggregateQuery {
            filters: list_query(&q.filters)?.filters,
            q: q.search.clone(),
            group_by: q.group_by.clone(),
            metrics,
        };
        let rows = self
            .services
            .store()
            .aggregate(&access, &entity, &aq)
            .map_err(core_error)?;
        Ok(serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()))
    }

    fn create_record(
        &mut self,
        entity: String,
        fields: String,
    ) -> Result<wit::EntityRecord, wit::PluginError> {
        self.check_write(&entity)?;
        let input = parse_object(&fields)?;
        let r = self
            .services
            .store()
            .create(&self.write_access()?, &entity, &input)
            .map_err(core_error)?;
        Ok(record_to_wit(&r))
    }

    fn update_record(
        &mut self,
        entity: String,
        id: i64,
        version: i64,
        fields: String,
    ) -> Result<wit::EntityRecord, wit::PluginError> {
        self.check_write(&entity)?;
        let input = parse_object(&fields)?;
        let r = self
            .services
            .store()
            .update(&self.write_access()?, &entity, id, version, &input)
            .map_err(core_error)?;
        Ok(record_to_wit(&r))
    }

    fn delete_record(
        &mut self,
        entity: String,
        id: i64,
        version: i64,
    ) -> Result<(), wit::PluginError> {
        self.check_write(&entity)?;
        self.services
            .store()
            .delete(&self.write_access()?, &entity, id, version)
            .map_err(core_error)
    }

    fn kv_get(&mut self, key: String) -> Result<Option<Vec<u8>>, wit::PluginError> {
        self.check_kv()?;
        self.services
            .store()
            .kv_get(self.id(), &key)
            .map_err(core_error)
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) -> Result<(), wit::PluginError> {
        self.check_kv()?;
        let quota = self.services.engine().limits.kv_quota;
        self.services
            .store()
            .kv_set(self.id(), &key, &value, quota)
            .map_err(core_error)
    }

    fn kv_delete(&mut self, key: String) -> Result<(), wit::PluginError> {
        self.check_kv()?;
        self.services
            .store()
            .kv_delete(self.id(), &key)
            .map_err(core_error)
    }

    fn kv_keys(&mut self, prefix: String) -> Result<Vec<String>, wit::PluginError> {
        self.check_kv()?;
        self.services
            .store()
            .kv_keys(self.id(), &prefix)
            .map_err(core_error)
    }

    fn config(&mut self) -> String {
        self.plugin.config.to_string()
    }

    fn log(&mut self, level: wit::LogLevel, message: String) {
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
            wit::LogLevel::Trace => tracing::trace!(plugin, %version, "{message}"),
            wit::LogLevel::Debug => tracing::debug!(plugin, %version, "{message}"),
            wit::LogLevel::Info => tracing::info!(plugin, %version, "{message}"),
            wit::LogLevel::Warn => tracing::warn!(plugin, %version, "{message}"),
            wit::LogLevel::Error => tracing::error!(plugin, %version, "{message}"),
        }
    }

    fn emit(&mut self, event: String, payload: String) -> Result<(), wit::PluginError> {
        if !self.plugin.approved.emit {
            return Err(wit::PluginError::Denied(format!(
                "plugin '{}' was not granted emit",
                self.id()
            )));
        }
        if event.is_empty() || event.len() > 100 || payload.len() > 64 * 1024 {
            return Err(wit::PluginError::Invalid((
                "event names are 1-100 bytes, payloads at most 64 KiB".into(),
                vec![],
            )));
        }
        if self.events.len() >= 100 {
            return Err(wit::PluginError::Invalid((
                "at most 100 events per call".into(),
                vec![],
            )));
        }
        self.events.push((event, payload));
        Ok(())
    }

    fn ask(
        &mut self,
        plugin: String,
        query: String,
        args: String,
    ) -> Result<String, wit::PluginError> {
        if !self.plugin.may_ask(&plugin) {
            return Err(wit::PluginError::Denied(format!(
                "plugin '{}' was not granted asking '{plugin}'",
                self.id()
            )));
        }
        self.services
            .ask(
                &plugin,
                &query,
                &args,
                CallCtx {
                    asked_by: Some(self.id().to_string()),
                    ..self.ctx.clone()
                },
            )
            .map_err(ask_error)
    }
}

/// The filters of a plugin's query, parsed as the HTTP API parses them.
fn list_query(filters: &[wit::Filter]) -> Result<ListQuery, wit::PluginError> {
    ListQuery::from_pairs(filters.iter().map(|f| {
        let key = if f.op == "eq" {
            f.field.clone()
        } else {
            format!("{}[{}]", f.field, f.op)
        };
        (key, f.value.clone())
    }))
    .map_err(core_error)
}
