//! RFC 3161 time-stamping: the client side ([`build_request`], [`parse_response`]), the
//! [`Timestamper`] trait the signing engine calls, and [`TimestampAuthority`], Paraf's own TSA.
//!
//! ```text
//! TimeStampResp ::= SEQUENCE  {
//!    status                  PKIStatusInfo,
//!    timeStampToken          TimeStampToken     OPTIONAL  }
//! ```
//!
//! The TSA writes TSTInfo with policy [`crate::oids::TSA_POLICY`], a random 128-bit serial,
//! genTime in whole seconds with an accuracy of one second, the request nonce echoed, and its
//! own name in the `tsa` field. Tokens carry the ESS signing-certificate-v2 attribute, which
//! RFC 5816 allows and PAdES validators expect.

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, Int, OctetString};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::Certificate;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TspVersion, TstInfo};

use crate::clock::Clock;
use crate::cms::{
    build_signed_data_with_content, econtent, verify_signed_data, SignedAttrsOptions,
};
use crate::digest::DigestAlg;
use crate::error::{decode_err, encode_err, PkiError, PkiErrorKind, Result};
use crate::key::{to_der, PrivateKey};
use crate::oids;
use crate::signer::{Signer, SoftSigner};
use crate::x509::{generalized_time, random_positive_16};

/// Something that returns an RFC 3161 TimeStampToken (a ContentInfo, DER) for a digest: a
/// remote TSA reached over HTTP by the caller's adapter, or [`TimestampAuthority`].
pub trait Timestamper: Send + Sync {
    /// A token whose message imprint is (`digest_alg`, `digest`).
    fn timestamp(&self, digest_alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>, PkiError>;

    /// The TSA's certificate and its issuers when known before asking (a local TSA): an
    /// archive renewal puts their validation data under the new timestamp, so that the
    /// timestamp proves it existed. Empty when unknown (a remote TSA).
    fn certificates(&self) -> Vec<Certificate> {
        Vec::new()
    }
}

/// `PKIStatusInfo` (RFC 3161 section 2.4.2, from RFC 4210).
///
/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PkiStatusInfo {
    /// 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4 revocationWarning,
    /// 5 revocationNotification.
    pub status: u8,
    /// Human-readable reasons.
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// `PKIFailureInfo` named bits.
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// `TimeStampResp` (RFC 3161 section 2.4.2), with the token kept as raw DER.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TimeStampResp {
    /// The status.
    pub status: PkiStatusInfo,
    /// The TimeStampToken (ContentInfo), present when granted.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<Any>,
}

/// `PKIFailureInfo` bits (RFC 3161 section 2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureInfo {
    /// Unrecognized or unsupported algorithm identifier.
    BadAlg = 0,
    /// Transaction not permitted or supported.
    BadRequest = 2,
    /// The data submitted has the wrong format.
    BadDataFormat = 5,
    /// The TSA's time source is not available.
    TimeNotAvailable = 14,
    /// The requested TSA policy is not supported.
    UnacceptedPolicy = 15,
    /// The requested extension is not supported.
    UnacceptedExtension = 16,
    /// The TSA failed internally.
    SystemFailure = 25,
}

fn fail_info_bits(f: FailureInfo) -> Option<BitString> {
    let bit = f as usize;
    let mut bytes = vec![0u8; bit / 8 + 1];
    bytes[bit / 8] = 0x80 >> (bit % 8);
    BitString::new((7 - bit % 8) as u8, bytes).ok()
}

/// An INTEGER from an unsigned big-endian magnitude.
fn int_from_unsigned(magnitude: &[u8]) -> Result<Int> {
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let mut bytes = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.get(start).is_none_or(|b| b & 0x80 != 0) {
        bytes.push(0);
    }
    bytes.extend_from_slice(&magnitude[start..]);
    Int::new(&bytes).map_err(encode_err("INTEGER"))
}

