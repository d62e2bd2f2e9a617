//! [`PkiService`]: the built-in CA as a shared service (the HTTP responders live in
//! `paraf-http`), kept where `ca_store` says.
//!
//! - **`file`** (default): the CA directory `DATA/ca`. The service reopens the CA when
//!   `DIR/ca/state.json` changes, so revocations made by `paraf ca revoke` on the same
//!   directory are answered at once. Writers in different processes take turns
//!   (`DIR/state.lock`).
//! - **`database`**: the material (certificates, keys sealed under `PARAF_CA_PASSPHRASE` or the
//!   master key) and every record (certificates issued, revocations, the last CRL of each CA)
//!   live in the database, so instances with different — even empty — data directories issue,
//!   revoke and answer OCSP and CRL requests as one CA. Installation is once for all instances
//!   (the first to insert the one row wins; the others open what it installed); a CA found in
//!   `DATA/ca` at that moment is imported instead of creating a new one. Revocations change by
//!   compare-and-set; CRLs are made once per change (or hour) and shared: every instance hands
//!   out the same CRL, whose number only grows.
//!
//! **Renewal** ([`PkiService::renew`], `paraf ca renew`, and the housekeeping when the current
//! issuing CA has less than [`RENEW_BEFORE`] left): the next issuing CA and TSA under the same
//! root; the earlier ones keep answering OCSP and CRL requests. With `database`, the first
//! instance to add a generation wins and the others load it at their next housekeeping minute
//! ([`PkiService::reload_if_renewed`], run every minute).
//!
//! All cryptography runs on the blocking pool (`spawn_blocking`); the database records are
//! reached from there by blocking on the runtime.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use paraf_pki::ca::{
    changed_meanwhile, dir_passphrase, CaInitOptions, CaKeys, CaMaterial, CaRecords, CertKind,
    CertificateAuthority, Generation, IssuedRecord, Revocation,
};
use paraf_pki::{CaName, KeyType, PkiError, PkiErrorKind, RevocationReason};
use paraf_store::{Store, StoreError, StoredCa, StoredCaCertificate, StoredCrl, StoredGeneration};
use zeroize::Zeroizing;

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

enum Backing {
    File {
        passphrase: Option<Vec<u8>>,
        loaded: Mutex<Loaded>,
    },
    Database {
        ca: Mutex<Arc<CertificateAuthority>>,
        store: Store,
        passphrase: Option<Zeroizing<Vec<u8>>>,
    },
}

/// The housekeeping renews the issuing CA when its TSA's certificate has less than this left
/// (two years; the TSA ends a year before its issuing CA): archives are renewed
/// `ltv_refresh_days` — one year by default — before their timestamps expire, with a TSA
/// that outlasts them.
pub const RENEW_BEFORE: Duration = Duration::from_secs(2 * 365 * 86_400);

/// The CA as a shared service.
pub struct PkiService {
    dir: PathBuf,
    backing: Backing,
}

impl std::fmt::Debug for PkiService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PkiService")
            .field("dir", &self.dir)
            .field("in_database", &self.in_database())
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
    /// The CA of the data directory was imported into the database now.
    Imported,
}

