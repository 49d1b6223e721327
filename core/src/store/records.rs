//! Creating, reading, updating and deleting records, with validation, scopes, hooks, history
//! and the search index kept in the same transaction.

use super::field_rules::{redact, rule_errors};
use super::input::{
    core_rules, fill_defaults, gather, missing_required, parse_input, parse_write, to_map,
};
use super::integrity::{check_integrity, check_owner, read_only};
use super::scope::{in_scope, scoped};
use super::Store;
use crate::access::EntityPermission;
use crate::db::Value as Sql;
use crate::db::{self, ddl, sql};
use crate::hooks::{WriteEvent, WriteOp};
use crate::record::Record;
use crate::schema::{Schema, SharedEntity};
use crate::value::Value;
use crate::{Access, Error, Reason, Result};
use std::sync::Arc;

use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// A create that is one row of an import.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Imported {
    /// The record's own creation time, when migrated data carries one.
    pub(crate) created_at: Option<chrono::DateTime<chrono::Utc>>,
}

use super::rows::write_search;
pub(super) use super::rows::{from_row, load, ordered_from_row, select_list, write_history};

/// Looks up an entity type the caller may read, as they see it (fields their role hides left
/// out: they are neither selected, filtered, sorted nor summed) — one copy of the role's
/// cached view ([`Store::schema_for`]).
pub(super) fn entity_seen(
    store: &Store,
    access: &Access,
    name: &str,
) -> Result<(SharedEntity, EntityPermission)> {
    entity_for(&store.schema_for(access), access, name, "read", |p| p.read)
}

/// Looks up an entity type the caller may use for `what`.
pub(super) fn entity_for(
    schema: &Arc<Schema>,
    access: &Access,
    name: &str,
    what: &str,
    check: fn(&EntityPermission) -> bool,
) -> Result<(SharedEntity, EntityPermission)> {
    let e = schema
        .shared_entity(name)
        .ok_or_else(|| Error::NotFound(format!("no entity type '{name}'")))?;
    let perm = access.require(name, what, check)?;
    Ok((e, perm))
}

/// A write's parsed input, refused with `refused` (the writer's field rules) added to what
/// else is wrong with it, so every reason comes at once.
fn with_refused<T>(parsed: Result<T>, refused: crate::FieldErrors) -> Result<T> {
    if refused.is_empty() {
        return parsed;
    }
    let mut errors = refused;
    if let Err(Error::Validation { fields, .. }) = parsed {
        for (k, why) in fields {
            errors.entry(k).or_insert(why);
        }
    }
    Err(Error::validation(errors))
}

impl Store {
    /// Creates a record from API input (field → JSON value, plus optional `owner`).
    pub fn create(
        &self,
        access: &Access,
        entity: &str,
        input: &Map<String, Json>,
    ) -> Result<Record> {
        if entity == "user" {
            return Err(Error::Forbidden(
                "users are created through the user administration (with a password)".into(),
            ));
        }
        self.insert_record(access, entity, input, None)
    }