fn same_int(a: &Int, b: &Int) -> bool {
    let strip = |x: &[u8]| -> Vec<u8> { x.iter().skip_while(|&&b| b == 0).copied().collect() };
    strip(a.as_bytes()) == strip(b.as_bytes())
}

/// A DER `TimeStampReq` for `digest` (computed with `digest_alg`), with an optional nonce, asking
/// for the TSA certificate in the token when `cert_req`.
pub fn build_request(
    digest_alg: DigestAlg,
    digest: &[u8],
    nonce: Option<u64>,
    cert_req: bool,
) -> Result<Vec<u8>> {
    digest_alg.check_len(digest)?;
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: digest_alg.algorithm_identifier(),
            hashed_message: OctetString::new(digest).map_err(encode_err("message imprint"))?,
        },
        req_policy: None,
        nonce: nonce
            .map(|n| int_from_unsigned(&n.to_be_bytes()))
            .transpose()?,
        cert_req,
        extensions: None,
    };
    to_der(&req, "TimeStampReq")
}

/// Checks a DER `TimeStampResp`: status granted, token signature valid, imprint equal to
/// (`digest_alg`, `expected_digest`), nonce equal to `expected_nonce` when one was sent.
/// Returns the TimeStampToken (ContentInfo DER). Whether the TSA is trusted is not checked here.
pub fn parse_response(
    resp_der: &[u8],
    digest_alg: DigestAlg,
    expected_digest: &[u8],
    expected_nonce: Option<u64>,
) -> Result<Vec<u8>> {
    let resp = TimeStampResp::from_der(resp_der).map_err(decode_err("TimeStampResp"))?;
    if resp.status.status > 1 {
        let text = resp
            .status
            .status_string
            .map(|v| v.join("; "))
            .unwrap_or_default();
        return Err(PkiError::new(
            PkiErrorKind::Rejected,
            format!(
                "TSA refused the request: status {} {text}",
                resp.status.status
            ),
        ));
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| PkiError::malformed("TSA granted the request but sent no token"))?
        .to_der()
        .map_err(encode_err("TimeStampToken"))?;
    let tst = verify_token(&token)?;
    if tst.message_imprint.hash_algorithm.oid != digest_alg.oid()
        || tst.message_imprint.hashed_message.as_bytes() != expected_digest
    {
        return Err(PkiError::crypto(
            "time-stamp token is for another message imprint",
        ));
    }
    if let Some(n) = expected_nonce {
        let sent = int_from_unsigned(&n.to_be_bytes())?;
        match &tst.nonce {
            Some(got) if same_int(got, &sent) => {}
            Some(_) => {
                return Err(PkiError::crypto(
                    "time-stamp token nonce differs from the request's",
                ))
            }
            None => {
                return Err(PkiError::crypto(
                    "time-stamp token lacks the nonce the request sent",
                ))
            }
        }
    }
    Ok(token)
}

/// Decodes the TSTInfo of a TimeStampToken without checking its signature.
pub fn tst_info(token_der: &[u8]) -> Result<TstInfo> {
    match econtent(token_der)? {
        Some((oid, bytes)) if oid == oids::ID_CT_TST_INFO => match TstInfo::from_der(&bytes) {
            Ok(t) => Ok(t),
            // RFC 3161 allows genTime with fractional seconds, which `der`'s RFC 5280
            // GeneralizedTime refuses: decode a copy truncated to whole seconds. Only the
            // decoded view changes; signatures are verified over the original bytes.
            Err(e) => match crate::x509::truncate_fractional_times(&bytes) {
                Some(whole) => TstInfo::from_der(&whole).map_err(decode_err("TSTInfo")),
                None => Err(decode_err("TSTInfo")(e)),
            },
        },
        Some((oid, _)) => Err(PkiError::malformed(format!(
            "token encapsulates {oid}, not TSTInfo"
        ))),
        None => Err(PkiError::malformed("token encapsulates no TSTInfo")),
    }
}

