//! Trusted devices (Signing Today's mobile app): a signed-in user asks for a challenge (valid
//! 10 minutes; a new one cancels the last); the device presents it with its id and name and
//! gets an API token of the user (re-pairing rotates it); removing the device revokes the
//! token and forgets its push token. Push tokens are sealed with the master key; messages go
//! through a pluggable [`PushSender`] (the development outbox by default). Notifications are
//! derived from the envelopes: those awaiting the user's signature, and the outcomes of those
//! they made, minus what they consumed.

use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use paraf_domain::{
    token_hash, ApiTokenId, Capability, DomainError, Entity, Envelope, EnvelopeFilter,
    EnvelopeOrder, EnvelopeQuery, EnvelopeStatus, OrgId, RecipientStatus, Timestamp, User, UserId,
};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// How long a device challenge works.
pub const CHALLENGE_MINUTES: i64 = 10;

/// A push message for one device.
#[derive(Debug, Clone)]
pub struct PushMessage {
    pub org: OrgId,
    pub user: UserId,
    pub device_id: String,
    /// The device's push token (opened from its seal; never logged).
    pub token: crate::secret::Secret,
    pub payload: serde_json::Value,
}

/// Where push messages go (a platform's push service in production; the development outbox
/// by default).
pub trait PushSender: Send + Sync {
    fn send<'a>(
        &'a self,
        core: &'a Core,
        msg: PushMessage,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;
}

/// The default sender: records each message (without the token) in the `push_outbox` table.
#[derive(Debug, Default)]
pub struct OutboxPush;

impl PushSender for OutboxPush {
    fn send<'a>(
        &'a self,
        core: &'a Core,
        msg: PushMessage,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            core.store
                .record_push(msg.org, msg.user, &msg.device_id, &msg.payload, core.now())
                .await?;
            Ok(())
        })
    }
}

/// What a user is notified of about one envelope.
#[derive(Debug, Clone)]
pub struct Notification {
    pub envelope: Envelope,
    /// The SDK's event name (`dst_alert_sign`, `dst_status_signed`, …).
    pub event: &'static str,
    pub at: Timestamp,
    /// The envelope's author, when known.
    pub author: Option<User>,
}

/// A device id or name: 1 to 100 printable characters.
fn label(field: &'static str, s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            "must be 1 to 100 printable characters",
        ));
    }
    Ok(s.to_string())
}

fn expired_challenge() -> CoreError {
    CoreError::invalid("challenge", "the challenge has expired: ask for a new one")
}

impl Core {
    /// A new pairing challenge for `user` (32 hex digits, valid [`CHALLENGE_MINUTES`]); the
    /// earlier one stops working.
    pub async fn device_challenge(
        &self,
        org: OrgId,
        user: UserId,
        actor: &Actor,
    ) -> Result<String> {
        let bytes: [u8; 16] = paraf_domain::random_bytes(&*self.entropy)?;
        let challenge = hex::encode(bytes);
        self.store
            .set_device_challenge(
                org,
                user,
                &token_hash(&challenge),
                self.now() + chrono::Duration::minutes(CHALLENGE_MINUTES),
            )
            .await?;
        self.audit_device(
            org,
            actor,
            AuditAction::DeviceChallengeIssued,
            user,
            json!({}),
        )
        .await;
        Ok(challenge)
    }

