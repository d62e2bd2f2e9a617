//! Events for integrators: an event for a webhook endpoint is a job of the `webhook` queue
//! whose body (with its event id) is fixed when it is enqueued, so every delivery attempt sends
//! the same bytes; `paraf-http`'s consumer delivers and signs it (Standard Webhooks).
//!
//! [`Core::emit`] sends one event to every enabled endpoint of the organisation that wants it.
//! Deliveries are retried for more than a day ([`WEBHOOK_RETRY`]: first retry after 20 s).

use paraf_domain::{JobId, NewJob, OrgId, RetryPolicy, WebhookEndpoint, WebhookEndpointId};
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

impl Core {
    /// Enqueues `event` with `data` for `endpoint`; returns the job id and the event id.
    /// The body: `{"id", "type", "timestamp", "data"}`.
    pub async fn enqueue_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        event: &str,
        data: serde_json::Value,
    ) -> Result<(JobId, String), CoreError> {
        let now = self.now();
        let id: [u8; 16] = paraf_domain::random_bytes(&*self.entropy)?;
        let event_id = format!("evt_{}", hex::encode(id));
        let body = json!({
            "id": event_id,
            "type": event,
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        })
        .to_string();
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
        let mut out = Vec::new();
        for ep in self.webhooks().list(org).await? {
            if ep.enabled && ep.wants(event) {
                let (job, _) = self.enqueue_webhook(&ep, event, data.clone()).await?;
                out.push((ep.id, job));
            }
        }
        Ok(out)
    }
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
