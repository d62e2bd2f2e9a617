//! Private keys ([`PrivateKey`]: RSA 2048/3072, ECDSA P-256/P-384), signature schemes and their
//! `AlgorithmIdentifier`s ([`SignatureScheme`]), and signature verification ([`verify_signature`]).

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use const_oid::ObjectIdentifier;
use der::asn1::Null;
use der::{Any, Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::digest::DigestAlg;
use crate::error::{decode_err, encode_err, PkiError, Result};
use crate::oids;

/// Which kind of key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// ECDSA on NIST P-256 (secp256r1).
    P256,
    /// ECDSA on NIST P-384 (secp384r1).
    P384,
}

impl KeyType {
    /// The name [`FromStr`] accepts: `rsa2048`, `rsa3072`, `p256`, `p384`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "rsa2048",
            KeyType::Rsa3072 => "rsa3072",
            KeyType::P256 => "p256",
            KeyType::P384 => "p384",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyType {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "rsa2048" => Ok(KeyType::Rsa2048),
            "rsa3072" => Ok(KeyType::Rsa3072),
            "p256" | "secp256r1" | "prime256v1" => Ok(KeyType::P256),
            "p384" | "secp384r1" => Ok(KeyType::P384),
            _ => Err(PkiError::invalid(format!(
                "unknown key type {s:?} (rsa2048, rsa3072, p256, p384)"
            ))),
        }
    }
}

/// A signature algorithm together with its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 section 8.2).
    RsaPkcs1v15(DigestAlg),
    /// RSASSA-PSS with MGF1 over the same digest and a salt as long as the digest (RFC 4055).
    RsaPss(DigestAlg),
    /// ECDSA with a DER `Ecdsa-Sig-Value` signature (RFC 5758 section 3.2).
    Ecdsa(DigestAlg),
}

/// `RSASSA-PSS-params` (RFC 4055 section 3.1).
///
/// ```text
/// RSASSA-PSS-params  ::=  SEQUENCE  {
///     hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
///     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
///     saltLength         [2] INTEGER DEFAULT 20,
///     trailerField       [3] INTEGER DEFAULT 1  }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct RsaPssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

impl SignatureScheme {
    /// The digest the scheme hashes the message with.
    pub fn digest(&self) -> DigestAlg {
        match *self {
            SignatureScheme::RsaPkcs1v15(d)
            | SignatureScheme::RsaPss(d)
            | SignatureScheme::Ecdsa(d) => d,
        }
    }

    /// The `AlgorithmIdentifier` for certificates, CRLs, OCSP and CMS `signatureAlgorithm`:
    /// `shaNNNWithRSAEncryption` with NULL parameters, `id-RSASSA-PSS` with explicit
    /// `RSASSA-PSS-params` (same hash for MGF1, salt length = hash length), or
    /// `ecdsa-with-SHANNN` with absent parameters.
    pub fn algorithm_identifier(&self) -> AlgorithmIdentifierOwned {
        match *self {
            SignatureScheme::RsaPkcs1v15(d) => AlgorithmIdentifierOwned {
                oid: match d {
                    DigestAlg::Sha256 => oids::SHA256_WITH_RSA,
                    DigestAlg::Sha384 => oids::SHA384_WITH_RSA,
                    DigestAlg::Sha512 => oids::SHA512_WITH_RSA,
                },
                parameters: Some(Any::from(Null)),
            },
            SignatureScheme::RsaPss(d) => AlgorithmIdentifierOwned {
                oid: oids::RSASSA_PSS,
                parameters: pss_params(d),
            },
            SignatureScheme::Ecdsa(d) => AlgorithmIdentifierOwned {
                oid: match d {
                    DigestAlg::Sha256 => oids::ECDSA_SHA256,
                    DigestAlg::Sha384 => oids::ECDSA_SHA384,
                    DigestAlg::Sha512 => oids::ECDSA_SHA512,
                },
                parameters: None,
            },
        }
    }