/// Checks a TimeStampToken's CMS signature (the TSA certificate must be inside it) and returns
/// its TSTInfo.
pub fn verify_token(token_der: &[u8]) -> Result<TstInfo> {
    verify_signed_data(token_der, None)?;
    tst_info(token_der)
}

/// An RFC 3161 time-stamping authority with its key in memory.
pub struct TimestampAuthority {
    signer: SoftSigner,
    policy: ObjectIdentifier,
    clock: Clock,
}

impl std::fmt::Debug for TimestampAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimestampAuthority")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// `TimeStampResp` for an internal failure when even encoding the refusal fails:
/// `SEQUENCE { SEQUENCE { INTEGER 2 } }`.
const BARE_REJECTION: [u8; 7] = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];

impl TimestampAuthority {
    /// A TSA signing with `key` under `cert` (which must carry the critical timeStamping
    /// extended key usage), `chain` being its issuers. `clock` serves [`Timestamper`] calls.
    pub fn new(
        key: PrivateKey,
        cert: Certificate,
        chain: Vec<Certificate>,
        clock: Clock,
    ) -> Result<Self> {
        Ok(TimestampAuthority {
            signer: SoftSigner::new(key, cert, chain, None)?,
            policy: oids::TSA_POLICY,
            clock,
        })
    }

    /// Replaces the clock used by [`Timestamper::timestamp`].
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// The TSA certificate.
    pub fn certificate(&self) -> &Certificate {
        self.signer.certificate()
    }

    /// The TSA certificate's issuers.
    pub fn chain(&self) -> &[Certificate] {
        self.signer.chain()
    }

    /// The policy OID written into every TSTInfo.
    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// A TimeStampToken for (`digest_alg`, `digest`) at `now`, with certificates.
    pub fn token(&self, digest_alg: DigestAlg, digest: &[u8], now: SystemTime) -> Result<Vec<u8>> {
        digest_alg.check_len(digest)?;
        let imprint = MessageImprint {
            hash_algorithm: digest_alg.algorithm_identifier(),
            hashed_message: OctetString::new(digest).map_err(encode_err("message imprint"))?,
        };
        self.issue(imprint, None, true, now)
    }

    fn issue(
        &self,
        imprint: MessageImprint,
        nonce: Option<Int>,
        include_certs: bool,
        now: SystemTime,
    ) -> Result<Vec<u8>> {
        let tst = TstInfo {
            version: TspVersion::V1,
            policy: self.policy,
            message_imprint: imprint,
            serial_number: int_from_unsigned(&random_positive_16()?)?,
            gen_time: generalized_time(now)?,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce,
            tsa: Some(GeneralName::DirectoryName(
                self.certificate().tbs_certificate.subject.clone(),
            )),
            extensions: None,
        };
        let tst_der = to_der(&tst, "TSTInfo")?;
        let opts = SignedAttrsOptions {
            content_type: oids::ID_CT_TST_INFO,
            signing_time: None,
            include_signing_certificate_v2: true,
            extra: Vec::new(),
        };
        build_signed_data_with_content(
            &self.signer,
            oids::ID_CT_TST_INFO,
            &tst_der,
            &opts,
            include_certs,
        )
    }

    /// Answers a DER `TimeStampReq` at `now` with a DER `TimeStampResp`: granted with a token,
    /// or a rejection (badDataFormat for undecodable requests or wrong digest lengths, badAlg for
    /// digests other than SHA-256/384/512, unacceptedPolicy, unacceptedExtension). Never fails.
    pub fn respond(&self, req_der: &[u8], now: SystemTime) -> Vec<u8> {
        let outcome = match TimeStampReq::from_der(req_der) {
            Err(_) => Err((
                FailureInfo::BadDataFormat,
                "the request is not a DER TimeStampReq".to_owned(),
            )),
            Ok(req) => self.check_request(&req).and_then(|()| {
                self.issue(req.message_imprint, req.nonce, req.cert_req, now)
                    .map_err(|e| {
                        (
                            FailureInfo::SystemFailure,
                            format!("cannot issue the token: {}", e.message()),
                        )
                    })
            }),
        };
        let resp = match outcome {
            Ok(token) => Any::from_der(&token).map(|t| TimeStampResp {
                status: PkiStatusInfo {
                    status: 0,
                    status_string: None,
                    fail_info: None,
                },
                time_stamp_token: Some(t),
            }),
            Err((fail, text)) => Ok(TimeStampResp {
                status: PkiStatusInfo {
                    status: 2,
                    status_string: Some(vec![text]),
                    fail_info: fail_info_bits(fail),
                },
                time_stamp_token: None,
            }),
        };
        resp.and_then(|r| r.to_der())
            .unwrap_or_else(|_| BARE_REJECTION.to_vec())
    }

