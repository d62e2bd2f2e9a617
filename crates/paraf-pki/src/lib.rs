//! Built-in PKI: keys, certificates, CA, CRL, OCSP, TSA, PKCS#12, PKCS#11 and CMS building.
//!
//! Synchronous and free of I/O except where a type says it reads a directory
//! ([`CertificateAuthority`]) or loads a module ([`Pkcs11Signer`]). Time is always a parameter
//! or an injected [`Clock`]; randomness comes from aws-lc-rs's system generator.

pub mod ca;
pub mod clock;
pub mod cms;
mod digest;
mod error;
mod key;
pub mod ocsp;
pub mod oids;
pub mod pkcs11;
pub mod pkcs12;
mod revocation;
pub mod sealed;
mod signer;
pub mod tsp;
pub mod x509;

pub use ca::{CaInitOptions, CaName, CertificateAuthority, IssueRequest};
pub use clock::Clock;
pub use digest::{DigestAlg, Hasher};
pub use error::{PkiError, PkiErrorKind, Result};
pub use key::{verify_signature, verify_with_scheme, KeyType, PrivateKey, SignatureScheme};

pub use pkcs11::Pkcs11Signer;
pub use revocation::{RevocationReason, RevocationSource};
pub use signer::{Signer, SoftSigner};
pub use tsp::{TimestampAt, TimestampAuthority, Timestamper};

/// Re-exports of the ASN.1 crates whose types appear in this crate's API.
pub mod asn1 {
    pub use ::cms as cms_types;
    pub use const_oid;
    pub use der;
    pub use spki;
    pub use x509_cert;
}
