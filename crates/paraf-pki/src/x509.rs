//! X.509 building blocks: times, serial numbers, names, extensions, key identifiers, PEM, and
//! [`CertTemplate`] which assembles a `TBSCertificate` and signs it with a [`PrivateKey`].
//!
//! RFC 5280 section 4.1. The certificate *profiles* (which extensions a root, an issuing CA, a
//! signer or a TSA certificate carries) live in [`crate::ca`]; this module only encodes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use const_oid::ObjectIdentifier;
use der::asn1::{
    BitString, GeneralizedTime, Ia5String, OctetString, PrintableString, SetOfVec, UtcTime,
    Utf8StringRef,
};
use der::pem::LineEnding;
use der::{Any, Decode, DecodePem, Encode, EncodePem};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    crl::dp::DistributionPoint, AccessDescription, AuthorityInfoAccessSyntax,
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::digest::sha1;
use crate::error::{decode_err, encode_err, PkiError, Result};
use crate::key::{to_der, PrivateKey};
use crate::oids;

/// Truncates to whole seconds (DER times carry no fraction here).
pub(crate) fn whole_seconds(t: SystemTime) -> Result<Duration> {
    t.duration_since(UNIX_EPOCH)
        .map(|d| Duration::from_secs(d.as_secs()))
        .map_err(|_| PkiError::invalid("time before 1970"))
}

/// An X.509 `Time`: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 section 4.1.2.5).
pub fn x509_time(t: SystemTime) -> Result<Time> {
    let d = whole_seconds(t)?;
    // 2050-01-01T00:00:00Z
    if d.as_secs() < 2_524_608_000 {
        Ok(Time::UtcTime(
            UtcTime::from_unix_duration(d).map_err(encode_err("UTCTime"))?,
        ))
    } else {
        Ok(Time::GeneralTime(
            GeneralizedTime::from_unix_duration(d).map_err(encode_err("GeneralizedTime"))?,
        ))
    }
}

/// A GeneralizedTime in whole seconds (OCSP, TSTInfo).
pub fn generalized_time(t: SystemTime) -> Result<GeneralizedTime> {
    GeneralizedTime::from_unix_duration(whole_seconds(t)?).map_err(encode_err("GeneralizedTime"))
}

/// `n` random bytes from the system generator.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut b = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| PkiError::crypto("the system random generator failed"))?;
    Ok(b)
}

/// 16 random bytes read as a positive integer with no leading zero byte (so exactly 16 content
/// bytes in DER): bit 127 cleared, bit 126 set.
pub(crate) fn random_positive_16() -> Result<Vec<u8>> {
    let mut b = random_bytes(16)?;
    b[0] = (b[0] & 0x7f) | 0x40;
    Ok(b)
}

/// A fresh random positive 128-bit certificate serial number.
pub fn random_serial() -> Result<SerialNumber> {
    SerialNumber::new(&random_positive_16()?).map_err(encode_err("serial number"))
}

/// A serial number as lower-case hex without leading zero bytes (how Paraf names certificates).
pub fn serial_hex(serial: &SerialNumber) -> String {
    let b = serial.as_bytes();
    let start = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    hex::encode(&b[start..])
}

/// Key identifier of a `SubjectPublicKeyInfo`: SHA-1 of the `subjectPublicKey` bits
/// (RFC 5280 section 4.2.1.2, method 1).
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
        .map_err(decode_err("SubjectPublicKeyInfo"))?;
    Ok(sha1(spki.subject_public_key.raw_bytes()))
}

/// Whether `cert` certifies the public key `spki_der` (algorithm and key bits compared, so
/// encodings that differ only in parameter spelling still match).
pub fn same_public_key(cert: &Certificate, spki_der: &[u8]) -> Result<bool> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
        .map_err(decode_err("SubjectPublicKeyInfo"))?;
    let theirs = &cert.tbs_certificate.subject_public_key_info;
    Ok(theirs.algorithm.oid == spki.algorithm.oid
        && theirs.subject_public_key == spki.subject_public_key)
}

/// The certificate's `SubjectPublicKeyInfo` DER.
pub fn spki_der(cert: &Certificate) -> Result<Vec<u8>> {
    to_der(
        &cert.tbs_certificate.subject_public_key_info,
        "SubjectPublicKeyInfo",
    )
}

/// Parses a DER certificate.
pub fn cert_from_der(der: &[u8]) -> Result<Certificate> {
    Certificate::from_der(der).map_err(decode_err("certificate"))
}

/// Parses one PEM certificate.
pub fn cert_from_pem(pem: &[u8]) -> Result<Certificate> {
    Certificate::from_pem(pem).map_err(decode_err("PEM certificate"))
}

/// Parses every certificate of a PEM bundle, in order.
pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<Certificate>> {
    Certificate::load_pem_chain(pem).map_err(decode_err("PEM certificate bundle"))
}

/// A certificate as PEM (`-----BEGIN CERTIFICATE-----`, LF line endings).
pub fn cert_to_pem(cert: &Certificate) -> Result<String> {
    cert.to_pem(LineEnding::LF)
        .map_err(encode_err("PEM certificate"))
}

