//! A person's notifications (the inbox): what happened to them — an approval waiting for them,
//! a decision on their request — as a kind with parameters that the edge words in the reader's
//! language, a link to the record, and whether it was read. The core writes them in the same
//! transaction as what they tell of.

use crate::db;
use crate::db::Conn;
use crate::store::Store;
use crate::{Access, Error, FieldErrors, Reason, Result};
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// One notification.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// What happened: `approval_waiting`, `approval_approved`, `approval_rejected`.
    pub kind: String,
    /// Its parameters (`entity`, `id`, `to`, `by`, `comment`).
    pub params: Map<String, Json>,
    /// Where to look (`/e/{entity}/{id}`).
    pub link: String,
    /// Whether it has been read.
    pub read: bool,
}

/// Adds a notification for `user` on the writer connection (inside the caller's transaction),
/// as they chose to hear of its kind: not at all (nothing written; returns false), in the
/// inbox only (written as already mailed), or in the inbox and by e-mail.
pub(crate) fn notify(c: &Conn, user: i64, kind: &str, params: &Json, link: &str) -> Result<bool> {
    use crate::notification_choices::{delivery, Delivery};
    let delivery = delivery(c, user, kind)?;
    if delivery == Delivery::Off {
        return Ok(false);
    }
    let now = db::now_text();
    let mailed = (delivery == Delivery::Inbox).then_some(&now);
    c.prepare_cached(
        "INSERT INTO notifications (user_id, at, kind, params, link, mailed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute((user, &now, kind, params.to_string(), link, mailed))?;
    Ok(true)
}

fn me(access: &Access) -> Result<i64> {
    access
        .user_id
        .ok_or_else(|| Error::Forbidden("notifications are people's".into()))
}

impl Store {
    /// The caller's notifications, newest first (at most 100; unread only if asked).
    pub fn notifications(&self, access: &Access, unread_only: bool) -> Result<Vec<Notification>> {
        let user = me(access)?;
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at, kind, params, link, read_at FROM notifications
                 WHERE user_id = ?1 AND (?2 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT 100",
            )?;
            let rows = stmt
                .query_map((user, unread_only as i64), |r| {
                    let params: String = r.get(3)?;
                    Ok(Notification {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        kind: r.get(2)?,
                        params: serde_json::from_str(&params).unwrap_or_default(),
                        link: r.get(4)?,
                        read: r.get::<_, Option<String>>(5)?.is_some(),
                    })
                })?
                .collect::<crate::db::DbResult<_>>()?;
            Ok(rows)
        })
    }

    /// How many of the caller's notifications are unread.
    pub fn unread_notifications(&self, access: &Access) -> Result<i64> {
        let Some(user) = access.user_id else {
            return Ok(0);
        };
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL",
            )?
            .query_row([user], |r| r.get(0))?)
        })
    }

    /// Marks the caller's notifications read: those named, or all with `None`.
    pub fn mark_notifications_read(&self, access: &Access, ids: Option<&[i64]>) -> Result<()> {
        let user = me(access)?;
        self.write(|c| {
            match ids {
                None => {
                    c.execute(
                        "UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL",
                        (user, db::now_text()),
                    )?;
                }
                Some(ids) => {
                    let mut stmt = c.prepare_cached(
                        "UPDATE notifications SET read_at = ?3
                         WHERE id = ?1 AND user_id = ?2 AND read_at IS NULL",
                    )?;
                    for id in ids {
                        stmt.execute((id, user, db::now_text()))?;
                    }
                }
            }
            Ok(())
        })
    }
}

/// A notification to mail, with whom to.
#[derive(Debug, Clone)]
pub struct Unmailed {
    pub notification: Notification,
    pub user_id: i64,
    pub email: String,
}

