//! BSrE verify routes (seed 001 §5.4 and §6.9): `POST /api/sign/verify` (v1, multipart
//! `signed_file`) and `POST /api/v2/verify/pdf` (v2, JSON `{file: base64, password?}`).
//!
//! Both run the validator (`paraf_verify`) with the built-in CA's root as the only trust
//! anchor, the injected clock as the validation time and the CA itself as the live revocation
//! source (`paraf_core::verification`), then map its [`ValidationReport`] to the seed's shapes. The mapping,
//! field by field, and the conclusion table are in `docs/bsre-verify.md`.
//!
//! **Invariant:** every value of a reply comes from the report (or from the signature's own
//! bytes the report points at: its CMS, its byte ranges); nothing is re-validated here.

use axum::body::Bytes;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, Utc};
use paraf_core::engine::pki::asn1::der::Encode;
use paraf_core::engine::pki::DigestAlg;
use paraf_core::engine::verify::{
    CertificateInfo, Indication, SignatureKind, SignatureReport, SubIndication, ValidationReport,
    VerifyErrorKind,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{BsreError, Code, Lang};
use crate::wire::{
    self, Errors, Language, V1Signature, V1SignatureDocument, V1Signer, V1Tsa, V1VerifyForm,
    V1VerifyReply, V2Certificate, V2Signature, V2Timestamp, V2VerifyReply, V2VerifyRequest,
};
use paraf_core::verification::{VerificationError, Verified};
use paraf_http::state::AppState;

/// v1 path.
pub const V1_PATH: &str = "/api/sign/verify";
/// v2 path.
pub const V2_PATH: &str = "/api/v2/verify/pdf";

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(V1_PATH, post(verify_v1))
        .route(V2_PATH, post(verify_v2))
}

// ------------------------------------------------------------------------------ conclusion

/// The verdict over the whole document, as BSrE integrators read it (`conclusion` in v2,
/// `summary` in v1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    /// No signature and no document timestamp.
    NoSignature,
    /// Every signature `TOTAL_PASSED`.
    Valid,
    /// Intact and unmodified, but something is indeterminate (trust, revocation, expiry...).
    Warning,
    /// A `TOTAL_FAILED`, broken integrity, or an illegal modification after a signature.
    Invalid,
}

impl Conclusion {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::NoSignature => "NO_SIGNATURE",
            Conclusion::Valid => "VALID",
            Conclusion::Warning => "WARNING",
            Conclusion::Invalid => "INVALID",
        }
    }

    /// Maps the report's ETSI indications (see the table in `docs/bsre-verify.md`).
    pub fn of(report: &ValidationReport) -> Conclusion {
        let broken = report
            .signatures
            .iter()
            .any(|s| !s.integrity.intact() || !s.modifications.illegal.is_empty());
        match report.indication {
            Indication::NoSignature if report.signatures.is_empty() => Conclusion::NoSignature,
            Indication::TotalFailed => Conclusion::Invalid,
            _ if broken => Conclusion::Invalid,
            Indication::TotalPassed => Conclusion::Valid,
            Indication::Indeterminate => Conclusion::Warning,
            // A report that says NO_SIGNATURE yet lists entries is not to be trusted either way.
            Indication::NoSignature => Conclusion::Invalid,
        }
    }
}

