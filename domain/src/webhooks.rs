//! The rules of webhook delivery: how a delivery is signed (Standard Webhooks), when a
//! failed one is tried again, and what counts as delivered.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The prefix of a signing secret in the Standard Webhooks form.
pub const SECRET_PREFIX: &str = "whsec_";

/// How long after each failed attempt the next comes, before jitter: about three days in
/// all, early ones close together (a receiver restarting), later ones far apart (a
/// receiver down for a day). After the last, the delivery is given up.
pub const RETRY_DELAYS: [Duration; 12] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(2 * 60 * 60),
    Duration::from_secs(4 * 60 * 60),
    Duration::from_secs(8 * 60 * 60),
    Duration::from_secs(12 * 60 * 60),
    Duration::from_secs(24 * 60 * 60),
    Duration::from_secs(24 * 60 * 60),
];

/// How long to wait before the next attempt, after `attempts` failed ones; `None` once
/// they are all used up. `jitter` in [-1, 1] moves the delay by up to a fifth either way,
/// so that receivers coming back are not hit by every retry at once.
pub fn retry_delay(attempts: u32, jitter: f64) -> Option<Duration> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    let base = RETRY_DELAYS.get(index)?;
    Some(base.mul_f64(1.0 + jitter.clamp(-1.0, 1.0) / 5.0))
}

/// How long to wait before publishing to a message broker again after `attempts` failed
/// ones: doubling from a second up to a minute, and never given up (the broker is ours to
/// bring back, and the stream de-duplicates by event id).
pub fn republish_delay(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

/// Whether the receiver's answer means it took the event.
pub fn is_delivered(status: u16) -> bool {
    (200..300).contains(&status)
}

/// A signing secret that is not `whsec_` and base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a signing secret is `whsec_` and base64")]
pub struct MalformedSecret;

/// The Standard Webhooks signature of one delivery: `v1,` and the base64 of the
/// HMAC-SHA256, keyed by the secret's bytes, of `{id}.{timestamp}.{body}`.
pub fn sign(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, MalformedSecret> {
    let key = secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|encoded| BASE64.decode(encoded).ok())
        .ok_or(MalformedSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| MalformedSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: a signature per secret that signs now, space-separated
/// (during a rotation, the new secret's and the old one's).
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, MalformedSecret> {
    let signatures = secrets
        .into_iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks libraries (`standardwebhooks` on PyPI and
    /// npm): this secret, id, timestamp and body sign to this signature.
    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_rotation_signs_with_both_secrets() {
        let header = signature_header(
            [
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "whsec_c2VjcmV0LWtleS1ieXRlcw==",
            ],
            "evt_1",
            1,
            b"{}",
        )
        .expect("both secrets are well-formed");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn malformed_secrets_are_refused() {
        assert_eq!(sign("MfKQ9r8GKYqrTwjU", "i", 1, b""), Err(MalformedSecret));
        assert_eq!(sign("whsec_%%%", "i", 1, b""), Err(MalformedSecret));
    }

    #[test]
    fn retries_spread_over_about_three_days_then_stop() {
        let total: Duration = (1..=RETRY_DELAYS.len() as u32)
            .map(|n| retry_delay(n, 0.0).expect("a retry"))
            .sum();
        assert!(total > Duration::from_secs(3 * 24 * 3600), "{total:?}");
        assert!(total < Duration::from_secs(4 * 24 * 3600), "{total:?}");
        assert_eq!(retry_delay(RETRY_DELAYS.len() as u32 + 1, 0.0), None);
        assert_eq!(retry_delay(0, 0.0), None);
        assert_eq!(retry_delay(1, 0.0), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(1, 1.0), Some(Duration::from_secs(6)));
        assert_eq!(retry_delay(1, -7.0), Some(Duration::from_secs(4)));
    }

    #[test]
    fn republishing_backs_off_to_a_minute() {
        let delays: Vec<u64> = (1..=9).map(|n| republish_delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(republish_delay(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn only_2xx_is_delivered() {
        assert!(is_delivered(200));
        assert!(is_delivered(204));
        assert!(!is_delivered(301));
        assert!(!is_delivered(410));
        assert!(!is_delivered(500));
    }
}
