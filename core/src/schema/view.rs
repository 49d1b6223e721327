//! The effective schema as one role sees it: the fields its rules hide are left out, the
//! fields they make read-only are marked so; every other role sees the schema unchanged.

use super::{Entity, Schema};
use crate::access::{FieldRule, Role};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

impl Entity {
    /// The fields hidden from `role`: those its rules hide, and the formulas that read one
    /// (a margin would give the cost away). `None` when it hides nothing here.
    pub fn hidden_from(&self, role: &Role) -> Option<BTreeSet<String>> {
        let rules = role.field_rules(&self.name)?;
        let mut hidden: BTreeSet<String> = rules
            .iter()
            .filter(|(_, r)| **r == FieldRule::Hidden)
            .map(|(name, _)| name.clone())
            .collect();
        if hidden.is_empty() {
            return None;
        }
        for f in &self.fields {
            if let Some(expression) = f.def.formula() {
                if expression
                    .fields()
                    .iter()
                    .any(|input| hidden.contains(*input))
                {
                    hidden.insert(f.def.name.clone());
                }
            }
        }
        Some(hidden)
    }

    /// The entity type as `role` sees it: fields hidden from it ([`Entity::hidden_from`]) left
    /// out (of the fields, the layout and the kanban grouping), read-only ones marked
    /// `readonly`.
    pub fn seen_by(&self, role: &Role) -> Cow<'_, Entity> {
        let Some(rules) = role.field_rules(&self.name) else {
            return Cow::Borrowed(self);
        };
        let hidden_set = self.hidden_from(role).unwrap_or_default();
        let hidden = |name: &str| hidden_set.contains(name);
        let mut e = self.clone();
        e.fields.retain(|f| !hidden(f.name()));
        for f in &mut e.fields {
            if rules.get(f.name()) == Some(&FieldRule::ReadOnly) {
                f.def.readonly = true;
            }
        }
        for section in &mut e.layout.sections {
            section.fields.retain(|name| !hidden(name));
        }
        e.layout.sections.retain(|s| !s.fields.is_empty());
        e.layout.list_columns.retain(|name| !hidden(name));
        if e.kanban_field.as_deref().is_some_and(hidden) {
            e.kanban_field = None;
        }
        if e.title_field.as_deref().is_some_and(hidden) {
            e.title_field = None;
        }
        Cow::Owned(e)
    }
}

impl Schema {
    /// The schema as `role` sees it (the same snapshot when the role limits no field).
    pub fn seen_by(self: &Arc<Schema>, role: &Role) -> Arc<Schema> {
        if !role.limits_fields() {
            return self.clone();
        }
        let mut out = Schema::default();
        for e in self.entities() {
            out.push(e.seen_by(role).into_owned());
        }
        Arc::new(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::access::{FieldRule, Role};
    use crate::schema::builtin_entities;
    use crate::schema::effective::tests::schema_of;

    #[test]
    fn a_role_sees_what_its_rules_leave() {
        let schema = std::sync::Arc::new(schema_of(builtin_entities()));
        let mut role = Role::defaults().remove(2);
        assert_eq!(role.name, "sales");
        assert!(std::sync::Arc::ptr_eq(&schema.seen_by(&role), &schema));
        role.fields.insert(
            "customer".into(),
            [
                ("phone".to_string(), FieldRule::Hidden),
                ("status".to_string(), FieldRule::ReadOnly),
            ]
            .into(),
        );
        let seen = schema.seen_by(&role);
        let customer = seen.entity("customer").unwrap();
        assert!(customer.field("phone").is_none());
        assert!(customer.field("status").unwrap().def.readonly);
        assert!(!customer.field("email").unwrap().def.readonly);
        assert!(customer
            .layout
            .sections
            .iter()
            .all(|s| !s.fields.iter().any(|f| f == "phone")));
        assert!(!customer.layout.list_columns.iter().any(|f| f == "phone"));
        // Other entity types and administrators are untouched.
        assert_eq!(
            seen.entity("contact").unwrap().fields.len(),
            schema.entity("contact").unwrap().fields.len()
        );
        role.admin = true;
        assert!(std::sync::Arc::ptr_eq(&schema.seen_by(&role), &schema));
    }
}
