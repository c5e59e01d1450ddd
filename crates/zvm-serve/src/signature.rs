//! Zoom's webhook signatures (zoom-api.md §7): `x-zm-signature` is `v0=` and the hex of
//! HMAC-SHA256 over `v0:{x-zm-request-timestamp}:{raw body}` keyed with the app's secret
//! token, and `endpoint.url_validation` is answered with the HMAC of the plain token.
//!
//! Pure functions of their inputs (the clock is a parameter), so every refusal is unit
//! tested without a server.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from our clock, either way: Zoom's 5 minutes.
pub const MAX_SKEW_SECS: i64 = 300;

/// Why a request was refused (answered 401). Logged; never echoed to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no {0} header")]
    MissingHeader(&'static str),
    #[error("the x-zm-request-timestamp header is not Unix seconds")]
    BadTimestamp,
    #[error("the request's timestamp is {skew_secs} s from our clock (at most {MAX_SKEW_SECS} s)")]
    Stale { skew_secs: i64 },
    #[error("the signature does not match the secret token")]
    BadSignature,
    #[error("this exact request was accepted before (a replay)")]
    Replay,
}

/// The webhook secret token of the Zoom app. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        Hmac::<Sha256>::new_from_slice(self.0.as_bytes()).unwrap_or_else(|_| unreachable!())
    }

    /// Whether a secret was given at all (an empty one would accept forged events).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// Checks a request's signature and timestamp against `secret` at the time `now_secs`.
/// Returns the request's timestamp (seconds). The comparison is constant-time
/// (`Mac::verify_slice`), so the answer's timing tells nothing about the expected value.
pub fn verify(
    secret: &SecretToken,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<i64, Refusal> {
    let timestamp = timestamp.ok_or(Refusal::MissingHeader("x-zm-request-timestamp"))?;
    let signature = signature.ok_or(Refusal::MissingHeader("x-zm-signature"))?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Refusal::BadTimestamp)?;
    let skew_secs = now_secs.saturating_sub(ts).saturating_abs();
    if skew_secs > MAX_SKEW_SECS {
        return Err(Refusal::Stale { skew_secs });
    }
    let given = signature
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Refusal::BadSignature)?;
    let mut mac = secret.mac();
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| Refusal::BadSignature)?;
    Ok(ts)
}

/// `x-zm-signature` for a body sent at `timestamp` (tests, the load generator).
pub fn sign(secret: &SecretToken, timestamp: &str, body: &[u8]) -> String {
    let mut mac = secret.mac();
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// `encryptedToken` of the answer to `endpoint.url_validation`: hex HMAC-SHA256 of the
/// plain token.
pub fn encrypted_token(secret: &SecretToken, plain_token: &str) -> String {
    let mut mac = secret.mac();
    mac.update(plain_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    fn secret() -> SecretToken {
        SecretToken::new("s3cret")
    }

    #[test]
    fn a_signed_request_passes_and_every_change_fails() {
        let body = br#"{"event":"recording.completed"}"#;
        let ts = NOW.to_string();
        let sig = sign(&secret(), &ts, body);
        assert_eq!(verify(&secret(), Some(&ts), Some(&sig), body, NOW), Ok(NOW));
        // Another body, another timestamp, another secret: each breaks the signature.
        let other = br#"{"event":"recording.deleted"}"#;
        assert_eq!(
            verify(&secret(), Some(&ts), Some(&sig), other, NOW),
            Err(Refusal::BadSignature)
        );
        let later = (NOW + 1).to_string();
        assert_eq!(
            verify(&secret(), Some(&later), Some(&sig), body, NOW),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(&SecretToken::new("other"), Some(&ts), Some(&sig), body, NOW),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(&secret(), Some(&ts), Some("v0=zz"), body, NOW),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(
                &secret(),
                Some(&ts),
                Some(sig.trim_start_matches("v0=")),
                body,
                NOW
            ),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(&secret(), None, Some(&sig), body, NOW),
            Err(Refusal::MissingHeader("x-zm-request-timestamp"))
        );
        assert_eq!(
            verify(&secret(), Some("soon"), Some(&sig), body, NOW),
            Err(Refusal::BadTimestamp)
        );
    }

    #[test]
    fn timestamps_more_than_five_minutes_away_are_stale() {
        let body = b"{}";
        for (offset, ok) in [(-300, true), (300, true), (-301, false), (301, false)] {
            let ts = (NOW + offset).to_string();
            let sig = sign(&secret(), &ts, body);
            let got = verify(&secret(), Some(&ts), Some(&sig), body, NOW);
            assert_eq!(got.is_ok(), ok, "offset {offset}: {got:?}");
        }
    }

    #[test]
    fn url_validation_is_the_hmac_of_the_plain_token() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published
        // test vector.
        assert_eq!(
            encrypted_token(
                &SecretToken::new("key"),
                "The quick brown fox jumps over the lazy dog"
            ),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        assert!(!format!("{:?}", secret()).contains("s3cret"));
    }
}
