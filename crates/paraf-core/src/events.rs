//! Events for integrators: an event for a webhook endpoint is a job of the `webhook` queue
//! whose body (with its event id) is fixed when it is enqueued, so every delivery attempt sends
//! the same bytes; `paraf-http`'s consumer delivers and signs it (Standard Webhooks).
//!
//! [`Core::emit`] sends one event to every enabled endpoint of the organisation that wants it.
//! Deliveries are retried for more than a day ([`WEBHOOK_RETRY`]: first retry after 20 s).

use std::collections::HashMap;

use paraf_domain::{
    DomainError, Entity, Envelope, JobId, NewJob, OrgId, Organisation, Recipient, RetryPolicy,
    User, WebhookEndpoint, WebhookEndpointId,
};
use serde_json::json;

use crate::error::CoreError;
use crate::Core;

/// Queue name of webhook jobs.
pub const WEBHOOK_QUEUE: &str = "webhook";

/// Retries of a webhook delivery: 20 s, 40 s, 80 s, … doubling up to 6 hours, 15 attempts in
/// all — the last one about 29 hours after the first.
pub const WEBHOOK_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 15,
    base_delay: chrono::Duration::seconds(20),
    max_delay: chrono::Duration::hours(6),
};

/// What an envelope event's payload may show: a dialect's [`PayloadFn`] turns it into the
/// body its integrators expect.
pub struct EnvelopeEvent<'a> {
    /// The core's event name (`recipient.signed`, `envelope.completed`, …).
    pub event: &'a str,
    pub envelope: &'a Envelope,
    pub recipients: &'a [Recipient],
    /// The recipient who acted (signed, declined), if one did.
    pub actor: Option<&'a Recipient>,
    pub organisation: &'a Organisation,
    /// The account that made the envelope, if a user did.
    pub creator: Option<&'a User>,
    /// The organisation's credits after the event (`None`: unlimited).
    pub credits_left: Option<i64>,
    /// SHA-256 (hex) of the first document's current version.
    pub document_hash: Option<String>,
    /// Where the files can be fetched ([`Core::file_links`]).
    pub links: &'a FileLinks,
    /// The proof JSON, once completed.
    pub proof: Option<&'a serde_json::Value>,
}

/// A dialect's webhook body for an envelope event (the whole JSON body).
pub type PayloadFn = fn(&EnvelopeEvent<'_>) -> serde_json::Value;

/// The payload shapes of the dialects, by the face envelopes were made through.
#[derive(Default)]
pub struct Payloads(std::sync::RwLock<HashMap<String, PayloadFn>>);

impl Payloads {
    /// Envelopes made through `face` send webhook bodies made by `f`.
    pub fn register(&self, face: &str, f: PayloadFn) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(face.to_string(), f);
    }

    /// The shape of `face`, if a dialect registered one.
    pub fn get(&self, face: &str) -> Option<PayloadFn> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(face)
            .copied()
    }
}

/// URLs of an envelope's files for whoever is given them (webhook receivers): the path holds
/// the envelope's uuid and a key derived from it with the master key, so they cannot be
/// guessed; the certificate answers once the envelope is completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLinks {
    /// The first document, as signed so far (final once completed).
    pub document: String,
    pub certificate_pdf: String,
    pub certificate_json: String,
}

impl Core {
    /// The key in an envelope's file links.
    pub fn file_key(&self, uuid: &str) -> String {
        hex::encode(&self.master_key.mac("envelope-files", uuid.as_bytes())[..16])
    }

    /// The file links of envelope `uuid`.
    pub fn file_links(&self, uuid: &str) -> FileLinks {
        let base = format!("{}/files/{uuid}/{}", self.public_url, self.file_key(uuid));
        FileLinks {
            document: format!("{base}/document.pdf"),
            certificate_pdf: format!("{base}/certificat.pdf"),
            certificate_json: format!("{base}/certificat.json"),
        }
    }

    /// A file of a file link: `name` is `document.pdf`, `certificat.pdf` or `certificat.json`.
    /// A wrong key, an unknown envelope or a certificate not made yet: "not found".
    pub async fn linked_file(
        &self,
        uuid: &str,
        key: &str,
        name: &str,
    ) -> Result<(&'static str, paraf_store::BlobReader), CoreError> {
        let missing = || CoreError::Domain(DomainError::not_found(Entity::Blob));
        let expected = self.file_key(uuid);
        if !crate::secret::constant_time_eq(key.as_bytes(), expected.as_bytes()) {
            return Err(missing());
        }
        let e = self.store.envelope_by_uuid(None, uuid).await?;
        match name {
            "document.pdf" if e.status != paraf_domain::EnvelopeStatus::Draft => {
                let documents = self.store.envelope_documents(e.id).await?;
                let first = documents.first().ok_or_else(missing)?;
                Ok(("application/pdf", self.open_file(&first.current).await?))
            }
            "certificat.pdf" | "certificat.json" => {
                let proof = e.proof.as_ref().ok_or_else(missing)?;
                Ok(if name.ends_with(".pdf") {
                    ("application/pdf", self.open_file(&proof.pdf).await?)
                } else {
                    ("application/json", self.open_file(&proof.json).await?)
                })
            }
            _ => Err(missing()),
        }
    }

