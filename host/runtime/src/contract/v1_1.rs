//! Contract `qingguan:plugin@1.1.0` (and 1.0.0, which it extends): bindings generated from its
//! WIT, its imports adapted to the runtime's host calls, and its exports called in the
//! runtime's types. Reads run with the plugin's own grant unless a query sets `as-user`;
//! writes run as the calling user unless the plugin holds `elevate` — the 1.1 rules.

wasmtime::component::bindgen!({
    path: "../../plugin-sdk/wit/v1.1.0",
    world: "plugin",
});

use self::qingguan::plugin::types as wit;
use super::Out;
use crate::exchange::{HttpRequest, HttpResponse};
use crate::failure::PluginFailure;
use crate::host_calls::{HostState, LogLevel, PluginAggregate, PluginQuery, Scope};
use qingguan_core::{ListQuery, Metric, Record, SortKey, WriteOp};

fn to_wit_error(f: PluginFailure) -> wit::PluginError {
    match f {
        PluginFailure::NotFound(m) => wit::PluginError::NotFound(m),
        PluginFailure::Denied(m) => wit::PluginError::Denied(m),
        PluginFailure::Invalid(m, fields) => wit::PluginError::Invalid((
            m,
            fields
                .into_iter()
                .map(|(field, message)| wit::FieldError { field, message })
                .collect(),
        )),
        PluginFailure::Stale(m) | PluginFailure::Conflict(m) => wit::PluginError::Conflict(m),
        u @ PluginFailure::Unique { .. } => wit::PluginError::Conflict(u.to_string()),
        PluginFailure::Failed(m) => wit::PluginError::Failed(m),
    }
}

