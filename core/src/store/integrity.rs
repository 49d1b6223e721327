//! Integrity of a write: references point at existing records, unique values are free, and
//! the caller may give the record to its owner.

use crate::access::{EntityPermission, Scope};
use crate::db::{ddl, sql};
use crate::schema::{Entity, Schema};
use crate::value::Value;
use crate::{Access, Error, FieldErrors, Reason, Result};
use rusqlite::{Connection, OptionalExtension};
use std::collections::BTreeMap;

/// Checks that references point at existing records and unique values are free.
pub(super) fn check_integrity(
    conn: &Connection,
    schema: &Schema,
    e: &Entity,
    id: Option<i64>,
    changed: &BTreeMap<String, Value>,
) -> Result<()> {
    let mut errors = FieldErrors::new();
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
            let sql = format!("SELECT 1 FROM {} WHERE id = ?1", ddl::table(target));
            let found = conn
                .prepare_cached(&sql)?
                .query_row([rid], |_| Ok(()))
                .optional()?;
            if found.is_none() {
                errors.insert(
                    name.clone(),
                    Reason::NoRecord {
                        entity: target.to_string(),
                        id: *rid,
                    },
                );
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

/// Checks that the caller may give a record to `owner`.
pub(super) fn check_owner(
    conn: &Connection,
    access: &Access,
    perm: &EntityPermission,
    owner: Option<i64>,
) -> Result<()> {
    let Some(owner) = owner else { return Ok(()) };
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
