//! What an import is told: which field each column fills (suggested from the headers, or the
//! mapping remembered for the file's layout), insert or upsert by a key, the date format the
//! file is written in, how select values and references are read — and the check of all that
//! against the entity type before any row is read.

use qingguan_core::{Access, Entity, Error, FieldErrors, FieldType, Reason, Schema};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The pseudo-field a column naming the record's owner fills.
pub const OWNER: &str = "owner";
/// The pseudo-field a column with a migrated record's creation time fills (administrators).
pub const CREATED_AT: &str = "created_at";

/// Insert every row, or update the record whose key matches and insert the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Insert,
    Upsert,
}

/// The date formats an import may declare: the file says nothing, so the person does.
/// `YY` years are 2000–2069 for 00–69 and 1970–1999 for 70–99.
pub const DATE_FORMATS: &[(&str, &str)] = &[
    ("YYYY-MM-DD", "%Y-%m-%d"),
    ("YYYY/MM/DD", "%Y/%m/%d"),
    ("YYYY.MM.DD", "%Y.%m.%d"),
    ("YYYY年MM月DD日", "%Y年%m月%d日"),
    ("DD/MM/YYYY", "%d/%m/%Y"),
    ("DD-MM-YYYY", "%d-%m-%Y"),
    ("DD.MM.YYYY", "%d.%m.%Y"),
    ("MM/DD/YYYY", "%m/%d/%Y"),
    ("DD-MM-YY", "%d-%m-%y"),
    ("DD/MM/YY", "%d/%m/%y"),
    ("MM/DD/YY", "%m/%d/%y"),
];

/// An import's options, as the API takes them and the log keeps them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// Column name → field it fills (`owner`, `created_at` included); unmapped columns are
    /// skipped.
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub mode: Mode,
    /// The unique field an upsert matches rows on (an external id).
    #[serde(default)]
    pub key: Option<String>,
    /// One of [`DATE_FORMATS`]; `YYYY-MM-DD` when not given.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Per select field: text in the file → option value (`"Won" → "won"`). Text not listed
    /// is matched to an option's value or label in either language.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Per reference field: the field of the referenced type its text is matched on (a unique
    /// field, or `id`); the title field when not given.
    #[serde(default)]
    pub match_on: BTreeMap<String, String>,
}

