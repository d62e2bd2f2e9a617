//! The `mail` consumer: sends an outbox mail over SMTP (lettre), or, when no SMTP relay is
//! configured (development), marks it `captured` so that admins read it at `GET /admin/outbox`.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use paraf_domain::{Job, Mail, MailId, MailStatus};

use crate::state::AppState;
use paraf_core::config::{SmtpConfig, SmtpTls};

/// Queue name of mail jobs (the store enqueues them in `Store::queue_mail`; it keeps its own
/// copy of this name private).
pub const MAIL_QUEUE: &str = "mail";

/// An SMTP client built from the settings.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the transport (no connection is made yet).
    pub fn new(smtp: &SmtpConfig, from: &str) -> Result<Mailer, String> {
        let builder = match smtp.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
            }
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| format!("SMTP relay {}: {e}", smtp.host))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| format!("SMTP relay {}: {e}", smtp.host))?,
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(30)));
        if let Some((u, p)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(u.clone(), p.expose().to_string()));
        }
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("mail sender {from:?}: {e}"))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one mail.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: Option<&str>,
    ) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject);
        let msg = match html {
            Some(h) => builder.multipart(MultiPart::alternative_plain_html(
                text.to_string(),
                h.to_string(),
            )),
            None => builder.singlepart(SinglePart::plain(text.to_string())),
        }
        .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

/// The outbox message of a `mail` or `sms` job (`{"mail_id"}`), unless it was already sent or
/// captured (a job run again after a crash sends nothing twice).
pub(super) async fn pending_message(state: &AppState, job: &Job) -> Result<Option<Mail>, String> {
    let id = job
        .payload
        .get("mail_id")
        .and_then(serde_json::Value::as_i64)
        .map(MailId)
        .ok_or_else(|| format!("{} job without mail_id", job.queue))?;
    let mail = state.core.mail(id).await.map_err(|e| e.to_string())?;
    Ok((!matches!(mail.status, MailStatus::Sent | MailStatus::Captured)).then_some(mail))
}

/// Records the outcome of a message (sent, or captured in the development outbox).
pub(super) async fn mark(state: &AppState, id: MailId, status: MailStatus) -> Result<(), String> {
    state
        .core
        .mark_mail(id, status, None)
        .await
        .map_err(|e| e.to_string())
}

/// Runs one `mail` job.
pub async fn run(state: &AppState, mailer: Option<&Mailer>, job: &Job) -> Result<(), String> {
    let Some(mail) = pending_message(state, job).await? else {
        return Ok(());
    };
    let id = mail.id;
    match mailer {
        None => {
            mark(state, id, MailStatus::Captured).await?;
            tracing::info!(mail = %id, "mail kept in the development outbox (no SMTP relay configured)");
        }
        Some(m) => {
            m.send(&mail.to, &mail.subject, &mail.text, mail.html.as_deref())
                .await?;
            mark(state, id, MailStatus::Sent).await?;
            tracing::info!(mail = %id, "mail sent");
        }
    }
    Ok(())
}

/// After a mail job went dead: marks the mail failed.
pub async fn give_up(state: &AppState, job: &Job, error: &str) {
    if let Some(id) = job
        .payload
        .get("mail_id")
        .and_then(serde_json::Value::as_i64)
    {
        let _ = state
            .core
            .mark_mail(MailId(id), MailStatus::Failed, Some(error))
            .await;
    }
}
