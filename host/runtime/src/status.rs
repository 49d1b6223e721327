//! A plugin's status as an enum (stored as text by the core).

use serde::Serialize;

/// Where a plugin stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginStatus {
    /// Loaded and serving calls.
    Active,
    /// Disabled by an administrator.
    Disabled,
    /// Disabled by the runtime after repeated faults of its own.
    Faulted,
    /// Could not be loaded (file missing, compile error, dependency missing).
    Failed,
    /// A component that was refused without being installed.
    Rejected,
    /// A component being installed in the background (compiling, migrating), not serving yet.
    Installing,
}

impl PluginStatus {
    /// The stored and shown form.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginStatus::Active => "active",
            PluginStatus::Disabled => "disabled",
            PluginStatus::Faulted => "faulted",
            PluginStatus::Failed => "failed",
            PluginStatus::Rejected => "rejected",
            PluginStatus::Installing => "installing",
        }
    }

    /// Reads the stored form; anything unknown counts as failed (it cannot serve).
    pub fn parse(s: &str) -> PluginStatus {
        match s {
            "active" => PluginStatus::Active,
            "disabled" => PluginStatus::Disabled,
            "faulted" => PluginStatus::Faulted,
            "rejected" => PluginStatus::Rejected,
            "installing" => PluginStatus::Installing,
            _ => PluginStatus::Failed,
        }
    }
}

/// Compares with the stored and shown form (`status == "active"`).
impl PartialEq<&str> for PluginStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for PluginStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::PluginStatus;

    #[test]
    fn stored_form_round_trips() {
        for s in [
            PluginStatus::Active,
            PluginStatus::Disabled,
            PluginStatus::Faulted,
            PluginStatus::Failed,
            PluginStatus::Rejected,
            PluginStatus::Installing,
        ] {
            assert_eq!(PluginStatus::parse(s.as_str()), s);
        }
        assert_eq!(PluginStatus::parse("garbage"), PluginStatus::Failed);
        assert_eq!(PluginStatus::Faulted, "faulted");
        assert_ne!(PluginStatus::Active, "failed");
    }
}
