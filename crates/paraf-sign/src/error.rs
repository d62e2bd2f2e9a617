//! Errors of the signing engine: a `kind` to match on and a one-line message for people.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignErrorKind {
    /// The input PDF cannot be read (not a PDF, truncated beyond recovery, wrong password…).
    Pdf,
    /// The caller asked for something impossible: page out of range, tag not found, bad field…
    InvalidRequest,
    /// The signing certificate cannot be used now (expired, not yet valid, revoked).
    Certificate,
    /// The document's own rules forbid this signature (certified with no changes allowed…).
    NotPermitted,
    /// The timestamp authority or a revocation source failed.
    Service,
    /// Key or CMS operation failed.
    Crypto,
    /// Appearance content (image, QR) could not be built.
    Appearance,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignError {
    pub kind: SignErrorKind,
    pub message: String,
}

impl SignError {
    pub fn new(kind: SignErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(SignErrorKind::InvalidRequest, message)
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SignError {}

impl From<paraf_pdf::PdfError> for SignError {
    fn from(e: paraf_pdf::PdfError) -> Self {
        let kind = match e.kind {
            paraf_pdf::ErrorKind::InvalidInput => SignErrorKind::InvalidRequest,
            _ => SignErrorKind::Pdf,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<paraf_pki::PkiError> for SignError {
    fn from(e: paraf_pki::PkiError) -> Self {
        Self::new(SignErrorKind::Crypto, e.to_string())
    }
}

pub type Result<T, E = SignError> = std::result::Result<T, E>;