/// How a new CA is made.
#[derive(Debug, Clone)]
pub struct NewCa {
    /// Key type of the CA keys.
    pub key_type: KeyType,
    /// Organisation name in its certificates.
    pub org_name: String,
    /// Base URL its certificates point to.
    pub public_url: String,
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
                backing: Backing::File {
                    passphrase,
                    loaded: Mutex::new(Loaded {
                        ca: Arc::new(ca),
                        stamp: stamp(dir),
                    }),
                },
            },
            origin,
        ))
    }

    /// Opens the CA kept in the database, installing it first if there is none: the CA of
    /// `dir` when it holds one (an import), else a new one. Racing instances install once.
    /// Keys are unsealed with `passphrase`, else with `DIR/master.key` (created with a new CA).
    /// Async; the cryptography runs on the blocking pool.
    pub async fn open_or_init_in_database(
        store: &Store,
        dir: &Path,
        passphrase: Option<Vec<u8>>,
        new: NewCa,
        now: SystemTime,
    ) -> Result<(PkiService, CaOrigin), PkiError> {
        let mut origin = CaOrigin::Opened;
        // The keys in the clear when this start installed the CA (no need to unseal them).
        let mut installed_keys = None;
        let stored = match store.ca_authority().await.map_err(db_error)? {
            Some(s) => s,
            None => {
                let Prepared {
                    material: candidate,
                    issued,
                    imported,
                    created_key,
                    keys,
                } = prepare(dir, passphrase.clone(), new, now).await?;
                let rows = issued.iter().map(to_row).collect::<Vec<_>>();
                let stored = to_stored(&candidate, imported, now);
                if store.install_ca(&stored, &rows).await.map_err(db_error)? {
                    installed_keys = Some(keys);
                    if imported {
                        // The files are a stale copy from now on: `paraf ca` and `file` mode
                        // refuse them.
                        paraf_pki::ca::write_file_atomically(
                            &dir.join(paraf_pki::ca::MOVED_MARKER),
                            b"this CA now lives in the database (ca_store = database)\n",
                            false,
                        )?;
                    }
                    origin = if imported {
                        CaOrigin::Imported
                    } else {
                        CaOrigin::Created
                    };
                    stored
                } else {
                    // Another instance installed its CA first: ours is dropped, and the
                    // master key made for it if the file still holds that key.
                    if let Some(ours) = created_key {
                        let path = dir.join("master.key");
                        if std::fs::read(&path).is_ok_and(|k| k == *ours) {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                    store
                        .ca_authority()
                        .await
                        .map_err(db_error)?
                        .ok_or_else(|| PkiError::new(PkiErrorKind::NotFound, "no CA installed"))?
                }
            }
        };
        // A CA in the data directory that is not the one in the database: refuse rather than
        // leave what it issued unknown to OCSP and revocation.
        if !dir.join(paraf_pki::ca::MOVED_MARKER).exists() {
            if let Ok(pem) = std::fs::read(dir.join("root.pem")) {
                if pem != stored.root_pem.as_bytes() {
                    return Err(PkiError::new(
                        PkiErrorKind::InvalidInput,
                        format!(
                            "{} holds another CA than the one in the database: move it away, or \
                         import it into an empty database",
                            dir.display()
                        ),
                    ));
                }
            }
        }
        let passphrase = passphrase.map(Zeroizing::new);
        let ca = match installed_keys {
            Some(keys) => {
                let material = from_stored(&stored);
                let records = db_records(store);
                tokio::task::spawn_blocking(move || {
                    CertificateAuthority::from_keys(&material, keys, records)
                })
                .await
                .map_err(|e| PkiError::new(PkiErrorKind::Io, format!("CA task: {e}")))??
            }
            None => load_stored(store, dir, passphrase.clone(), &stored).await?,
        };
        Ok((
            PkiService {
                dir: dir.to_path_buf(),
                backing: Backing::Database {
                    ca: Mutex::new(Arc::new(ca)),
                    store: store.clone(),
                    passphrase,
                },
            },
            origin,
        ))
    }

    /// With `database`: loads the CA again when another instance (or `paraf ca renew`) added
    /// an issuing CA generation; `true` when it did. With `file`, [`PkiService::current`]
    /// already follows `state.json`.
    pub async fn reload_if_renewed(&self) -> Result<bool, PkiError> {
        let Backing::Database {
            ca,
            store,
            passphrase,
        } = &self.backing
        else {
            return Ok(false);
        };
        let loaded = lock(ca).generation();
        let stored = store.ca_generation().await.map_err(db_error)?;
        if i64::from(loaded) == stored {
            return Ok(false);
        }
        let row = store
            .ca_authority()
            .await
            .map_err(db_error)?
            .ok_or_else(|| PkiError::new(PkiErrorKind::NotFound, "no CA installed"))?;
        let fresh = load_stored(store, &self.dir, passphrase.clone(), &row).await?;
        let mut held = lock(ca);
        // Two reloads overlapping may end in any order: never back to an older generation.
        if fresh.generation() <= held.generation() {
            return Ok(false);
        }
        tracing::info!(issuing = %fresh.current_issuing(), "the CA was renewed: loaded its new issuing CA");
        *held = Arc::new(fresh);
        Ok(true)
    }

    /// Renews the CA now: the next issuing CA and TSA under the same root
    /// ([`CertificateAuthority::next_generation`]); gives the name of the issuing CA that
    /// issues afterwards. With `database`, when another instance renewed first, its generation
    /// is loaded instead (no second renewal).
    pub async fn renew(self: &Arc<Self>, now: SystemTime) -> Result<CaName, PkiError> {
        match &self.backing {
            Backing::File { .. } => {
                let this = self.clone();
                tokio::task::spawn_blocking(move || this.renew_file(now))
                    .await
                    .map_err(|e| PkiError::new(PkiErrorKind::Io, format!("CA task: {e}")))?
            }
            Backing::Database {
                ca,
                store,
                passphrase,
            } => {
                let current = lock(ca).clone();
                let dir = self.dir.clone();
                let pass = passphrase.clone();
                let stored = store
                    .ca_authority()
                    .await
                    .map_err(db_error)?
                    .ok_or_else(|| PkiError::new(PkiErrorKind::NotFound, "no CA installed"))?;
                let (generation, issued) = tokio::task::spawn_blocking(move || {
                    let pass = db_passphrase(&dir, pass)?;
                    // The new keys are sealed like the others: what opens the stored root key
                    // now (a passphrase or master.key changed since the start would seal them
                    // under something no instance can open).
                    paraf_pki::sealed::open(&stored.root_key, &pass).map_err(|e| {
                        PkiError::new(
                            e.kind(),
                            format!(
                                "the CA's keys no longer open with the passphrase or master.key \
                                 at hand: nothing renewed ({})",
                                e.message()
                            ),
                        )
                    })?;
                    current.next_generation(&pass, now)
                })
                .await
                .map_err(|e| PkiError::new(PkiErrorKind::Io, format!("CA task: {e}")))??;
                let rows = issued.iter().map(to_row).collect::<Vec<_>>();
                let added = store
                    .add_ca_generation(&to_stored_generation(&generation, now), &rows)
                    .await
                    .map_err(db_error)?;
                if !added {
                    tracing::info!("another instance renewed the CA first: loading its issuing CA");
                }
                self.reload_if_renewed().await?;
                Ok(lock(ca).current_issuing())
            }
        }
    }

    /// [`PkiService::renew`] of a CA in files: under the writers' lock (as `modify`), so that
    /// no issuance in this process writes an older `state.json` over the renewal. Blocking.
    fn renew_file(&self, now: SystemTime) -> Result<CaName, PkiError> {
        let Backing::File { passphrase, loaded } = &self.backing else {
            return Err(PkiError::new(
                PkiErrorKind::InvalidInput,
                "not a CA in files",
            ));
        };
        let mut g = lock(loaded);
        let generation = CertificateAuthority::renew_dir(&self.dir, passphrase.as_deref(), now)?;
        g.ca = Arc::new(CertificateAuthority::open(
            &self.dir,
            passphrase.as_deref(),
        )?);
        g.stamp = stamp(&self.dir);
        Ok(CaName::Issuing(generation))
    }

    /// The CA directory (`DATA/ca`; with the CA in the database, only where an imported CA
    /// came from and where `master.key` is looked for).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the CA lives in the database.
    pub fn in_database(&self) -> bool {
        matches!(self.backing, Backing::Database { .. })
    }

    /// The current CA (with `file`: reopened first if `state.json` changed). Blocking.
    pub fn current(&self) -> Result<Arc<CertificateAuthority>, PkiError> {
        match &self.backing {
            Backing::Database { ca, .. } => Ok(lock(ca).clone()),
            Backing::File { passphrase, loaded } => {
                let mut g = loaded.lock().unwrap_or_else(|e| e.into_inner());
                let now_stamp = stamp(&self.dir);
                if now_stamp != g.stamp {
                    let ca = CertificateAuthority::open(&self.dir, passphrase.as_deref())?;
                    g.ca = Arc::new(ca);
                    g.stamp = now_stamp;
                }
                Ok(g.ca.clone())
            }
        }
    }

    /// Runs `f` on the CA to change it (issue, revoke). With `file`, on a freshly opened CA
    /// kept as the current one afterwards, writers serialised by the service's lock; with
    /// `database`, the records change by compare-and-set in the database. Blocking.
    pub fn modify<T>(
        &self,
        f: impl FnOnce(&CertificateAuthority) -> Result<T, PkiError>,
    ) -> Result<T, PkiError> {
        match &self.backing {
            Backing::Database { ca, .. } => {
                let ca = lock(ca).clone();
                f(&ca)
            }
            Backing::File { passphrase, loaded } => {
                let mut g = loaded.lock().unwrap_or_else(|e| e.into_inner());
                let ca = CertificateAuthority::open(&self.dir, passphrase.as_deref())?;
                let out = f(&ca)?;
                g.ca = Arc::new(ca);
                g.stamp = stamp(&self.dir);
                Ok(out)
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn db_records(store: &Store) -> Arc<dyn CaRecords> {
    Arc::new(DbRecords {
        store: store.clone(),
        handle: tokio::runtime::Handle::current(),
    })
}

/// What the keys of the CA in the database are sealed with: the passphrase, else the
/// `master.key` of the CA directory. Blocking.
fn db_passphrase(
    dir: &Path,
    passphrase: Option<Zeroizing<Vec<u8>>>,
) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    match passphrase {
        Some(p) => Ok(p),
        None => dir_passphrase(dir, None).map_err(|e| {
            PkiError::new(
                e.kind(),
                format!(
                    "the CA in the database needs what its keys are sealed with: set \
                     PARAF_CA_PASSPHRASE, or put the master.key it was made with in the CA \
                     directory ({})",
                    e.message()
                ),
            )
        }),
    }
}

/// Opens the CA stored as `stored`, unsealing its keys (on the blocking pool).
async fn load_stored(
    store: &Store,
    dir: &Path,
    passphrase: Option<Zeroizing<Vec<u8>>>,
    stored: &StoredCa,
) -> Result<CertificateAuthority, PkiError> {
    let material = from_stored(stored);
    let records = db_records(store);
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let pass = db_passphrase(&dir, passphrase)?;
        CertificateAuthority::from_material(&material, &pass, records)
    })
    .await
    .map_err(|e| PkiError::new(PkiErrorKind::Io, format!("CA task: {e}")))?
}

/// What [`prepare`] gives.
struct Prepared {
    /// The CA to install.
    material: CaMaterial,
    /// The certificates it issued so far.
    issued: Vec<IssuedRecord>,
    /// Imported from the data directory (else new).
    imported: bool,
    /// The master key created for it in `DIR/master.key`, if one was.
    created_key: Option<Zeroizing<Vec<u8>>>,
    /// Its keys in the clear.
    keys: CaKeys,
}

/// The CA to install: the one in `dir` (imported) or a new one.
async fn prepare(
    dir: &Path,
    passphrase: Option<Vec<u8>>,
    new: NewCa,
    now: SystemTime,
) -> Result<Prepared, PkiError> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        if dir.join("state.json").exists() {
            paraf_pki::ca::refuse_moved(&dir)?;
            let (material, issued) = CaMaterial::read_dir(&dir)?;
            // Unsealed before anything is copied: the passphrase opens every key.
            let keys = material.unseal(&dir_passphrase(&dir, passphrase.as_deref())?)?;
            return Ok(Prepared {
                material,
                issued,
                imported: true,
                created_key: None,
                keys,
            });
        }
        let (pass, created) = match passphrase {
            Some(p) => (Zeroizing::new(p), None),
            None => match dir_passphrase(&dir, None) {
                Ok(k) => (k, None),
                // Exclusive creation: if another process on this directory made it first,
                // its key is the one to use.
                Err(_) => match paraf_pki::ca::create_master_key(&dir) {
                    Ok(k) => (k.clone(), Some(k)),
                    Err(_) => (dir_passphrase(&dir, None)?, None),
                },
            },
        };
        let opts = CaInitOptions {
            key_type: new.key_type,
            public_url: new.public_url,
            org_name: new.org_name,
            passphrase: None,
        };
        let (material, issued, keys) = CaMaterial::generate(&opts, &pass, now)?;
        Ok(Prepared {
            material,
            issued,
            imported: false,
            created_key: created,
            keys,
        })
    })
    .await
    .map_err(|e| PkiError::new(PkiErrorKind::Io, format!("CA task: {e}")))?
}

