//! The plugin manifest (`qingguan.toml`), read from the component's `qingguan-manifest`
//! custom section before any plugin code runs, and checked against this host.

pub use crate::action_spec::{ActionInput, ActionSpec};
use qingguan_core::{EntityDef, EntityPermission, Label};
use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

pub use crate::capabilities::Capabilities;

/// The SDK (WIT package) version this host implements.
pub const HOST_SDK: Version = Version::new(1, 3, 0);
/// Name of the custom section holding the manifest.
pub const MANIFEST_SECTION: &str = "qingguan-manifest";
/// Route path prefixes reserved for the host's own plugin endpoints.
const RESERVED_ROUTES: &[&str] = &[
    "enable", "disable", "rollback", "config", "jobs", "queries", "versions", "approve",
];

/// Why a component is not an acceptable plugin.
#[derive(Debug, Error)]
pub enum ManifestError {
    /// The file is not a WebAssembly component (or is damaged).
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// No `qingguan-manifest` section: not built with the Qingguan SDK.
    #[error(
        "no qingguan-manifest section: build the plugin with qingguan-plugin-sdk's \
         export_plugin!, or embed its qingguan.toml into a component built another way with \
         `qingguan plugin pack COMPONENT.wasm --manifest qingguan.toml -o plugin.wasm`"
    )]
    Missing,
    /// The manifest is not valid TOML of the expected shape.
    #[error("manifest: {0}")]
    Syntax(String),
    /// The manifest is well-formed but breaks a rule.
    #[error("manifest: {0}")]
    Invalid(String),
    /// The plugin needs a newer (or other major) SDK than this host implements.
    #[error("plugin '{id}' {version} needs SDK {needs}, this host provides SDK {host}")]
    Sdk {
        /// Plugin id.
        id: String,
        /// Plugin version.
        version: String,
        /// What it needs.
        needs: String,
        /// What the host has.
        host: String,
    },
}

/// Entity types whose writes no plugin may hook: the core's own users (their roles decide
/// what everyone may do).
pub const UNHOOKABLE: &[&str] = &["user"];

/// A menu entry: an entity type's list or kanban, or one of the plugin's pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuEntry {
    /// Text in the navigation.
    pub label: Label,
    /// Entity type shown.
    #[serde(default)]
    pub entity: Option<String>,
    /// `list` (default) or `kanban`.
    #[serde(default)]
    pub view: Option<String>,
    /// A plugin route (GET) rendered as a page.
    #[serde(default)]
    pub route: Option<String>,
}

/// Write events a hook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookEvent {
    /// Before a create is validated and written.
    BeforeCreate,
    /// Before an update.
    BeforeUpdate,
    /// Before a delete.
    BeforeDelete,
    /// After a create committed.
    AfterCreate,
    /// After an update committed.
    AfterUpdate,
    /// After a delete committed.
    AfterDelete,
}

/// Hooks on one entity type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookSpec {
    /// Entity type.
    pub entity: String,
    /// Which writes.
    pub events: Vec<HookEvent>,
    /// Whether the hooks also run for writes the plugin makes itself (default: yes). A plugin
    /// whose hooks only guard its records against others says `own_writes = false` and saves
    /// a call per write it makes.
    #[serde(default = "own_writes_default")]
    pub own_writes: bool,
}

fn own_writes_default() -> bool {
    true
}

/// A scheduled job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Name passed to the plugin.
    pub name: String,
    /// Interval in seconds (at least 10).
    pub every_seconds: u64,
}

/// An HTTP route under `/api/v1/plugins/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: String,
    /// Path; a trailing `/*` matches any suffix.
    pub path: String,
}

/// A query other plugins (and the UI) may ask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// Name.
    pub name: String,
    /// What it answers and which arguments it takes.
    #[serde(default)]
    pub description: String,
}

/// An event subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// Event name.
    pub name: String,
}

/// A dashboard widget served by one of the plugin's routes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetSpec {
    /// Name.
    pub name: String,
    /// Heading.
    pub title: Label,
    /// GET route returning an HTML fragment or SVG.
    pub route: String,
}

