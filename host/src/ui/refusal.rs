//! A refused change as the reader reads it: the core's reasons rendered in their language,
//! fields and record types by their labels (a record still referenced, a plugin action's
//! refusal, a hook's refusal), never the core's English summary for a reader of Chinese.

use crate::error::ApiError;
use crate::ui::i18n::t;
use qingguan_core::{Locale, Reason, Schema};

/// Why a change was refused, in `locale`: each refused field by its label (of `entity`, when
/// the key names one of its fields) with its reason; without field reasons a sentence for the
/// error's code. The core's and runtime's own English summary is used only for a reader of
/// English, and only where no sentence of ours says more.
pub fn refusal_text(
    schema: &Schema,
    locale: Locale,
    entity: Option<&str>,
    api: &ApiError,
) -> String {
    let colon = if locale == Locale::ZhCn { "：" } else { ": " };
    let sep = if locale == Locale::ZhCn { "；" } else { "; " };
    let e = entity.and_then(|n| schema.entity(n));
    if api.code == "stale_version" {
        return t(locale, "stale_record");
    }
    let fields = api
        .fields
        .iter()
        .map(|(key, why)| {
            let why = reason_text(schema, locale, why);
            // A key that is no field of the type (`id`: the record as a whole, a plugin's
            // own parameter) is left out: the reason speaks for itself.
            match e.and_then(|e| e.field(key)) {
                Some(f) => format!("{}{colon}{why}", f.def.label.get(locale)),
                None => why,
            }
        })
        .collect::<Vec<_>>()
        .join(sep);
    // A plugin's own words (a hook's or an action's refusal): plugins answer in the call's
    // language, so its summary is shown, its field reasons after it.
    if matches!(api.code, "rejected" | "plugin_error") && !api.message.is_empty() {
        return if fields.is_empty() {
            api.message.clone()
        } else {
            let (open, close) = if locale == Locale::ZhCn {
                ("（", "）")
            } else {
                (" (", ")")
            };
            format!("{}{open}{fields}{close}", api.message)
        };
    }
    if !fields.is_empty() {
        return fields;
    }
    let key = match api.code {
        "forbidden" => "forbidden",
        "not_found" => "not_found",
        "plugin_failed" => "refusal_plugin_failed",
        "plugin_unavailable" => "refusal_plugin_unavailable",
        "at_capacity" => "refusal_busy",
        _ if locale == Locale::En && !api.message.is_empty() => return api.message.clone(),
        _ => "refusal_other",
    };
    t(locale, key)
}

/// One reason in `locale`; a record still referenced names the referencing type and field by
/// their labels.
fn reason_text(schema: &Schema, locale: Locale, why: &Reason) -> String {
    match why {
        Reason::StillReferenced {
            count,
            entity,
            field,
        } => {
            let other = schema.entity(entity);
            let type_label = other
                .map(|o| o.label.get(locale).to_string())
                .unwrap_or_else(|| entity.clone());
            let field_label = other
                .and_then(|o| o.field(field))
                .map(|f| f.def.label.get(locale).to_string())
                .unwrap_or_else(|| field.clone());
            t(locale, "still_referenced")
                .replace("{count}", &count.to_string())
                .replace("{entity}", &type_label)
                .replace("{field}", &field_label)
        }
        other => other.render(locale),
    }
}

/// A refused form that is no record's (a token, a webhook, an import's options, a
/// delegation) in the reader's language: each named part with its reason — a part named
/// `group.part` (`mapping.Stage`) by its last name — else the refusal as a sentence, never the
/// core's English summary.
pub fn form_refusal(locale: Locale, api: &ApiError) -> String {
    let colon = if locale == Locale::ZhCn { "：" } else { ": " };
    let sep = if locale == Locale::ZhCn { "；" } else { "; " };
    if api.fields.is_empty() {
        return refusal_text(&Schema::default(), locale, None, api);
    }
    api.fields
        .iter()
        .map(|(key, why)| {
            let part = key.split_once('.').map_or(key.as_str(), |(_, rest)| rest);
            format!("{part}{colon}{}", why.render(locale))
        })
        .collect::<Vec<_>>()
        .join(sep)
}
