//! Reference pickers that narrow each other: on a form with a reference field A (a
//! follow-up's `customer`) and a reference field B (its `deal`) whose target type itself
//! refers to A's target (a deal's `customer`), B suggests only records whose reference equals
//! A's current value.

use qingguan_core::{Entity, FieldType, Schema};
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// For each reference field of `e` that another one narrows: `{"by": A, "field": R}` — the
/// form field whose value narrows it, and the field of its target type that must equal it.
pub(super) fn narrowings(schema: &Schema, e: &Entity) -> HashMap<String, Json> {
    let refs: Vec<(&str, &str)> = e
        .visible_fields()
        .filter(|f| f.def.kind == FieldType::Reference && !f.def.readonly)
        .filter_map(|f| Some((f.def.name.as_str(), f.def.target.as_deref()?)))
        .collect();
    let mut out = HashMap::new();
    for (b, b_target) in &refs {
        let Some(target) = schema.entity(b_target) else {
            continue;
        };
        let found = refs
            .iter()
            .filter(|(a, _)| a != b)
            .find_map(|(a, a_target)| {
                target
                    .visible_fields()
                    .find(|r| {
                        r.def.kind == FieldType::Reference
                            && r.def.target.as_deref() == Some(a_target)
                    })
                    .map(|r| json!({"by": a, "field": r.def.name}))
            });
        if let Some(n) = found {
            out.insert(b.to_string(), n);
        }
    }
    out
}
