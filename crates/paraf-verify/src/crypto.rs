//! Digests and signature verification for validation, wider than what signing needs: SHA-1 and
//! 1024-bit RSA are *verified* (old signatures exist) but reported as below the accepted
//! cryptographic constraints, so a report can say "intact, but weak" instead of "broken".

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoRef};
use x509_cert::Certificate;

use paraf_pki::oids;

const SHA1_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// A digest algorithm a signature may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        if *oid == oids::SHA1 {
            Some(Digest::Sha1)
        } else if *oid == oids::SHA256 {
            Some(Digest::Sha256)
        } else if *oid == oids::SHA384 {
            Some(Digest::Sha384)
        } else if *oid == oids::SHA512 {
            Some(Digest::Sha512)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha1 => "sha1",
            Digest::Sha256 => "sha256",
            Digest::Sha384 => "sha384",
            Digest::Sha512 => "sha512",
        }
    }

    /// Below the accepted constraints (SHA-1 signatures are forgeable).
    pub fn is_weak(self) -> bool {
        self == Digest::Sha1
    }

    fn aws(self) -> &'static digest::Algorithm {
        match self {
            Digest::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => &digest::SHA256,
            Digest::Sha384 => &digest::SHA384,
            Digest::Sha512 => &digest::SHA512,
        }
    }

    pub fn hasher(self) -> digest::Context {
        digest::Context::new(self.aws())
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.aws(), data).as_ref().to_vec()
    }
}

/// Hashes the two ranges of a `/ByteRange` straight from the file bytes (no copy).
pub fn digest_ranges(alg: Digest, data: &[u8], ranges: &[(usize, usize)]) -> Option<Vec<u8>> {
    let mut ctx = alg.hasher();
    for &(start, len) in ranges {
        ctx.update(data.get(start..start.checked_add(len)?)?);
    }
    Some(ctx.finish().as_ref().to_vec())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyKind {
    Rsa { bits: usize },
    P256,
    P384,
    P521,
}

fn key_kind(spki_der: &[u8]) -> Result<KeyKind, String> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| format!("cannot decode the public key: {e}"))?;
    if spki.algorithm.oid == oids::RSA_ENCRYPTION || spki.algorithm.oid == oids::RSASSA_PSS {
        // Modulus size from the RSAPublicKey SEQUENCE { INTEGER n, INTEGER e }.
        let key = spki.subject_public_key.raw_bytes();
        let bits = crate::der_walk::rsa_modulus_bits(key).unwrap_or(0);
        return Ok(KeyKind::Rsa { bits });
    }
    if spki.algorithm.oid == oids::EC_PUBLIC_KEY {
        let curve: ObjectIdentifier = spki
            .algorithm
            .parameters
            .ok_or("EC public key without a curve")?
            .decode_as()
            .map_err(|e| format!("EC curve: {e}"))?;
        return if curve == oids::SECP256R1 {
            Ok(KeyKind::P256)
        } else if curve == oids::SECP384R1 {
            Ok(KeyKind::P384)
        } else if curve == SECP521R1 {
            Ok(KeyKind::P521)
        } else {
            Err(format!("EC curve {curve} is not supported"))
        };
    }
    Err(format!(
        "public key algorithm {} is not supported",
        spki.algorithm.oid
    ))
}

/// What signature verification concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// A readable name of the scheme (`RSA PKCS#1 v1.5 with sha256`, ...).
    pub scheme: String,
    /// Below the accepted constraints (SHA-1, RSA < 2048 bits).
    pub weak: Option<String>,
}

