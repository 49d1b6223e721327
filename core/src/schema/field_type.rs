//! Field types in one place: every fact about a type that storage, validation, queries, the
//! JSON API, OpenAPI, forms and messages need is one row of [`FieldTypeInfo`]. Adding a type
//! is a variant, a row here, and its value conversions (`value.rs` from JSON and text,
//! `db/sql.rs` from a column) — the compiler lists each place, nothing else matches on types.

use serde::{Deserialize, Serialize};

/// The type of a field, which decides its column, its JSON shape and its validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    Text,
    /// Multi-line text.
    LongText,
    /// A whole number (64-bit).
    Integer,
    /// An exact decimal (money); JSON strings such as `"1234.50"`.
    Decimal,
    /// True or false.
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An instant, RFC 3339; stored in UTC.
    Datetime,
    /// One value from a list of options.
    Select,
    /// Several values from a list of options.
    MultiSelect,
    /// The id of a record of another entity type (`target`).
    Reference,
    /// The id of a user.
    User,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// An http(s) URL.
    Url,
    /// A percentage, exact like a decimal: `"12.5"` is 12.5 %.
    Percent,
    /// A number computed from the record's other number fields by the field's `expression`
    /// (`amount * (1 - discount)`), exact like a decimal, kept up to date on every write.
    Formula,
    /// A number the system gives each new record from the field's `format` (prefix, date
    /// parts and a sequence: `HT-{YYYY}-{seq:4}` → `HT-2026-0001`), unique, never typed.
    AutoNumber,
    /// An amount of money, exact like a decimal (two places unless the field says), in the
    /// field's currency or the company's.
    Currency,
    /// A file attached to the record (the attachment's id), uploaded on the record's page or
    /// through the API; the record's other files stay in its attachments.
    File,
}

/// How a type's values are stored in its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// An SQL integer (numbers, exact decimals scaled to integers, booleans, record ids).
    Integer,
    /// Text (strings, ISO dates and times, JSON arrays of options).
    Text,
}

/// The form input that edits a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// One line of text, with an HTML `type` (`text`, `number`, `date`, `email`, …).
    Line(&'static str),
    /// Several lines.
    Area,
    /// A yes/no choice.
    Check,
    /// One option of a list.
    Choice,
    /// Several options of a list.
    Choices,
    /// A record picked by its title.
    Pick,
}

/// Everything a field type means, outside the conversion of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldTypeInfo {
    /// The snake_case name used in JSON and manifests.
    pub name: &'static str,
    /// What an implementer reads in Studio: English, Chinese.
    pub label: (&'static str, &'static str),
    /// Its column.
    pub column: Column,
    /// Values go into the full-text index and `contains` filters apply.
    pub textual: bool,
    /// `min`/`max` bound the value (numbers) rather than the length (text).
    pub numeric: bool,
    /// A value is a record id (and so must exist).
    pub reference: bool,
    /// The field declares its allowed values (`options`).
    pub options: bool,
    /// A value is a list.
    pub multi: bool,
    /// Few distinct values: equality selects many rows (the list planner keeps it off its
    /// index when another index can give the sort).
    pub few_valued: bool,
    /// Values can be grouped and indexed together with other fields.
    pub orderable: bool,
    /// A field of this type may be declared unique.
    pub can_be_unique: bool,
    /// A new field of this type gets an index unless told otherwise.
    pub indexed_by_default: bool,
    /// The JSON Schema of a value: `type`, `format`.
    pub json: (&'static str, Option<&'static str>),
    /// What a JSON value should have been, when it had the wrong type: English, Chinese.
    pub expects: (&'static str, &'static str),
    /// The form input.
    pub input: Input,
}

const TEXT: FieldTypeInfo = FieldTypeInfo {
    name: "text",
    label: ("Text", "文本"),
    column: Column::Text,
    textual: true,
    numeric: false,
    reference: false,
    options: false,
    multi: false,
    few_valued: false,
    orderable: true,
    can_be_unique: true,
    indexed_by_default: true,
    json: ("string", None),
    expects: ("a string", "必须是字符串"),
    input: Input::Line("text"),
};

