//! OCSP (RFC 6960): the client side for B-LT fetching from foreign responders
//! ([`build_request`], [`parse_response`]), and the response building the built-in CA's
//! responder uses ([`ResponseBuilder`]).
//!
//! ```text
//! OCSPResponse ::= SEQUENCE {
//!    responseStatus         OCSPResponseStatus,
//!    responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
//! ```

use std::time::{Duration, SystemTime};

use der::asn1::{BitString, Null, OctetString};
use der::{Any, Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, Request, ResponderId, ResponseBytes, ResponseData, RevokedInfo,
    SingleResponse, TbsRequest, Version,
};

use crate::digest::{sha1, DigestAlg};
use crate::error::{decode_err, encode_err, PkiError, PkiErrorKind, Result};
use crate::key::{to_der, verify_signature, PrivateKey};
use crate::oids;
use crate::revocation::RevocationReason;
use crate::x509::{generalized_time, spki_der, verify_issued_by};

/// Hashes `data` with the CertID hash algorithm `alg` (SHA-1 or SHA-2).
fn certid_hash(alg: &AlgorithmIdentifierOwned, data: &[u8]) -> Result<Vec<u8>> {
    if alg.oid == oids::SHA1 {
        return Ok(sha1(data));
    }
    DigestAlg::from_oid(&alg.oid)
        .map(|d| d.digest(data))
        .ok_or_else(|| {
            PkiError::unsupported(format!(
                "CertID hash algorithm {} is not supported",
                alg.oid
            ))
        })
}

/// The CertID of `serial`-carrying `cert` under `issuer`, hashed with SHA-1 (RFC 5019 requires
/// SHA-1 CertIDs to be understood; every responder does).
pub fn cert_id(cert: &Certificate, issuer: &Certificate) -> Result<CertId> {
    let alg = AlgorithmIdentifierOwned {
        oid: oids::SHA1,
        parameters: Some(Any::from(Null)),
    };
    let name_hash = certid_hash(
        &alg,
        &to_der(&issuer.tbs_certificate.subject, "issuer name")?,
    )?;
    let key_hash = certid_hash(
        &alg,
        issuer
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    )?;
    Ok(CertId {
        hash_algorithm: alg,
        issuer_name_hash: OctetString::new(name_hash).map_err(encode_err("CertID"))?,
        issuer_key_hash: OctetString::new(key_hash).map_err(encode_err("CertID"))?,
        serial_number: cert.tbs_certificate.serial_number.clone(),
    })
}

/// Whether `id` names a certificate issued by `issuer` (name and key hashes match, whatever
/// supported hash the CertID uses). The serial number is not compared.
pub fn cert_id_matches_issuer(id: &CertId, issuer: &Certificate) -> bool {
    let Ok(name_der) = issuer.tbs_certificate.subject.to_der() else {
        return false;
    };
    let name = certid_hash(&id.hash_algorithm, &name_der);
    let key = certid_hash(
        &id.hash_algorithm,
        issuer
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    );
    matches!((name, key), (Ok(n), Ok(k)) if n == id.issuer_name_hash.as_bytes() && k == id.issuer_key_hash.as_bytes())
}

/// A DER OCSPRequest for `cert` issued by `issuer`, without nonce.
pub fn build_request(cert: &Certificate, issuer: &Certificate) -> Result<Vec<u8>> {
    build_request_with_nonce(cert, issuer, None)
}

/// A DER OCSPRequest for `cert` issued by `issuer`, with a nonce extension when `nonce` is set.
pub fn build_request_with_nonce(
    cert: &Certificate,
    issuer: &Certificate,
    nonce: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let request_extensions = match nonce {
        Some(n) => Some(vec![nonce_extension(n)?]),
        None => None,
    };
    let req = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id(cert, issuer)?,
                single_request_extensions: None,
            }],
            request_extensions,
        },
        optional_signature: None,
    };
    to_der(&req, "OCSPRequest")
}

fn nonce_extension(nonce: &[u8]) -> Result<Extension> {
    crate::x509::extension(
        oids::OCSP_NONCE,
        false,
        &OctetString::new(nonce).map_err(encode_err("nonce"))?,
    )
}