/// A plugin manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Plugin id: lower-case letters, digits, `_` and `-`.
    pub id: String,
    /// Semantic version.
    pub version: Version,
    /// SDK version the plugin was written for (`1.0`).
    pub sdk: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<Label>,
    /// Description.
    #[serde(default)]
    pub description: Option<Label>,
    /// Plugin id → semver range.
    #[serde(default)]
    pub dependencies: BTreeMap<String, VersionReq>,
    /// Requested capabilities.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Entity types the plugin declares.
    #[serde(default)]
    pub entities: Vec<EntityDef>,
    /// Navigation entries.
    #[serde(default)]
    pub menu: Vec<MenuEntry>,
    /// Hook subscriptions.
    #[serde(default)]
    pub hooks: Vec<HookSpec>,
    /// Record actions.
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    /// Scheduled jobs.
    #[serde(default)]
    pub jobs: Vec<JobSpec>,
    /// HTTP routes.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Queries answered.
    #[serde(default)]
    pub queries: Vec<QuerySpec>,
    /// Events subscribed to.
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// Dashboard widgets.
    #[serde(default)]
    pub widgets: Vec<WidgetSpec>,
    /// Default configuration (an administrator's configuration overrides keys).
    #[serde(default)]
    pub config: toml::Table,
    /// Role → own entity type → the permission that role starts with. Applied at install and
    /// upgrade only where the role has no permission for that type yet.
    #[serde(default)]
    pub permissions: BTreeMap<String, BTreeMap<String, EntityPermission>>,
}