/// Why a signature did not pass, in a sentence (the report's sub-indication).
fn reason_text(sub: Option<SubIndication>, lang: Lang) -> &'static str {
    use SubIndication as S;
    let (id, en) = match sub {
        Some(S::FormatFailure) => (
            "struktur tanda tangan atau dokumen tidak sah, atau dokumen diubah setelah ditandatangani dengan cara yang tidak diizinkan",
            "the signature or document structure is invalid, or the document was changed after signing in a way that is not allowed",
        ),
        Some(S::HashFailure) => (
            "isi dokumen telah berubah sejak ditandatangani",
            "the document's content changed after it was signed",
        ),
        Some(S::SigCryptoFailure) => (
            "nilai tanda tangan tidak cocok dengan sertifikat penandatangan",
            "the signature value does not verify with the signer's certificate",
        ),
        Some(S::Revoked) => (
            "sertifikat penandatangan telah dicabut sebelum waktu penandatanganan",
            "the signer's certificate was revoked before the signing time",
        ),
        Some(S::SigConstraintsFailure) => (
            "atribut tanda tangan tidak memenuhi ketentuan",
            "the signature's attributes do not meet the constraints",
        ),
        Some(S::ChainConstraintsFailure) => (
            "rantai sertifikat tidak memenuhi ketentuan (penggunaan kunci atau status CA)",
            "the certificate chain does not meet its constraints (key usage or CA flags)",
        ),
        Some(S::CryptoConstraintsFailureNoPoe) => (
            "algoritma kriptografi yang digunakan sudah tidak dianggap aman",
            "the cryptographic algorithm used is no longer considered secure",
        ),
        Some(S::NoSigningCertificateFound) => (
            "sertifikat penandatangan tidak ditemukan atau tidak sesuai",
            "the signer's certificate was not found or does not match",
        ),
        Some(S::NoCertificateChainFound) => (
            "sertifikat penandatangan tidak diterbitkan oleh CA yang dipercaya",
            "the signer's certificate was not issued by a trusted CA",
        ),
        Some(S::RevokedNoPoe) => (
            "sertifikat penandatangan telah dicabut dan tidak ada bukti bahwa tanda tangan dibuat sebelumnya",
            "the signer's certificate is revoked and nothing proves the signature was made earlier",
        ),
        Some(S::RevokedCaNoPoe) => (
            "sertifikat CA penerbit telah dicabut",
            "an issuing CA's certificate has been revoked",
        ),
        Some(S::OutOfBoundsNoPoe | S::OutOfBoundsNotRevoked) => (
            "sertifikat penandatangan sudah kedaluwarsa dan tidak ada stempel waktu yang membuktikan waktu penandatanganan",
            "the signer's certificate has expired and no timestamp proves the signing time",
        ),
        Some(S::NotYetValid) => (
            "sertifikat penandatangan belum berlaku pada waktu penandatanganan",
            "the signer's certificate was not yet valid at the signing time",
        ),
        Some(S::TryLater) => (
            "status pencabutan sertifikat tidak dapat diperiksa",
            "the certificate's revocation status could not be checked",
        ),
        Some(S::TimestampOrderFailure) => (
            "urutan stempel waktu tidak konsisten",
            "the timestamps are not in a consistent order",
        ),
        Some(S::SignedDataNotFound) => (
            "data yang ditandatangani tidak ditemukan",
            "the signed data was not found",
        ),
        Some(S::GenericError) | None => (
            "tanda tangan tidak dapat divalidasi",
            "the signature could not be validated",
        ),
    };
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

/// The sentence explaining a conclusion (`description` in v2, `notes` in v1).
pub fn describe(report: &ValidationReport, conclusion: Conclusion, lang: Lang) -> String {
    let n = signatures(report).count();
    let reason = reason_text(report.sub_indication, lang);
    match (conclusion, lang) {
        (Conclusion::NoSignature, Lang::Id) => {
            "Dokumen tidak memiliki tandatangan elektronik".to_string()
        }
        (Conclusion::NoSignature, Lang::En) => {
            "The document has no electronic signature".to_string()
        }
        (Conclusion::Valid, Lang::Id) => format!(
            "Dokumen memiliki {n} tanda tangan elektronik yang valid: dokumen tidak berubah sejak \
             ditandatangani dan sertifikat penandatangan terpercaya"
        ),
        (Conclusion::Valid, Lang::En) => format!(
            "The document has {n} valid electronic signature(s): it has not changed since it was \
             signed and the signers' certificates are trusted"
        ),
        (Conclusion::Warning, Lang::Id) => format!(
            "Dokumen tidak berubah sejak ditandatangani, namun keabsahan tanda tangan belum dapat \
             dipastikan: {reason}"
        ),
        (Conclusion::Warning, Lang::En) => format!(
            "The document has not changed since it was signed, but the signatures cannot be fully \
             confirmed: {reason}"
        ),
        (Conclusion::Invalid, Lang::Id) => {
            format!("Tanda tangan elektronik pada dokumen tidak valid: {reason}")
        }
        (Conclusion::Invalid, Lang::En) => {
            format!("The document's electronic signature is invalid: {reason}")
        }
    }
}

