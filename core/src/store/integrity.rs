//! Integrity of a write: references point at records the caller may read, unique values are
//! free, and the caller may give the record to its owner.

use super::scope::{scope_condition, scoped};
use crate::access::{EntityPermission, Scope};
use crate::db::Value as Sql;
use crate::db::{ddl, sql};
use crate::db::{Conn, OptionalExtension};
use crate::schema::{Entity, FieldType, Schema};
use crate::value::Value;
use crate::{Access, Error, FieldErrors, Reason, Result};
use std::collections::BTreeMap;

/// Whether record `id` of `target` exists and the caller may read it. A reference may only
/// point at such a record — otherwise writing one would reach (through hooks, related lists,
/// titles) a record the caller cannot see — and a record the caller may not read is answered
/// exactly like a missing one, so that a reference field does not reveal what exists.
fn readable(conn: &Conn, access: &Access, target: &str, id: i64) -> Result<bool> {
    let perm = access.permission(target);
    if !perm.read {
        return Ok(false);
    }
    let (cond, mut params) = scope_condition(access, &perm, "");
    let cond = if cond.is_empty() {
        String::new()
    } else {
        format!(" AND {cond}")
    };
    params.insert(0, Sql::Integer(id));
    let sql = format!("SELECT 1 FROM {} WHERE id = ?{cond}", ddl::table(target));
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(crate::db::params_from_iter(params), |_| Ok(()))
        .optional()?
        .is_some())
}

/// Checks that references point at records the caller may read and unique values are free.
/// `pending` are field errors found before (required fields, the owner): they are reported
/// together with these, so that a write is refused once with everything wrong with it.
pub(super) fn check_integrity(
    conn: &Conn,
    schema: &Schema,
    access: &Access,
    e: &Entity,
    id: Option<i64>,
    changed: &BTreeMap<String, Value>,
    pending: FieldErrors,
) -> Result<()> {
    let mut errors = pending;
    let mut conflicts = FieldErrors::new();
    for (name, v) in changed {
        let Some(f) = e.field(name) else { continue };
        if let (Some(target), Value::Ref(rid)) = (f.def.reference_target(), v) {
            if !schema.contains(target) {
                errors.insert(
                    name.clone(),
                    Reason::NoTargetType {
                        entity: target.to_string(),
                    },
                );
                continue;
            }
            if !readable(conn, access, target, *rid)? {
                errors.entry(name.clone()).or_insert(Reason::NoRecord {
                    entity: target.to_string(),
                    id: *rid,
                });
            }
        }
        // A file field holds one of the record's own files (attached before it is named).
        if let (FieldType::File, Value::Integer(aid)) = (f.def.kind, v) {
            let attached: Option<i64> = conn
                .prepare_cached(
                    "SELECT id FROM attachments WHERE id = ?1 AND entity = ?2 AND record_id = ?3",
                )?
                .query_row((aid, &e.name, id.unwrap_or(0)), |r| r.get(0))
                .optional()?;
            if attached.is_none() {
                errors
                    .entry(name.clone())
                    .or_insert(Reason::NotAttached { id: *aid });
            }
        }
        if f.def.unique && !v.is_null() {
            let sql = format!(
                "SELECT id FROM {} WHERE {} = ?1 AND id != ?2 LIMIT 1",
                ddl::table(&e.name),
                ddl::column(name)
            );
            let other: Option<i64> = conn
                .prepare_cached(&sql)?
                .query_row((sql::to_sql(&f.def, v), id.unwrap_or(0)), |r| r.get(0))
                .optional()?;
            if let Some(other) = other {
                conflicts.insert(
                    name.clone(),
                    Reason::Unique {
                        entity: e.name.clone(),
                        id: other,
                    },
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    if !conflicts.is_empty() {
        return Err(Error::Conflict {
            message: "duplicate value in a unique field".into(),
            fields: conflicts,
        });
    }
    Ok(())
}

/// Checks that the caller may give a record to `owner`. Only callers who see every record of
/// the type may leave one without an owner: anyone else would lose sight of it.
pub(super) fn check_owner(
    conn: &Conn,
    access: &Access,
    perm: &EntityPermission,
    owner: Option<i64>,
) -> Result<()> {
    let Some(owner) = owner else {
        if scoped(access, perm) {
            return Err(Error::field("owner", Reason::OwnerRequired));
        }
        return Ok(());
    };
    let team: Option<Option<String>> = conn
        .prepare_cached("SELECT c_team FROM r_user WHERE id = ?1")?
        .query_row([owner], |r| r.get(0))
        .optional()?;
    let Some(owner_team) = team else {
        return Err(Error::field(
            "owner",
            Reason::NoRecord {
                entity: "user".into(),
                id: owner,
            },
        ));
    };
    if access.user_id.is_none() || access.user_id == Some(owner) || perm.scope == Scope::All {
        return Ok(());
    }
    if perm.scope == Scope::Team && owner_team.is_some() && owner_team == access.team {
        return Ok(());
    }
    Err(Error::field("owner", Reason::OwnerOutOfScope))
}

impl super::Store {
    /// The active users the caller may give a record of `entity` to, as `(id, display name)`
    /// by name — the choices [`check_owner`] accepts: everyone for a caller who reaches every
    /// record of the type (and the system), their team and themselves for team scope,
    /// themselves alone otherwise. At most `limit`.
    pub fn owner_choices(
        &self,
        access: &Access,
        entity: &str,
        limit: usize,
    ) -> Result<Vec<(i64, String)>> {
        let perm = access.permission(entity);
        let (cond, params): (&str, Vec<Sql>) = match (access.user_id, perm.scope, &access.team) {
            (None, _, _) | (_, Scope::All, _) => ("", vec![]),
            (Some(me), Scope::Team, Some(team)) => (
                " AND (id = ? OR c_team = ?)",
                vec![Sql::Integer(me), Sql::Text(team.clone())],
            ),
            (Some(me), _, _) => (" AND id = ?", vec![Sql::Integer(me)]),
        };
        let sql = format!(
            "SELECT id, COALESCE(NULLIF(c_display_name, ''), c_username) AS name FROM r_user
             WHERE COALESCE(c_active, 1) = 1{cond} ORDER BY name, id LIMIT {limit}"
        );
        self.read(|c| {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt
                .query_map(crate::db::params_from_iter(params), |r| {
                    Ok((
                        r.get(0)?,
                        r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    ))
                })?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }
}

/// Why writes to a retired entity type are refused: a plugin's types are read-only while the
/// plugin is not running (its rules cannot run), a custom type once retired for good.
pub(super) fn read_only(e: &Entity) -> Error {
    Error::Forbidden(match &e.origin {
        crate::schema::Origin::Plugin(p) => format!(
            "'{}' is read-only while its plugin '{p}' is not running (disabled, failed to load \
             or missing a dependency); an administrator can see why on the plugins page",
            e.name
        ),
        _ => format!("'{}' is retired and read-only", e.name),
    })
}
