//! Merging a duplicate into the record that stays: every reference to the duplicate, the
//! activities about it and its attachments move to the record that stays, the values chosen
//! from the duplicate are copied over (through the ordinary update, so validation, field
//! rules, hooks and workflows apply), the duplicate is deleted, and the record that stays
//! shows the duplicate's history as part of its own. All of it commits, or none of it.

use super::activities::ACTIVITY;
use super::field_rules::redact;
use super::integrity::read_only;
use super::records::{entity_for, load, write_history};
use super::rows::write_search;
use super::scope::in_scope;
use super::Store;
use crate::db::{self, ddl, sql};
use crate::hooks::{WriteEvent, WriteOp};
use crate::record::Record;
use crate::schema::Entity;
use crate::value::Value;
use crate::{Access, Error, FieldRule, Reason, Result};
use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// The most records one merge chain follows (a merged record merged again…).
const MAX_CHAIN: usize = 64;

/// What a merge keeps and takes.
#[derive(Debug, Clone, Deserialize)]
pub struct MergeRequest {
    /// The version of the record that stays, as the caller saw it.
    pub version: i64,
    /// The duplicate, merged away.
    pub from: i64,
    /// The duplicate's version, as the caller saw it.
    pub from_version: i64,
    /// The fields (and `owner`) whose value comes from the duplicate. Absent: every field the
    /// record that stays has empty and the duplicate fills, as far as the caller may write it.
    #[serde(default)]
    pub take: Option<Vec<String>>,
}

/// What a merge did.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    /// The record that stays, after the merge.
    pub record: Record,
    /// Records of other types that referred to the duplicate and now refer to the record that
    /// stays, per `type.field`.
    pub moved: BTreeMap<String, usize>,
    /// Activities about the duplicate, now about the record that stays.
    pub activities: usize,
    /// The duplicate's attachments, now the record's.
    pub attachments: usize,
}

/// One record whose reference moved: its type, id and the record as it was.
type Moved = (Entity, Record);