    /// The scheme an `AlgorithmIdentifier` names. `rsaEncryption` alone does not name a digest
    /// (CMS uses it with the SignerInfo's `digestAlgorithm`): use
    /// [`SignatureScheme::from_algorithm_identifier_with_digest`] for that.
    pub fn from_algorithm_identifier(alg: &AlgorithmIdentifierOwned) -> Result<Self> {
        let oid = alg.oid;
        let scheme = if oid == oids::SHA256_WITH_RSA {
            SignatureScheme::RsaPkcs1v15(DigestAlg::Sha256)
        } else if oid == oids::SHA384_WITH_RSA {
            SignatureScheme::RsaPkcs1v15(DigestAlg::Sha384)
        } else if oid == oids::SHA512_WITH_RSA {
            SignatureScheme::RsaPkcs1v15(DigestAlg::Sha512)
        } else if oid == oids::ECDSA_SHA256 {
            SignatureScheme::Ecdsa(DigestAlg::Sha256)
        } else if oid == oids::ECDSA_SHA384 {
            SignatureScheme::Ecdsa(DigestAlg::Sha384)
        } else if oid == oids::ECDSA_SHA512 {
            SignatureScheme::Ecdsa(DigestAlg::Sha512)
        } else if oid == oids::RSASSA_PSS {
            SignatureScheme::RsaPss(parse_pss_params(alg.parameters.as_ref())?)
        } else if oid == oids::RSA_ENCRYPTION {
            return Err(PkiError::unsupported(
                "rsaEncryption does not name a digest; give the digest algorithm explicitly",
            ));
        } else {
            return Err(PkiError::unsupported(format!(
                "signature algorithm {oid} is not supported"
            )));
        };
        Ok(scheme)
    }

    /// Like [`SignatureScheme::from_algorithm_identifier`], but also accepts `rsaEncryption`
    /// (and `id-ecPublicKey`), taking the digest from `digest` as CMS SignerInfos do.
    pub fn from_algorithm_identifier_with_digest(
        alg: &AlgorithmIdentifierOwned,
        digest: DigestAlg,
    ) -> Result<Self> {
        if alg.oid == oids::RSA_ENCRYPTION {
            Ok(SignatureScheme::RsaPkcs1v15(digest))
        } else if alg.oid == oids::EC_PUBLIC_KEY {
            Ok(SignatureScheme::Ecdsa(digest))
        } else {
            Self::from_algorithm_identifier(alg)
        }
    }
}

fn pss_params(d: DigestAlg) -> Option<Any> {
    // RFC 4055 section 2.1: the hash identifiers inside PSS parameters carry NULL.
    let hash = AlgorithmIdentifierOwned {
        oid: d.oid(),
        parameters: Some(Any::from(Null)),
    };
    let mgf_params = Any::encode_from(&hash).ok()?;
    let params = RsaPssParams {
        hash_algorithm: Some(hash),
        mask_gen_algorithm: Some(AlgorithmIdentifierOwned {
            oid: oids::MGF1,
            parameters: Some(mgf_params),
        }),
        salt_length: Some(u32::try_from(d.output_len()).ok()?),
        trailer_field: None,
    };
    Any::encode_from(&params).ok()
}

fn parse_pss_params(params: Option<&Any>) -> Result<DigestAlg> {
    let params = params
        .ok_or_else(|| PkiError::malformed("RSASSA-PSS AlgorithmIdentifier without parameters"))?;
    let p: RsaPssParams = params
        .decode_as()
        .map_err(decode_err("RSASSA-PSS-params"))?;
    let hash = p
        .hash_algorithm
        .as_ref()
        .ok_or_else(|| PkiError::unsupported("RSASSA-PSS with SHA-1 is not supported"))?;
    let d = DigestAlg::from_oid(&hash.oid).ok_or_else(|| {
        PkiError::unsupported(format!(
            "RSASSA-PSS with hash {} is not supported",
            hash.oid
        ))
    })?;
    let mgf = p
        .mask_gen_algorithm
        .as_ref()
        .ok_or_else(|| PkiError::unsupported("RSASSA-PSS with MGF1-SHA-1 is not supported"))?;
    let mgf_hash: Option<AlgorithmIdentifierOwned> = mgf
        .parameters
        .as_ref()
        .map(|a| a.decode_as())
        .transpose()
        .map_err(decode_err("MGF1 parameters"))?;
    if mgf.oid != oids::MGF1 || mgf_hash.map(|h| h.oid) != Some(d.oid()) {
        return Err(PkiError::unsupported(
            "RSASSA-PSS with a mask generation other than MGF1 over the same hash",
        ));
    }
    if p.salt_length.map(|s| s as usize) != Some(d.output_len()) {
        return Err(PkiError::unsupported(
            "RSASSA-PSS with a salt length other than the hash length",
        ));
    }
    if p.trailer_field.unwrap_or(1) != 1 {
        return Err(PkiError::unsupported(
            "RSASSA-PSS with a trailer field other than 1",
        ));
    }
    Ok(d)
}

