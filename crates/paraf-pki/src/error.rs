//! The one error type of this crate: a [`PkiErrorKind`] to branch on and a one-line message.

use std::fmt;

/// What kind of failure a [`PkiError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PkiErrorKind {
    /// A password or passphrase did not open the protected data.
    BadPassword,
    /// Input bytes are not the structure they should be (bad DER, truncated, wrong magic).
    Malformed,
    /// A certificate serial number this CA never issued.
    UnknownSerial,
    /// A well-formed input asks for something this crate does not implement.
    Unsupported,
    /// Reading or writing a file failed.
    Io,
    /// A cryptographic operation failed or a signature does not verify.
    Crypto,
    /// Something looked up (a file, a key on a token, a matching certificate) is not there.
    NotFound,
    /// A caller-supplied value is out of range or inconsistent (bad NIK, digest length, ...).
    InvalidInput,
    /// A PKCS#11 module or token reported an error.
    Token,
    /// Encoding a structure to DER failed (a value did not fit its ASN.1 type).
    Encoding,
    /// A remote service (TSA, OCSP responder) answered with a refusal status.
    Rejected,
}

impl fmt::Display for PkiErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            PkiErrorKind::BadPassword => "bad password",
            PkiErrorKind::Malformed => "malformed input",
            PkiErrorKind::UnknownSerial => "unknown serial",
            PkiErrorKind::Unsupported => "unsupported",
            PkiErrorKind::Io => "i/o error",
            PkiErrorKind::Crypto => "cryptographic failure",
            PkiErrorKind::NotFound => "not found",
            PkiErrorKind::InvalidInput => "invalid input",
            PkiErrorKind::Token => "token error",
            PkiErrorKind::Encoding => "encoding error",
            PkiErrorKind::Rejected => "rejected",
        };
        f.write_str(s)
    }
}

/// An error from this crate: [`PkiError::kind`] says what class of failure, the message says
/// in one line what is wrong and where.
#[derive(Debug)]
pub struct PkiError {
    kind: PkiErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `Result` with [`PkiError`].
pub type Result<T, E = PkiError> = std::result::Result<T, E>;

impl PkiError {
    /// A new error of `kind` with a one-line `message`.
    pub fn new(kind: PkiErrorKind, message: impl Into<String>) -> Self {
        PkiError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the lower-level cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The class of failure.
    pub fn kind(&self) -> PkiErrorKind {
        self.kind
    }

    /// The one-line description.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Self::new(PkiErrorKind::Malformed, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(PkiErrorKind::InvalidInput, message)
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Self::new(PkiErrorKind::Unsupported, message)
    }

    pub(crate) fn crypto(message: impl Into<String>) -> Self {
        Self::new(PkiErrorKind::Crypto, message)
    }

    pub(crate) fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        let kind = if err.kind() == std::io::ErrorKind::NotFound {
            PkiErrorKind::NotFound
        } else {
            PkiErrorKind::Io
        };
        Self::new(kind, format!("{what}: {err}")).with_source(err)
    }
}

impl fmt::Display for PkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for PkiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Maps a DER decoding error to [`PkiErrorKind::Malformed`], naming what was being decoded.
pub(crate) fn decode_err(what: &'static str) -> impl FnOnce(der::Error) -> PkiError {
    move |e| PkiError::malformed(format!("cannot decode {what}: {e}")).with_source(e)
}

/// Maps a DER encoding error to [`PkiErrorKind::Encoding`], naming what was being encoded.
pub(crate) fn encode_err(what: &'static str) -> impl FnOnce(der::Error) -> PkiError {
    move |e| {
        PkiError::new(PkiErrorKind::Encoding, format!("cannot encode {what}: {e}")).with_source(e)
    }
}
