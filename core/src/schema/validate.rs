//! Rules a definition must follow before it may reach the database.

use super::{EntityDef, FieldDef, FieldType, Layout};
use crate::{FieldErrors, Reason};
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

/// Largest scale a decimal field may have.
const MAX_SCALE: u32 = 6;

/// Checks a machine name: 1–40 characters of `a-z`, `0-9` and `_`, starting with a letter.
pub fn check_name(name: &str) -> Result<(), Reason> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Reason::BadName)
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
    let mut err = |k: &str, v: Reason| {
        errors.entry(format!("{prefix}{k}")).or_insert(v);
    };
    if let Err(e) = check_name(&def.name) {
        err("name", e);
    } else if RESERVED_FIELDS.contains(&def.name.as_str()) {
        err(
            "name",
            Reason::Reserved {
                name: def.name.clone(),
            },
        );
    }
    if def.label.en.trim().is_empty() && def.label.zh_cn.trim().is_empty() {
        err("label", Reason::NeedsLabel);
    }
    let is_select = def.kind.info().options;
    if is_select {
        if def.options.is_empty() {
            err("options", Reason::NeedsOptions);
        }
        let mut seen = HashSet::new();
        for o in &def.options {
            if o.value.trim().is_empty() || o.value.len() > 64 {
                err("options", Reason::BadOptionValue);
            } else if o.color.as_deref().is_some_and(|c| !is_color(c)) {
                err("options", Reason::BadColor);
            } else if !seen.insert(o.value.as_str()) {
                err(
                    "options",
                    Reason::DuplicateOption {
                        value: o.value.clone(),
                    },
                );
            }
        }
    } else if !def.options.is_empty() {
        err("options", Reason::OptionsNotAllowed);
    }
    match (def.kind, &def.target) {
        (FieldType::Reference, None) => err("target", Reason::NeedsTarget),
        (FieldType::Reference, Some(t)) if !entity_exists(t) => {
            err("target", Reason::UnknownEntity { name: t.clone() })
        }
        (FieldType::Reference, Some(_)) => {}
        (_, Some(_)) => err("target", Reason::TargetNotAllowed),
        (_, None) => {}
    }
    match (def.kind, def.scale) {
        (
            FieldType::Decimal | FieldType::Percent | FieldType::Formula | FieldType::Currency,
            Some(s),
        ) if s > MAX_SCALE => err("scale", Reason::ScaleTooLarge { max: MAX_SCALE }),
        (FieldType::Decimal | FieldType::Percent | FieldType::Formula | FieldType::Currency, _)
        | (_, None) => {}
        (_, Some(_)) => err("scale", Reason::ScaleNotAllowed),
    }
    match (def.kind, &def.currency) {
        (FieldType::Currency, Some(code)) if crate::currency::currency(code).is_none() => err(
            "currency",
            Reason::UnknownCurrency {
                code: code.chars().take(12).collect(),
            },
        ),
        (FieldType::Currency, _) | (_, None) => {}
        (_, Some(_)) => err("currency", Reason::CurrencyNotAllowed),
    }
    if def.currency_field.is_some() && def.kind != FieldType::Currency {
        err("currency_field", Reason::CurrencyNotAllowed);
    } else if def.currency_field.is_some() && def.currency.is_some() {
        err("currency", Reason::CurrencyAndCurrencyField);
    }
    match (def.kind, &def.format) {
        (FieldType::AutoNumber, Some(f)) => {
            if let Err(why) = super::NumberFormat::parse(f) {
                err("format", why);
            }
        }
        (FieldType::AutoNumber, None) | (_, None) => {}
        (_, Some(_)) => err("format", Reason::FormatNotAllowed),
    }
    match (def.kind, &def.expression) {
        (FieldType::Formula, Some(x)) => {
            if let Err(why) = super::Expression::parse(x) {
                err("expression", why);
            }
        }
        (FieldType::Formula, None) => err("expression", Reason::Required),
        (_, Some(_)) => err("expression", Reason::ExpressionNotAllowed),
        (_, None) => {}
    }
    if def.computed() {
        // Made by the system: nothing for a person or a default to give it.
        if def.default.is_some() {
            err("default", Reason::SystemColumn);
        }
        if def.min.is_some() || def.max.is_some() {
            err("min", Reason::BoundsNotAllowed { kind: def.kind });
        }
        if def.required {
            err("required", Reason::SystemColumn);
        }
    }
    if def.kind == FieldType::File && (def.required || def.default.is_some()) {
        err(
            if def.required { "required" } else { "default" },
            Reason::FileFilledByUpload,
        );
    }
    let bounded = def.kind.is_numeric() || def.kind.is_textual();
    if (def.min.is_some() || def.max.is_some()) && !bounded {
        err("min", Reason::BoundsNotAllowed { kind: def.kind });
    }
    for (k, v) in [("min", def.min), ("max", def.max)] {
        if let Some(v) = v {
            if !v.is_finite() || (def.kind.is_textual() && v < 0.0) {
                err(k, Reason::NotFiniteBound);
            }
        }
    }
    if let (Some(lo), Some(hi)) = (def.min, def.max) {
        if lo > hi {
            err("max", Reason::MaxBelowMin);
        }
    }
    if def.unique && !def.kind.info().can_be_unique {
        err("unique", Reason::CannotBeUnique { kind: def.kind });
    }
    if let Some(d) = &def.default {
        if let Err(why) = crate::value::Value::from_json(def, d) {
            err("default", why);
        }
    }
}

