//! Who the client is behind a reverse proxy, attacked over real HTTP: a client cannot choose
//! the address its failed logins count against by writing `X-Forwarded-For`; behind a trusted
//! proxy each client is counted, locked out and audited under its own address, while the
//! proxy's other clients keep signing in.

use qingguan::{Config, LoginLimits, TrustedProxies};
use qingguan_tests::{Client, Resp, TestServer, ADMIN_PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;

/// Four failures lock an address out (for 10 s); accounts allow a hundred.
fn start(trusted_proxies: &str) -> TestServer {
    TestServer::start_with(Config {
        login: LoginLimits {
            account_failures: 100,
            address_failures: 4,
            lockout: Duration::from_secs(10),
            max_lockout: Duration::from_secs(20),
            ..LoginLimits::default()
        },
        trusted_proxies: TrustedProxies::parse(trusted_proxies).unwrap(),
        ..Config::default()
    })
}

/// An API login whose request carries `X-Forwarded-For: forwarded` (none when empty).
fn login_via(c: &Client, forwarded: &str, username: &str, password: &str) -> Resp {
    c.send(reqwest::Method::POST, "/api/v1/auth/login", |r| {
        let r = if forwarded.is_empty() {
            r
        } else {
            r.header("x-forwarded-for", forwarded)
        };
        r.json(&json!({"username": username, "password": password}))
    })
}

/// The addresses the audit log recorded for `action`, oldest first.
fn audited_addresses(admin: &Client, action: &str) -> Vec<String> {
    let r = admin.get(&format!("/api/v1/audit?action={action}"));
    assert_eq!(r.status, 200, "{}", r.text);
    let mut out: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e: &Value| e["address"].as_str().unwrap_or_default().to_string())
        .collect();
    out.reverse();
    out
}

#[test]
fn a_client_cannot_choose_the_address_its_failures_count_against() {
    let s = start("");
    let admin = s.admin();
    let anon = s.anonymous();
    // A new made-up address with every guess: the server believes none of them.
    for i in 0..4 {
        let r = login_via(
            &anon,
            &format!("203.0.113.{i}"),
            &format!("nobody{i}"),
            "guess",
        );
        assert_eq!(r.error_code(401), "unauthenticated");
    }
    let r = login_via(&anon, "198.51.100.77", "admin", ADMIN_PASSWORD);
    assert_eq!(r.error_code(429), "too_many_requests");
    assert!(r.header("retry-after").is_some());
    assert_eq!(
        audited_addresses(&admin, "login_failed"),
        vec!["127.0.0.1"; 4],
        "the audit log names the peer, not what the client wrote"
    );
}

#[test]
fn behind_a_trusted_proxy_each_client_is_counted_on_its_own() {
    let s = start("127.0.0.1");
    let admin = s.admin();
    let anon = s.anonymous();
    // One client behind the proxy guesses, rewriting what it sends in front of the address
    // the proxy appends: its guesses still count against its own address.
    for i in 0..4 {
        let forwarded = format!("10.9.9.{i}, 203.0.113.7");
        let r = login_via(&anon, &forwarded, &format!("nobody{i}"), "guess");
        assert_eq!(r.error_code(401), "unauthenticated");
    }
    let locked = login_via(&anon, "1.1.1.1, 203.0.113.7", "admin", ADMIN_PASSWORD);
    assert_eq!(locked.error_code(429), "too_many_requests");
    // Another client behind the same proxy, and the proxy itself, are not locked out.
    let other = login_via(&anon, "203.0.113.8", "admin", ADMIN_PASSWORD);
    assert_eq!(other.status, 200, "{}", other.text);
    let direct = login_via(&anon, "", "admin", ADMIN_PASSWORD);
    assert_eq!(direct.status, 200, "{}", direct.text);
    // The audit log names each client's own address.
    assert_eq!(
        audited_addresses(&admin, "login_failed"),
        vec!["203.0.113.7"; 4]
    );
    let logins = audited_addresses(&admin, "login");
    assert!(
        logins.ends_with(&["203.0.113.8".to_string(), "127.0.0.1".to_string()]),
        "{logins:?}"
    );
}
