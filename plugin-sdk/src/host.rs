//! Calls into the host: records, the plugin's key-value store, configuration, logging,
//! events and other plugins. Each call is checked against the approved capabilities.

use crate::bindings::qingguan::plugin1_2_0::host as imp;
use crate::bindings::qingguan::plugin1_2_0::types as wit;
pub use crate::query::{FilterValue, Metric, Query, Scope};
use crate::{Error, Record, Result};
use serde_json::Value;

/// Who the current call is for.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let ctx = host::context();
/// let greeting = if ctx.locale == "zh-CN" { "你好" } else { "Hello" };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// This plugin's id.
    pub plugin_id: String,
    /// This plugin's version.
    pub plugin_version: String,
    /// The user whose request caused the call.
    pub user_id: Option<i64>,
    /// Their username.
    pub username: Option<String>,
    /// Their role.
    pub role: Option<String>,
    /// `en` or `zh-CN`.
    pub locale: String,
    /// The plugin whose [`ask`] caused this call; `None` when a user (through the API) or the
    /// host called. Answer a user with what the user may see; a plugin with what it asked for.
    /// In a write hook it is the plugin whose host call made the write (so a plugin can tell
    /// its own writes from a user's edit through the API).
    pub asked_by: Option<String>,
}

/// The current call's context.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let me = host::context().user_id;
/// ```
pub fn context() -> Context {
    let c = imp::context();
    Context {
        plugin_id: c.plugin_id,
        plugin_version: c.plugin_version,
        user_id: c.user_id,
        username: c.username,
        role: c.role,
        locale: c.locale,
        asked_by: c.asked_by,
    }
}

/// One page of records and the cursor of the next.
#[derive(Debug, Clone)]
pub struct Page {
    /// Records.
    pub items: Vec<Record>,
    /// Pass to [`Query::cursor`] for the next page.
    pub next_cursor: Option<String>,
}

/// Reads a record as the calling user.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let c = host::get("customer", 1)?;
/// # Ok::<(), Error>(())
/// ```
pub fn get(entity: &str, id: i64) -> Result<Record> {
    Scope::Caller.get(entity, id)
}

/// One page of a query.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let page = host::query("customer", &host::Query::new().eq("status", "lead"))?;
/// # Ok::<(), Error>(())
/// ```
pub fn query(entity: &str, q: &Query) -> Result<Page> {
    let p = imp::query_records(entity, &q.to_wit())?;
    Ok(Page {
        items: p
            .items
            .into_iter()
            .map(Record::from_wit)
            .collect::<Result<_>>()?,
        next_cursor: p.next_cursor,
    })
}

/// Every record matching a query, following cursors (200 per page).
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let all = host::query_all("deal", &host::Query::new().eq("owner", 3))?;
/// # Ok::<(), Error>(())
/// ```
pub fn query_all(entity: &str, q: &Query) -> Result<Vec<Record>> {
    let mut q = q.clone().limit(200);
    let mut out = Vec::new();
    loop {
        let page = query(entity, &q)?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => q = q.cursor(c),
            None => return Ok(out),
        }
    }
}

/// The records with the given ids that `q` (its conditions and scope) reaches, read 200 ids a
/// query — the ids a grouped sum or another record named.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let named = host::records_by_id("customer", &[3, 5, 8], &host::Query::new().elevated())?;
/// # Ok::<(), Error>(())
/// ```
pub fn records_by_id(entity: &str, ids: &[i64], q: &Query) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        out.extend(query_all(
            entity,
            &q.clone().in_list("id", chunk.iter().copied()),
        )?);
    }
    Ok(out)
}

/// One group of an [`aggregate`]: its key values (in `group_by` order) and its metric values
/// (in metric order), as JSON like record fields — decimals and dates as strings, counts and
/// integer sums as numbers.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Group {
    /// Key values.
    pub group: Vec<Value>,
    /// Metric values.
    pub values: Vec<Value>,
}

impl Group {
    /// A metric value as a decimal (numbers and decimal strings); `None` when it is missing or
    /// null — the sum of a field no record has a value in, the minimum of nothing — so that the
    /// plugin decides what that means instead of reading a zero it did not choose.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{host::Group, json, Decimal};
    /// let g = Group { group: vec![json!(7)], values: vec![json!(3), json!("1200.50"), json!(null)] };
    /// assert_eq!(g.decimal(1), Some("1200.50".parse::<Decimal>().unwrap()));
    /// assert_eq!(g.decimal(0), Some(Decimal::from(3)));
    /// assert_eq!(g.decimal(2), None);
    /// ```
    pub fn decimal(&self, i: usize) -> Option<crate::Decimal> {
        self.values.get(i).and_then(crate::decimal_of)
    }