impl Manifest {
    /// Parses and checks a manifest's TOML text.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let m: Manifest = toml::from_str(text).map_err(|e| ManifestError::Syntax(e.to_string()))?;
        m.check()?;
        Ok(m)
    }

    /// Reads the manifest out of a component's bytes without running it.
    pub fn from_component(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let mut found = None;
        let mut is_component = false;
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            match payload.map_err(|e| ManifestError::NotAComponent(e.to_string()))? {
                wasmparser::Payload::Version { encoding, .. }
                    if found.is_none() && !is_component =>
                {
                    is_component = encoding == wasmparser::Encoding::Component;
                    if !is_component {
                        return Err(ManifestError::NotAComponent(
                            "this is a core module; build for wasm32-wasip2".into(),
                        ));
                    }
                }
                wasmparser::Payload::CustomSection(s) if s.name() == MANIFEST_SECTION => {
                    found = Some(s.data().to_vec());
                }
                _ => {}
            }
        }
        let data = found.ok_or(ManifestError::Missing)?;
        let text =
            String::from_utf8(data).map_err(|_| ManifestError::Syntax("not UTF-8".into()))?;
        Manifest::parse(&text)
    }

    /// The SDK version the manifest asks for, as a full version.
    pub fn sdk_version(&self) -> Result<Version, ManifestError> {
        let s = self.sdk.trim();
        let full = match s.matches('.').count() {
            0 => format!("{s}.0.0"),
            1 => format!("{s}.0"),
            _ => s.to_string(),
        };
        Version::parse(&full).map_err(|_| {
            ManifestError::Invalid(format!("sdk '{}' is not a version such as 1.0", self.sdk))
        })
    }

    /// Checks the SDK a plugin needs against this host: same major, minor not newer.
    pub fn check_sdk(&self, needs: &Version) -> Result<(), ManifestError> {
        if needs.major != HOST_SDK.major || needs.minor > HOST_SDK.minor {
            return Err(ManifestError::Sdk {
                id: self.id.clone(),
                version: self.version.to_string(),
                needs: needs.to_string(),
                host: HOST_SDK.to_string(),
            });
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ManifestError> {
        let bad = |m: String| Err(ManifestError::Invalid(m));
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 40
            && self.id.as_bytes()[0].is_ascii_lowercase()
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !id_ok {
            return bad(format!(
                "id '{}' must be 1-40 of a-z, 0-9, _ and -, starting with a letter",
                self.id
            ));
        }
        self.check_sdk(&self.sdk_version()?)?;
        if self.dependencies.contains_key(&self.id) {
            return bad("a plugin cannot depend on itself".into());
        }
        let own: Vec<&str> = self.entities.iter().map(|e| e.name.as_str()).collect();
        for (role, perms) in &self.permissions {
            if let Some(e) = perms.keys().find(|e| !own.contains(&e.as_str())) {
                return bad(format!(
                    "permissions for role '{role}' name '{e}', which this plugin does not declare"
                ));
            }
        }
        for h in &self.hooks {
            if h.events.is_empty() {
                return bad(format!("hooks on '{}' name no events", h.entity));
            }
            if UNHOOKABLE.contains(&h.entity.as_str()) {
                return bad(format!(
                    "hooks on '{}' are not available to plugins (users, roles and permissions \
                     are the core's own)",
                    h.entity
                ));
            }
            let requested = self
                .capabilities
                .read
                .iter()
                .chain(&self.capabilities.write);
            if !own.contains(&h.entity.as_str()) && !requested.clone().any(|e| e == &h.entity) {
                return bad(format!(
                    "hooks on '{}' need read access to it: add \"{}\" to [capabilities] read \
                     (and to write, to change its fields)",
                    h.entity, h.entity
                ));
            }
        }
        for h in &self.capabilities.outbound_hosts {
            if let Err(e) = crate::outbound::AllowedHost::parse(h) {
                return bad(format!("[capabilities] outbound_hosts: {e}"));
            }
        }
        for a in &self.actions {
            if a.name.is_empty() || a.entity.is_empty() {
                return bad("actions need a name and an entity".into());
            }
        }
        for j in &self.jobs {
            if j.every_seconds < 10 {
                return bad(format!(
                    "job '{}' runs more often than every 10 seconds",
                    j.name
                ));
            }
        }
        for r in &self.routes {
            let m = r.method.to_ascii_uppercase();
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                return bad(format!("route {} {}: unsupported method", r.method, r.path));
            }
            let first = r
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or("");
            if !r.path.starts_with('/') || RESERVED_ROUTES.contains(&first) {
                return bad(format!(
                    "route path '{}' must start with / and not use a reserved name",
                    r.path
                ));
            }
        }
        for m in &self.menu {
            if m.entity.is_none() && m.route.is_none() {
                return bad("a menu entry needs an entity or a route".into());
            }
            if let Some(v) = &m.view {
                if v != "list" && v != "kanban" {
                    return bad(format!("menu view '{v}' is not list or kanban"));
                }
            }
        }
        let _ = own;
        Ok(())
    }

    /// Whether the plugin subscribes to `event` on `entity` and may receive it with the
    /// capabilities `caps` an administrator approved: hooks need read access to the entity
    /// type (a subscription is a grant like reading), and none reach the core's users.
    pub fn hooks_on(
        &self,
        caps: &Capabilities,
        entity: &str,
        event: HookEvent,
        writer: Option<&str>,
    ) -> bool {
        let own = writer == Some(self.id.as_str());
        !UNHOOKABLE.contains(&entity)
            && self.may_read(caps, entity)
            && self
                .hooks
                .iter()
                .any(|h| h.entity == entity && h.events.contains(&event) && (h.own_writes || !own))
    }

    /// Whether the plugin may read an entity type.
    pub fn may_read(&self, caps: &Capabilities, entity: &str) -> bool {
        self.owns(entity)
            || [&caps.read, &caps.write]
                .iter()
                .any(|l| l.iter().any(|e| e == entity || e == "*"))
    }

    /// Whether the plugin may write an entity type.
    pub fn may_write(&self, caps: &Capabilities, entity: &str) -> bool {
        self.owns(entity) || caps.write.iter().any(|e| e == entity || e == "*")
    }

    /// Whether the plugin declares the entity type.
    pub fn owns(&self, entity: &str) -> bool {
        self.entities.iter().any(|e| e.name == entity)
    }

    /// The permissions roles start with on this plugin's own entity types. A plugin that
    /// declares `[permissions]` decides who sees its data: what it names, and nothing for
    /// every role and type it does not name (administrators aside) — a role's read-all default
    /// does not reach it. A plugin that declares none leaves the roles' defaults in force.
    pub fn permission_defaults(
        &self,
        roles: &[std::sync::Arc<qingguan_core::Role>],
    ) -> BTreeMap<String, BTreeMap<String, EntityPermission>> {
        let mut out = self.permissions.clone();
        if out.is_empty() {
            return out;
        }
        for role in roles.iter().filter(|r| !r.admin) {
            let entry = out.entry(role.name.clone()).or_default();
            for e in &self.entities {
                entry
                    .entry(e.name.clone())
                    .or_insert(EntityPermission::NONE);
            }
        }
        out
    }

    /// The default configuration as JSON.
    pub fn default_config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_else(|_| serde_json::json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "id = \"x\"\nversion = \"1.2.3\"\nsdk = \"1.0\"\n";

    #[test]
    fn hooks_are_grants() {
        let hooks = |caps: &str, entity: &str| {
            Manifest::parse(&format!(
                "{MINIMAL}[capabilities]\n{caps}\n[[hooks]]\nentity = \"{entity}\"\nevents = [\"before_update\"]\n"
            ))
        };
        let e = hooks("", "customer").unwrap_err().to_string();
        assert!(e.contains("need read access"), "{e}");
        let e = hooks("read = [\"user\"]", "user").unwrap_err().to_string();
        assert!(e.contains("not available to plugins"), "{e}");
        let m = hooks("read = [\"customer\"]", "customer").unwrap();
        let granted = Capabilities {
            read: vec!["customer".into()],
            ..Capabilities::default()
        };
        assert!(m.hooks_on(&granted, "customer", HookEvent::BeforeUpdate, None));
        assert!(!m.hooks_on(
            &Capabilities::default(),
            "customer",
            HookEvent::BeforeUpdate,
            None
        ));
        assert!(!m.hooks_on(&granted, "customer", HookEvent::AfterCreate, None));
        assert!(!m.may_write(&granted, "customer"));
        // Its own writes too, unless it says otherwise.
        assert!(m.hooks_on(&granted, "customer", HookEvent::BeforeUpdate, Some("x")));
        let mine = Manifest::parse(&format!(
            "{MINIMAL}[capabilities]\nread = [\"customer\"]\n[[hooks]]\nentity = \"customer\"\nevents = [\"before_update\"]\nown_writes = false\n"
        ))
        .unwrap();
        assert!(!mine.hooks_on(&granted, "customer", HookEvent::BeforeUpdate, Some("x")));
        assert!(mine.hooks_on(&granted, "customer", HookEvent::BeforeUpdate, Some("other")));
        assert!(mine.hooks_on(&granted, "customer", HookEvent::BeforeUpdate, None));
    }

    #[test]
    fn roles_a_plugin_does_not_name_start_with_nothing_on_its_types() {
        let m = Manifest::parse(&format!(
            "{MINIMAL}[[entities]]\nname = \"secret\"\nlabel = {{ en = \"S\", zh-CN = \"S\" }}\ntitle_field = \"name\"\n[[entities.fields]]\nname = \"name\"\ntype = \"text\"\nlabel = {{ en = \"N\", zh-CN = \"N\" }}\n[permissions.hr]\nsecret = {{ read = true, scope = \"all\" }}\n"
        ))
        .unwrap();
        let roles: Vec<std::sync::Arc<qingguan_core::Role>> = qingguan_core::Role::defaults()
            .into_iter()
            .map(std::sync::Arc::new)
            .collect();
        let d = m.permission_defaults(&roles);
        assert!(d["hr"]["secret"].read);
        assert_eq!(d["finance"]["secret"], EntityPermission::NONE);
        assert!(
            !d.contains_key("admin"),
            "administrators see everything anyway"
        );
        let open = Manifest::parse(MINIMAL).unwrap();
        assert!(open.permission_defaults(&roles).is_empty());
    }

    #[test]
    fn parses_and_checks() {
        let m = Manifest::parse(MINIMAL).unwrap();
        assert_eq!(m.version, Version::new(1, 2, 3));
        assert!(matches!(
            Manifest::parse("id = \"X\"\nversion = \"1.0.0\"\nsdk = \"1.0\""),
            Err(ManifestError::Invalid(_))
        ));
        assert!(matches!(
            Manifest::parse("id = \"x\"\nversion = \"one\"\nsdk = \"1.0\""),
            Err(ManifestError::Syntax(_))
        ));
        assert!(matches!(
            Manifest::parse(&format!("{MINIMAL}colour = 1")),
            Err(ManifestError::Syntax(_))
        ));
        assert!(Manifest::parse("id = \"x\"\nversion = \"1.0.0\"\nsdk = \"1.3\"").is_ok());
        let err = Manifest::parse("id = \"x\"\nversion = \"1.0.0\"\nsdk = \"1.4\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "plugin 'x' 1.0.0 needs SDK 1.4.0, this host provides SDK 1.3.0"
        );
        // Role defaults only for the plugin's own entity types.
        let perms = format!(
            "{MINIMAL}[permissions.sales]\ncustomer = {{ read = true, scope = \"all\" }}\n"
        );
        let err = Manifest::parse(&perms).unwrap_err().to_string();
        assert!(err.contains("customer"), "{err}");
        assert!(Manifest::parse("id = \"x\"\nversion = \"1.0.0\"\nsdk = \"2.0\"").is_err());
        let routes = format!("{MINIMAL}[[routes]]\nmethod = \"GET\"\npath = \"/enable\"\n");
        assert!(Manifest::parse(&routes).is_err());
        // Outbound origins are origins: no paths, wildcards, other schemes or user names.
        for bad in [
            "https://*.example.com",
            "https://example.com/api",
            "ftp://example.com",
            "https://u@example.com",
        ] {
            let m = format!("{MINIMAL}[capabilities]\noutbound_hosts = [\"{bad}\"]\n");
            let err = Manifest::parse(&m).unwrap_err().to_string();
            assert!(err.contains("outbound_hosts"), "{bad}: {err}");
        }
        let good = format!("{MINIMAL}[capabilities]\nnotify = true\noutbound_hosts = [\"https://api.example.com\", \"http://127.0.0.1:*\"]\n");
        assert!(Manifest::parse(&good).is_ok());
    }
}
