//! [`PkiService`]: the built-in CA as a shared service (the HTTP responders live in
//! `paraf-http`).
//!
//! [`PkiService`] holds the opened [`CertificateAuthority`] and reopens it when
//! `DIR/ca/state.json` changes, so revocations made by `paraf ca revoke` on the same directory
//! are answered at once. All cryptography runs on the blocking pool (`spawn_blocking`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use paraf_pki::ca::{CaInitOptions, CertificateAuthority};
use paraf_pki::{KeyType, PkiError};

/// Fingerprint of `state.json`: modification time and length.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(dir: &Path) -> Stamp {
    let m = std::fs::metadata(dir.join("state.json")).ok()?;
    Some((m.modified().ok()?, m.len()))
}

struct Loaded {
    ca: Arc<CertificateAuthority>,
    stamp: Stamp,
}

/// The CA as a shared service.
pub struct PkiService {
    dir: PathBuf,
    passphrase: Option<Vec<u8>>,
    loaded: Mutex<Loaded>,
}

impl std::fmt::Debug for PkiService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PkiService")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Whether [`PkiService::open_or_init`] found a CA or made one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaOrigin {
    /// It was there.
    Opened,
    /// It was created now.
    Created,
}

impl PkiService {
    /// Opens the CA in `dir`, or creates it there (root, issuing CA, TSA) naming `public_url`.
    /// Blocking (Argon2id unsealing): call it from a blocking context.
    pub fn open_or_init(
        dir: &Path,
        passphrase: Option<Vec<u8>>,
        key_type: KeyType,
        org_name: &str,
        public_url: &str,
        now: SystemTime,
    ) -> Result<(PkiService, CaOrigin), PkiError> {
        let (ca, origin) = if dir.join("state.json").exists() {
            (
                CertificateAuthority::open(dir, passphrase.as_deref())?,
                CaOrigin::Opened,
            )
        } else {
            let opts = CaInitOptions {
                key_type,
                public_url: public_url.to_string(),
                org_name: org_name.to_string(),
                passphrase: passphrase.clone(),
            };
            (
                CertificateAuthority::init(dir, opts, now)?,
                CaOrigin::Created,
            )
        };
        Ok((
            PkiService {
                dir: dir.to_path_buf(),
                passphrase,
                loaded: Mutex::new(Loaded {
                    ca: Arc::new(ca),
                    stamp: stamp(dir),
                }),
            },
            origin,
        ))
    }

    /// The CA directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current CA, reopened first if `state.json` changed. Blocking.
    pub fn current(&self) -> Result<Arc<CertificateAuthority>, PkiError> {
        let mut g = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let now_stamp = stamp(&self.dir);
        if now_stamp != g.stamp {
            let ca = CertificateAuthority::open(&self.dir, self.passphrase.as_deref())?;
            g.ca = Arc::new(ca);
            g.stamp = now_stamp;
        }
        Ok(g.ca.clone())
    }

    /// Runs `f` on a freshly opened CA that may change (issue, revoke) and keeps the result as
    /// the current CA. Writers are serialised by the service's lock. Blocking.
    pub fn modify<T>(
        &self,
        f: impl FnOnce(&mut CertificateAuthority) -> Result<T, PkiError>,
    ) -> Result<T, PkiError> {
        let mut g = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let mut ca = CertificateAuthority::open(&self.dir, self.passphrase.as_deref())?;
        let out = f(&mut ca)?;
        g.ca = Arc::new(ca);
        g.stamp = stamp(&self.dir);
        Ok(out)
    }
}
