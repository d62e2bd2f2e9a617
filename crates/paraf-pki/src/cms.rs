//! CMS `SignedData` (RFC 5652 section 5) as PAdES signing and the TSA need it: building a
//! detached or encapsulating `SignedData` with one `SignerInfo` ([`build_detached_signed_data`],
//! [`build_signed_data_with_content`]), checking one ([`verify_signed_data`]), and editing the
//! unsigned attributes of an existing one without touching its signed bytes
//! ([`add_unsigned_attribute`]).
//!
//! ```text
//! SignedData ::= SEQUENCE {
//!   version CMSVersion,
//!   digestAlgorithms DigestAlgorithmIdentifiers,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SignerInfos }
//! ```
//!
//! Signed attributes always carry content-type and message-digest (RFC 5652 section 11), the
//! ESS signing-certificate-v2 attribute (RFC 5035) when asked, and signing-time only when asked
//! (PAdES baseline signatures must not carry it: ETSI EN 319 142-1 section 5.2.2.4).

use std::time::SystemTime;

use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

use crate::digest::DigestAlg;
use crate::error::{decode_err, encode_err, PkiError, Result};
use crate::key::{to_der, verify_with_scheme, SignatureScheme};
use crate::oids;
use crate::signer::Signer;
use crate::x509::{cert_to_der, spki_der, x509_time};

/// `ESSCertIDv2` (RFC 5035 section 4).
///
/// ```text
/// ESSCertIDv2 ::= SEQUENCE {
///     hashAlgorithm   AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///     certHash        Hash,
///     issuerSerial    IssuerSerial OPTIONAL }
/// ```
///
/// `hash_algorithm` is `None` for SHA-256 (DER omits DEFAULT values).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EssCertIdV2 {
    /// Hash algorithm of `cert_hash`; `None` means SHA-256.
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// Hash of the whole certificate DER.
    pub cert_hash: OctetString,
    /// Issuer name and serial number of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial` (RFC 5035 section 4).
///
/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer         GeneralNames,
///     serialNumber   CertificateSerialNumber }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct IssuerSerial {
    /// The issuer as a directoryName.
    pub issuer: Vec<GeneralName>,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

/// `SigningCertificateV2` (RFC 5035 section 3).
///
/// ```text
/// SigningCertificateV2 ::= SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SigningCertificateV2 {
    /// The signing certificate first.
    pub certs: Vec<EssCertIdV2>,
    /// Policies (never written by Paraf).
    #[asn1(optional = "true")]
    pub policies: Option<Vec<Any>>,
}

impl SigningCertificateV2 {
    /// The attribute value naming `cert`, hashed with SHA-256, with its issuer and serial.
    pub fn for_certificate(cert: &Certificate) -> Result<Self> {
        let hash = DigestAlg::Sha256.digest(&cert_to_der(cert)?);
        Ok(SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(hash).map_err(encode_err("ESSCertIDv2"))?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(
                        cert.tbs_certificate.issuer.clone(),
                    )],
                    serial_number: cert.tbs_certificate.serial_number.clone(),
                }),
            }],
            policies: None,
        })
    }
}

/// What goes into the signed attributes besides message-digest.
#[derive(Debug, Clone)]
pub struct SignedAttrsOptions {
    /// The content-type attribute (`id-data` for PDF signatures).
    pub content_type: ObjectIdentifier,
    /// Adds a signing-time attribute when set. Leave `None` for PAdES baseline signatures.
    pub signing_time: Option<SystemTime>,
    /// Adds the ESS signing-certificate-v2 attribute (required by PAdES and RFC 3161 tokens).
    pub include_signing_certificate_v2: bool,
    /// Further signed attributes, added as given.
    pub extra: Vec<Attribute>,
}

impl Default for SignedAttrsOptions {
    /// `id-data`, no signing-time, with signing-certificate-v2, nothing extra: PAdES B-B.
    fn default() -> Self {
        SignedAttrsOptions {
            content_type: oids::ID_DATA,
            signing_time: None,
            include_signing_certificate_v2: true,
            extra: Vec::new(),
        }
    }
}

