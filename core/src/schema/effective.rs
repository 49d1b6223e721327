//! The effective schema: base definitions with the overlay applied, as callers see it.

use super::{EntityDef, FieldDef, Label, Layout, Locale, Origin, Section};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// A field as it is in effect: its definition plus where it came from and how it is shown.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The definition, with overlay labels and `required` already applied.
    #[serde(flatten)]
    pub def: FieldDef,
    /// Who declared the field.
    pub origin: Origin,
    /// Hidden by an administrator: kept and readable, not shown on forms and lists.
    pub hidden: bool,
    /// No longer declared by its base definition: kept and readable, not writable.
    pub retired: bool,
}

impl Field {
    /// The field name.
    pub fn name(&self) -> &str {
        &self.def.name
    }
}

/// An entity type as it is in effect.
#[derive(Debug, Clone, Serialize)]
pub struct Entity {
    /// Machine name.
    pub name: String,
    /// Label per locale (after overlay).
    pub label: Label,
    /// Who declared the entity type.
    pub origin: Origin,
    /// The field that names a record.
    pub title_field: Option<String>,
    /// The select field that drives the kanban board, if any.
    pub kanban_field: Option<String>,
    /// All fields, including hidden and retired ones, in order.
    pub fields: Vec<Field>,
    /// Form sections and list columns, naming only visible fields.
    pub layout: Layout,
    /// The declaring plugin no longer declares (or was removed): data kept, read-only.
    pub retired: bool,
    /// Whether its records are in the full-text index (see [`EntityDef::searchable`]).
    pub searchable: bool,
}

impl Entity {
    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.def.name == name)
    }

    /// Fields that are neither hidden nor retired.
    pub fn visible_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.hidden && !f.retired)
    }

    /// The display label in a locale.
    pub fn label_in(&self, locale: Locale) -> &str {
        self.label.get(locale)
    }
}

/// Raw definition of an entity type as stored, before assembly.
#[derive(Debug, Clone)]
pub(crate) struct EntityRow {
    pub def: EntityDef,
    pub origin: Origin,
    pub retired: bool,
    pub label_override: Option<Label>,
    pub layout_override: Option<Layout>,
}

/// Raw definition of a field as stored, with its overlay columns.
#[derive(Debug, Clone)]
pub(crate) struct FieldRow {
    pub entity: String,
    pub def: FieldDef,
    pub origin: Origin,
    pub retired: bool,
    pub hidden: bool,
    pub label_en: Option<String>,
    pub label_zh: Option<String>,
    pub help: Option<Label>,
    pub required: Option<bool>,
    pub options: Option<Vec<super::SelectOption>>,
    /// The overlay's default value: `Some(Null)` removes the definition's.
    pub default: Option<serde_json::Value>,
}

/// One entity type of a schema kept in memory, without a copy of it: dereferences to the
/// [`Entity`].
#[derive(Debug, Clone)]
pub struct SharedEntity {
    schema: Arc<Schema>,
    at: usize,
}

impl SharedEntity {
    /// Which snapshot of the schema it is of, and where in it: equal for the same type seen
    /// the same way while the snapshot lives.
    pub(crate) fn identity(&self) -> (usize, usize) {
        (Arc::as_ptr(&self.schema) as usize, self.at)
    }
}

impl std::ops::Deref for SharedEntity {
    type Target = Entity;
    fn deref(&self) -> &Entity {
        &self.schema.entities[self.at]
    }
}

/// Every entity type in effect, in menu order.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    entities: Vec<Entity>,
    index: HashMap<String, usize>,
}

impl Schema {
    /// An entity type by name (retired ones included).
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.index.get(name).map(|&i| &self.entities[i])
    }

    /// An entity type by name, holding on to the schema instead of copying the type (a read
    /// looks its type up on every request).
    pub fn shared_entity(self: &Arc<Self>, name: &str) -> Option<SharedEntity> {
        self.index.get(name).map(|&at| SharedEntity {
            schema: self.clone(),
            at,
        })
    }

    /// All entity types, retired ones included.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Whether an entity type exists.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Entity types with a reference field pointing at `target`: `(entity, field)` pairs.
    pub fn references_to<'a>(
        &'a self,
        target: &'a str,
    ) -> impl Iterator<Item = (&'a Entity, &'a Field)> + 'a {
        self.entities.iter().flat_map(move |e| {
            e.fields
                .iter()
                .filter(move |f| f.def.reference_target() == Some(target))
                .map(move |f| (e, f))
        })
    }

    /// Adds an entity type at the end (menu order).
    pub(crate) fn push(&mut self, entity: Entity) {
        self.index.insert(entity.name.clone(), self.entities.len());
        self.entities.push(entity);
    }

    pub(crate) fn assemble(entities: Vec<EntityRow>, fields: Vec<FieldRow>) -> Schema {
        let mut by_entity: HashMap<String, Vec<FieldRow>> = HashMap::new();
        for f in fields {
            by_entity.entry(f.entity.clone()).or_default().push(f);
        }
        let mut out = Schema::default();
        for row in entities {
            let rows = by_entity.remove(&row.def.name).unwrap_or_default();
            let fields: Vec<Field> = rows.into_iter().map(effective_field).collect();
            let layout = effective_layout(
                row.layout_override.as_ref().or(row.def.layout.as_ref()),
                &fields,
            );
            let title_field = row.def.title_field.clone().or_else(|| {
                fields
                    .iter()
                    .find(|f| f.def.name == "name")
                    .or_else(|| fields.iter().find(|f| f.def.kind.is_textual()))
                    .map(|f| f.def.name.clone())
            });
            let entity = Entity {
                name: row.def.name.clone(),
                label: row.label_override.unwrap_or(row.def.label),
                origin: row.origin,
                title_field,
                kanban_field: row.def.kanban_field,
                fields,
                layout,
                retired: row.retired,
                searchable: row.def.searchable,
            };
            out.push(entity);
        }
        out
    }
}

