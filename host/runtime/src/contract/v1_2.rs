//! Contract `qingguan:plugin@1.2.0`: bindings generated from its WIT, its imports adapted to
//! the runtime's host calls, and its exports called in the runtime's types. Reads and writes
//! run as the calling user unless a call asks for scope `elevated` (capability `elevate`);
//! filters, sort and metrics arrive typed; errors a program acts on are variants of their own.

wasmtime::component::bindgen!({
    path: "../../plugin-sdk/wit/v1.2.0",
    world: "plugin",
});

use self::qingguan::plugin::types as wit;
use super::Out;
use crate::exchange::{HttpRequest, HttpResponse, JobProgress};
use crate::failure::PluginFailure;
use crate::host_calls::{HostState, LogLevel, PluginAggregate, PluginQuery, Scope};
use qingguan_core::{Filter, Metric, Op, Record, SortKey, WriteOp};

pub(super) fn to_wit_error(f: PluginFailure) -> wit::PluginError {
    match f {
        PluginFailure::NotFound(m) => wit::PluginError::NotFound(m),
        PluginFailure::Denied(m) => wit::PluginError::Denied(m),
        PluginFailure::Invalid(message, fields) => wit::PluginError::Invalid(wit::InvalidInput {
            message,
            fields: fields
                .into_iter()
                .map(|(field, message)| wit::FieldError { field, message })
                .collect(),
        }),
        PluginFailure::Stale(m) => wit::PluginError::Stale(m),
        PluginFailure::Unique { field, message } => {
            wit::PluginError::Unique(wit::FieldError { field, message })
        }
        PluginFailure::Conflict(m) => wit::PluginError::Conflict(m),
        PluginFailure::Failed(m) => wit::PluginError::Failed(m),
    }
}