impl Store {
    /// Merges record `req.from` of `entity` into record `keep`. Needs update and delete
    /// permission on the type and both records in the caller's scope; users are never merged.
    pub fn merge(
        &self,
        access: &Access,
        entity: &str,
        keep: i64,
        req: &MergeRequest,
    ) -> Result<MergeOutcome> {
        let schema = self.schema();
        let (e, perm) = entity_for(&schema, access, entity, "update", |p| p.update)?;
        access.require(entity, "delete", |p| p.delete)?;
        if entity == "user" {
            return Err(Error::Forbidden(
                "users are never merged; deactivate the duplicate account instead".into(),
            ));
        }
        if e.retired {
            return Err(read_only(&e));
        }
        if req.from == keep {
            return Err(Error::validation(
                [("from".to_string(), Reason::MergeIntoItself)].into(),
            ));
        }
        let (kept, dup) = self.read(|c| {
            let one = |id: i64| -> Result<Record> {
                load(c, &e, id)?
                    .filter(|r| in_scope(c, access, &perm, r).unwrap_or(false))
                    .ok_or_else(|| Error::NotFound(format!("no {entity} with id {id}")))
            };
            Ok((one(keep)?, one(req.from)?))
        })?;
        for (r, expected) in [(&kept, req.version), (&dup, req.from_version)] {
            if r.version != expected {
                return Err(Error::StaleVersion {
                    expected,
                    current: r.version,
                });
            }
        }
        let patch = merge_patch(access, &e, &kept, &dup, req.take.as_deref())?;
        let hooks = self.hooks();
        let mut moved: Vec<Moved> = Vec::new();
        let outcome = self.atomically(|| {
            let mut counts = BTreeMap::new();
            let (activities, attachments) = self.write(|tx| {
                // Checked again under the writer: a change since the caller looked wins.
                let now = load(tx, &e, keep)?.map(|r| r.version).unwrap_or(-1);
                if now != req.version {
                    return Err(Error::StaleVersion {
                        expected: req.version,
                        current: now,
                    });
                }
                for (other, field) in schema.references_to(entity) {
                    let n = repoint(
                        self,
                        tx,
                        access,
                        other,
                        field.name(),
                        None,
                        (entity, req.from, keep),
                    )?;
                    if !n.is_empty() {
                        counts.insert(format!("{}.{}", other.name, field.name()), n.len());
                        moved.extend(n.into_iter().map(|r| (other.clone(), r)));
                    }
                }
                let mut activities = 0;
                if let Some(a) = schema.entity(ACTIVITY) {
                    let n = repoint(
                        self,
                        tx,
                        access,
                        a,
                        "about_id",
                        Some(entity),
                        (entity, req.from, keep),
                    )?;
                    activities = n.len();
                    moved.extend(n.into_iter().map(|r| (a.clone(), r)));
                }
                let attachments = tx.execute(
                    "UPDATE attachments SET record_id = ?3 WHERE entity = ?1 AND record_id = ?2",
                    (entity, req.from, keep),
                )?;
                tx.execute(
                    "INSERT OR REPLACE INTO merges (entity, merged_id, kept_id, user_id, at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    (entity, req.from, keep, access.user_id, db::now_text()),
                )?;
                Ok((activities, attachments))
            })?;
            self.delete_as(access, entity, req.from, req.from_version, "merge")?;
            // A self-reference may have moved the record that stays (its parent was the
            // duplicate): the update applies to its version now.
            let version = self
                .read(|c| load(c, &e, keep))?
                .map(|r| r.version)
                .ok_or_else(|| Error::NotFound(format!("no {entity} with id {keep}")))?;
            if !patch.is_empty() {
                self.update_as(access, entity, keep, version, &patch, "merge")?;
            }
            let record = self.write(|tx| {
                let record = load(tx, &e, keep)?
                    .ok_or_else(|| Error::Database("merged record vanished".into()))?;
                let marker: BTreeMap<String, [Json; 2]> = [(
                    "merged_from".to_string(),
                    [Json::Null, json!({"id": req.from, "title": dup.title(&e)})],
                )]
                .into();
                write_history(
                    tx,
                    entity,
                    keep,
                    record.version,
                    "merged",
                    access.user_id,
                    &marker,
                )?;
                Ok(record)
            })?;
            Ok(MergeOutcome {
                record,
                moved: counts,
                activities,
                attachments,
            })
        })?;
        // Plugins see each moved reference as the update it is.
        for (other, before) in &moved {
            if let Ok(Some(after)) = self.read(|c| load(c, other, before.id)) {
                let event = WriteEvent {
                    op: WriteOp::Update,
                    entity: &other.name,
                    before: Some(before),
                    user_id: access.user_id,
                    locale: access.locale,
                    via: access.plugin(),
                };
                hooks.after_write(&event, &after);
            }
        }
        Ok(MergeOutcome {
            record: redact(access, &e, outcome.record),
            ..outcome
        })
    }

    /// The record a merged record was merged into, following later merges (none when `id`
    /// was never merged).
    pub fn merged_into(&self, entity: &str, id: i64) -> Result<Option<i64>> {
        self.read(|c| {
            let mut at = id;
            let mut found = None;
            for _ in 0..MAX_CHAIN {
                let next: Option<i64> = c
                    .prepare_cached(
                        "SELECT kept_id FROM merges WHERE entity = ?1 AND merged_id = ?2",
                    )?
                    .query_row((entity, at), |r| r.get(0))
                    .optional()?;
                match next {
                    Some(k) => {
                        found = Some(k);
                        at = k;
                    }
                    None => break,
                }
            }
            Ok(found)
        })
    }
}

