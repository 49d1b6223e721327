//! Sending webhook deliveries from the core's outbox: each poll claims the due deliveries,
//! signs each (HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret) and posts it
//! with a time limit and no redirects, and records what the receiver answered — a 2xx
//! delivers, anything else is retried with backoff.

use hmac::{Hmac, Mac};
use qingguan_core::webhooks::DueDelivery;
use qingguan_core::Store;
use sha2::Sha256;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Deliveries claimed per poll.
const BATCH: usize = 50;
/// Webhooks in flight past which nothing more is claimed.
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
fn send_for_webhook(store: &Store, agent: &ureq::Agent, due: &[DueDelivery], retry_base: Duration) {
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
            let later = store.shared_now()
                + chrono::Duration::from_std(retry_base).unwrap_or(chrono::Duration::seconds(30));
            if let Err(e) = store.postpone_deliveries(&rest, later) {
                tracing::warn!(error = %e, "postponing webhook deliveries failed");
            }
            return;
        }
    }
}

/// The webhooks this sender is sending to now, each on a thread of its own.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<Mutex<HashSet<i64>>>);

impl InFlight {
    fn set(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A webhook marked in flight until its thread ends (however it ends).
struct Sending(InFlight, i64);

impl Drop for Sending {
    fn drop(&mut self) {
        self.0.set().remove(&self.1);
    }
}

/// Claims what is due and sends it: each webhook's deliveries on a thread of their own, so a
/// slow receiver holds up neither the others nor the next poll. Webhooks still being sent to
/// are left for a later poll (each webhook's deliveries go out in order), and nothing is
/// claimed while [`MAX_PARALLEL`] or more are (one claim starts at most one thread per
/// webhook in it). Returns how many deliveries were claimed.
pub fn send_due(
    store: &Arc<Store>,
    agent: &ureq::Agent,
    retry_base: Duration,
    in_flight: &InFlight,
) -> usize {
    let busy: Vec<i64> = in_flight.set().iter().copied().collect();
    if busy.len() >= MAX_PARALLEL {
        return 0;
    }
    let due = match store.claim_deliveries(BATCH, &busy) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "claiming webhook deliveries failed");
            return 0;
        }
    };
    let claimed = due.len();
    let mut by_hook: BTreeMap<i64, Vec<DueDelivery>> = BTreeMap::new();
    for d in due {
        by_hook.entry(d.webhook_id).or_default().push(d);
    }
    for (hook, group) in by_hook {
        in_flight.set().insert(hook);
        let sending = Sending(in_flight.clone(), hook);
        let (store, agent) = (store.clone(), agent.clone());
        std::thread::spawn(move || {
            let _sending = sending;
            send_for_webhook(&store, &agent, &group, retry_base);
        });
    }
    claimed
}

/// Runs until the process ends, polling every `poll`.
pub async fn run(store: Arc<Store>, poll: Duration, retry_base: Duration) {
    let agent = agent();
    let in_flight = InFlight::default();
    let mut tick = tokio::time::interval(poll);
    loop {
        tick.tick().await;
        // A full batch: more may be due at once.
        while let Ok(n) = tokio::task::spawn_blocking({
            let (s, a, f) = (store.clone(), agent.clone(), in_flight.clone());
            move || send_due(&s, &a, retry_base, &f)
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