enum Inner {
    Rsa(aws_lc_rs::rsa::KeyPair),
    P256(EcdsaKeyPair),
    P384(EcdsaKeyPair),
}

/// A private key held in memory: RSA or ECDSA (P-256, P-384).
pub struct PrivateKey {
    inner: Inner,
    /// `SubjectPublicKeyInfo` DER, computed once when the key is made or loaded.
    spki: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Rsa(k) => write!(f, "PrivateKey(RSA-{})", k.public_modulus_len() * 8),
            Inner::P256(_) => f.write_str("PrivateKey(P-256)"),
            Inner::P384(_) => f.write_str("PrivateKey(P-384)"),
        }
    }
}

fn keygen_err(_: aws_lc_rs::error::Unspecified) -> PkiError {
    PkiError::crypto("key generation failed")
}

impl PrivateKey {
    /// Generates a fresh key from the system's random source.
    pub fn generate(key_type: KeyType) -> Result<Self> {
        let inner = match key_type {
            KeyType::Rsa2048 => {
                Inner::Rsa(aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).map_err(keygen_err)?)
            }
            KeyType::Rsa3072 => {
                Inner::Rsa(aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa3072).map_err(keygen_err)?)
            }
            KeyType::P256 => Inner::P256(
                EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).map_err(keygen_err)?,
            ),
            KeyType::P384 => Inner::P384(
                EcdsaKeyPair::generate(&sig::ECDSA_P384_SHA384_ASN1_SIGNING).map_err(keygen_err)?,
            ),
        };
        Self::from_inner(inner)
    }

    fn from_inner(inner: Inner) -> Result<Self> {
        let spki = match &inner {
            Inner::Rsa(k) => AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(k.public_key())
                .map(|d| d.as_ref().to_vec()),
            Inner::P256(k) | Inner::P384(k) => {
                AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(k.public_key())
                    .map(|d| d.as_ref().to_vec())
            }
        }
        .map_err(|_| PkiError::crypto("cannot serialize public key"))?;
        Ok(PrivateKey { inner, spki })
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` (RFC 5208) holding an RSA (2048 to 8192 bits) or
    /// P-256/P-384 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = aws_lc_rs::rsa::KeyPair::from_pkcs8(der) {
            return Self::from_inner(Inner::Rsa(k));
        }
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            return Self::from_inner(Inner::P256(k));
        }
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, der) {
            return Self::from_inner(Inner::P384(k));
        }
        // Tell a malformed blob apart from a well-formed key of another kind.
        match pkcs8_algorithm(der) {
            Some(oid) => Err(PkiError::unsupported(format!(
                "private key of algorithm {oid} is not supported (RSA 2048-8192, EC P-256, P-384 are)"
            ))),
            None => Err(PkiError::malformed("not a PKCS#8 PrivateKeyInfo")),
        }
    }

    /// The key as PKCS#8 `PrivateKeyInfo` DER, wiped from memory when dropped.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let der = match &self.inner {
            Inner::Rsa(k) => AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(k)
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| PkiError::crypto("cannot serialize RSA key"))?,
            Inner::P256(k) | Inner::P384(k) => k
                .to_pkcs8v1()
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| PkiError::crypto("cannot serialize EC key"))?,
        };
        Ok(Zeroizing::new(der))
    }

    /// The public key as `SubjectPublicKeyInfo` DER.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// The public key as `SubjectPublicKeyInfo` DER, borrowed.
    pub fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    /// The scheme to use unless told otherwise: RSA PKCS#1 v1.5 with SHA-256, ECDSA with
    /// SHA-256 on P-256 and SHA-384 on P-384.
    pub fn default_scheme(&self) -> SignatureScheme {
        match &self.inner {
            Inner::Rsa(_) => SignatureScheme::RsaPkcs1v15(DigestAlg::Sha256),
            Inner::P256(_) => SignatureScheme::Ecdsa(DigestAlg::Sha256),
            Inner::P384(_) => SignatureScheme::Ecdsa(DigestAlg::Sha384),
        }
    }

    /// Whether the key can produce signatures of `scheme`. ECDSA keys sign with their curve's
    /// hash only (SHA-256 on P-256, SHA-384 on P-384).
    pub fn supports(&self, scheme: SignatureScheme) -> bool {
        matches!(
            (&self.inner, scheme),
            (
                Inner::Rsa(_),
                SignatureScheme::RsaPkcs1v15(_) | SignatureScheme::RsaPss(_)
            ) | (Inner::P256(_), SignatureScheme::Ecdsa(DigestAlg::Sha256))
                | (Inner::P384(_), SignatureScheme::Ecdsa(DigestAlg::Sha384))
        )
    }

    /// Hashes `message` with the scheme's digest and signs it.
    pub fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>> {
        let rng = SystemRandom::new();
        let failed = |_| PkiError::crypto("signing failed");
        match (&self.inner, scheme) {
            (Inner::Rsa(k), SignatureScheme::RsaPkcs1v15(d) | SignatureScheme::RsaPss(d)) => {
                let pss = matches!(scheme, SignatureScheme::RsaPss(_));
                let padding: &'static dyn aws_lc_rs::signature::RsaEncoding = match (pss, d) {
                    (false, DigestAlg::Sha256) => &sig::RSA_PKCS1_SHA256,
                    (false, DigestAlg::Sha384) => &sig::RSA_PKCS1_SHA384,
                    (false, DigestAlg::Sha512) => &sig::RSA_PKCS1_SHA512,
                    (true, DigestAlg::Sha256) => &sig::RSA_PSS_SHA256,
                    (true, DigestAlg::Sha384) => &sig::RSA_PSS_SHA384,
                    (true, DigestAlg::Sha512) => &sig::RSA_PSS_SHA512,
                };
                let mut out = vec![0u8; k.public_modulus_len()];
                k.sign(padding, &rng, message, &mut out).map_err(failed)?;
                Ok(out)
            }
            (Inner::P256(k), SignatureScheme::Ecdsa(DigestAlg::Sha256))
            | (Inner::P384(k), SignatureScheme::Ecdsa(DigestAlg::Sha384)) => {
                Ok(k.sign(&rng, message).map_err(failed)?.as_ref().to_vec())
            }
            _ => Err(PkiError::unsupported(format!(
                "a {self:?} cannot sign with {scheme:?}"
            ))),
        }
    }
}

/// The algorithm OID of a PKCS#8 `PrivateKeyInfo`, if `der` is one.
fn pkcs8_algorithm(der: &[u8]) -> Option<ObjectIdentifier> {
    #[derive(Sequence)]
    struct PrivateKeyInfoHead {
        _version: u8,
        algorithm: AlgorithmIdentifierOwned,
        _private_key: der::asn1::OctetString,
        #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
        _attributes: Option<Any>,
        #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
        _public_key: Option<der::asn1::BitString>,
    }
    PrivateKeyInfoHead::from_der(der)
        .ok()
        .map(|p| p.algorithm.oid)
}

/// Verifies `signature` over `message` with the public key `spki_der` (a `SubjectPublicKeyInfo`)
/// for the signature algorithm `alg` (as found in certificates, CRLs, OCSP responses and CMS).
pub fn verify_signature(
    spki_der: &[u8],
    alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let scheme = SignatureScheme::from_algorithm_identifier(alg)?;
    verify_with_scheme(spki_der, scheme, message, signature)
}

/// The public-key algorithm of a `SubjectPublicKeyInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublicKeyKind {
    Rsa,
    P256,
    P384,
}

pub(crate) fn public_key_kind(spki_der: &[u8]) -> Result<PublicKeyKind> {
    let spki =
        SubjectPublicKeyInfoRef::from_der(spki_der).map_err(decode_err("SubjectPublicKeyInfo"))?;
    if spki.algorithm.oid == oids::RSA_ENCRYPTION {
        return Ok(PublicKeyKind::Rsa);
    }
    if spki.algorithm.oid == oids::EC_PUBLIC_KEY {
        let curve: ObjectIdentifier = spki
            .algorithm
            .parameters
            .ok_or_else(|| PkiError::malformed("EC public key without curve parameters"))?
            .decode_as()
            .map_err(decode_err("EC curve identifier"))?;
        if curve == oids::SECP256R1 {
            return Ok(PublicKeyKind::P256);
        }
        if curve == oids::SECP384R1 {
            return Ok(PublicKeyKind::P384);
        }
        return Err(PkiError::unsupported(format!(
            "EC curve {curve} is not supported"
        )));
    }
    Err(PkiError::unsupported(format!(
        "public key algorithm {} is not supported",
        spki.algorithm.oid
    )))
}

/// Verifies `signature` over `message` with the public key `spki_der` for `scheme`.
pub fn verify_with_scheme(
    spki_der: &[u8],
    scheme: SignatureScheme,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let kind = public_key_kind(spki_der)?;
    let alg: &'static dyn sig::VerificationAlgorithm = match (kind, scheme) {
        (PublicKeyKind::Rsa, SignatureScheme::RsaPkcs1v15(DigestAlg::Sha256)) => {
            &sig::RSA_PKCS1_2048_8192_SHA256
        }
        (PublicKeyKind::Rsa, SignatureScheme::RsaPkcs1v15(DigestAlg::Sha384)) => {
            &sig::RSA_PKCS1_2048_8192_SHA384
        }
        (PublicKeyKind::Rsa, SignatureScheme::RsaPkcs1v15(DigestAlg::Sha512)) => {
            &sig::RSA_PKCS1_2048_8192_SHA512
        }
        (PublicKeyKind::Rsa, SignatureScheme::RsaPss(DigestAlg::Sha256)) => {
            &sig::RSA_PSS_2048_8192_SHA256
        }
        (PublicKeyKind::Rsa, SignatureScheme::RsaPss(DigestAlg::Sha384)) => {
            &sig::RSA_PSS_2048_8192_SHA384
        }
        (PublicKeyKind::Rsa, SignatureScheme::RsaPss(DigestAlg::Sha512)) => {
            &sig::RSA_PSS_2048_8192_SHA512
        }
        (PublicKeyKind::P256, SignatureScheme::Ecdsa(DigestAlg::Sha256)) => {
            &sig::ECDSA_P256_SHA256_ASN1
        }
        (PublicKeyKind::P256, SignatureScheme::Ecdsa(DigestAlg::Sha384)) => {
            &sig::ECDSA_P256_SHA384_ASN1
        }
        (PublicKeyKind::P256, SignatureScheme::Ecdsa(DigestAlg::Sha512)) => {
            &sig::ECDSA_P256_SHA512_ASN1
        }
        (PublicKeyKind::P384, SignatureScheme::Ecdsa(DigestAlg::Sha256)) => {
            &sig::ECDSA_P384_SHA256_ASN1
        }
        (PublicKeyKind::P384, SignatureScheme::Ecdsa(DigestAlg::Sha384)) => {
            &sig::ECDSA_P384_SHA384_ASN1
        }
        (PublicKeyKind::P384, SignatureScheme::Ecdsa(DigestAlg::Sha512)) => {
            &sig::ECDSA_P384_SHA512_ASN1
        }
        _ => {
            return Err(PkiError::crypto(format!(
                "a {kind:?} public key cannot verify a {scheme:?} signature"
            )));
        }
    };
    UnparsedPublicKey::new(alg, spki_der)
        .verify(message, signature)
        .map_err(|_| PkiError::crypto(format!("{scheme:?} signature does not verify")))
}

/// Encodes `value` to DER, naming it in the error.
pub(crate) fn to_der<T: Encode>(value: &T, what: &'static str) -> Result<Vec<u8>> {
    value.to_der().map_err(encode_err(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pss_identifier_roundtrips() {
        for d in [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512] {
            let s = SignatureScheme::RsaPss(d);
            let back =
                SignatureScheme::from_algorithm_identifier(&s.algorithm_identifier()).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn ec_key_refuses_foreign_hash() {
        let k = PrivateKey::generate(KeyType::P256).unwrap();
        let e = k
            .sign(SignatureScheme::Ecdsa(DigestAlg::Sha384), b"x")
            .unwrap_err();
        assert_eq!(e.kind(), crate::PkiErrorKind::Unsupported);
    }

    #[test]
    fn garbage_pkcs8_is_malformed() {
        let e = PrivateKey::from_pkcs8_der(b"nope").unwrap_err();
        assert_eq!(e.kind(), crate::PkiErrorKind::Malformed);
    }
}