    /// Pairs a device with a challenge (once): the device's API token (shown this once).
    pub async fn pair_device(
        &self,
        challenge: &str,
        device_id: &str,
        name: &str,
        actor: &Actor,
    ) -> Result<(User, String)> {
        let device_id = label("deviceId", device_id)?;
        let name = label("name", name)?;
        let (org, user, live) = match self
            .store
            .take_device_challenge(&token_hash(challenge.trim()), self.now())
            .await
        {
            Ok(x) => x,
            Err(e) if e.is_not_found() => {
                return Err(CoreError::invalid(
                    "challenge",
                    "unknown challenge (used, replaced by a newer one, or never issued)",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        if !live {
            return Err(expired_challenge());
        }
        let owner = self.store.user(org, user).await?;
        if owner.disabled {
            return Err(CoreError::Domain(DomainError::Forbidden {
                reason: "the user is disabled".into(),
            }));
        }
        let mut actor = actor.clone();
        actor.id = format!("user:{user}");
        let (token, secret) = self
            .create_personal_token(org, user, &format!("device: {name}"), &actor)
            .await?;
        let (device, before) = self
            .store
            .pair_device(org, user, &device_id, &name, token.id, self.now())
            .await?;
        if let Some(old) = before {
            self.revoke_device_token(org, old).await?;
        }
        self.audit_device(
            org,
            &actor,
            AuditAction::DevicePaired,
            user,
            json!({"deviceId": device.device_id, "name": device.name}),
        )
        .await;
        Ok((owner, secret.expose().to_string()))
    }

    async fn revoke_device_token(&self, org: OrgId, id: ApiTokenId) -> Result<()> {
        match self.store.revoke_api_token(org, id, self.now()).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        self.hot_tokens.clear();
        Ok(())
    }

    /// A page (`skip`, `top`) of the user's devices, and how many they have.
    pub async fn user_devices(
        &self,
        org: OrgId,
        user: UserId,
        (skip, top): (u64, u32),
    ) -> Result<(Vec<paraf_store::Device>, u64)> {
        Ok(self.store.devices(org, Some(user), skip, top).await?)
    }

    /// Records a device action of `user` in the organisation's trail.
    async fn audit_device(
        &self,
        org: OrgId,
        actor: &Actor,
        action: AuditAction,
        user: UserId,
        details: serde_json::Value,
    ) {
        let event = self.audit_event(org, actor, action, Some(format!("user:{user}")), details);
        self.record(event).await;
    }

    /// Removes a device of `owner` (another's needs `devices.delete.all`): its token is
    /// revoked and its push token forgotten.
    pub async fn remove_device(
        &self,
        caller: &User,
        owner: UserId,
        device_id: &str,
        actor: &Actor,
    ) -> Result<()> {
        if owner != caller.id && !caller.can(Capability::DevicesDeleteAll) {
            return Err(CoreError::Domain(DomainError::Forbidden {
                reason: "another user's device needs devices.delete.all".into(),
            }));
        }
        let d = self.store.device(caller.org, device_id.trim()).await?;
        if d.user != owner {
            return Err(CoreError::Domain(DomainError::not_found(Entity::Device)));
        }
        self.store.delete_device(caller.org, d.row).await?;
        if let Some(t) = d.api_token {
            self.revoke_device_token(caller.org, t).await?;
        }
        self.audit_device(
            caller.org,
            actor,
            AuditAction::DeviceRemoved,
            owner,
            json!({"deviceId": d.device_id}),
        )
        .await;
        Ok(())
    }

    /// Registers the push token of one of the user's trusted devices (sealed at rest).
    pub async fn set_push_token(
        &self,
        org: OrgId,
        user: UserId,
        device_id: &str,
        token: &str,
        actor: &Actor,
    ) -> Result<()> {
        let token = token.trim();
        if token.is_empty() || token.len() > 4096 {
            return Err(CoreError::invalid("token", "must be 1 to 4096 characters"));
        }
        let d = self.own_device(org, user, device_id).await?;
        let sealed = self
            .master_key
            .seal_text(token.as_bytes())
            .map_err(CoreError::internal)?;
        self.store
            .set_push_token(d.row, &sealed, self.now())
            .await?;
        self.audit_device(
            org,
            actor,
            AuditAction::PushTokenSet,
            user,
            json!({"deviceId": d.device_id}),
        )
        .await;
        Ok(())
    }

    /// Forgets the push token of one of the user's devices.
    pub async fn remove_push_token(
        &self,
        org: OrgId,
        user: UserId,
        device_id: &str,
        actor: &Actor,
    ) -> Result<()> {
        let d = self.own_device(org, user, device_id).await?;
        self.store.delete_push_token(d.row).await?;
        self.audit_device(
            org,
            actor,
            AuditAction::PushTokenRemoved,
            user,
            json!({"deviceId": d.device_id}),
        )
        .await;
        Ok(())
    }

    /// The user's device `device_id` ("not found" for another's or an unknown one: only
    /// trusted devices register push tokens).
    async fn own_device(
        &self,
        org: OrgId,
        user: UserId,
        device_id: &str,
    ) -> Result<paraf_store::Device> {
        match self.store.device(org, device_id.trim()).await {
            Ok(d) if d.user == user => Ok(d),
            Ok(_) => Err(CoreError::Domain(DomainError::not_found(Entity::Device))),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends `payload` to every device of the user with a push token (failures are logged:
    /// a push is a courtesy, the mail and the lists are the record).
    pub async fn push_to(&self, org: OrgId, user: UserId, payload: serde_json::Value) {
        let tokens = match self.store.push_tokens(org, user).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "push tokens could not be read");
                return;
            }
        };
        for (device_id, sealed) in tokens {
            let token = base64::engine::general_purpose::STANDARD
                .decode(sealed)
                .ok()
                .and_then(|b| self.master_key.open(&b).ok())
                .and_then(|p| String::from_utf8(p.to_vec()).ok());
            let Some(token) = token else {
                tracing::warn!(device_id, "a push token could not be opened");
                continue;
            };
            let msg = PushMessage {
                org,
                user,
                device_id,
                token: crate::secret::Secret::new(token),
                payload: payload.clone(),
            };
            if let Err(e) = self.push.send(self, msg).await {
                tracing::warn!(error = %e, "a push message failed");
            }
        }
    }

    /// Pushes "your turn to sign" to the user (if any) behind a recipient just invited.
    pub(crate) async fn push_invitation(&self, e: &Envelope, email: &paraf_domain::Email) {
        let Ok(u) = self.store.user_by_email(e.org, email).await else {
            return;
        };
        self.push_to(
            e.org,
            u.id,
            json!({"event": "dst_alert_sign", "dstId": e.uuid, "dstTitle": e.header.title}),
        )
        .await;
    }

    /// The user's notifications of envelopes made through `face`, newest first: those
    /// awaiting their signature (`dst_alert_sign`) and the outcomes of those they made
    /// (`dst_status_signed`, `dst_status_rejected`, `dst_status_expired`), minus what they
    /// consumed since. Looks at their latest 500 envelopes.
    pub async fn notifications(&self, user: &User, face: &str) -> Result<Vec<Notification>> {
        let q = EnvelopeQuery {
            org: user.org,
            face: face.to_string(),
            template: Some(false),
            created_by: None,
            filter: Some(EnvelopeFilter::Involves(user.id, user.email.clone())),
            order: EnvelopeOrder::Created,
            descending: true,
            offset: 0,
            limit: 500,
        };
        let (list, _) = self.envelope_query(&q, false).await?;
        let ids: Vec<_> = list.iter().map(|e| e.id).collect();
        let recipients = self.recipients_of(user.org, &ids).await?;
        let reads = self.store.notification_reads(user.id).await?;
        let mut authors: Vec<User> = Vec::new();
        let mut out = Vec::new();
        for e in list {
            let mine = recipients
                .get(&e.id)
                .into_iter()
                .flatten()
                .find(|r| r.email == user.email);
            let (event, at) = match (e.status, mine) {
                (EnvelopeStatus::Sent, Some(r))
                    if matches!(r.status, RecipientStatus::Invited | RecipientStatus::Opened) =>
                {
                    ("dst_alert_sign", r.invited_at.or(e.sent_at))
                }
                (EnvelopeStatus::Completed, _) if e.header.created_by == Some(user.id) => {
                    ("dst_status_signed", e.completed_at)
                }
                (EnvelopeStatus::Declined, _) if e.header.created_by == Some(user.id) => {
                    ("dst_status_rejected", e.completed_at)
                }
                (EnvelopeStatus::Expired, _) if e.header.created_by == Some(user.id) => {
                    ("dst_status_expired", e.completed_at)
                }
                _ => continue,
            };
            let at = at.unwrap_or(e.created_at);
            if reads.iter().any(|(id, read)| *id == e.id && *read >= at) {
                continue;
            }
            let author = match e.header.created_by {
                Some(a) => match authors.iter().find(|u| u.id == a) {
                    Some(u) => Some(u.clone()),
                    None => match self.store.user(user.org, a).await {
                        Ok(u) => {
                            authors.push(u.clone());
                            Some(u)
                        }
                        Err(_) => None,
                    },
                },
                None => None,
            };
            out.push(Notification {
                envelope: e,
                event,
                at,
                author,
            });
        }
        out.sort_by_key(|n| std::cmp::Reverse(n.at));
        Ok(out)
    }

    /// The user has consumed the envelope's notifications.
    pub async fn consume_notifications(
        &self,
        user: &User,
        envelope: &Envelope,
        actor: &Actor,
    ) -> Result<()> {
        self.store
            .consume_notifications(user.id, envelope.id, self.now())
            .await?;
        let event = self.audit_event(
            user.org,
            actor,
            AuditAction::NotificationsConsumed,
            Some(format!("envelope:{}", envelope.uuid)),
            json!({"user": user.id.0}),
        );
        self.record_later(event);
        Ok(())
    }
}
