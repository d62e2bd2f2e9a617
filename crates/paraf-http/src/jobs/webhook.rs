//! The `webhook` consumer: POSTs an event's JSON to an organisation's endpoint through the
//! guarded [`Outbound`] client (no private address unless allowed, no redirect followed) with
//! the Standard Webhooks headers (see [`super::signature`]), and records every attempt in the
//! delivery log. A 2xx answer is success; anything else (a redirect, a refused address, no
//! answer within the timeout) is retried with the job's backoff.
//!
//! The body is fixed when the event is enqueued (`Core::enqueue_webhook`), so every attempt sends
//! the same bytes and the same event id; only the signature's timestamp changes.

use std::time::Instant;

use paraf_domain::{Job, NewWebhookDelivery, OrgId, WebhookEndpointId};

use super::signature::{sign, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::outbound::{classify, Outbound};
use crate::state::AppState;

pub use paraf_core::events::WEBHOOK_QUEUE;

struct Payload {
    org: OrgId,
    endpoint: WebhookEndpointId,
    event: String,
    event_id: String,
    body: String,
}

fn payload(job: &Job) -> Result<Payload, String> {
    let p = &job.payload;
    let s = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let i = |k: &str| p.get(k).and_then(serde_json::Value::as_i64);
    Ok(Payload {
        org: OrgId(i("org_id").ok_or("webhook job without org_id")?),
        endpoint: WebhookEndpointId(i("endpoint_id").ok_or("webhook job without endpoint_id")?),
        event: s("event").unwrap_or_default(),
        event_id: s("event_id").unwrap_or_default(),
        body: s("body").ok_or("webhook job without body")?,
    })
}

/// Runs one `webhook` job.
pub async fn run(state: &AppState, out: &Outbound, job: &Job) -> Result<(), String> {
    let p = payload(job)?;
    let webhooks = state.core.webhooks();
    let ep = match webhooks.get(p.org, p.endpoint).await {
        Ok(ep) => ep,
        Err(e) if e.is_not_found() => {
            tracing::info!(job = %job.id, "webhook endpoint deleted; event dropped");
            return Ok(());
        }
        Err(e) => return Err(e.to_string()),
    };
    if !ep.enabled {
        tracing::info!(job = %job.id, endpoint = %ep.id, "webhook endpoint disabled; event dropped");
        return Ok(());
    }
    let secrets = webhooks.signing_secrets(&ep).map_err(|e| e.to_string())?;
    let secrets: Vec<&str> = secrets.iter().map(|s| s.expose()).collect();
    let t = state.clock.now().timestamp();
    let signature = sign(&secrets, &p.event_id, t, p.body.as_bytes());
    // Headers the endpoint's owner asked for (a robot's settings), before Paraf's own.
    let extra = state
        .core
        .endpoint_headers(ep.id.0)
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let result = match out.post(&ep.url) {
        Ok(request) => extra
            .iter()
            .fold(request, |r, (k, v)| r.header(k.as_str(), v.as_str()))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                reqwest::header::USER_AGENT,
                concat!("Paraf-Webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header(ID_HEADER, &p.event_id)
            .header(TIMESTAMP_HEADER, t.to_string())
            .header(SIGNATURE_HEADER, signature)
            .timeout(state.config.webhook_timeout)
            .body(p.body.clone())
            .send()
            .await
            .map_err(classify),
        Err(e) => Err(e),
    };
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (status_code, error) = match &result {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
        Ok(r) => (
            Some(r.status().as_u16()),
            Some(format!("HTTP {}", r.status().as_u16())),
        ),
        // Never the URL: it may carry credentials.
        Err(e) => (None, Some(e.to_string())),
    };
    let delivery = NewWebhookDelivery {
        org: p.org,
        endpoint: Some(ep.id),
        job: Some(job.id),
        url: ep.url.clone(),
        event: p.event.clone(),
        attempt: job.attempts,
        status_code,
        error: error.clone(),
        duration_ms,
        at: state.clock.now(),
    };
    if let Err(e) = state.core.record_webhook_delivery(&delivery).await {
        tracing::warn!(error = %e, "could not record a webhook delivery");
    }
    match error {
        None => {
            tracing::info!(job = %job.id, endpoint = %ep.id, attempt = job.attempts, "webhook delivered");
            Ok(())
        }
        Some(e) => Err(e),
    }
}
