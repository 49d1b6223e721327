//! Overlay operations beside the registry's: retiring a custom field (its column and data
//! stay) and bringing it back, setting a layout, refusing to drop a select option records still hold, and keeping hidden fields'
//! places when a layout is replaced.

use super::Store;
use crate::db::ddl;
use crate::db::{Conn, OptionalExtension};
use crate::schema::{check_layout, EntityDef, FieldType, Layout, Origin};
use crate::{Access, Error, FieldErrors, Reason, Result};
use std::collections::HashSet;

impl Store {
    /// Retires a custom field (administrators only): it leaves forms, lists and layouts and
    /// can no longer be written, but its column and every stored value stay, readable in
    /// records and history. Fields of the core or of plugins are hidden instead.
    pub fn retire_field(&self, access: &Access, entity: &str, field: &str) -> Result<()> {
        access.require_admin()?;
        let schema = self.schema();
        let f = schema
            .entity(entity)
            .and_then(|e| e.field(field))
            .ok_or_else(|| Error::NotFound(format!("no field '{entity}.{field}'")))?;
        if f.origin != Origin::Custom {
            return Err(Error::field("name", Reason::NotCustomField));
        }
        if f.retired {
            return Ok(());
        }
        self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "field_retired",
                &format!("{entity}.{field}"),
                &serde_json::json!({}),
            )?;
            tx.execute(
                "UPDATE schema_fields SET retired = 1 WHERE entity = ?1 AND name = ?2",
                (entity, field),
            )?;
            Ok(())
        })?;
        self.refresh_schema()
    }

    /// Brings a retired custom field back (administrators only): it returns to forms and
    /// lists with every value it held. Refused when its key now belongs to a field of a
    /// plugin or the core (the custom field is gone, not retired).
    pub fn unretire_field(&self, access: &Access, entity: &str, field: &str) -> Result<()> {
        access.require_admin()?;
        let schema = self.schema();
        let e = schema
            .entity(entity)
            .filter(|e| !e.retired)
            .ok_or_else(|| Error::NotFound(format!("no entity type '{entity}'")))?;
        let f = e
            .field(field)
            .ok_or_else(|| Error::NotFound(format!("no field '{entity}.{field}'")))?;
        if f.origin != Origin::Custom {
            return Err(Error::conflict_on(
                "name",
                Reason::FieldExists {
                    entity: entity.to_string(),
                    field: field.to_string(),
                },
            ));
        }
        if !f.retired {
            return Ok(());
        }
        self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "field_restored",
                &format!("{entity}.{field}"),
                &serde_json::json!({}),
            )?;
            let changed = tx.execute(
                "UPDATE schema_fields SET retired = 0
                 WHERE entity = ?1 AND name = ?2 AND origin = 'custom' AND retired = 1",
                (entity, field),
            )?;
            if changed == 0 {
                return Err(Error::conflict_on(
                    "name",
                    Reason::FieldExists {
                        entity: entity.to_string(),
                        field: field.to_string(),
                    },
                ));
            }
            // Records made while it was retired get their number, or their formula's value.
            if f.def.numbered() {
                super::sequences::number_existing(tx, entity, &f.def)?;
            }
            let fields: Vec<crate::schema::FieldDef> =
                e.fields.iter().map(|f| f.def.clone()).collect();
            super::formulas::compute_existing(tx, entity, &fields, &f.def)
        })?;
        if f.def.numbered() {
            // The numbers given while it was retired are found by search too.
            self.reindex(&Access::system(), entity)?;
        }
        self.refresh_schema()
    }

    /// Sets the form layout and list columns of an entity type (administrators only).
    pub fn set_layout(&self, access: &Access, entity: &str, layout: &Layout) -> Result<()> {
        access.require_admin()?;
        let schema = self.schema();
        let e = schema
            .entity(entity)
            .ok_or_else(|| Error::NotFound(format!("no entity type '{entity}'")))?;
        let known: HashSet<&str> = e
            .fields
            .iter()
            .filter(|f| !f.retired)
            .map(|f| f.def.name.as_str())
            .collect();
        let mut errors = FieldErrors::new();
        check_layout(layout, &known, &mut errors);
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let hidden: HashSet<&str> = (e.fields.iter().filter(|f| f.hidden && !f.retired))
            .map(|f| f.def.name.as_str())
            .collect();
        let mut layout = layout.clone();
        self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "layout_set",
                entity,
                &serde_json::to_value(&layout).unwrap_or_default(),
            )?;
            if let Some(old) = declared_layout(tx, entity)? {
                keep_hidden_places(&mut layout, &old, &hidden);
            }
            tx.execute(
                "UPDATE schema_entities SET layout = ?2 WHERE name = ?1",
                (entity, to_json(&layout)),
            )?;
            Ok(())
        })?;
        self.refresh_schema()
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Refuses (inside the write) removing options from a select field while records hold them.
pub(super) fn check_removed_options(
    tx: &Conn,
    entity: &str,
    field: &str,
    kind: FieldType,
    removed: &[String],
) -> Result<()> {
    let (table, col) = (ddl::table(entity), ddl::column(field));
    let sql = if kind == FieldType::MultiSelect {
        format!(
            "SELECT 1 FROM \"{table}\" WHERE EXISTS \
             (SELECT 1 FROM json_each(\"{col}\") WHERE value = ?1) LIMIT 1"
        )
    } else {
        format!("SELECT 1 FROM \"{table}\" WHERE \"{col}\" = ?1 LIMIT 1")
    };
    for value in removed {
        let used: Option<i64> = tx.query_row(&sql, [value], |r| r.get(0)).optional()?;
        if used.is_some() {
            return Err(Error::conflict_on(
                "options",
                Reason::OptionInUse {
                    value: value.clone(),
                },
            ));
        }
    }
    Ok(())
}