fn db_error(e: StoreError) -> PkiError {
    PkiError::new(
        PkiErrorKind::Io,
        format!("the CA's records in the database: {e}"),
    )
}

fn to_stored(m: &CaMaterial, imported: bool, now: SystemTime) -> StoredCa {
    StoredCa {
        public_url: m.public_url.clone(),
        org_name: m.org_name.clone(),
        key_type: m.key_type.clone(),
        root_pem: m.root_pem.clone(),
        issuing_pem: m.issuing_pem.clone(),
        tsa_pem: m.tsa_pem.clone(),
        root_key: m.root_key.clone(),
        issuing_key: m.issuing_key.clone(),
        tsa_key: m.tsa_key.clone(),
        imported,
        created_at: now.into(),
        later: m
            .later
            .iter()
            .map(|g| to_stored_generation(g, now))
            .collect(),
    }
}

fn to_stored_generation(g: &Generation, now: SystemTime) -> StoredGeneration {
    StoredGeneration {
        generation: i64::from(g.number),
        issuer: CaName::Issuing(g.number).name(),
        issuing_pem: g.issuing_pem.clone(),
        issuing_key: g.issuing_key.clone(),
        tsa_pem: g.tsa_pem.clone(),
        tsa_key: g.tsa_key.clone(),
        created_at: now.into(),
    }
}

