//! PKCS#12 (RFC 7292) files: read one key with its certificate and chain ([`parse`]), write one
//! ([`build`]).
//!
//! Written files use PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for both the key bag and the
//! certificate bags, and an HMAC-SHA256 MAC: what OpenSSL 3 writes by default, and what Python
//! `cryptography`, pyHanko and `openssl pkcs12` read. Reading also accepts the legacy
//! PKCS#12 PBE schemes (3DES, RC2-40) that `openssl pkcs12 -legacy` and older tools produce.

use x509_cert::Certificate;

use crate::digest::sha1;
use crate::error::{PkiError, PkiErrorKind, Result};
use crate::key::PrivateKey;
use crate::x509::{cert_from_der, cert_to_der, same_public_key};

/// PBKDF2 and MAC iteration count for written files: 2048, what OpenSSL 3 writes by default
/// (`openssl pkcs12 -export`), chosen deliberately over the 100 000 rounds written before.
/// A PKCS#12 file is opened by every `paraf sign` run: 100 000 rounds of PBKDF2-HMAC-SHA256
/// cost ≈ 25–35 ms per opening here (three derivations: MAC, key bag, certificate bag), 2048
/// cost ≈ 1 ms — the difference between a 10 ms and a 40 ms signing process
/// (docs/benchmarks.md). The rounds only slow down guessing a *weak* password of a stolen
/// file (50× for 100 000): the protection that matters is a strong password (or keys in a
/// PKCS#11 token); files meant to sit in untrusted places can be re-wrapped with more rounds
/// (`openssl pkcs12 -export -iter N`), which Paraf reads as well.
pub const ITERATIONS: u32 = 2048;

fn map_err(e: p12_keystore::error::Error) -> PkiError {
    use p12_keystore::error::Error as E;
    let kind = match &e {
        E::MacError(_) | E::UnpadError => PkiErrorKind::BadPassword,
        E::UnsupportedContentType
        | E::UnsupportedCertificateType
        | E::UnsupportedEncryptionScheme
        | E::UnsupportedMacAlgorithm => PkiErrorKind::Unsupported,
        E::IoError(_) => PkiErrorKind::Io,
        _ => PkiErrorKind::Malformed,
    };
    let message = match kind {
        PkiErrorKind::BadPassword => {
            "wrong PKCS#12 password (MAC or decryption check failed)".to_owned()
        }
        _ => format!("PKCS#12: {e}"),
    };
    PkiError::new(kind, message).with_source(e)
}

/// Reads a PKCS#12 file holding one private key. Returns the key, the certificate for it, and
/// the chain above it (issuer first, up to the root if present; unrelated certificates are
/// dropped).
pub fn parse(der: &[u8], password: &str) -> Result<(PrivateKey, Certificate, Vec<Certificate>)> {
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(der, password).map_err(map_err)?;
    let key_bag = match archive.keys.as_slice() {
        [] => {
            return Err(PkiError::new(
                PkiErrorKind::NotFound,
                "the PKCS#12 file holds no private key",
            ))
        }
        [one] => one,
        _ => {
            return Err(PkiError::unsupported(
                "the PKCS#12 file holds more than one private key",
            ))
        }
    };
    let key = PrivateKey::from_pkcs8_der(key_bag.key.as_der())?;
    let certs = archive
        .certs
        .iter()
        .map(|b| cert_from_der(b.cert.as_der()))
        .collect::<Result<Vec<Certificate>>>()?;

    let mut leaf_index = None;
    for (i, c) in certs.iter().enumerate() {
        if same_public_key(c, key.public_key_spki())? {
            leaf_index = Some(i);
            break;
        }
    }
    let leaf_index = leaf_index.ok_or_else(|| {
        PkiError::new(
            PkiErrorKind::NotFound,
            "the PKCS#12 file has no certificate for its private key",
        )
    })?;
    let leaf = certs[leaf_index].clone();
    let chain = order_chain(
        &leaf,
        certs
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != leaf_index)
            .map(|(_, c)| c)
            .collect(),
    );
    Ok((key, leaf, chain))
}

/// Orders `pool` into the chain above `leaf` by following issuer names; stops at a self-signed
/// certificate or when no issuer is found.
pub(crate) fn order_chain(leaf: &Certificate, mut pool: Vec<Certificate>) -> Vec<Certificate> {
    let mut chain: Vec<Certificate> = Vec::new();
    let mut current = leaf.clone();
    while current.tbs_certificate.issuer != current.tbs_certificate.subject {
        let Some(pos) = pool
            .iter()
            .position(|c| c.tbs_certificate.subject == current.tbs_certificate.issuer)
        else {
            break;
        };
        let next = pool.swap_remove(pos);
        chain.push(next.clone());
        current = next;
    }
    chain
}

/// Writes a PKCS#12 file with `key`, its certificate `cert` and `chain` (issuer first), under
/// `password`. `friendly_name` labels the key (shown by importing tools).
pub fn build(
    key: &PrivateKey,
    cert: &Certificate,
    chain: &[Certificate],
    password: &str,
    friendly_name: &str,
) -> Result<Vec<u8>> {
    if !same_public_key(cert, key.public_key_spki())? {
        return Err(PkiError::invalid(
            "the certificate is not for this private key",
        ));
    }
    let cert_der = cert_to_der(cert)?;
    let mut p12_certs = vec![p12_keystore::Certificate::from_der(&cert_der).map_err(map_err)?];
    for c in chain {
        p12_certs.push(p12_keystore::Certificate::from_der(&cert_to_der(c)?).map_err(map_err)?);
    }
    let pkcs8 = key.to_pkcs8_der()?;
    let p12_key = p12_keystore::PrivateKey::from_der(&pkcs8).map_err(map_err)?;
    // Local key id: SHA-1 of the certificate, as OpenSSL does.
    let chain_entry = p12_keystore::PrivateKeyChain::new(sha1(&cert_der), p12_key, p12_certs);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        friendly_name,
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain_entry),
    );
    store
        .writer(password)
        .encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
        .encryption_iterations(ITERATIONS)
        .mac_algorithm(p12_keystore::MacAlgorithm::HmacSha256)
        .mac_iterations(ITERATIONS)
        .write()
        .map_err(map_err)
}
