//! PAdES signature validation: one validator for the CLI and every verify endpoint.
//!
//! [`verify`] (or [`verify_document`] on an opened [`Document`]) returns a
//! [`ValidationReport`]: per signature its integrity (byte range found by parsing the
//! signature dictionary where its own revision puts it, digest, CMS, signed attributes), what
//! changed after it (a whitelist of what later signatures, DSS, document timestamps and
//! DocMDP-permitted form filling may touch), trust (chain to the configured anchors, revocation
//! from the DSS, the CMS or a live [`RevocationSource`], time-stamps) and an ETSI EN 319 102-1
//! conclusion. The whole report is always produced: checks never stop at the first failure.
//!
//! Synchronous, no I/O, no clock: the validation time and any network access come from the
//! caller through [`VerifyOptions`].

mod certinfo;
mod cms_check;
mod crypto;
mod der_walk;
mod diff;
mod render;
pub mod report;
mod revision;
mod sigdict;
pub mod time;
mod trust;
mod validate;

use std::time::SystemTime;

use paraf_pdf::{Document, ErrorKind};
use paraf_pki::RevocationSource;
use x509_cert::Certificate;

pub use report::{
    CertificateInfo, Change, DocumentInfo, Indication, IntegrityReport, ModificationLevel,
    ModificationReport, Problem, RevocationCheck, SignatureKind, SignatureReport, SubIndication,
    TimestampReport, TrustReport, ValidationReport, VisibleChange,
};

/// How to validate.
#[derive(Clone)]
pub struct VerifyOptions<'a> {
    /// The time the validation is made at ("now"): expiry and revocation freshness are judged
    /// against it when no trusted time-stamp proves an earlier time.
    pub validation_time: SystemTime,
    /// Trust anchors. Nothing is trusted by default: with none, every chain is
    /// `NO_CERTIFICATE_CHAIN_FOUND` (the server passes its CA root; the CLI takes `--trust`).
    pub trust_anchors: Vec<Certificate>,
    /// Where to fetch revocation information that the document does not carry. `None`: only
    /// embedded evidence (DSS, CMS) is used.
    pub revocation: Option<&'a dyn RevocationSource>,
    /// Also compute the SHA-256 of the whole file for the report (costs one pass over it).
    pub file_digest: bool,
    /// How missing revocation information counts (default: soft).
    pub revocation_policy: RevocationPolicy,
    /// Render each signed revision that later revisions changed beyond DSS and document
    /// timestamps, and the final file, and compare what they show (default: on; see
    /// `render.rs`). Off, only the structural analysis judges later changes.
    pub render_compare: bool,
}

/// How missing revocation information counts, per certificate of a chain below its anchor.
///
/// - `Soft` (the default, as pyHanko's and Adobe's): a certificate that names no CRL
///   distribution point and no OCSP responder has nothing to check: it passes, with a warning
///   in the report. One that names them but whose information is neither in the document nor
///   fetched (`--online`) is `INDETERMINATE` / `TRY_LATER`.
/// - `Hard`: any certificate without usable revocation information is `INDETERMINATE` /
///   `TRY_LATER`.
/// - `Off`: revocation is not checked at all (each certificate says so in the report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RevocationPolicy {
    #[default]
    Soft,
    Hard,
    Off,
}

impl RevocationPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationPolicy::Soft => "soft",
            RevocationPolicy::Hard => "hard",
            RevocationPolicy::Off => "off",
        }
    }
}

impl std::str::FromStr for RevocationPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "soft" => Ok(RevocationPolicy::Soft),
            "hard" => Ok(RevocationPolicy::Hard),
            "off" => Ok(RevocationPolicy::Off),
            other => Err(format!(
                "revocation policy {other:?}: expected soft, hard or off"
            )),
        }
    }
}

impl<'a> VerifyOptions<'a> {
    /// Validation at `validation_time`, no trust anchor, no live revocation, no file digest.
    pub fn new(validation_time: SystemTime) -> Self {
        VerifyOptions {
            validation_time,
            trust_anchors: Vec::new(),
            revocation: None,
            file_digest: false,
            revocation_policy: RevocationPolicy::Soft,
            render_compare: true,
        }
    }
}

/// Why a file could not be validated at all (a report exists for anything readable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyErrorKind {
    /// Not a PDF, or nothing in it can be read.
    Unreadable,
    /// The file ends before its end: no `%%EOF` in its last kilobyte.
    Truncated,
    /// Encrypted, and the password is missing or wrong.
    BadPassword,
}

/// The input could not be read as a PDF.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct VerifyError {
    pub kind: VerifyErrorKind,
    pub message: String,
    /// The PDF layer's own error when loading failed, for callers that word their replies
    /// themselves.
    pub pdf: Option<paraf_pdf::PdfError>,
}

/// Why `doc` should not be handed to a renderer without limits (hayro), if it should not: a
/// stream inflating beyond 64 MB, an image over 50 megapixels, too many objects. The render
/// comparison checks this first; so should anything else that renders untrusted PDFs.
pub fn render_refusal(doc: &Document) -> Option<String> {
    render::refusal(doc)
}

