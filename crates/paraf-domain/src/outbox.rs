//! Outgoing messages: the mail outbox (also the development outbox an admin can read when
//! no SMTP server is configured), webhook endpoints of an organisation and the log of every
//! webhook delivery attempt.

use std::fmt;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::ids::{JobId, MailId, OrgId, WebhookDeliveryId, WebhookEndpointId};

/// Where a mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailStatus {
    /// Waiting for the mail job.
    Pending,
    /// Handed to the SMTP server.
    Sent,
    /// Kept in the development outbox instead of being sent (no SMTP configured).
    Captured,
    /// Given up on (the job went dead).
    Failed,
}

impl MailStatus {
    /// Name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Captured => "captured",
            MailStatus::Failed => "failed",
        }
    }

    /// The inverse of [`MailStatus::as_str`].
    pub fn from_db(s: &str) -> Option<MailStatus> {
        [
            MailStatus::Pending,
            MailStatus::Sent,
            MailStatus::Captured,
            MailStatus::Failed,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

impl fmt::Display for MailStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// The organisation it is sent for (`None` for server mail).
    pub org: Option<crate::ids::OrgId>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// A mail in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mail {
    pub id: MailId,
    pub org: Option<OrgId>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub status: MailStatus,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub error: Option<String>,
}

/// An organisation's webhook endpoint. `secret` signs deliveries (HMAC-SHA256, Standard
/// Webhooks); the server needs it to sign, so it cannot be hashed: the core stores it sealed
/// with the master key, and the store keeps whatever it is given.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub org: OrgId,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub description: String,
    pub enabled: bool,
    pub created_at: Timestamp,
    /// The event types it receives (`envelope.completed`, `envelope.*`); empty: every event.
    pub events: Vec<String>,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    #[serde(skip)]
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<Timestamp>,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("org", &self.org)
            .field("url", &self.url)
            .field("secret", &"***")
            .field("events", &self.events)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl WebhookEndpoint {
    /// Whether the endpoint wants events of type `event`: every event when its list is empty,
    /// else an exact name or a `prefix.*` pattern.
    pub fn wants(&self, event: &str) -> bool {
        self.events.is_empty()
            || self.events.iter().any(|e| match e.strip_suffix(".*") {
                Some(prefix) => event
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.')),
                None => e == event || e == "*",
            })
    }
}

/// What is needed to create a webhook endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    pub org: OrgId,
    pub url: String,
    pub secret: String,
    pub description: String,
    /// See [`WebhookEndpoint::events`].
    pub events: Vec<String>,
}

impl std::fmt::Debug for NewWebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        write!(
            f,
            "NewWebhookEndpoint {{ org: {}, url: {:?}, .. }}",
            self.org, self.url
        )
    }
}

/// One delivery attempt to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookDelivery {
    pub org: OrgId,
    pub endpoint: Option<WebhookEndpointId>,
    pub job: Option<JobId>,
    pub url: String,
    /// The event name (`document_signed`, …).
    pub event: String,
    /// 1-based attempt number.
    pub attempt: u32,
    /// HTTP status received, if a response came.
    pub status_code: Option<u16>,
    /// Transport error or a short reason, if it failed.
    pub error: Option<String>,
    pub duration_ms: u64,
    pub at: Timestamp,
}

/// A recorded delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub org: OrgId,
    pub endpoint: Option<WebhookEndpointId>,
    pub job: Option<JobId>,
    pub url: String,
    pub event: String,
    pub attempt: u32,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub at: Timestamp,
}

impl WebhookDelivery {
    /// Whether the receiver answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}