impl FieldType {
    /// Every field type, in documentation order.
    pub const ALL: [FieldType; 19] = [
        FieldType::Text,
        FieldType::LongText,
        FieldType::Integer,
        FieldType::Decimal,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Select,
        FieldType::MultiSelect,
        FieldType::Reference,
        FieldType::User,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
        FieldType::Percent,
        FieldType::Formula,
        FieldType::AutoNumber,
        FieldType::Currency,
        FieldType::File,
    ];

    /// What this type means.
    pub const fn info(self) -> &'static FieldTypeInfo {
        match self {
            FieldType::Text => &TEXT,
            FieldType::LongText => &FieldTypeInfo {
                name: "long_text",
                label: ("Long text", "长文本"),
                orderable: false,
                can_be_unique: false,
                indexed_by_default: false,
                input: Input::Area,
                ..TEXT
            },
            FieldType::Integer => &FieldTypeInfo {
                name: "integer",
                label: ("Whole number", "整数"),
                column: Column::Integer,
                textual: false,
                numeric: true,
                json: ("integer", Some("int64")),
                expects: ("a whole number", "必须是整数"),
                input: Input::Line("number"),
                ..TEXT
            },
            FieldType::Decimal => &FieldTypeInfo {
                name: "decimal",
                label: ("Decimal (money)", "小数（金额）"),
                column: Column::Integer,
                textual: false,
                numeric: true,
                json: ("string", Some("decimal")),
                expects: (
                    "a decimal number (string such as \"12.50\")",
                    "必须是小数（字符串，例如 \"12.50\"）",
                ),
                ..TEXT
            },
            FieldType::Boolean => &FieldTypeInfo {
                name: "boolean",
                label: ("Yes / no", "是/否"),
                column: Column::Integer,
                textual: false,
                few_valued: true,
                can_be_unique: false,
                indexed_by_default: false,
                json: ("boolean", None),
                expects: ("true or false", "必须是“是”或“否”"),
                input: Input::Check,
                ..TEXT
            },
            FieldType::Date => &FieldTypeInfo {
                name: "date",
                label: ("Date", "日期"),
                textual: false,
                json: ("string", Some("date")),
                expects: ("a date string YYYY-MM-DD", "必须是日期字符串（年-月-日）"),
                input: Input::Line("date"),
                ..TEXT
            },
            FieldType::Datetime => &FieldTypeInfo {
                name: "datetime",
                label: ("Date and time", "日期时间"),
                textual: false,
                json: ("string", Some("date-time")),
                expects: ("a date-time string", "必须是日期时间字符串"),
                input: Input::Line("datetime-local"),
                ..TEXT
            },
            FieldType::Select => &FieldTypeInfo {
                name: "select",
                label: ("Choice", "单选"),
                textual: false,
                options: true,
                few_valued: true,
                input: Input::Choice,
                ..TEXT
            },
            FieldType::MultiSelect => &FieldTypeInfo {
                name: "multi_select",
                label: ("Several choices", "多选"),
                textual: false,
                options: true,
                multi: true,
                orderable: false,
                can_be_unique: false,
                indexed_by_default: false,
                json: ("array", None),
                expects: ("a list of option values", "必须是选项值的列表"),
                input: Input::Choices,
                ..TEXT
            },
            FieldType::Reference => &FieldTypeInfo {
                name: "reference",
                label: ("Link to a record", "关联记录"),
                column: Column::Integer,
                textual: false,
                reference: true,
                json: ("integer", Some("int64")),
                expects: ("a record id (number)", "必须是记录编号（数字）"),
                input: Input::Pick,
                ..TEXT
            },
            FieldType::User => &FieldTypeInfo {
                name: "user",
                label: ("User", "用户"),
                column: Column::Integer,
                textual: false,
                reference: true,
                json: ("integer", Some("int64")),
                expects: ("a record id (number)", "必须是记录编号（数字）"),
                input: Input::Pick,
                ..TEXT
            },
            FieldType::Email => &FieldTypeInfo {
                name: "email",
                label: ("E-mail", "邮箱"),
                json: ("string", Some("email")),
                input: Input::Line("email"),
                ..TEXT
            },
            FieldType::Phone => &FieldTypeInfo {
                name: "phone",
                label: ("Phone", "电话"),
                input: Input::Line("tel"),
                ..TEXT
            },
            FieldType::Url => &FieldTypeInfo {
                name: "url",
                label: ("Web address", "网址"),
                json: ("string", Some("uri")),
                input: Input::Line("url"),
                ..TEXT
            },
            FieldType::Percent => &FieldTypeInfo {
                name: "percent",
                label: ("Percent", "百分比"),
                column: Column::Integer,
                textual: false,
                numeric: true,
                json: ("string", Some("decimal")),
                expects: (
                    "a percentage as a decimal string (\"12.5\" for 12.5 %)",
                    "必须是百分数（字符串，例如 \"12.5\" 表示 12.5%）",
                ),
                ..TEXT
            },
            FieldType::Currency => &FieldTypeInfo {
                name: "currency",
                label: ("Currency amount", "货币金额"),
                column: Column::Integer,
                textual: false,
                numeric: true,
                json: ("string", Some("decimal")),
                expects: (
                    "an amount as a decimal string (\"1234.50\")",
                    "必须是金额（字符串，例如 \"1234.50\"）",
                ),
                ..TEXT
            },
            FieldType::File => &FieldTypeInfo {
                name: "file",
                label: ("File", "文件"),
                column: Column::Integer,
                textual: false,
                orderable: false,
                can_be_unique: false,
                indexed_by_default: false,
                json: ("integer", Some("int64")),
                expects: (
                    "the id of a file attached to this record",
                    "必须是本记录附件的编号",
                ),
                ..TEXT
            },
            FieldType::Formula => &FieldTypeInfo {
                name: "formula",
                label: ("Formula", "公式"),
                column: Column::Integer,
                textual: false,
                numeric: true,
                can_be_unique: false,
                indexed_by_default: false,
                json: ("string", Some("decimal")),
                expects: (
                    "a decimal number (string such as \"12.50\")",
                    "必须是小数（字符串，例如 \"12.50\"）",
                ),
                ..TEXT
            },
            FieldType::AutoNumber => &FieldTypeInfo {
                name: "auto_number",
                label: ("Auto-number", "自动编号"),
                ..TEXT
            },
        }
    }

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    /// Whether values of this type go into the full-text index.
    pub fn is_textual(self) -> bool {
        self.info().textual
    }

    /// Whether a value is a record id (and so must exist).
    pub fn is_reference(self) -> bool {
        self.info().reference
    }

    /// Whether `min`/`max` bound the value (numbers) rather than the length (text).
    pub fn is_numeric(self) -> bool {
        self.info().numeric
    }

    /// Whether a new field of this type gets an index unless told otherwise.
    pub fn indexed_by_default(self) -> bool {
        self.info().indexed_by_default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_serde_form_and_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for t in FieldType::ALL {
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json, t.as_str(), "{t:?}");
            assert!(seen.insert(t.as_str()));
            let back: FieldType = serde_json::from_value(json).unwrap();
            assert_eq!(back, t);
        }
    }

    #[test]
    fn rows_are_consistent() {
        for t in FieldType::ALL {
            let i = t.info();
            assert!(!(i.textual && i.numeric), "{t:?}");
            assert!(!i.multi || i.options, "lists are of options: {t:?}");
            assert!(!i.multi || !i.orderable, "{t:?}");
            assert!(!i.label.0.is_empty() && !i.label.1.is_empty(), "{t:?}");
            if i.numeric || i.reference {
                assert_eq!(i.column, Column::Integer, "{t:?}");
            }
        }
        assert_eq!(FieldType::Decimal.info().column, Column::Integer);
        assert!(!FieldType::LongText.indexed_by_default());
        assert!(FieldType::Email.is_textual());
    }
}
