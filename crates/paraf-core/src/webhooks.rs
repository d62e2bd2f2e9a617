//! Webhook endpoints of an organisation: created with a secret shown once (`whsec_…`, the
//! Standard Webhooks form), kept sealed with the master key (the server must sign with it, so
//! it cannot be hashed), rotated with the old secret still signing for a day, enabled,
//! disabled, deleted; the delivery log and redelivery. Events are sent by
//! [`crate::Core::emit`]; `paraf-http` delivers and signs them.

use base64::Engine as _;
use paraf_domain::{
    DomainError, Entity, JobId, NewJob, NewWebhookEndpoint, OrgId, WebhookDelivery,
    WebhookDeliveryId, WebhookEndpoint, WebhookEndpointId,
};
use serde_json::json;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::outbound::OutboundPolicy;
use crate::secret::Secret;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// Prefix of a stored (sealed) secret.
const SEALED: &str = "sealed:";

/// The organisation's webhook endpoints.
pub struct Webhooks<'a> {
    core: &'a Core,
}

impl Core {
    /// The webhook endpoint service.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { core: self }
    }

    /// The outbound policy (`outbound_allow_private`).
    pub fn outbound(&self) -> OutboundPolicy {
        OutboundPolicy {
            allow_private: self.config.outbound_allow_private,
        }
    }
}

/// Checks an event type name: lowercase words joined by dots (`envelope.completed`), or a
/// `prefix.*` pattern, or `*`.
fn check_event(e: &str) -> Result<String> {
    let e = e.trim();
    let name = e.strip_suffix(".*").unwrap_or(e);
    let ok = e == "*"
        || (!name.is_empty()
            && name.len() <= 64
            && name.split('.').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            }));
    if ok {
        Ok(e.to_string())
    } else {
        Err(CoreError::invalid(
            "events",
            format!("{e:?} is not an event type (like envelope.completed or envelope.*)"),
        ))
    }
}