/// Verifies `signature` over `message` with `spki_der`, for a signature algorithm identifier as
/// found in CMS (`digest` names the hash when the identifier is `rsaEncryption` or
/// `id-ecPublicKey`), certificates, CRLs and OCSP responses.
pub fn verify(
    spki_der: &[u8],
    alg: &AlgorithmIdentifierOwned,
    digest: Option<Digest>,
    message: &[u8],
    signature: &[u8],
) -> Result<Verified, String> {
    let kind = key_kind(spki_der)?;
    let oid = alg.oid;
    if oid == oids::RSASSA_PSS {
        // PSS parameters are parsed by paraf-pki (SHA-2 with MGF1 over the same hash).
        return paraf_pki::verify_signature(spki_der, alg, message, signature)
            .map(|()| Verified {
                scheme: "RSASSA-PSS".into(),
                weak: None,
            })
            .map_err(|e| e.message().to_string());
    }
    let (is_rsa, d) = if oid == oids::RSA_ENCRYPTION {
        (
            true,
            digest.ok_or("rsaEncryption without a digest algorithm")?,
        )
    } else if oid == oids::EC_PUBLIC_KEY {
        (
            false,
            digest.ok_or("id-ecPublicKey without a digest algorithm")?,
        )
    } else if oid == SHA1_WITH_RSA {
        (true, Digest::Sha1)
    } else if oid == oids::SHA256_WITH_RSA {
        (true, Digest::Sha256)
    } else if oid == oids::SHA384_WITH_RSA {
        (true, Digest::Sha384)
    } else if oid == oids::SHA512_WITH_RSA {
        (true, Digest::Sha512)
    } else if oid == ECDSA_SHA1 {
        (false, Digest::Sha1)
    } else if oid == oids::ECDSA_SHA256 {
        (false, Digest::Sha256)
    } else if oid == oids::ECDSA_SHA384 {
        (false, Digest::Sha384)
    } else if oid == oids::ECDSA_SHA512 {
        (false, Digest::Sha512)
    } else {
        return Err(format!("signature algorithm {oid} is not supported"));
    };
    let mut weak = d
        .is_weak()
        .then(|| format!("{} digests are no longer accepted", d.name()));
    let algo: &'static dyn VerificationAlgorithm = match (kind, is_rsa, d) {
        (KeyKind::Rsa { bits }, true, d) => {
            if bits < 2048 {
                weak = Some(format!("{bits}-bit RSA keys are no longer accepted"));
            }
            match d {
                Digest::Sha1 => &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                Digest::Sha256 => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                Digest::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                Digest::Sha512 => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
            }
        }
        (KeyKind::P256, false, Digest::Sha1) => &sig::ECDSA_P256_SHA1_ASN1,
        (KeyKind::P256, false, Digest::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
        (KeyKind::P256, false, Digest::Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
        (KeyKind::P256, false, Digest::Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
        (KeyKind::P384, false, Digest::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
        (KeyKind::P384, false, Digest::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
        (KeyKind::P384, false, Digest::Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
        (KeyKind::P521, false, Digest::Sha1) => &sig::ECDSA_P521_SHA1_ASN1,
        (KeyKind::P521, false, Digest::Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
        (KeyKind::P521, false, Digest::Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
        (KeyKind::P521, false, Digest::Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
        (k, _, d) => {
            return Err(format!(
                "a {k:?} key cannot verify a {} signature with {}",
                if is_rsa { "RSA" } else { "ECDSA" },
                d.name()
            ))
        }
    };
    let scheme = if is_rsa {
        format!("RSA PKCS#1 v1.5 with {}", d.name())
    } else {
        format!("ECDSA with {}", d.name())
    };
    UnparsedPublicKey::new(algo, spki_der)
        .verify(message, signature)
        .map_err(|_| format!("the {scheme} signature does not verify"))?;
    Ok(Verified { scheme, weak })
}

/// The certificate's `SubjectPublicKeyInfo` DER.
pub fn spki_der(cert: &Certificate) -> Option<Vec<u8>> {
    cert.tbs_certificate.subject_public_key_info.to_der().ok()
}

/// Whether `issuer` signed `cert` (signature only).
pub fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
    };
    let Some(spki) = spki_der(issuer) else {
        return false;
    };
    verify(&spki, &cert.signature_algorithm, None, &tbs, sig).is_ok()
}
