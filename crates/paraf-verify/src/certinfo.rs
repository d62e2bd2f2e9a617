//! Certificate details for the report: names as RFC 4514 strings, validity, key usages,
//! algorithms, fingerprints.

use const_oid::db::rfc5280;
use const_oid::ObjectIdentifier;
use der::Encode;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::Certificate;

use crate::report::CertificateInfo;
use crate::time::rfc3339;

/// The subject's common name, if any.
pub fn common_name(cert: &Certificate) -> Option<String> {
    paraf_pki::x509::name_attribute(&cert.tbs_certificate.subject, paraf_pki::oids::COMMON_NAME)
}

/// A short label: the common name, else the whole subject.
pub fn label(cert: &Certificate) -> String {
    common_name(cert).unwrap_or_else(|| cert.tbs_certificate.subject.to_string())
}

/// SHA-256 of the certificate DER.
pub fn fingerprint(cert: &Certificate) -> Option<Vec<u8>> {
    cert.to_der()
        .ok()
        .map(|d| paraf_pki::DigestAlg::Sha256.digest(&d))
}

/// Whether the certificate says where its revocation status is published: a CRL distribution
/// point, or an OCSP responder in its Authority Information Access.
pub fn has_revocation_pointers(cert: &Certificate) -> bool {
    use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};
    // An extension that cannot be read (duplicated, malformed) counts as a pointer: the soft
    // policy excuses only a certificate that plainly names none.
    let crl = match cert.tbs_certificate.get::<CrlDistributionPoints>() {
        Ok(Some((_, dps))) => !dps.0.is_empty(),
        Ok(None) => false,
        Err(_) => true,
    };
    let ocsp = match cert.tbs_certificate.get::<AuthorityInfoAccessSyntax>() {
        Ok(Some((_, aia))) => aia
            .0
            .iter()
            .any(|ad| ad.access_method == rfc5280::ID_AD_OCSP),
        Ok(None) => false,
        Err(_) => true,
    };
    crl || ocsp
}

/// The key usage extension, if present and decodable.
pub fn key_usage(cert: &Certificate) -> Option<KeyUsage> {
    cert.tbs_certificate
        .get::<KeyUsage>()
        .ok()
        .flatten()
        .map(|(_, ku)| ku)
}

/// The extended key usage purposes, if the extension is present and decodable.
pub fn extended_key_usage(cert: &Certificate) -> Option<Vec<ObjectIdentifier>> {
    cert.tbs_certificate
        .get::<ExtendedKeyUsage>()
        .ok()
        .flatten()
        .map(|(_, e)| e.0)
}

fn key_usage_names(ku: &KeyUsage) -> Vec<String> {
    let all = [
        (KeyUsages::DigitalSignature, "digitalSignature"),
        (KeyUsages::NonRepudiation, "nonRepudiation"),
        (KeyUsages::KeyEncipherment, "keyEncipherment"),
        (KeyUsages::DataEncipherment, "dataEncipherment"),
        (KeyUsages::KeyAgreement, "keyAgreement"),
        (KeyUsages::KeyCertSign, "keyCertSign"),
        (KeyUsages::CRLSign, "cRLSign"),
        (KeyUsages::EncipherOnly, "encipherOnly"),
        (KeyUsages::DecipherOnly, "decipherOnly"),
    ];
    all.iter()
        .filter(|(flag, _)| ku.0.contains(*flag))
        .map(|(_, n)| (*n).to_string())
        .collect()
}

/// A readable name for an algorithm OID.
pub fn algorithm_name(oid: &ObjectIdentifier) -> String {
    use paraf_pki::oids as o;
    let known: [(ObjectIdentifier, &str); 14] = [
        (o::RSA_ENCRYPTION, "RSA"),
        (o::EC_PUBLIC_KEY, "EC"),
        (o::RSASSA_PSS, "RSASSA-PSS"),
        (o::SHA256_WITH_RSA, "sha256WithRSAEncryption"),
        (o::SHA384_WITH_RSA, "sha384WithRSAEncryption"),
        (o::SHA512_WITH_RSA, "sha512WithRSAEncryption"),
        (o::ECDSA_SHA256, "ecdsa-with-SHA256"),
        (o::ECDSA_SHA384, "ecdsa-with-SHA384"),
        (o::ECDSA_SHA512, "ecdsa-with-SHA512"),
        (o::SHA1, "sha1"),
        (o::SHA256, "sha256"),
        (o::SHA384, "sha384"),
        (o::SHA512, "sha512"),
        (
            ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
            "sha1WithRSAEncryption",
        ),
    ];
    known
        .iter()
        .find(|(k, _)| k == oid)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| oid.to_string())
}

fn eku_name(oid: &ObjectIdentifier) -> String {
    let known: [(ObjectIdentifier, &str); 6] = [
        (rfc5280::ID_KP_SERVER_AUTH, "serverAuth"),
        (rfc5280::ID_KP_CLIENT_AUTH, "clientAuth"),
        (rfc5280::ID_KP_CODE_SIGNING, "codeSigning"),
        (rfc5280::ID_KP_EMAIL_PROTECTION, "emailProtection"),
        (rfc5280::ID_KP_TIME_STAMPING, "timeStamping"),
        (rfc5280::ID_KP_OCSP_SIGNING, "OCSPSigning"),
    ];
    known
        .iter()
        .find(|(k, _)| k == oid)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| oid.to_string())
}

/// The report's view of a certificate.
pub fn info(cert: &Certificate) -> CertificateInfo {
    let tbs = &cert.tbs_certificate;
    CertificateInfo {
        subject: tbs.subject.to_string(),
        common_name: common_name(cert),
        issuer: tbs.issuer.to_string(),
        serial: paraf_pki::x509::serial_hex(&tbs.serial_number),
        not_before: rfc3339(tbs.validity.not_before.to_system_time()),
        not_after: rfc3339(tbs.validity.not_after.to_system_time()),
        key_usage: key_usage(cert)
            .map(|k| key_usage_names(&k))
            .unwrap_or_default(),
        extended_key_usage: extended_key_usage(cert)
            .map(|v| v.iter().map(eku_name).collect())
            .unwrap_or_default(),
        public_key_algorithm: algorithm_name(&tbs.subject_public_key_info.algorithm.oid),
        signature_algorithm: algorithm_name(&cert.signature_algorithm.oid),
        sha256: fingerprint(cert).map(hex::encode).unwrap_or_default(),
    }
}
