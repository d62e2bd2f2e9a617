//! Paraf's domain layer: organisations on plans, users and robots, groups, contacts,
//! credentials, the hash-chained audit log, background jobs, rate limits and quotas.
//!
//! Pure types and rules: no SQL (that is `paraf-store`), no HTTP (that is `paraf-server`).
//! Time comes in through [`Clock`] (or a `now` argument) and randomness through [`Entropy`],
//! so every rule here is deterministic under test.
//!
//! "Parse, don't validate": [`Email::parse`], [`Nik::parse`], [`Slug::parse`],
//! [`Password::parse`], [`IpAllowList::parse`] return values that are valid by construction.

#![forbid(unsafe_code)]

/// The accessors every "parse, don't validate" string type shares: `as_str`, `Display`, and
/// the `String` conversions serde uses (`#[serde(try_from = "String", into = "String")]`),
/// where `TryFrom` goes through the type's own `parse`.
macro_rules! parsed_string {
    ($($t:ident),* $(,)?) => {$(
        impl $t {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $t {
            type Error = $crate::error::DomainError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $t::parse(&s)
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    )*};
}

pub mod audit;
pub mod clock;
pub mod credential;
pub mod entropy;
pub mod envelope;
pub mod error;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod job;
pub mod org;
pub mod outbox;
pub mod ratelimit;
pub mod user;

pub use audit::{
    audit_hash, verify_records, AuditChainReport, AuditRecord, BreakReason, ChainBreak,
    ChainVerifier, NewAuditEvent, GENESIS_HASH,
};
pub use clock::{from_micros, to_micros, Clock, ManualClock, SystemClock, Timestamp};
pub use credential::{
    hash_password, token_hash, verify_password, verify_password_against_nothing, ApiToken,
    AppCredential, AuthFailure, CredentialKey, CredentialKind, GatewayApp, IpAllowList,
    IssuedToken, IssuedTokens, NewApiToken, NewAppCredential, Password, Principal, SecretToken,
    TokenFlavour, TokenKind, TokenLifetimes,
};
pub use entropy::{random_bytes, Entropy, OsEntropy, SeededEntropy};
pub use envelope::{
    Envelope, EnvelopeBatch, EnvelopeDocument, EnvelopeFilter, EnvelopeHeader, EnvelopeNote,
    EnvelopeOrder, EnvelopeProof, EnvelopeQuery, EnvelopeStatus, Field, FieldKind, FieldUnit,
    NewEnvelope, NewEnvelopeDocument, NewField, NewRecipient, Recipient, RecipientStatus,
    SecondFactor, SignatureModel,
};
pub use error::{DomainError, Entity};
pub use idempotency::{Claim, IdempotencyKey, StoredResponse};
pub use identity::{
    otp_hash, otp_lifetime, AppUsageDay, Identity, IdentityStatus, NewIdentity, NewSeal,
    OtpPurpose, Seal, SignedDocument, LOCK_AFTER_WRONG_PASSPHRASES,
};
pub use ids::{
    uuid_v4, ApiTokenId, AppCredentialId, BlobId, ContactId, EnvelopeDocumentId, EnvelopeId,
    FieldId, GatewayAppId, GroupId, IdentityId, JobId, MailId, OrgId, RecipientId, SealId,
    TokenFamilyId, UserId, WebhookDeliveryId, WebhookEndpointId,
};
pub use job::{FailOutcome, Job, JobStatus, NewJob, RetryPolicy};
pub use org::{
    usage_period, KeyAlgorithm, NewOrganisation, OrgName, Organisation, Plan, QuotaKind, Quotas,
    RateLimits, SignatureLevel, SigningProfile, Slug, Usage,
};
pub use outbox::{
    Mail, MailStatus, NewMail, NewWebhookDelivery, NewWebhookEndpoint, WebhookDelivery,
    WebhookEndpoint,
};
pub use ratelimit::{RateDecision, RateWindow};
pub use user::{
    Capability, Contact, Email, Group, NewContact, NewUser, Nik, PersonName, Role, User,
    UserProfile, USER_LANGUAGES,
};