    /// A metric value as an integer (counts, integer and date sums); `None` when it is missing,
    /// null or not an integer.
    ///
    /// ```
    /// # use qingguan_plugin_sdk::{host::Group, json};
    /// let g = Group { group: vec![], values: vec![json!(3), json!(null)] };
    /// assert_eq!(g.i64(0), Some(3));
    /// assert_eq!(g.i64(1), None);
    /// ```
    pub fn i64(&self, i: usize) -> Option<i64> {
        self.values.get(i).and_then(Value::as_i64)
    }
}

/// Groups and aggregates the records a query matches, in the database: one call instead of
/// paging through every record. At most three group fields and 100,000 groups; the query's
/// sort, limit and cursor are ignored, its filters, search and scope apply.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// use host::Metric::{Count, Sum};
/// let q = host::Query::new().eq("stage", "won").gte("closed_on", "2026-01-01");
/// for g in host::aggregate("deal", &q, &["owner"], &[Count, Sum("amount")])? {
///     let (owner, deals) = (g.group[0].as_i64(), g.i64(0).unwrap_or(0));
///     let revenue = g.decimal(1).unwrap_or_default(); // no amounts at all: nothing won
/// }
/// # Ok::<(), Error>(())
/// ```
pub fn aggregate(
    entity: &str,
    q: &Query,
    group_by: &[&str],
    metrics: &[Metric],
) -> Result<Vec<Group>> {
    let w = q.to_wit();
    let aq = wit::AggregateQuery {
        filters: w.filters,
        search: w.search,
        group_by: group_by.iter().map(|s| s.to_string()).collect(),
        metrics: metrics.iter().map(Metric::to_wit).collect(),
        scope: w.scope,
    };
    let json = imp::aggregate_records(entity, &aq)?;
    serde_json::from_str(&json)
        .map_err(|e| Error::failed(format!("the host sent an unreadable aggregate: {e}")))
}

/// Creates a record from a JSON object of field values, as the calling user.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let r = host::create("customer", &json!({"name": "Acme", "kind": "company", "status": "lead"}))?;
/// # Ok::<(), Error>(())
/// ```
pub fn create(entity: &str, fields: &Value) -> Result<Record> {
    Scope::Caller.create(entity, fields)
}

/// Updates fields if `version` is current ([`crate::Error::Stale`] if not), as the calling
/// user.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let c = host::get("customer", 1)?;
/// host::update("customer", c.id, c.version, &json!({"status": "customer"}))?;
/// # Ok::<(), Error>(())
/// ```
pub fn update(entity: &str, id: i64, version: i64, fields: &Value) -> Result<Record> {
    Scope::Caller.update(entity, id, version, fields)
}

/// Deletes a record if `version` is current, as the calling user.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// host::delete("note", 5, 1)?;
/// # Ok::<(), Error>(())
/// ```
pub fn delete(entity: &str, id: i64, version: i64) -> Result<()> {
    Scope::Caller.delete(entity, id, version)
}

/// Reads and writes with the plugin's own grant instead of the calling user's (needs the
/// `elevate` capability an administrator approves).
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let all = host::elevated().get("appraisal", 7)?;
/// # Ok::<(), Error>(())
/// ```
pub fn elevated() -> Scope {
    Scope::Elevated
}

impl Scope {
    /// Reads a record with this scope.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// let c = host::Scope::Caller.get("customer", 1)?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn get(self, entity: &str, id: i64) -> Result<Record> {
        Record::from_wit(imp::get_record(entity, id, self.to_wit())?)
    }

    /// Creates a record with this scope.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// host::elevated().create("note", &json!({"text": "hi"}))?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn create(self, entity: &str, fields: &Value) -> Result<Record> {
        Record::from_wit(imp::create_record(
            entity,
            &fields.to_string(),
            self.to_wit(),
        )?)
    }

    /// Updates a record with this scope.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// host::elevated().update("note", 1, 1, &json!({"text": "hi"}))?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn update(self, entity: &str, id: i64, version: i64, fields: &Value) -> Result<Record> {
        Record::from_wit(imp::update_record(
            entity,
            id,
            version,
            &fields.to_string(),
            self.to_wit(),
        )?)
    }

    /// Deletes a record with this scope.
    ///
    /// ```no_run
    /// # use qingguan_plugin_sdk::*;
    /// host::elevated().delete("note", 1, 1)?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn delete(self, entity: &str, id: i64, version: i64) -> Result<()> {
        Ok(imp::delete_record(entity, id, version, self.to_wit())?)
    }
}