/// Approval and certification signatures (document timestamps are not listed, only judged).
fn signatures(report: &ValidationReport) -> impl Iterator<Item = &SignatureReport> {
    report
        .signatures
        .iter()
        .filter(|s| s.kind == SignatureKind::Signature)
}

/// Bytes intact and nothing illegal after: `document_integrity` (v1), `integrityValid` (v2).
fn integrity(s: &SignatureReport) -> bool {
    s.integrity.intact() && s.modifications.illegal.is_empty()
}

async fn run(
    state: &AppState,
    pdf: Vec<u8>,
    password: Option<String>,
    lang: Lang,
) -> Result<Verified, BsreError> {
    state.verify_pdf(pdf, password).await.map_err(|e| match e {
        VerificationError::Unreadable { error, size } => {
            unreadable(&error, size, lang).cause(&error)
        }
        VerificationError::Core(e) => e.into(),
    })
}

/// The reply to a file that cannot be validated at all (`size` bytes), in `lang`.
fn unreadable(e: &paraf_core::engine::verify::VerifyError, size: usize, lang: Lang) -> BsreError {
    let detail = match (e.kind, &e.pdf) {
        (VerifyErrorKind::BadPassword, _) => {
            return BsreError::new(Code::WrongPdfPassword).arg("field", "password")
        }
        (VerifyErrorKind::Truncated, _) => match lang {
            Lang::Id => format!("file terpotong: tidak ada %%EOF di akhir ({size} byte)"),
            Lang::En => format!("the file is truncated: no %%EOF at its end ({size} bytes)"),
        },
        (VerifyErrorKind::Unreadable, Some(p))
            if p.kind == paraf_core::engine::pdf::ErrorKind::NotPdf =>
        {
            match lang {
                Lang::Id => "bukan file PDF".to_string(),
                Lang::En => "not a PDF file".to_string(),
            }
        }
        (VerifyErrorKind::Unreadable, Some(p)) => p.message.clone(),
        (VerifyErrorKind::Unreadable, None) => e.message.clone(),
    };
    BsreError::new(Code::UnreadableFile).arg("detail", detail)
}

// ------------------------------------------------------------------------------ the signature's bytes

/// What the report points at in the file: the CMS and the signed byte ranges.
struct SigBytes {
    /// The CMS ContentInfo (DER, padding removed), when `/Contents` could be located.
    cms: Option<Vec<u8>>,
    /// Digest of the signed byte ranges, hex, with the signature's digest algorithm.
    hash: Option<String>,
}

fn sig_bytes(s: &SignatureReport, pdf: &[u8]) -> SigBytes {
    let range = s
        .byte_range
        .as_deref()
        .and_then(|r| match r {
            [start, a, b, c] => Some((*start, *a, *b, *c)),
            _ => None,
        })
        .and_then(|(s0, a, b, c)| {
            Some((
                usize::try_from(s0).ok()?,
                usize::try_from(a).ok()?,
                usize::try_from(b).ok()?,
                usize::try_from(c).ok()?,
            ))
        });
    let Some((s0, a, b, c)) = range else {
        return SigBytes {
            cms: None,
            hash: None,
        };
    };
    let cms = pdf
        .get(a..b)
        .and_then(|gap| gap.strip_prefix(b"<"))
        .and_then(|gap| gap.strip_suffix(b">"))
        .and_then(|hexs| {
            let clean: Vec<u8> = hexs
                .iter()
                .copied()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            hex::decode(&clean).ok()
        })
        .map(|mut der| {
            if let Some(n) = der_len(&der) {
                der.truncate(n);
            }
            der
        })
        .filter(|d| !d.is_empty());
    let hash = if s.integrity.byte_range_ok && s0 == 0 {
        s.integrity
            .digest_algorithm
            .as_deref()
            .and_then(|d| d.parse::<DigestAlg>().ok())
            .and_then(|alg| {
                let first = pdf.get(..a)?;
                let second = pdf.get(b..b.checked_add(c)?)?;
                let mut h = alg.hasher();
                h.update(first);
                h.update(second);
                Some(hex::encode(h.finish()))
            })
    } else {
        None
    };
    SigBytes { cms, hash }
}

