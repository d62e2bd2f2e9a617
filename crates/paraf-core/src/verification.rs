//! Verification with the built-in CA: the validator (`paraf_verify`) with the CA's root as the
//! only trust anchor, the injected clock as the validation time and the CA itself as the live
//! revocation source ([`LiveCa`]). Every face's verify endpoint calls [`Core::verify_pdf`] and
//! maps the [`ValidationReport`] to its own shape.

use std::sync::Arc;
use std::time::SystemTime;

use paraf_pki::asn1::x509_cert::Certificate;
use paraf_pki::ca::{AnsweringAt, CertificateAuthority};
use paraf_pki::RevocationSource;
use paraf_verify::{ValidationReport, VerifyError, VerifyOptions};

use crate::error::CoreError;
use crate::Core;

/// The built-in CA as a live revocation source answering at a given time (the request's
/// injected "now"), for certificates it issued: OCSP from its responder, CRLs of its CAs (the
/// root and every issuing CA generation), and its CA certificates as issuers.
pub struct LiveCa {
    ca: Arc<CertificateAuthority>,
    now: SystemTime,
}

impl LiveCa {
    /// `ca` answering as of `now`.
    pub fn new(ca: Arc<CertificateAuthority>, now: SystemTime) -> Self {
        LiveCa { ca, now }
    }

    fn answering(&self) -> AnsweringAt<'_> {
        AnsweringAt {
            ca: &self.ca,
            now: self.now,
        }
    }
}

impl RevocationSource for LiveCa {
    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> paraf_pki::Result<Option<Vec<u8>>> {
        self.answering().ocsp(cert, issuer)
    }

    fn crls(&self, cert: &Certificate) -> paraf_pki::Result<Vec<Vec<u8>>> {
        self.answering().crls(cert)
    }

    fn issuer(&self, cert: &Certificate) -> paraf_pki::Result<Option<Certificate>> {
        self.answering().issuer(cert)
    }
}

/// The validator's options for a request: the CA's root as the only anchor, `now`, and `live`.
pub fn options<'a>(
    ca: &CertificateAuthority,
    now: SystemTime,
    live: &'a LiveCa,
) -> VerifyOptions<'a> {
    let mut opts = VerifyOptions::new(now);
    opts.trust_anchors = vec![ca.root_cert().clone()];
    opts.revocation = Some(live);
    opts
}

/// A validated file: the report and the bytes it speaks about.
pub struct Verified {
    /// The validator's report.
    pub report: ValidationReport,
    /// The file (its CMS and byte ranges are what the report points at).
    pub pdf: Vec<u8>,
}

/// Why a file could not be validated at all.
#[derive(Debug)]
pub enum VerificationError {
    /// Not a PDF, truncated, wrong password… (`size` bytes were given).
    Unreadable { error: VerifyError, size: usize },
    /// Infrastructure (the CA could not be opened, a task failed).
    Core(CoreError),
}

impl Core {
    /// Validates `pdf` on the blocking pool: `paraf_verify::open` then `verify_document`, so
    /// the bytes come back for the CMS and digest fields without a copy.
    pub async fn verify_pdf(
        &self,
        pdf: Vec<u8>,
        password: Option<String>,
    ) -> Result<Verified, VerificationError> {
        self.verify_pdf_with(pdf, password, None).await
    }

    /// [`Core::verify_pdf`] with a revocation policy of the request's (`None`: the
    /// configuration's `verify_revocation`).
    pub async fn verify_pdf_with(
        &self,
        pdf: Vec<u8>,
        password: Option<String>,
        policy: Option<paraf_verify::RevocationPolicy>,
    ) -> Result<Verified, VerificationError> {
        let pki = self.pki.clone();
        let now: SystemTime = self.now().into();
        let policy = policy.unwrap_or(self.config.verify_revocation);
        tokio::task::spawn_blocking(move || {
            let size = pdf.len();
            let doc = paraf_verify::open(pdf, password.as_deref().map(str::as_bytes))
                .map_err(|error| VerificationError::Unreadable { error, size })?;
            let ca = pki
                .current()
                .map_err(|e| VerificationError::Core(e.into()))?;
            let live = LiveCa::new(ca.clone(), now);
            let mut opts = options(&ca, now, &live);
            opts.revocation_policy = policy;
            let report = paraf_verify::verify_document(&doc, &opts);
            Ok(Verified {
                report,
                pdf: doc.into_data(),
            })
        })
        .await
        .map_err(|e| VerificationError::Core(e.into()))?
    }
}
