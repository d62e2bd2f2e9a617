//! The error type of the PDF layer: a `kind` callers can match on and a one-line message.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bytes are not a PDF at all (no header, nothing recoverable).
    NotPdf,
    /// Syntax we cannot read, even with recovery.
    Syntax,
    /// An object that should exist is missing or has the wrong type.
    Structure,
    /// The file is encrypted and the password is missing or wrong.
    BadPassword,
    /// A feature we do not implement (say, a non-standard security handler).
    Unsupported,
    /// A caller asked for something the document cannot give (page out of range…).
    InvalidInput,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdfError {
    pub kind: ErrorKind,
    pub message: String,
    /// Byte offset in the file where the problem was found, when known.
    pub offset: Option<usize>,
}

impl PdfError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            offset: None,
        }
    }
    pub fn at(kind: ErrorKind, offset: usize, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            offset: Some(offset),
        }
    }
    pub fn syntax(offset: usize, message: impl Into<String>) -> Self {
        Self::at(ErrorKind::Syntax, offset, message)
    }
    pub fn structure(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Structure, message)
    }
}

impl fmt::Display for PdfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{} (at byte {o})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for PdfError {}

pub type Result<T, E = PdfError> = std::result::Result<T, E>;