/// The length of the first DER element (definite lengths only).
fn der_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return 2usize.checked_add(usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*b.get(2 + i)?);
    }
    len.checked_add(2 + n)
}

/// The signature value of the CMS's SignerInfo, hex.
fn signature_value(cms: &[u8]) -> Option<String> {
    paraf_core::engine::pki::cms::signature_value(cms)
        .ok()
        .map(hex::encode)
}

/// The DER of the signature time-stamp token in the CMS's unsigned attributes.
fn timestamp_token(cms: &[u8]) -> Option<Vec<u8>> {
    let sd = paraf_core::engine::pki::cms::parse_signed_data(cms).ok()?;
    let si = sd.signer_infos.0.iter().next()?;
    let attrs = si.unsigned_attrs.as_ref()?;
    let attr = attrs
        .iter()
        .find(|a| a.oid == paraf_core::engine::pki::oids::SIGNATURE_TIME_STAMP_TOKEN)?;
    attr.values.iter().next()?.to_der().ok()
}

/// `P-` + upper-case hex SHA-256 of `data`.
fn id(prefix: &str, data: &[u8]) -> String {
    format!("{prefix}-{}", hex::encode_upper(Sha256::digest(data)))
}

// ------------------------------------------------------------------------------ formats

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// v1 dates: `2023-10-16 13:28:34.00` (UTC).
fn v1_time(s: &str) -> Option<String> {
    parse_time(s).map(|t| format!("{}.00", t.format("%Y-%m-%d %H:%M:%S")))
}

/// v2 dates: `2023-07-11T02:41:23.000+00:00`.
fn v2_time(s: &str) -> Option<String> {
    parse_time(s).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string())
}

/// `<from> to <to>` in v1's date format.
fn v1_validity(c: &CertificateInfo) -> Option<String> {
    Some(format!(
        "{} to {}",
        v1_time(&c.not_before)?,
        v1_time(&c.not_after)?
    ))
}

fn cert_name(c: &CertificateInfo) -> String {
    c.common_name.clone().unwrap_or_else(|| c.subject.clone())
}

/// Hex (as the report gives serials) to decimal, as the seed shows them.
fn hex_to_decimal(h: &str) -> String {
    let Ok(bytes) = hex::decode(if h.len() % 2 == 1 {
        format!("0{h}")
    } else {
        h.to_string()
    }) else {
        return h.to_string();
    };
    // Repeated division by 10 of a big-endian number.
    let mut num: Vec<u8> = bytes.into_iter().skip_while(|b| *b == 0).collect();
    let mut digits = Vec::new();
    while !num.is_empty() {
        let mut rem = 0u32;
        let mut next = Vec::with_capacity(num.len());
        for b in &num {
            let cur = (rem << 8) | u32::from(*b);
            let q = cur / 10;
            rem = cur % 10;
            if !(next.is_empty() && q == 0) {
                next.push(u8::try_from(q).unwrap_or(0));
            }
        }
        digits.push(char::from(b'0' + u8::try_from(rem).unwrap_or(0)));
        num = next;
    }
    if digits.is_empty() {
        return "0".to_string();
    }
    digits.iter().rev().collect()
}

/// `sha256` / `SHA-256` → `SHA256`.
fn digest_label(d: &str) -> String {
    d.to_ascii_uppercase().replace(['-', '_'], "")
}

