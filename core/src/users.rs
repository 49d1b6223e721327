//! Users, passwords (argon2id), sessions and tokens (stored as SHA-256 hashes).

use crate::db;
use crate::db::OptionalExtension;
use crate::record::Record;
use crate::schema::Locale;
use crate::store::Store;
use crate::value::Value;
use crate::{Access, Error, Reason, Result};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

/// Shortest password accepted outside the demo.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password, in bytes.
const MAX_PASSWORD_BYTES: usize = 1024;

/// What is needed to create a user.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name (unique).
    pub username: String,
    /// Name shown in the UI.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Initial password (leave empty with `invite`).
    #[serde(default)]
    pub password: String,
    /// Send (or show) an invitation with which the user sets their own password, instead of
    /// giving one.
    #[serde(default)]
    pub invite: bool,
    /// Role name.
    pub role: String,
    /// Team, for `team` scopes.
    #[serde(default)]
    pub team: Option<String>,
    /// The user's manager.
    #[serde(default)]
    pub manager: Option<i64>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Preferred locale (`en` or `zh-CN`).
    #[serde(default)]
    pub locale: Option<String>,
}

/// A signed-in user, as the UI and API need it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserInfo {
    /// User record id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role name.
    pub role: String,
    /// Whether the role administers the install.
    pub admin: bool,
    /// Team.
    pub team: Option<String>,
    /// Preferred locale, if the user chose one.
    pub locale: Option<Locale>,
}

/// A new session: the token goes to the client once and is stored only as a hash.
#[derive(Debug, Clone)]
pub struct Session {
    /// Bearer token / cookie value.
    pub token: String,
    /// Anti-CSRF token bound to the session.
    pub csrf: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
}

