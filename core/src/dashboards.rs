//! What each role's dashboard leaves out, and how each person arranges their own: an
//! administrator hides sections (count tiles, customers by status, my activities, approvals
//! waiting, pinned reports, each plugin widget) per role, so people see what their role uses
//! (one setting per role, `dashboard_hidden:<role>`, a JSON list of section keys; no entry:
//! everything shows); within that, each person orders the sections and puts away the ones
//! they do not want (`dashboard_user:<id>`, an [`Arrangement`]).

use crate::db::OptionalExtension;
use crate::store::Store;
use crate::{Access, Error, Reason, Result};
use serde::{Deserialize, Serialize};

/// The most sections one arrangement names.
const MAX_ARRANGED: usize = 300;

/// How one person arranged their dashboard: sections in their order (sections not named
/// follow, in the usual order) and the sections they put away.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrangement {
    /// Section keys, first shown first.
    #[serde(default)]
    pub order: Vec<String>,
    /// Section keys not shown.
    #[serde(default)]
    pub hidden: Vec<String>,
}

impl Arrangement {
    /// Every section of `available` (in the usual order), in this person's order.
    pub fn ordered(&self, available: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in self.order.iter().filter(|s| available.contains(s)) {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        for s in available {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        out
    }

    /// Whether the person put `section` away.
    pub fn hides(&self, section: &str) -> bool {
        self.hidden.iter().any(|h| h == section)
    }

    /// The arrangement with `section` moved one place earlier (`up`) or later among
    /// `available`; unchanged at either end or for a section not there.
    pub fn moved(&self, available: &[String], section: &str, up: bool) -> Arrangement {
        let mut order = self.ordered(available);
        if let Some(i) = order.iter().position(|s| s == section) {
            let j = if up { i.checked_sub(1) } else { Some(i + 1) };
            if let Some(j) = j.filter(|j| *j < order.len()) {
                order.swap(i, j);
            }
        }
        Arrangement {
            order,
            hidden: self.hidden.clone(),
        }
    }

    /// The arrangement with `section` put away (`hide`) or shown again.
    pub fn shown(&self, section: &str, hide: bool) -> Arrangement {
        let mut hidden: Vec<String> = self
            .hidden
            .iter()
            .filter(|h| *h != section)
            .cloned()
            .collect();
        if hide {
            hidden.push(section.to_string());
        }
        Arrangement {
            order: self.order.clone(),
            hidden,
        }
    }
}

fn user_key(user_id: i64) -> String {
    format!("dashboard_user:{user_id}")
}

/// The built-in sections; plugin widgets are `widget:<plugin>/<name>`.
pub const SECTIONS: &[&str] = &[
    "tiles",
    "status_chart",
    "my_activities",
    "waiting",
    "my_reports",
];

fn key(role: &str) -> String {
    format!("dashboard_hidden:{role}")
}

/// Whether `section` names a dashboard section (a built-in one, or a plugin widget's key).
pub fn is_section(section: &str) -> bool {
    SECTIONS.contains(&section)
        || section.strip_prefix("widget:").is_some_and(|w| {
            // A plugin id is a-z, 0-9, _ and -; a widget's name is whatever its manifest says.
            w.split_once('/').is_some_and(|(p, n)| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
                    && !n.is_empty()
                    && w.len() <= 200
                    && !n.chars().any(char::is_control)
            })
        })
}

impl Store {
    /// The sections `role`'s dashboard leaves out.
    pub fn dashboard_hidden(&self, role: &str) -> Result<Vec<String>> {
        self.read(|c| {
            let v: Option<String> = c
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([key(role)], |r| r.get(0))
                .optional()?;
            Ok(v.and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default())
        })
    }

    /// Sets what `role`'s dashboard leaves out (administrators only); recorded in the audit
    /// log. An unknown role or section is refused.
    pub fn set_dashboard_hidden(
        &self,
        access: &Access,
        role: &str,
        hidden: &[String],
    ) -> Result<()> {
        access.require_admin()?;
        if self.role(role).is_none() {
            return Err(Error::field(
                "role",
                Reason::NoRole {
                    role: role.to_string(),
                },
            ));
        }
        if let Some(bad) = hidden.iter().find(|s| !is_section(s)) {
            return Err(Error::field(
                "hidden",
                Reason::NotOption {
                    value: bad.clone(),
                    options: SECTIONS.iter().map(|s| s.to_string()).collect(),
                },
            ));
        }
        let mut hidden = hidden.to_vec();
        hidden.sort();
        hidden.dedup();
        let mut current = self.dashboard_hidden(role)?;
        current.sort();
        if current == hidden {
            return Ok(()); // nothing changed: nothing written, nothing in the audit log
        }
        let text = serde_json::to_string(&hidden).unwrap_or_default();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key(role), &text),
            )?;
            crate::audit::by(
                tx,
                access,
                "settings_changed",
                &format!("dashboard:{role}"),
                &serde_json::json!({"hidden": hidden}),
            )
        })
    }
}