/// The seed's algorithm spelling: `RSA with SHA256`, `ECDSA with SHA384`, ...
fn algorithm_label(name: &str, digest: Option<&str>) -> String {
    let digest = digest.map(digest_label);
    let lower = name.to_ascii_lowercase();
    let with = |key: &str, d: Option<String>| match d {
        Some(d) => format!("{key} with {d}"),
        None => key.to_string(),
    };
    if let Some(d) = lower.strip_suffix("withrsaencryption") {
        return with("RSA", Some(digest_label(d)));
    }
    if let Some(d) = lower.strip_prefix("ecdsa-with-") {
        return with("ECDSA", Some(digest_label(d)));
    }
    // The validator's scheme names: `RSA PKCS#1 v1.5 with sha256`, `ECDSA with sha384`.
    if let Some((key, d)) = name.split_once(" with ") {
        let key = if key.starts_with("RSA PKCS#1") {
            "RSA"
        } else {
            key
        };
        return with(key, Some(digest_label(d)));
    }
    match lower.as_str() {
        "rsa" => with("RSA", digest),
        "ec" => with("ECDSA", digest),
        "rsassa-pss" => with("RSASSA-PSS", digest),
        _ => name.to_string(),
    }
}

/// The seed's key usage names (`crlSign`).
fn key_usages(c: &CertificateInfo) -> Vec<String> {
    c.key_usage
        .iter()
        .map(|k| {
            if k == "cRLSign" {
                "crlSign".to_string()
            } else {
                k.clone()
            }
        })
        .collect()
}

// ------------------------------------------------------------------------------ v1

/// The v1 body for `report` about the file named `name`.
pub fn v1_body(report: &ValidationReport, pdf: &[u8], name: &str, lang: Lang) -> V1VerifyReply {
    let conclusion = Conclusion::of(report);
    let details: Vec<V1Signature> = signatures(report)
        .map(|s| {
            let bytes = sig_bytes(s, pdf);
            let ts = s.timestamp.as_ref();
            let tsa = ts.and_then(|t| t.tsa.as_ref());
            let signer = s.signer.as_ref();
            let signed_in = ts
                .filter(|t| t.intact)
                .map(|t| t.time.as_str())
                .or(s.claimed_signing_time.as_deref())
                .and_then(v1_time);
            V1Signature {
                info_tsa: V1Tsa {
                    name: tsa.map(cert_name),
                    tsa_cert_validity: tsa.and_then(v1_validity),
                },
                signature_field: s.field_name.clone(),
                info_signer: V1Signer {
                    issuer_dn: signer.map(|c| c.issuer.clone()),
                    signer_name: signer.map(cert_name),
                    signer_cert_validity: signer.and_then(v1_validity),
                    signer_dn: signer.map(|c| c.subject.clone()),
                    cert_user_certified: s.trust.trusted,
                },
                signature_document: V1SignatureDocument {
                    signed_using_tsa: ts.is_some_and(|t| t.intact),
                    reason: s.reason.clone(),
                    document_integrity: integrity(s),
                    signature_value: bytes.cms.as_deref().and_then(signature_value),
                    signed_in,
                    location: s.location.clone(),
                    hash_value: bytes.hash,
                },
            }
        })
        .collect();
    V1VerifyReply {
        nama_dokumen: name.to_string(),
        jumlah_signature: details.len(),
        notes: describe(report, conclusion, lang),
        details,
        summary: conclusion.as_str().to_string(),
    }
}

/// `POST /api/sign/verify`.
#[utoipa::path(post, path = "/api/sign/verify", tag = "BSrE v1", params(Language),
    summary = "Verify a signed PDF (multipart)",
    description = "Validates every signature of `signed_file` (trust anchor: the built-in CA's root; revocation: the CA itself; time: now) and maps the report to the seed's v1 shape (docs/bsre-verify.md).",
    request_body(content = V1VerifyForm, content_type = "multipart/form-data"),
    responses(Errors, (status = 200, description = "The verification report.", body = V1VerifyReply)))]
pub(crate) async fn verify_v1(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<V1VerifyReply>, BsreError> {
    let lang = Lang::of(&headers);
    let mut form = form.map_err(|e| {
        BsreError::new(Code::UnsupportedMediaType)
            .arg("expected", "multipart/form-data")
            .cause(e.body_text())
    })?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut password: Option<String> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(&state, e)),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = field
            .bytes()
            .await
            .map_err(|e| multipart_error(&state, e))?;
        match name.as_str() {
            "signed_file" if file.is_none() && !data.is_empty() => {
                let file_name = file_name
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| "signed_file.pdf".to_string());
                file = Some((file_name, Vec::from(data)));
            }
            "password" if password.is_none() => {
                let p = String::from_utf8(Vec::from(data))
                    .map_err(|_| BsreError::invalid("password", "not UTF-8 text"))?;
                password = Some(p).filter(|p| !p.is_empty());
            }
            _ => {}
        }
    }
    let (name, pdf) = file.ok_or_else(|| BsreError::missing("signed_file"))?;
    let v = run(&state, pdf, password, lang).await?;
    Ok(Json(v1_body(&v.report, &v.pdf, &name, lang)))
}