    pub(crate) fn insert_record(
        &self,
        access: &Access,
        entity: &str,
        input: &Map<String, Json>,
        imported: Option<Imported>,
    ) -> Result<Record> {
        let schema = self.schema();
        let (e, perm) = entity_for(&schema, access, entity, "create", |p| p.create)?;
        if e.retired {
            return Err(read_only(&e));
        }
        let mut defaults = BTreeMap::new();
        fill_defaults(&e, &mut defaults);
        let refused = rule_errors(access, &e, input, &defaults);
        let mut input = input.clone();
        for (k, v) in defaults {
            if input
                .get(&k)
                .is_none_or(|j| j.is_null() || j.as_str() == Some(""))
            {
                input.insert(k, v.to_json());
            }
        }
        // A workflow's initial state, where the create names none.
        if let Some(wf) = self.workflow(entity) {
            let still_an_option = |v: &String| {
                e.field(&wf.state_field)
                    .is_some_and(|f| f.def.options.iter().any(|o| &o.value == v))
            };
            if let Some(initial) = wf.initial.as_ref().filter(|i| still_an_option(i)) {
                let field = &wf.state_field;
                if input
                    .get(field)
                    .is_none_or(|j| j.is_null() || j.as_str() == Some(""))
                {
                    input.insert(field.clone(), Json::from(initial.clone()));
                }
            }
        }
        let input = &input;
        let parsed = with_refused(parse_write(&e, input, &BTreeMap::new()), refused)?;
        let hooks = self.hooks();
        let event = WriteEvent {
            op: WriteOp::Create,
            entity,
            before: None,
            user_id: access.user_id,
            locale: access.locale,
            via: access.plugin(),
        };
        let mut proposed = to_map(&parsed.values);
        // The before-write hooks' own writes and the record's commit or roll back together.
        let record = self.atomically(|| {
            hooks.before_write(&event, &mut proposed)?;
            // A hook may set the owner (a plugin creating a record for someone); the caller's
            // owner otherwise; the creator by default. `check_owner` below applies either way.
            // No owner (`null`) from a caller limited to their own or their team's records would
            // make a record they can no longer see: it is theirs, as if they had named none.
            let reparsed = parse_input(&e, &proposed)?;
            let owner = match reparsed.owner.or(parsed.owner) {
                Some(None) if scoped(access, &perm) => access.user_id,
                Some(o) => o,
                None => access.user_id,
            };
            let mut values = reparsed.values;
            super::formulas::compute(&e, &mut values);
            // Everything wrong with the write is reported at once: required fields, the core's
            // rules, the owner, references.
            let mut pending = missing_required(&e, &values);
            gather(&mut pending, core_rules(self, access, &e, None, &values))?;
            gather(
                &mut pending,
                self.workflow_guard(access, &e, None, owner, &values),
            )?;
            // Who an activity's @mentions tell, read before the write.
            let mentioned = if entity == "activity" {
                self.mentioned(&values, access.user_id)?
            } else {
                Vec::new()
            };
            // The install's today, for auto-numbers with date parts (read before the write).
            let today = if e.fields.iter().any(|f| f.def.numbered()) {
                Some(self.install_today()?)
            } else {
                None
            };
            self.write(|tx| {
                gather(&mut pending, check_owner(tx, access, &perm, owner))?;
                check_integrity(tx, &schema, access, &e, None, &values, pending)?;
                if let Some(today) = today {
                    super::sequences::number_new(tx, &e, &mut values, today)?;
                }
                let now = db::now_text();
                let created = imported
                    .as_ref()
                    .and_then(|i| i.created_at)
                    .map(db::time_text)
                    .unwrap_or_else(|| now.clone());
                let created_text = created.clone();
                let now_text = now.clone();
                let mut cols = vec![
                    "version",
                    "owner",
                    "created_by",
                    "created_at",
                    "updated_by",
                    "updated_at",
                ]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>();
                let mut params: Vec<Sql> = vec![
                    Sql::Integer(1),
                    owner.map(Sql::Integer).unwrap_or(Sql::Null),
                    access.user_id.map(Sql::Integer).unwrap_or(Sql::Null),
                    Sql::Text(created),
                    access.user_id.map(Sql::Integer).unwrap_or(Sql::Null),
                    Sql::Text(now),
                ];
                // The record as stored, built from what is written (each value through its
                // column's form, so a decimal carries its field's scale) — not read back.
                let mut stored: BTreeMap<String, Value> = BTreeMap::new();
                for f in &e.fields {
                    let v = values.get(&f.def.name).cloned().unwrap_or(Value::Null);
                    let column = sql::to_sql(&f.def, &v);
                    stored.insert(
                        f.def.name.clone(),
                        sql::from_sql(&f.def, crate::db::ValueRef::from(&column)),
                    );
                    if values.contains_key(&f.def.name) {
                        cols.push(ddl::column(&f.def.name));
                        params.push(column);
                    }
                }
                let marks = vec!["?"; cols.len()].join(", ");
                // SQLite gives the new id without `RETURNING` (which collects its rows in a
                // table of their own first); PostgreSQL would take a round trip more.
                let postgres = tx.is_postgres();
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({marks}){}",
                    ddl::table(entity),
                    cols.join(", "),
                    if postgres { " RETURNING id" } else { "" }
                );
                let id: i64 = {
                    let mut insert = tx.prepare_cached(&sql)?;
                    let params = crate::db::params_from_iter(params);
                    if postgres {
                        insert.query_row(params, |r| r.get(0))?
                    } else {
                        insert.execute(params)?;
                        tx.last_insert_rowid()
                    }
                };
                let mut changes: BTreeMap<String, [Json; 2]> = values
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), [Json::Null, v.to_json()]))
                    .collect();
                if let Some(o) = owner {
                    changes.insert("owner".into(), [Json::Null, Json::from(o)]);
                }
                let action = if imported.is_some() {
                    "import"
                } else {
                    "create"
                };
                write_history(tx, entity, id, 1, action, access.user_id, &changes)?;
                let record = Record {
                    entity: e.name.clone(),
                    id,
                    version: 1,
                    owner,
                    created_by: access.user_id,
                    created_at: db::parse_time(&created_text),
                    updated_by: access.user_id,
                    updated_at: db::parse_time(&now_text),
                    values: stored,
                };
                debug_assert_eq!(load(tx, &e, id).ok().flatten().as_ref(), Some(&record));
                write_search(tx, &e, id, Some(&record.values), true)?;
                self.enqueue_webhooks(tx, &e, "created", &record, None)?;
                if entity == "activity" {
                    self.notify_mentions(tx, &record, &mentioned, access.user_id)?;
                }
                Ok(record)
            })
        })?;
        hooks.after_write(&event, &record);
        Ok(redact(access, &e, record))
    }

    /// Applies a partial update if `expected_version` is current; otherwise `StaleVersion`.
    /// An update that changes nothing returns the record unchanged (no new version).
    pub fn update(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        expected_version: i64,
        patch: &Map<String, Json>,
    ) -> Result<Record> {
        self.update_as(access, entity, id, expected_version, patch, "update")
    }

    /// [`Store::update`] with the history row's action (`import` for an import's upsert).
    pub(crate) fn update_as(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        expected_version: i64,
        patch: &Map<String, Json>,
        action: &'static str,
    ) -> Result<Record> {
        let schema = self.schema();
        let (e, perm) = entity_for(&schema, access, entity, "update", |p| p.update)?;
        if e.retired {
            return Err(read_only(&e));
        }
        let current = self.read(|c| {
            load(c, &e, id)?
                .filter(|r| in_scope(c, access, &perm, r).unwrap_or(false))
                .ok_or_else(|| Error::NotFound(format!("no {entity} with id {id}")))
        })?;
        if current.version != expected_version {
            return Err(Error::StaleVersion {
                expected: expected_version,
                current: current.version,
            });
        }
        let mut merged: BTreeMap<String, Value> = current
            .values
            .iter()
            .filter(|(k, _)| e.field(k).is_some_and(|f| !f.retired))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let refused = rule_errors(access, &e, patch, &merged);
        let parsed = with_refused(parse_write(&e, patch, &merged), refused)?;
        let owner = parsed.owner.unwrap_or(current.owner);
        merged.extend(parsed.values);
        let hooks = self.hooks();
        let event = WriteEvent {
            op: WriteOp::Update,
            entity,
            before: Some(&current),
            user_id: access.user_id,
            locale: access.locale,
            via: access.plugin(),
        };
        let mut proposed = to_map(&merged);
        // The before-write hooks' own writes and the record's commit or roll back together;
        // `None`: nothing changed.
        let written = self.atomically(|| {
            hooks.before_write(&event, &mut proposed)?;
            let mut values = parse_input(&e, &proposed)?.values;
            super::formulas::compute(&e, &mut values);
            let mut pending = missing_required(&e, &values);
            let changed: BTreeMap<String, Value> = values
                .iter()
                .filter(|(k, v)| current.get(k) != *v)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if changed.is_empty() && owner == current.owner {
                return if pending.is_empty() {
                    Ok(None)
                } else {
                    Err(Error::validation(pending))
                };
            }
            gather(
                &mut pending,
                core_rules(self, access, &e, Some(&current), &changed),
            )?;
            gather(
                &mut pending,
                self.workflow_guard(access, &e, Some(&current), owner, &values),
            )?;
            self.write(|tx| {
                if owner != current.owner {
                    gather(&mut pending, check_owner(tx, access, &perm, owner))?;
                }
                check_integrity(tx, &schema, access, &e, Some(id), &changed, pending)?;
                let mut sets = vec![
                    "version = version + 1".to_string(),
                    "owner = ?".into(),
                    "updated_by = ?".into(),
                    "updated_at = ?".into(),
                ];
                let mut params: Vec<Sql> = vec![
                    owner.map(Sql::Integer).unwrap_or(Sql::Null),
                    access.user_id.map(Sql::Integer).unwrap_or(Sql::Null),
                    Sql::Text(db::now_text()),
                ];
                for (name, v) in &changed {
                    if let Some(f) = e.field(name) {
                        sets.push(format!("{} = ?", ddl::column(name)));
                        params.push(sql::to_sql(&f.def, v));
                    }
                }
                params.push(Sql::Integer(id));
                params.push(Sql::Integer(expected_version));
                let sql = format!(
                    "UPDATE {} SET {} WHERE id = ? AND version = ?",
                    ddl::table(entity),
                    sets.join(", ")
                );
                let n = tx
                    .prepare_cached(&sql)?
                    .execute(crate::db::params_from_iter(params))?;
                if n == 0 {
                    let now = load(tx, &e, id)?;
                    return Err(match now {
                        Some(r) => Error::StaleVersion {
                            expected: expected_version,
                            current: r.version,
                        },
                        None => Error::NotFound(format!("no {entity} with id {id}")),
                    });
                }
                let mut changes: BTreeMap<String, [Json; 2]> = changed
                    .iter()
                    .map(|(k, v)| (k.clone(), [current.get(k).to_json(), v.to_json()]))
                    .collect();
                if owner != current.owner {
                    changes.insert(
                        "owner".into(),
                        [
                            current.owner.map(Json::from).unwrap_or(Json::Null),
                            owner.map(Json::from).unwrap_or(Json::Null),
                        ],
                    );
                }
                write_history(
                    tx,
                    entity,
                    id,
                    expected_version + 1,
                    action,
                    access.user_id,
                    &changes,
                )?;
                let record = load(tx, &e, id)?
                    .ok_or_else(|| Error::Database("updated record vanished".into()))?;
                // The full-text entry holds the textual fields only: rewritten when one of
                // them changed (most updates — a status, an amount — change none).
                let text_changed = changed
                    .keys()
                    .any(|k| e.field(k).is_some_and(|f| f.def.kind.is_textual()));
                if text_changed {
                    write_search(tx, &e, id, Some(&record.values), false)?;
                }
                if entity == "user" {
                    // People's accounts are the administrators' audit's business: what
                    // changed, before and after.
                    let name = record.get("username").to_text();
                    crate::audit::by(
                        tx,
                        access,
                        "user_changed",
                        &name,
                        &serde_json::json!(changes),
                    )?;
                }
                // A deactivated person's invitations die with the account's access (they do
                // not come back with a reactivation).
                if entity == "user" && changed.get("active") == Some(&Value::Bool(false)) {
                    tx.execute(
                        "DELETE FROM invitations WHERE user_id = ?1 AND used_at IS NULL",
                        [id],
                    )?;
                }
                self.enqueue_webhooks(tx, &e, "updated", &record, Some(&changes))?;
                Ok(record)
            })
            .map(Some)
        })?;
        let Some(record) = written else {
            return Ok(redact(access, &e, current));
        };
        hooks.after_write(&event, &record);
        Ok(redact(access, &e, record))
    }

    /// Deletes a record if `expected_version` is current. Refused while other records
    /// reference it. History keeps the deleted values.
    pub fn delete(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        expected_version: i64,
    ) -> Result<()> {
        self.delete_as(access, entity, id, expected_version, "delete")
    }

    /// [`Store::delete`] with the history row's action (`merge` for a duplicate merged away).
    pub(crate) fn delete_as(
        &self,
        access: &Access,
        entity: &str,
        id: i64,
        expected_version: i64,
        action: &'static str,
    ) -> Result<()> {
        let schema = self.schema();
        let (e, perm) = entity_for(&schema, access, entity, "delete", |p| p.delete)?;
        if entity == "user" {
            return Err(Error::Forbidden(
                "users are never deleted; deactivate them instead (active = false)".into(),
            ));
        }
        if e.retired {
            return Err(read_only(&e));
        }
        let current = self.read(|c| {
            load(c, &e, id)?
                .filter(|r| in_scope(c, access, &perm, r).unwrap_or(false))
                .ok_or_else(|| Error::NotFound(format!("no {entity} with id {id}")))
        })?;
        if current.version != expected_version {
            return Err(Error::StaleVersion {
                expected: expected_version,
                current: current.version,
            });
        }
        let hooks = self.hooks();
        let event = WriteEvent {
            op: WriteOp::Delete,
            entity,
            before: Some(&current),
            user_id: access.user_id,
            locale: access.locale,
            via: access.plugin(),
        };
        self.atomically(|| {
            hooks.before_delete(&event)?;
            self.write(|tx| {
                for (other, field) in schema.references_to(entity) {
                    let sql = format!(
                        "SELECT COUNT(*) FROM {} WHERE {} = ?1",
                        ddl::table(&other.name),
                        ddl::column(field.name())
                    );
                    let n: i64 = tx.prepare_cached(&sql)?.query_row([id], |r| r.get(0))?;
                    if n > 0 {
                        let why = Reason::StillReferenced {
                            count: n,
                            entity: other.name.clone(),
                            field: field.name().to_string(),
                        };
                        return Err(Error::Conflict {
                            message: format!("{entity} #{id} is {why}"),
                            fields: [("id".to_string(), why)].into(),
                        });
                    }
                }
                let sql = format!(
                    "DELETE FROM {} WHERE id = ?1 AND version = ?2",
                    ddl::table(entity)
                );
                let n = tx.prepare_cached(&sql)?.execute((id, expected_version))?;
                if n == 0 {
                    return Err(Error::StaleVersion {
                        expected: expected_version,
                        current: load(tx, &e, id)?.map(|r| r.version).unwrap_or(-1),
                    });
                }
                let mut changes: BTreeMap<String, [Json; 2]> = current
                    .values
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), [v.to_json(), Json::Null]))
                    .collect();
                if let Some(o) = current.owner {
                    changes.insert("owner".into(), [Json::from(o), Json::Null]);
                }
                write_history(
                    tx,
                    entity,
                    id,
                    current.version,
                    action,
                    access.user_id,
                    &changes,
                )?;
                write_search(tx, &e, id, None, false)?;
                self.delete_attachments_of(tx, entity, id)?;
                self.cancel_approvals_of(tx, entity, id)?;
                self.enqueue_webhooks(tx, &e, "deleted", &current, None)?;
                Ok(())
            })
        })?;
        hooks.after_write(&event, &current);
        Ok(())
    }
}