/// An attribute with a single value.
pub fn attribute<T: Encode>(oid: ObjectIdentifier, value: &T) -> Result<Attribute> {
    let der = value.to_der().map_err(encode_err("attribute value"))?;
    let any = Any::from_der(&der).map_err(encode_err("attribute value"))?;
    let values = SetOfVec::try_from(vec![any]).map_err(encode_err("attribute values"))?;
    Ok(Attribute { oid, values })
}

/// The `id-aa-signatureTimeStampToken` unsigned attribute holding `token_der` (a
/// TimeStampToken, i.e. a ContentInfo), for [`add_unsigned_attribute`].
pub fn signature_time_stamp_attribute(token_der: &[u8]) -> Result<Attribute> {
    let any = Any::from_der(token_der).map_err(decode_err("TimeStampToken"))?;
    let values = SetOfVec::try_from(vec![any]).map_err(encode_err("attribute values"))?;
    Ok(Attribute {
        oid: oids::SIGNATURE_TIME_STAMP_TOKEN,
        values,
    })
}

/// Builds a `SignedData` without eContent (detached), for content whose digest with
/// `signer.scheme().digest()` is `content_digest`. Returns the ContentInfo DER.
pub fn build_detached_signed_data(
    signer: &dyn Signer,
    content_digest: &[u8],
    opts: &SignedAttrsOptions,
) -> Result<Vec<u8>> {
    let digest_alg = signer.scheme().digest();
    digest_alg.check_len(content_digest)?;
    build(signer, content_digest, None, opts, true)
}

/// Builds a `SignedData` encapsulating `econtent` of type `econtent_type` (for example a
/// TSTInfo with `id-ct-TSTInfo`). The content-type attribute is `econtent_type`, whatever
/// `opts.content_type` says. `include_certs` decides whether the certificates field is present
/// (RFC 3161 omits it unless the request asked for it). Returns the ContentInfo DER.
pub fn build_signed_data_with_content(
    signer: &dyn Signer,
    econtent_type: ObjectIdentifier,
    econtent: &[u8],
    opts: &SignedAttrsOptions,
    include_certs: bool,
) -> Result<Vec<u8>> {
    let digest = signer.scheme().digest().digest(econtent);
    let opts = SignedAttrsOptions {
        content_type: econtent_type,
        ..opts.clone()
    };
    build(
        signer,
        &digest,
        Some((econtent_type, econtent)),
        &opts,
        include_certs,
    )
}

fn build(
    signer: &dyn Signer,
    content_digest: &[u8],
    econtent: Option<(ObjectIdentifier, &[u8])>,
    opts: &SignedAttrsOptions,
    include_certs: bool,
) -> Result<Vec<u8>> {
    let scheme = signer.scheme();
    let digest_alg = scheme.digest();
    let cert = signer.certificate();

    let mut attrs = vec![
        attribute(oids::CONTENT_TYPE, &opts.content_type)?,
        attribute(
            oids::MESSAGE_DIGEST,
            &OctetString::new(content_digest).map_err(encode_err("message digest"))?,
        )?,
    ];
    if let Some(t) = opts.signing_time {
        attrs.push(attribute(oids::SIGNING_TIME, &x509_time(t)?)?);
    }
    if opts.include_signing_certificate_v2 {
        attrs.push(attribute(
            oids::SIGNING_CERTIFICATE_V2,
            &SigningCertificateV2::for_certificate(cert)?,
        )?);
    }
    attrs.extend(opts.extra.iter().cloned());
    let signed_attrs: Attributes = SetOfVec::try_from(attrs)
        .map_err(|e| PkiError::invalid(format!("signed attributes: {e} (duplicate attribute?)")))?;
    let signature = signer.sign(&to_der(&signed_attrs, "signed attributes")?)?;

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: digest_alg.algorithm_identifier(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: scheme.algorithm_identifier(),
        signature: OctetString::new(signature).map_err(encode_err("signature"))?,
        unsigned_attrs: None,
    };

    let certificates = if include_certs {
        let mut set = SetOfVec::new();
        for c in std::iter::once(cert).chain(signer.chain().iter()) {
            let choice = CertificateChoices::Certificate(c.clone());
            if !set.iter().any(|x| *x == choice) {
                set.insert(choice).map_err(encode_err("certificate set"))?;
            }
        }
        Some(CertificateSet(set))
    } else {
        None
    };

    let (econtent_type, econtent_any) = match econtent {
        Some((oid, bytes)) => {
            let os = OctetString::new(bytes).map_err(encode_err("eContent"))?;
            (
                oid,
                Some(Any::encode_from(&os).map_err(encode_err("eContent"))?),
            )
        }
        None => (oids::ID_DATA, None),
    };
    let signed_data = SignedData {
        // RFC 5652 section 5.1: version 3 when eContentType is not id-data, else 1.
        version: if econtent_type == oids::ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: SetOfVec::try_from(vec![digest_alg.algorithm_identifier()])
            .map_err(encode_err("digest algorithms"))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type,
            econtent: econtent_any,
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos(
            SetOfVec::try_from(vec![signer_info]).map_err(encode_err("signer infos"))?,
        ),
    };
    let ci = ContentInfo {
        content_type: oids::ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(encode_err("SignedData"))?,
    };
    to_der(&ci, "ContentInfo")
}