    fn check_request(&self, req: &TimeStampReq) -> std::result::Result<(), (FailureInfo, String)> {
        let alg: &AlgorithmIdentifierOwned = &req.message_imprint.hash_algorithm;
        let Some(d) = DigestAlg::from_oid(&alg.oid) else {
            return Err((
                FailureInfo::BadAlg,
                format!(
                    "digest algorithm {} is not accepted (SHA-256/384/512 are)",
                    alg.oid
                ),
            ));
        };
        if req.message_imprint.hashed_message.as_bytes().len() != d.output_len() {
            return Err((
                FailureInfo::BadDataFormat,
                format!("a {d} imprint must be {} bytes", d.output_len()),
            ));
        }
        if let Some(p) = req.req_policy {
            if p != self.policy {
                return Err((
                    FailureInfo::UnacceptedPolicy,
                    format!("policy {p} is not offered (only {})", self.policy),
                ));
            }
        }
        if req.extensions.is_some() {
            return Err((
                FailureInfo::UnacceptedExtension,
                "request extensions are not supported".to_owned(),
            ));
        }
        Ok(())
    }
}

impl Timestamper for TimestampAuthority {
    fn timestamp(&self, digest_alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>> {
        self.token(digest_alg, digest, self.clock.now())
    }

    fn certificates(&self) -> Vec<Certificate> {
        std::iter::once(self.certificate())
            .chain(self.chain())
            .cloned()
            .collect()
    }
}

/// A [`TimestampAuthority`] answering [`Timestamper`] calls at a given time (a caller's
/// injected "now") instead of its clock's.
#[derive(Debug)]
pub struct TimestampAt<'a> {
    /// The authority.
    pub tsa: &'a TimestampAuthority,
    /// The time its tokens say.
    pub now: SystemTime,
}

impl Timestamper for TimestampAt<'_> {
    fn timestamp(&self, digest_alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>> {
        self.tsa.token(digest_alg, digest, self.now)
    }

    fn certificates(&self) -> Vec<Certificate> {
        self.tsa.certificates()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_info_named_bits() {
        let b = fail_info_bits(FailureInfo::BadAlg).unwrap();
        assert_eq!(b.to_der().unwrap(), [0x03, 0x02, 0x07, 0x80]);
        let b = fail_info_bits(FailureInfo::BadDataFormat).unwrap();
        assert_eq!(b.to_der().unwrap(), [0x03, 0x02, 0x02, 0x04]);
        let b = fail_info_bits(FailureInfo::SystemFailure).unwrap();
        assert_eq!(
            b.to_der().unwrap(),
            [0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40]
        );
    }

    #[test]
    fn nonce_integers() {
        let a = int_from_unsigned(&0x80u64.to_be_bytes()).unwrap();
        assert_eq!(a.to_der().unwrap(), [0x02, 0x02, 0x00, 0x80]);
        let z = int_from_unsigned(&0u64.to_be_bytes()).unwrap();
        assert_eq!(z.to_der().unwrap(), [0x02, 0x01, 0x00]);
    }

    #[test]
    fn bare_rejection_decodes() {
        let r = TimeStampResp::from_der(&BARE_REJECTION).unwrap();
        assert_eq!(r.status.status, 2);
    }
}
