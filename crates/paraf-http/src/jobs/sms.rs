//! The `sms` consumer: sends a text message of the outbox (a one-time code) to the SMS gateway
//! set by `sms_webhook_url` — a JSON POST `{"to", "text"}` through the guarded outbound client
//! (public addresses only unless allowed, no redirects, a time limit) — or, with no gateway
//! (development), marks it `captured` so that admins read it at `GET /admin/outbox`. A gateway
//! that fails or answers non-2xx is retried with the job's backoff. The text is never logged.

use paraf_core::signer_codes::SMS_QUEUE;
use paraf_domain::{Job, MailId, MailStatus};

use crate::outbound::classify;
use crate::state::AppState;

/// Queue name of SMS jobs.
pub const QUEUE: &str = SMS_QUEUE;

/// Runs one `sms` job.
pub async fn run(state: &AppState, job: &Job) -> Result<(), String> {
    let id = job
        .payload
        .get("mail_id")
        .and_then(serde_json::Value::as_i64)
        .map(MailId)
        .ok_or("sms job without mail_id")?;
    let sms = state.core.mail(id).await.map_err(|e| e.to_string())?;
    if matches!(sms.status, MailStatus::Sent | MailStatus::Captured) {
        return Ok(());
    }
    let Some(url) = state.config.sms_webhook_url.as_deref() else {
        state
            .core
            .mark_mail(id, MailStatus::Captured, None)
            .await
            .map_err(|e| e.to_string())?;
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
    state
        .core
        .mark_mail(id, MailStatus::Sent, None)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(sms = %id, "SMS handed to the gateway");
    Ok(())
}
