//! Write Qingguan plugins in Rust.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2` against the
//! `qingguan:plugin@1.3.0` WIT contract (in `wit/v1.3.0/`, which adds [`outreach`] —
//! notifications and outbound HTTP — to 1.2; plugins built against an older 1.x contract keep
//! running). Every call's writes are one transaction — all of them commit when
//! the call returns `Ok`, none do when it returns an error, traps or runs out of time — and
//! reads and writes run as the calling user unless a call asks for [`host::elevated`] access. This crate is the guest side of
//! that contract: implement [`Plugin`] (every method has a default), describe the plugin in
//! `qingguan.toml` next to `Cargo.toml`, and register it with [`export_plugin!`]. The manifest
//! is embedded in the component so that the host can read it before running any plugin code.
//!
//! ```no_run
//! use qingguan_plugin_sdk::{export_plugin, Fields, Plugin, Record, Result, WriteOp, Error};
//!
//! struct Greeter;
//!
//! impl Plugin for Greeter {
//!     fn before_write(op: WriteOp, entity: &str, _before: Option<&Record>, fields: &mut Fields) -> Result<()> {
//!         if entity == "customer" && op == WriteOp::Create && fields.str("name").is_none() {
//!             return Err(Error::invalid("a customer needs a name").field("name", "required"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_plugin!(Greeter);
//! ```
//!
//! Inside a call, use [`host`] to read and write records, the key-value store, configuration,
//! logging, events and other plugins' answers. Every host call is checked against the
//! capabilities the administrator approved; a denied call returns [`Error::Denied`].

#![warn(missing_docs)]

pub mod date;
mod error;
pub mod host;
pub mod html;
pub mod http;
pub mod outreach;
mod query;
mod record;
pub mod text;

pub use error::{Error, Result};
pub use http::{Request, Response};
pub use record::{Fields, Record, decimal_of};
pub use rust_decimal;
pub use rust_decimal::Decimal;
pub use serde_json;
pub use serde_json::{Map, Value, json};

/// The version of the contract this SDK builds plugins against.
pub const SDK_VERSION: &str = "1.3.0";

/// Generated bindings of the WIT contract. Plugin authors normally use the typed wrappers in
/// this crate instead.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit/v1.3.0",
        world: "plugin",
        pub_export_macro: true,
        default_bindings_module: "qingguan_plugin_sdk::bindings",
        generate_all,
    });
}

use bindings::qingguan::plugin1_2_0::types as wit;

/// The kind of write a hook sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    /// A new record.
    Create,
    /// A change to an existing record.
    Update,
    /// A deletion.
    Delete,
}

impl From<wit::WriteOp> for WriteOp {
    fn from(op: wit::WriteOp) -> Self {
        match op {
            wit::WriteOp::Create => WriteOp::Create,
            wit::WriteOp::Update => WriteOp::Update,
            wit::WriteOp::Delete => WriteOp::Delete,
        }
    }
}

/// Where one step of a job left off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobProgress {
    /// Where the next step starts; `None` when the job is finished.
    pub cursor: Option<String>,
    /// Units of work done by this step (records, lines …), added up by the host.
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
}

impl JobProgress {
    /// The job continues at `cursor`.
    ///
    /// ```
    /// let p = qingguan_plugin_sdk::JobProgress::more("42", 100);
    /// assert_eq!(p.cursor.as_deref(), Some("42"));
    /// ```
    pub fn more(cursor: impl Into<String>, done: u64) -> JobProgress {
        JobProgress {
            cursor: Some(cursor.into()),
            done,
            total: None,
        }
    }

    /// The job is finished.
    ///
    /// ```
    /// assert!(qingguan_plugin_sdk::JobProgress::done(3).cursor.is_none());
    /// ```
    pub fn done(done: u64) -> JobProgress {
        JobProgress {
            cursor: None,
            done,
            total: None,
        }
    }
}