fn from_wit_error(e: wit::PluginError) -> PluginFailure {
    match e {
        wit::PluginError::NotFound(m) => PluginFailure::NotFound(m),
        wit::PluginError::Denied(m) => PluginFailure::Denied(m),
        wit::PluginError::Invalid(i) => PluginFailure::Invalid(
            i.message,
            i.fields.into_iter().map(|f| (f.field, f.message)).collect(),
        ),
        wit::PluginError::Stale(m) => PluginFailure::Stale(m),
        wit::PluginError::Unique(f) => PluginFailure::Unique {
            field: f.field,
            message: f.message,
        },
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

fn scope(s: wit::Scope) -> Scope {
    match s {
        wit::Scope::Caller => Scope::Caller,
        wit::Scope::Elevated => Scope::Elevated,
    }
}

fn bad(field: &str, why: String) -> PluginFailure {
    PluginFailure::Invalid(why.clone(), vec![(field.to_string(), why)])
}

/// A strict date as the core stores it: it must exist, with a four-digit year.
fn date_text(field: &str, d: &wit::Date) -> Result<String, PluginFailure> {
    let ok = (1000..=9999).contains(&d.year)
        && chrono::NaiveDate::from_ymd_opt(d.year, d.month.into(), d.day.into()).is_some();
    if !ok {
        return Err(bad(
            field,
            format!(
                "{:04}-{:02}-{:02} is not a date (years 1000-9999)",
                d.year, d.month, d.day
            ),
        ));
    }
    Ok(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
}

fn value_text(field: &str, v: &wit::Value) -> Result<String, PluginFailure> {
    Ok(match v {
        wit::Value::Text(s) | wit::Value::Decimal(s) => s.clone(),
        wit::Value::Integer(i) => i.to_string(),
        wit::Value::Boolean(b) => b.to_string(),
        wit::Value::Date(d) => date_text(field, d)?,
    })
}

fn filter(f: &wit::Filter) -> Result<Filter, PluginFailure> {
    let field = f.field.as_str();
    let (op, value) = match &f.condition {
        wit::Condition::Eq(v) => (Op::Eq, value_text(field, v)?),
        wit::Condition::Ne(v) => (Op::Ne, value_text(field, v)?),
        wit::Condition::Lt(v) => (Op::Lt, value_text(field, v)?),
        wit::Condition::Lte(v) => (Op::Lte, value_text(field, v)?),
        wit::Condition::Gt(v) => (Op::Gt, value_text(field, v)?),
        wit::Condition::Gte(v) => (Op::Gte, value_text(field, v)?),
        wit::Condition::InList(vs) => {
            let parts = vs
                .iter()
                .map(|v| value_text(field, v))
                .collect::<Result<Vec<_>, _>>()?;
            // The core takes the list as one comma-separated text and trims each part: a value
            // it would change is refused rather than silently matched as something else.
            if parts
                .iter()
                .any(|p| p.contains(',') || p.trim() != p.as_str() || p.is_empty())
            {
                return Err(bad(
                    field,
                    "in-list values cannot be empty, contain a comma or start or end with a space"
                        .into(),
                ));
            }
            if parts.is_empty() {
                return Err(bad(field, "in-list needs at least one value".into()));
            }
            (Op::In, parts.join(","))
        }
        wit::Condition::Contains(s) => (Op::Contains, s.clone()),
        wit::Condition::IsNull => (Op::Null, "true".into()),
        wit::Condition::NotNull => (Op::Null, "false".into()),
    };
    Ok(Filter {
        field: f.field.clone(),
        op,
        value,
    })
}

fn filters(list: &[wit::Filter]) -> Result<Vec<Filter>, PluginFailure> {
    list.iter().map(filter).collect()
}

fn metric(m: &wit::Metric) -> Metric {
    match m {
        wit::Metric::Count => Metric::Count,
        wit::Metric::Sum(f) => Metric::Sum(f.clone()),
        wit::Metric::Min(f) => Metric::Min(f.clone()),
        wit::Metric::Max(f) => Metric::Max(f.clone()),
    }
}

type R<T> = Result<T, wit::PluginError>;

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

    fn get_record(&mut self, entity: String, id: i64, s: wit::Scope) -> R<wit::EntityRecord> {
        HostState::get_record(self, &entity, id, scope(s))
            .map(|r| record_to_wit(&r))
            .map_err(to_wit_error)
    }

    fn query_records(&mut self, entity: String, q: wit::RecordQuery) -> R<wit::RecordPage> {
        let pq = PluginQuery {
            filters: filters(&q.filters).map_err(to_wit_error)?,
            sort: q.sort.map(|s| SortKey {
                field: s.field,
                descending: s.descending,
            }),
            limit: q.limit,
            cursor: q.cursor,
            search: q.search,
            scope: scope(q.scope),
        };
        let page = HostState::query_records(self, &entity, pq).map_err(to_wit_error)?;
        Ok(wit::RecordPage {
            items: page.items.iter().map(record_to_wit).collect(),
            next_cursor: page.next_cursor,
        })
    }

    fn aggregate_records(&mut self, entity: String, q: wit::AggregateQuery) -> R<String> {
        let aq = PluginAggregate {
            filters: filters(&q.filters).map_err(to_wit_error)?,
            search: q.search,
            group_by: q.group_by,
            metrics: q.metrics.iter().map(metric).collect(),
            scope: scope(q.scope),
        };
        HostState::aggregate_records(self, &entity, aq).map_err(to_wit_error)
    }

    fn create_record(
        &mut self,
        entity: String,
        fields: String,
        s: wit::Scope,
    ) -> R<wit::EntityRecord> {
        HostState::create_record(self, &entity, &fields, scope(s))
            .map(|r| record_to_wit(&r))
            .map_err(to_wit_error)
    }

    fn update_record(
        &mut self,
        entity: String,
        id: i64,
        version: i64,
        fields: String,
        s: wit::Scope,
    ) -> R<wit::EntityRecord> {
        HostState::update_record(self, &entity, id, version, &fields, scope(s))
            .map(|r| record_to_wit(&r))
            .map_err(to_wit_error)
    }

    fn delete_record(&mut self, entity: String, id: i64, version: i64, s: wit::Scope) -> R<()> {
        HostState::delete_record(self, &entity, id, version, scope(s)).map_err(to_wit_error)
    }

    fn kv_get(&mut self, key: String) -> R<Option<Vec<u8>>> {
        HostState::kv_get(self, &key).map_err(to_wit_error)
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) -> R<()> {
        HostState::kv_set(self, &key, &value).map_err(to_wit_error)
    }

    fn kv_delete(&mut self, key: String) -> R<()> {
        HostState::kv_delete(self, &key).map_err(to_wit_error)
    }

    fn kv_keys(&mut self, prefix: String) -> R<Vec<String>> {
        HostState::kv_keys(self, &prefix).map_err(to_wit_error)
    }

    fn kv_increment(&mut self, key: String, delta: i64) -> R<i64> {
        HostState::kv_increment(self, &key, delta).map_err(to_wit_error)
    }

    fn kv_compare_and_set(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> R<bool> {
        HostState::kv_compare_and_set(self, &key, expected.as_deref(), new.as_deref())
            .map_err(to_wit_error)
    }

    fn begin_write(&mut self) -> R<()> {
        HostState::begin_write(self).map_err(to_wit_error)
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

    fn emit(&mut self, event: String, payload: String) -> R<()> {
        self.emit_event(event, payload).map_err(to_wit_error)
    }

    fn ask(&mut self, plugin: String, query: String, args: String) -> R<String> {
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
pub(super) fn job_step(g: &Guest, s: S, name: &str, cursor: Option<&str>) -> Out<JobProgress> {
    out(g.call_job_step(s, name, cursor)).map(|r| {
        r.map(|p| JobProgress {
            cursor: p.cursor,
            done: p.done,
            total: p.total,
        })
    })
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
