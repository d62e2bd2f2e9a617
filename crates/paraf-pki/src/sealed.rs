//! Passphrase-sealed blobs: AES-256-GCM under a key derived with Argon2id, in a self-describing,
//! versioned format. Used for the CA, issuing-CA and TSA private keys at rest.
//!
//! Format, version 1 (all integers big-endian):
//!
//! ```text
//! "PARAF SEALED\n"        13 bytes  magic (readable with `head -1`)
//! version                  1 byte   = 1
//! kdf                      1 byte   = 1: Argon2id, version 0x13 (RFC 9106)
//! cipher                   1 byte   = 1: AES-256-GCM
//! m_cost                   4 bytes  Argon2 memory in KiB
//! t_cost                   4 bytes  Argon2 passes
//! p_cost                   4 bytes  Argon2 lanes
//! salt                    16 bytes  random
//! check                   16 bytes  Argon2 output bytes 32..48: tells a wrong passphrase apart
//!                                   from altered data (reveals nothing about bytes 0..32)
//! nonce                   12 bytes  random
//! ciphertext || tag     n+16 bytes  AES-256-GCM, key = Argon2 output bytes 0..32,
//!                                   associated data = every byte before the ciphertext
//! ```
//!
//! Errors: a wrong passphrase gives [`PkiErrorKind::BadPassword`]; a truncated, unknown or
//! altered blob gives [`PkiErrorKind::Malformed`].

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::constant_time::verify_slices_are_equal;
use zeroize::Zeroizing;

use crate::error::{PkiError, PkiErrorKind, Result};
use crate::x509::random_bytes;

const MAGIC: &[u8; 13] = b"PARAF SEALED\n";
const VERSION: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const CIPHER_AES_256_GCM: u8 = 1;
const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + 3 + 12 + SALT_LEN + CHECK_LEN + NONCE_LEN;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Degree of parallelism.
    pub p_cost: u32,
}

impl Default for SealParams {
    /// 19 MiB, 2 passes, 1 lane: the OWASP recommendation for Argon2id.
    fn default() -> Self {
        SealParams {
            m_cost_kib: 19 * 1024,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

/// Upper bounds accepted when opening, so a forged header cannot make us allocate gigabytes.
const MAX_M_COST_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;

fn derive(passphrase: &[u8], salt: &[u8], p: SealParams) -> Result<Zeroizing<[u8; 48]>> {
    let params = argon2::Params::new(p.m_cost_kib, p.t_cost, p.p_cost, Some(48))
        .map_err(|e| PkiError::invalid(format!("Argon2 parameters rejected: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 48]);
    argon
        .hash_password_into(passphrase, salt, out.as_mut())
        .map_err(|e| PkiError::crypto(format!("Argon2 failed: {e}")))?;
    Ok(out)
}

fn aead_key(key: &[u8]) -> Result<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| PkiError::crypto("AES-256-GCM key setup failed"))
}

/// Seals `plaintext` under `passphrase` with [`SealParams::default`].
pub fn seal(plaintext: &[u8], passphrase: &[u8]) -> Result<Vec<u8>> {
    seal_with(plaintext, passphrase, SealParams::default())
}

/// Seals `plaintext` under `passphrase` with the given Argon2id costs.
pub fn seal_with(plaintext: &[u8], passphrase: &[u8], params: SealParams) -> Result<Vec<u8>> {
    let salt = random_bytes(SALT_LEN)?;
    let nonce = random_bytes(NONCE_LEN)?;
    let okm = derive(passphrase, &salt, params)?;

    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[VERSION, KDF_ARGON2ID, CIPHER_AES_256_GCM]);
    out.extend_from_slice(&params.m_cost_kib.to_be_bytes());
    out.extend_from_slice(&params.t_cost.to_be_bytes());
    out.extend_from_slice(&params.p_cost.to_be_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&okm[32..48]);
    out.extend_from_slice(&nonce);

    let mut nonce_arr = [0u8; NONCE_LEN];
    nonce_arr.copy_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    aead_key(&okm[..32])?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_arr),
            Aad::from(&out[..]),
            &mut body,
        )
        .map_err(|_| PkiError::crypto("AES-256-GCM sealing failed"))?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(a)
}

/// Opens a blob made by [`seal`]. The plaintext is wiped from memory when dropped.
pub fn open(blob: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if blob.len() < MAGIC.len() || &blob[..MAGIC.len()] != MAGIC {
        return Err(PkiError::malformed("not a Paraf sealed blob (bad magic)"));
    }
    if blob.len() < HEADER_LEN + TAG_LEN {
        return Err(PkiError::malformed("sealed blob is truncated"));
    }
    let mut at = MAGIC.len();
    let (version, kdf, cipher) = (blob[at], blob[at + 1], blob[at + 2]);
    if version != VERSION || kdf != KDF_ARGON2ID || cipher != CIPHER_AES_256_GCM {
        return Err(PkiError::unsupported(format!(
            "sealed blob version {version}, kdf {kdf}, cipher {cipher} is not supported (1/1/1 is)"
        )));
    }
    at += 3;
    let params = SealParams {
        m_cost_kib: be32(blob, at),
        t_cost: be32(blob, at + 4),
        p_cost: be32(blob, at + 8),
    };
    at += 12;
    if params.m_cost_kib > MAX_M_COST_KIB
        || params.t_cost > MAX_T_COST
        || params.p_cost > MAX_P_COST
    {
        return Err(PkiError::malformed(format!(
            "sealed blob asks for excessive Argon2 costs {params:?}"
        )));
    }
    let salt = &blob[at..at + SALT_LEN];
    at += SALT_LEN;
    let check = &blob[at..at + CHECK_LEN];
    at += CHECK_LEN;
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&blob[at..at + NONCE_LEN]);
    at += NONCE_LEN;

