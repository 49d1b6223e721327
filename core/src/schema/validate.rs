//! Rules a definition must follow before it may reach the database.

use super::{EntityDef, FieldDef, FieldType, Layout};
use crate::FieldErrors;
use std::collections::HashSet;

/// Names a field may not take: the system columns every record has, and the reserved query
/// parameters of the list API.
pub const RESERVED_FIELDS: &[&str] = &[
    "id",
    "version",
    "owner",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "q",
    "sort",
    "limit",
    "cursor",
    "entity",
];

/// System columns that may appear in list columns and sort keys.
pub const SYSTEM_COLUMNS: &[&str] = &[
    "id",
    "version",
    "owner",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
];

/// Checks a machine name: 1–40 characters of `a-z`, `0-9` and `_`, starting with a letter.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("must be 1-40 characters of a-z, 0-9 and _, starting with a letter".into())
    }
}

/// Checks one field definition. `entity_exists` tells whether a reference target is known.
/// Errors are keyed `{prefix}name`, `{prefix}options`, ….
pub fn check_field_def(
    def: &FieldDef,
    prefix: &str,
    entity_exists: &dyn Fn(&str) -> bool,
    errors: &mut FieldErrors,
) {
    let mut err = |k: &str, v: String| {
        errors.entry(format!("{prefix}{k}")).or_insert(v);
    };
    if let Err(e) = check_name(&def.name) {
        err("name", e);
    } else if RESERVED_FIELDS.contains(&def.name.as_str()) {
        err("name", format!("'{}' is reserved", def.name));
    }
    if def.label.en.trim().is_empty() && def.label.zh_cn.trim().is_empty() {
        err("label", "needs an English or Chinese label".into());
    }
    let is_select = matches!(def.kind, FieldType::Select | FieldType::MultiSelect);
    if is_select {
        if def.options.is_empty() {
            err("options", "a select field needs at least one option".into());
        }
        let mut seen = HashSet::new();
        for o in &def.options {
            if o.value.trim().is_empty() || o.value.len() > 64 {
                err("options", "option values must be 1-64 characters".into());
            } else if !seen.insert(o.value.as_str()) {
                err("options", format!("option '{}' appears twice", o.value));
            }
        }
    } else if !def.options.is_empty() {
        err("options", "only select fields take options".into());
    }
    match (def.kind, &def.target) {
        (FieldType::Reference, None) => err("target", "a reference needs a target entity".into()),
        (FieldType::Reference, Some(t)) if !entity_exists(t) => {
            err("target", format!("unknown entity type '{t}'"))
        }
        (FieldType::Reference, Some(_)) => {}
        (_, Some(_)) => err("target", "only reference fields take a target".into()),
        (_, None) => {}
    }
    match (def.kind, def.scale) {
        (FieldType::Decimal, Some(s)) if s > 6 => err("scale", "at most 6".into()),
        (FieldType::Decimal, _) | (_, None) => {}
        (_, Some(_)) => err("scale", "only decimal fields take a scale".into()),
    }
    let bounded = def.kind.is_numeric() || def.kind.is_textual();
    if (def.min.is_some() || def.max.is_some()) && !bounded {
        err(
            "min",
            format!("a {} field takes no min/max", def.kind.as_str()),
        );
    }
    for (k, v) in [("min", def.min), ("max", def.max)] {
        if let Some(v) = v {
            if !v.is_finite() || (def.kind.is_textual() && v < 0.0) {
                err(k, "must be a finite number (a length for text)".into());
            }
        }
    }
    if let (Some(lo), Some(hi)) = (def.min, def.max) {
        if lo > hi {
            err("max", "must not be less than min".into());
        }
    }
    if def.unique
        && matches!(
            def.kind,
            FieldType::LongText | FieldType::MultiSelect | FieldType::Boolean
        )
    {
        err(
            "unique",
            format!("a {} field cannot be unique", def.kind.as_str()),
        );
    }
}