/// Reads a key of the plugin's own store.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let v = host::kv_get("counter")?;
/// # Ok::<(), Error>(())
/// ```
pub fn kv_get(key: &str) -> Result<Option<Vec<u8>>> {
    Ok(imp::kv_get(key)?)
}

/// Writes a key of the plugin's own store.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// host::kv_set("counter", b"1")?;
/// # Ok::<(), Error>(())
/// ```
pub fn kv_set(key: &str, value: &[u8]) -> Result<()> {
    Ok(imp::kv_set(key, value)?)
}

/// Removes a key.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// host::kv_delete("counter")?;
/// # Ok::<(), Error>(())
/// ```
pub fn kv_delete(key: &str) -> Result<()> {
    Ok(imp::kv_delete(key)?)
}

/// Adds `delta` to the integer a key holds (a missing key counts as 0) and returns the new
/// value, atomically: concurrent increments are never lost.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let n = host::kv_increment("orders", 1)?;
/// # Ok::<(), Error>(())
/// ```
pub fn kv_increment(key: &str, delta: i64) -> Result<i64> {
    Ok(imp::kv_increment(key, delta)?)
}

/// Sets `key` to `new` (`None` removes it) only if it holds `expected` now (`None`: absent);
/// returns whether it did.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let claimed = host::kv_compare_and_set("lock", None, Some(b"me"))?;
/// # Ok::<(), Error>(())
/// ```
pub fn kv_compare_and_set(key: &str, expected: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool> {
    Ok(imp::kv_compare_and_set(
        key,
        expected.map(<[u8]>::to_vec).as_deref(),
        new.map(<[u8]>::to_vec).as_deref(),
    )?)
}

/// Keys with a prefix, sorted.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let keys = host::kv_keys("target:")?;
/// # Ok::<(), Error>(())
/// ```
pub fn kv_keys(prefix: &str) -> Result<Vec<String>> {
    Ok(imp::kv_keys(prefix)?)
}

/// Takes the writer now, as the call's first write would: reads after it see every committed
/// write and no other write commits until this call ends. Call it before reading what a write
/// depends on — a stock balance that must not go negative, an invoice's open amount — so that
/// two concurrent calls cannot both see the same balance. (Reads before a call's first write
/// may see a slightly older state.)
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// host::begin_write()?;
/// let on_hand = host::aggregate("stock_move", &host::Query::new().eq("product", 7), &[], &[host::Metric::Sum("quantity")])?;
/// # Ok::<(), Error>(())
/// ```
pub fn begin_write() -> Result<()> {
    Ok(imp::begin_write()?)
}

/// The plugin's configuration object (`{}` when none is set).
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let currency = host::config()["currency"].as_str().unwrap_or("CNY").to_string();
/// ```
pub fn config() -> Value {
    serde_json::from_str(&imp::config()).unwrap_or(Value::Object(Default::default()))
}

/// Logs at info level into the host's log, tagged with the plugin.
///
/// ```no_run
/// qingguan_plugin_sdk::host::log_info("recomputed targets");
/// ```
pub fn log_info(message: &str) {
    imp::log(wit::LogLevel::Info, message);
}

/// Logs a warning.
///
/// ```no_run
/// qingguan_plugin_sdk::host::log_warn("stage list is empty");
/// ```
pub fn log_warn(message: &str) {
    imp::log(wit::LogLevel::Warn, message);
}

/// Logs an error.
///
/// ```no_run
/// qingguan_plugin_sdk::host::log_error("could not compute");
/// ```
pub fn log_error(message: &str) {
    imp::log(wit::LogLevel::Error, message);
}

/// Emits an event to subscribed plugins.
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// host::emit("deal.won", &json!({"deal": 7}))?;
/// # Ok::<(), Error>(())
/// ```
pub fn emit(event: &str, payload: &Value) -> Result<()> {
    Ok(imp::emit(event, &payload.to_string())?)
}

/// Asks another plugin a structured question (needs the `ask` capability for it).
///
/// ```no_run
/// # use qingguan_plugin_sdk::*;
/// let revenue = host::ask("sales", "won_revenue", &json!({"owner": 3, "from": "2026-01-01", "to": "2026-03-31"}))?;
/// # Ok::<(), Error>(())
/// ```
pub fn ask(plugin: &str, query: &str, args: &Value) -> Result<Value> {
    let text = imp::ask(plugin, query, &args.to_string())?;
    crate::error::parse_json(&text)
}