/// The ids of the records merged into `id`, directly or through earlier merges.
pub(super) fn merged_ids(c: &Connection, entity: &str, id: i64) -> Result<Vec<i64>> {
    let mut out: Vec<i64> = Vec::new();
    let mut frontier = vec![id];
    let mut stmt =
        c.prepare_cached("SELECT merged_id FROM merges WHERE entity = ?1 AND kept_id = ?2")?;
    while let Some(at) = frontier.pop() {
        let ids = stmt
            .query_map((entity, at), |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for m in ids {
            if m != id && !out.contains(&m) && out.len() < MAX_CHAIN * 16 {
                out.push(m);
                frontier.push(m);
            }
        }
    }
    Ok(out)
}

/// The update a merge makes to the record that stays: the duplicate's values of the fields
/// taken. Without a choice: every field empty on the record that stays and filled on the
/// duplicate that the caller sees and may write, and is not computed.
fn merge_patch(
    access: &Access,
    e: &Entity,
    kept: &Record,
    dup: &Record,
    take: Option<&[String]>,
) -> Result<Map<String, Json>> {
    let mut patch = Map::new();
    let Some(take) = take else {
        let hidden = e.hidden_from(&access.role).unwrap_or_default();
        let rules = access.role.field_rules(&e.name);
        for f in e.fields.iter().filter(|f| !f.retired && !f.def.computed()) {
            let name = &f.def.name;
            let limited = hidden.contains(name)
                || rules.is_some_and(|r| r.get(name) == Some(&FieldRule::ReadOnly))
                || f.def.readonly;
            if !limited && kept.get(name).is_null() && !dup.get(name).is_null() {
                patch.insert(name.clone(), dup.get(name).to_json());
            }
        }
        return Ok(patch);
    };
    let mut errors = crate::FieldErrors::new();
    for name in take {
        if name == "owner" {
            patch.insert(
                "owner".into(),
                dup.owner.map(Json::from).unwrap_or(Json::Null),
            );
            continue;
        }
        match e.field(name) {
            Some(f) if !f.retired => {
                patch.insert(name.clone(), dup.get(name).to_json());
            }
            Some(_) => {
                errors.insert(name.clone(), Reason::Retired);
            }
            None => {
                errors.insert(
                    name.clone(),
                    Reason::NoField {
                        entity: e.name.clone(),
                        field: name.clone(),
                    },
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(Error::validation(errors))
    }
}

/// Points every record of `other` whose `field` holds `from` (and, for activities, whose
/// `about_entity` is `about`) at `to` instead: a new version each, with its history row, its
/// search entry and its webhooks. `(merged, from, to)`: the merged type, the duplicate and the
/// record that stays; a record that would come to refer to itself refers to nothing instead.
/// Returns the records as they were.
fn repoint(
    store: &Store,
    tx: &Connection,
    access: &Access,
    other: &Entity,
    field: &str,
    about: Option<&str>,
    (merged, from, to): (&str, i64, i64),
) -> Result<Vec<Record>> {
    let Some(f) = other.field(field) else {
        return Ok(vec![]);
    };
    let table = ddl::table(&other.name);
    let column = ddl::column(field);
    let ids: Vec<i64> = match about {
        Some(about) => tx
            .prepare_cached(&format!(
                "SELECT id FROM {table} WHERE {column} = ?1 AND {} = ?2",
                ddl::column("about_entity")
            ))?
            .query_map((from, about), |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        None => tx
            .prepare_cached(&format!("SELECT id FROM {table} WHERE {column} = ?1"))?
            .query_map([from], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
    };
    let mut before = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(current) = load(tx, other, id)? else {
            continue;
        };
        let itself = about.is_none() && other.name == merged && id == to;
        let value = match (itself, about) {
            (true, _) => Value::Null,
            (false, Some(_)) => Value::Integer(to),
            (false, None) => Value::Ref(to),
        };
        tx.prepare_cached(&format!(
            "UPDATE {table} SET {column} = ?1, version = version + 1, updated_by = ?2,
             updated_at = ?3 WHERE id = ?4"
        ))?
        .execute((
            sql::to_sql(&f.def, &value),
            access.user_id,
            db::now_text(),
            id,
        ))?;
        let changes: BTreeMap<String, [Json; 2]> = [(
            field.to_string(),
            [current.get(field).to_json(), value.to_json()],
        )]
        .into();
        write_history(
            tx,
            &other.name,
            id,
            current.version + 1,
            "merge",
            access.user_id,
            &changes,
        )?;
        let after =
            load(tx, other, id)?.ok_or_else(|| Error::Database("moved record vanished".into()))?;
        write_search(tx, other, id, Some(&after.values), false)?;
        store.enqueue_webhooks(tx, other, "updated", &after, Some(&changes))?;
        before.push(current);
    }
    Ok(before)
}
