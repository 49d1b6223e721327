//! The running level of each product in each warehouse: quantity, value and latest posting
//! date, kept in the plugin's key-value store beside the ledger and changed in the same
//! transaction as every line posted — so a posting reads its product's balance in one lookup
//! however long the ledger grows. The ledger stays the truth: a level that is missing (a
//! product never posted since this version came in) is summed from the ledger and kept, and
//! installing or upgrading the plugin drops every kept level (a version that did not keep them
//! may have posted in between).

use crate::money::round;
use qingguan_plugin_sdk::host::{self, Metric, Query};
use qingguan_plugin_sdk::*;
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

/// The kept levels of a product, by warehouse (stored as `warehouse` → [quantity, value,
/// latest]).
fn read(product: i64) -> Result<BTreeMap<String, Bin>> {
    let Some(bytes) = host::kv_get(&key(product))? else {
        return Ok(BTreeMap::new());
    };
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
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
    Ok(out)
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

/// The level of a product in a warehouse now: the kept one, else summed from the ledger.
pub fn get(product: i64, warehouse: i64) -> Result<Bin> {
    match read(product)?.remove(&warehouse.to_string()) {
        Some(bin) => Ok(bin),
        None => from_ledger(product, warehouse),
    }
}

/// Adds a posted line to the kept level (called in the posting's transaction, after the
/// line is written; a missing level is first summed from the ledger, line included).
pub fn add(
    product: i64,
    warehouse: i64,
    quantity: Decimal,
    value: Decimal,
    on: &str,
) -> Result<()> {
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
    let v: serde_json::Map<String, Value> = all
        .into_iter()
        .map(|(w, b)| {
            let row = json!([
                b.balance.quantity.normalize().to_string(),
                b.balance.value.to_string(),
                b.latest
            ]);
            (w, row)
        })
        .collect();
    host::kv_set(&key(product), Value::Object(v).to_string().as_bytes())
}

/// Drops every kept level (they are summed again from the ledger when next needed).
pub fn forget_all() -> Result<()> {
    for k in host::kv_keys(PREFIX)? {
        host::kv_delete(&k)?;
    }
    Ok(())
}
