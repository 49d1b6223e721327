//! Values as a reader sees them: times in their time zone, field values in their words
//! (options by label, money with its sign, files by name), records by title, states by label.

use super::i18n::t;
use crate::caller::Caller;
use crate::state::AppState;
use qingguan_core::{Locale, Value};

/// The offset times are shown in for a caller: the install's time zone (setting `time_zone`,
/// `Store::set_time_zone`), else UTC+8 for people reading Chinese (China has one zone and no
/// daylight saving), else UTC.
pub fn zone_of(state: &AppState, caller: &Caller) -> chrono::FixedOffset {
    let minutes = state
        .store()
        .time_zone()
        .ok()
        .flatten()
        .unwrap_or(match caller.locale() {
            Locale::ZhCn => 8 * 60,
            Locale::En => 0,
        });
    chrono::FixedOffset::east_opt(minutes * 60)
        .unwrap_or(chrono::FixedOffset::east_opt(0).expect("UTC"))
}

/// A moment as people read it: date and minute in the caller's time zone ([`zone_of`]).
pub fn local_time(state: &AppState, caller: &Caller, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&zone_of(state, caller))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A stored RFC 3339 moment (history rows, plugin install attempts) as [`local_time`]; text
/// that is not one is shown as it is.
pub fn local_time_text(state: &AppState, caller: &Caller, at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| local_time(state, caller, t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| at.to_string())
}

/// A field's definition as it applies to one record: an amount whose currency differs per
/// record is in the currency that record names (the company's when it names none).
pub fn for_record<'a>(
    def: &'a qingguan_core::FieldDef,
    r: &qingguan_core::Record,
) -> std::borrow::Cow<'a, qingguan_core::FieldDef> {
    match def.currency_field.as_deref().map(|f| r.get(f)) {
        Some(Value::Text(code)) if def.currency.as_deref() != Some(code.as_str()) => {
            let mut own = def.clone();
            own.currency = Some(code.clone());
            std::borrow::Cow::Owned(own)
        }
        _ => std::borrow::Cow::Borrowed(def),
    }
}

/// A field value as people read it (labels for options, yes/no, titles for references).
pub fn display(
    state: &AppState,
    caller: &Caller,
    def: &qingguan_core::FieldDef,
    v: &Value,
) -> String {
    let locale = caller.locale();
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => t(locale, if *b { "yes" } else { "no" }),
        Value::Decimal(d) if def.kind == qingguan_core::FieldType::Percent => format!("{d}%"),
        // The value of a file field the caller is shown names a file of the record they read.
        Value::Integer(a) if def.kind == qingguan_core::FieldType::File => state
            .store()
            .file_name(*a)
            .ok()
            .flatten()
            .unwrap_or_else(|| format!("#{a}")),
        Value::Decimal(d) if def.kind == qingguan_core::FieldType::Currency => {
            // The effective schema names the currency; a definition from elsewhere may not.
            let code = match def.currency.as_deref() {
                Some(code) => code,
                None => state.store().company_currency().unwrap_or("CNY"),
            };
            qingguan_core::currency::format_amount(d, code)
        }
        Value::Text(s) if !def.options.is_empty() => def
            .options
            .iter()
            .find(|o| &o.value == s)
            .map(|o| o.label.get(locale).to_string())
            .unwrap_or_else(|| s.clone()),
        Value::Multi(vs) => vs
            .iter()
            .map(|s| {
                def.options
                    .iter()
                    .find(|o| &o.value == s)
                    .map(|o| o.label.get(locale).to_string())
                    .unwrap_or_else(|| s.clone())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Ref(id) => def
            .reference_target()
            .map(|t| title_of(state, caller, t, *id))
            .unwrap_or_else(|| format!("#{id}")),
        Value::DateTime(dt) => local_time(state, caller, *dt),
        other => other.to_text(),
    }
}

/// The title of a record the caller may see (`#id` otherwise).
pub fn title_of(state: &AppState, caller: &Caller, entity: &str, id: i64) -> String {
    let schema = state.store().schema_for(&caller.access);
    match (
        schema.entity(entity),
        state.store().get(&caller.access, entity, id),
    ) {
        (Some(e), Ok(r)) => r.title(e),
        _ => format!("#{id}"),
    }
}

/// An entity type's label in the reader's language (its name if the type is gone).
pub fn entity_label(state: &AppState, caller: &Caller, entity: &str) -> String {
    state
        .store()
        .schema()
        .entity(entity)
        .map(|e| e.label.get(caller.locale()).to_string())
        .unwrap_or_else(|| entity.to_string())
}

/// A workflow state (an option of the workflow's state field) by its label in the reader's
/// language; `none yet` when the record has no state.
pub fn state_label(state: &AppState, caller: &Caller, entity: &str, value: Option<&str>) -> String {
    let Some(value) = value else {
        return t(caller.locale(), "no_state");
    };
    let schema = state.store().schema();
    let field = state
        .store()
        .workflow(entity)
        .and_then(|wf| schema.entity(entity)?.field(&wf.state_field).cloned());
    match field {
        Some(f) => display(state, caller, &f.def, &Value::Text(value.to_string())),
        None => value.to_string(),
    }
}