fn multipart_error(state: &AppState, e: MultipartError) -> BsreError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        BsreError::new(Code::PayloadTooLarge)
            .arg("limit", state.config.body_limit)
            .cause(e.body_text())
    } else {
        BsreError::invalid("body", e.body_text())
    }
}

// ------------------------------------------------------------------------------ v2

/// The v2 body for `report`.
pub fn v2_body(report: &ValidationReport, pdf: &[u8], lang: Lang) -> V2VerifyReply {
    let conclusion = Conclusion::of(report);
    let last = signatures(report).map(|s| s.index).max();
    let infos: Vec<V2Signature> = signatures(report)
        .map(|s| {
            let bytes = sig_bytes(s, pdf);
            let sig_id = match &bytes.cms {
                Some(cms) => id("S", cms),
                None => id(
                    "S",
                    format!(
                        "{}:{}:{:?}:{:?}",
                        s.index,
                        s.field_name.as_deref().unwrap_or(""),
                        s.object,
                        s.byte_range
                    )
                    .as_bytes(),
                ),
            };
            let timestamp = s.timestamp.as_ref().map(|t| {
                let tst_id = match bytes.cms.as_deref().and_then(timestamp_token) {
                    Some(tok) => id("T", &tok),
                    None => id(
                        "T",
                        format!(
                            "{}:{}",
                            t.time,
                            t.tsa.as_ref().map(|c| c.sha256.as_str()).unwrap_or("")
                        )
                        .as_bytes(),
                    ),
                };
                V2Timestamp {
                    id: tst_id,
                    signer_name: t.tsa.as_ref().map(cert_name),
                    timestamp_date: v2_time(&t.time),
                }
            });
            let mut chain: Vec<&CertificateInfo> = s.trust.chain.iter().collect();
            if chain.is_empty() {
                chain.extend(s.signer.as_ref());
            }
            let certs: Vec<V2Certificate> = chain
                .into_iter()
                .map(|c| V2Certificate {
                    id: format!("C-{}", c.sha256.to_ascii_uppercase()),
                    common_name: c.common_name.clone(),
                    issuer_name: c.issuer.clone(),
                    serial_number: hex_to_decimal(&c.serial),
                    not_after_date: v2_time(&c.not_after),
                    not_before_date: v2_time(&c.not_before),
                    signature_algorithm: algorithm_label(&c.signature_algorithm, None),
                    key_usages: key_usages(c),
                })
                .collect();
            let digest = s.integrity.digest_algorithm.as_deref();
            V2Signature {
                id: sig_id,
                signature_format: s.signature_format.clone(),
                signer_name: s.signer.as_ref().map(cert_name).or_else(|| s.name.clone()),
                signature_date: s.claimed_signing_time.as_deref().and_then(v2_time),
                field_name: s.field_name.clone(),
                reason: s.reason.clone(),
                location: s.location.clone(),
                cert_level_code: s.docmdp.unwrap_or(0),
                signature_algorithm: s
                    .integrity
                    .signature_algorithm
                    .as_deref()
                    .map(|a| algorithm_label(a, digest)),
                digest_algorithm: digest.map(digest_label),
                timestamp_information: timestamp,
                certificate_details: certs,
                integrity_valid: integrity(s),
                certificate_trusted: s.trust.trusted,
                last_signature: Some(s.index) == last,
            }
        })
        .collect();
    V2VerifyReply {
        conclusion: conclusion.as_str().to_string(),
        description: describe(report, conclusion, lang),
        signature_count: infos.len(),
        signature_informations: infos,
    }
}