impl Store {
    /// Notifications not yet mailed, to people with an e-mail address who have not turned
    /// e-mail off, oldest first. Those older than a day (from before mail was set up, or to
    /// people without an address or who turned it off) are marked as mailed without being
    /// sent: nobody gets a flood of old news.
    pub fn unmailed_notifications(&self, limit: usize) -> Result<Vec<Unmailed>> {
        let a_day_ago = db::time_text(chrono::Utc::now() - chrono::Duration::days(1));
        self.write(|tx| {
            tx.execute(
                "UPDATE notifications SET mailed_at = ?1 WHERE mailed_at IS NULL AND at < ?2",
                (db::now_text(), &a_day_ago),
            )?;
            let mut stmt = tx.prepare_cached(
                "SELECT n.id, n.at, n.kind, n.params, n.link, n.read_at, n.user_id, u.c_email
                 FROM notifications n JOIN r_user u ON u.id = n.user_id
                 WHERE n.mailed_at IS NULL AND u.c_email IS NOT NULL AND u.c_email != ''
                   AND (u.c_active IS NULL OR u.c_active <> 0)
                   AND (u.c_mail_notifications IS NULL OR u.c_mail_notifications <> 0)
                 ORDER BY n.id LIMIT ?1",
            )?;
            let rows = stmt
                .query_map([i64::try_from(limit).unwrap_or(50)], |r| {
                    let params: String = r.get(3)?;
                    Ok(Unmailed {
                        notification: Notification {
                            id: r.get(0)?,
                            at: r.get(1)?,
                            kind: r.get(2)?,
                            params: serde_json::from_str(&params).unwrap_or_default(),
                            link: r.get(4)?,
                            read: r.get::<_, Option<String>>(5)?.is_some(),
                        },
                        user_id: r.get(6)?,
                        email: r.get(7)?,
                    })
                })?
                .collect::<crate::db::DbResult<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Marks notifications as mailed (sent, or given up).
    pub fn mark_mailed(&self, ids: &[i64]) -> Result<()> {
        self.write(|tx| {
            for id in ids {
                tx.prepare_cached("UPDATE notifications SET mailed_at = ?2 WHERE id = ?1")?
                    .execute((id, db::now_text()))?;
            }
            Ok(())
        })
    }
}

/// What a plugin tells people (`kind` `plugin`): its words in English and Chinese and where to
/// look. Checked before anything is written: text present and at most [`NOTICE_MAX_CHARS`]
/// characters per language, a link that stays inside the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginNotice {
    /// The plugin that sends it (shown beside the text).
    pub plugin: String,
    pub en: String,
    /// Empty: readers of Chinese see the English text.
    pub zh: String,
    /// A path inside the application (`/e/customer/42`); none: the inbox.
    pub link: Option<String>,
}

/// Longest text of a plugin's notice, per language.
pub const NOTICE_MAX_CHARS: usize = 500;
/// Most people one plugin call may notify at once.
pub const NOTICE_MAX_PEOPLE: usize = 500;

impl PluginNotice {
    fn checked(&self) -> Result<(Json, String)> {
        let clean = |t: &str| -> String {
            let t: String = t
                .chars()
                .filter(|c| {
                    !crate::store::attachments::invisible(*c) && (*c == '\n' || !c.is_control())
                })
                .collect();
            t.trim().to_string()
        };
        let (en, zh) = (clean(&self.en), clean(&self.zh));
        let mut errors = FieldErrors::new();
        if en.is_empty() {
            errors.insert("en".into(), Reason::Required);
        }
        for (field, text) in [("en", &en), ("zh_cn", &zh)] {
            if text.chars().count() > NOTICE_MAX_CHARS {
                errors.insert(
                    field.into(),
                    Reason::TooLong {
                        max: NOTICE_MAX_CHARS,
                    },
                );
            }
        }
        let link = self.link.as_deref().map(str::trim).unwrap_or("");
        // Pages people read — a record, a plugin's page, the inbox, home — and nothing that
        // answers with a redirect a plugin controls (`/api/v1/plugins/…`).
        let page = ["/e/", "/p/", "/inbox"].iter().any(|p| link.starts_with(p)) || link == "/";
        let inside = page
            && !link.starts_with("//")
            && !link.contains("/../")
            && link.len() <= 500
            && !link
                .chars()
                .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
        if !link.is_empty() && !inside {
            errors.insert("link".into(), Reason::NotAppPath);
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let link = if link.is_empty() { "/inbox" } else { link };
        Ok((
            serde_json::json!({"plugin": self.plugin, "en": en, "zh": zh}),
            link.to_string(),
        ))
    }
}

impl Store {
    /// Notifies these people for a plugin, inside the current call's transaction (so nothing
    /// is sent for a call that fails). Unknown and inactive users are refused — naming the
    /// first — and nobody is notified. Returns how many were (those who turned plugin
    /// notifications off are not).
    pub fn notify_users_for_plugin(&self, users: &[i64], notice: &PluginNotice) -> Result<usize> {
        let (params, link) = notice.checked()?;
        let mut users: Vec<i64> = users.to_vec();
        users.sort_unstable();
        users.dedup();
        if users.len() > NOTICE_MAX_PEOPLE {
            return Err(Error::field(
                "users",
                Reason::AtMost {
                    max: NOTICE_MAX_PEOPLE.to_string(),
                },
            ));
        }
        self.write(|c| {
            let mut active = c.prepare_cached(
                "SELECT 1 FROM r_user WHERE id = ?1 AND (c_active IS NULL OR c_active <> 0)",
            )?;
            for u in &users {
                if !active.exists([u])? {
                    return Err(Error::field("users", Reason::NotUserId));
                }
            }
            let mut told = 0;
            for u in &users {
                told += usize::from(notify(c, *u, "plugin", &params, &link)?);
            }
            Ok(told)
        })
    }

    /// Notifies every active user with `role`, for a plugin; returns how many (not those who
    /// turned plugin notifications off). An unknown
    /// role is refused; a role nobody holds notifies nobody; a role with more than `at_most`
    /// (and [`NOTICE_MAX_PEOPLE`]) holders is refused before anyone is notified.
    pub fn notify_role_for_plugin(
        &self,
        role: &str,
        notice: &PluginNotice,
        at_most: usize,
    ) -> Result<usize> {
        let cap = at_most.min(NOTICE_MAX_PEOPLE);
        let (params, link) = notice.checked()?;
        if self.role(role).is_none() {
            return Err(Error::field(
                "role",
                Reason::NoRole {
                    role: role.to_string(),
                },
            ));
        }
        self.write(|c| {
            let people: Vec<i64> = c
                .prepare_cached(
                    "SELECT id FROM r_user WHERE c_role = ?1 AND (c_active IS NULL OR c_active <> 0)
                     ORDER BY id LIMIT ?2",
                )?
                .query_map((role, cap as i64 + 1), |r| r.get(0))?
                .collect::<crate::db::DbResult<_>>()?;
            if people.len() > cap {
                return Err(Error::field(
                    "role",
                    Reason::AtMost {
                        max: cap.to_string(),
                    },
                ));
            }
            let mut told = 0;
            for u in &people {
                told += usize::from(notify(c, *u, "plugin", &params, &link)?);
            }
            Ok(told)
        })
    }
}
