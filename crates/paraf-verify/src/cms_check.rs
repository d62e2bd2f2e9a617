//! Checking a CMS `SignedData` (RFC 5652 §5) as PAdES needs it, with every finding kept apart:
//! undecodable structure (FORMAT_FAILURE), message-digest mismatch (HASH_FAILURE), signature
//! value (SIG_CRYPTO_FAILURE), signed attributes missing or inconsistent, the signing
//! certificate not identified (ESS signing-certificate(-v2), RFC 5035).
//!
//! The signed attributes are verified as the bytes that were signed, not re-encoded.

use std::time::SystemTime;

use cms::cert::CertificateChoices;
use cms::revocation::RevocationInfoChoice;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Any, Encode};
use x509_cert::Certificate;

use paraf_pki::oids;

use crate::crypto::{self, Digest};
use crate::der_walk;
use crate::report::{Problem, SubIndication};

/// ESS signing-certificate (v1, SHA-1 hashes; RFC 2634).
const SIGNING_CERTIFICATE_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// Adobe's revocation archival signed attribute.
const ADBE_REVOCATION_INFO_ARCHIVAL: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");

/// What the content digest is checked against.
pub enum Content<'a> {
    /// A detached signature over `ranges` of `data` (a PDF `/ByteRange`).
    Detached {
        data: &'a [u8],
        ranges: &'a [(usize, usize)],
    },
    /// The content is the eContent (time-stamp tokens).
    Encapsulated,
}

/// Everything learnt from one `SignedData`.
#[derive(Default)]
pub struct CmsCheck {
    /// The structure decoded.
    pub decoded: bool,
    pub signer_cert: Option<Certificate>,
    /// Certificates carried in the `SignedData`.
    pub certs: Vec<Certificate>,
    pub digest: Option<Digest>,
    pub digest_name: Option<String>,
    pub scheme: Option<String>,
    pub digest_ok: bool,
    pub signature_ok: bool,
    pub attrs_ok: bool,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
    /// The signing-time signed attribute.
    pub signing_time: Option<SystemTime>,
    /// The signature time-stamp token (unsigned attribute), DER.
    pub timestamp_token: Option<Vec<u8>>,
    /// The SignerInfo's signature value (what a signature time-stamp covers).
    pub signature_value: Vec<u8>,
    /// OCSP responses and CRLs carried in the CMS (adbe-revocationInfoArchival, `crls`).
    pub ocsps: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    /// eContent, when encapsulated.
    pub econtent: Option<(ObjectIdentifier, Vec<u8>)>,
}

impl CmsCheck {
    fn problem(&mut self, sub: SubIndication, msg: impl Into<String>) {
        self.problems.push(Problem::new(sub, msg));
    }
}

/// Checks `blob` (a ContentInfo DER, possibly followed by zero padding).
pub fn check(blob: &[u8], content: Content<'_>, extra_certs: &[Certificate]) -> CmsCheck {
    let mut out = CmsCheck::default();
    let der_len = der_walk::outer_len(blob).unwrap_or(blob.len());
    let Some(der_bytes) = blob.get(..der_len) else {
        out.problem(SubIndication::FormatFailure, "the CMS blob is truncated");
        return out;
    };
    let converted;
    let (der_bytes, parsed) = match paraf_pki::cms::parse_signed_data(der_bytes) {
        Ok(sd) => (der_bytes, Ok(sd)),
        Err(e) => match der_walk::ber_to_der(blob) {
            // BER (indefinite lengths) is common in older signatures: read it as DER.
            Some(d) => {
                converted = d;
                let p = paraf_pki::cms::parse_signed_data(&converted).map_err(|_| e);
                (converted.as_slice(), p)
            }
            None => (der_bytes, Err(e)),
        },
    };
    let sd = match parsed {
        Ok(sd) => sd,
        Err(e) => {
            out.problem(
                SubIndication::FormatFailure,
                format!("/Contents is not a CMS SignedData: {}", e.message()),
            );
            return out;
        }
    };
    out.decoded = true;
    check_signed_data(&mut out, der_bytes, &sd, content, extra_certs);
    out
}

