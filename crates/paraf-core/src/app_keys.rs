//! Application keys of the external API (`/ext/v1`, seed-004 conventions): a client system
//! is given an `x-app-key` and an Ed25519 private key (PKCS#8 PEM, shown once — Paraf keeps
//! only the public key). Where the key requires it, each request carries `x-signature`: the
//! base64 Ed25519 signature of [`signing_string`] (`METHOD\nPATH?QUERY\nx-request-id\n` and
//! the hex SHA-256 of the body), checked by [`verify_request`].

use base64::Engine as _;
use paraf_domain::{GatewayApp, GatewayAppId, OrgId};
use serde_json::json;
use sha2::Digest as _;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::secret::Secret;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// A key just made or rotated: the application and its private key (PEM, shown once).
#[derive(Debug)]
pub struct IssuedAppKey {
    pub app: GatewayApp,
    pub private_key_pem: Secret,
}

/// What a client signs: `METHOD\nPATH?QUERY\nx-request-id\nhex(sha256(body))` (the path and
/// query exactly as sent; no query, no `?`).
pub fn signing_string(
    method: &str,
    path_and_query: &str,
    request_id: &str,
    body: &[u8],
) -> Vec<u8> {
    format!(
        "{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path_and_query,
        request_id,
        hex::encode(sha2::Sha256::digest(body))
    )
    .into_bytes()
}

/// Why a request signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureRefusal {
    #[error("x-signature is required for this application key")]
    Missing,
    #[error("x-signature is not base64 of a 64-byte Ed25519 signature")]
    Malformed,
    #[error("x-signature does not verify with this application key (method, path, x-request-id and body)")]
    Mismatch,
}

/// Checks a request's `x-signature` against the application's public key: `Ok` when it
/// verifies, or when there is none and the key does not require one.
pub fn verify_request(
    app: &GatewayApp,
    method: &str,
    path_and_query: &str,
    request_id: &str,
    body: &[u8],
    signature: Option<&str>,
) -> std::result::Result<(), SignatureRefusal> {
    let Some(sig) = signature.map(str::trim).filter(|s| !s.is_empty()) else {
        return if app.require_signature {
            Err(SignatureRefusal::Missing)
        } else {
            Ok(())
        };
    };
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .ok()
        .filter(|s| s.len() == 64)
        .ok_or(SignatureRefusal::Malformed)?;
    let message = signing_string(method, path_and_query, request_id, body);
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &app.public_key)
        .verify(&message, &sig)
        .map_err(|_| SignatureRefusal::Mismatch)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl Core {
    /// A new Ed25519 key pair from the core's entropy: (raw public key, PKCS#8 PEM).
    fn ed25519_pair(&self) -> Result<(Vec<u8>, Secret)> {
        use aws_lc_rs::signature::KeyPair as _;
        let seed: zeroize::Zeroizing<[u8; 32]> =
            zeroize::Zeroizing::new(paraf_domain::random_bytes(&*self.entropy)?);
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(&seed[..])
            .map_err(CoreError::internal)?;
        let pkcs8 = pair.to_pkcs8v1().map_err(CoreError::internal)?;
        Ok((
            pair.public_key().as_ref().to_vec(),
            Secret::new(pem("PRIVATE KEY", pkcs8.as_ref())),
        ))
    }

    /// Makes an application key; its private key is in the reply only.
    pub async fn create_app_key(
        &self,
        org: OrgId,
        name: &str,
        require_signature: bool,
        actor: &Actor,
    ) -> Result<IssuedAppKey> {
        let (public, private_key_pem) = self.ed25519_pair()?;
        let app = self
            .store
            .create_gateway_app(org, name, &public, require_signature, self.now())
            .await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::AppKeyCreated,
            Some(format!("app_key:{}", app.id.0)),
            json!({"name": app.name, "app_key": app.app_key, "require_signature": require_signature}),
        );
        self.record(event).await;
        Ok(IssuedAppKey {
            app,
            private_key_pem,
        })
    }

    /// The organisation's application keys.
    pub async fn app_keys(&self, org: OrgId) -> Result<Vec<GatewayApp>> {
        Ok(self.store.gateway_apps(org).await?)
    }

    /// The application of an `x-app-key` (refused when unknown, deleted or disabled).
    pub async fn app_by_key(&self, app_key: &str) -> Result<GatewayApp> {
        Ok(self.store.gateway_app_by_key(app_key).await?)
    }

    /// Enables or disables an application key.
    pub async fn set_app_key_enabled(
        &self,
        org: OrgId,
        id: GatewayAppId,
        enabled: bool,
        actor: &Actor,
    ) -> Result<()> {
        self.store.set_gateway_app_enabled(org, id, enabled).await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::AppKeyUpdated,
            Some(format!("app_key:{}", id.0)),
            json!({"enabled": enabled}),
        );
        self.record(event).await;
        Ok(())
    }

    /// A new key pair for an application (the `x-app-key` stays; the old private key stops
    /// working at once).
    pub async fn rotate_app_key(
        &self,
        org: OrgId,
        id: GatewayAppId,
        actor: &Actor,
    ) -> Result<IssuedAppKey> {
        self.store.gateway_app(org, id).await?;
        let (public, private_key_pem) = self.ed25519_pair()?;
        let app = self.store.set_gateway_app_key(org, id, &public).await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::AppKeyRotated,
            Some(format!("app_key:{}", id.0)),
            json!({}),
        );
        self.record(event).await;
        Ok(IssuedAppKey {
            app,
            private_key_pem,
        })
    }

    /// Deletes an application key; every token its users hold stops working.
    pub async fn delete_app_key(&self, org: OrgId, id: GatewayAppId, actor: &Actor) -> Result<()> {
        self.store.delete_gateway_app(org, id, self.now()).await?;
        self.hot_tokens.clear();
        let event = self.audit_event(
            org,
            actor,
            AuditAction::AppKeyDeleted,
            Some(format!("app_key:{}", id.0)),
            json!({}),
        );
        self.record(event).await;
        Ok(())
    }
}

