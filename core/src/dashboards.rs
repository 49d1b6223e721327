//! What each role's dashboard leaves out: an administrator hides sections (count tiles,
//! customers by status, my activities, approvals waiting, each plugin widget) per role, so
//! people see what their role uses. Kept as one setting per role (`dashboard_hidden:<role>`, a
//! JSON list of section keys); no entry: everything shows.

use crate::store::Store;
use crate::{Access, Error, Reason, Result};
use rusqlite::OptionalExtension;

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

#[cfg(test)]
mod tests {
    use super::*;

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