/// A random URL-safe token (256 bits).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of a new password, if it is long enough (and not absurdly long).
pub(crate) fn checked_password_hash(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_LEN || password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::field(
            "password",
            Reason::LengthBetween {
                min: MIN_PASSWORD_LEN,
                max: MAX_PASSWORD_BYTES,
            },
        ));
    }
    hash_password(password)
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Database(format!("password hashing failed: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn text(r: &Record, f: &str) -> Option<String> {
    match r.get(f) {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

impl Store {
    /// Creates a user with a password. Administrators (and the system) only. The demo may
    /// pass `allow_short_password` for its `admin`/`admin` logins; nothing else should.
    pub fn create_user(
        &self,
        access: &Access,
        new: &NewUser,
        allow_short_password: bool,
    ) -> Result<Record> {
        access.require_admin()?;
        // An invited user sets their own password: until then, one nobody knows.
        let invented;
        let new = if new.invite && new.password.is_empty() {
            invented = NewUser {
                password: random_token(),
                ..new.clone()
            };
            &invented
        } else {
            new
        };
        if !allow_short_password && new.password.chars().count() < MIN_PASSWORD_LEN {
            return Err(Error::field(
                "password",
                Reason::TooShort {
                    min: MIN_PASSWORD_LEN.to_string(),
                },
            ));
        }
        if new.password.is_empty() || new.password.len() > MAX_PASSWORD_BYTES {
            return Err(Error::field(
                "password",
                Reason::LengthBetween {
                    min: 1,
                    max: MAX_PASSWORD_BYTES,
                },
            ));
        }
        if self.role(&new.role).is_none() {
            return Err(Error::field(
                "role",
                Reason::NoRole {
                    role: new.role.clone(),
                },
            ));
        }
        let mut input = Map::new();
        input.insert("username".into(), json!(new.username.trim()));
        input.insert(
            "display_name".into(),
            json!(new
                .display_name
                .clone()
                .unwrap_or_else(|| new.username.trim().to_string())),
        );
        input.insert("role".into(), json!(new.role));
        input.insert("active".into(), json!(true));
        if let Some(t) = &new.team {
            input.insert("team".into(), json!(t));
        }
        if let Some(m) = new.manager {
            input.insert("manager".into(), json!(m));
        }
        if let Some(e) = &new.email {
            input.insert("email".into(), json!(e));
        }
        if let Some(l) = &new.locale {
            input.insert("locale".into(), json!(l));
        }
        if new
            .username
            .trim()
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::field("username", Reason::ContainsSpaces));
        }
        let hash = hash_password(&new.password)?;
        // The user and their credentials are written together, or neither is.
        let record = self.atomically(|| {
            let record = self.insert_record(access, "user", &input, None)?;
            // The record owns itself, so `own` scope on users means "my own profile".
            self.write(|tx| {
                tx.execute("UPDATE r_user SET owner = id WHERE id = ?1", [record.id])?;
                tx.execute(
                    "INSERT INTO credentials (user_id, password_hash, changed_at) VALUES (?1, ?2, ?3)",
                    (record.id, &hash, db::time_text(self.shared_now())),
                )?;
                crate::audit::by(
                    tx,
                    access,
                    "user_created",
                    new.username.trim(),
                    &json!({"id": record.id, "role": new.role, "team": new.team, "invited": new.invite}),
                )?;
                Ok(())
            })?;
            Ok(record)
        })?;
        self.get(&Access::system(), "user", record.id)
    }

    /// Sets a user's password: an administrator's reset of someone else's, or a user's change
    /// of their own — which needs their `current` password (field `current_password`), so
    /// that a borrowed session cannot take over the account. Ends the user's sessions.
    pub fn set_password(
        &self,
        access: &Access,
        user_id: i64,
        current: Option<&str>,
        password: &str,
    ) -> Result<()> {
        if access.user_id == Some(user_id) {
            let current = current
                .filter(|c| !c.is_empty())
                .ok_or_else(|| Error::field("current_password", Reason::Required))?;
            let hash: Option<String> = self.read(|c| {
                Ok(
                    c.prepare_cached("SELECT password_hash FROM credentials WHERE user_id = ?1")?
                        .query_row([user_id], |r| r.get(0))
                        .optional()?,
                )
            })?;
            if current.len() > MAX_PASSWORD_BYTES
                || !hash.is_some_and(|h| verify_password(current, &h))
            {
                return Err(Error::field("current_password", Reason::WrongPassword));
            }
        } else {
            access.require_admin()?;
        }
        let hash = checked_password_hash(password)?;
        self.write(|tx| {
            let n = tx.execute(
                "INSERT INTO credentials (user_id, password_hash, changed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id) DO UPDATE SET password_hash = ?2, changed_at = ?3",
                (user_id, &hash, db::time_text(self.shared_now())),
            )?;
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
            Store::revoke_tokens_of(tx, user_id)?;
            let whose = crate::audit::username(tx, user_id)?;
            crate::audit::by(
                tx,
                access,
                "password_set",
                &whose,
                &json!({"id": user_id, "own": access.user_id == Some(user_id)}),
            )?;
            Ok(n)
        })?;
        Ok(())
    }

    /// Checks a username and password; returns the user id. Inactive users cannot log in.
    /// Unknown users cost the same time as wrong passwords.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<i64> {
        let found: Option<(i64, String, Option<bool>)> = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT u.id, k.password_hash, u.c_active FROM r_user u
                 JOIN credentials k ON k.user_id = u.id WHERE u.c_username = ?1",
            )?
            .query_row([username.trim()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?)
        })?;
        let denied = || Error::Unauthenticated("wrong username or password".into());
        match found {
            Some((id, hash, active)) => {
                if !verify_password(password, &hash) {
                    return Err(denied());
                }
                if active == Some(false) {
                    return Err(Error::Unauthenticated("this account is deactivated".into()));
                }
                Ok(id)
            }
            None => {
                // Spend the same effort as a real check.
                let _ = verify_password(
                    password,
                    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$jqTjyWDb2tQ3wBEOqkpJc1ajzSdVobSEg4ZqSMXjDzM",
                );
                Err(denied())
            }
        }
    }

    /// Starts a session for a user, valid for `ttl`.
    pub fn create_session(&self, user_id: i64, ttl: chrono::Duration) -> Result<Session> {
        let token = random_token();
        let csrf = random_token();
        let now = self.shared_now();
        let expires_at = db::time_text(now + ttl);
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE expires_at < ?1",
                [db::time_text(now)],
            )?;
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (
                    token_hash(&token),
                    user_id,
                    &csrf,
                    db::time_text(now),
                    &expires_at,
                ),
            )?;
            Ok(())
        })?;
        Ok(Session {
            token,
            csrf,
            expires_at,
        })
    }

    /// Resolves a session token to who it belongs to and its CSRF token.
    pub fn session(&self, token: &str) -> Result<(Access, UserInfo, String)> {
        let found: Option<(i64, String, String)> = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = ?1",
            )?
            .query_row([token_hash(token)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?)
        })?;
        let expired = || Error::Unauthenticated("session expired or unknown; log in again".into());
        let (user_id, csrf, expires) = found.ok_or_else(expired)?;
        if expires < db::time_text(self.shared_now()) {
            return Err(expired());
        }
        let (access, info) = self.access_for(user_id)?;
        Ok((access, info, csrf))
    }

    /// Ends a session.
    pub fn end_session(&self, token: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE token_hash = ?1",
                [token_hash(token)],
            )?;
            Ok(())
        })
    }

    /// The access and profile of an active user.
    pub fn access_for(&self, user_id: i64) -> Result<(Access, UserInfo)> {
        let r = self
            .get(&Access::system(), "user", user_id)
            .map_err(|_| Error::Unauthenticated("user no longer exists".into()))?;
        if r.get("active") == &Value::Bool(false) {
            return Err(Error::Unauthenticated("this account is deactivated".into()));
        }
        let role_name = text(&r, "role").unwrap_or_default();
        let role = self
            .role(&role_name)
            .ok_or_else(|| Error::Forbidden(format!("role '{role_name}' no longer exists")))?;
        let locale = text(&r, "locale").and_then(|l| Locale::parse(&l));
        let info = UserInfo {
            id: r.id,
            username: text(&r, "username").unwrap_or_default(),
            display_name: text(&r, "display_name").unwrap_or_default(),
            role: role_name,
            admin: role.admin,
            team: text(&r, "team"),
            locale,
        };
        let access = Access {
            user_id: Some(r.id),
            team: info.team.clone(),
            role,
            locale: match locale {
                Some(l) => l,
                None => self.default_locale()?,
            },
        };
        Ok((access, info))
    }

    /// Finds a user id by username.
    pub fn user_id(&self, username: &str) -> Result<Option<i64>> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT id FROM r_user WHERE c_username = ?1")?
                    .query_row([username], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// Remembers a user's locale (no history noise beyond the one field).
    pub fn set_user_locale(&self, user_id: i64, locale: Locale) -> Result<()> {
        let system = Access::system();
        let r = self.get(&system, "user", user_id)?;
        let mut patch = Map::new();
        patch.insert("locale".into(), Json::from(locale.as_str()));
        self.update(&system, "user", user_id, r.version, &patch)?;
        Ok(())
    }

    /// Whether a user gets their notifications by e-mail too (when mail is set up; unset is
    /// yes).
    pub fn set_user_mail_notifications(&self, user_id: i64, on: bool) -> Result<()> {
        let system = Access::system();
        let r = self.get(&system, "user", user_id)?;
        let mut patch = Map::new();
        patch.insert("mail_notifications".into(), Json::from(on));
        self.update(&system, "user", user_id, r.version, &patch)?;
        Ok(())
    }

    /// Number of users (0 on a fresh install).
    pub fn user_count(&self) -> Result<i64> {
        self.read(|c| Ok(c.query_row("SELECT COUNT(*) FROM r_user", [], |r| r.get(0))?))
    }
}
