//! Record scopes: which records of a type a caller reaches (their own, their team's, all),
//! as an SQL condition and as a check of one record.

use crate::access::{EntityPermission, Scope};
use crate::db::ddl;
use crate::db::Value as Sql;
use crate::db::{Conn, OptionalExtension};
use crate::record::Record;
use crate::{Access, Result};

/// The SQL condition (with its parameters) limiting rows to the caller's scope.
/// `alias` prefixes the record table's columns (`""` or `"r."`).
pub(crate) fn scope_condition(
    access: &Access,
    perm: &EntityPermission,
    alias: &str,
) -> (String, Vec<Sql>) {
    if access.user_id.is_none() || perm.scope == Scope::All {
        return (String::new(), vec![]);
    }
    let uid = access.user_id.unwrap_or_default();
    match (perm.scope, &access.team) {
        (Scope::Team, Some(team)) => (
            format!(
                "({alias}owner = ? OR {alias}owner IN (SELECT id FROM r_user WHERE c_team = ?))"
            ),
            vec![Sql::Integer(uid), Sql::Text(team.clone())],
        ),
        _ => (format!("{alias}owner = ?"), vec![Sql::Integer(uid)]),
    }
}

/// Whether the caller sees only some records of the type (their own, their team's).
pub(super) fn scoped(access: &Access, perm: &EntityPermission) -> bool {
    access.user_id.is_some() && perm.scope != Scope::All
}

/// Whether the caller's scope condition reads the users (their team's members): a list read
/// with it depends on the users' records too.
pub(super) fn reads_users(access: &Access, perm: &EntityPermission) -> bool {
    scoped(access, perm) && perm.scope == Scope::Team && access.team.is_some()
}

/// Whether a loaded record is within the caller's scope, where the record alone tells (every
/// record, or their own); `None` where it doesn't (another's, under their team's scope: the
/// owner's team is in the database).
pub(super) fn in_scope_known(access: &Access, perm: &EntityPermission, r: &Record) -> Option<bool> {
    if !scoped(access, perm) {
        return Some(true);
    }
    let own = r.owner.is_some() && r.owner == access.user_id;
    match (perm.scope, &access.team) {
        (Scope::Team, Some(_)) if !own => None,
        _ => Some(own),
    }
}

/// Whether a record, as just loaded on `conn`, is within the caller's scope: asked of the
/// database only where the record alone doesn't tell.
pub(super) fn in_scope(
    conn: &Conn,
    access: &Access,
    perm: &EntityPermission,
    r: &Record,
) -> Result<bool> {
    if let Some(known) = in_scope_known(access, perm, r) {
        return Ok(known);
    }
    let (cond, mut params) = scope_condition(access, perm, "");
    params.push(Sql::Integer(r.id));
    let sql = format!(
        "SELECT 1 FROM {} WHERE {cond} AND id = ?",
        ddl::table(&r.entity)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt
        .query_row(crate::db::params_from_iter(params), |_| Ok(()))
        .optional()?
        .is_some())
}
