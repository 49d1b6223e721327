//! The running level of each product in each warehouse: quantity, value and latest posting
//! date, kept in the plugin's key-value store beside the ledger and changed in the same
//! transaction as every line posted — so a posting reads its product's balance in one lookup
//! however long the ledger grows. The ledger stays the truth: the levels say which ledger line
//! they account for (`levels:through`), and when the ledger has lines past it — posted by a
//! version that did not keep levels, after a rollback — no kept level is trusted: they are read
//! from the ledger, and the next posting drops them all. A missing level is summed from the
//! ledger; one the key-value quota has no room for is not kept; install and upgrade drop them.

use crate::money::round;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::*;
use std::cell::RefCell;
use std::collections::BTreeMap;

const PREFIX: &str = "level:";

/// Quantity and value of one product in one warehouse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balance {
    /// Units on hand.
    pub quantity: Decimal,
    /// Their value at moving-average cost.
    pub value: Decimal,
}

impl Balance {
    /// The moving-average unit cost (none when nothing is on hand).
    pub fn unit_cost(&self) -> Option<Decimal> {
        (self.quantity > Decimal::ZERO).then(|| round(self.value / self.quantity, 4))
    }
}

/// One warehouse's kept level of a product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bin {
    pub balance: Balance,
    /// The latest posting date (none: nothing posted).
    pub latest: Option<String>,
}

fn key(product: i64) -> String {
    format!("{PREFIX}{product}")
}

/// What this call has learnt of the kept levels since it began writing. A call runs on a fresh
/// instance and holds the writer from its first write to its end, so meanwhile the ledger and
/// the levels change only through this call — by `add` (after every ledger line it posts) and
/// `forget_all` — and each level and the ledger's last line need reading once, not per line.
/// This holds while every `stock_move` this plugin creates is followed at once by `add`
/// (`ledger::post`, `revalue`), with no `get` between, and no caller carries on after an
/// error from `post` (the call then rolls back whole).
///
/// The levels `add` changes are written at the end of the call ([`flush`]): `levels:through`,
/// then each changed product's levels once — a receipt of 200 lines of 50 products writes 51
/// keys, not 400.
/// Until then the stored levels are behind the ledger, and the stored `levels:through` says
/// so, so anyone else reading them in the meantime (another plugin's question, in this
/// transaction) sums the ledger instead. A call that ends without `flush` leaves them behind
/// the ledger: they are summed, then dropped and kept again, by the next posting.
#[derive(Default)]
struct Known {
    /// The kept levels account for every ledger line, the last one being this.
    through: Option<i64>,
    /// Each product's kept levels as last read or written (`None`: none kept).
    levels: BTreeMap<i64, Option<BTreeMap<String, Bin>>>,
    /// The products whose levels changed since the last `flush`.
    changed: std::collections::BTreeSet<i64>,
}

thread_local! {
    /// `None` until the call begins writing (see [`remember`]).
    static KNOWN: RefCell<Option<Known>> = const { RefCell::new(None) };
}

/// From now to the end of the call, what is read or written of the levels is remembered.
/// Only after `host::begin_write`: before it, others may post between two reads.
pub fn remember() {
    KNOWN.with(|k| {
        k.borrow_mut().get_or_insert_with(Known::default);
    });
}

/// `f` of what is remembered, if the call remembers.
fn known<T>(f: impl FnOnce(&mut Known) -> T) -> Option<T> {
    KNOWN.with(|k| k.borrow_mut().as_mut().map(f))
}

/// The kept levels of a product, by warehouse (stored as `warehouse` → [quantity, value,
/// latest]).
fn read(product: i64) -> Result<BTreeMap<String, Bin>> {
    if let Some(Some(levels)) = known(|k| k.levels.get(&product).cloned()) {
        return Ok(levels.unwrap_or_default());
    }
    let levels = read_stored(product)?;
    known(|k| k.levels.insert(product, Some(levels.clone())));
    Ok(levels)
}

/// The kept levels of a product as stored.
fn read_stored(product: i64) -> Result<BTreeMap<String, Bin>> {
    let Some(bytes) = host::kv_get(&key(product))? else {
        return Ok(BTreeMap::new());
    };
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(parse_levels(&v))
}

/// Levels as stored (`warehouse` → [quantity, value, latest]) — also what was just written,
/// read back exactly as a later call would read it.
fn parse_levels(v: &Value) -> BTreeMap<String, Bin> {
    let mut out = BTreeMap::new();
    for (w, row) in v.as_object().into_iter().flatten() {
        let num = |i: usize| {
            row[i]
                .as_str()
                .and_then(|s| s.parse::<Decimal>().ok())
                .unwrap_or_default()
        };
        out.insert(
            w.clone(),
            Bin {
                balance: Balance {
                    quantity: num(0),
                    value: num(1),
                },
                latest: row[2].as_str().map(str::to_string),
            },
        );
    }
    out
}

