//! The `sms` consumer: sends a text message of the outbox (a one-time code) to the SMS gateway
//! set by `sms_webhook_url` — a JSON POST `{"to", "text"}` through the guarded outbound client
//! (public addresses only unless allowed, no redirects, a time limit) — or, with no gateway
//! (development), marks it `captured` so that admins read it at `GET /admin/outbox`. A gateway
//! that fails or answers non-2xx is retried with the job's backoff. The text is never logged.

use paraf_core::signer_codes::SMS_QUEUE;
use paraf_domain::{Job, MailStatus};

use super::mail::{mark, pending_message};

use crate::outbound::classify;
use crate::state::AppState;

/// Queue name of SMS jobs.
pub const QUEUE: &str = SMS_QUEUE;

/// Runs one `sms` job.
pub async fn run(state: &AppState, job: &Job) -> Result<(), String> {
    let Some(sms) = pending_message(state, job).await? else {
        return Ok(());
    };
    let id = sms.id;
    let Some(url) = state.config.sms_webhook_url.as_deref() else {
        mark(state, id, MailStatus::Captured).await?;
        tracing::info!(sms = %id, "SMS kept in the development outbox (no sms_webhook_url)");
        return Ok(());
    };
    let resp = state
        .outbound
        .post(url)
        .map_err(|e| format!("SMS gateway: {e}"))?
        .timeout(state.config.webhook_timeout)
        .json(&serde_json::json!({"to": sms.to, "text": sms.text}))
        .send()
        .await
        .map_err(|e| format!("SMS gateway: {}", classify(e)))?;
    if !resp.status().is_success() {
        return Err(format!("SMS gateway answered {}", resp.status().as_u16()));
    }
    mark(state, id, MailStatus::Sent).await?;
    tracing::info!(sms = %id, "SMS handed to the gateway");
    Ok(())
}
