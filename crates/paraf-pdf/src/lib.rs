//! PDF syntax: a lazy, tolerant reader of real-world PDFs and an incremental-update writer.
//!
//! The reader parses only what it is asked for: the cross-reference sections (tables, streams,
//! hybrid files, several revisions, recovery by scanning when they are broken) and then objects on
//! demand. This is why we do not build on `lopdf`, which parses every object of the file eagerly:
//! signing a 20 MB file must cost little more than hashing it.

pub mod content;
pub mod crypt;
pub mod document;
pub mod error;
pub mod filter;
pub mod font;
pub mod object;
pub mod parser;
pub mod text;
pub mod writer;
pub mod xref;

pub use document::{Document, Page};
pub use error::{ErrorKind, PdfError, Result};
pub use object::{Dict, ObjRef, Object, PdfString, Stream};
pub use writer::{AppendedUpdate, IncrementalUpdate};
