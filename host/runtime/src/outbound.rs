//! Outbound HTTP for plugins: the hosts a manifest may name (`[capabilities] outbound_hosts`),
//! matching a request's address against them, and the [`Outbound`] sender the embedding
//! program provides — the runtime decides *whether* a request may leave, never *how* it is
//! sent (it has no HTTP client).

use std::time::Duration;

/// Largest request body a plugin may send.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// Largest response body a plugin may receive; a longer answer is refused (`conflict`).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The longest one request may take, whatever is left of the call's own time.
pub const MAX_REQUEST_TIME: Duration = Duration::from_secs(10);

/// One approved origin: `http` or `https`, a host name or address (no wildcards), and a port
/// or any port (`:*`). Written `https://api.example.com`, `http://10.0.0.5:8080`,
/// `http://127.0.0.1:*`; the default port of the scheme when none is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: String,
    host: String,
    /// None: any port.
    port: Option<u16>,
}

/// The parts of a request address the check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-case host name or address (IPv6 in brackets).
    pub host: String,
    /// The explicit port, else the scheme's default.
    pub port: u16,
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

/// Splits `scheme://authority…` into scheme, host and port text; refuses user info, an empty
/// host and schemes other than http and https.
fn split(text: &str) -> Result<(String, String, Option<String>, &str), String> {
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| format!("'{text}' is not an http:// or https:// address"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("'{text}': only http and https are allowed"));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err(format!(
            "'{text}': user names and passwords in addresses are refused"
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("'{text}': unclosed IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("'{text}': bad port"))?
                    .to_string(),
            ),
        };
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p.to_string())),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => {
            !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        }
        None => {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        }
    };
    if !host_ok {
        return Err(format!("'{text}': '{host}' is not a host name or address"));
    }
    Ok((scheme, host, port, tail))
}

fn port_number(text: &str, p: &str) -> Result<u16, String> {
    p.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("'{text}': '{p}' is not a port"))
}

impl AllowedHost {
    /// Reads one manifest entry: an origin with nothing after the authority (a trailing `/`
    /// is allowed).
    pub fn parse(text: &str) -> Result<AllowedHost, String> {
        let (scheme, host, port, tail) = split(text.trim())?;
        if !tail.is_empty() && tail != "/" {
            return Err(format!(
                "'{text}': name a host only (scheme://host[:port]), not a path"
            ));
        }
        let port = match port.as_deref() {
            None => Some(default_port(&scheme)),
            Some("*") => None,
            Some(p) => Some(port_number(text, p)?),
        };
        Ok(AllowedHost { scheme, host, port })
    }

    /// Does this origin cover everything `other` names (same scheme and host; any port, or the
    /// same one)? Approvals compare origins by meaning, not by how they were written.
    pub fn covers(&self, other: &AllowedHost) -> bool {
        self.scheme == other.scheme
            && self.host == other.host
            && (self.port.is_none() || self.port == other.port)
    }

    /// Does this origin cover `target`?
    pub fn allows(&self, target: &Target) -> bool {
        self.scheme == target.scheme
            && self.host == target.host
            && self.port.is_none_or(|p| p == target.port)
    }
}

impl Target {
    /// Reads a request address (`http(s)://host[:port]/path?query`).
    pub fn parse(url: &str) -> Result<Target, String> {
        if url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        {
            return Err("the address contains spaces, control characters or backslashes".into());
        }
        let (scheme, host, port, _) = split(url)?;
        let port = match port.as_deref() {
            None => default_port(&scheme),
            Some(p) => port_number(url, p)?,
        };
        Ok(Target { scheme, host, port })
    }
}

/// A request a plugin sends, checked.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The other side's answer.
#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// Not reachable, refused, timed out, a TLS failure.
    #[error("{0}")]
    Unreachable(String),
    /// The answer was longer than [`MAX_RESPONSE_BYTES`].
    #[error("the answer is larger than {max} bytes", max = MAX_RESPONSE_BYTES)]
    TooLarge,
}

/// Sends a checked request (provided by the program that embeds the runtime). It must not
/// follow redirects, must stop after `timeout`, and must read at most
/// [`MAX_RESPONSE_BYTES`] of the body.
pub trait Outbound: Send + Sync + 'static {
    /// Sends one request.
    fn send(
        &self,
        request: &OutboundRequest,
        timeout: Duration,
    ) -> Result<OutboundResponse, OutboundError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> Target {
        Target::parse(url).unwrap()
    }

    #[test]
    fn an_origin_covers_its_scheme_host_and_port_only() {
        let api = AllowedHost::parse("https://API.example.com").unwrap();
        assert!(api.allows(&t("https://api.example.com/v1/x?y=1")));
        assert!(api.allows(&t("https://api.example.com:443/")));
        assert!(!api.allows(&t("http://api.example.com/")));
        assert!(!api.allows(&t("https://api.example.com:8443/")));
        assert!(!api.allows(&t("https://api.example.com.evil.net/")));
        assert!(!api.allows(&t("https://evil.net/api.example.com")));
        let local = AllowedHost::parse("http://127.0.0.1:*").unwrap();
        assert!(local.allows(&t("http://127.0.0.1:5000/hook")));
        assert!(!local.allows(&t("http://localhost:5000/hook")));
        assert!(!local.allows(&t("http://127.0.0.2:5000/")));
        let v6 = AllowedHost::parse("http://[::1]:8080").unwrap();
        assert!(v6.allows(&t("http://[::1]:8080/x")));
        assert!(!v6.allows(&t("http://[::1]:8081/x")));
    }

    #[test]
    fn tricks_in_addresses_are_refused() {
        // The part before @ is a user name: the request would go to evil.net.
        assert!(Target::parse("https://api.example.com@evil.net/").is_err());
        assert!(Target::parse("https://api.example.com\\@evil.net/").is_err());
        assert!(Target::parse("ftp://api.example.com/").is_err());
        assert!(Target::parse("file:///etc/passwd").is_err());
        assert!(Target::parse("https:///x").is_err());
        assert!(Target::parse("https://a b/").is_err());
        assert!(Target::parse("http://127.0.0.1:99999/").is_err());
        assert!(AllowedHost::parse("https://*.example.com").is_err());
        assert!(AllowedHost::parse("https://example.com/path").is_err());
        assert!(AllowedHost::parse("example.com").is_err());
    }
}