/// Decodes a ContentInfo holding a SignedData.
pub fn parse_signed_data(content_info_der: &[u8]) -> Result<SignedData> {
    let ci = ContentInfo::from_der(content_info_der).map_err(decode_err("ContentInfo"))?;
    if ci.content_type != oids::ID_SIGNED_DATA {
        return Err(PkiError::malformed(format!(
            "ContentInfo holds {}, not SignedData",
            ci.content_type
        )));
    }
    ci.content
        .decode_as::<SignedData>()
        .map_err(decode_err("SignedData"))
}

/// The signature bytes of the first SignerInfo: what a signature time-stamp is computed over
/// (ETSI EN 319 122-1 section 5.3). Read from the bytes as they are, so it works on any DER
/// SignedData.
pub fn signature_value(content_info_der: &[u8]) -> Result<Vec<u8>> {
    let path = locate(content_info_der)?;
    let si_children = children(path.signer_info.content)?;
    let sig = si_children
        .iter()
        .skip(3)
        .find(|c| c.tag == 0x04)
        .ok_or_else(|| PkiError::malformed("SignerInfo has no signature OCTET STRING"))?;
    Ok(sig.content.to_vec())
}

/// Adds `attr` to the unsigned attributes of the first SignerInfo (creating them if absent),
/// for example [`signature_time_stamp_attribute`]. Every other byte, the signed attributes and
/// the signature included, is kept as it was.
pub fn add_unsigned_attribute(content_info_der: &[u8], attr: Attribute) -> Result<Vec<u8>> {
    let path = locate(content_info_der)?;
    let si_children = children(path.signer_info.content)?;

    let mut unsigned: Attributes = SetOfVec::new();
    let mut kept = Vec::new();
    for c in &si_children {
        if c.tag == 0xa1 {
            let as_set = encode_tlv(0x31, c.content);
            unsigned = Attributes::from_der(&as_set).map_err(decode_err("unsigned attributes"))?;
        } else {
            kept.extend_from_slice(c.full);
        }
    }
    unsigned.insert(attr).map_err(|e| {
        PkiError::invalid(format!("unsigned attributes: {e} (same attribute twice?)"))
    })?;
    let mut unsigned_der = to_der(&unsigned, "unsigned attributes")?;
    unsigned_der[0] = 0xa1; // [1] IMPLICIT SET OF Attribute

    kept.extend_from_slice(&unsigned_der);
    let new_si = encode_tlv(0x30, &kept);

    let mut infos = new_si;
    infos.extend_from_slice(path.other_signer_infos);
    let new_infos = encode_tlv(0x31, &infos);

    let mut sd = path.signed_data_head.to_vec();
    sd.extend_from_slice(&new_infos);
    let new_sd = encode_tlv(0x30, &sd);
    let wrapper = encode_tlv(0xa0, &new_sd);
    let mut ci = path.content_type_tlv.to_vec();
    ci.extend_from_slice(&wrapper);
    Ok(encode_tlv(0x30, &ci))
}

