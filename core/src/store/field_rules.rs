//! A role's field rules applied by the store: the schema each role sees, records as each
//! role may read them, and writes that name a field hidden from the writer or change one that
//! is read-only for it.

use super::Store;
use crate::access::FieldRule;
use crate::db::ddl;
use crate::db::sql::like_pattern;
use crate::db::Value as Sql;
use crate::record::{HistoryEntry, Record};
use crate::schema::{Entity, Schema};
use crate::search::Term;
use crate::value::Value;
use crate::{Access, FieldErrors, Reason};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One role's view of one schema snapshot.
pub(super) struct View {
    base: Arc<Schema>,
    rules: BTreeMap<String, BTreeMap<String, FieldRule>>,
    seen: Arc<Schema>,
}

impl Store {
    /// The effective schema as the caller sees it: fields their role hides left out, fields it
    /// makes read-only marked `readonly`. The shared snapshot when the role limits no field.
    pub fn schema_for(&self, access: &Access) -> Arc<Schema> {
        let schema = self.schema();
        if !access.role.limits_fields() {
            return schema;
        }
        let mut views = self.views.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = views.get(&access.role.name) {
            if Arc::ptr_eq(&v.base, &schema) && v.rules == access.role.fields {
                return v.seen.clone();
            }
        }
        let seen = schema.seen_by(&access.role);
        views.insert(
            access.role.name.clone(),
            View {
                base: schema,
                rules: access.role.fields.clone(),
                seen: seen.clone(),
            },
        );
        seen
    }
}

/// Leaves out of a record the values of fields hidden from the caller (`e`: its entity type,
/// whole).
pub(super) fn redact(access: &Access, e: &Entity, mut record: Record) -> Record {
    if let Some(hidden) = e.hidden_from(&access.role) {
        record.values.retain(|k, _| !hidden.contains(k));
    }
    record
}

/// What a write's input may not do under the writer's field rules: name a field hidden from
/// them (refused as if it did not exist) or give a read-only field a value other than `before`
/// (the record's current values; on a create, the defaults it would get). Values that do not
/// parse are left to the write's own checks.
pub(super) fn rule_errors(
    access: &Access,
    e: &Entity,
    input: &Map<String, Json>,
    before: &BTreeMap<String, Value>,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let Some(rules) = access.role.field_rules(&e.name) else {
        return errors;
    };
    let hidden = e.hidden_from(&access.role).unwrap_or_default();
    for (name, json) in input {
        let rule = if hidden.contains(name) {
            Some(&FieldRule::Hidden)
        } else {
            rules.get(name)
        };
        match rule {
            Some(FieldRule::Hidden) => {
                errors.insert(
                    name.clone(),
                    Reason::NoField {
                        entity: e.name.clone(),
                        field: name.clone(),
                    },
                );
            }
            Some(FieldRule::ReadOnly) => {
                let Some(f) = e.field(name) else { continue };
                let Ok(value) = Value::from_json(&f.def, json) else {
                    continue;
                };
                if &value != before.get(name).unwrap_or(&Value::Null) {
                    errors.insert(name.clone(), Reason::ReadOnlyForRole);
                }
            }
            None => {}
        }
    }
    errors
}

/// Leaves out of a record's history the changes of fields hidden from the caller (`e`: its
/// entity type, whole), and the updates and imports that changed nothing else (that something
/// hidden changed is not theirs to see).
pub(super) fn redact_history(access: &Access, e: &Entity, entries: &mut Vec<HistoryEntry>) {
    let Some(hidden) = e.hidden_from(&access.role) else {
        return;
    };
    entries.retain_mut(|entry| {
        let before = entry.changes.len();
        entry.changes.retain(|k, _| !hidden.contains(k));
        !(entry.changes.is_empty()
            && before > 0
            && matches!(
                entry.action.as_str(),
                "update" | "import" | "merge" | "attach" | "detach"
            ))
    });
}

/// Whether the caller's role hides any field of an entity type.
pub(crate) fn hides_any(access: &Access, entity: &str) -> bool {
    access
        .role
        .field_rules(entity)
        .is_some_and(|rules| rules.values().any(|r| *r == FieldRule::Hidden))
}

/// The full-text search of a caller whose role hides fields of the type (see [`hides_any`]):
/// each term of `q` must appear in a textual field of `seen` (the type as they see it) —
/// matched on those columns alone, never through the index, which holds every field. A
/// condition that matches nothing when they see no textual field; `None` when `q` has no
/// term. `prefix` is the table alias (`r.` or empty).
pub(crate) fn seen_text_condition(
    seen: &Entity,
    q: &str,
    prefix: &str,
) -> Option<(String, Vec<Sql>)> {
    let columns: Vec<String> = seen
        .fields
        .iter()
        .filter(|f| f.def.kind.is_textual())
        .map(|f| format!("{prefix}{}", ddl::column(f.name())))
        .collect();
    let mut conds = Vec::new();
    let mut params = Vec::new();
    for term in crate::search::terms(q) {
        let (Term::Prefix(text) | Term::Phrase(text)) = term;
        if columns.is_empty() {
            return Some(("1 = 0".into(), Vec::new()));
        }
        let ors: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} LIKE ? ESCAPE '\\'"))
            .collect();
        conds.push(format!("({})", ors.join(" OR ")));
        params.extend(columns.iter().map(|_| Sql::Text(like_pattern(&text))));
    }
    if conds.is_empty() {
        return None;
    }
    Some((conds.join(" AND "), params))
}

