//! What the ledger announces: every call that posts movements emits `inventory.posted` once
//! it commits, with each movement's kind, source, date and value — so that finance books the
//! stock's value (receipts, cost of goods sold, shrinkage) without inventory knowing finance.

use qingguan_plugin_sdk::host;
use qingguan_plugin_sdk::*;
use std::cell::RefCell;

thread_local! {
    /// Movements posted by this call (a fresh instance serves every call).
    static POSTED: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// Notes a posted movement.
pub fn record(m: &Record) {
    let v = json!({
        "id": m.id,
        "kind": m.str("kind"),
        "revalued_kind": m.str("revalued_kind"),
        "source": m.str("source"),
        "posted_on": m.str("posted_on"),
        "value": m.decimal("value").map(|d| d.to_string()),
    });
    POSTED.with(|p| p.borrow_mut().push(v));
}

/// Emits what this call posted, in events of at most 200 movements (after the call commits
/// the host delivers them; if it rolls back, none are).
pub fn flush() -> Result<()> {
    let posted = POSTED.with(|p| std::mem::take(&mut *p.borrow_mut()));
    for chunk in posted.chunks(200) {
        host::emit("inventory.posted", &json!({"movements": chunk}))?;
    }
    Ok(())
}
