//! Webhook signatures, the Standard Webhooks scheme (<https://www.standardwebhooks.com>):
//! headers `webhook-id` (the event id, the same on every attempt), `webhook-timestamp` (Unix
//! seconds of this attempt) and `webhook-signature`: `v1,<base64 HMAC-SHA256>` of
//! `"<id>.<timestamp>.<raw body>"`, one per secret, separated by spaces (two during a secret
//! rotation). A secret `whsec_<base64>` keys the MAC with the decoded bytes; any other secret
//! with its own bytes. Receivers recompute it with any Standard Webhooks library and reject
//! stale timestamps to stop replays.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Header with the event id.
pub const ID_HEADER: &str = "webhook-id";
/// Header with the attempt's Unix time.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// Header with the signatures.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The MAC key of a secret.
fn key(secret: &str) -> Vec<u8> {
    match secret.strip_prefix("whsec_") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_else(|_| secret.as_bytes().to_vec()),
        None => secret.as_bytes().to_vec(),
    }
}

fn mac(secret: &str, id: &str, t: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&key(secret)).ok()?;
    m.update(id.as_bytes());
    m.update(b".");
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    Some(m)
}

/// The `webhook-signature` value for `body` with event id `id` sent at Unix time `t`, signed
/// with each of `secrets`.
pub fn sign(secrets: &[&str], id: &str, t: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|s| mac(s, id, t, body))
        .map(|m| {
            format!(
                "v1,{}",
                base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether one of the `v1` signatures of `header` is `secret`'s over `id`, `t`, `body`
/// (constant-time).
pub fn verify(secret: &str, id: &str, t: i64, header: &str, body: &[u8]) -> bool {
    header.split(' ').any(|part| {
        let Some(b64) = part.strip_prefix("v1,") else {
            return false;
        };
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return false;
        };
        mac(secret, id, t, body).is_some_and(|m| m.verify_slice(&sig).is_ok())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_specifications_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let h = sign(&[secret], id, 1614265330, body);
        assert_eq!(h, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(secret, id, 1614265330, &h, body));
        assert!(!verify(secret, id, 1614265331, &h, body));
        assert!(!verify(secret, "msg_other", 1614265330, &h, body));
        assert!(!verify(secret, id, 1614265330, &h, b"{}"));
        assert!(!verify("whsec_b3RoZXI=", id, 1614265330, &h, body));
    }

    #[test]
    fn two_secrets_during_rotation() {
        let h = sign(&["whsec_bmV3", "whsec_b2xk"], "evt_1", 7, b"x");
        assert_eq!(h.split(' ').count(), 2);
        assert!(verify("whsec_bmV3", "evt_1", 7, &h, b"x"));
        assert!(verify("whsec_b2xk", "evt_1", 7, &h, b"x"));
        assert!(!verify("whsec_b3RoZXI=", "evt_1", 7, &h, b"x"));
    }
}