/// Sums a product's level in a warehouse from the ledger.
fn from_ledger(product: i64, warehouse: i64) -> Result<Bin> {
    let rows = host::aggregate(
        "stock_move",
        &Query::new()
            .elevated()
            .eq("product", product)
            .eq("warehouse", warehouse),
        &[],
        &[
            Metric::Sum("quantity"),
            Metric::Sum("value"),
            Metric::Max("posted_on"),
        ],
    )?;
    let g = rows.first();
    Ok(Bin {
        balance: Balance {
            quantity: g.and_then(|g| g.decimal(0)).unwrap_or_default(),
            value: g.and_then(|g| g.decimal(1)).unwrap_or_default(),
        },
        latest: g
            .and_then(|g| g.values.get(2))
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The key holding the id of the last ledger line the kept levels account for.
const THROUGH: &str = "levels:through";

/// The largest ledger line id, below `before` when given (none: an empty ledger).
fn last_line(before: Option<i64>) -> Result<Option<i64>> {
    let mut q = Query::new().elevated();
    if let Some(b) = before {
        q = q.lt("id", b);
    }
    let rows = host::aggregate("stock_move", &q, &[], &[Metric::Max("id")])?;
    Ok(rows.first().and_then(|g| g.i64(0)))
}

/// The line the kept levels account for (none: none kept yet).
fn through() -> Result<Option<i64>> {
    Ok(host::kv_get(THROUGH)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok()))
}

/// Whether the kept levels account for every line up to `last`: some version that did not
/// keep them (a rollback) may have posted since; then none is to be trusted.
fn fresh(last: Option<i64>) -> Result<bool> {
    Ok(match (through()?, last) {
        (_, None) => true,
        (Some(t), Some(l)) => t == l,
        (None, Some(_)) => read_any()?.is_none(),
    })
}

/// Some kept level's key, if there is one.
fn read_any() -> Result<Option<String>> {
    Ok(host::kv_keys(PREFIX)?.into_iter().next())
}

/// The level of a product in a warehouse now: the kept one, else summed from the ledger (also
/// when the kept levels are behind the ledger).
pub fn get(product: i64, warehouse: i64) -> Result<Bin> {
    let known_fresh = known(|k| k.through.is_some()).unwrap_or(false);
    if !known_fresh && !fresh(last_line(None)?)? {
        return from_ledger(product, warehouse);
    }
    match read(product)?.remove(&warehouse.to_string()) {
        Some(bin) => Ok(bin),
        None => from_ledger(product, warehouse),
    }
}

/// Adds ledger line `line` (just written, in the posting's transaction) to the kept level. If
/// the kept levels were behind the ledger before it, they are all dropped first; a missing
/// level is summed from the ledger, line included. A level the key-value quota has no room
/// for is not kept (it is summed when needed).
pub fn add(
    line: i64,
    product: i64,
    warehouse: i64,
    quantity: Decimal,
    value: Decimal,
    on: &str,
) -> Result<()> {
    // Known fresh: the lines this call posted were each added here, the last one just now.
    let known_fresh = known(|k| k.through.is_some()).unwrap_or(false);
    if !known_fresh && !fresh(last_line(Some(line))?)? {
        forget_all()?;
    }
    let mut all = read(product)?;
    let w = warehouse.to_string();
    let entry = match all.remove(&w) {
        Some(mut bin) => {
            bin.balance.quantity += quantity;
            bin.balance.value += value;
            if bin.latest.as_deref().is_none_or(|l| l < on) {
                bin.latest = Some(on.to_string());
            }
            bin
        }
        // The ledger already holds the new line.
        None => from_ledger(product, warehouse)?,
    };
    all.insert(w, entry);
    let stored = stored_form(&all);
    let deferred = known(|k| {
        k.levels.insert(product, Some(parse_levels(&stored)));
        k.changed.insert(product);
        k.through = Some(line);
    });
    if deferred.is_some() {
        return Ok(());
    }
    keep(product, &stored)?;
    host::kv_set(THROUGH, line.to_string().as_bytes())
}

/// A product's levels as stored: `warehouse` → [quantity, value, latest].
fn stored_form(levels: &BTreeMap<String, Bin>) -> Value {
    let v: serde_json::Map<String, Value> = levels
        .iter()
        .map(|(w, b)| {
            let row = json!([
                b.balance.quantity.normalize().to_string(),
                b.balance.value.to_string(),
                b.latest
            ]);
            (w.clone(), row)
        })
        .collect();
    Value::Object(v)
}

/// Stores a product's levels; `false` when the key-value quota has no room for them (then
/// none are kept for it, and its level is summed from the ledger when needed).
fn keep(product: i64, stored: &Value) -> Result<bool> {
    let key = key(product);
    match host::kv_set(&key, stored.to_string().as_bytes()) {
        Ok(()) => Ok(true),
        Err(_) => {
            host::kv_delete(&key)?;
            Ok(false)
        }
    }
}

/// Writes the line the kept levels account for, then the levels this call changed (see
/// [`Known`]; one transaction: the order matters only for the quota). Called at the end of
/// every call that may post. With no room for the line, no level is written: the stored ones
/// stay behind the ledger, which the next posting sees and mends.
pub fn flush() -> Result<()> {
    let Some((changed, through)) = known(|k| (std::mem::take(&mut k.changed), k.through)) else {
        return Ok(());
    };
    let Some(line) = through.filter(|_| !changed.is_empty()) else {
        return Ok(());
    };
    if host::kv_set(THROUGH, line.to_string().as_bytes()).is_err() {
        return Ok(());
    }
    for product in changed {
        let levels = known(|k| k.levels.get(&product).cloned().flatten()).flatten();
        let kept = match levels {
            Some(levels) => keep(product, &stored_form(&levels))?,
            None => {
                host::kv_delete(&key(product))?;
                false
            }
        };
        if !kept {
            known(|k| k.levels.insert(product, None));
        }
    }
    Ok(())
}

/// Drops every kept level (they are summed again from the ledger when next needed).
pub fn forget_all() -> Result<()> {
    known(|k| *k = Known::default());
    loop {
        // The host lists at most 10,000 keys at a time.
        let keys = host::kv_keys(PREFIX)?;
        if keys.is_empty() {
            break;
        }
        for k in keys {
            host::kv_delete(&k)?;
        }
    }
    host::kv_delete(THROUGH)
}