fn from_wit_error(e: wit::PluginError) -> PluginFailure {
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

fn record_to_wit(r: &Record) -> wit::EntityRecord {
    let t = super::time_text;
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

/// The filters of a 1.1 query, parsed as the HTTP API parses them.
fn filters(list: &[wit::Filter]) -> Result<Vec<qingguan_core::Filter>, PluginFailure> {
    let q = ListQuery::from_pairs(list.iter().map(|f| {
        let key = if f.op == "eq" {
            f.field.clone()
        } else {
            format!("{}[{}]", f.field, f.op)
        };
        (key, f.value.clone())
    }))
    .map_err(|e| crate::failure::core_error(e, qingguan_core::Locale::En))?;
    Ok(q.filters)
}

fn read_scope(as_user: bool) -> Scope {
    if as_user {
        Scope::LegacyAsUser
    } else {
        Scope::PluginOwn
    }
}

impl wit::Host for HostState {}

impl self::qingguan::plugin::host::Host for HostState {
    fn context(&mut self) -> wit::CallContext {
        let c = self.call_info();
        wit::CallContext {
            plugin_id: c.plugin_id,
            plugin_version: c.plugin_version,
            user_id: c.user_id,
            username: c.username,
            role: c.role,
            locale: c.locale.as_str().to_string(),
            asked_by: c.asked_by,
        }
    }

    fn get_record(
        &mut self,
        entity: String,
        id: i64,
    ) -> Result<wit::EntityRecord, wit::PluginError> {
        HostState::get_record(self, &entity, id, Scope::PluginOwn)
            .map(|r| record_to_wit(&r))
            .map_err(to_wit_error)
    }

    fn query_records(
        &mut self,
        entity: String,
        q: wit::RecordQuery,
    ) -> Result<wit::RecordPage, wit::PluginError> {
        let sort = q.sort.as_deref().map(|s| match s.strip_prefix('-') {
            Some(f) => SortKey {
                field: f.into(),
                descending: true,
            },
            None => SortKey {
                field: s.into(),
                descending: false,
            },
        });
        let pq = PluginQuery {
            filters: filters(&q.filters).map_err(to_wit_error)?,
            sort,
            limit: q.limit,
            cursor: q.cursor,
            search: q.search,
            scope: read_scope(q.as_user),
        };
        let page = HostState::query_records(self, &entity, pq).map_err(to_wit_error)?;
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
        let metrics = q
            .metrics
            .iter()
            .map(|m| Metric::parse(m))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| to_wit_error(crate::failure::core_error(e, qingguan_core::Locale::En)))?;
        let aq = PluginAggregate {
            filters: filters(&q.filters).map_err(to_wit_error)?,
            search: q.search,
            group_by: q.group_by,
            metrics,
            scope: read_scope(q.as_user),
        };
        HostState::aggregate_records(self, &entity, aq).map_err(to_wit_error)
    }

    fn create_record(
        &mut self,
        entity: String,
        fields: String,
    ) -> Result<wit::EntityRecord, wit::PluginError> {
        HostState::create_record(self, &entity, &fields, Scope::LegacyWrite)
            .map(|r| record_to_wit(&r))
            .map_err(to_wit_error)
    }

    fn update_record(
        &mut self,
        entity: String,
        id: i64,
        version: i64,
        fields: String,
    ) -> Result<wit::EntityRecord, wit::PluginError> {
        HostState::update_record(self, &entity, id, version, &fields, Scope::LegacyWrite)
            .map(|r| record_to_wit(&r))
            .map_err(to_wit_error)
    }

    fn delete_record(
        &mut self,
        entity: String,
        id: i64,
        version: i64,
    ) -> Result<(), wit::PluginError> {
        HostState::delete_record(self, &entity, id, version, Scope::LegacyWrite)
            .map_err(to_wit_error)
    }

    fn kv_get(&mut self, key: String) -> Result<Option<Vec<u8>>, wit::PluginError> {
        HostState::kv_get(self, &key).map_err(to_wit_error)
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) -> Result<(), wit::PluginError> {
        HostState::kv_set(self, &key, &value).map_err(to_wit_error)
    }

    fn kv_delete(&mut self, key: String) -> Result<(), wit::PluginError> {
        HostState::kv_delete(self, &key).map_err(to_wit_error)
    }

    fn kv_keys(&mut self, prefix: String) -> Result<Vec<String>, wit::PluginError> {
        HostState::kv_keys(self, &prefix).map_err(to_wit_error)
    }

    fn config(&mut self) -> String {
        self.config_json()
    }

    fn log(&mut self, level: wit::LogLevel, message: String) {
        let level = match level {
            wit::LogLevel::Trace => LogLevel::Trace,
            wit::LogLevel::Debug => LogLevel::Debug,
            wit::LogLevel::Info => LogLevel::Info,
            wit::LogLevel::Warn => LogLevel::Warn,
            wit::LogLevel::Error => LogLevel::Error,
        };
        self.write_log(level, message)
    }

    fn emit(&mut self, event: String, payload: String) -> Result<(), wit::PluginError> {
        self.emit_event(event, payload).map_err(to_wit_error)
    }

    fn ask(
        &mut self,
        plugin: String,
        query: String,
        args: String,
    ) -> Result<String, wit::PluginError> {
        self.ask_plugin(&plugin, &query, &args)
            .map_err(to_wit_error)
    }
}

fn op(op: WriteOp) -> wit::WriteOp {
    match op {
        WriteOp::Create => wit::WriteOp::Create,
        WriteOp::Update => wit::WriteOp::Update,
        WriteOp::Delete => wit::WriteOp::Delete,
    }
}

fn out<T>(r: wasmtime::Result<Result<T, wit::PluginError>>) -> Out<T> {
    r.map(|r| r.map_err(from_wit_error))
}

type Guest = self::exports::qingguan::plugin::guest::Guest;
type S<'a> = &'a mut wasmtime::Store<HostState>;

pub(super) fn install(g: &Guest, s: S) -> Out<()> {
    out(g.call_install(s))
}
pub(super) fn upgrade(g: &Guest, s: S, from: &str) -> Out<()> {
    out(g.call_upgrade(s, from))
}
pub(super) fn uninstall(g: &Guest, s: S) -> Out<()> {
    out(g.call_uninstall(s))
}
pub(super) fn health(g: &Guest, s: S) -> Out<()> {
    out(g.call_health(s))
}
pub(super) fn before_write(
    g: &Guest,
    s: S,
    w: WriteOp,
    entity: &str,
    before: Option<&Record>,
    fields: &str,
) -> Out<Option<String>> {
    let before = before.map(record_to_wit);
    out(g.call_before_write(s, op(w), entity, before.as_ref(), &fields.to_owned()))
}
pub(super) fn after_write(g: &Guest, s: S, w: WriteOp, entity: &str, written: &Record) -> Out<()> {
    out(g.call_after_write(s, op(w), entity, &record_to_wit(written)))
}
pub(super) fn action(
    g: &Guest,
    s: S,
    name: &str,
    entity: &str,
    id: i64,
    input: &str,
) -> Out<String> {
    out(g.call_action(s, name, entity, id, &input.to_owned()))
}
pub(super) fn job(g: &Guest, s: S, name: &str) -> Out<()> {
    out(g.call_job(s, name))
}
pub(super) fn http(g: &Guest, s: S, req: &HttpRequest) -> Out<HttpResponse> {
    let req = wit::HttpRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
    };
    out(g.call_http(s, &req)).map(|r| {
        r.map(|r| HttpResponse {
            status: r.status,
            headers: r.headers,
            body: r.body,
        })
    })
}
pub(super) fn answer(g: &Guest, s: S, query: &str, args: &str) -> Out<String> {
    out(g.call_answer(s, query, &args.to_owned()))
}
pub(super) fn event(g: &Guest, s: S, name: &str, payload: &str) -> Out<()> {
    out(g.call_event(s, name, &payload.to_owned()))
}
