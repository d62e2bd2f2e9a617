//! Typed identifiers: database row ids wrapped so an `OrgId` is never passed as a `UserId`,
//! and the SHA-256 content address of a blob.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

macro_rules! row_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )*};
}

row_id!(
    /// An organisation (tenant).
    OrgId,
    /// A user (person or robot) of one organisation.
    UserId,
    /// A group of users of one organisation.
    GroupId,
    /// An address-book contact of one organisation.
    ContactId,
    /// A named API token.
    ApiTokenId,
    /// A Basic-auth application credential.
    AppCredentialId,
    /// A family of chained tokens (OAuth2 grant, seed-004 chain, console session).
    TokenFamilyId,
    /// A seed-004 client system (`x-app-key` + private key).
    GatewayAppId,
    /// A background job.
    JobId,
    /// A mail in the outbox.
    MailId,
    /// A webhook endpoint configured by an organisation.
    WebhookEndpointId,
    /// One attempt to deliver a webhook.
    WebhookDeliveryId,
    /// A signing identity (certificate + key) of one organisation (BSrE's user).
    IdentityId,
    /// An organisation seal (BSrE's `idSubscriber`).
    SealId,
    /// An envelope: documents sent to recipients for signing.
    EnvelopeId,
    /// A document of an envelope.
    EnvelopeDocumentId,
    /// A recipient of an envelope.
    RecipientId,
    /// A field placed on a document of an envelope.
    FieldId,
);

/// A random (version 4) UUID, `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`, from 16 random bytes.
pub fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The content address of a blob: lower-case hex SHA-256 of its bytes (64 characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobId(String);

impl BlobId {
    /// The id of these bytes.
    pub fn of(bytes: &[u8]) -> BlobId {
        use sha2::Digest;
        BlobId(hex::encode(sha2::Sha256::digest(bytes)))
    }

    /// Accepts 64 hex digits (either case; stored lower-case).
    pub fn parse(s: &str) -> Result<BlobId, DomainError> {
        let s = s.trim();
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(BlobId(s.to_ascii_lowercase()))
        } else {
            Err(DomainError::invalid(
                "blob id",
                "expected 64 hexadecimal digits (SHA-256)",
            ))
        }
    }
}

parsed_string!(BlobId);
