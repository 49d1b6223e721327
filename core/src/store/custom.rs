//! Studio's changes to the schema (administrators only): custom entity types and fields,
//! field patches (labels, hiding, required, help, options, default value) and relabelling an
//! entity type — each recorded in the audit log in its own transaction.

use super::registry::{to_json, upsert_entity, CUSTOM_FIELD_POSITION};
use super::Store;
use crate::db::ddl;
use crate::schema::{
    check_entity_def, check_field_def, EntityDef, FieldDef, FieldPatch, Label, Origin,
};
use crate::{Access, Error, FieldErrors, Reason, Result};

impl Store {
    /// Creates a custom entity type (administrators only).
    pub fn create_entity(&self, access: &Access, def: &EntityDef) -> Result<()> {
        access.require_admin()?;
        let schema = self.schema();
        let errors = check_entity_def(def, &|t| schema.contains(t));
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        if schema.contains(&def.name) {
            return Err(Error::conflict_on(
                "name",
                Reason::EntityExists {
                    name: def.name.clone(),
                },
            ));
        }
        self.write(|tx| {
            crate::audit::by(tx, access, "entity_created", &def.name, &serde_json::json!({"fields": def.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>()}))?;
            upsert_entity(tx, &Origin::Custom, def)
        })?;
        self.refresh_schema()
    }