/// A Qingguan plugin. Implement the methods you need; the rest do nothing (or answer
/// "not found" for actions, routes and queries the plugin does not provide).
///
/// Methods are associated functions: a fresh instance serves every call, so state lives in
/// records or in the key-value store ([`host::kv_set`]), never in statics.
pub trait Plugin {
    /// First installation: create initial records, defaults in the key-value store.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn install() -> Result<()> {
    ///         host::kv_set("stages", br#"["new","won","lost"]"#)
    ///     }
    /// }
    /// ```
    fn install() -> Result<()> {
        Ok(())
    }

    /// Upgrade from `from_version` (semver) of this plugin: migrate data.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn upgrade(from: &str) -> Result<()> {
    ///         if from.starts_with("1.0.") {
    ///             host::kv_set("schema", b"2")?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn upgrade(from_version: &str) -> Result<()> {
        let _ = from_version;
        Ok(())
    }

    /// Removal. Records of the plugin's entity types are kept unless purged.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn uninstall() -> Result<()> { host::kv_delete("cache") }
    /// }
    /// ```
    fn uninstall() -> Result<()> {
        Ok(())
    }

    /// Called after install and upgrade, before the new version goes live; an error keeps the
    /// previous version serving.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn health() -> Result<()> {
    ///         host::kv_get("stages")?.map(|_| ()).ok_or_else(|| Error::failed("stages missing"))
    ///     }
    /// }
    /// ```
    fn health() -> Result<()> {
        Ok(())
    }

    /// Before a create or update of an entity type the manifest subscribes to. Change `fields`
    /// to change the record; return [`Error::invalid`] to reject it (the reasons reach the user
    /// beside the fields, as HTTP 422).
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn before_write(_op: WriteOp, _entity: &str, _before: Option<&Record>, fields: &mut Fields) -> Result<()> {
    ///         if let Some(name) = fields.str("name") {
    ///             let trimmed = name.trim().to_string();
    ///             fields.set("name", trimmed);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn before_write(
        op: WriteOp,
        entity: &str,
        before: Option<&Record>,
        fields: &mut Fields,
    ) -> Result<()> {
        let _ = (op, entity, before, fields);
        Ok(())
    }

    /// After a write of a subscribed entity type committed (`record` is the record after the
    /// write; for a delete, as it was).
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn after_write(op: WriteOp, entity: &str, record: &Record) -> Result<()> {
    ///         host::emit("changed", &json!({"entity": entity, "id": record.id, "op": format!("{op:?}")}))
    ///     }
    /// }
    /// ```
    fn after_write(op: WriteOp, entity: &str, record: &Record) -> Result<()> {
        let _ = (op, entity, record);
        Ok(())
    }

    /// A named action on a record, declared in the manifest (a button in the UI).
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn action(name: &str, entity: &str, id: i64, _input: Value) -> Result<Value> {
    ///         let r = host::get(entity, id)?;
    ///         match name {
    ///             "close" => Ok(json!(host::update(entity, id, r.version, &json!({"status": "closed"}))?.id)),
    ///             _ => Err(Error::not_found(format!("no action {name}"))),
    ///         }
    ///     }
    /// }
    /// ```
    fn action(name: &str, entity: &str, id: i64, input: Value) -> Result<Value> {
        let _ = (entity, id, input);
        Err(Error::not_found(format!(
            "this plugin has no action '{name}'"
        )))
    }

    /// A scheduled job declared in the manifest.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn job(name: &str) -> Result<()> {
    ///         host::log_info(&format!("job {name} ran"));
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn job(name: &str) -> Result<()> {
        Err(Error::not_found(format!("this plugin has no job '{name}'")))
    }

    /// One step of a long job: continue from `cursor` (`None`: start) and return where the next
    /// step starts ([`JobProgress::done`] when finished). Each step is its own call with its
    /// own time limit and transaction, so a month-end close over 100,000 lines commits in
    /// steps and an interrupted job continues from its last step. The default runs [`job`]
    /// whole in one step.
    ///
    /// [`job`]: Plugin::job
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn job_step(name: &str, cursor: Option<&str>) -> Result<JobProgress> {
    ///         let q = host::Query::new().sort("id").limit(100);
    ///         let q = match cursor { Some(c) => q.cursor(c), None => q };
    ///         let page = host::query("invoice", &q)?;
    ///         // … recompute each invoice on the page …
    ///         Ok(match page.next_cursor {
    ///             Some(next) => JobProgress::more(next, page.items.len() as u64),
    ///             None => JobProgress::done(page.items.len() as u64),
    ///         })
    ///     }
    /// }
    /// ```
    fn job_step(name: &str, cursor: Option<&str>) -> Result<JobProgress> {
        let _ = cursor;
        Self::job(name)?;
        Ok(JobProgress::done(1))
    }

    /// An HTTP request to one of the plugin's routes (`/api/v1/plugins/{id}/...`).
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn http(req: Request) -> Result<Response> {
    ///         match (req.method.as_str(), req.path.as_str()) {
    ///             ("GET", "/hello") => Ok(Response::json(&json!({"hello": "world"}))),
    ///             _ => Ok(Response::status(404)),
    ///         }
    ///     }
    /// }
    /// ```
    fn http(request: Request) -> Result<Response> {
        let _ = request;
        Ok(Response::status(404))
    }

    /// A structured question from another plugin (through [`host::ask`]) or the UI.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn answer(query: &str, args: Value) -> Result<Value> {
    ///         match query {
    ///             "double" => Ok(json!(args["n"].as_i64().unwrap_or(0) * 2)),
    ///             _ => Err(Error::not_found(query)),
    ///         }
    ///     }
    /// }
    /// ```
    fn answer(query: &str, args: Value) -> Result<Value> {
        let _ = args;
        Err(Error::not_found(format!(
            "this plugin answers no query '{query}'"
        )))
    }

    /// An event the manifest subscribes to, emitted by any plugin with [`host::emit`].
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// # struct P;
    /// impl Plugin for P {
    ///     fn event(name: &str, payload: Value) -> Result<()> {
    ///         host::kv_set(&format!("last:{name}"), payload.to_string().as_bytes())
    ///     }
    /// }
    /// ```
    fn event(name: &str, payload: Value) -> Result<()> {
        let _ = (name, payload);
        Ok(())
    }
}

/// Glue between the generated bindings and a [`Plugin`]; used by [`export_plugin!`].
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::export;
    pub use crate::bindings::exports::qingguan::plugin1_2_0::guest::Guest;
    use crate::bindings::qingguan::plugin1_2_0::types as wit;
    use crate::{Fields, Plugin, Record, Request};

    type R<T> = Result<T, wit::PluginError>;

    pub fn install<P: Plugin>() -> R<()> {
        P::install().map_err(Into::into)
    }
    pub fn upgrade<P: Plugin>(from: String) -> R<()> {
        P::upgrade(&from).map_err(Into::into)
    }
    pub fn uninstall<P: Plugin>() -> R<()> {
        P::uninstall().map_err(Into::into)
    }
    pub fn health<P: Plugin>() -> R<()> {
        P::health().map_err(Into::into)
    }
    pub fn before_write<P: Plugin>(
        op: wit::WriteOp,
        entity: String,
        before: Option<wit::EntityRecord>,
        fields: String,
    ) -> R<Option<String>> {
        let before = before.map(Record::from_wit).transpose()?;
        let mut f = Fields::parse(&fields)?;
        P::before_write(op.into(), &entity, before.as_ref(), &mut f)?;
        Ok(f.changed().then(|| f.to_json()))
    }
    pub fn after_write<P: Plugin>(
        op: wit::WriteOp,
        entity: String,
        record: wit::EntityRecord,
    ) -> R<()> {
        let r = Record::from_wit(record)?;
        P::after_write(op.into(), &entity, &r).map_err(Into::into)
    }
    pub fn action<P: Plugin>(name: String, entity: String, id: i64, input: String) -> R<String> {
        let input = crate::error::parse_json(&input)?;
        P::action(&name, &entity, id, input)
            .map(|v| v.to_string())
            .map_err(Into::into)
    }
    pub fn job_step<P: Plugin>(name: String, cursor: Option<String>) -> R<wit::JobProgress> {
        P::job_step(&name, cursor.as_deref())
            .map(|p| wit::JobProgress {
                cursor: p.cursor,
                done: p.done,
                total: p.total,
            })
            .map_err(Into::into)
    }
    pub fn http<P: Plugin>(req: wit::HttpRequest) -> R<wit::HttpResponse> {
        P::http(Request::from(req))
            .map(Into::into)
            .map_err(Into::into)
    }
    pub fn answer<P: Plugin>(query: String, args: String) -> R<String> {
        let args = crate::error::parse_json(&args)?;
        P::answer(&query, args)
            .map(|v| v.to_string())
            .map_err(Into::into)
    }
    pub fn event<P: Plugin>(name: String, payload: String) -> R<()> {
        let payload = crate::error::parse_json(&payload)?;
        P::event(&name, payload).map_err(Into::into)
    }
}

/// Registers a [`Plugin`] as the component's exports and embeds `qingguan.toml` (next to the
/// plugin's `Cargo.toml`) as the `qingguan-manifest` custom section the host reads first.
///
/// ```no_run
/// use qingguan_plugin_sdk::{export_plugin, Plugin};
/// struct Minimal;
/// impl Plugin for Minimal {}
/// export_plugin!(Minimal);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            use $crate::bindings::qingguan::plugin1_2_0::types as __wit;
            struct __QingguanExport;
            impl $crate::__private::Guest for __QingguanExport {
                fn install() -> Result<(), __wit::PluginError> {
                    $crate::__private::install::<$plugin>()
                }
                fn upgrade(from: String) -> Result<(), __wit::PluginError> {
                    $crate::__private::upgrade::<$plugin>(from)
                }
                fn uninstall() -> Result<(), __wit::PluginError> {
                    $crate::__private::uninstall::<$plugin>()
                }
                fn health() -> Result<(), __wit::PluginError> {
                    $crate::__private::health::<$plugin>()
                }
                fn before_write(
                    op: __wit::WriteOp,
                    entity: String,
                    before: Option<__wit::EntityRecord>,
                    fields: String,
                ) -> Result<Option<String>, __wit::PluginError> {
                    $crate::__private::before_write::<$plugin>(op, entity, before, fields)
                }
                fn after_write(
                    op: __wit::WriteOp,
                    entity: String,
                    written: __wit::EntityRecord,
                ) -> Result<(), __wit::PluginError> {
                    $crate::__private::after_write::<$plugin>(op, entity, written)
                }
                fn action(
                    name: String,
                    entity: String,
                    id: i64,
                    input: String,
                ) -> Result<String, __wit::PluginError> {
                    $crate::__private::action::<$plugin>(name, entity, id, input)
                }
                fn job_step(
                    name: String,
                    cursor: Option<String>,
                ) -> Result<__wit::JobProgress, __wit::PluginError> {
                    $crate::__private::job_step::<$plugin>(name, cursor)
                }
                fn http(
                    request: __wit::HttpRequest,
                ) -> Result<__wit::HttpResponse, __wit::PluginError> {
                    $crate::__private::http::<$plugin>(request)
                }
                fn answer(query: String, args: String) -> Result<String, __wit::PluginError> {
                    $crate::__private::answer::<$plugin>(query, args)
                }
                fn event(name: String, payload: String) -> Result<(), __wit::PluginError> {
                    $crate::__private::event::<$plugin>(name, payload)
                }
            }
    $crate::__private::export!(__QingguanExport with_types_in $crate::bindings);
        };
        #[cfg(target_arch = "wasm32")]
        #[unsafe(link_section = "qingguan-manifest")]
        #[used]
        static __QINGGUAN_MANIFEST: [u8; include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/qingguan.toml"
        ))
        .len()] = *include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/qingguan.toml"));
    };
}
