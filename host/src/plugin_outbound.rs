//! Sending plugins' outbound HTTP requests (contract 1.3 `fetch`), once the runtime has checked
//! them against the plugin's approved origins: no redirects, the call's time limit, the answer
//! capped at 1 MiB, no proxy. An origin approved by name is never reached at an internal address
//! (this machine, private or link-local networks — a cloud's metadata service): the name is
//! looked up once and the connection made to exactly the addresses checked; internal services
//! are reached only through an origin approved as an address (`http://10.0.0.5:8080`).

use qingguan_runtime::outbound::{
    Outbound, OutboundError, OutboundRequest, OutboundResponse, Target, MAX_RESPONSE_BYTES,
};
use std::net::IpAddr;
use std::time::Duration;

/// The sender the server gives the plugin runtime.
pub struct PluginOutbound {
    agent: ureq::Agent,
}

impl PluginOutbound {
    pub fn new() -> PluginOutbound {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            // A proxy would look the name up again, where the check below cannot see it.
            .proxy(None)
            .user_agent("qingguan-plugin")
            .build();
        PluginOutbound {
            agent: ureq::Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::new(),
                CheckedResolver,
            ),
        }
    }
}

impl Default for PluginOutbound {
    fn default() -> Self {
        PluginOutbound::new()
    }
}

/// Looks a host up once — within the request's time — and hands the connection exactly those
/// addresses, refusing a name that resolves to an internal one. (Looking up separately and
/// letting the client look up again would let a name answer differently the second time.)
#[derive(Debug)]
struct CheckedResolver;

impl ureq::unversioned::resolver::Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let addrs = ureq::unversioned::resolver::DefaultResolver::default()
            .resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or_default();
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok();
        if !literal {
            if let Some(a) = addrs.iter().find(|a| internal(a.ip())) {
                return Err(ureq::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{host} resolves to an internal address ({}); approve the address itself to reach it",
                        a.ip()
                    ),
                )));
            }
        }
        Ok(addrs)
    }
}

/// Internal addresses a name approved as a name never reaches: the webhooks' list, plus
/// NAT64 (`64:ff9b::/96`), 6to4 (`2002::/16`) and site-local (`fec0::/10`) addresses, which
/// can carry an internal IPv4 address or reach an internal network.
fn internal(ip: IpAddr) -> bool {
    if crate::webhook_sender::internal(ip) {
        return true;
    }
    match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0])
                || s[0] == 0x2002
                || (s[0] & 0xffc0) == 0xfec0
                || (s[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified())
        }
        IpAddr::V4(_) => false,
    }
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

#[cfg(test)]
mod tests {
    use super::internal;

    #[test]
    fn internal_addresses_in_every_disguise() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "169.254.169.254",
            "192.168.0.1",
            "::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "fec0::1",
            "::7f00:1",
        ] {
            assert!(internal(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "2606:2800:220:1::"] {
            assert!(!internal(a.parse().unwrap()), "{a}");
        }
    }
}
