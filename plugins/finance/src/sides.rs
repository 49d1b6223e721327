//! The two sides of trade credit, kept by the same code: sales (customer invoices, payments
//! received, receivables) and purchases (supplier bills, payments made, payables). A side names
//! its entity types and the words a person reads for them.

use qingguan_plugin_sdk::text::zh;
use qingguan_plugin_sdk::Decimal;

/// Which documents a posting, allocation or report works on.
pub struct Side {
    /// The document type (`invoice`, `bill`); also the name of a line's field pointing to it.
    pub document: &'static str,
    pub line: &'static str,
    pub payment: &'static str,
    pub allocation: &'static str,
    /// The field naming the other party: a customer (reference) or a supplier (name).
    pub party: &'static str,
    /// The payment's date field.
    pub paid_on: &'static str,
    /// The receivables or payables account.
    pub control: &'static str,
    pub document_prefix: &'static str,
    pub payment_prefix: &'static str,
    words: [(&'static str, &'static str); 3],
}

/// Customer invoices, payments received, receivables (应收账款).
pub const SALES: Side = Side {
    document: "invoice",
    line: "invoice_line",
    payment: "payment",
    allocation: "allocation",
    party: "customer",
    paid_on: "received_on",
    control: "1122",
    document_prefix: "INV",
    payment_prefix: "RC",
    words: [
        ("invoice", "发票"),
        ("payment", "收款单"),
        ("customer", "客户"),
    ],
};

/// Supplier bills, payments made, payables (应付账款).
pub const PURCHASES: Side = Side {
    document: "bill",
    line: "bill_line",
    payment: "payment_made",
    allocation: "bill_allocation",
    party: "supplier",
    paid_on: "paid_on",
    control: "2202",
    document_prefix: "BILL",
    payment_prefix: "PM",
    words: [
        ("bill", "采购发票"),
        ("payment", "付款单"),
        ("supplier", "供应商"),
    ],
};

impl Side {
    /// The side an entity type belongs to.
    pub fn of(entity: &str) -> Option<&'static Side> {
        [&SALES, &PURCHASES]
            .into_iter()
            .find(|s| [s.document, s.line, s.payment, s.allocation].contains(&entity))
    }

    fn word(&self, i: usize) -> &'static str {
        let (en, zh_word) = self.words[i];
        if zh() {
            zh_word
        } else {
            en
        }
    }

    /// "invoice" / "发票" (or "bill" / "采购发票"), in the caller's language.
    pub fn document_word(&self) -> &'static str {
        self.word(0)
    }

    /// "payment" / "收款单" (or "付款单").
    pub fn payment_word(&self) -> &'static str {
        self.word(1)
    }

    /// "customer" / "客户" (or "supplier" / "供应商").
    pub fn party_word(&self) -> &'static str {
        self.word(2)
    }

    /// The key of `allocate`'s input: `invoices` or `bills`.
    pub fn allocate_key(&self) -> String {
        format!("{}s", self.document)
    }
}

/// The statuses of a posted document something is still owed on.
pub const OPEN: [&str; 3] = ["posted", "partly_paid", "overdue"];

/// Whether a document is posted and something is still owed on it.
pub fn is_open(status: Option<&str>) -> bool {
    status.is_some_and(|s| OPEN.contains(&s))
}

/// A document's status from what has been paid or credited against it and its due date:
/// paid; overdue when something is still owed after the day it was due (the
/// `overdue_reminders` job marks those that fall due while nothing is written to them);
/// partly paid; posted.
pub fn settled_status(total: Decimal, paid: Decimal, due_on: Option<&str>) -> &'static str {
    let today = qingguan_plugin_sdk::date::format(qingguan_plugin_sdk::date::today());
    if paid >= total {
        "paid"
    } else if due_on.is_some_and(|d| d < today.as_str()) {
        "overdue"
    } else if paid > Decimal::ZERO {
        "partly_paid"
    } else {
        "posted"
    }
}

/// Settles `amount` of a document's balance (an allocation, a credit note), which releases
/// `released` of its company-currency balance: its paid amount, balances and status follow.
pub fn settle(
    entity: &str,
    doc: &qingguan_plugin_sdk::Record,
    amount: Decimal,
    released: Decimal,
) -> qingguan_plugin_sdk::Result<()> {
    let paid = doc.decimal("paid").unwrap_or_default() + amount;
    let total = doc.decimal("total").unwrap_or_default();
    let balance_cc = crate::fx::kept(doc, "balance_cc", "balance");
    qingguan_plugin_sdk::host::elevated().update(
        entity,
        doc.id,
        doc.version,
        &qingguan_plugin_sdk::json!({"paid": paid.to_string(), "balance": (total - paid).to_string(),
                "balance_cc": (balance_cc - released).to_string(),
                "status": settled_status(total, paid, doc.str("due_on"))}),
    )?;
    Ok(())
}
