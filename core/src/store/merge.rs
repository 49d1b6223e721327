//! Merging a duplicate into the record that stays: every reference to the duplicate and the
//! activities about it move to the record that stays (each an ordinary update, which plugins'
//! hooks may refuse), its attachments move, the values chosen from the duplicate are copied
//! over (an ordinary update as the caller, so field rules, hooks and workflows apply), the
//! duplicate is deleted, and the record that stays shows the duplicate's history as part of
//! its own. All of it commits, or none of it.

use super::activities::ACTIVITY;
use super::field_rules::redact;
use super::integrity::read_only;
use super::records::{entity_for, load, write_history};
use super::scope::in_scope;
use super::Store;
use crate::db::{self, ddl};
use crate::db::{Conn, OptionalExtension};
use crate::record::Record;
use crate::schema::Entity;
use crate::{Access, Error, Reason, Result};
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
        // References move as the system moves them — in every record that refers to the
        // duplicate, whoever's it is — yet through the ordinary update, so that plugins' hooks
        // may refuse (a posted document), unique fields hold and the history says who.
        let mover = Access {
            user_id: access.user_id,
            team: access.team.clone(),
            role: Access::system().role,
            locale: access.locale,
        };
        let outcome = self.atomically(|| {
            self.begin_write()?;
            // Checked again under the writer: a change since the caller looked wins.
            let version_of = |id: i64| -> Result<i64> {
                self.read(|c| load(c, &e, id))?
                    .map(|r| r.version)
                    .ok_or_else(|| Error::NotFound(format!("no {entity} with id {id}")))
            };
            let now = version_of(keep)?;
            if now != req.version {
                return Err(Error::StaleVersion {
                    expected: req.version,
                    current: now,
                });
            }
            let mut moved = BTreeMap::new();
            for (other, field) in schema.references_to(entity) {
                let n =
                    self.repoint(&mover, other, field.name(), None, (entity, req.from, keep))?;
                // Counted for the caller only where they may read the type.
                if n > 0 && access.permission(&other.name).read {
                    *moved
                        .entry(format!("{}.{}", other.name, field.name()))
                        .or_insert(0) += n;
                }
            }
            let activities = match schema.entity(ACTIVITY) {
                Some(a) => self.repoint(
                    &mover,
                    a,
                    "about_id",
                    Some(entity),
                    (entity, req.from, keep),
                )?,
                None => 0,
            };
            let attachments = self.write(|tx| {
                let n = tx.execute(
                    "UPDATE attachments SET record_id = ?3 WHERE entity = ?1 AND record_id = ?2",
                    (entity, req.from, keep),
                )?;
                tx.execute(
                    "INSERT INTO merges (entity, merged_id, kept_id, user_id, at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (entity, merged_id) DO UPDATE SET
                       kept_id = excluded.kept_id, user_id = excluded.user_id, at = excluded.at",
                    (entity, req.from, keep, access.user_id, db::now_text()),
                )?;
                Ok(n)
            })?;
            // A reference of the duplicate to itself was emptied above: a new version of it.
            self.delete_as(access, entity, req.from, version_of(req.from)?, "merge")?;
            if !patch.is_empty() {
                self.update_as(access, entity, keep, version_of(keep)?, &patch, "merge")?;
            }
            // The record that stays changed even when no value did: a new version, so that a
            // stale edit or delete of it is refused, with the merge in its history.
            let record = self.write(|tx| {
                tx.prepare_cached(&format!(
                    "UPDATE {} SET version = version + 1, updated_by = ?1, updated_at = ?2
                     WHERE id = ?3",
                    ddl::table(entity)
                ))?
                .execute((access.user_id, db::now_text(), keep))?;
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
                self.enqueue_webhooks(tx, &e, "updated", &record, Some(&marker))?;
                Ok(record)
            })?;
            Ok(MergeOutcome {
                record,
                moved,
                activities,
                attachments,
            })
        })?;
        Ok(MergeOutcome {
            record: redact(access, &e, outcome.record),
            ..outcome
        })
    }

    /// Points every record of `other` whose `field` holds `from` (and, for activities, whose
    /// `about_entity` is `about`) at `to` instead, each through the ordinary update as `mover`
    /// (history action `merge`). `(merged, from, to)`: the merged type, the duplicate and the
    /// record that stays; a reference that would point a record at itself — the record that
    /// stays at the duplicate, or the duplicate at itself — is emptied instead. Returns how
    /// many records moved.
    fn repoint(
        &self,
        mover: &Access,
        other: &Entity,
        field: &str,
        about: Option<&str>,
        (merged, from, to): (&str, i64, i64),
    ) -> Result<usize> {
        let table = ddl::table(&other.name);
        let column = ddl::column(field);
        let ids: Vec<(i64, i64)> = self.read(|c| {
            Ok(match about {
                Some(about) => c
                    .prepare_cached(&format!(
                        "SELECT id, version FROM {table} WHERE {column} = ?1 AND {} = ?2",
                        ddl::column("about_entity")
                    ))?
                    .query_map((from, about), |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<crate::db::DbResult<_>>()?,
                None => c
                    .prepare_cached(&format!(
                        "SELECT id, version FROM {table} WHERE {column} = ?1"
                    ))?
                    .query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<crate::db::DbResult<_>>()?,
            })
        })?;
        for (id, version) in &ids {
            let itself = about.is_none() && other.name == merged && (*id == to || *id == from);
            let value = if itself { Json::Null } else { json!(to) };
            let patch: Map<String, Json> = [(field.to_string(), value)].into_iter().collect();
            self.update_as(mover, &other.name, *id, *version, &patch, "merge")?;
        }
        Ok(ids.len())
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
pub(super) fn merged_ids(c: &Conn, entity: &str, id: i64) -> Result<Vec<i64>> {
    let mut out: Vec<i64> = Vec::new();
    let mut frontier = vec![id];
    let mut stmt =
        c.prepare_cached("SELECT merged_id FROM merges WHERE entity = ?1 AND kept_id = ?2")?;
    while let Some(at) = frontier.pop() {
        let ids = stmt
            .query_map((entity, at), |r| r.get::<_, i64>(0))?
            .collect::<crate::db::DbResult<Vec<_>>>()?;
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
        // The type as the caller's role sees it: hidden fields absent, read-only ones (the
        // role's and the system's, computed ones among them) marked.
        let seen = e.seen_by(&access.role);
        for f in seen.fields.iter().filter(|f| !f.retired && !f.def.readonly) {
            let name = &f.def.name;
            if kept.get(name).is_null() && !dup.get(name).is_null() {
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
