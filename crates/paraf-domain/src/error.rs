//! The closed domain error enum: every refusal a rule or the store can give, by kind.
//!
//! Each HTTP dialect maps these variants to its own status code and error body; the CLI
//! prints them on one line. Infrastructure failures (database down, disk full) are not
//! domain errors: `paraf-store` wraps them separately.

use std::fmt;

use crate::credential::AuthFailure;
use crate::org::QuotaKind;
use crate::ratelimit::RateWindow;

/// What kind of thing was not found or already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Organisation,
    User,
    Group,
    Contact,
    ApiToken,
    AppCredential,
    TokenFamily,
    GatewayApp,
    Job,
    Mail,
    WebhookEndpoint,
    WebhookDelivery,
    Envelope,
    Recipient,
    IdempotencyRecord,
    AuditRecord,
    Blob,
    Identity,
    Seal,
    SignedDocument,
    Document,
    Note,
    Device,
    Appearance,
    PasswordToken,
}

impl Entity {
    /// A lower-case human name ("organisation", "API token", …).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Organisation => "organisation",
            Entity::User => "user",
            Entity::Group => "group",
            Entity::Contact => "contact",
            Entity::ApiToken => "API token",
            Entity::AppCredential => "application credential",
            Entity::TokenFamily => "token family",
            Entity::GatewayApp => "gateway application",
            Entity::Job => "job",
            Entity::Mail => "mail",
            Entity::WebhookEndpoint => "webhook endpoint",
            Entity::WebhookDelivery => "webhook delivery",
            Entity::Envelope => "envelope",
            Entity::Recipient => "recipient",
            Entity::IdempotencyRecord => "idempotency record",
            Entity::AuditRecord => "audit record",
            Entity::Blob => "blob",
            Entity::Identity => "identity",
            Entity::Seal => "seal",
            Entity::SignedDocument => "signed document",
            Entity::Document => "document",
            Entity::Note => "note",
            Entity::Device => "device",
            Entity::Appearance => "appearance",
            Entity::PasswordToken => "password token",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every way a domain operation can be refused. Closed on purpose: adding a variant is a
/// decision every dialect must answer (`match` without a wildcard).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// An input failed to parse; `field` names it as the API calls it (`email`, `nik`, …).
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The thing does not exist — or belongs to another organisation (never say which).
    #[error("{entity} not found")]
    NotFound { entity: Entity },
    /// A unique key is taken (`key` is what the caller gave, e.g. the slug or the email).
    #[error("{entity} already exists: {key}")]
    AlreadyExists { entity: Entity, key: String },
    /// The credential was not accepted; the failure says which check refused it. Dialects
    /// answer 401 without telling the client which check failed (log it instead).
    #[error("not authenticated: {0}")]
    Unauthenticated(AuthFailure),
    /// Authenticated, but not allowed to do this.
    #[error("forbidden: {reason}")]
    Forbidden { reason: String },
    /// A rate limit of the plan is reached for this window.
    #[error("rate limit reached: {limit} requests per {window}, retry after {retry_after_secs} s")]
    RateLimited {
        window: RateWindow,
        limit: u64,
        retry_after_secs: u64,
    },
    /// A quota of the organisation would be exceeded.
    #[error("quota exceeded: {quota} (used {used} of {limit})")]
    QuotaExceeded {
        quota: QuotaKind,
        limit: u64,
        used: u64,
    },
    /// The operation conflicts with the current state (request already in progress, job lease
    /// lost, state transition not allowed…).
    #[error("conflict: {reason}")]
    Conflict { reason: String },
    /// The operating system could not provide randomness.
    #[error("no randomness available: {reason}")]
    Entropy { reason: String },
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`DomainError::NotFound`].
    pub fn not_found(entity: Entity) -> Self {
        DomainError::NotFound { entity }
    }

    /// Shorthand for [`DomainError::Conflict`].
    pub fn conflict(reason: impl Into<String>) -> Self {
        DomainError::Conflict {
            reason: reason.into(),
        }
    }
}
