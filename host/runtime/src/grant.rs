//! What one plugin version is and was granted: its manifest, the capabilities an
//! administrator approved, and its configuration — everything a host import checks.

use crate::manifest::{Capabilities, Manifest};

/// A plugin version's identity and grants, shared by its loaded form and every call's state.
#[derive(Debug)]
pub struct PluginGrant {
    /// Its manifest.
    pub manifest: Manifest,
    /// SHA-256 of the component.
    pub sha256: String,
    /// What the administrator approved.
    pub approved: Capabilities,
    /// Configuration (manifest defaults overlaid with the administrator's).
    pub config: serde_json::Value,
}

impl PluginGrant {
    /// The plugin id.
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// `id@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.manifest.id, self.manifest.version)
    }

    /// May the plugin read records of `entity`?
    pub fn may_read(&self, entity: &str) -> bool {
        self.manifest.may_read(&self.approved, entity)
    }

    /// May the plugin write records of `entity`?
    pub fn may_write(&self, entity: &str) -> bool {
        self.manifest.may_write(&self.approved, entity)
    }

    /// May the plugin write anything at all (its own types, a granted type, its key-value
    /// store)? Only such a plugin may take the writer ahead of its writes (`begin-write`).
    pub fn may_write_anything(&self) -> bool {
        self.approved.kv || !self.approved.write.is_empty() || !self.manifest.entities.is_empty()
    }

    /// Does the plugin receive `event` on `entity` written by `writer` (subscribed, approved to
    /// read it, and — for its own writes — not declined)?
    pub fn hooked(
        &self,
        entity: &str,
        event: crate::manifest::HookEvent,
        writer: Option<&str>,
    ) -> bool {
        self.manifest
            .hooks_on(&self.approved, entity, event, writer)
    }

    /// May the plugin ask `plugin` its queries?
    pub fn may_ask(&self, plugin: &str) -> bool {
        self.approved.ask.iter().any(|p| p == plugin || p == "*")
    }
}
