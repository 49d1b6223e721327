//! Sending plugins' outbound HTTP requests (contract 1.3 `fetch`), once the runtime has checked
//! them against the plugin's approved origins: no redirects, the call's time limit, the answer
//! capped at 1 MiB. An origin approved by name is never reached at an internal address (this
//! machine, private or link-local networks — a cloud's metadata service): internal services are
//! reached only through an origin approved as an address (`http://10.0.0.5:8080`).

use qingguan_runtime::outbound::{
    Outbound, OutboundError, OutboundRequest, OutboundResponse, Target, MAX_RESPONSE_BYTES,
};
use std::net::{IpAddr, ToSocketAddrs};
use std::time::Duration;

/// The sender the server gives the plugin runtime.
pub struct PluginOutbound {
    agent: ureq::Agent,
}

impl PluginOutbound {
    pub fn new() -> PluginOutbound {
        PluginOutbound {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent("qingguan-plugin")
                .build()
                .into(),
        }
    }
}

impl Default for PluginOutbound {
    fn default() -> Self {
        PluginOutbound::new()
    }
}

/// Refuses a named host that resolves to an internal address.
fn check_resolved(target: &Target) -> Result<(), OutboundError> {
    let bare = target.host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return Ok(()); // approved as an address: the administrator named it.
    }
    let addrs = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| OutboundError::Unreachable(format!("cannot resolve {}: {e}", target.host)))?;
    for a in addrs {
        if crate::webhook_sender::internal(a.ip()) {
            return Err(OutboundError::Unreachable(format!(
                "{} resolves to an internal address ({}); approve the address itself to reach it",
                target.host,
                a.ip()
            )));
        }
    }
    Ok(())
}

impl Outbound for PluginOutbound {
    fn send(
        &self,
        request: &OutboundRequest,
        timeout: Duration,
    ) -> Result<OutboundResponse, OutboundError> {
        let unreachable = |e: &dyn std::fmt::Display| OutboundError::Unreachable(e.to_string());
        let target = Target::parse(&request.url).map_err(|e| unreachable(&e))?;
        // The client reads the address itself: it must see the host the check saw.
        let uri: ureq::http::Uri = request.url.parse().map_err(|e| unreachable(&e))?;
        let same = uri.host().map(str::to_ascii_lowercase).as_deref() == Some(target.host.as_str())
            && uri.port_u16().unwrap_or(target.port) == target.port;
        if !same {
            return Err(OutboundError::Unreachable(format!(
                "'{}' is read differently by the HTTP client",
                request.url
            )));
        }
        check_resolved(&target)?;
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(uri);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let built = builder
            .body(request.body.clone())
            .map_err(|e| unreachable(&e))?;
        let configured = self
            .agent
            .configure_request(built)
            .timeout_global(Some(timeout))
            .build();
        let mut response = self.agent.run(configured).map_err(|e| unreachable(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES as u64)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => OutboundError::TooLarge,
                e => unreachable(&e),
            })?;
        Ok(OutboundResponse {
            status,
            headers,
            body,
        })
    }
}