/// Checks the first SignerInfo of a SignedData: its certificate is in the certificates field,
/// content-type and message-digest attributes match (the digest of the eContent, or
/// `detached_digest` for a detached signature) and the signature verifies. Returns the signer's
/// certificate. Trust in that certificate is the caller's business.
pub fn verify_signed_data(
    content_info_der: &[u8],
    detached_digest: Option<&[u8]>,
) -> Result<Certificate> {
    let sd = parse_signed_data(content_info_der)?;
    let si = sd
        .signer_infos
        .0
        .get(0)
        .ok_or_else(|| PkiError::malformed("SignedData has no SignerInfo"))?;
    let digest_alg = DigestAlg::from_oid(&si.digest_alg.oid).ok_or_else(|| {
        PkiError::unsupported(format!(
            "digest algorithm {} is not supported",
            si.digest_alg.oid
        ))
    })?;
    let certs: Vec<&Certificate> = sd
        .certificates
        .as_ref()
        .map(|s| {
            s.0.iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c),
                    CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let cert = match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => certs.iter().find(|c| {
            c.tbs_certificate.issuer == ias.issuer
                && c.tbs_certificate.serial_number == ias.serial_number
        }),
        SignerIdentifier::SubjectKeyIdentifier(ski) => certs.iter().find(|c| {
            spki_der(c)
                .and_then(|s| crate::x509::key_identifier(&s))
                .map(|k| k == ski.0.as_bytes())
                .unwrap_or(false)
        }),
    }
    .copied()
    .ok_or_else(|| {
        PkiError::new(
            crate::PkiErrorKind::NotFound,
            "the signer's certificate is not in the SignedData",
        )
    })?;

    let expected_digest = match (&sd.encap_content_info.econtent, detached_digest) {
        (Some(econtent), _) => {
            let os: OctetString = econtent.decode_as().map_err(decode_err("eContent"))?;
            digest_alg.digest(os.as_bytes())
        }
        (None, Some(d)) => d.to_vec(),
        (None, None) => {
            return Err(PkiError::invalid(
                "detached SignedData needs the content digest",
            ))
        }
    };
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| PkiError::unsupported("SignerInfo without signed attributes"))?;
    let single = |oid: ObjectIdentifier| -> Result<&Any> {
        let mut found = attrs.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (Some(a), None) if a.values.len() == 1 => a
                .values
                .get(0)
                .ok_or_else(|| PkiError::malformed("empty attribute")),
            (None, _) => Err(PkiError::malformed(format!(
                "signed attribute {oid} is missing"
            ))),
            _ => Err(PkiError::malformed(format!(
                "signed attribute {oid} must have exactly one value"
            ))),
        }
    };
    let content_type: ObjectIdentifier = single(oids::CONTENT_TYPE)?
        .decode_as()
        .map_err(decode_err("content-type attribute"))?;
    if content_type != sd.encap_content_info.econtent_type {
        return Err(PkiError::crypto(
            "content-type attribute differs from eContentType",
        ));
    }
    let md: OctetString = single(oids::MESSAGE_DIGEST)?
        .decode_as()
        .map_err(decode_err("message-digest attribute"))?;
    if md.as_bytes() != expected_digest.as_slice() {
        return Err(PkiError::crypto(
            "message-digest attribute does not match the content",
        ));
    }
    let scheme = SignatureScheme::from_algorithm_identifier_with_digest(
        &si.signature_algorithm,
        digest_alg,
    )?;
    verify_with_scheme(
        &spki_der(cert)?,
        scheme,
        &to_der(attrs, "signed attributes")?,
        si.signature.as_bytes(),
    )?;
    Ok(cert.clone())
}

/// The eContent bytes of a SignedData, if it encapsulates any.
pub fn econtent(content_info_der: &[u8]) -> Result<Option<(ObjectIdentifier, Vec<u8>)>> {
    let sd = parse_signed_data(content_info_der)?;
    let eci = sd.encap_content_info;
    match eci.econtent {
        None => Ok(None),
        Some(any) => {
            let os: OctetString = any.decode_as().map_err(decode_err("eContent"))?;
            Ok(Some((eci.econtent_type, os.into_bytes())))
        }
    }
}

// ---- A minimal DER TLV walker, to edit a SignedData without re-encoding its signed parts. ----

struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    full: &'a [u8],
}