/// A certificate as DER.
pub fn cert_to_der(cert: &Certificate) -> Result<Vec<u8>> {
    to_der(cert, "certificate")
}

/// A value of a distinguished-name attribute, with its ASN.1 string type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameValue {
    /// `UTF8String` (CN, O: RFC 5280 section 4.1.2.4 asks for UTF8String).
    Utf8(String),
    /// `PrintableString` (serialNumber, countryName).
    Printable(String),
    /// `IA5String` (emailAddress).
    Ia5(String),
}

/// Builds a `Name` with one attribute per RDN, in the given order (most significant first).
pub fn build_name(attrs: &[(ObjectIdentifier, NameValue)]) -> Result<Name> {
    let mut rdns = Vec::with_capacity(attrs.len());
    for (oid, value) in attrs {
        let any = match value {
            NameValue::Utf8(s) => {
                Any::encode_from(&Utf8StringRef::new(s).map_err(encode_err("UTF8String"))?)
            }
            NameValue::Printable(s) => Any::encode_from(
                &PrintableString::new(s)
                    .map_err(|_| PkiError::invalid(format!("{s:?} is not a PrintableString")))?,
            ),
            NameValue::Ia5(s) => Any::encode_from(
                &Ia5String::new(s).map_err(|_| PkiError::invalid(format!("{s:?} is not ASCII")))?,
            ),
        }
        .map_err(encode_err("name attribute"))?;
        let atv = AttributeTypeAndValue {
            oid: *oid,
            value: any,
        };
        let set = SetOfVec::try_from(vec![atv]).map_err(encode_err("RDN"))?;
        rdns.push(RelativeDistinguishedName(set));
    }
    Ok(RdnSequence(rdns))
}

/// The string value of the first attribute `oid` in `name`, if any.
pub fn name_attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| {
            let any = &atv.value;
            any.decode_as::<String>()
                .ok()
                .or_else(|| {
                    any.decode_as::<PrintableString>()
                        .ok()
                        .map(|s| s.to_string())
                })
                .or_else(|| any.decode_as::<Ia5String>().ok().map(|s| s.to_string()))
        })
}

/// An extension whose value is the DER of `value`.
pub fn extension<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Result<Extension> {
    let der = value.to_der().map_err(encode_err("extension value"))?;
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(der).map_err(encode_err("extension"))?,
    })
}

/// `basicConstraints`, critical.
pub fn ext_basic_constraints(ca: bool, path_len: Option<u8>) -> Result<Extension> {
    extension(
        oids::BASIC_CONSTRAINTS,
        true,
        &BasicConstraints {
            ca,
            path_len_constraint: path_len,
        },
    )
}

/// `keyUsage`, critical. Build the flags with `|`, e.g.
/// `KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation)`.
pub fn ext_key_usage(usage: KeyUsage) -> Result<Extension> {
    extension(oids::KEY_USAGE, true, &usage)
}

/// `extendedKeyUsage`.
pub fn ext_extended_key_usage(purposes: &[ObjectIdentifier], critical: bool) -> Result<Extension> {
    extension(
        oids::EXT_KEY_USAGE,
        critical,
        &ExtendedKeyUsage(purposes.to_vec()),
    )
}

/// `subjectKeyIdentifier` for `spki_der`.
pub fn ext_subject_key_id(spki_der: &[u8]) -> Result<Extension> {
    let id = OctetString::new(key_identifier(spki_der)?).map_err(encode_err("key identifier"))?;
    extension(oids::SUBJECT_KEY_ID, false, &SubjectKeyIdentifier(id))
}

/// `authorityKeyIdentifier` with the key identifier of the issuer's key.
pub fn ext_authority_key_id(issuer_spki_der: &[u8]) -> Result<Extension> {
    let id =
        OctetString::new(key_identifier(issuer_spki_der)?).map_err(encode_err("key identifier"))?;
    extension(
        oids::AUTHORITY_KEY_ID,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(id),
            ..Default::default()
        },
    )
}

fn uri(url: &str) -> Result<GeneralName> {
    Ok(GeneralName::UniformResourceIdentifier(
        Ia5String::new(url).map_err(|_| PkiError::invalid(format!("URL {url:?} is not ASCII")))?,
    ))
}

/// `authorityInfoAccess` with an OCSP responder and a caIssuers URL.
pub fn ext_authority_info_access(ocsp_url: &str, ca_issuers_url: &str) -> Result<Extension> {
    let aia = AuthorityInfoAccessSyntax(vec![
        AccessDescription {
            access_method: oids::AD_OCSP,
            access_location: uri(ocsp_url)?,
        },
        AccessDescription {
            access_method: oids::AD_CA_ISSUERS,
            access_location: uri(ca_issuers_url)?,
        },
    ]);
    extension(oids::AUTHORITY_INFO_ACCESS, false, &aia)
}