fn check_signed_data(
    out: &mut CmsCheck,
    der_bytes: &[u8],
    sd: &SignedData,
    content: Content<'_>,
    extra_certs: &[Certificate],
) {
    out.certs = sd
        .certificates
        .as_ref()
        .map(|s| {
            s.0.iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c.clone()),
                    CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(crls) = &sd.crls {
        for c in crls.0.iter() {
            if let RevocationInfoChoice::Crl(crl) = c {
                if let Ok(d) = crl.to_der() {
                    out.crls.push(d);
                }
            }
        }
    }
    let n_signers = sd.signer_infos.0.len();
    let Some(si) = sd.signer_infos.0.iter().next() else {
        out.problem(
            SubIndication::FormatFailure,
            "the SignedData has no SignerInfo",
        );
        return;
    };
    if n_signers > 1 {
        out.problem(
            SubIndication::FormatFailure,
            format!("the SignedData has {n_signers} SignerInfos; a PDF signature has exactly one"),
        );
    }
    if let Some(econtent) = &sd.encap_content_info.econtent {
        match econtent.decode_as::<OctetString>() {
            Ok(os) => {
                out.econtent = Some((sd.encap_content_info.econtent_type, os.into_bytes()));
            }
            Err(e) => out.problem(SubIndication::FormatFailure, format!("eContent: {e}")),
        }
    }

    // The signer's certificate.
    let pool: Vec<&Certificate> = out.certs.iter().chain(extra_certs.iter()).collect();
    let signer = match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => pool
            .iter()
            .find(|c| {
                c.tbs_certificate.issuer == ias.issuer
                    && c.tbs_certificate.serial_number == ias.serial_number
            })
            .map(|c| (*c).clone()),
        SignerIdentifier::SubjectKeyIdentifier(ski) => pool
            .iter()
            .find(|c| {
                crypto::spki_der(c)
                    .and_then(|s| paraf_pki::x509::key_identifier(&s).ok())
                    .is_some_and(|k| k == ski.0.as_bytes())
            })
            .map(|c| (*c).clone()),
    };
    out.signer_cert = signer;

    // Digest algorithm and content digest.
    let digest = Digest::from_oid(&si.digest_alg.oid);
    out.digest = digest;
    out.digest_name = Some(
        digest
            .map(|d| d.name().to_string())
            .unwrap_or_else(|| crate::certinfo::algorithm_name(&si.digest_alg.oid)),
    );
    let content_digest = match (digest, &content, &out.econtent) {
        (None, _, _) => {
            out.problem(
                SubIndication::CryptoConstraintsFailureNoPoe,
                format!("digest algorithm {} is not supported", si.digest_alg.oid),
            );
            None
        }
        (Some(d), Content::Detached { data, ranges }, _) => {
            let got = crypto::digest_ranges(d, data, ranges);
            if got.is_none() {
                out.problem(
                    SubIndication::FormatFailure,
                    "the byte range lies outside the file",
                );
            }
            got
        }
        (Some(d), Content::Encapsulated, Some((_, bytes))) => Some(d.digest(bytes)),
        (Some(_), Content::Encapsulated, None) => {
            out.problem(
                SubIndication::SignedDataNotFound,
                "the token encapsulates no content",
            );
            None
        }
    };
    if let (Some(d), Some(_)) = (digest, &content_digest) {
        if d.is_weak() {
            out.problem(
                SubIndication::CryptoConstraintsFailureNoPoe,
                format!("the {} digest algorithm is no longer accepted", d.name()),
            );
        }
    }

    let raw = der_walk::signed_attrs_and_signature(der_bytes);
    out.signature_value = raw.as_ref().map(|(_, s)| s.clone()).unwrap_or_default();
    check_attributes(out, sd, si, content_digest.as_deref());
    unsigned_attributes(out, si);

    // The signature value over the signed attributes, as encoded.
    let Some(cert) = out.signer_cert.clone() else {
        out.problem(
            SubIndication::NoSigningCertificateFound,
            "the signer's certificate is neither in the CMS nor in the DSS",
        );
        return;
    };
    let Some((Some(attrs_der), sig)) = raw else {
        out.problem(
            SubIndication::FormatFailure,
            "the SignerInfo has no signed attributes (required for PDF signatures)",
        );
        return;
    };
    let Some(spki) = crypto::spki_der(&cert) else {
        out.problem(
            SubIndication::FormatFailure,
            "the signer's public key cannot be encoded",
        );
        return;
    };
    match crypto::verify(&spki, &si.signature_algorithm, digest, &attrs_der, &sig) {
        Ok(v) => {
            out.signature_ok = true;
            out.scheme = Some(v.scheme);
            if let Some(w) = v.weak {
                out.problem(SubIndication::CryptoConstraintsFailureNoPoe, w);
            }
        }
        Err(e) => {
            out.scheme = Some(crate::certinfo::algorithm_name(&si.signature_algorithm.oid));
            out.problem(SubIndication::SigCryptoFailure, e);
        }
    }
}

