//! Service accounts ("robots", as Signing Today calls them): their lifetime API token, and
//! their settings — the request headers and credentials used when fetching the files they name
//! by URL, and the URL their webhook events go to (an organisation webhook endpoint: signed
//! like every Paraf webhook, its deliveries also carrying the robot's headers). Settings are
//! sealed with the master key at rest: they hold credentials.

use std::collections::BTreeMap;

use base64::Engine as _;
use paraf_domain::{ApiToken, OrgId, SecretToken, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// The name of the lifetime token a robot is given (one at a time).
pub const LIFETIME_TOKEN: &str = "robot lifetime token";

/// A robot's settings.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RobotConfig {
    /// Sent with every fetch of a file named by URL (and with webhook deliveries).
    pub request_headers: BTreeMap<String, Vec<String>>,
    /// HTTP Basic credentials for the same requests.
    pub auth: Option<RobotAuth>,
    /// Where the robot's DST events go.
    pub webhook_url: Option<String>,
}

/// HTTP Basic credentials of a robot's requests.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RobotAuth {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for RobotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobotConfig")
            .field(
                "request_headers",
                &self.request_headers.keys().collect::<Vec<_>>(),
            )
            .field("auth", &self.auth.as_ref().map(|a| &a.username))
            .field("webhook_url", &self.webhook_url.as_ref().map(|_| "***"))
            .finish()
    }
}

impl RobotConfig {
    /// The headers of a request made for the robot: its own, then `Authorization: Basic` when
    /// it has credentials.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .request_headers
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
            .collect();
        if let Some(a) = &self.auth {
            let pair = format!("{}:{}", a.username, a.password);
            out.push((
                "Authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ),
            ));
        }
        out
    }

    /// Refuses header names and values that cannot be sent, and names Paraf sets itself.
    fn check(&self) -> Result<()> {
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        };
        for (k, vs) in &self.request_headers {
            let lower = k.to_ascii_lowercase();
            if !token(k)
                || lower.starts_with("webhook-")
                || [
                    "host",
                    "content-length",
                    "content-type",
                    "transfer-encoding",
                ]
                .contains(&lower.as_str())
            {
                return Err(CoreError::invalid(
                    "requestHeaders",
                    format!("{k:?} cannot be set"),
                ));
            }
            if vs
                .iter()
                .any(|v| v.len() > 4096 || v.bytes().any(|b| b < 0x20 || b == 0x7f))
            {
                return Err(CoreError::invalid(
                    "requestHeaders",
                    format!("a value of {k:?} has control characters or is too long"),
                ));
            }
        }
        if let Some(a) = &self.auth {
            if a.username.contains(':') || a.username.chars().any(char::is_control) {
                return Err(CoreError::invalid(
                    "authentication.username",
                    "must not hold ':' or control characters",
                ));
            }
        }
        Ok(())
    }
}

impl Core {
    pub(crate) fn seal_json(&self, v: &serde_json::Value) -> Result<String> {
        self.master_key
            .seal_text(v.to_string().as_bytes())
            .map_err(CoreError::internal)
    }

    pub(crate) fn open_json<T: for<'de> Deserialize<'de>>(&self, stored: &str) -> Result<T> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(stored)
            .map_err(CoreError::internal)?;
        let plain = self.master_key.open(&bytes).map_err(CoreError::internal)?;
        serde_json::from_slice(&plain).map_err(CoreError::internal)
    }

    /// A robot's settings (the defaults when it has none).
    pub async fn robot_config(&self, org: OrgId, user: UserId) -> Result<RobotConfig> {
        self.store.user(org, user).await?;
        match self.store.robot_configuration(org, user).await? {
            Some(s) => self.open_json(&s),
            None => Ok(RobotConfig::default()),
        }
    }

    /// Sets a robot's settings. A webhook URL becomes (or is, when the organisation already
    /// has an endpoint with that URL: it keeps its secret) an organisation webhook endpoint
    /// for `envelope.*`, whose deliveries also carry the robot's headers.
    pub async fn set_robot_config(
        &self,
        org: OrgId,
        user: UserId,
        cfg: RobotConfig,
        actor: &Actor,
    ) -> Result<()> {
        self.store.user(org, user).await?;
        cfg.check()?;
        if let Some(url) = cfg.webhook_url.as_deref().filter(|u| !u.trim().is_empty()) {
            let hooks = self.webhooks();
            let existing = hooks
                .list(org)
                .await?
                .into_iter()
                .find(|e| e.url == url.trim());
            let ep = match existing {
                Some(ep) => ep,
                None => {
                    hooks
                        .create(
                            org,
                            url.trim(),
                            &["envelope.*".to_string()],
                            &format!("robot user {user}"),
                            actor,
                        )
                        .await?
                        .0
                }
            };
            let headers = cfg.headers();
            let sealed = if headers.is_empty() {
                None
            } else {
                Some(self.seal_json(&json!(headers))?)
            };
            self.store
                .set_endpoint_headers(ep.id.0, sealed.as_deref())
                .await?;
        }
        let sealed = self.seal_json(&serde_json::to_value(&cfg).map_err(CoreError::internal)?)?;
        self.store
            .set_robot_configuration(org, user, &sealed, self.now())
            .await?;
        let event = self.audit_event(
            org,
            actor,
            AuditAction::RobotConfigured,
            Some(format!("user:{user}")),
            json!({"headers": cfg.request_headers.keys().collect::<Vec<_>>(),
                   "authentication": cfg.auth.is_some(), "webhook": cfg.webhook_url.is_some()}),
        );
        self.record(event).await;
        Ok(())
    }

    /// The headers a webhook endpoint's deliveries carry besides the signature.
    pub async fn endpoint_headers(&self, endpoint: i64) -> Result<Vec<(String, String)>> {
        match self.store.endpoint_headers(endpoint).await? {
            Some(s) => self.open_json(&s),
            None => Ok(Vec::new()),
        }
    }

    /// A new lifetime token for robot `user` (any earlier one is revoked): its secret, once.
    pub async fn renew_lifetime_token(
        &self,
        org: OrgId,
        user: UserId,
        actor: &Actor,
    ) -> Result<(ApiToken, SecretToken)> {
        self.revoke_lifetime_tokens(org, user, actor).await?;
        self.create_personal_token(org, user, LIFETIME_TOKEN, actor)
            .await
    }

    /// Revokes robot `user`'s lifetime tokens; returns how many.
    pub async fn revoke_lifetime_tokens(
        &self,
        org: OrgId,
        user: UserId,
        actor: &Actor,
    ) -> Result<usize> {
        let mut n = 0;
        for t in self.personal_tokens(org, user).await? {
            if t.name == LIFETIME_TOKEN && t.revoked_at.is_none() {
                self.revoke_personal_token(org, user, t.id, actor).await?;
                n += 1;
            }
        }
        Ok(n)
    }
}