fn effective_field(row: FieldRow) -> Field {
    let mut def = row.def;
    if let Some(en) = row.label_en {
        def.label.en = en;
    }
    if let Some(zh) = row.label_zh {
        def.label.zh_cn = zh;
    }
    if let Some(help) = row.help {
        def.help = Some(help);
    }
    if let Some(req) = row.required {
        def.required = req;
    }
    if let Some(options) = row.options {
        def.options = options;
    }
    if let Some(d) = row.default {
        def.default = Some(d).filter(|d| !d.is_null());
    }
    // Made by the system: the forms show it as text.
    if def.computed() {
        def.readonly = true;
    }
    Field {
        def,
        origin: row.origin,
        hidden: row.hidden,
        retired: row.retired,
    }
}

/// Drops hidden, retired and unknown fields from a layout and appends visible fields that no
/// section places (a newly added custom field shows up at the end of the form).
fn effective_layout(declared: Option<&Layout>, fields: &[Field]) -> Layout {
    let visible: Vec<&str> = fields
        .iter()
        .filter(|f| !f.hidden && !f.retired)
        .map(|f| f.def.name.as_str())
        .collect();
    let is_visible = |n: &str| visible.contains(&n);
    let mut layout = match declared {
        Some(l) => Layout {
            sections: l
                .sections
                .iter()
                .map(|s| Section {
                    title: s.title.clone(),
                    fields: s.fields.iter().filter(|f| is_visible(f)).cloned().collect(),
                })
                .collect(),
            list_columns: l
                .list_columns
                .iter()
                .filter(|c| is_visible(c) || super::validate::SYSTEM_COLUMNS.contains(&c.as_str()))
                .cloned()
                .collect(),
        },
        None => Layout {
            sections: Vec::new(),
            list_columns: visible
                .iter()
                .take(5)
                .map(|s| s.to_string())
                .chain(std::iter::once("updated_at".to_string()))
                .collect(),
        },
    };
    let placed: Vec<String> = layout
        .sections
        .iter()
        .flat_map(|s| s.fields.clone())
        .collect();
    let unplaced: Vec<String> = visible
        .iter()
        .filter(|n| !placed.iter().any(|p| p == *n))
        .map(|s| s.to_string())
        .collect();
    if !unplaced.is_empty() {
        if layout.sections.is_empty() {
            layout.sections.push(Section {
                title: Label::new("Details", "详细信息"),
                fields: unplaced,
            });
        } else {
            layout.sections.push(Section {
                title: Label::new("More", "更多信息"),
                fields: unplaced,
            });
        }
    }
    layout.sections.retain(|s| !s.fields.is_empty());
    layout
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::schema::{FieldType, Section};

    /// The effective schema of base definitions with no overlay.
    pub(crate) fn schema_of(defs: Vec<EntityDef>) -> Schema {
        let mut fields = Vec::new();
        let rows = defs
            .into_iter()
            .map(|def| {
                for f in &def.fields {
                    let mut r = row(f.clone());
                    r.entity = def.name.clone();
                    fields.push(r);
                }
                EntityRow {
                    def,
                    origin: Origin::Core,
                    retired: false,
                    label_override: None,
                    layout_override: None,
                }
            })
            .collect();
        Schema::assemble(rows, fields)
    }

    fn row(def: FieldDef) -> FieldRow {
        FieldRow {
            entity: "thing".into(),
            def,
            origin: Origin::Core,
            retired: false,
            hidden: false,
            label_en: None,
            label_zh: None,
            help: None,
            required: None,
            options: None,
            default: None,
        }
    }

    #[test]
    fn overlay_applies_and_layout_follows() {
        let def = EntityDef {
            name: "thing".into(),
            label: Label::new("Thing", "东西"),
            fields: vec![],
            title_field: None,
            kanban_field: None,
            layout: Some(Layout {
                sections: vec![Section {
                    title: Label::new("A", "甲"),
                    fields: vec!["name".into(), "secret".into()],
                }],
                list_columns: vec!["name".into(), "secret".into(), "owner".into()],
            }),
            indexes: Vec::new(),
            searchable: true,
        };
        let mut secret = row(FieldDef::new("secret", FieldType::Text, "Secret", "秘密"));
        secret.hidden = true;
        let mut score = row(FieldDef::new("score", FieldType::Integer, "Score", "评分"));
        score.origin = Origin::Custom;
        score.label_zh = Some("分数".into());
        let schema = Schema::assemble(
            vec![EntityRow {
                def,
                origin: Origin::Core,
                retired: false,
                label_override: None,
                layout_override: None,
            }],
            vec![
                row(FieldDef::new("name", FieldType::Text, "Name", "名称")),
                secret,
                score,
            ],
        );
        let e = schema.entity("thing").unwrap();
        assert_eq!(e.title_field.as_deref(), Some("name"));
        assert_eq!(e.field("score").unwrap().def.label.zh_cn, "分数");
        assert_eq!(e.layout.sections[0].fields, vec!["name"]);
        assert_eq!(e.layout.sections[1].fields, vec!["score"]);
        assert_eq!(e.layout.list_columns, vec!["name", "owner"]);
        assert_eq!(e.visible_fields().count(), 2);
    }
}