impl Webhooks<'_> {
    fn new_secret(&self) -> Result<Secret> {
        let bytes: [u8; 32] = paraf_domain::random_bytes(&*self.core.entropy)?;
        Ok(Secret::new(format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )))
    }

    fn seal(&self, secret: &Secret) -> Result<String> {
        let sealed = self
            .core
            .master_key
            .seal(secret.expose().as_bytes())
            .map_err(CoreError::internal)?;
        Ok(format!(
            "{SEALED}{}",
            base64::engine::general_purpose::STANDARD.encode(sealed)
        ))
    }

    fn open(&self, stored: &str) -> Result<Secret> {
        let b64 = stored
            .strip_prefix(SEALED)
            .ok_or_else(|| CoreError::internal("a webhook secret is not sealed"))?;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(CoreError::internal)?;
        let plain = self
            .core
            .master_key
            .open(&sealed)
            .map_err(CoreError::internal)?;
        let text = std::str::from_utf8(&plain).map_err(CoreError::internal)?;
        Ok(Secret::new(text))
    }

    /// Adds an endpoint to `org`; returns it and its secret (the only time it is shown).
    /// `events` empty: every event.
    pub async fn create(
        &self,
        org: OrgId,
        url: &str,
        events: &[String],
        description: &str,
        actor: &Actor,
    ) -> Result<(WebhookEndpoint, Secret)> {
        let url = self.core.outbound().check_url("url", url)?;
        let events = events
            .iter()
            .flat_map(|e| e.split([',', ' ']))
            .filter(|e| !e.trim().is_empty())
            .map(check_event)
            .collect::<Result<Vec<_>>>()?;
        if description.len() > 200 {
            return Err(CoreError::invalid(
                "description",
                "is longer than 200 characters",
            ));
        }
        let secret = self.new_secret()?;
        let new = NewWebhookEndpoint {
            org,
            url: url.to_string(),
            secret: self.seal(&secret)?,
            description: description.trim().to_string(),
            events,
        };
        let ep = self
            .core
            .store
            .create_webhook_endpoint(&new, self.core.now())
            .await?;
        let event = self.core.audit_event(
            org,
            actor,
            AuditAction::WebhookEndpointCreated,
            Some(format!("webhook_endpoint:{}", ep.id)),
            json!({"url": ep.url, "events": ep.events}),
        );
        self.core.record(event).await;
        Ok((ep, secret))
    }

    /// The organisation's endpoints.
    pub async fn list(&self, org: OrgId) -> Result<Vec<WebhookEndpoint>> {
        Ok(self.core.store.list_webhook_endpoints(org).await?)
    }

    /// One endpoint of the organisation.
    pub async fn get(&self, org: OrgId, id: WebhookEndpointId) -> Result<WebhookEndpoint> {
        Ok(self.core.store.webhook_endpoint(org, id).await?)
    }

    /// A new secret for the endpoint (shown once); the old one signs beside it for
    /// [`ROTATION_OVERLAP`].
    pub async fn rotate(
        &self,
        org: OrgId,
        id: WebhookEndpointId,
        actor: &Actor,
    ) -> Result<(WebhookEndpoint, Secret)> {
        let secret = self.new_secret()?;
        let until = self.core.now() + ROTATION_OVERLAP;
        let ep = self
            .core
            .store
            .rotate_webhook_secret(org, id, &self.seal(&secret)?, until)
            .await?;
        let event = self.core.audit_event(
            org,
            actor,
            AuditAction::WebhookEndpointRotated,
            Some(format!("webhook_endpoint:{id}")),
            json!({"previous_secret_until": until.to_rfc3339()}),
        );
        self.core.record(event).await;
        Ok((ep, secret))
    }

    /// Enables or disables the endpoint (a disabled endpoint's events are dropped).
    pub async fn set_enabled(
        &self,
        org: OrgId,
        id: WebhookEndpointId,
        enabled: bool,
        actor: &Actor,
    ) -> Result<WebhookEndpoint> {
        let ep = self
            .core
            .store
            .set_webhook_endpoint_enabled(org, id, enabled)
            .await?;
        let event = self.core.audit_event(
            org,
            actor,
            AuditAction::WebhookEndpointUpdated,
            Some(format!("webhook_endpoint:{id}")),
            json!({"enabled": enabled}),
        );
        self.core.record(event).await;
        Ok(ep)
    }

    /// Deletes the endpoint (its delivery log stays).
    pub async fn delete(&self, org: OrgId, id: WebhookEndpointId, actor: &Actor) -> Result<()> {
        self.core.store.delete_webhook_endpoint(org, id).await?;
        let event = self.core.audit_event(
            org,
            actor,
            AuditAction::WebhookEndpointDeleted,
            Some(format!("webhook_endpoint:{id}")),
            json!({}),
        );
        self.core.record(event).await;
        Ok(())
    }

    /// The secrets a delivery to `ep` is signed with now: the current one, and the previous
    /// one while its overlap lasts.
    pub fn signing_secrets(&self, ep: &WebhookEndpoint) -> Result<Vec<Secret>> {
        let mut out = vec![self.open(&ep.secret)?];
        if let (Some(prev), Some(until)) = (&ep.previous_secret, ep.previous_secret_until) {
            if self.core.now() < until {
                out.push(self.open(prev)?);
            }
        }
        Ok(out)
    }

    /// The organisation's newest delivery attempts (of one endpoint, or all).
    pub async fn deliveries(
        &self,
        org: OrgId,
        endpoint: Option<WebhookEndpointId>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>> {
        Ok(self
            .core
            .store
            .list_webhook_deliveries(org, endpoint, limit)
            .await?)
    }

    /// Sends the event of a recorded delivery again, as a new job: same body, same event id
    /// (`webhook-id`), so a receiver that already processed it can tell.
    pub async fn redeliver(
        &self,
        org: OrgId,
        delivery: WebhookDeliveryId,
        actor: &Actor,
    ) -> Result<JobId> {
        let d = self.core.store.webhook_delivery(org, delivery).await?;
        let gone = || CoreError::Domain(DomainError::not_found(Entity::WebhookDelivery));
        let job = self
            .core
            .store
            .job(d.job.ok_or_else(gone)?)
            .await
            .map_err(|_| gone())?;
        // The job must be this organisation's (the delivery is; the job should agree).
        if job
            .payload
            .get("org_id")
            .and_then(serde_json::Value::as_i64)
            != Some(org.0)
        {
            return Err(gone());
        }
        let mut new = NewJob::new(job.queue.clone(), job.payload.clone(), self.core.now());
        new.retry = crate::events::WEBHOOK_RETRY;
        let id = self.core.enqueue(&new).await?;
        let event = self.core.audit_event(
            org,
            actor,
            AuditAction::WebhookRedelivered,
            Some(format!("webhook_delivery:{delivery}")),
            json!({"event": d.event, "job": id.0}),
        );
        self.core.record(event).await;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn event_names() {
        for ok in ["envelope.completed", "envelope.*", "*", "signer.code_sent"] {
            assert_eq!(check_event(ok).unwrap(), ok);
        }
        for bad in ["Envelope", "envelope..x", ".x", "a b", "envelope.*.x", ""] {
            assert!(check_event(bad).is_err(), "{bad}");
        }
    }
}