fn single_value(si: &SignerInfo, oid: ObjectIdentifier) -> Result<Option<&Any>, String> {
    let Some(attrs) = &si.signed_attrs else {
        return Ok(None);
    };
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some(a), None) if a.values.len() == 1 => Ok(a.values.iter().next()),
        _ => Err(format!(
            "signed attribute {oid} must appear once with one value"
        )),
    }
}

fn check_attributes(
    out: &mut CmsCheck,
    sd: &SignedData,
    si: &SignerInfo,
    content_digest: Option<&[u8]>,
) {
    if si.signed_attrs.is_none() {
        return; // reported with the signature check
    }
    let mut ok = true;
    // content-type
    match single_value(si, oids::CONTENT_TYPE) {
        Ok(Some(v)) => match v.decode_as::<ObjectIdentifier>() {
            Ok(ct) if ct == sd.encap_content_info.econtent_type => {}
            Ok(ct) => {
                ok = false;
                out.problem(
                    SubIndication::FormatFailure,
                    format!(
                        "the content-type attribute ({ct}) differs from the eContentType ({})",
                        sd.encap_content_info.econtent_type
                    ),
                );
            }
            Err(e) => {
                ok = false;
                out.problem(
                    SubIndication::FormatFailure,
                    format!("content-type attribute: {e}"),
                );
            }
        },
        Ok(None) => {
            ok = false;
            out.problem(
                SubIndication::FormatFailure,
                "the content-type signed attribute is missing",
            );
        }
        Err(e) => {
            ok = false;
            out.problem(SubIndication::FormatFailure, e);
        }
    }
    // message-digest
    match single_value(si, oids::MESSAGE_DIGEST) {
        Ok(Some(v)) => match v.decode_as::<OctetString>() {
            Ok(md) => {
                if let Some(d) = content_digest {
                    if md.as_bytes() == d {
                        out.digest_ok = true;
                    } else {
                        out.problem(
                            SubIndication::HashFailure,
                            "the digest of the signed bytes differs from the message-digest attribute: the document was changed after signing",
                        );
                    }
                }
            }
            Err(e) => {
                ok = false;
                out.problem(
                    SubIndication::FormatFailure,
                    format!("message-digest attribute: {e}"),
                );
            }
        },
        Ok(None) => {
            ok = false;
            out.problem(
                SubIndication::FormatFailure,
                "the message-digest signed attribute is missing: the signature does not bind the document",
            );
        }
        Err(e) => {
            ok = false;
            out.problem(SubIndication::FormatFailure, e);
        }
    }
    // signing-time
    if let Ok(Some(v)) = single_value(si, oids::SIGNING_TIME) {
        let t = v
            .to_der()
            .ok()
            .and_then(|d| <x509_cert::time::Time as der::Decode>::from_der(&d).ok());
        if let Some(t) = t {
            out.signing_time = Some(t.to_system_time());
        }
    }
    // adbe-revocationInfoArchival
    if let Ok(Some(v)) = single_value(si, ADBE_REVOCATION_INFO_ARCHIVAL) {
        if let Ok(der) = v.to_der() {
            archival(out, &der);
        }
    }
    // ESS signing certificate (v2, or v1)
    let v2 = single_value(si, oids::SIGNING_CERTIFICATE_V2);
    let v1 = single_value(si, SIGNING_CERTIFICATE_V1);
    let ess = match (v2, v1) {
        (Ok(Some(v)), _) => Some(signing_cert_v2(v)),
        (_, Ok(Some(v))) => Some(signing_cert_v1(v)),
        (Err(e), _) | (_, Err(e)) => Some(Err(e)),
        _ => None,
    };
    match (ess, &out.signer_cert) {
        (Some(Ok((alg, hash))), Some(cert)) => {
            let actual = cert.to_der().ok().map(|d| alg.digest(&d));
            if actual.as_deref() != Some(hash.as_slice()) {
                ok = false;
                out.problem(
                    SubIndication::NoSigningCertificateFound,
                    "the signing-certificate attribute names another certificate than the one that signed",
                );
            }
        }
        (Some(Err(e)), _) => {
            ok = false;
            out.problem(
                SubIndication::FormatFailure,
                format!("signing-certificate attribute: {e}"),
            );
        }
        (None, _) => out.warnings.push(
            "no ESS signing-certificate attribute (PAdES baseline requires signing-certificate-v2)"
                .into(),
        ),
        (Some(Ok(_)), None) => {}
    }
    out.attrs_ok = ok;
}