/// `cRLDistributionPoints` with one full-name URL.
pub fn ext_crl_distribution_point(url: &str) -> Result<Extension> {
    let dp = DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![uri(url)?])),
        reasons: None,
        crl_issuer: None,
    };
    extension(
        oids::CRL_DISTRIBUTION_POINTS,
        false,
        &CrlDistributionPoints(vec![dp]),
    )
}

/// `subjectAltName` with one rfc822Name.
pub fn ext_subject_alt_email(email: &str) -> Result<Extension> {
    let name = GeneralName::Rfc822Name(
        Ia5String::new(email)
            .map_err(|_| PkiError::invalid(format!("e-mail {email:?} is not ASCII")))?,
    );
    extension(oids::SUBJECT_ALT_NAME, false, &SubjectAltName(vec![name]))
}

/// Everything a certificate needs besides the issuer's signature.
#[derive(Debug, Clone)]
pub struct CertTemplate {
    /// Serial number (use [`random_serial`]).
    pub serial: SerialNumber,
    /// Issuer name (the subject of the issuer certificate, or `subject` for a self-signed one).
    pub issuer: Name,
    /// Subject name.
    pub subject: Name,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// The certified public key, `SubjectPublicKeyInfo` DER.
    pub spki_der: Vec<u8>,
    /// Extensions, in order.
    pub extensions: Vec<Extension>,
}

impl CertTemplate {
    /// Encodes the `TBSCertificate` (v3), signs it with `issuer_key`'s default scheme and
    /// returns the certificate.
    pub fn sign(self, issuer_key: &PrivateKey) -> Result<Certificate> {
        let scheme = issuer_key.default_scheme();
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: self.serial,
            signature: scheme.algorithm_identifier(),
            issuer: self.issuer,
            validity: Validity {
                not_before: x509_time(self.not_before)?,
                not_after: x509_time(self.not_after)?,
            },
            subject: self.subject,
            subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&self.spki_der)
                .map_err(decode_err("SubjectPublicKeyInfo"))?,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: if self.extensions.is_empty() {
                None
            } else {
                Some(self.extensions)
            },
        };
        let tbs_der = to_der(&tbs, "TBSCertificate")?;
        let signature = issuer_key.sign(scheme, &tbs_der)?;
        Ok(Certificate {
            tbs_certificate: tbs,
            signature_algorithm: scheme.algorithm_identifier(),
            signature: BitString::from_bytes(&signature).map_err(encode_err("signature"))?,
        })
    }
}

/// Verifies that `issuer` signed `cert` (signature only: no validity or extension checks).
pub fn verify_issued_by(cert: &Certificate, issuer: &Certificate) -> Result<()> {
    let tbs = to_der(&cert.tbs_certificate, "TBSCertificate")?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or_else(|| PkiError::malformed("certificate signature has unused bits"))?;
    crate::key::verify_signature(&spki_der(issuer)?, &cert.signature_algorithm, &tbs, sig)
}

/// Re-encodes a DER tree with every GeneralizedTime that has fractional seconds truncated to
/// whole seconds (RFC 3161 genTime and many OCSP responders use fractions; `der` 0.7 refuses
/// them); `None` if nothing had to change or on a decode error. For *decoding* only: signatures
/// must be checked over the original bytes.
pub fn truncate_fractional_times(der_bytes: &[u8]) -> Option<Vec<u8>> {
    use der::{Any, Decode, Encode, Reader, Tagged};
    fn walk(a: &Any, changed: &mut bool) -> Option<Any> {
        let tag = a.tag();
        if tag == der::Tag::GeneralizedTime {
            let v = a.value();
            if let Some(dot) = v.iter().position(|&b| b == b'.') {
                if v.last() == Some(&b'Z') {
                    *changed = true;
                    return Any::new(tag, [&v[..dot], b"Z"].concat()).ok();
                }
            }
            return Some(a.clone());
        }
        if !tag.is_constructed() {
            return Some(a.clone());
        }
        let mut r = der::SliceReader::new(a.value()).ok()?;
        let mut out = Vec::new();
        while !r.is_finished() {
            let child: Any = r.decode().ok()?;
            out.extend(walk(&child, changed)?.to_der().ok()?);
        }
        Any::new(tag, out).ok()
    }
    let any = Any::from_der(der_bytes).ok()?;
    let mut changed = false;
    let new = walk(&any, &mut changed)?;
    if changed {
        new.to_der().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_until_2049_generalized_after() {
        let t2049 = UNIX_EPOCH + Duration::from_secs(2_524_607_999);
        assert!(matches!(x509_time(t2049).unwrap(), Time::UtcTime(_)));
        let t2050 = UNIX_EPOCH + Duration::from_secs(2_524_608_000);
        assert!(matches!(x509_time(t2050).unwrap(), Time::GeneralTime(_)));
    }

    #[test]
    fn serial_is_16_positive_bytes() {
        for _ in 0..50 {
            let s = random_serial().unwrap();
            assert_eq!(s.as_bytes().len(), 16);
            assert_eq!(s.as_bytes()[0] & 0xc0, 0x40);
            assert_eq!(serial_hex(&s).len(), 32);
        }
    }
}