/// `#rgb` or `#rrggbb`: the colours an option may carry (its badge, and a closed stage).
fn is_color(c: &str) -> bool {
    c.strip_prefix('#').is_some_and(|h| {
        (h.len() == 3 || h.len() == 6) && h.chars().all(|ch| ch.is_ascii_hexdigit())
    })
}

/// Checks that a formula reads only number fields (integer, decimal, percent) among `fields`,
/// the fields of its entity type: not text, not itself, not another formula.
pub fn check_formula_inputs<'a>(
    def: &FieldDef,
    fields: impl Iterator<Item = &'a FieldDef> + Clone,
) -> Result<(), Reason> {
    let Some(expression) = def.formula() else {
        return Ok(());
    };
    for name in expression.fields() {
        let ok = fields.clone().any(|f| {
            f.name == name
                && matches!(
                    f.kind,
                    FieldType::Integer
                        | FieldType::Decimal
                        | FieldType::Percent
                        | FieldType::Currency
                )
        });
        if !ok {
            return Err(Reason::NotFormulaInput {
                name: name.to_string(),
            });
        }
    }
    Ok(())
}

/// Checks that a currency amount's `currency_field` names a select field among `fields` (its
/// entity type's) whose options are all currency codes.
pub fn check_currency_field<'a>(
    def: &FieldDef,
    mut fields: impl Iterator<Item = &'a FieldDef>,
) -> Result<(), Reason> {
    let Some(name) = &def.currency_field else {
        return Ok(());
    };
    let ok = fields.any(|f| {
        &f.name == name
            && f.kind == FieldType::Select
            && !f.options.is_empty()
            && f.options
                .iter()
                .all(|o| crate::currency::currency(&o.value).is_some())
    });
    if ok {
        Ok(())
    } else {
        Err(Reason::NotCurrencyCodeField {
            name: name.chars().take(60).collect(),
        })
    }
}