/// Checks a whole entity definition, including its fields and layout.
pub fn check_entity_def(def: &EntityDef, entity_exists: &dyn Fn(&str) -> bool) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Err(e) = check_name(&def.name) {
        errors.insert("name".into(), e);
    }
    if def.label.en.trim().is_empty() && def.label.zh_cn.trim().is_empty() {
        errors.insert("label".into(), "needs an English or Chinese label".into());
    }
    let own = |t: &str| t == def.name || entity_exists(t);
    let mut names = HashSet::new();
    for (i, f) in def.fields.iter().enumerate() {
        check_field_def(f, &format!("fields[{i}]."), &own, &mut errors);
        if !names.insert(f.name.as_str()) {
            errors.insert(
                format!("fields[{i}].name"),
                format!("'{}' appears twice", f.name),
            );
        }
    }
    let field = |n: &str| def.fields.iter().find(|f| f.name == n);
    if let Some(t) = &def.title_field {
        match field(t) {
            Some(f) if f.kind.is_textual() => {}
            _ => {
                errors.insert(
                    "title_field".into(),
                    format!("'{t}' is not a text field of this entity"),
                );
            }
        }
    }
    if let Some(k) = &def.kanban_field {
        match field(k) {
            Some(f) if f.kind == FieldType::Select => {}
            _ => {
                errors.insert(
                    "kanban_field".into(),
                    format!("'{k}' is not a select field of this entity"),
                );
            }
        }
    }
    if let Some(layout) = &def.layout {
        let known: HashSet<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
        check_layout(layout, &known, &mut errors);
    }
    for (i, ix) in def.indexes.iter().enumerate() {
        let ok_column = |n: &str| {
            matches!(n, "owner" | "created_at" | "updated_at")
                || field(n).is_some_and(|f| {
                    !matches!(f.kind, FieldType::MultiSelect | FieldType::LongText)
                })
        };
        if !(2..=6).contains(&ix.len()) {
            errors.insert(format!("indexes[{i}]"), "an index has 2 to 6 fields".into());
        } else if let Some(bad) = ix.iter().find(|n| !ok_column(n)) {
            errors.insert(
                format!("indexes[{i}]"),
                format!("'{bad}' is not an indexable field of this entity"),
            );
        }
    }
    errors
}

/// Checks that a layout names only known fields, each at most once per place.
pub fn check_layout(layout: &Layout, known: &HashSet<&str>, errors: &mut FieldErrors) {
    let mut placed = HashSet::new();
    for (i, s) in layout.sections.iter().enumerate() {
        if s.title.en.trim().is_empty() && s.title.zh_cn.trim().is_empty() {
            errors.insert(format!("sections[{i}].title"), "needs a title".into());
        }
        for f in &s.fields {
            if !known.contains(f.as_str()) {
                errors.insert(
                    format!("sections[{i}].fields"),
                    format!("unknown field '{f}'"),
                );
            } else if !placed.insert(f.as_str()) {
                errors.insert(
                    format!("sections[{i}].fields"),
                    format!("'{f}' is placed twice"),
                );
            }
        }
    }
    let mut cols = HashSet::new();
    for c in &layout.list_columns {
        if !known.contains(c.as_str()) && !SYSTEM_COLUMNS.contains(&c.as_str()) {
            errors.insert("list_columns".into(), format!("unknown field '{c}'"));
        } else if !cols.insert(c.as_str()) {
            errors.insert("list_columns".into(), format!("'{c}' appears twice"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::builtin_entities;

    #[test]
    fn names() {
        assert!(check_name("score_2").is_ok());
        for bad in ["", "2x", "Score", "a-b", "名字", &"x".repeat(41)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builtins_are_valid() {
        let all = builtin_entities();
        for e in &all {
            let errs = check_entity_def(e, &|t| all.iter().any(|x| x.name == t));
            assert!(errs.is_empty(), "{}: {errs:?}", e.name);
        }
    }

    #[test]
    fn composite_indexes() {
        let all = builtin_entities();
        let mut c = all.iter().find(|e| e.name == "customer").unwrap().clone();
        c.indexes = vec![vec!["status".into(), "owner".into()]];
        assert!(check_entity_def(&c, &|_| true).is_empty());
        for bad in [
            vec!["status"],
            vec!["status", "nope"],
            vec!["status", "notes"],
        ] {
            c.indexes = vec![bad.iter().map(|s| s.to_string()).collect()];
            assert!(
                check_entity_def(&c, &|_| true).contains_key("indexes[0]"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn field_rules() {
        let mut f = FieldDef::new("id", FieldType::Select, "", "");
        f.scale = Some(2);
        f.min = Some(1.0);
        let mut errs = FieldErrors::new();
        check_field_def(&f, "", &|_| true, &mut errs);
        for k in ["name", "label", "options", "scale", "min"] {
            assert!(errs.contains_key(k), "{k} missing in {errs:?}");
        }
        let r = FieldDef::new("acct", FieldType::Reference, "A", "").target("nope");
        let mut errs = FieldErrors::new();
        check_field_def(&r, "", &|t| t == "customer", &mut errs);
        assert!(errs["target"].contains("nope"));
    }
}