    let okm = derive(passphrase, salt, params).map_err(|e| match e.kind() {
        PkiErrorKind::InvalidInput => {
            PkiError::malformed(format!("sealed blob has invalid Argon2 costs {params:?}"))
        }
        _ => e,
    })?;
    if verify_slices_are_equal(&okm[32..48], check).is_err() {
        return Err(PkiError::new(
            PkiErrorKind::BadPassword,
            "wrong passphrase for sealed data",
        ));
    }
    let mut body = Zeroizing::new(blob[at..].to_vec());
    let len = aead_key(&okm[..32])?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&blob[..at]),
            &mut body,
        )
        .map_err(|_| PkiError::malformed("sealed data was altered (authentication tag mismatch)"))?
        .len();
    body.truncate(len);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: SealParams = SealParams {
        m_cost_kib: 1024,
        t_cost: 1,
        p_cost: 1,
    };

    #[test]
    fn roundtrip_default_params() {
        let blob = seal(b"secret key bytes", b"pass").unwrap();
        assert_eq!(&blob[..13], MAGIC);
        assert_eq!(
            open(&blob, b"pass").unwrap().as_slice(),
            b"secret key bytes"
        );
    }

    #[test]
    fn empty_plaintext_roundtrips() {
        let blob = seal_with(b"", b"p", FAST).unwrap();
        assert_eq!(open(&blob, b"p").unwrap().len(), 0);
    }

    #[test]
    fn wrong_passphrase_is_bad_password() {
        let blob = seal_with(b"x", b"right", FAST).unwrap();
        let e = open(&blob, b"wrong").unwrap_err();
        assert_eq!(e.kind(), PkiErrorKind::BadPassword, "{e}");
    }

    #[test]
    fn every_altered_byte_is_detected() {
        let blob = seal_with(b"some plaintext", b"pw", FAST).unwrap();
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x01;
            let e = open(&t, b"pw").unwrap_err();
            assert!(
                matches!(
                    e.kind(),
                    PkiErrorKind::Malformed | PkiErrorKind::BadPassword | PkiErrorKind::Unsupported
                ),
                "byte {i}: {e}"
            );
        }
        // Altering the ciphertext (not the KDF inputs) is reported as alteration, not as a bad passphrase.
        let mut t = blob.clone();
        let last = t.len() - 1;
        t[last] ^= 0x80;
        assert_eq!(open(&t, b"pw").unwrap_err().kind(), PkiErrorKind::Malformed);
    }

    #[test]
    fn truncated_is_malformed() {
        let blob = seal_with(b"abc", b"pw", FAST).unwrap();
        assert_eq!(
            open(&blob[..40], b"pw").unwrap_err().kind(),
            PkiErrorKind::Malformed
        );
        assert_eq!(
            open(b"garbage", b"pw").unwrap_err().kind(),
            PkiErrorKind::Malformed
        );
    }
}