    /// Adds a custom field to any entity type (administrators only). It becomes a real,
    /// indexed column, filterable and sortable like a built-in field.
    pub fn add_field(&self, access: &Access, entity: &str, def: &FieldDef) -> Result<()> {
        access.require_admin()?;
        let schema = self.schema();
        let e = schema
            .entity(entity)
            .filter(|e| !e.retired)
            .ok_or_else(|| Error::NotFound(format!("no entity type '{entity}'")))?;
        let mut errors = FieldErrors::new();
        check_field_def(def, "", &|t| schema.contains(t), &mut errors);
        let live = e.fields.iter().filter(|f| !f.retired).map(|f| &f.def);
        if let Err(why) = crate::schema::check_formula_inputs(def, live.clone()) {
            errors.entry("expression".into()).or_insert(why);
        }
        if let Err(why) = crate::schema::check_currency_field(def, live) {
            errors.entry("currency_field".into()).or_insert(why);
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        if e.field(&def.name).is_some() {
            return Err(Error::conflict_on(
                "name",
                Reason::FieldExists {
                    entity: entity.to_string(),
                    field: def.name.clone(),
                },
            ));
        }
        self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "field_added",
                &format!("{entity}.{}", def.name),
                &serde_json::json!({"type": def.kind}),
            )?;
            let pos: i64 = tx.query_row(
                "SELECT COALESCE(MAX(position), ?2 - 1) + 1 FROM schema_fields
                 WHERE entity = ?1 AND position >= ?2",
                (entity, CUSTOM_FIELD_POSITION),
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO schema_fields (entity, name, origin, def, retired, position)
                 VALUES (?1, ?2, 'custom', ?3, 0, ?4)",
                (entity, &def.name, to_json(def), pos),
            )?;
            ddl::ensure_column(tx, entity, def)?;
            super::registry::keep_field_indexes(tx, entity)?;
            // Records made before the field get their numbers, in the order they were made…
            if def.numbered() {
                super::sequences::number_existing(tx, entity, def)?;
            }
            // …and a formula holds for them too.
            let fields: Vec<FieldDef> = e.fields.iter().map(|f| f.def.clone()).collect();
            super::formulas::compute_existing(tx, entity, &fields, def)
        })?;
        self.refresh_schema()?;
        if def.numbered() {
            // The numbers given to existing records are found by search too.
            self.reindex(&Access::system(), entity)?;
        }
        Ok(())
    }

    /// Relabels, hides or shows, or changes `required`, help, options or the default value of a
    /// field (administrators only).
    /// Works on any field; the change lives in the overlay and survives base upgrades.
    pub fn patch_field(
        &self,
        access: &Access,
        entity: &str,
        field: &str,
        patch: &FieldPatch,
    ) -> Result<()> {
        access.require_admin()?;
        let schema = self.schema();
        let f = schema
            .entity(entity)
            .and_then(|e| e.field(field))
            .ok_or_else(|| Error::NotFound(format!("no field '{entity}.{field}'")))?;
        let mut errors = FieldErrors::new();
        if let Some(l) = &patch.label {
            for (k, v) in [("label.en", &l.en), ("label.zh-CN", &l.zh_cn)] {
                if let Some(v) = v {
                    if v.trim().is_empty() || v.chars().count() > 100 {
                        errors.insert(k.into(), Reason::LengthBetween { min: 1, max: 100 });
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        if let Some(options) = &patch.options {
            if !f.def.kind.info().options {
                errors.insert("options".into(), Reason::OptionsNotAllowed);
            } else {
                let mut probe = f.def.clone();
                probe.options = options.clone();
                let mut errs = FieldErrors::new();
                check_field_def(&probe, "", &|_| true, &mut errs);
                if let Some(e) = errs.remove("options") {
                    errors.insert("options".into(), e);
                }
            }
        }
        if let Some(d) = patch.default.as_ref().filter(|d| !d.is_null()) {
            let mut probe = f.def.clone();
            if let Some(o) = &patch.options {
                probe.options = o.clone();
            }
            if let Err(why) = crate::value::Value::from_json(&probe, d) {
                errors.insert("default".into(), why);
            }
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let help = patch.help.as_ref().map(|h| Label {
            en: h.en.clone().unwrap_or_else(|| {
                f.def
                    .help
                    .as_ref()
                    .map(|x| x.en.clone())
                    .unwrap_or_default()
            }),
            zh_cn: h.zh_cn.clone().unwrap_or_else(|| {
                f.def
                    .help
                    .as_ref()
                    .map(|x| x.zh_cn.clone())
                    .unwrap_or_default()
            }),
        });
        self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "field_changed",
                &format!("{entity}.{field}"),
                &serde_json::to_value(patch).unwrap_or_default(),
            )?;
            if let Some(l) = &patch.label {
                if let Some(en) = &l.en {
                    tx.execute(
                        "UPDATE schema_fields SET label_en = ?3 WHERE entity = ?1 AND name = ?2",
                        (entity, field, en.trim()),
                    )?;
                }
                if let Some(zh) = &l.zh_cn {
                    tx.execute(
                        "UPDATE schema_fields SET label_zh = ?3 WHERE entity = ?1 AND name = ?2",
                        (entity, field, zh.trim()),
                    )?;
                }
            }
            if let Some(h) = patch.hidden {
                tx.execute(
                    "UPDATE schema_fields SET hidden = ?3 WHERE entity = ?1 AND name = ?2",
                    (entity, field, h),
                )?;
            }
            if let Some(o) = &patch.options {
                let removed: Vec<String> = (f.def.options.iter())
                    .filter(|old| !o.iter().any(|n| n.value == old.value))
                    .map(|old| old.value.clone())
                    .collect();
                super::overlay::check_removed_options(tx, entity, field, f.def.kind, &removed)?;
                tx.execute(
                    "UPDATE schema_fields SET options = ?3 WHERE entity = ?1 AND name = ?2",
                    (entity, field, to_json(o)),
                )?;
            }
            if let Some(r) = patch.required {
                tx.execute(
                    "UPDATE schema_fields SET required = ?3 WHERE entity = ?1 AND name = ?2",
                    (entity, field, r),
                )?;
            }
            if let Some(h) = &help {
                tx.execute(
                    "UPDATE schema_fields SET help = ?3 WHERE entity = ?1 AND name = ?2",
                    (entity, field, to_json(h)),
                )?;
            }
            if let Some(d) = &patch.default {
                tx.execute(
                    "UPDATE schema_fields SET default_value = ?3 WHERE entity = ?1 AND name = ?2",
                    (entity, field, to_json(d)),
                )?;
            }
            Ok(())
        })?;
        self.refresh_schema()
    }

    /// Relabels an entity type (administrators only).
    pub fn set_entity_label(&self, access: &Access, entity: &str, label: &Label) -> Result<()> {
        access.require_admin()?;
        if !self.schema().contains(entity) {
            return Err(Error::NotFound(format!("no entity type '{entity}'")));
        }
        if label.en.trim().is_empty() && label.zh_cn.trim().is_empty() {
            return Err(Error::field("label", Reason::NeedsLabel));
        }
        self.write(|tx| {
            crate::audit::by(
                tx,
                access,
                "entity_relabelled",
                entity,
                &serde_json::json!({"en": label.en, "zh-CN": label.zh_cn}),
            )?;
            tx.execute(
                "UPDATE schema_entities SET label_en = ?2, label_zh = ?3 WHERE name = ?1",
                (entity, label.en.trim(), label.zh_cn.trim()),
            )?;
            Ok(())
        })?;
        self.refresh_schema()
    }
}
