//! Invitations: a one-time link with which a user sets their own password — a new user
//! instead of one an administrator invents, or someone who forgot theirs. The link's token is
//! given once (to show, or to mail); only its hash is kept; it expires after a week, works
//! once, and a newer invitation replaces an older one.

use crate::db;
use crate::db::OptionalExtension;
use crate::store::Store;
use crate::users::{random_token, token_hash};
use crate::value::Value;
use crate::{Access, Error, Locale, Result};

/// How long an invitation is valid.
pub const INVITE_DAYS: i64 = 7;

/// Who an invitation is for, as the page that accepts it greets them.
#[derive(Debug, Clone)]
pub struct Invitee {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub locale: Option<Locale>,
}

impl Store {
    /// Makes an invitation for an active user (administrators) and returns its token. Older
    /// unused invitations of the user stop working.
    pub fn invite_user(&self, access: &Access, user_id: i64) -> Result<String> {
        access.require_admin()?;
        self.invitee_by_id(user_id)?;
        let token = random_token();
        let now = self.shared_now();
        self.write(|tx| {
            tx.execute(
                "DELETE FROM invitations WHERE user_id = ?1 AND used_at IS NULL",
                [user_id],
            )?;
            tx.execute(
                "INSERT INTO invitations (token_hash, user_id, created_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (
                    token_hash(&token),
                    user_id,
                    access.user_id,
                    db::time_text(now),
                    db::time_text(now + chrono::Duration::days(INVITE_DAYS)),
                ),
            )?;
            Ok(())
        })?;
        Ok(token)
    }

    fn invitee_by_id(&self, user_id: i64) -> Result<Invitee> {
        let r = self
            .get(&Access::system(), "user", user_id)
            .map_err(|_| Error::NotFound(format!("no user with id {user_id}")))?;
        if r.get("active") == &Value::Bool(false) {
            return Err(Error::conflict("this account is deactivated"));
        }
        let text = |f: &str| Some(r.get(f).to_text()).filter(|t| !t.is_empty());
        Ok(Invitee {
            user_id,
            username: text("username").unwrap_or_default(),
            display_name: text("display_name").unwrap_or_default(),
            email: text("email"),
            locale: text("locale").and_then(|l| Locale::parse(&l)),
        })
    }

    /// Who a valid invitation is for; unknown, used and expired ones are refused alike.
    pub fn invitation(&self, token: &str) -> Result<Invitee> {
        let user: Option<i64> = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT user_id FROM invitations WHERE token_hash = ?1 AND used_at IS NULL
                 AND expires_at > ?2",
            )?
            .query_row((token_hash(token), db::time_text(self.shared_now())), |r| {
                r.get(0)
            })
            .optional()?)
        })?;
        let user = user.ok_or_else(|| {
            Error::NotFound("this link is unknown, used or expired; ask for a new one".into())
        })?;
        self.invitee_by_id(user)
    }

    /// Sets the invited user's password and uses the invitation up (in one transaction: a
    /// link works once even when opened twice at the same moment). Ends their sessions.
    pub fn accept_invitation(&self, token: &str, password: &str) -> Result<i64> {
        let who = self.invitation(token)?;
        let hash = crate::users::checked_password_hash(password)?;
        self.write(|tx| {
            let used = tx.execute(
                "UPDATE invitations SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL",
                (token_hash(token), db::time_text(self.shared_now())),
            )?;
            if used == 0 {
                return Err(Error::NotFound(
                    "this link is unknown, used or expired; ask for a new one".into(),
                ));
            }
            tx.execute(
                "INSERT INTO credentials (user_id, password_hash, changed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id) DO UPDATE SET password_hash = ?2, changed_at = ?3",
                (who.user_id, &hash, db::time_text(self.shared_now())),
            )?;
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [who.user_id])?;
            Store::revoke_tokens_of(tx, who.user_id)?;
            Ok(who.user_id)
        })
    }
}