/// Decodes the base64 of `field`: standard or URL-safe alphabet, padded or not, whitespace
/// and a `data:...;base64,` prefix tolerated.
pub fn decode_base64(field: &str, s: &str) -> Result<Vec<u8>, BsreError> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = match s.find(";base64,") {
        Some(i) if s.starts_with("data:") => s.get(i + 8..).unwrap_or(""),
        _ => s,
    };
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(&clean).ok())
        .ok_or_else(|| BsreError::new(Code::InvalidBase64).arg("field", field))
}

/// `POST /api/v2/verify/pdf`.
#[utoipa::path(post, path = "/api/v2/verify/pdf", tag = "BSrE v2", params(Language),
    summary = "Verify a signed PDF (base64)",
    description = "Validates every signature of `file` and maps the report to the seed's v2 shape (docs/bsre-verify.md).",
    request_body = V2VerifyRequest,
    responses(Errors, (status = 200, description = "The verification report.", body = V2VerifyReply)))]
pub(crate) async fn verify_v2(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<V2VerifyReply>, BsreError> {
    let lang = Lang::of(&headers);
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if ctype.as_deref().is_some_and(|c| !c.contains("json")) {
        return Err(BsreError::new(Code::UnsupportedMediaType).arg("expected", "application/json"));
    }
    let req: Value = serde_json::from_slice(&body)
        .map_err(|e| BsreError::invalid("body", format!("not JSON: {e}")))?;
    drop(body);
    let req: V2VerifyRequest = wire::parse(req)?;
    let file = wire::required(&req.file, "file")?;
    let password = req.password.clone().filter(|s| !s.is_empty());
    let pdf = decode_base64("file", file)?;
    drop(req);
    let v = run(&state, pdf, password, lang).await?;
    Ok(Json(v2_body(&v.report, &v.pdf, lang)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_in_decimal() {
        assert_eq!(hex_to_decimal("0"), "0");
        assert_eq!(hex_to_decimal("ff"), "255");
        assert_eq!(hex_to_decimal("0100"), "256");
        assert_eq!(
            hex_to_decimal("0ef367a8b9d4d1f2e"),
            u128::from_str_radix("0ef367a8b9d4d1f2e", 16)
                .map(|n| n.to_string())
                .unwrap_or_default()
        );
    }

    #[test]
    fn labels() {
        assert_eq!(
            algorithm_label("sha256WithRSAEncryption", None),
            "RSA with SHA256"
        );
        assert_eq!(
            algorithm_label("ecdsa-with-SHA384", None),
            "ECDSA with SHA384"
        );
        assert_eq!(algorithm_label("RSA", Some("sha256")), "RSA with SHA256");
        assert_eq!(digest_label("sha-512"), "SHA512");
        assert_eq!(
            algorithm_label("RSA PKCS#1 v1.5 with sha256", Some("sha256")),
            "RSA with SHA256"
        );
        assert_eq!(
            algorithm_label("ECDSA with sha384", None),
            "ECDSA with SHA384"
        );
        assert_eq!(
            algorithm_label("RSASSA-PSS", Some("sha512")),
            "RSASSA-PSS with SHA512"
        );
        assert_eq!(
            v1_time("2023-10-16T13:28:34Z").as_deref(),
            Some("2023-10-16 13:28:34.00")
        );
        assert_eq!(
            v2_time("2023-07-11T02:41:23Z").as_deref(),
            Some("2023-07-11T02:41:23.000+00:00")
        );
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der_len(&[0x30, 0x03, 1, 2, 3, 0, 0]), Some(5));
        assert_eq!(der_len(&[0x30, 0x82, 0x01, 0x00]), Some(260));
        assert_eq!(der_len(&[0x30, 0x80]), None);
        assert_eq!(der_len(&[0x30]), None);
    }

    #[test]
    fn base64_variants() {
        assert_eq!(decode_base64("file", "aGk=").ok(), Some(b"hi".to_vec()));
        assert_eq!(decode_base64("file", "aGk").ok(), Some(b"hi".to_vec()));
        assert_eq!(
            decode_base64("file", "data:application/pdf;base64,aGk=").ok(),
            Some(b"hi".to_vec())
        );
        assert!(decode_base64("file", "%%% not base64").is_err());
    }
}
