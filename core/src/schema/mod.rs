//! Entity types and their fields: base definitions, the customisation overlay, and the
//! effective schema that results from merging them.

mod builtin;
pub(crate) mod effective;
mod expression;
mod field_type;
mod number_format;
mod validate;
mod view;

pub use builtin::{builtin_entities, EXCHANGE_RATE};
pub use effective::{Entity, Field, Schema, SharedEntity};
pub use expression::Expression;
pub use field_type::{Column, FieldType, FieldTypeInfo, Input};
pub use number_format::NumberFormat;
pub use validate::{
    check_currency_field, check_entity_def, check_field_def, check_formula_inputs, check_layout,
    check_name, RESERVED_FIELDS,
};

use serde::{Deserialize, Serialize};

/// A UI locale. Every label exists in each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Locale {
    /// English.
    #[default]
    #[serde(rename = "en")]
    En,
    /// Simplified Chinese.
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Locale {
    /// The BCP 47 tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }

    /// Parses a tag leniently: `zh`, `zh-CN`, `zh_cn` → Chinese; `en*` → English.
    pub fn parse(tag: &str) -> Option<Locale> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Locale::ZhCn)
        } else if t.starts_with("en") {
            Some(Locale::En)
        } else {
            None
        }
    }
}

/// A label in every supported locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Label {
    /// English text.
    pub en: String,
    /// Simplified Chinese text.
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
}

impl Label {
    /// A label from its two texts.
    pub fn new(en: impl Into<String>, zh_cn: impl Into<String>) -> Self {
        Label {
            en: en.into(),
            zh_cn: zh_cn.into(),
        }
    }

    /// The text for a locale, falling back to the other one when empty.
    pub fn get(&self, locale: Locale) -> &str {
        let (first, second) = match locale {
            Locale::En => (&self.en, &self.zh_cn),
            Locale::ZhCn => (&self.zh_cn, &self.en),
        };
        if first.is_empty() {
            second
        } else {
            first
        }
    }
}

/// One option of a select or multi-select field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectOption {
    /// The stored value.
    pub value: String,
    /// What users see.
    pub label: Label,
    /// A CSS colour for badges and kanban columns (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// The definition of a field, as a plugin manifest, a core built-in or an admin declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Machine name: lower-case ASCII letters, digits and `_`, starting with a letter.
    pub name: String,
    /// The field type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Display label per locale.
    pub label: Label,
    /// A value must be present.
    #[serde(default)]
    pub required: bool,
    /// No two records may share a (non-empty) value.
    #[serde(default)]
    pub unique: bool,
    /// Lower bound: value for numbers, length for text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Upper bound: value for numbers, length for text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Allowed values of a select or multi-select.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
    /// For a reference: the entity type it points to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// For a decimal: digits after the point (default 2, at most 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// Whether the column gets an index (default depends on the type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed: Option<bool>,
    /// Help text shown under the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Label>,
    /// Set by the system (a plugin's hooks, actions or jobs, a workflow), not by people: the
    /// generic forms show it as text and refuse it in posts. The API leaves enforcement to
    /// whoever owns the field (the plugin's hooks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub readonly: bool,
    /// The value a new record gets when it is created without one (checked against the
    /// field's type, as the API would take it: `3`, `"2026-01-01"`, `["a", "b"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// For an auto-number: literal text, date parts `{YYYY}` `{YY}` `{MM}` `{DD}` (the day
    /// the record is made) and one `{seq}` or `{seq:N}` (zero-padded to N digits); the
    /// sequence starts again at 1 whenever the text around it changes (each year, say).
    /// Default `{seq}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// For a formula: arithmetic over the type's number fields (see [`Expression`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// For a currency amount: the ISO 4217 code its amounts are in (`USD`); without it, the
    /// company currency ([`crate::Store::company_currency`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// For a currency amount whose currency differs per record: the select field of the same
    /// type (its options currency codes) that holds each record's currency; a record that
    /// leaves it empty is in `currency`. Totals over several records are converted to the
    /// company currency at the exchange rates (see `exchange_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_field: Option<String>,
}

impl FieldDef {
    /// A minimal definition; builder methods add the rest.
    pub fn new(name: &str, kind: FieldType, en: &str, zh: &str) -> Self {
        FieldDef {
            name: name.to_string(),
            kind,
            label: Label::new(en, zh),
            required: false,
            unique: false,
            min: None,
            max: None,
            options: Vec::new(),
            target: None,
            scale: None,
            indexed: None,
            help: None,
            readonly: false,
            default: None,
            format: None,
            expression: None,
            currency: None,
            currency_field: None,
        }
    }

    /// Marks the field as set by the system (see [`FieldDef::readonly`]).
    pub fn readonly(mut self) -> Self {
        self.readonly = true;
        self
    }

    /// Marks the field required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Sets the value a new record gets when the field is not given.
    pub fn default_value(mut self, value: serde_json::Value) -> Self {
        self.default = Some(value);
        self
    }

    /// Marks the field unique.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Sets the reference target.
    pub fn target(mut self, entity: &str) -> Self {
        self.target = Some(entity.to_string());
        self
    }

    /// Adds select options from `(value, en, zh)` triples.
    pub fn options(mut self, opts: &[(&str, &str, &str)]) -> Self {
        self.options = opts
            .iter()
            .map(|(v, en, zh)| SelectOption {
                value: v.to_string(),
                label: Label::new(*en, *zh),
                color: None,
            })
            .collect();
        self
    }