/// Login attempts accepted per minute for one application key and e-mail address.
pub const LOGIN_ATTEMPTS_PER_MINUTE: u64 = 10;

/// The token chain of the external API (seed 004) for one application key.
impl Core {
    /// Signs a user of the key's organisation in: a user token, a refresh token and an
    /// access token, one `gateway` family of this key.
    pub async fn gateway_login(
        &self,
        app: &GatewayApp,
        email: &paraf_domain::Email,
        password: &str,
        actor: &Actor,
    ) -> Result<paraf_domain::IssuedTokens> {
        // Attempts per key and e-mail address, right or wrong, so passwords cannot be tried
        // at the speed of the network.
        let now = self.now();
        let w = paraf_domain::RateWindow::Minute;
        let counter = format!(
            "ext-login:{}:{}",
            app.id.0,
            email.as_str().to_ascii_lowercase()
        );
        let count = self.store.hit(&counter, w, w.start(now), now).await?;
        let d = paraf_domain::RateDecision::evaluate(w, LOGIN_ATTEMPTS_PER_MINUTE, count, now);
        if !d.allowed {
            return Err(CoreError::Domain(paraf_domain::DomainError::RateLimited {
                window: w,
                limit: d.limit,
                retry_after_secs: d.retry_after_secs,
            }));
        }
        let user = self.verify_password(app.org, email, password).await?;
        let tokens = self
            .store
            .gateway_login(
                app.org,
                app.id,
                user.id,
                &self.token_lifetimes(),
                self.now(),
            )
            .await?;
        let event = self.audit_event(
            app.org,
            actor,
            AuditAction::SessionStarted,
            Some(format!("user:{}", user.id)),
            json!({"app_key": app.id.0}),
        );
        self.record(event).await;
        Ok(tokens)
    }