    /// Enqueues `event` with `data` for `endpoint`; returns the job id and the event id.
    /// The body: `{"id", "type", "timestamp", "data"}`.
    pub async fn enqueue_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        event: &str,
        data: serde_json::Value,
    ) -> Result<(JobId, String), CoreError> {
        let event_id = self.new_event_id()?;
        let body = self.event_body(event, &event_id, data);
        self.enqueue_webhook_body(endpoint, event, event_id, body, None)
            .await
    }

    /// A new event id (`evt_` and 16 random bytes in hex).
    fn new_event_id(&self) -> Result<String, CoreError> {
        let id: [u8; 16] = paraf_domain::random_bytes(&*self.entropy)?;
        Ok(format!("evt_{}", hex::encode(id)))
    }

    /// The event id of an event announced at most once under `key`: the same for every
    /// attempt to announce it (derived with the master key, so it reveals nothing).
    fn keyed_event_id(&self, key: &str) -> String {
        format!(
            "evt_{}",
            hex::encode(&self.master_key.mac("event-id", key.as_bytes())[..16])
        )
    }

    /// The standard body around `data`.
    fn event_body(&self, event: &str, event_id: &str, data: serde_json::Value) -> String {
        json!({
            "id": event_id,
            "type": event,
            "timestamp": self.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        })
        .to_string()
    }

    /// Enqueues `body` (fixed for every attempt) as event `event_id` for `endpoint`.
    async fn enqueue_webhook_body(
        &self,
        endpoint: &WebhookEndpoint,
        event: &str,
        event_id: String,
        body: String,
        once: Option<&str>,
    ) -> Result<(JobId, String), CoreError> {
        let now = self.now();
        let mut job = NewJob::new(
            WEBHOOK_QUEUE,
            json!({
                "org_id": endpoint.org.0,
                "endpoint_id": endpoint.id.0,
                "event": event,
                "event_id": event_id,
                "body": body,
            }),
            now,
        );
        job.retry = WEBHOOK_RETRY;
        job.dedup_key = once.map(|k| format!("webhook:{k}:{}", endpoint.id.0));
        Ok((self.enqueue(&job).await?, event_id))
    }

    /// Sends `event` to every enabled endpoint of `org` subscribed to it; returns the endpoints
    /// and the jobs. Never waits on a delivery.
    pub async fn emit(
        &self,
        org: OrgId,
        event: &str,
        data: serde_json::Value,
    ) -> Result<Vec<(WebhookEndpointId, JobId)>, CoreError> {
        self.emit_body(org, event, Body::Standard(data), None).await
    }

    /// [`Core::emit`] with a body of a dialect's own shape (the same for every endpoint).
    pub(crate) async fn emit_body(
        &self,
        org: OrgId,
        event: &str,
        body: Body,
        once: Option<&str>,
    ) -> Result<Vec<(WebhookEndpointId, JobId)>, CoreError> {
        let mut out = Vec::new();
        // One event id for every endpoint; under a key, the same whenever it is announced.
        let event_id = match once {
            Some(k) => self.keyed_event_id(k),
            None => self.new_event_id()?,
        };
        for ep in self.webhooks().list(org).await? {
            if ep.enabled && ep.wants(event) {
                let text = match &body {
                    Body::Standard(data) => self.event_body(event, &event_id, data.clone()),
                    Body::Shaped(v) => v.to_string(),
                };
                let (job, _) = self
                    .enqueue_webhook_body(&ep, event, event_id.clone(), text, once)
                    .await?;
                out.push((ep.id, job));
            }
        }
        Ok(out)
    }
}

/// A webhook body: the standard `{"id", "type", "timestamp", "data"}` around the data, or a
/// dialect's whole body.
pub(crate) enum Body {
    Standard(serde_json::Value),
    Shaped(serde_json::Value),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_last_more_than_a_day_and_start_within_a_minute() {
        let p = WEBHOOK_RETRY;
        assert!(p.delay(1) <= chrono::Duration::minutes(1));
        let total: chrono::Duration = (1..p.max_attempts).map(|n| p.delay(n)).sum();
        assert!(total >= chrono::Duration::hours(24), "{total}");
        assert!(total <= chrono::Duration::hours(36), "{total}");
    }
}