/// The layout an entity type declares now (the overlay's, else its definition's).
pub(super) fn declared_layout(tx: &Conn, entity: &str) -> Result<Option<Layout>> {
    let row: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT def, layout FROM schema_entities WHERE name = ?1",
            [entity],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((def, layout)) = row else {
        return Ok(None);
    };
    let bad = |e: serde_json::Error| Error::Database(format!("stored layout unreadable: {e}"));
    if let Some(l) = layout {
        return serde_json::from_str(&l).map(Some).map_err(bad);
    }
    let def: EntityDef = serde_json::from_str(&def).map_err(bad)?;
    Ok(def.layout)
}

/// Puts each hidden field the old layout placed, and the new one leaves out, back where it
/// was: after the field it followed (or first in its section), so showing it again restores
/// its place instead of appending it to a section of its own.
pub(super) fn keep_hidden_places(new: &mut Layout, old: &Layout, hidden: &HashSet<&str>) {
    for (si, section) in old.sections.iter().enumerate() {
        for (i, name) in section.fields.iter().enumerate() {
            if !hidden.contains(name.as_str()) || placed(new, name) {
                continue;
            }
            let before = section.fields[..i].iter().rev().find(|p| placed(new, p));
            match before {
                Some(p) => {
                    for s in &mut new.sections {
                        if let Some(at) = s.fields.iter().position(|f| f == p) {
                            s.fields.insert(at + 1, name.clone());
                            break;
                        }
                    }
                }
                None => {
                    let at = si.min(new.sections.len().saturating_sub(1));
                    match new.sections.get_mut(at) {
                        Some(s) => s.fields.insert(0, name.clone()),
                        None => new.sections.push(section_with(section, name)),
                    }
                }
            }
        }
    }
}

fn placed(l: &Layout, name: &str) -> bool {
    l.sections
        .iter()
        .any(|s| s.fields.iter().any(|f| f == name))
}

fn section_with(like: &crate::schema::Section, name: &str) -> crate::schema::Section {
    crate::schema::Section {
        title: like.title.clone(),
        fields: vec![name.to_string()],
    }
}
