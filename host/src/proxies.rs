//! Which peers may say who the client is: the reverse proxies and load balancers an operator
//! names (`--trusted-proxy`), and the client's address read from their `X-Forwarded-For`.
//!
//! The rule is the usual one: a request from a trusted peer is taken to come from the
//! right-most address in `X-Forwarded-For` that is not itself a trusted proxy. Everything
//! left of it was written by the client and is not believed. A request from any other peer
//! comes from that peer, whatever its headers say, so a client cannot pick the address its
//! failed logins count against.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The networks whose peers are believed about the client's address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `--trusted-proxy` value that is neither an address nor a network.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an IP address or network (10.0.0.5, 10.0.0.0/8, fd00::/8)")]
pub struct NotANetwork(String);

impl TrustedProxies {
    /// These networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        TrustedProxies(networks)
    }

    /// Addresses and networks separated by commas or spaces (`10.0.0.5, 10.1.0.0/16`); an
    /// address alone is a network of one.
    pub fn parse(list: &str) -> Result<Self, NotANetwork> {
        let mut networks = Vec::new();
        for item in list.split([',', ' ']).filter(|s| !s.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| NotANetwork(item.to_string()))?,
            };
            networks.push(canonical_net(net).trunc());
        }
        Ok(TrustedProxies(networks))
    }

    /// No proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `addr` is a trusted proxy.
    pub fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|n| n.contains(&addr))
    }

    /// The client behind `peer` (the TCP peer): `peer` itself unless it is trusted; else the
    /// right-most address in `X-Forwarded-For` that is not trusted. When every forwarded
    /// address is trusted, the left-most of them; when the trusted peer forwarded none (or
    /// wrote something that is not an address), the last trusted hop.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        // Hop by hop, so that bytes a client wrote on the left of a line (non-ASCII among
        // them) do not hide the hops a proxy appended on its right.
        let forwarded: Vec<&[u8]> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .collect();
        for hop in forwarded.iter().rev() {
            let Some(addr) = std::str::from_utf8(hop)
                .ok()
                .and_then(|h| hop_address(h.trim()))
            else {
                return client;
            };
            client = canonical(addr);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// An address as `X-Forwarded-For` may give it: bare, with a port, or bracketed IPv6.
fn hop_address(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })
}

/// A network of IPv4-mapped IPv6 addresses (`::ffff:10.0.0.0/104`) as the IPv4 network it
/// maps, since peers are compared as IPv4.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

/// IPv4-mapped IPv6 addresses as IPv4, so that one client has one address.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        IpAddr::V4(_) => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("198.51.100.9"), &headers(&["203.0.113.7"])),
            ip("198.51.100.9")
        );
        let some = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            some.client(ip("198.51.100.9"), &headers(&["10.0.0.1"])),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn a_trusted_peer_names_the_right_most_untrusted_hop() {
        let t = TrustedProxies::parse("10.0.0.5, 10.1.0.0/16 ::1").unwrap();
        // What the client wrote (left) is not believed; what the proxy appended is.
        let h = headers(&["1.2.3.4, 203.0.113.7"]);
        assert_eq!(t.client(ip("10.0.0.5"), &h), ip("203.0.113.7"));
        // Two proxies in a row, over several header lines.
        let h = headers(&["1.2.3.4", "203.0.113.7, 10.1.2.3"]);
        assert_eq!(t.client(ip("10.0.0.5"), &h), ip("203.0.113.7"));
        // Ports, brackets and IPv4-mapped peers.
        let h = headers(&["[2001:db8::1]:4711"]);
        assert_eq!(t.client(ip("::1"), &h), ip("2001:db8::1"));
        let h = headers(&["203.0.113.7:80"]);
        assert_eq!(t.client(ip("::ffff:10.0.0.5"), &h), ip("203.0.113.7"));
        // Nothing forwarded: the proxy itself; garbage: the last trusted hop.
        assert_eq!(t.client(ip("10.0.0.5"), &headers(&[])), ip("10.0.0.5"));
        let h = headers(&["203.0.113.7, unknown, 10.1.0.9"]);
        assert_eq!(t.client(ip("10.0.0.5"), &h), ip("10.1.0.9"));
        // Every hop trusted: the left-most.
        let h = headers(&["10.1.0.1, 10.1.0.2"]);
        assert_eq!(t.client(ip("10.0.0.5"), &h), ip("10.1.0.1"));
        // Bytes that are not text on the left of the line do not hide what the proxy added.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.7").unwrap(),
        );
        assert_eq!(t.client(ip("10.0.0.5"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn lists_parse_addresses_and_networks_and_refuse_the_rest() {
        let t = TrustedProxies::parse("10.0.0.5,192.168.0.0/24 fd00::/8").unwrap();
        assert!(t.trusts(ip("10.0.0.5")) && !t.trusts(ip("10.0.0.6")));
        assert!(t.trusts(ip("192.168.0.200")) && !t.trusts(ip("192.168.1.1")));
        assert!(t.trusts(ip("fd12::1")) && t.trusts(ip("::ffff:10.0.0.5")));
        // Networks written IPv4-mapped are compared as IPv4, as peers are.
        let mapped = TrustedProxies::parse("::ffff:10.0.0.0/104").unwrap();
        assert!(mapped.trusts(ip("10.200.0.1")) && !mapped.trusts(ip("11.0.0.1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        let e = TrustedProxies::parse("10.0.0.0/33").unwrap_err();
        assert!(e.to_string().contains("10.0.0.0/33"), "{e}");
        assert!(TrustedProxies::parse("proxy.local").is_err());
    }
}
