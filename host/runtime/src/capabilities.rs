//! What a plugin asks to be allowed to do (`[capabilities]` in its manifest) — and, in the same
//! shape, what an administrator approved: every host import checks the approved set.

use serde::{Deserialize, Serialize};

/// What a plugin asks to be allowed to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Entity types it may read (its own always).
    #[serde(default)]
    pub read: Vec<String>,
    /// Entity types it may create, update and delete (its own always).
    #[serde(default)]
    pub write: Vec<String>,
    /// Plugins whose queries it may ask.
    #[serde(default)]
    pub ask: Vec<String>,
    /// May use its key-value store.
    #[serde(default)]
    pub kv: bool,
    /// May emit events.
    #[serde(default)]
    pub emit: bool,
    /// Writes with its own grant even when a user's request caused the call. Without it, a
    /// plugin's writes during a user's request run as that user (their role and scope); with
    /// it, an administrator trusts the plugin to enforce its own rules (a workflow that lets a
    /// person accept their targets, which their role may not edit directly).
    #[serde(default)]
    pub elevate: bool,
    /// May put notices in people's inboxes (contract 1.3: `notify-users`, `notify-role`).
    #[serde(default)]
    pub notify: bool,
    /// Origins it may send HTTP requests to (contract 1.3: `fetch`):
    /// `https://api.example.com`, `http://10.0.0.5:8080`, `http://127.0.0.1:*` (any port).
    #[serde(default)]
    pub outbound_hosts: Vec<String>,
}

impl Capabilities {
    /// Whether every capability in `self` is also in `approved`.
    pub fn within(&self, approved: &Capabilities) -> bool {
        let sub = |a: &[String], b: &[String]| {
            a.iter()
                .all(|x| b.contains(x) || b.iter().any(|y| y == "*"))
        };
        sub(&self.read, &approved.read)
            && sub(&self.write, &approved.write)
            && sub(&self.ask, &approved.ask)
            && (!self.kv || approved.kv)
            && (!self.emit || approved.emit)
            && (!self.elevate || approved.elevate)
            && (!self.notify || approved.notify)
            && self.outbound_hosts.iter().all(|h| {
                // By meaning: `https://API.x/` is `https://api.x:443`, and `:*` covers a port.
                let approved_hosts = approved
                    .outbound_hosts
                    .iter()
                    .filter_map(|a| crate::outbound::AllowedHost::parse(a).ok());
                match crate::outbound::AllowedHost::parse(h) {
                    Ok(wanted) => approved_hosts.into_iter().any(|a| a.covers(&wanted)),
                    Err(_) => approved.outbound_hosts.contains(h),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_within() {
        let a = Capabilities {
            read: vec!["customer".into()],
            kv: true,
            ..Default::default()
        };
        let b = Capabilities {
            read: vec!["customer".into(), "contact".into()],
            kv: true,
            ..Default::default()
        };
        assert!(a.within(&b));
        assert!(!b.within(&a));
        // New reach of 1.3 needs its own approval.
        let notifying = Capabilities {
            notify: true,
            ..a.clone()
        };
        assert!(!notifying.within(&b));
        let calling = Capabilities {
            outbound_hosts: vec!["https://api.example.com".into()],
            ..a.clone()
        };
        assert!(!calling.within(&b));
        let approved = Capabilities {
            outbound_hosts: vec![
                "https://api.example.com".into(),
                "http://127.0.0.1:*".into(),
            ],
            ..b
        };
        assert!(calling.within(&approved));
        let written_otherwise = Capabilities {
            outbound_hosts: vec![
                "https://API.example.com:443/".into(),
                "http://127.0.0.1:8080".into(),
            ],
            ..Default::default()
        };
        assert!(
            written_otherwise.within(&approved),
            "the same origins, written otherwise"
        );
        let other_port = Capabilities {
            outbound_hosts: vec!["https://api.example.com:8443".into()],
            ..Default::default()
        };
        assert!(!other_port.within(&approved));
    }
}