#[cfg(test)]
mod tests {
    use crate::schema::{FieldDef, FieldType};
    use crate::{Access, AggregateQuery, Error, FieldRule, Metric};
    use serde_json::json;

    #[test]
    fn a_hidden_field_is_neither_summed_nor_grouped_by() {
        let (_dir, s) = crate::store::tests::store();
        let sys = Access::system();
        s.add_field(
            &sys,
            "customer",
            &FieldDef::new("revenue", FieldType::Decimal, "Revenue", "营收"),
        )
        .unwrap();
        let mut sales = (*s.role("sales").unwrap()).clone();
        sales.fields.insert(
            "customer".into(),
            [("revenue".to_string(), FieldRule::Hidden)].into(),
        );
        s.put_role(&sys, &sales).unwrap();
        let amy = crate::store::tests::user(&s, "amy", "sales", "east");
        let c = s
            .create(
                &amy,
                "customer",
                json!({"name": "c", "kind": "company", "status": "lead"})
                    .as_object()
                    .unwrap(),
            )
            .unwrap();
        let patch = json!({"revenue": "120.50"});
        s.update(&sys, "customer", c.id, 1, patch.as_object().unwrap())
            .unwrap();
        let query = |group_by: &[&str], metrics: Vec<Metric>| AggregateQuery {
            group_by: group_by.iter().map(|g| g.to_string()).collect(),
            metrics,
            ..AggregateQuery::default()
        };
        for q in [
            query(&[], vec![Metric::Sum("revenue".into())]),
            query(&["revenue"], vec![Metric::Count]),
            query(&[], vec![Metric::Max("revenue".into())]),
        ] {
            assert!(
                matches!(
                    s.aggregate(&amy, "customer", &q),
                    Err(Error::BadRequest { .. })
                ),
                "{q:?}"
            );
        }
        let counted = s
            .aggregate(&amy, "customer", &query(&[], vec![Metric::Count]))
            .unwrap();
        assert_eq!(json!(counted[0].values), json!([1]));
        let summed = s
            .aggregate(
                &sys,
                "customer",
                &query(&[], vec![Metric::Sum("revenue".into())]),
            )
            .unwrap();
        assert_eq!(json!(summed[0].values), json!(["120.50"]));
        // The record as Amy reads it, and as the store's own decisions see it.
        assert!(!s
            .get(&amy, "customer", c.id)
            .unwrap()
            .values
            .contains_key("revenue"));
        assert_eq!(
            s.get_whole(&amy, "customer", c.id)
                .unwrap()
                .get("revenue")
                .to_text(),
            "120.50"
        );
    }

    /// A page written straight out (values in the field order of the type as the reader sees
    /// it) is the page of records by name: a field hidden before others shifts none of them.
    #[test]
    fn a_page_in_field_order_is_the_page_by_name() {
        let (_dir, s) = crate::store::tests::store();
        let sys = Access::system();
        for (name, kind) in [
            ("secret", FieldType::Text),
            ("signed_on", FieldType::Date),
            ("met_at", FieldType::Datetime),
            ("revenue", FieldType::Decimal),
        ] {
            s.add_field(&sys, "customer", &FieldDef::new(name, kind, name, name))
                .unwrap();
        }
        let mut sales = (*s.role("sales").unwrap()).clone();
        sales.fields.insert(
            "customer".into(),
            [("secret".to_string(), FieldRule::Hidden)].into(),
        );
        s.put_role(&sys, &sales).unwrap();
        let amy = crate::store::tests::user(&s, "amy", "sales", "east");
        for i in 0..3 {
            let input = json!({"name": format!("客户 \"{i}\""), "kind": "company", "status": "lead",
                "signed_on": format!("2026-0{}-2{i}", i + 1),
                "met_at": "2026-12-03T07:05:09Z", "revenue": format!("{i}.50")});
            let c = s
                .create(&amy, "customer", input.as_object().unwrap())
                .unwrap();
            let secret = json!({"secret": "not for amy"});
            s.update(&sys, "customer", c.id, 1, secret.as_object().unwrap())
                .unwrap();
        }
        let query = crate::ListQuery {
            limit: 2,
            sort: crate::SortKey {
                field: "id".into(),
                descending: false,
            },
            ..crate::ListQuery::default()
        };
        let ordered = s.list_ordered(&amy, "customer", &query).unwrap();
        let written = serde_json::to_value(ordered.api_items()).unwrap();
        let seen = s.schema_for(&amy);
        let entity = seen.entity("customer").unwrap();
        let by_name = s.list(&amy, "customer", &query).unwrap();
        assert_eq!(ordered.next_cursor(), by_name.next_cursor.as_deref());
        assert!(ordered.next_cursor().is_some());
        // Each record as read alone, by name, and its JSON tree.
        let tree: Vec<_> = by_name
            .items
            .iter()
            .map(|r| s.get(&amy, "customer", r.id).unwrap().to_json(entity))
            .collect();
        assert_eq!(tree.len(), 2);
        assert_eq!(written, json!(tree));
        let first = &written[0];
        assert!(first.get("secret").is_none(), "{first}");
        let whole = s.list_ordered(&sys, "customer", &query).unwrap();
        let whole = serde_json::to_value(whole.api_items()).unwrap();
        assert_eq!(whole[0]["secret"], json!("not for amy"));
        assert_eq!(whole[0]["signed_on"], first["signed_on"]);
        assert_eq!(first["signed_on"], json!("2026-01-20"));
        assert_eq!(first["met_at"], json!("2026-12-03T07:05:09Z"));
        assert_eq!(first["revenue"], json!("0.50"));
        assert_eq!(first["name"], json!("客户 \"0\""));
    }
}