/// Opens `pdf` (with `password` if it is encrypted) and validates it.
pub fn verify(
    pdf: Vec<u8>,
    password: Option<&[u8]>,
    opts: &VerifyOptions<'_>,
) -> Result<ValidationReport, VerifyError> {
    let doc = open(pdf, password)?;
    Ok(verify_document(&doc, opts))
}

/// Opens `pdf` for [`verify_document`]: refuses a truncated file (a PDF header but no
/// `%%EOF` in its last kilobyte), then loads it. Callers that need the bytes afterwards
/// (`Document::into_data`) use this and [`verify_document`] instead of [`verify`].
pub fn open(pdf: Vec<u8>, password: Option<&[u8]>) -> Result<Document, VerifyError> {
    let tail = pdf.get(pdf.len().saturating_sub(1024)..).unwrap_or(&[]);
    let has_header = pdf
        .get(..1024.min(pdf.len()))
        .is_some_and(|h| revision::memfind(h, b"%PDF-").is_some());
    if has_header && revision::memfind(tail, b"%%EOF").is_none() {
        return Err(VerifyError {
            kind: VerifyErrorKind::Truncated,
            message: format!(
                "the file is truncated: no %%EOF marker at its end ({} bytes)",
                pdf.len()
            ),
            pdf: None,
        });
    }
    Document::load(pdf, password).map_err(|e| VerifyError {
        kind: match e.kind {
            ErrorKind::BadPassword => VerifyErrorKind::BadPassword,
            _ => VerifyErrorKind::Unreadable,
        },
        message: match e.kind {
            ErrorKind::BadPassword => {
                format!("the file is encrypted and the password is missing or wrong ({e})")
            }
            ErrorKind::NotPdf => format!("not a PDF file: {e}"),
            _ => format!("the PDF cannot be read: {e}"),
        },
        pdf: Some(e),
    })
}

/// Validates an opened document.
pub fn verify_document(doc: &Document, opts: &VerifyOptions<'_>) -> ValidationReport {
    validate::run(doc, opts)
}

/// Reads trust anchors from PEM (one or several certificates) or DER bytes.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        paraf_pki::x509::certs_from_pem(bytes).map_err(|e| e.message().to_string())
    } else {
        paraf_pki::x509::cert_from_der(bytes)
            .map(|c| vec![c])
            .map_err(|e| e.message().to_string())
    }
}

/// Decodes a CMS `SignedData` blob and checks its structure without a document (for fuzzing and
/// diagnostics): returns whether it decoded and how many certificates it carries.
pub fn inspect_cms(blob: &[u8]) -> (bool, usize) {
    let c = cms_check::check(blob, cms_check::Content::Encapsulated, &[]);
    (c.decoded, c.certs.len())
}

/// Entry points for fuzzers (`fuzz/`) and the deterministic mutation test: whatever the bytes,
/// these return without panicking.
pub mod fuzzing {
    use std::time::{Duration, UNIX_EPOCH};

    use paraf_pdf::{Document, ObjRef};
    use x509_cert::Certificate;

    use crate::VerifyOptions;

    /// The whole validator on arbitrary bytes, trusting `anchors`.
    pub fn verify_with_anchors(data: &[u8], anchors: &[Certificate]) {
        let mut opts = VerifyOptions::new(UNIX_EPOCH + Duration::from_secs(1_780_272_000));
        opts.trust_anchors = anchors.to_vec();
        if let Ok(r) = crate::verify(data.to_vec(), None, &opts) {
            let _ = r.to_json_pretty();
        }
    }

    /// The whole validator on arbitrary bytes, without trust anchors.
    pub fn verify(data: &[u8]) {
        verify_with_anchors(data, &[]);
    }

    /// The PDF layer: load, walk the pages, read every object the cross-reference lists.
    pub fn pdf_parse(data: &[u8]) {
        let Ok(doc) = Document::load(data.to_vec(), None) else {
            return;
        };
        let _ = doc.pages();
        let _ = doc.revision_ends();
        let nums: Vec<(u32, u16)> = doc
            .xref()
            .entries
            .iter()
            .take(20_000)
            .map(|(n, e)| match e {
                paraf_pdf::xref::XrefEntry::InFile { gen, .. } => (*n, *gen),
                _ => (*n, 0),
            })
            .collect();
        for (n, g) in nums {
            if let Ok(o) = doc.get(ObjRef::new(n, g)) {
                if let Some(s) = o.as_stream() {
                    let _ = doc.decode_stream(s);
                }
            }
        }
    }

    /// CMS decoding: DER and BER `SignedData`, attributes, certificates.
    pub fn cms_decode(data: &[u8]) {
        let _ = crate::inspect_cms(data);
        let _ = crate::der_walk::ber_to_der(data);
        let _ = crate::der_walk::signed_attrs_and_signature(data);
    }
}
