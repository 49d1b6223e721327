//! Schema registry operations: loading the schema, applying base definitions (core built-ins,
//! plugin manifests), retiring and purging what an origin declared. Studio's own changes are in
//! `custom.rs` and `overlay.rs`.

use super::Store;
use crate::db::ddl;
use crate::db::{Conn, OptionalExtension};
use crate::schema::effective::{EntityRow, FieldRow};
use crate::schema::{
    check_entity_def, EntityDef, FieldDef, FieldType, Label, Layout, Origin, Schema,
};
use crate::{Error, FieldErrors, Reason, Result};
use std::collections::{HashMap, HashSet};

/// Position given to the first custom field, after any base field.
pub(super) const CUSTOM_FIELD_POSITION: i64 = 10_000;

/// Reads the effective schema from the registry tables.
pub(super) fn load(conn: &Conn) -> Result<Schema> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, origin, def, retired, label_en, label_zh, layout
         FROM schema_entities ORDER BY position, name",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut entities = Vec::new();
    for (name, origin, def, retired, en, zh, layout) in rows {
        let def: EntityDef = parse_json(&def, &name)?;
        let label_override = match (en, zh) {
            (None, None) => None,
            (en, zh) => Some(Label {
                en: en.unwrap_or_else(|| def.label.en.clone()),
                zh_cn: zh.unwrap_or_else(|| def.label.zh_cn.clone()),
            }),
        };
        entities.push(EntityRow {
            origin: Origin::parse(&origin).unwrap_or(Origin::Custom),
            retired,
            label_override,
            layout_override: layout
                .map(|l| parse_json::<Layout>(&l, &name))
                .transpose()?,
            def,
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT entity, name, origin, def, retired, hidden, label_en, label_zh, help, required, options,
                default_value
         FROM schema_fields ORDER BY entity, position, name",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<bool>>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut fields = Vec::new();
    for (
        entity,
        origin,
        def,
        retired,
        hidden,
        label_en,
        label_zh,
        help,
        required,
        options,
        default,
    ) in rows
    {
        fields.push(FieldRow {
            def: parse_json(&def, &entity)?,
            entity,
            origin: Origin::parse(&origin).unwrap_or(Origin::Custom),
            retired,
            hidden,
            label_en,
            label_zh,
            help: help.map(|h| parse_json::<Label>(&h, "help")).transpose()?,
            required,
            options: options
                .map(|o| parse_json::<Vec<crate::schema::SelectOption>>(&o, "options"))
                .transpose()?,
            default: default
                .map(|d| parse_json::<serde_json::Value>(&d, "default"))
                .transpose()?,
        });
    }
    // A currency field without a currency of its own is in the company's: the effective
    // schema says which, so that amounts are read and shown in it.
    let company: Option<String> = conn
        .prepare_cached("SELECT value FROM settings WHERE key = 'currency'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let company = company
        .as_deref()
        .and_then(crate::currency::currency)
        .map_or(crate::currency::DEFAULT_CURRENCY, |c| c.code);
    let in_company = |def: &mut FieldDef| {
        if def.kind == FieldType::Currency && def.currency.is_none() {
            def.currency = Some(company.to_string());
        }
    };
    for e in &mut entities {
        e.def.fields.iter_mut().for_each(in_company);
    }
    for f in &mut fields {
        in_company(&mut f.def);
    }
    Ok(Schema::assemble(entities, fields))
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| Error::Database(format!("stored definition of '{what}' is unreadable: {e}")))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Whether a stored column of type `old` can carry values of the new definition unchanged.
fn compatible(old: &FieldDef, new: &FieldDef) -> bool {
    use FieldType::*;
    // A plain decimal becomes a currency amount (and back) in the same stored places.
    if matches!(old.kind, Decimal | Currency) && matches!(new.kind, Decimal | Currency) {
        return old.effective_scale() == new.effective_scale();
    }
    if old.kind == Reference && new.kind == Reference {
        return old.target == new.target;
    }
    old.kind == new.kind
        || matches!(
            (old.kind, new.kind),
            (Text | Email | Phone | Url, Text | LongText) | (Text, Email | Phone | Url)
        )
}

struct StoredField {
    origin: Origin,
    def: FieldDef,
}

fn stored_fields(conn: &Conn, entity: &str) -> Result<HashMap<String, StoredField>> {
    let mut stmt =
        conn.prepare_cached("SELECT name, origin, def FROM schema_fields WHERE entity = ?1")?;
    let rows = stmt
        .query_map([entity], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = HashMap::new();
    for (name, origin, def) in rows {
        out.insert(
            name,
            StoredField {
                origin: Origin::parse(&origin).unwrap_or(Origin::Custom),
                def: parse_json(&def, entity)?,
            },
        );
    }
    Ok(out)
}

fn entity_origin(conn: &Conn, name: &str) -> Result<Option<Origin>> {
    let o: Option<String> = conn
        .query_row(
            "SELECT origin FROM schema_entities WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    Ok(o.map(|o| Origin::parse(&o).unwrap_or(Origin::Custom)))
}

/// Writes one entity definition and its fields, creating or widening its table.
pub(super) fn upsert_entity(conn: &Conn, origin: &Origin, def: &EntityDef) -> Result<()> {
    match entity_origin(conn, &def.name)? {
        Some(existing) if &existing != origin => {
            return Err(Error::conflict_on(
                "name",
                Reason::EntityDefinedBy {
                    name: def.name.clone(),
                    origin: existing.as_string(),
                },
            ));
        }
        Some(_) => {}
        None => {
            let next: i64 = conn.query_row(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM schema_entities",
                [],
                |r| r.get(0),
            )?;
            let mut shell = def.clone();
            shell.fields.clear();
            conn.execute(
                "INSERT INTO schema_entities (name, origin, def, retired, position)
                 VALUES (?1, ?2, ?3, 0, ?4)",
                (&def.name, origin.as_string(), to_json(&shell), next),
            )?;
        }
    }
    let mut shell = def.clone();
    shell.fields.clear();
    conn.execute(
        "UPDATE schema_entities SET def = ?2, retired = 0 WHERE name = ?1",
        (&def.name, to_json(&shell)),
    )?;
    ddl::ensure_table(conn, &def.name)?;
    let stored = stored_fields(conn, &def.name)?;
    for (pos, f) in def.fields.iter().enumerate() {
        if let Some(old) = stored.get(&f.name) {
            if old.origin != *origin && old.origin != Origin::Custom {
                return Err(Error::conflict_on(
                    &f.name,
                    Reason::FieldDefinedBy {
                        origin: old.origin.as_string(),
                    },
                ));
            }
            if !compatible(&old.def, f) {
                return Err(Error::conflict_on(
                    &f.name,
                    Reason::IncompatibleChange {
                        entity: def.name.clone(),
                        field: f.name.clone(),
                        from: describe(&old.def),
                        to: describe(f),
                    },
                ));
            }
            conn.execute(
                "UPDATE schema_fields SET origin = ?3, def = ?4, retired = 0, position = ?5
                 WHERE entity = ?1 AND name = ?2",
                (
                    &def.name,
                    &f.name,
                    origin.as_string(),
                    to_json(f),
                    pos as i64,
                ),
            )?;
        } else {
            conn.execute(
                "INSERT INTO schema_fields (entity, name, origin, def, retired, position)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)",
                (
                    &def.name,
                    &f.name,
                    origin.as_string(),
                    to_json(f),
                    pos as i64,
                ),
            )?;
        }
        if ddl::ensure_column(conn, &def.name, f)? && f.numbered() {
            super::sequences::number_existing(conn, &def.name, f)?;
        }
        // A new formula, or a changed one, holds for the records already there.
        let expression_changed = stored
            .get(&f.name)
            .is_none_or(|old| old.def.expression != f.expression);
        if f.kind == FieldType::Formula && expression_changed {
            super::formulas::compute_existing(conn, &def.name, &def.fields, f)?;
        }
    }
    for ix in &def.indexes {
        ddl::ensure_composite_index(conn, &def.name, ix)?;
    }
    ddl::drop_undeclared_composites(conn, &def.name, &def.indexes)?;
    let declared: HashSet<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
    for (name, old) in &stored {
        if old.origin == *origin && !declared.contains(name.as_str()) {
            conn.execute(
                "UPDATE schema_fields SET retired = 1 WHERE entity = ?1 AND name = ?2",
                (&def.name, name),
            )?;
        }
    }
    keep_field_indexes(conn, &def.name)?;
    Ok(())
}

/// Makes an entity type's plain indexes (`db/field_indexes.rs`) what its stored fields ask for,
/// retired ones included (they keep their values and may come back).
pub(super) fn keep_field_indexes(conn: &Conn, entity: &str) -> Result<bool> {
    let defs = conn
        .prepare_cached("SELECT def FROM schema_fields WHERE entity = ?1 ORDER BY position, name")?
        .query_map([entity], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let fields = defs
        .iter()
        .map(|d| parse_json::<FieldDef>(d, entity))
        .collect::<Result<Vec<_>>>()?;
    crate::db::field_indexes::keep_field_indexes(conn, entity, &fields)
}

/// Keeps the plain indexes of every entity type's table, each type in a transaction of its own
/// (at open: an install made before indexes carried filter columns gets them here, once).
pub(super) fn keep_every_field_index(writer: &mut Conn) -> Result<()> {
    let entities = writer
        .prepare("SELECT name FROM schema_entities ORDER BY name")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for entity in &entities {
        let started = std::time::Instant::now();
        let tx = writer.immediate_transaction()?;
        let changed = keep_field_indexes(&tx, entity)?;
        tx.commit()?;
        if changed {
            tracing::info!(entity = %entity, took = ?started.elapsed(),
                "made the type's indexes carry its filter columns");
        }
    }
    Ok(())
}

fn describe(f: &FieldDef) -> String {
    match f.kind {
        FieldType::Decimal | FieldType::Percent | FieldType::Formula | FieldType::Currency => {
            format!("{}(scale {})", f.kind.as_str(), f.effective_scale())
        }
        FieldType::Reference => format!("reference to {}", f.target.as_deref().unwrap_or("?")),
        k => k.as_str().to_string(),
    }
}

impl Store {
    /// Replaces the base definitions owned by `origin` (the core's built-ins, or one plugin's
    /// entity types). New entity types and fields get tables and columns; fields and entity
    /// types no longer declared are retired — kept, hidden, readable — never dropped. Type
    /// changes that would lose stored values are refused. The overlay is untouched.
    pub fn apply_base(&self, origin: &Origin, defs: &[EntityDef]) -> Result<()> {
        let schema = self.schema();
        let mut errors = FieldErrors::new();
        for (i, def) in defs.iter().enumerate() {
            let exists = |t: &str| schema.contains(t) || defs.iter().any(|d| d.name == t);
            for (k, v) in check_entity_def(def, &exists) {
                errors.insert(format!("entities[{i}].{k}"), v);
            }
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        self.write(|tx| {
            for def in defs {
                upsert_entity(tx, origin, def)?;
            }
            let declared: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
            let mut stmt = tx.prepare("SELECT name FROM schema_entities WHERE origin = ?1")?;
            let owned = stmt
                .query_map([origin.as_string()], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            for name in owned {
                if !declared.contains(&name.as_str()) {
                    tx.execute(
                        "UPDATE schema_entities SET retired = 1 WHERE name = ?1",
                        [&name],
                    )?;
                }
            }
            Ok(())
        })?;
        self.refresh_schema()?;
        let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        self.reindex_after_definitions(&schema, &names)
    }

    /// Marks every entity type of `origin` retired (its plugin was disabled or removed): the
    /// data stays, the types leave menus and refuse writes.
    pub fn retire_origin(&self, origin: &Origin) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE schema_entities SET retired = 1 WHERE origin = ?1",
                [origin.as_string()],
            )?;
            Ok(())
        })?;
        self.refresh_schema()
    }

    /// Deletes every entity type of `origin` with its records and history (a plugin removed
    /// with purge). Refused while entity types of other origins reference them.
    pub fn purge_origin(&self, origin: &Origin) -> Result<()> {
        let schema = self.schema();
        let owned: Vec<&str> = schema
            .entities()
            .iter()
            .filter(|e| &e.origin == origin)
            .map(|e| e.name.as_str())
            .collect();
        for name in &owned {
            for (other, field) in schema.references_to(name) {
                if &other.origin != origin {
                    return Err(Error::conflict(format!(
                        "'{}.{}' still references '{name}'; remove that field first",
                        other.name,
                        field.name()
                    )));
                }
            }
        }
        self.write(|tx| {
            for name in &owned {
                crate::db::search_waiting::forget_type(tx, name)?;
                tx.execute_batch(&format!(
                    "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};",
                    ddl::table(name),
                    ddl::fts_table(name)
                ))?;
                tx.execute("DELETE FROM schema_fields WHERE entity = ?1", [name])?;
                tx.execute("DELETE FROM schema_entities WHERE name = ?1", [name])?;
                tx.execute("DELETE FROM history WHERE entity = ?1", [name])?;
                tx.execute("DELETE FROM attachments WHERE entity = ?1", [name])?;
                tx.execute("DELETE FROM merges WHERE entity = ?1", [name])?;
            }
            Ok(())
        })?;
        self.refresh_schema()
    }

    /// Reloads the cached schema after a committed change.
    pub(crate) fn refresh_schema(&self) -> Result<()> {
        self.note_cache_refresh();
        let schema = self.read(load)?;
        *self.schema.write().unwrap_or_else(|e| e.into_inner()) = std::sync::Arc::new(schema);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::{EntityDef, FieldDef, FieldType, Label, Origin};
    use crate::{Store, StoreOptions};

    fn indexes(s: &Store) -> Vec<String> {
        s.read(|c| {
            Ok(c.prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'r_box'
                 AND name LIKE 'cx%' ORDER BY name",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<crate::db::DbResult<_>>()?)
        })
        .unwrap()
    }

    #[test]
    fn an_upgrade_that_replaces_a_composite_index_drops_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap();
        let def = |ix: Vec<Vec<String>>| EntityDef {
            name: "box".into(),
            label: Label::new("Box", "箱"),
            fields: ["a", "b", "c"]
                .iter()
                .map(|n| FieldDef::new(n, FieldType::Integer, n, n))
                .collect(),
            title_field: None,
            kanban_field: None,
            layout: None,
            indexes: ix,
            searchable: true,
        };
        let plugin = Origin::Plugin("p".into());
        let ab = vec!["a".to_string(), "b".to_string()];
        let abc = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        s.apply_base(&plugin, &[def(vec![ab.clone()])]).unwrap();
        assert_eq!(indexes(&s), ["cx_box:a:b"]);
        s.apply_base(&plugin, &[def(vec![abc])]).unwrap();
        assert_eq!(indexes(&s), ["cx_box:a:b:c"], "the replaced one is gone");
        s.apply_base(&plugin, &[def(vec![])]).unwrap();
        assert!(indexes(&s).is_empty());
    }
}
