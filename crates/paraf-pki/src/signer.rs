//! The [`Signer`] abstraction (a certificate, its chain and a way to sign) and [`SoftSigner`],
//! its in-memory implementation.

use x509_cert::Certificate;

use crate::error::{PkiError, Result};
use crate::key::{PrivateKey, SignatureScheme};
use crate::x509::same_public_key;

/// Something that signs on behalf of a certificate: an in-memory key ([`SoftSigner`]) or a key
/// on a token ([`crate::Pkcs11Signer`]).
pub trait Signer: Send + Sync {
    /// The signer's own (leaf) certificate.
    fn certificate(&self) -> &Certificate;
    /// Issuer certificates, from the leaf's issuer up to (and including) the root if known.
    /// The leaf is not in it.
    fn chain(&self) -> &[Certificate];
    /// The scheme [`Signer::sign`] produces.
    fn scheme(&self) -> SignatureScheme;
    /// Hashes `message` with the scheme's digest and signs it.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError>;
}

/// A [`Signer`] whose private key is in memory.
#[derive(Debug)]
pub struct SoftSigner {
    key: PrivateKey,
    cert: Certificate,
    chain: Vec<Certificate>,
    scheme: SignatureScheme,
}

impl SoftSigner {
    /// A signer for `key` and its certificate `cert`. `scheme` defaults to
    /// [`PrivateKey::default_scheme`]. Fails if the certificate is not for this key or the key
    /// cannot sign with `scheme`.
    pub fn new(
        key: PrivateKey,
        cert: Certificate,
        chain: Vec<Certificate>,
        scheme: Option<SignatureScheme>,
    ) -> Result<Self> {
        if !same_public_key(&cert, key.public_key_spki())? {
            return Err(PkiError::invalid(
                "the certificate is not for this private key",
            ));
        }
        let scheme = scheme.unwrap_or_else(|| key.default_scheme());
        if !key.supports(scheme) {
            return Err(PkiError::unsupported(format!(
                "a {key:?} cannot sign with {scheme:?}"
            )));
        }
        Ok(SoftSigner {
            key,
            cert,
            chain,
            scheme,
        })
    }

    /// A signer from a PKCS#12 file (see [`crate::pkcs12::parse`]), with the key's default scheme.
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self> {
        let (key, cert, chain) = crate::pkcs12::parse(der, password)?;
        Self::new(key, cert, chain, None)
    }

    /// The private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }
}

impl Signer for SoftSigner {
    fn certificate(&self) -> &Certificate {
        &self.cert
    }

    fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.key.sign(self.scheme, message)
    }
}