/// The status of one certificate as an OCSP response gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspCertStatus {
    /// Not revoked.
    Good,
    /// Revoked at `time`, with a reason when the response gives one Paraf knows.
    Revoked {
        /// Revocation time.
        time: SystemTime,
        /// Reason, if given and known.
        reason: Option<RevocationReason>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// What [`parse_response`] found.
#[derive(Debug, Clone)]
pub struct OcspResult {
    /// The certificate's status.
    pub status: OcspCertStatus,
    /// `producedAt`.
    pub produced_at: SystemTime,
    /// `thisUpdate` of the single response.
    pub this_update: SystemTime,
    /// `nextUpdate` of the single response, if any.
    pub next_update: Option<SystemTime>,
    /// The certificate that signed the response (the issuer or a delegated responder).
    pub responder: Certificate,
}

/// Checks a DER OCSPResponse about `cert` (issued by `issuer`): status successful, basic
/// response signed by the issuer or by a responder certificate the issuer issued with the
/// OCSPSigning extended key usage, a single response for this certificate, and the nonce if
/// `expected_nonce` is set. Freshness (`this_update`/`next_update` against a time) is the
/// caller's decision.
pub fn parse_response(
    resp_der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    expected_nonce: Option<&[u8]>,
) -> Result<OcspResult> {
    let resp = OcspResponse::from_der(resp_der).map_err(decode_err("OCSPResponse"))?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(PkiError::new(
            PkiErrorKind::Rejected,
            format!("OCSP responder answered {:?}", resp.response_status),
        ));
    }
    let bytes = resp
        .response_bytes
        .ok_or_else(|| PkiError::malformed("successful OCSPResponse without responseBytes"))?;
    if bytes.response_type != oids::OCSP_BASIC {
        return Err(PkiError::unsupported(format!(
            "OCSP response type {}",
            bytes.response_type
        )));
    }
    let raw = bytes.response.as_bytes();
    let basic = match BasicOcspResponse::from_der(raw) {
        Ok(b) => b,
        Err(e) => match crate::x509::truncate_fractional_times(raw) {
            Some(fixed) => {
                BasicOcspResponse::from_der(&fixed).map_err(decode_err("BasicOCSPResponse"))?
            }
            None => return Err(decode_err("BasicOCSPResponse")(e)),
        },
    };
    let data = &basic.tbs_response_data;

    let responder = find_responder(&basic, issuer)?;
    // The signature covers the original bytes of tbsResponseData.
    let tbs = Vec::<der::Any>::from_der(raw)
        .ok()
        .and_then(|f| f.first().and_then(|a| a.to_der().ok()))
        .ok_or_else(|| PkiError::malformed("BasicOCSPResponse"))?;
    let sig = basic
        .signature
        .as_bytes()
        .ok_or_else(|| PkiError::malformed("OCSP signature has unused bits"))?;
    verify_signature(
        &spki_der(&responder)?,
        &basic.signature_algorithm,
        &tbs,
        sig,
    )?;

    if let Some(expected) = expected_nonce {
        let got = data
            .response_extensions
            .as_ref()
            .and_then(|exts| exts.iter().find(|e| e.extn_id == oids::OCSP_NONCE))
            .map(|e| OctetString::from_der(e.extn_value.as_bytes()).map(|o| o.as_bytes().to_vec()));
        match got {
            Some(Ok(n)) if n == expected => {}
            _ => {
                return Err(PkiError::crypto(
                    "OCSP response nonce is missing or differs from the request's",
                ))
            }
        }
    }

    let single = data
        .responses
        .iter()
        .find(|r| {
            r.cert_id.serial_number == cert.tbs_certificate.serial_number
                && cert_id_matches_issuer(&r.cert_id, issuer)
        })
        .ok_or_else(|| {
            PkiError::new(
                PkiErrorKind::NotFound,
                "the OCSP response says nothing about this certificate",
            )
        })?;
    let status = match &single.cert_status {
        CertStatus::Good(_) => OcspCertStatus::Good,
        CertStatus::Revoked(info) => OcspCertStatus::Revoked {
            time: info.revocation_time.0.to_system_time(),
            reason: info
                .revocation_reason
                .and_then(RevocationReason::from_crl_reason),
        },
        CertStatus::Unknown(_) => OcspCertStatus::Unknown,
    };
    Ok(OcspResult {
        status,
        produced_at: data.produced_at.0.to_system_time(),
        this_update: single.this_update.0.to_system_time(),
        next_update: single.next_update.map(|t| t.0.to_system_time()),
        responder,
    })
}

fn responder_matches(id: &ResponderId, cert: &Certificate) -> bool {
    match id {
        ResponderId::ByName(name) => *name == cert.tbs_certificate.subject,
        ResponderId::ByKey(hash) => {
            sha1(
                cert.tbs_certificate
                    .subject_public_key_info
                    .subject_public_key
                    .raw_bytes(),
            ) == hash.as_bytes()
        }
    }
}