impl Store {
    /// How user `user_id` arranged their dashboard (nothing: the usual order, all shown).
    pub fn dashboard_arrangement(&self, user_id: i64) -> Result<Arrangement> {
        self.read(|c| {
            let v: Option<String> = c
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([user_key(user_id)], |r| r.get(0))
                .optional()?;
            Ok(v.and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default())
        })
    }

    /// Keeps the caller's own dashboard arrangement (each person arranges only their own);
    /// unknown section keys and more than a hundred are refused.
    pub fn set_dashboard_arrangement(
        &self,
        access: &Access,
        arrangement: &Arrangement,
    ) -> Result<()> {
        let Some(user_id) = access.user_id else {
            return Err(Error::Forbidden("a dashboard is a person's".into()));
        };
        for (field, keys) in [
            ("order", &arrangement.order),
            ("hidden", &arrangement.hidden),
        ] {
            if keys.len() > MAX_ARRANGED {
                return Err(Error::field(field, Reason::TooMany { max: MAX_ARRANGED }));
            }
            if let Some(bad) = keys.iter().find(|s| !is_section(s)) {
                return Err(Error::field(
                    field,
                    Reason::NotOption {
                        value: bad.chars().take(200).collect(),
                        options: SECTIONS.iter().map(|s| s.to_string()).collect(),
                    },
                ));
            }
        }
        let text = serde_json::to_string(arrangement).unwrap_or_default();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (user_key(user_id), &text),
            )?;
            Ok(())
        })
    }

    /// Forgets the caller's arrangement: the usual order, everything shown.
    pub fn reset_dashboard_arrangement(&self, access: &Access) -> Result<()> {
        let Some(user_id) = access.user_id else {
            return Err(Error::Forbidden("a dashboard is a person's".into()));
        };
        self.write(|tx| {
            tx.execute("DELETE FROM settings WHERE key = ?1", [user_key(user_id)])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_orders_and_puts_away_sections() {
        let available: Vec<String> = ["tiles", "status_chart", "waiting", "widget:sales/funnel"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let a = Arrangement::default();
        assert_eq!(a.ordered(&available), available);
        let a = a
            .moved(&available, "waiting", true)
            .moved(&available, "waiting", true);
        assert_eq!(
            a.ordered(&available),
            ["waiting", "tiles", "status_chart", "widget:sales/funnel"]
        );
        // At the top it stays; a section that is gone is left out; a new one comes last.
        let top = a.moved(&available, "waiting", true);
        assert_eq!(top.ordered(&available), a.ordered(&available));
        let fewer = &available[..3];
        assert_eq!(a.ordered(fewer), ["waiting", "tiles", "status_chart"]);
        let a = a.shown("tiles", true);
        assert!(a.hides("tiles") && !a.hides("waiting"));
        assert!(!a.shown("tiles", false).hides("tiles"));
        assert_eq!(a.shown("tiles", true).hidden, ["tiles"], "once");
        let twice = Arrangement {
            order: vec!["tiles".into(), "waiting".into(), "tiles".into()],
            hidden: vec![],
        };
        assert_eq!(
            twice.ordered(&available),
            ["tiles", "waiting", "status_chart", "widget:sales/funnel"]
        );
    }

    #[test]
    fn sections_are_known_or_plugin_widgets() {
        assert!(is_section("tiles") && is_section("widget:sales/pipeline"));
        assert!(is_section("widget:sales/销售 管道.v2"), "any widget name");
        for bad in [
            "",
            "widget:",
            "widget:sales",
            "widget:/x",
            "widget:a b/x",
            "widget:a/\n",
            "everything",
        ] {
            assert!(!is_section(bad), "{bad}");
        }
    }
}
