//! Events for integrators: an event for a webhook endpoint is a job of the `webhook` queue
//! whose body (with its event id) is fixed when it is enqueued, so every delivery attempt sends
//! the same bytes; `paraf-http`'s consumer delivers and signs it.

use paraf_domain::{JobId, NewJob, WebhookEndpoint};
use serde_json::json;

use crate::error::CoreError;
use crate::Core;

/// Queue name of webhook jobs.
pub const WEBHOOK_QUEUE: &str = "webhook";

impl Core {
    /// Enqueues `event` with `data` for `endpoint`; returns the job id and the event id.
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
            "event": event,
            "created_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        })
        .to_string();
        let job = NewJob::new(
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
        Ok((self.enqueue(&job).await?, event_id))
    }
}
