//! Renewing the archive timestamp of a B-LTA document (ETSI EN 319 142-1 §5.5: "PAdES-B-LTA
//! … may be repeatedly applied"): before the newest document timestamp's TSA certificate
//! expires (or its algorithms weaken), a DSS update adds the validation data of every
//! signature and timestamp — the newest timestamp's TSA chain among them, with OCSP responses
//! and CRLs — and a new document timestamp covers it all.
//! Each renewal appends: earlier signatures and timestamps stay as they are. The new
//! timestamp's own validation data (its TSA chain with OCSP responses and CRLs) is in the file
//! too, so that a validator without network access can validate it — which matters when the
//! TSA is new (after a CA renewal) and nothing earlier in the file names it: under the new
//! timestamp when the TSA's certificates are known beforehand (a local TSA), else in a last
//! DSS update after it.

use std::time::SystemTime;

use paraf_pdf::{Document, Object};
use paraf_pki::asn1::cms_types::cert::CertificateChoices;
use x509_cert::Certificate;

use crate::error::{Result, SignError, SignErrorKind};
use crate::fields;
use crate::pades::{add_dss_at, document_timestamp, timestamp_certificates, trim_trailing_zeros};
use crate::Services;

/// One signature dictionary of the document, newest last.
struct Sig {
    doc_timestamp: bool,
    contents: Vec<u8>,
}

fn signatures(doc: &Document) -> Result<Vec<Sig>> {
    Ok(fields::signature_dicts(doc)?
        .into_iter()
        .filter_map(|d| {
            let contents = d
                .get("Contents")
                .and_then(Object::as_string)
                .map(trim_trailing_zeros)?;
            let doc_timestamp = d.get("Type").and_then(Object::as_name)
                == Some(&b"DocTimeStamp"[..])
                || d.get("SubFilter").and_then(Object::as_name) == Some(&b"ETSI.RFC3161"[..]);
            Some(Sig {
                doc_timestamp,
                contents,
            })
        })
        .collect())
}

/// When the newest document timestamp's TSA certificate stops being valid: the archive must be
/// renewed before then. `None`: the document has no document timestamp whose signature and
/// certificate could be read (not B-LTA).
pub fn archive_expiry(doc: &Document) -> Result<Option<SystemTime>> {
    let newest = signatures(doc)?.into_iter().rev().find(|s| s.doc_timestamp);
    Ok(newest.and_then(|s| {
        paraf_pki::cms::verify_signed_data(&s.contents, None)
            .ok()
            .map(|tsa| tsa.tbs_certificate.validity.not_after.to_system_time())
    }))
}

/// Every certificate a CMS SignedData carries.
fn carried_certificates(cms: &[u8]) -> Vec<Certificate> {
    paraf_pki::cms::parse_signed_data(cms)
        .ok()
        .and_then(|sd| sd.certificates)
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c.clone()),
                    CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Renews the archive: a DSS update with the validation data of every signature and document
/// timestamp (the certificates they carry, their timestamps', and revocation information from
/// `services.revocation` for those still valid at `at`, the renewal's time), then a new
/// document timestamp from
/// `services.timestamper` — its TSA's validation data under it when the timestamper names its
/// certificates, else in a DSS update after it (left out when the revocation source has none
/// for it: a validator fetches it then). Returns the whole
/// new file. A document without any signature is refused: there is nothing to preserve.
pub fn renew_archive(doc: &Document, services: Services<'_>, at: SystemTime) -> Result<Vec<u8>> {
    let (Some(ts), Some(revocation)) = (services.timestamper, services.revocation) else {
        return Err(SignError::invalid(
            "renewing an archive timestamp needs a timestamp authority and a source of revocation information",
        ));
    };
    if doc.xref().recovered {
        return Err(SignError::new(
            SignErrorKind::Pdf,
            "the file is damaged (its cross-reference table is broken): it cannot be extended",
        ));
    }
    let sigs = signatures(doc)?;
    if sigs.is_empty() {
        return Err(SignError::invalid(
            "the document has no signature or timestamp to preserve",
        ));
    }
    // Every signature's and timestamp's chain (the DSS already holds some of it: `add_dss`
    // keeps what is there and adds fresh revocation information for all).
    let mut certs = Vec::new();
    for s in &sigs {
        certs.extend(carried_certificates(&s.contents));
        if !s.doc_timestamp {
            certs.extend(timestamp_certificates(&s.contents).unwrap_or_default());
        }
    }
    // The new TSA's too when known (after a CA renewal nothing earlier names it): the new
    // timestamp then proves its validation data existed, and no DSS after it is needed.
    let tsa_chain = ts.certificates();
    let tsa_known = !tsa_chain.is_empty();
    certs.extend(tsa_chain);
    let with_dss = add_dss_at(doc, &certs, revocation, Some(at))?;
    let with_dss = Document::load(with_dss, Some(doc.password())).map_err(|e| {
        SignError::new(
            SignErrorKind::Pdf,
            format!("internal: the extended file could not be read back: {e}"),
        )
    })?;
    let stamped = document_timestamp(&with_dss, ts)?;
    if tsa_known {
        return Ok(stamped);
    }
    let stamped = Document::load(stamped, Some(doc.password())).map_err(|e| {
        SignError::new(
            SignErrorKind::Pdf,
            format!("internal: the timestamped file could not be read back: {e}"),
        )
    })?;
    let newest = signatures(&stamped)?
        .pop()
        .map(|s| carried_certificates(&s.contents))
        .unwrap_or_default();
    match add_dss_at(&stamped, &newest, revocation, Some(at)) {
        Ok(with_own) => Ok(with_own),
        // No revocation information for the new TSA (one without pointers, or unreachable):
        // the file is complete without it; validators fetch it.
        Err(e) if e.kind == SignErrorKind::Service => Ok(stamped.into_data()),
        Err(e) => Err(e),
    }
}