fn from_stored(s: &StoredCa) -> CaMaterial {
    CaMaterial {
        public_url: s.public_url.clone(),
        org_name: s.org_name.clone(),
        key_type: s.key_type.clone(),
        root_pem: s.root_pem.clone(),
        issuing_pem: s.issuing_pem.clone(),
        tsa_pem: s.tsa_pem.clone(),
        root_key: s.root_key.clone(),
        issuing_key: s.issuing_key.clone(),
        tsa_key: s.tsa_key.clone(),
        later: s
            .later
            .iter()
            .map(|g| Generation {
                number: u32::try_from(g.generation).unwrap_or(0),
                issuing_pem: g.issuing_pem.clone(),
                issuing_key: g.issuing_key.clone(),
                tsa_pem: g.tsa_pem.clone(),
                tsa_key: g.tsa_key.clone(),
            })
            .collect(),
    }
}

fn secs(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_row(r: &IssuedRecord) -> StoredCaCertificate {
    StoredCaCertificate {
        serial: r.serial.clone(),
        issuer: r.issuer.name(),
        kind: r.kind.name().to_string(),
        subject: r.subject.clone(),
        not_before: secs(r.not_before),
        not_after: secs(r.not_after),
        certificate: r.certificate.clone(),
        revoked_at: r.revoked.as_ref().map(|v| secs(v.time)),
        reason: r.revoked.as_ref().map(|v| v.reason.name().to_string()),
    }
}

fn from_row(r: StoredCaCertificate) -> Result<IssuedRecord, PkiError> {
    let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
    let revoked = match (r.revoked_at, r.reason.as_deref()) {
        (Some(t), Some(reason)) => Some(Revocation {
            time: unsigned(t),
            reason: reason.parse::<RevocationReason>()?,
        }),
        _ => None,
    };
    Ok(IssuedRecord {
        issuer: r.issuer.parse::<CaName>()?,
        kind: r.kind.parse::<CertKind>()?,
        serial: r.serial,
        subject: r.subject,
        not_before: unsigned(r.not_before),
        not_after: unsigned(r.not_after),
        certificate: r.certificate,
        revoked,
    })
}

/// A stored CRL is handed out again while it lists the current revocations and is younger
/// than this.
const CRL_REUSE: Duration = Duration::from_secs(3600);

/// The CA's records in the database, reached from the blocking pool.
struct DbRecords {
    store: Store,
    handle: tokio::runtime::Handle,
}

impl DbRecords {
    fn wait<T>(&self, f: impl Future<Output = Result<T, StoreError>>) -> Result<T, PkiError> {
        // From a blocking-pool thread this just blocks; from a worker of the multi-threaded
        // runtime, `block_in_place` hands the worker's other tasks over first.
        tokio::task::block_in_place(|| self.handle.block_on(f)).map_err(db_error)
    }
}

impl CaRecords for DbRecords {
    fn add(&self, rec: &IssuedRecord) -> Result<(), PkiError> {
        self.wait(self.store.add_ca_certificate(&to_row(rec)))
    }

    fn get(&self, serial: &str) -> Result<Option<IssuedRecord>, PkiError> {
        self.wait(self.store.ca_certificate(serial))?
            .map(from_row)
            .transpose()
    }

    fn all(&self) -> Result<Vec<IssuedRecord>, PkiError> {
        self.wait(self.store.ca_certificates())?
            .into_iter()
            .map(from_row)
            .collect()
    }

    fn revoked(&self, issuer: CaName) -> Result<Vec<IssuedRecord>, PkiError> {
        self.wait(self.store.revoked_ca_certificates(&issuer.name()))?
            .into_iter()
            .map(from_row)
            .collect()
    }

    fn set_revocation(
        &self,
        serial: &str,
        previous: Option<&Revocation>,
        next: Option<&Revocation>,
    ) -> Result<(), PkiError> {
        let pair = |r: &Revocation| (secs(r.time), r.reason.name());
        let changed = self.wait(self.store.set_ca_revocation(
            serial,
            previous.map(pair),
            next.map(pair),
        ))?;
        if changed {
            Ok(())
        } else {
            Err(changed_meanwhile(serial))
        }
    }

    fn crl(
        &self,
        issuer: CaName,
        now: SystemTime,
        make: &dyn Fn(u64) -> Result<Vec<u8>, PkiError>,
    ) -> Result<Vec<u8>, PkiError> {
        let now_secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        for _ in 0..5 {
            let state = self
                .wait(self.store.ca_crl(&issuer.name()))?
                .ok_or_else(|| PkiError::new(PkiErrorKind::NotFound, "no CRL state for this CA"))?;
            if let (Some(der), Some(this_update)) = (&state.der, state.this_update) {
                let made = u64::try_from(this_update).unwrap_or(0);
                // Not one from the future either (another instance's clock ahead): a relying
                // party would refuse its thisUpdate.
                if state.der_revision == Some(state.revision)
                    && made <= now_secs
                    && now_secs - made < CRL_REUSE.as_secs()
                {
                    return Ok(der.clone());
                }
            }
            // The revision is read before `make` lists the revocations, so the CRL lists at
            // least every revocation counted in it.
            let previous = state.number;
            let number = previous
                .map_or(0, |n| u64::try_from(n).unwrap_or(0) + 1)
                .max(now_secs);
            let der = make(number)?;
            let kept = self.wait(self.store.put_ca_crl(
                &issuer.name(),
                previous,
                &StoredCrl {
                    revision: state.revision,
                    number: Some(secs(number)),
                    this_update: Some(secs(now_secs)),
                    der: Some(der.clone()),
                    der_revision: Some(state.revision),
                },
            ))?;
            if kept {
                return Ok(der);
            }
            // Another instance stored a CRL meanwhile: look again (it is likely current).
        }
        // Still racing after five rounds: no CRL rather than one that may miss a revocation
        // or repeat a number (the next request tries again).
        Err(PkiError::new(
            PkiErrorKind::Io,
            "the CRL changed five times while being made; try again",
        ))
    }
}