    /// Whether the system numbers the field's values.
    pub fn numbered(&self) -> bool {
        self.kind == FieldType::AutoNumber
    }

    /// Whether a record's form offers an input for it: not for what the system sets, nor for
    /// a file (uploaded on the record's page).
    pub fn typed_in_forms(&self) -> bool {
        !self.readonly && self.kind != FieldType::File
    }

    /// Whether the system makes the field's values (numbers them, or computes them): a
    /// write may repeat a value, never change it.
    pub fn computed(&self) -> bool {
        matches!(self.kind, FieldType::AutoNumber | FieldType::Formula)
    }

    /// A formula's expression, parsed (`None` for other types or an unreadable one).
    pub fn formula(&self) -> Option<Expression> {
        if self.kind != FieldType::Formula {
            return None;
        }
        self.expression
            .as_deref()
            .and_then(|e| Expression::parse(e).ok())
    }

    /// The decimal scale in effect.
    pub fn effective_scale(&self) -> u32 {
        self.scale.unwrap_or(2)
    }

    /// Whether no two records may share a value (auto-numbers never do).
    pub fn is_unique(&self) -> bool {
        self.unique || self.numbered()
    }

    /// Whether the column is indexed.
    pub fn is_indexed(&self) -> bool {
        self.is_unique()
            || self
                .indexed
                .unwrap_or_else(|| self.kind.indexed_by_default())
    }

    /// The entity type a reference or user field points at.
    pub fn reference_target(&self) -> Option<&str> {
        match self.kind {
            FieldType::User => Some("user"),
            FieldType::Reference => self.target.as_deref(),
            _ => None,
        }
    }
}

/// A section of the record form and detail page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Section heading.
    pub title: Label,
    /// Field names, in order.
    pub fields: Vec<String>,
}

/// How an entity type's records are laid out: form sections and list columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Form and detail sections, in order.
    #[serde(default)]
    pub sections: Vec<Section>,
    /// Columns of the list page, in order.
    #[serde(default)]
    pub list_columns: Vec<String>,
}

/// The definition of an entity type (without overlay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityDef {
    /// Machine name, same rules as field names.
    pub name: String,
    /// Display label per locale (singular).
    pub label: Label,
    /// The fields, in default order.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    /// The field whose value names a record (default: `name` if present, else the first text field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_field: Option<String>,
    /// A select field whose options become kanban columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kanban_field: Option<String>,
    /// Default layout (a default is derived when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
    /// Composite indexes, each 2 to 6 fields (or `owner`, `created_at`, `updated_at`), for
    /// the filter + sort or group combinations a plugin queries a lot. Every field is already
    /// indexed on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Vec<String>>,
    /// Whether its records are in the full-text index: found by global search and by a list's
    /// `q`. A plugin turns it off for types nobody looks for by text (journal lines, order
    /// lines, ledger lines), which spares every write of them the index.
    #[serde(default = "searchable_default", skip_serializing_if = "is_searchable")]
    pub searchable: bool,
}

fn searchable_default() -> bool {
    true
}

fn is_searchable(searchable: &bool) -> bool {
    *searchable
}

/// Who defined an entity type or field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A built-in of the core.
    Core,
    /// Declared by the plugin with this id.
    Plugin(String),
    /// Added by an administrator (overlay).
    Custom,
}

impl Origin {
    /// `core`, `plugin:<id>` or `custom`.
    pub fn as_string(&self) -> String {
        match self {
            Origin::Core => "core".into(),
            Origin::Plugin(id) => format!("plugin:{id}"),
            Origin::Custom => "custom".into(),
        }
    }

    /// Parses [`Origin::as_string`]'s output.
    pub fn parse(s: &str) -> Option<Origin> {
        match s {
            "core" => Some(Origin::Core),
            "custom" => Some(Origin::Custom),
            _ => s
                .strip_prefix("plugin:")
                .map(|id| Origin::Plugin(id.to_string())),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

/// An administrator's change to an existing field: labels, visibility, help, required,
/// options and the default value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldPatch {
    /// New labels; a locale left out keeps its current label.
    #[serde(default)]
    pub label: Option<PartialLabel>,
    /// Hide (true) or show (false) the field on forms and lists.
    #[serde(default)]
    pub hidden: Option<bool>,
    /// New help text.
    #[serde(default)]
    pub help: Option<PartialLabel>,
    /// Make the field required or optional (overlay).
    #[serde(default)]
    pub required: Option<bool>,
    /// Replace the options of a select or multi-select field (labels, order, new values).
    #[serde(default)]
    pub options: Option<Vec<SelectOption>>,
    /// The value new records get when created without one; `null` removes the default.
    #[serde(default, deserialize_with = "present")]
    pub default: Option<serde_json::Value>,
}

/// A member that is present, `null` included (`null` → `Some(Null)`; absent → `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// A label where each locale is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialLabel {
    /// English, if changing.
    #[serde(default)]
    pub en: Option<String>,
    /// Chinese, if changing.
    #[serde(default, rename = "zh-CN")]
    pub zh_cn: Option<String>,
}

/// Whether `name` is one of the system columns every record table has.
pub fn validate_system_column(name: &str) -> bool {
    validate::SYSTEM_COLUMNS.contains(&name)
}