/// Checks a whole entity definition, including its fields and layout.
pub fn check_entity_def(def: &EntityDef, entity_exists: &dyn Fn(&str) -> bool) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Err(e) = check_name(&def.name) {
        errors.insert("name".into(), e);
    }
    if def.label.en.trim().is_empty() && def.label.zh_cn.trim().is_empty() {
        errors.insert("label".into(), Reason::NeedsLabel);
    }
    let own = |t: &str| t == def.name || entity_exists(t);
    let mut names = HashSet::new();
    for (i, f) in def.fields.iter().enumerate() {
        check_field_def(f, &format!("fields[{i}]."), &own, &mut errors);
        if let Err(why) = check_formula_inputs(f, def.fields.iter()) {
            errors
                .entry(format!("fields[{i}].expression"))
                .or_insert(why);
        }
        if let Err(why) = check_currency_field(f, def.fields.iter()) {
            errors
                .entry(format!("fields[{i}].currency_field"))
                .or_insert(why);
        }
        if !names.insert(f.name.as_str()) {
            errors.insert(
                format!("fields[{i}].name"),
                Reason::Duplicate {
                    name: f.name.clone(),
                },
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
                    Reason::NotTextField { name: t.clone() },
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
                    Reason::NotSelectField { name: k.clone() },
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
                || field(n).is_some_and(|f| f.kind.info().orderable)
        };
        if !(2..=6).contains(&ix.len()) {
            errors.insert(format!("indexes[{i}]"), Reason::IndexSize);
        } else if let Some(bad) = ix.iter().find(|n| !ok_column(n)) {
            errors.insert(
                format!("indexes[{i}]"),
                Reason::NotIndexable { name: bad.clone() },
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
            errors.insert(format!("sections[{i}].title"), Reason::NeedsTitle);
        }
        for f in &s.fields {
            if !known.contains(f.as_str()) {
                errors.insert(
                    format!("sections[{i}].fields"),
                    Reason::UnknownField { name: f.clone() },
                );
            } else if !placed.insert(f.as_str()) {
                errors.insert(
                    format!("sections[{i}].fields"),
                    Reason::PlacedTwice { name: f.clone() },
                );
            }
        }
    }
    let mut cols = HashSet::new();
    for c in &layout.list_columns {
        if !known.contains(c.as_str()) && !SYSTEM_COLUMNS.contains(&c.as_str()) {
            errors.insert(
                "list_columns".into(),
                Reason::UnknownField { name: c.clone() },
            );
        } else if !cols.insert(c.as_str()) {
            errors.insert("list_columns".into(), Reason::Duplicate { name: c.clone() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::builtin_entities;

    #[test]
    fn a_declared_formula_reads_only_number_fields_of_its_type() {
        let formula = |expression: &str| {
            let mut f = FieldDef::new("net", FieldType::Formula, "Net", "净额");
            f.expression = Some(expression.into());
            f
        };
        let def = |f: FieldDef| EntityDef {
            name: "order".into(),
            label: crate::schema::Label::new("Order", "订单"),
            fields: vec![
                FieldDef::new("title", FieldType::Text, "Title", "标题"),
                FieldDef::new("amount", FieldType::Decimal, "Amount", "金额"),
                FieldDef::new("other", FieldType::Formula, "Other", "其他"),
                f,
            ],
            title_field: None,
            kanban_field: None,
            layout: None,
            indexes: vec![],
            searchable: true,
        };
        let errors = |expression: &str| check_entity_def(&def(formula(expression)), &|_| false);
        assert!(!errors("amount * 2").contains_key("fields[3].expression"));
        for bad in [
            "title * 2",
            "net + 1",
            "other + 1",
            "ghost",
            "system(1)",
            "",
        ] {
            assert!(
                errors(bad).contains_key("fields[3].expression"),
                "{bad}: {:?}",
                errors(bad)
            );
        }
        // The formula without an expression is refused as well.
        assert!(errors("amount").contains_key("fields[2].expression"));
    }

    #[test]
    fn names() {
        assert!(check_name("score_2").is_ok());
        for bad in ["", "2x", "Score", "a-b", "名字", &"x".repeat(41)] {
            assert_eq!(check_name(bad), Err(Reason::BadName), "{bad}");
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
        assert_eq!(errs["name"], Reason::Reserved { name: "id".into() });
        assert_eq!(errs["label"], Reason::NeedsLabel);
        assert_eq!(errs["options"], Reason::NeedsOptions);
        assert_eq!(errs["scale"], Reason::ScaleNotAllowed);
        assert_eq!(
            errs["min"].to_string(),
            "a select field takes no min/max",
            "{errs:?}"
        );
        let r = FieldDef::new("acct", FieldType::Reference, "A", "").target("nope");
        let mut errs = FieldErrors::new();
        check_field_def(&r, "", &|t| t == "customer", &mut errs);
        assert_eq!(
            errs["target"],
            Reason::UnknownEntity {
                name: "nope".into()
            }
        );
        assert_eq!(errs["target"].to_string(), "unknown entity type 'nope'");
    }
}
