//! SHA-2 digests ([`DigestAlg`]), one-shot and streaming ([`Hasher`]), backed by aws-lc-rs.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;
use spki::AlgorithmIdentifierOwned;

use crate::error::{PkiError, Result};
use crate::oids;

/// A message digest algorithm usable for signatures, CMS and time-stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlg {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SHA-384 (FIPS 180-4).
    Sha384,
    /// SHA-512 (FIPS 180-4).
    Sha512,
}

impl DigestAlg {
    /// The algorithm's object identifier (`id-sha256`, ...).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            DigestAlg::Sha256 => oids::SHA256,
            DigestAlg::Sha384 => oids::SHA384,
            DigestAlg::Sha512 => oids::SHA512,
        }
    }

    /// The algorithm for an object identifier, if it is one of ours.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512]
            .into_iter()
            .find(|d| d.oid() == *oid)
    }

    /// `AlgorithmIdentifier` with absent parameters, as RFC 5754 section 2 prescribes for SHA-2.
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        self.aws().output_len()
    }

    /// Digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.aws(), data).as_ref().to_vec()
    }

    /// A streaming hasher, for input too large to hold in memory.
    pub fn hasher(self) -> Hasher {
        Hasher {
            ctx: digest::Context::new(self.aws()),
            alg: self,
        }
    }

    /// Lower-case name: `sha256`, `sha384`, `sha512`.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlg::Sha256 => "sha256",
            DigestAlg::Sha384 => "sha384",
            DigestAlg::Sha512 => "sha512",
        }
    }

    pub(crate) fn aws(self) -> &'static digest::Algorithm {
        match self {
            DigestAlg::Sha256 => &digest::SHA256,
            DigestAlg::Sha384 => &digest::SHA384,
            DigestAlg::Sha512 => &digest::SHA512,
        }
    }

    /// Errors unless `digest` has this algorithm's output length.
    pub(crate) fn check_len(self, digest: &[u8]) -> Result<()> {
        if digest.len() == self.output_len() {
            Ok(())
        } else {
            Err(PkiError::invalid(format!(
                "a {} digest is {} bytes, got {}",
                self.name(),
                self.output_len(),
                digest.len()
            )))
        }
    }
}

impl fmt::Display for DigestAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DigestAlg {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(DigestAlg::Sha256),
            "sha384" => Ok(DigestAlg::Sha384),
            "sha512" => Ok(DigestAlg::Sha512),
            _ => Err(PkiError::invalid(format!(
                "unknown digest algorithm {s:?} (sha256, sha384, sha512)"
            ))),
        }
    }
}

/// Incremental digest: feed with [`Hasher::update`], close with [`Hasher::finish`].
#[derive(Clone)]
pub struct Hasher {
    ctx: digest::Context,
    alg: DigestAlg,
}

impl Hasher {
    /// Adds `data` to the hashed input.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> DigestAlg {
        self.alg
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Vec<u8> {
        self.ctx.finish().as_ref().to_vec()
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-1, only where a format demands it (OCSP CertID, key identifiers, PKCS#12 local key ids).
pub(crate) fn sha1(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_matches_one_shot() {
        let data = vec![7u8; 100_000];
        for alg in [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512] {
            let mut h = alg.hasher();
            for chunk in data.chunks(999) {
                h.update(chunk);
            }
            let d = h.finish();
            assert_eq!(d, alg.digest(&data));
            assert_eq!(d.len(), alg.output_len());
            assert_eq!(DigestAlg::from_oid(&alg.oid()), Some(alg));
            assert_eq!(alg.name().parse::<DigestAlg>().unwrap(), alg);
        }
        assert_eq!(
            hex::encode(DigestAlg::Sha256.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
