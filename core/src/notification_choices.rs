//! What each person wants to hear of, per kind of notification: in the inbox and by e-mail
//! (the default; e-mail only if they have not turned it off altogether), in the inbox only,
//! or not at all. Kept as a setting per person (`notify_user:<id>`); consulted where the core
//! writes a notification, so every source — approvals, mentions, overdue activities,
//! plugins — obeys it.

use crate::db::{Conn, OptionalExtension};
use crate::store::Store;
use crate::{Access, Error, Reason, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kinds of notification a person chooses for, and the notification kinds in each.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("approvals", &["approval_waiting"]),
    ("decisions", &["approval_approved", "approval_rejected"]),
    ("mentions", &["mention"]),
    ("overdue", &["activity_overdue"]),
    ("plugins", &["plugin"]),
];

/// How a person hears of one kind of notification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// In the inbox and by e-mail.
    #[default]
    Mail,
    /// In the inbox only.
    Inbox,
    /// Not at all.
    Off,
}

impl Delivery {
    /// Every choice, in the order forms offer them.
    pub const ALL: [Delivery; 3] = [Delivery::Mail, Delivery::Inbox, Delivery::Off];

    /// The stable name (`mail`, `inbox`, `off`).
    pub fn name(self) -> &'static str {
        match self {
            Delivery::Mail => "mail",
            Delivery::Inbox => "inbox",
            Delivery::Off => "off",
        }
    }

    /// The choice a stable name stands for.
    pub fn parse(name: &str) -> Option<Delivery> {
        Delivery::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// A person's choices by group (every group named, defaults filled in).
pub type Choices = BTreeMap<String, Delivery>;

/// The group a notification kind belongs to.
pub fn group_of(kind: &str) -> Option<&'static str> {
    GROUPS
        .iter()
        .find(|(_, kinds)| kinds.contains(&kind))
        .map(|(g, _)| *g)
}

/// The setting holding a person's choices.
pub(crate) fn key(user: i64) -> String {
    format!("notify_user:{user}")
}

/// A person's stored choices, each read on its own (one a later version wrote that this one
/// does not know is left out, not the whole lot).
fn stored(c: &Conn, user: i64) -> Result<BTreeMap<String, Delivery>> {
    let v: Option<String> = c
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key(user)], |r| r.get(0))
        .optional()?;
    let map: serde_json::Map<String, serde_json::Value> = v
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| serde_json::from_value(v).ok().map(|d| (k, d)))
        .collect())
}

/// How `user` hears of a notification of `kind` (on the connection of the caller's
/// transaction).
pub(crate) fn delivery(c: &Conn, user: i64, kind: &str) -> Result<Delivery> {
    let Some(group) = group_of(kind) else {
        return Ok(Delivery::Mail);
    };
    Ok(stored(c, user)?.get(group).copied().unwrap_or_default())
}

impl Store {
    /// A person's choices, every group named.
    pub fn notification_choices(&self, user_id: i64) -> Result<Choices> {
        let stored = self.read(|c| stored(c, user_id))?;
        Ok(GROUPS
            .iter()
            .map(|(g, _)| (g.to_string(), stored.get(*g).copied().unwrap_or_default()))
            .collect())
    }

    /// Keeps the caller's own choices (groups not named keep theirs); an unknown group is
    /// refused and nothing is changed.
    pub fn set_notification_choices(
        &self,
        access: &Access,
        choices: &BTreeMap<String, Delivery>,
    ) -> Result<Choices> {
        let user = access
            .user_id
            .ok_or_else(|| Error::Forbidden("notifications are people's".into()))?;
        if let Some(bad) = choices
            .keys()
            .find(|g| !GROUPS.iter().any(|(name, _)| name == g))
        {
            return Err(Error::field(
                "choices",
                Reason::NotOption {
                    value: bad.clone(),
                    options: GROUPS.iter().map(|(g, _)| g.to_string()).collect(),
                },
            ));
        }
        // Read and written in one transaction: two saves at once lose neither.
        self.write(|tx| {
            let mut all = stored(tx, user)?;
            all.extend(choices.iter().map(|(g, d)| (g.clone(), *d)));
            let text = serde_json::to_string(&all).unwrap_or_default();
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key(user), &text),
            )?;
            Ok(())
        })?;
        self.notification_choices(user)
    }
}
