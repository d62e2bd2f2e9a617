//! [`CoreError`]: every way a core service can refuse or fail. Faces map it to their own
//! error bodies (BSrE codes, the console's messages, the CLI's one line); `match` without a
//! wildcard makes each face decide each case.
//!
//! **Invariant:** [`CoreError::Internal`] text may name internals (SQL, paths): faces log it
//! and answer a generic 500; every other variant is safe to show.

use paraf_domain::{DomainError, IdentityStatus};

/// Why a signing request cannot be done with this document (the PDF or the request's
/// placement), as opposed to the signer's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentRefusal {
    /// Not a PDF, or unreadable; `field` is the request's name for the file.
    NotAPdf { field: String, detail: String },
    /// The PDF is encrypted and the password is missing or wrong.
    WrongPdfPassword { field: String, detail: String },
    /// A placement names a page the document does not have.
    PageOutOfRange { page: usize, pages: usize },
    /// A placement names a text tag the document does not contain.
    TagNotFound { tag: String },
    /// The signature image could not be used.
    InvalidImage { detail: String },
    /// The engine refused (certified document, bad field…).
    CannotSign { detail: String },
}

/// Why the signer may not use their key now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRefusal {
    /// No identity with that NIK or e-mail in the organisation.
    NotRegistered,
    /// The certificate has expired.
    CertificateExpired,
    /// The certificate is revoked.
    CertificateRevoked,
    /// Locked after too many wrong passphrases, until `until` (`attempts` is the setting).
    Locked { until: String, attempts: u32 },
    /// Suspended by an administrator.
    Suspended,
    /// Any other status that cannot sign (`NEW`, `NO_CERTIFICATE`…).
    CannotSign { status: String },
    /// Wrong passphrase; `remaining` tries before the lock.
    WrongPassphrase { remaining: u32 },
    /// The identity did not opt in to one-time codes.
    CodesNotEnabled,
    /// The one-time code is wrong, expired, spent or too small for the request.
    InvalidCode,
    /// The organisation seal has no live activation.
    SealNotActivated,
}

/// A core service's refusal or failure.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A domain rule refused (invalid field, not found, already exists, unauthenticated,
    /// forbidden, rate limited, quota, conflict).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The operation does not fit the identity's current status.
    #[error("not possible while the status is {status}: {what}")]
    WrongStatus {
        status: IdentityStatus,
        what: &'static str,
    },
    /// The document or the placement.
    #[error("document refused: {0:?}")]
    Document(DocumentRefusal),
    /// The signer's key may not be used.
    #[error("key refused: {0:?}")]
    Key(KeyRefusal),
    /// The organisation has no credit left for this request.
    #[error("no credits left")]
    NoCredits,
    /// Infrastructure (database, CA files, a blocking task): log it, never show it.
    #[error("internal: {0}")]
    Internal(String),
}

impl CoreError {
    /// Shorthand for an invalid field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        CoreError::Domain(DomainError::invalid(field, reason))
    }

    /// Shorthand for an internal failure.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        CoreError::Internal(what.to_string())
    }

    /// The domain refusal, if this is one.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            CoreError::Domain(d) => Some(d),
            _ => None,
        }
    }

    /// Whether this is a `NotFound`.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CoreError::Domain(DomainError::NotFound { .. }))
    }

    /// Which credential check refused, if this is an authentication refusal.
    pub fn auth_failure(&self) -> Option<paraf_domain::AuthFailure> {
        match self {
            CoreError::Domain(DomainError::Unauthenticated(f)) => Some(*f),
            _ => None,
        }
    }
}

impl From<paraf_store::StoreError> for CoreError {
    fn from(e: paraf_store::StoreError) -> Self {
        match e {
            paraf_store::StoreError::Domain(d) => CoreError::Domain(d),
            other => CoreError::Internal(other.to_string()),
        }
    }
}

impl From<paraf_pki::PkiError> for CoreError {
    fn from(e: paraf_pki::PkiError) -> Self {
        CoreError::Internal(format!("certificate authority: {e}"))
    }
}

impl From<tokio::task::JoinError> for CoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        CoreError::Internal(format!("blocking task: {e}"))
    }
}