    /// A live token of `kind` from a `gateway` family of `app` (another key's token is
    /// refused like an unknown one).
    pub async fn gateway_token(
        &self,
        app: &GatewayApp,
        presented: &str,
        kind: paraf_domain::TokenKind,
    ) -> Result<(paraf_domain::Principal, paraf_domain::TokenFamilyId)> {
        let (p, family, owner) = self
            .store
            .gateway_token(presented, kind, self.now())
            .await?;
        if owner != app.id {
            return Err(CoreError::Domain(
                paraf_domain::DomainError::Unauthenticated(
                    paraf_domain::AuthFailure::UnknownCredential,
                ),
            ));
        }
        Ok((p, family))
    }

    /// `Bearer <refresh_token>` → a new access token and a new refresh token (the presented
    /// one is spent; presenting it again revokes the whole chain).
    pub async fn gateway_refresh(
        &self,
        app: &GatewayApp,
        refresh: &str,
    ) -> Result<paraf_domain::IssuedTokens> {
        self.gateway_token(app, refresh, paraf_domain::TokenKind::Refresh)
            .await?;
        self.refresh_grant(refresh).await
    }

    /// `Bearer <x-user-token>` → a new refresh token (earlier ones stop working).
    pub async fn gateway_new_refresh(
        &self,
        app: &GatewayApp,
        user_token: &str,
    ) -> Result<paraf_domain::IssuedTokens> {
        self.gateway_token(app, user_token, paraf_domain::TokenKind::UserToken)
            .await?;
        Ok(self
            .store
            .refresh_from_user_token(user_token, &self.token_lifetimes(), self.now())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aws_lc_rs::signature::KeyPair as _;

    fn app(require_signature: bool) -> (GatewayApp, aws_lc_rs::signature::Ed25519KeyPair) {
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(&[5; 32]).unwrap();
        let app = GatewayApp {
            id: GatewayAppId(1),
            org: OrgId(1),
            name: "ERP".into(),
            app_key: "paraf_gak_x".into(),
            public_key: pair.public_key().as_ref().to_vec(),
            require_signature,
            enabled: true,
            created_at: chrono::Utc::now(),
        };
        (app, pair)
    }

    #[test]
    fn signatures_cover_method_path_request_id_and_body() {
        let (a, pair) = app(true);
        let sign = |m: &str, p: &str, r: &str, b: &[u8]| {
            base64::engine::general_purpose::STANDARD
                .encode(pair.sign(&signing_string(m, p, r, b)).as_ref())
        };
        let good = sign("POST", "/ext/v1/envelopes?x=1", "req-1", b"{}");
        assert_eq!(
            verify_request(
                &a,
                "post",
                "/ext/v1/envelopes?x=1",
                "req-1",
                b"{}",
                Some(&good)
            ),
            Ok(())
        );
        for (m, p, r, b) in [
            ("GET", "/ext/v1/envelopes?x=1", "req-1", &b"{}"[..]),
            ("POST", "/ext/v1/envelopes?x=2", "req-1", b"{}"),
            ("POST", "/ext/v1/envelopes?x=1", "req-2", b"{}"),
            ("POST", "/ext/v1/envelopes?x=1", "req-1", b"{ }"),
        ] {
            assert_eq!(
                verify_request(&a, m, p, r, b, Some(&good)),
                Err(SignatureRefusal::Mismatch)
            );
        }
        assert_eq!(
            verify_request(&a, "GET", "/", "r", b"", None),
            Err(SignatureRefusal::Missing)
        );
        assert_eq!(
            verify_request(&a, "GET", "/", "r", b"", Some("AAAA")),
            Err(SignatureRefusal::Malformed)
        );
        let (optional, _) = app(false);
        assert_eq!(
            verify_request(&optional, "GET", "/", "r", b"", None),
            Ok(())
        );
        // A signature sent while optional is still checked.
        assert_eq!(
            verify_request(&optional, "GET", "/x", "r", b"", Some(&good)),
            Err(SignatureRefusal::Mismatch)
        );
    }
}