fn find_responder(basic: &BasicOcspResponse, issuer: &Certificate) -> Result<Certificate> {
    let id = &basic.tbs_response_data.responder_id;
    if responder_matches(id, issuer) {
        return Ok(issuer.clone());
    }
    let delegated = basic
        .certs
        .iter()
        .flatten()
        .find(|c| responder_matches(id, c))
        .ok_or_else(|| {
            PkiError::new(
                PkiErrorKind::NotFound,
                "the OCSP responder's certificate is not in the response",
            )
        })?;
    verify_issued_by(delegated, issuer)?;
    let eku: Option<(bool, x509_cert::ext::pkix::ExtendedKeyUsage)> = delegated
        .tbs_certificate
        .get()
        .map_err(decode_err("extendedKeyUsage"))?;
    if !eku.is_some_and(|(_, e)| e.0.contains(&oids::KP_OCSP_SIGNING)) {
        return Err(PkiError::crypto(
            "the delegated OCSP responder lacks the OCSPSigning extended key usage",
        ));
    }
    Ok(delegated.clone())
}

/// An OCSPResponse with an error status and no body (`malformedRequest`, `unauthorized`, ...).
pub fn error_response(status: OcspResponseStatus) -> Vec<u8> {
    let resp = OcspResponse {
        response_status: status,
        response_bytes: None,
    };
    // The three bytes are fixed: SEQUENCE { ENUMERATED status }.
    resp.to_der()
        .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, status as u8])
}

/// Decodes a DER OCSPRequest.
pub fn decode_request(req_der: &[u8]) -> Result<OcspRequest> {
    OcspRequest::from_der(req_der).map_err(decode_err("OCSPRequest"))
}

/// Builds a signed `BasicOCSPResponse` wrapped in a successful `OCSPResponse`.
pub struct ResponseBuilder<'a> {
    /// The key that signs (the CA's or a delegated responder's).
    pub key: &'a PrivateKey,
    /// The certificate for `key`; the response names it byKey and carries it in `certs`.
    pub cert: &'a Certificate,
    /// How long after `thisUpdate` the `nextUpdate` is.
    pub validity: Duration,
}

impl ResponseBuilder<'_> {
    /// Signs a response with one SingleResponse per (CertID, status) at `now`, echoing `nonce`
    /// (the request's nonce extension) if given.
    pub fn build(
        &self,
        entries: Vec<(CertId, CertStatus)>,
        nonce: Option<Extension>,
        now: SystemTime,
    ) -> Result<Vec<u8>> {
        let entries = entries.into_iter().map(|(i, s)| (i, s, None)).collect();
        self.build_until(entries, nonce, now)
    }

    /// [`ResponseBuilder::build`] where an entry may name when its certificate ends: its
    /// `nextUpdate` is then no later (a status says nothing past the certificate's validity,
    /// and validators that slide their control time to `nextUpdate` — pyHanko — would judge an
    /// expired certificate). Ignored for a certificate already expired at `now`.
    pub fn build_until(
        &self,
        entries: Vec<(CertId, CertStatus, Option<SystemTime>)>,
        nonce: Option<Extension>,
        now: SystemTime,
    ) -> Result<Vec<u8>> {
        let this_update = OcspGeneralizedTime(generalized_time(now)?);
        let next_update = OcspGeneralizedTime(generalized_time(now + self.validity)?);
        let mut singles = Vec::with_capacity(entries.len());
        for (cert_id, cert_status, ends) in entries {
            let next_update = match ends {
                Some(end) if end > now && end < now + self.validity => {
                    OcspGeneralizedTime(generalized_time(end)?)
                }
                _ => next_update,
            };
            singles.push(SingleResponse {
                cert_id,
                cert_status,
                this_update,
                next_update: Some(next_update),
                single_extensions: None,
            });
        }
        let key_hash = sha1(
            self.cert
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
        );
        let data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(
                OctetString::new(key_hash).map_err(encode_err("responder id"))?,
            ),
            produced_at: this_update,
            responses: singles,
            response_extensions: nonce.map(|n| vec![n]),
        };
        let scheme = self.key.default_scheme();
        let signature = self.key.sign(scheme, &to_der(&data, "ResponseData")?)?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: scheme.algorithm_identifier(),
            signature: BitString::from_bytes(&signature).map_err(encode_err("signature"))?,
            certs: Some(vec![self.cert.clone()]),
        };
        let resp = OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: oids::OCSP_BASIC,
                response: OctetString::new(to_der(&basic, "BasicOCSPResponse")?)
                    .map_err(encode_err("responseBytes"))?,
            }),
        };
        to_der(&resp, "OCSPResponse")
    }
}

/// `CertStatus` for a revoked certificate.
pub fn revoked_status(time: SystemTime, reason: RevocationReason) -> Result<CertStatus> {
    Ok(CertStatus::Revoked(RevokedInfo {
        revocation_time: OcspGeneralizedTime(generalized_time(time)?),
        revocation_reason: match reason {
            RevocationReason::Unspecified => None,
            r => Some(r.crl_reason()),
        },
    }))
}

/// The nonce extension of a request, if any (to echo it).
pub fn request_nonce(req: &OcspRequest) -> Option<Extension> {
    req.tbs_request
        .request_extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oids::OCSP_NONCE)
        .cloned()
}