impl ImportOptions {
    /// The chrono format of the declared date format.
    pub fn chrono_date_format(&self) -> &'static str {
        let name = self.date_format.as_deref().unwrap_or("YYYY-MM-DD");
        DATE_FORMATS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .unwrap_or("%Y-%m-%d")
    }

    /// The declared date format's name.
    pub fn date_format_name(&self) -> &str {
        self.date_format.as_deref().unwrap_or("YYYY-MM-DD")
    }

    /// The column a field is filled from.
    pub fn column_of(&self, field: &str) -> Option<&str> {
        self.mapping
            .iter()
            .find(|(_, f)| f.as_str() == field)
            .map(|(c, _)| c.as_str())
    }

    /// Checks the options against the entity type, the file's columns and the caller; every
    /// problem at once, as `BadRequest` with a reason per option (`mapping.<column>`, `key`,
    /// `date_format`, `values.<field>`, `match_on.<field>`).
    pub fn check(
        &self,
        schema: &Schema,
        e: &Entity,
        headers: &[String],
        access: &Access,
    ) -> Result<(), Error> {
        let mut errors = FieldErrors::new();
        // The first reason about an option is the one it gets.
        fn keep(errors: &mut FieldErrors, at: String, why: Reason) {
            errors.entry(at).or_insert(why);
        }
        let mut filled: BTreeMap<&str, &str> = BTreeMap::new();
        for (column, field) in &self.mapping {
            let at = format!("mapping.{column}");
            if field.is_empty() {
                continue;
            }
            if !headers.contains(column) {
                keep(
                    &mut errors,
                    at.clone(),
                    Reason::NoColumn {
                        name: column.clone(),
                    },
                );
            }
            if filled.insert(field, column).is_some() {
                keep(
                    &mut errors,
                    at.clone(),
                    Reason::MappedTwice {
                        name: field.clone(),
                    },
                );
            }
            match field.as_str() {
                OWNER => {}
                CREATED_AT if !access.is_admin() => {
                    keep(&mut errors, at, Reason::AdminOnly);
                }
                CREATED_AT => {}
                name => match e.field(name) {
                    None => {
                        keep(
                            &mut errors,
                            at,
                            Reason::NoField {
                                entity: e.name.clone(),
                                field: name.to_string(),
                            },
                        );
                    }
                    Some(f) if f.retired => {
                        keep(&mut errors, at, Reason::Retired);
                    }
                    // Numbers and formulas are the system's to give: a file may name one only
                    // to find the record it updates.
                    Some(f) if f.def.computed() && self.mode == Mode::Insert => {
                        keep(&mut errors, at, Reason::SystemColumn);
                    }
                    // A spreadsheet holds no files: they are uploaded to each record.
                    Some(f) if f.def.kind == qingguan_core::FieldType::File => {
                        keep(&mut errors, at, Reason::FileFilledByUpload);
                    }
                    Some(_) => {}
                },
            }
        }
        if e.name == "user" {
            // People come in as new users with an invitation each; changing them is one at a
            // time.
            if self.mode == Mode::Upsert {
                keep(
                    &mut errors,
                    "mode".into(),
                    Reason::NotOption {
                        value: "upsert".into(),
                        options: vec!["insert".into()],
                    },
                );
            }
            if let Some(c) = self.column_of(CREATED_AT) {
                keep(&mut errors, format!("mapping.{c}"), Reason::AdminOnly);
            }
            if self.column_of("username").is_none() {
                keep(
                    &mut errors,
                    "mapping".into(),
                    Reason::NoField {
                        entity: "user".into(),
                        field: "username".into(),
                    },
                );
            }
        }
        if self.mode == Mode::Upsert {
            match self.key.as_deref() {
                Some(k) if e.field(k).is_some_and(|f| f.def.is_unique()) => {
                    if self.column_of(k).is_none() {
                        keep(&mut errors, "key".into(), Reason::Required);
                    }
                }
                Some(k) => {
                    keep(
                        &mut errors,
                        "key".into(),
                        Reason::KeyNotUnique { name: k.into() },
                    );
                }
                None => {
                    keep(&mut errors, "key".into(), Reason::Required);
                }
            }
        }
        if let Some(f) = &self.date_format {
            if !DATE_FORMATS.iter().any(|(n, _)| n == f) {
                let formats = DATE_FORMATS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ");
                keep(
                    &mut errors,
                    "date_format".into(),
                    Reason::UnknownDateFormat { formats },
                );
            }
        }
        for (field, map) in &self.values {
            let at = format!("values.{field}");
            match e.field(field) {
                Some(f) if matches!(f.def.kind, FieldType::Select | FieldType::MultiSelect) => {
                    for value in map.values() {
                        if !value.is_empty() && !f.def.options.iter().any(|o| &o.value == value) {
                            keep(
                                &mut errors,
                                at.clone(),
                                Reason::NotOption {
                                    value: value.clone(),
                                    options: f
                                        .def
                                        .options
                                        .iter()
                                        .map(|o| o.value.clone())
                                        .collect(),
                                },
                            );
                        }
                    }
                }
                _ => {
                    keep(
                        &mut errors,
                        at,
                        Reason::NotSelectField {
                            name: field.clone(),
                        },
                    );
                }
            }
        }
        for (field, on) in &self.match_on {
            let at = format!("match_on.{field}");
            let target = e
                .field(field)
                .filter(|f| f.def.kind == FieldType::Reference)
                .and_then(|f| f.def.reference_target())
                .and_then(|t| schema.entity(t));
            match target {
                None => keep(
                    &mut errors,
                    at,
                    Reason::NoField {
                        entity: e.name.clone(),
                        field: field.clone(),
                    },
                ),
                // A reference is matched on the id or on a field no two records share.
                Some(t)
                    if on != "id"
                        && !t.field(on).is_some_and(|f| {
                            f.def.unique || t.title_field.as_deref() == Some(on.as_str())
                        }) =>
                {
                    keep(&mut errors, at, Reason::KeyNotUnique { name: on.clone() })
                }
                Some(_) => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::BadRequest {
                message: "the import's options do not fit".into(),
                fields: errors,
            })
        }
    }
}

/// A comparable form of a name: lower case, without spaces, underscores, hyphens and
/// punctuation (`Account Name`, `account_name` and `ACCOUNT-NAME` are one name).
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field each header most likely fills: a field's name or label in either language, the
/// owner (`owner`, `负责人`, `所有者`) and, for an administrator, the creation time.
pub fn suggest(e: &Entity, headers: &[String], access: &Access) -> BTreeMap<String, String> {
    let mut names: Vec<(String, String)> = Vec::new();
    for f in e.fields.iter().filter(|f| !f.retired && !f.hidden) {
        let field = f.def.name.clone();
        names.push((squash(&f.def.name), field.clone()));
        names.push((squash(&f.def.label.en), field.clone()));
        names.push((squash(&f.def.label.zh_cn), field));
    }
    for alias in [
        "owner",
        "负责人",
        "所有者",
        "销售代表",
        "salesagent",
        "salesrep",
    ] {
        names.push((squash(alias), OWNER.into()));
    }
    if access.is_admin() {
        for alias in [
            "created",
            "createdat",
            "creationdate",
            "创建时间",
            "创建日期",
        ] {
            names.push((squash(alias), CREATED_AT.into()));
        }
    }
    let mut out = BTreeMap::new();
    let mut taken: Vec<String> = Vec::new();
    for h in headers {
        let key = squash(h);
        if let Some((_, field)) = names
            .iter()
            .find(|(n, f)| !n.is_empty() && *n == key && !taken.contains(f))
        {
            taken.push(field.clone());
            out.insert(h.clone(), field.clone());
        }
    }
    out
}
