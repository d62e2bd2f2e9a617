//! Randomness as an injected service: [`OsEntropy`] in production, [`SeededEntropy`] for
//! reproducible tests. Used for token secrets, password salts and key material.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::error::DomainError;

/// A source of random bytes.
pub trait Entropy: Send + Sync + fmt::Debug {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), DomainError>;
}

/// Returns `N` random bytes from `entropy`.
pub fn random_bytes<const N: usize>(entropy: &dyn Entropy) -> Result<[u8; N], DomainError> {
    let mut buf = [0u8; N];
    entropy.fill(&mut buf)?;
    Ok(buf)
}

/// The operating system's CSPRNG (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), DomainError> {
        getrandom::fill(buf).map_err(|e| DomainError::Entropy {
            reason: e.to_string(),
        })
    }
}

/// Deterministic bytes: SHA-256(seed ‖ counter) blocks. **Tests only** — predictable by
/// design.
#[derive(Debug)]
pub struct SeededEntropy {
    seed: u64,
    counter: AtomicU64,
}

impl SeededEntropy {
    /// A generator that yields the same sequence for the same seed.
    pub fn new(seed: u64) -> SeededEntropy {
        SeededEntropy {
            seed,
            counter: AtomicU64::new(0),
        }
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), DomainError> {
        for chunk in buf.chunks_mut(32) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let mut h = Sha256::new();
            h.update(self.seed.to_be_bytes());
            h.update(n.to_be_bytes());
            let block = h.finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}
