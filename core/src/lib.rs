//! Qingguan's domain core: users, roles, the schema registry (base definitions plus the
//! customisation overlay) and the generic record store on SQLite.
//!
//! This crate is the only code in the workspace that speaks SQL. It knows nothing of HTTP,
//! WebAssembly or the UI: callers hand it an [`Access`] (who is asking) and plain values, and
//! get back plain values or a typed [`Error`].

pub mod access;
pub mod api_tokens;
pub mod audit;
pub mod currency;
pub mod dashboards;
pub mod db;
pub mod error;
pub mod hooks;
pub mod imports;
pub mod invites;
pub mod login_failures;
pub mod notification_choices;
pub mod notifications;
pub mod overdue;
pub mod plugin_jobs;
pub mod plugins;
pub mod query;
pub mod reason;
pub mod record;
pub mod report_pins;
pub mod reports;
pub mod roles;
pub mod saved_views;
pub mod schema;
pub mod search;
pub mod settings;
pub mod store;
pub use store::{changes, hosts};
mod time_text;
pub mod users;
pub mod value;
pub mod webhooks;
pub mod workflow;

pub use access::{Access, EntityPermission, FieldRule, Role, Scope};
pub use error::{Error, FieldErrors, Result};
pub use hooks::{HookError, Hooks, WriteEvent, WriteOp};
pub use notifications::{
    Notification, PluginNotice, Unmailed, NOTICE_MAX_CHARS, NOTICE_MAX_PEOPLE,
};
pub use plugin_jobs::JobRun;
pub use plugins::{KvQuota, PluginRow, PluginVersionRow};
pub use query::{Filter, ListQuery, Op, Page, SortKey};
pub use reason::{render_fields, Reason};
pub use record::{ApiRecord, HistoryEntry, OrderedPage, Record};
pub use saved_views::SavedView;
pub use schema::{
    Column, Entity, EntityDef, Field, FieldDef, FieldPatch, FieldType, FieldTypeInfo, Input, Label,
    Layout, Locale, Origin, PartialLabel, Schema, Section, SelectOption,
};
pub use search::SearchHit;
pub use settings::parse_utc_offset;
pub use store::aggregate::{AggregateQuery, AggregateRow, Metric};
pub use store::{
    copy_to_postgres, restore_install, Approval, AttachmentInfo, CallScope, CopyReport, Decision,
    Delegation, InstallFile, MergeOutcome, MergeRequest, OpenTransition, PageJson, RecordJson,
    RecordWorkflow, Store, StoreOptions, TransitionOutcome,
};
pub use users::{NewUser, Session, UserInfo};
pub use value::Value;
