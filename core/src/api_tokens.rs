//! API tokens: personal ones a person makes for their own scripts, and service ones an
//! administrator issues for an integration's (service) user — each with scopes (entity types,
//! read or write, and `admin`), an expiry, when it was last used, and revocation. The secret is
//! shown once, when issued; only its hash is kept. A token never gives more than its user
//! has: its access is the user's, narrowed to its scopes.

use crate::access::{EntityPermission, Role};
use crate::db;
use crate::db::{OptionalExtension, Row};
use crate::schema::Schema;
use crate::store::Store;
use crate::users::{random_token, token_hash};
use crate::{Access, Error, Reason, Result, UserInfo};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What every API token starts with (so a leaked one is recognisable, and never taken for a
/// session).
pub const TOKEN_PREFIX: &str = "qgt_";
/// The longest a token may live.
pub const MAX_DAYS: i64 = 3 * 365;
/// The most live tokens one user may have.
pub const MAX_PER_USER: i64 = 50;
/// The most tokens one person may issue in an hour.
pub const MAX_PER_HOUR: i64 = 20;

/// A token as listed (never with its secret).
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    /// The user it acts as.
    pub user_id: i64,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    /// `customer:read`, `deal:write`, `*:read`, `admin`, …
    pub scopes: Vec<String>,
    /// `personal` (its user made it) or `service` (an administrator issued it for them).
    pub kind: &'static str,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A token just issued: the secret is in this answer and nowhere else.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// What to issue.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// The user it acts as: the caller's own when `None` (others' only for administrators).
    pub user_id: Option<i64>,
    pub name: String,
    pub scopes: Vec<String>,
    /// Days until it expires (1 to [`MAX_DAYS`]).
    pub days: i64,
}

const COLUMNS: &str = "id, user_id, name, prefix, scopes, created_by, created_at, expires_at, \
    last_used_at, revoked_at";

fn from_row(r: &Row<'_>) -> crate::db::DbResult<ApiToken> {
    let user_id: i64 = r.get(1)?;
    let created_by: Option<i64> = r.get(5)?;
    Ok(ApiToken {
        id: r.get(0)?,
        user_id,
        name: r.get(2)?,
        prefix: r.get(3)?,
        scopes: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        kind: if created_by == Some(user_id) {
            "personal"
        } else {
            "service"
        },
        created_by,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        last_used_at: r.get(8)?,
        revoked_at: r.get(9)?,
    })
}

/// Whether a scope reads as one: `admin`, or `<entity type or *>:read|write`.
fn check_scope(schema: &Schema, scope: &str) -> std::result::Result<(), Reason> {
    if scope == "admin" || scope == "plugins" {
        return Ok(());
    }
    let Some((entity, what)) = scope.split_once(':') else {
        return Err(Reason::text(format!(
            "'{scope}' is no scope: write entity:read, entity:write, *:read, *:write, plugins or \
             admin"
        )));
    };
    if what != "read" && what != "write" {
        return Err(Reason::text(format!("'{scope}': read or write")));
    }
    if entity != "*" && !schema.contains(entity) {
        return Err(Reason::UnknownEntity {
            name: entity.to_string(),
        });
    }
    Ok(())
}

/// A user's access narrowed to a token's scopes: reading an entity type needs a read or write
/// scope on it (or `*`), writing needs a write scope; administration needs `admin` (and an
/// administrator). The role keeps its name, so workflows that name roles see the same person.
pub fn narrow(access: &Access, scopes: &[String], schema: &Schema) -> Access {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let may_read = |e: &str| {
        has("*:read") || has("*:write") || has(&format!("{e}:read")) || has(&format!("{e}:write"))
    };
    // Users are people's accounts (active, team, manager): changing them is administration.
    let may_write = |e: &str| {
        if e == "user" {
            return has("admin");
        }
        has("*:write") || has(&format!("{e}:write"))
    };
    let mut permissions = BTreeMap::new();
    for e in schema.entities() {
        let base = access.permission(&e.name);
        let (r, w) = (may_read(&e.name), may_write(&e.name));
        permissions.insert(
            e.name.clone(),
            EntityPermission {
                create: base.create && w,
                read: base.read && r,
                update: base.update && w,
                delete: base.delete && w,
                scope: base.scope,
            },
        );
    }
    permissions.insert("*".into(), EntityPermission::NONE);
    let role = Role {
        name: access.role.name.clone(),
        label: access.role.label.clone(),
        admin: access.role.admin && has("admin"),
        permissions,
        // The role's field rules hold for its tokens too (an administrator's role has none).
        fields: access.role.fields.clone(),
    };
    Access {
        role: Arc::new(role),
        ..access.clone()
    }
}

impl Store {
    /// Issues a token. Someone else's only for an administrator (a service token); `admin`
    /// only for an administrator's token.
    pub fn issue_api_token(&self, access: &Access, new: NewApiToken) -> Result<IssuedToken> {
        let me = access
            .user_id
            .ok_or_else(|| Error::Forbidden("only a person issues tokens".into()))?;
        let user = new.user_id.unwrap_or(me);
        if user != me && !access.is_admin() {
            return Err(Error::Forbidden(
                "only an administrator issues tokens for someone else".into(),
            ));
        }
        let (owner, _) = self
            .access_for(user)
            .map_err(|_| Error::field("user_id", Reason::NotUserId))?;
        let mut errors = crate::FieldErrors::new();
        let name = new.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 60 {
            errors.insert("name".into(), Reason::LengthBetween { min: 1, max: 60 });
        }
        // No control or direction-changing characters: a name must read as it is.
        let bidi = |c: char| matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if name.chars().any(|c| c.is_control() || bidi(c)) {
            errors.insert("name".into(), Reason::ContainsNul);
        }
        let schema = self.schema();
        let mut scopes: Vec<String> = Vec::new();
        for s in &new.scopes {
            if let Err(why) = check_scope(&schema, s) {
                errors.entry("scopes".into()).or_insert(why);
            } else if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        if scopes.is_empty() {
            errors.entry("scopes".into()).or_insert(Reason::Required);
        }
        if scopes.iter().any(|s| s == "admin") && !owner.is_admin() {
            errors.entry("scopes".into()).or_insert(Reason::AdminOnly);
        }
        if !(1..=MAX_DAYS).contains(&new.days) {
            errors.insert(
                "days".into(),
                Reason::NumberBetween {
                    min: 1,
                    max: MAX_DAYS as usize,
                },
            );
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_token());
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let now = self.shared_now();
        let id = self.write(|tx| {
            let recent: i64 = tx.query_row(
                "SELECT COUNT(*) FROM api_tokens WHERE created_by = ?1 AND created_at > ?2",
                (me, db::time_text(now - chrono::Duration::hours(1))),
                |r| r.get(0),
            )?;
            if recent >= MAX_PER_HOUR {
                return Err(Error::conflict(format!(
                    "{recent} tokens issued in the last hour; wait before issuing more"
                )));
            }
            let live: i64 = tx.query_row(
                "SELECT COUNT(*) FROM api_tokens WHERE user_id = ?1 AND revoked_at IS NULL
                 AND expires_at > ?2",
                (user, db::time_text(now)),
                |r| r.get(0),
            )?;
            if live >= MAX_PER_USER {
                return Err(Error::conflict(format!(
                    "this user has {live} live tokens; revoke some first"
                )));
            }
            tx.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, scopes, created_by,
                 created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                (
                    user,
                    &name,
                    token_hash(&secret),
                    &prefix,
                    serde_json::to_string(&scopes).unwrap_or_default(),
                    me,
                    db::time_text(now),
                    db::time_text(now + chrono::Duration::days(new.days)),
                ),
            )?;
            let id = tx.last_insert_rowid();
            let whose = crate::audit::username(tx, user)?;
            crate::audit::by(
                tx,
                access,
                "api_token_issued",
                &whose,
                &serde_json::json!({"name": name, "scopes": scopes, "days": new.days}),
            )?;
            Ok(id)
        })?;
        let token = self.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?1"),
                [id],
                from_row,
            )?)
        })?;
        Ok(IssuedToken { token, secret })
    }

    /// The caller's tokens (every token for an administrator), newest first.
    pub fn api_tokens(&self, access: &Access) -> Result<Vec<ApiToken>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM api_tokens WHERE (?1 OR user_id = ?2 OR created_by = ?2)
                 ORDER BY revoked_at IS NOT NULL, id DESC LIMIT 500"
            ))?;
            let rows = stmt.query_map((access.is_admin(), access.user_id), from_row)?;
            Ok(rows.collect::<crate::db::DbResult<Vec<_>>>()?)
        })
    }

    /// Revokes a token: its user's, the one who issued it, or an administrator.
    pub fn revoke_api_token(&self, access: &Access, id: i64) -> Result<()> {
        let changed = self.write(|tx| {
            let n = tx.execute(
                "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?3)
                 WHERE id = ?1 AND (?2 OR user_id = ?4 OR created_by = ?4)",
                (
                    id,
                    access.is_admin(),
                    db::time_text(self.shared_now()),
                    access.user_id,
                ),
            )?;
            if n > 0 {
                crate::audit::by(
                    tx,
                    access,
                    "api_token_revoked",
                    &id.to_string(),
                    &serde_json::json!({}),
                )?;
            }
            Ok(n)
        })?;
        if changed == 0 {
            return Err(Error::NotFound(format!("no token with id {id}")));
        }
        Ok(())
    }

    /// Revokes every live token of a user (their password was changed or reset: whoever
    /// took the account may hold one). Inside the caller's transaction.
    pub(crate) fn revoke_tokens_of(tx: &crate::db::Conn, user_id: i64) -> Result<()> {
        tx.execute(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
            (user_id, db::now_text()),
        )?;
        Ok(())
    }

    /// Drops tokens revoked or expired more than 30 days ago.
    pub fn purge_api_tokens(&self) -> Result<usize> {
        let before = db::time_text(self.shared_now() - chrono::Duration::days(30));
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM api_tokens WHERE revoked_at < ?1 OR expires_at < ?1",
                [before],
            )?)
        })
    }

    /// Who a token acts as, narrowed to its scopes; unknown, revoked or expired tokens are
    /// refused alike. Notes when it was used (at most once a minute).
    pub fn token_access(&self, secret: &str) -> Result<(Access, UserInfo, Vec<String>)> {
        let refused = || Error::Unauthenticated("API token unknown, revoked or expired".into());
        type Row = (i64, i64, String, String, Option<String>, Option<String>);
        let found: Option<Row> = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT id, user_id, scopes, expires_at, revoked_at, last_used_at
                     FROM api_tokens WHERE token_hash = ?1",
            )?
            .query_row([token_hash(secret)], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()?)
        })?;
        let (id, user, scopes, expires, revoked, last_used) = found.ok_or_else(refused)?;
        let now = db::time_text(self.shared_now());
        if revoked.is_some() || expires < now {
            return Err(refused());
        }
        let (access, info) = self.access_for(user)?;
        let scopes: Vec<String> = serde_json::from_str(&scopes).unwrap_or_default();
        let a_minute_ago = db::time_text(self.shared_now() - chrono::Duration::minutes(1));
        if last_used.is_none_or(|t| t < a_minute_ago) {
            self.write(|tx| {
                tx.execute(
                    "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
                    (id, &now),
                )?;
                Ok(())
            })?;
        }
        let narrowed = narrow(&access, &scopes, &self.schema());
        let info = UserInfo {
            admin: narrowed.is_admin(),
            ..info
        };
        Ok((narrowed, info, scopes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_narrow_and_never_widen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(crate::StoreOptions::new(dir.path().join("t.db"))).unwrap();
        let schema = store.schema();
        let mut sales = Role::defaults().remove(2);
        sales.name = "sales".into();
        let rep = Access {
            user_id: Some(5),
            team: None,
            role: Arc::new(sales),
            locale: crate::Locale::En,
        };
        let read_customers = narrow(&rep, &["customer:read".into()], &schema);
        let p = read_customers.permission("customer");
        assert!(p.read && !p.create && !p.update && !p.delete);
        assert!(!read_customers.permission("contact").read);
        let write_all = narrow(&rep, &["*:write".into(), "admin".into()], &schema);
        let p = write_all.permission("contact");
        assert!(p.read && p.create && p.update);
        assert!(!p.delete, "a rep may not delete, whatever the token says");
        assert!(
            !write_all.is_admin(),
            "admin scope gives nothing to a non-admin"
        );
        assert_eq!(write_all.role.name, "sales");
        let admin = Access::system();
        assert!(!narrow(&admin, &["*:write".into()], &schema).is_admin());
        assert!(narrow(&admin, &["admin".into()], &schema).is_admin());
        assert!(check_scope(&schema, "customer:read").is_ok());
        assert!(check_scope(&schema, "customer:all").is_err());
        assert!(check_scope(&schema, "nothing:read").is_err());
        assert!(check_scope(&schema, "customer").is_err());
    }
}