fn signing_cert_v2(v: &Any) -> Result<(Digest, Vec<u8>), String> {
    let sc: paraf_pki::cms::SigningCertificateV2 =
        v.decode_as().map_err(|e| format!("cannot decode: {e}"))?;
    let first = sc.certs.first().ok_or("no certificate identifier")?;
    let alg = match &first.hash_algorithm {
        None => Digest::Sha256,
        Some(a) => Digest::from_oid(&a.oid)
            .ok_or_else(|| format!("hash algorithm {} is not supported", a.oid))?,
    };
    Ok((alg, first.cert_hash.as_bytes().to_vec()))
}

fn signing_cert_v1(v: &Any) -> Result<(Digest, Vec<u8>), String> {
    let der = v.to_der().map_err(|e| e.to_string())?;
    let (outer, _) = der_walk::read(&der).ok_or("malformed")?;
    let (certs, _) = der_walk::read(outer.content).ok_or("malformed")?;
    let (first, _) = der_walk::read(certs.content).ok_or("malformed")?;
    let (hash, _) = der_walk::read(first.content).ok_or("malformed")?;
    if hash.tag != 0x04 {
        return Err("ESSCertID without a certHash".into());
    }
    Ok((Digest::Sha1, hash.content.to_vec()))
}

fn archival(out: &mut CmsCheck, der: &[u8]) {
    let Some((outer, _)) = der_walk::read(der) else {
        return;
    };
    let Some(kids) = der_walk::children(outer.content) else {
        return;
    };
    for k in kids {
        let Some((seq, _)) = der_walk::read(k.content) else {
            continue;
        };
        let Some(items) = der_walk::children(seq.content) else {
            continue;
        };
        for item in items {
            match k.tag {
                0xa0 => out.crls.push(item.full.to_vec()),
                0xa1 => out.ocsps.push(item.full.to_vec()),
                _ => {}
            }
        }
    }
}

fn unsigned_attributes(out: &mut CmsCheck, si: &SignerInfo) {
    let Some(attrs) = &si.unsigned_attrs else {
        return;
    };
    for a in attrs.iter() {
        if a.oid == oids::SIGNATURE_TIME_STAMP_TOKEN {
            if let Some(v) = a.values.iter().next() {
                if let Ok(d) = v.to_der() {
                    out.timestamp_token = Some(d);
                }
            }
        }
    }
}
