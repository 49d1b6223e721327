//! The host side of contract 1.3's `outreach` imports: notices for people's inboxes
//! (capability `notify`) and outbound HTTP to approved origins (capability `outbound_hosts`),
//! each checked here on every call.

use crate::failure::{core_error, PluginFailure};
use crate::host_calls::HostState;
use crate::outbound::{
    AllowedHost, OutboundError, OutboundRequest, OutboundResponse, Target, MAX_REQUEST_BYTES,
    MAX_REQUEST_TIME,
};
use qingguan_core::PluginNotice;
use std::time::Duration;

/// What a notice says, as a plugin wrote it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub en: String,
    pub zh: String,
    pub link: Option<String>,
}

/// Most people one call may notify, across all its notices: a loop cannot bury everyone's
/// inbox (or their mail) in one call.
pub const NOTICES_PER_CALL: usize = 1000;

/// Time kept back from a request for the plugin to deal with its outcome within the call.
const ANSWER_MARGIN: Duration = Duration::from_millis(300);

/// Methods a plugin may use, and request headers it may not set (the sender sets them, or they
/// would let a plugin speak for the host).
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
const HEADERS_REFUSED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "expect",
];

impl HostState {
    fn check_notify(&self) -> Result<(), PluginFailure> {
        // Asked for by the running version and approved.
        if self.grant().approved.notify && self.grant().manifest.capabilities.notify {
            Ok(())
        } else {
            Err(PluginFailure::Denied(format!(
                "plugin '{}' was not granted notifications (capability notify)",
                self.grant().id()
            )))
        }
    }

    fn core_notice(&self, n: Notice) -> PluginNotice {
        PluginNotice {
            plugin: self.grant().id().to_string(),
            en: n.en,
            zh: n.zh,
            link: n.link,
        }
    }

    /// Counts people notified in this call against [`NOTICES_PER_CALL`].
    fn spend_notices(&mut self, people: usize) -> Result<(), PluginFailure> {
        if self.notices_sent + people > NOTICES_PER_CALL {
            return Err(PluginFailure::Conflict(format!(
                "plugin '{}' notified {} people in this call; at most {NOTICES_PER_CALL} may be",
                self.grant().id(),
                self.notices_sent + people
            )));
        }
        self.notices_sent += people;
        Ok(())
    }

    /// `notify-users`: these people, all or none.
    pub fn notify_users(&mut self, users: &[i64], n: Notice) -> Result<(), PluginFailure> {
        self.check_notify()?;
        self.spend_notices(users.len())?;
        let notice = self.core_notice(n);
        self.services()
            .store()
            .notify_users_for_plugin(users, &notice)
            .map(|_| ())
            .map_err(|e| core_error(e, self.locale()))
    }

    /// `notify-role`: every active holder of a role; how many.
    pub fn notify_role(&mut self, role: &str, n: Notice) -> Result<u32, PluginFailure> {
        self.check_notify()?;
        let notice = self.core_notice(n);
        let left = NOTICES_PER_CALL.saturating_sub(self.notices_sent);
        let told = self
            .services()
            .store()
            .notify_role_for_plugin(role, &notice, left)
            .map_err(|e| core_error(e, self.locale()))?;
        self.notices_sent += told;
        Ok(told as u32)
    }

    /// `fetch`: one request to an approved origin, within what is left of the call's time.
    pub fn fetch(&mut self, request: OutboundRequest) -> Result<OutboundResponse, PluginFailure> {
        let id = self.grant().id().to_string();
        let target = Target::parse(&request.url)
            .map_err(|e| PluginFailure::Invalid(e.clone(), vec![("url".into(), e)]))?;
        // Both asked for by this version's manifest and approved: an upgrade that asks for
        // less reaches less, whatever an earlier version had approved.
        let covered = |list: &[String]| {
            list.iter()
                .filter_map(|h| AllowedHost::parse(h).ok())
                .any(|h| h.allows(&target))
        };
        let grant = self.grant();
        let approved = covered(&grant.approved.outbound_hosts)
            && covered(&grant.manifest.capabilities.outbound_hosts);
        if !approved {
            return Err(PluginFailure::Denied(format!(
                "plugin '{id}' was not granted outbound HTTP to {}://{}:{} \
                 (capability outbound_hosts)",
                target.scheme, target.host, target.port
            )));
        }
        let method = request.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            let why = format!(
                "method '{}' is not one of {}",
                request.method,
                METHODS.join(", ")
            );
            return Err(PluginFailure::Invalid(
                why.clone(),
                vec![("method".into(), why)],
            ));
        }
        if let Some((name, _)) = request.headers.iter().find(|(name, value)| {
            HEADERS_REFUSED.contains(&name.to_ascii_lowercase().as_str())
                || name.is_empty()
                // Letters, digits and `-` only: some servers read `_` as `-`
                // (`Transfer_Encoding`), which would smuggle a refused header past this list.
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
        }) {
            let why = format!("header '{name}' cannot be set by a plugin");
            return Err(PluginFailure::Invalid(
                why.clone(),
                vec![("headers".into(), why)],
            ));
        }
        if request.body.len() > MAX_REQUEST_BYTES {
            let why = format!("the body is larger than {MAX_REQUEST_BYTES} bytes");
            return Err(PluginFailure::Invalid(
                why.clone(),
                vec![("body".into(), why)],
            ));
        }
        if self.services().store().holds_writer() {
            return Err(PluginFailure::Conflict(
                "fetch before writing: this call has begun writing (or runs in a hook inside a \
                 write), and every other writer would wait for the request"
                    .into(),
            ));
        }
        // What is left of the call, less a margin for the plugin to handle the answer (or the
        // failure) before its own deadline.
        let left = self
            .time_left()
            .saturating_sub(ANSWER_MARGIN)
            .min(MAX_REQUEST_TIME);
        if left < Duration::from_millis(20) {
            return Err(PluginFailure::Failed(
                "no time is left in this call for a request".into(),
            ));
        }
        let Some(sender) = self.services().outbound() else {
            return Err(PluginFailure::Failed(
                "this host sends no outbound HTTP requests".into(),
            ));
        };
        let request = OutboundRequest { method, ..request };
        let started = std::time::Instant::now();
        let answer = sender.send(&request, left);
        tracing::info!(
            plugin = %id,
            method = %request.method,
            url = %request.url.split(['?', '#']).next().unwrap_or_default(),
            status = answer.as_ref().ok().map(|r| r.status),
            millis = started.elapsed().as_millis() as u64,
            "plugin outbound request"
        );
        answer.map_err(|e| match e {
            OutboundError::TooLarge => PluginFailure::Conflict(e.to_string()),
            OutboundError::Unreachable(m) => PluginFailure::Failed(format!("{}: {m}", request.url)),
        })
    }
}