fn read_tlv(buf: &[u8]) -> Result<(Tlv<'_>, &[u8])> {
    let short = || PkiError::malformed("truncated DER");
    let tag = *buf.first().ok_or_else(short)?;
    if tag & 0x1f == 0x1f {
        return Err(PkiError::unsupported("multi-byte DER tags"));
    }
    let first = *buf.get(1).ok_or_else(short)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else if first == 0x80 {
        return Err(PkiError::unsupported(
            "BER indefinite-length encoding (DER is required)",
        ));
    } else {
        let n = (first & 0x7f) as usize;
        if n > 4 {
            return Err(PkiError::malformed("DER length too large"));
        }
        let bytes = buf.get(2..2 + n).ok_or_else(short)?;
        (
            bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize),
            2 + n,
        )
    };
    let end = header.checked_add(len).ok_or_else(short)?;
    let full = buf.get(..end).ok_or_else(short)?;
    Ok((
        Tlv {
            tag,
            content: &full[header..],
            full,
        },
        &buf[end..],
    ))
}

fn children(mut content: &[u8]) -> Result<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (t, rest) = read_tlv(content)?;
        out.push(t);
        content = rest;
    }
    Ok(out)
}

fn encode_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    push_der_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// Appends a DER definite length (short form below 128, else the long form with the fewest
/// bytes). Written by hand: the `der` crate encodes lengths only inside its own encoders.
pub fn push_der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len().saturating_sub(1));
        let tail = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | tail.len() as u8);
        out.extend_from_slice(tail);
    }
}

struct SignedDataPath<'a> {
    /// The ContentInfo's contentType TLV.
    content_type_tlv: &'a [u8],
    /// Every SignedData child before signerInfos.
    signed_data_head: &'a [u8],
    signer_info: Tlv<'a>,
    /// SignerInfos after the first.
    other_signer_infos: &'a [u8],
}

fn locate(der: &[u8]) -> Result<SignedDataPath<'_>> {
    let bad = |what: &str| PkiError::malformed(format!("not a DER SignedData ContentInfo: {what}"));
    let (ci, _) = read_tlv(der)?;
    if ci.tag != 0x30 {
        return Err(bad("outer SEQUENCE"));
    }
    let (ct, rest) = read_tlv(ci.content)?;
    if ct.tag != 0x06 || ct.content != oids::ID_SIGNED_DATA.as_bytes() {
        return Err(bad("content type is not id-signedData"));
    }
    let (wrapper, _) = read_tlv(rest)?;
    if wrapper.tag != 0xa0 {
        return Err(bad("[0] content"));
    }
    let (sd, _) = read_tlv(wrapper.content)?;
    if sd.tag != 0x30 {
        return Err(bad("SignedData SEQUENCE"));
    }
    let sd_children = children(sd.content)?;
    let infos = sd_children.last().ok_or_else(|| bad("empty SignedData"))?;
    if infos.tag != 0x31 || sd_children.len() < 4 {
        return Err(bad("signerInfos SET"));
    }
    let head_len = sd.content.len() - infos.full.len();
    let (first, others) = read_tlv(infos.content)?;
    if first.tag != 0x30 {
        return Err(bad("SignerInfo SEQUENCE"));
    }
    Ok(SignedDataPath {
        content_type_tlv: ct.full,
        signed_data_head: &sd.content[..head_len],
        signer_info: first,
        other_signer_infos: others,
    })
}

/// The DER of a `SignedData`'s `SignerInfo` signed attributes, as a SET (what was signed).
pub fn signed_attributes_der(si: &SignerInfo) -> Result<Option<Vec<u8>>> {
    si.signed_attrs
        .as_ref()
        .map(|a| to_der(a, "signed attributes"))
        .transpose()
}

/// Encodes a [`SigningCertificateV2`] for `cert` to DER (handy for callers building attributes).
pub fn signing_certificate_v2_der(cert: &Certificate) -> Result<Vec<u8>> {
    SigningCertificateV2::for_certificate(cert)?
        .to_der()
        .map_err(encode_err("SigningCertificateV2"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_roundtrip_long_lengths() {
        for n in [0usize, 1, 127, 128, 255, 256, 65_535, 65_536, 300_000] {
            let content = vec![0x42u8; n];
            let enc = encode_tlv(0x04, &content);
            let (t, rest) = read_tlv(&enc).unwrap();
            assert!(rest.is_empty());
            assert_eq!(t.content.len(), n);
            let os = OctetString::from_der(&enc).unwrap();
            assert_eq!(os.as_bytes().len(), n);
        }
    }
}
