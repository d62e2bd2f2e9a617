//! Signing with a signer's own key or the organisation's seal: one file and where its
//! signature goes → one signed PDF, through the engine (`paraf_sign`), at PAdES B-T with the
//! built-in TSA. Checks the request against the document first (page range, tag present,
//! password), so each mistake gets its own [`DocumentRefusal`]; then the engine signs in an
//! incremental update.
//!
//! Also the credential checks every face shares: unsealing an identity's key with its
//! passphrase (counting wrong ones, locking after too many) or with a one-time code
//! ([`OneTimeCode`]: checked before the work, spent after it), and the seal key cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use paraf_domain::{
    otp_hash, Identity, IdentityStatus, OrgId, OtpPurpose, Principal, Seal, SignatureLevel,
    Timestamp,
};
use paraf_pdf::Document;
use paraf_pki::ca::CertificateAuthority;
use paraf_pki::{PkiErrorKind, PrivateKey, Signer, SoftSigner};
use paraf_sign::appearance::{AppearanceSpec, ImageSource};
use paraf_sign::{Level, Placement, Services, SignErrorKind, SignOptions, Visible};

use crate::error::{CoreError, DocumentRefusal, KeyRefusal};
use crate::identities::{parse_key_ref, signer_from};
use crate::Core;

/// Which page a coordinate placement is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSel {
    /// 1-based page number.
    Number(usize),
    /// `halaman=first`.
    First,
    /// `halaman=last`.
    Last,
}

/// Where a visible signature goes.
#[derive(Debug, Clone)]
pub enum Place {
    /// Points from the bottom-left corner of the page as displayed.
    Rect {
        page: PageSel,
        x: f64,
        y: f64,
        width: f64,
        height: f64,
    },
    /// Centred on the first occurrence of `tag` in the page text.
    Tag {
        tag: String,
        width: f64,
        height: f64,
    },
}

/// What a signature shows.
#[derive(Debug, Clone)]
pub enum Look {
    /// No appearance.
    Invisible,
    /// A stamp at `place`: the specimen image, or a QR code of `qr` with the signer's name and
    /// the date, plus `text`.
    Visible {
        place: Place,
        image: Option<Vec<u8>>,
        qr: Option<String>,
        text: Option<String>,
    },
}

/// One file to sign.
#[derive(Debug, Clone)]
pub struct FileJob {
    /// The PDF.
    pub pdf: Vec<u8>,
    /// The parameter name to quote in errors (`file`, `file[2]`).
    pub field: String,
    /// The password of an encrypted PDF.
    pub pdf_password: Option<String>,
    /// What it shows.
    pub look: Look,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// Fill the pre-created empty signature field of this name (it keeps its place), or create
    /// a field of this name; `None`: a new field `SignatureN`.
    pub field_name: Option<String>,
}

/// Above the signer's name on a stamp without image (BSrE's wording).
const CAPTION: &str = "Ditandatangani secara elektronik oleh:";

/// Upper bounds (seconds) of the signing-time histogram of [`sign_timings`].
pub const SIGN_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// What [`sign_timings`] gives: every signature this process made (all faces), as a histogram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignCounts {
    /// Signatures that took at most [`SIGN_BUCKETS`]`[i]` (not cumulative).
    pub buckets: [u64; SIGN_BUCKETS.len()],
    /// Signatures made.
    pub count: u64,
    /// Their total time, microseconds.
    pub micros: u64,
    /// Signing attempts that failed (bad document, key refused, timestamp…).
    pub failures: u64,
}

struct SignTimings {
    buckets: [std::sync::atomic::AtomicU64; SIGN_BUCKETS.len()],
    count: std::sync::atomic::AtomicU64,
    micros: std::sync::atomic::AtomicU64,
    failures: std::sync::atomic::AtomicU64,
}

/// Process-wide, like the process itself: every face signs through [`sign_file_with`].
static SIGN_TIMINGS: SignTimings = SignTimings {
    buckets: [const { std::sync::atomic::AtomicU64::new(0) }; SIGN_BUCKETS.len()],
    count: std::sync::atomic::AtomicU64::new(0),
    micros: std::sync::atomic::AtomicU64::new(0),
    failures: std::sync::atomic::AtomicU64::new(0),
};

/// The signing-time histogram so far (for `/metrics`).
pub fn sign_timings() -> SignCounts {
    use std::sync::atomic::Ordering::Relaxed;
    let t = &SIGN_TIMINGS;
    SignCounts {
        buckets: std::array::from_fn(|i| t.buckets[i].load(Relaxed)),
        count: t.count.load(Relaxed),
        micros: t.micros.load(Relaxed),
        failures: t.failures.load(Relaxed),
    }
}

fn record_signing(elapsed: std::time::Duration, ok: bool) {
    use std::sync::atomic::Ordering::Relaxed;
    let t = &SIGN_TIMINGS;
    if !ok {
        t.failures.fetch_add(1, Relaxed);
        return;
    }
    let secs = elapsed.as_secs_f64();
    if let Some(i) = SIGN_BUCKETS.iter().position(|b| secs <= *b) {
        t.buckets[i].fetch_add(1, Relaxed);
    }
    t.count.fetch_add(1, Relaxed);
    t.micros.fetch_add(
        u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        Relaxed,
    );
}

/// Signs `job` with `signer` at `now` at `level` (the CA's TSA timestamps, the CA answers
/// revocation), with `caption` above the signer's name on a stamp without image. Blocking
/// (CPU): call from `spawn_blocking`.
/// Timed for `/metrics` ([`sign_timings`]).
pub fn sign_file_with(
    ca: &CertificateAuthority,
    signer: &dyn Signer,
    job: FileJob,
    now: SystemTime,
    level: Level,
    caption: &str,
) -> Result<Vec<u8>, CoreError> {
    let started = std::time::Instant::now();
    let out = sign_file_timed(ca, signer, job, now, level, caption);
    record_signing(started.elapsed(), out.is_ok());
    out
}

fn sign_file_timed(
    ca: &CertificateAuthority,
    signer: &dyn Signer,
    job: FileJob,
    now: SystemTime,
    level: Level,
    caption: &str,
) -> Result<Vec<u8>, CoreError> {
    let field = job.field.clone();
    let mut data = job.pdf;
    let not_a_pdf = |detail: String| {
        CoreError::Document(DocumentRefusal::NotAPdf {
            field: field.clone(),
            detail,
        })
    };
    if !crate::documents::has_pdf_header(&data) {
        return Err(not_a_pdf("no %PDF- header".into()));
    }
    data.reserve(64 * 1024);
    let doc = Document::load(data, job.pdf_password.as_deref().map(str::as_bytes)).map_err(
        |e| match e.kind {
            paraf_pdf::ErrorKind::BadPassword => {
                CoreError::Document(DocumentRefusal::WrongPdfPassword {
                    field: field.clone(),
                    detail: e.message,
                })
            }
            _ => not_a_pdf(e.message),
        },
    )?;
    let visible = match job.look {
        Look::Invisible => None,
        Look::Visible {
            place,
            image,
            qr,
            text,
        } => {
            let pages = doc.pages().map_err(|e| not_a_pdf(e.message))?;
            let placement = match place {
                Place::Rect {
                    page,
                    x,
                    y,
                    width,
                    height,
                } => {
                    let n = match page {
                        PageSel::Number(n) => n,
                        PageSel::First => 1,
                        PageSel::Last => pages.len(),
                    };
                    if n == 0 || n > pages.len() {
                        return Err(CoreError::Document(DocumentRefusal::PageOutOfRange {
                            page: n,
                            pages: pages.len(),
                        }));
                    }
                    Placement::Rect {
                        page: n,
                        x,
                        y,
                        width,
                        height,
                    }
                }
                Place::Tag { tag, width, height } => {
                    let found =
                        paraf_pdf::text::find_text(&doc, &tag).map_err(|e| not_a_pdf(e.message))?;
                    if found.is_empty() {
                        return Err(CoreError::Document(DocumentRefusal::TagNotFound { tag }));
                    }
                    Placement::Tag {
                        text: tag,
                        occurrence: 0,
                        width,
                        height,
                    }
                }
            };
            let cn = paraf_sign::common_name(signer.certificate()).unwrap_or_default();
            let mut lines = Vec::new();
            if image.is_none() {
                lines.push(caption.to_string());
                lines.push(cn);
                lines.push(paraf_sign::human_date(now));
            }
            if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
                lines.push(t);
            }
            Some(Visible {
                placement,
                spec: AppearanceSpec {
                    width: 0.0,
                    height: 0.0,
                    image: image.map(ImageSource::Auto),
                    qr_url: qr,
                    lines,
                    border: false,
                    ..Default::default()
                },
            })
        }
    };
    let mut opts = SignOptions::new(now);
    opts.level = level;
    opts.reason = job.reason.filter(|s| !s.trim().is_empty());
    opts.location = job.location.filter(|s| !s.trim().is_empty());
    opts.visible = visible;
    opts.field_name = job.field_name;
    let services = Services {
        timestamper: Some(ca.tsa()),
        revocation: Some(ca),
    };
    let signed =
        paraf_sign::sign_owned(doc, signer, &opts, services).map_err(|e| match e.kind {
            SignErrorKind::Appearance => {
                CoreError::Document(DocumentRefusal::InvalidImage { detail: e.message })
            }
            SignErrorKind::Certificate => {
                tracing::info!(cause = %e.message, "the signer's certificate was refused");
                CoreError::Key(KeyRefusal::CertificateRevoked)
            }
            SignErrorKind::InvalidRequest | SignErrorKind::NotPermitted | SignErrorKind::Pdf => {
                CoreError::Document(DocumentRefusal::CannotSign { detail: e.message })
            }
            SignErrorKind::Service | SignErrorKind::Crypto => CoreError::Internal(e.message),
        })?;
    Ok(signed.pdf)
}

/// Why `identity` may not sign now, if it may not; `lock_after` is the configured number of
/// wrong passphrases, quoted when the identity is locked.
pub fn refuse_status(identity: &Identity, now: Timestamp, lock_after: u32) -> Option<KeyRefusal> {
    match identity.status_at(now) {
        IdentityStatus::Issue => None,
        IdentityStatus::Expired => Some(KeyRefusal::CertificateExpired),
        IdentityStatus::Revoke => Some(KeyRefusal::CertificateRevoked),
        IdentityStatus::Suspend if identity.locked(now) => {
            let until = identity
                .locked_until
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default();
            Some(KeyRefusal::Locked {
                until,
                attempts: lock_after,
            })
        }
        IdentityStatus::Suspend => Some(KeyRefusal::Suspended),
        s => Some(KeyRefusal::CannotSign {
            status: s.as_str().to_string(),
        }),
    }
}

fn key_refused(r: KeyRefusal) -> CoreError {
    CoreError::Key(r)
}

/// How the caller proves they may use the key.
pub enum Proof<'a> {
    /// The owner's passphrase.
    Passphrase(&'a str),
    /// A one-time code mailed by [`Core::send_signing_code`], for a request of `files` files.
    Totp { code: &'a str, files: u64 },
}

/// Opens the identity's key with the proof and returns a signer (certificate + CA chain),
/// and, for a one-time code, the code to [`OneTimeCode::spend`] once the files are signed.
/// A wrong passphrase is counted; the lock after too many is reported as such.
pub async fn unlock_identity(
    core: &Core,
    identity: &Identity,
    proof: Proof<'_>,
) -> Result<(SoftSigner, Option<OneTimeCode>), CoreError> {
    let mut pending = None;
    let now = core.now();
    if let Some(r) = refuse_status(identity, now, core.config.bsre_lock_after) {
        return Err(key_refused(r));
    }
    let cannot_sign = |status: &str| {
        key_refused(KeyRefusal::CannotSign {
            status: status.to_string(),
        })
    };
    let cert_pem = identity
        .cert_pem
        .clone()
        .ok_or_else(|| cannot_sign("NO_CERTIFICATE"))?;
    let pkcs8 = match proof {
        Proof::Passphrase(pass) => {
            let sealed = identity
                .sealed_key
                .clone()
                .ok_or_else(|| cannot_sign("NEW"))?;
            let pass = zeroize::Zeroizing::new(pass.as_bytes().to_vec());
            let opened =
                tokio::task::spawn_blocking(move || paraf_pki::sealed::open(&sealed, &pass))
                    .await?;
            match opened {
                Ok(k) => {
                    if identity.failed_attempts > 0 {
                        let _ = core
                            .store
                            .reset_wrong_passphrases(identity.org, identity.id)
                            .await;
                    }
                    k
                }
                Err(e) if e.kind() == PkiErrorKind::BadPassword => {
                    let lock_after = core.config.bsre_lock_after;
                    let until = now + core.config.bsre_lock_duration;
                    let (count, locked) = core
                        .store
                        .record_wrong_passphrase(identity.org, identity.id, lock_after, until, now)
                        .await?;
                    if let Some(l) = locked.filter(|l| *l > now) {
                        return Err(key_refused(KeyRefusal::Locked {
                            until: l.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                            attempts: lock_after,
                        }));
                    }
                    return Err(key_refused(KeyRefusal::WrongPassphrase {
                        remaining: lock_after.saturating_sub(count),
                    }));
                }
                Err(e) => return Err(CoreError::internal(format!("identity key: {e}"))),
            }
        }
        Proof::Totp { code, files } => {
            let Some(wrapped) = identity.otp_key.clone() else {
                return Err(key_refused(KeyRefusal::CodesNotEnabled));
            };
            let otp = OneTimeCode::new(
                identity.org,
                format!("identity:{}", identity.id),
                OtpPurpose::Sign,
                code,
                files,
            );
            otp.check(core).await?;
            pending = Some(otp);
            let master = core.master_key.clone();
            tokio::task::spawn_blocking(move || master.open(&wrapped))
                .await?
                .map_err(|e| CoreError::internal(format!("identity OTP key: {e}")))?
        }
    };
    let pki = core.pki.clone();
    let signer = tokio::task::spawn_blocking(move || {
        let key = PrivateKey::from_pkcs8_der(&pkcs8)?;
        // The chain of whichever issuing CA generation issued it (an identity outlives a CA
        // renewal).
        let cert = paraf_pki::x509::cert_from_pem(cert_pem.as_bytes())?;
        let chain = pki.current()?.chain_of(&cert);
        signer_from(key, &cert_pem, chain)
    })
    .await?
    .map_err(|e| CoreError::internal(format!("identity signer: {e}")))?;
    Ok((signer, pending))
}

/// A one-time code presented with a request: checked before the work, spent after it, so a
/// request refused for its documents does not burn the code (and one that fails the check
/// counts as a wrong attempt).
#[derive(Debug, Clone)]
pub struct OneTimeCode {
    org: paraf_domain::OrgId,
    subject: String,
    purpose: OtpPurpose,
    hash: String,
    files: u64,
}

impl OneTimeCode {
    /// The code `code` for `subject` (`identity:7`, `seal:3`), for `files` files.
    pub fn new(
        org: paraf_domain::OrgId,
        subject: String,
        purpose: OtpPurpose,
        code: &str,
        files: u64,
    ) -> Self {
        OneTimeCode {
            hash: otp_hash(&subject, code),
            org,
            subject,
            purpose,
            files,
        }
    }

    /// Organisation, subject, purpose, code hash and file count, as the store takes them.
    fn parts(&self) -> (paraf_domain::OrgId, &str, OtpPurpose, &str, u64) {
        (
            self.org,
            &self.subject,
            self.purpose,
            &self.hash,
            self.files,
        )
    }

    /// Refuses a code that is wrong, expired, spent or too small (counting the attempt).
    pub async fn check(&self, core: &Core) -> Result<(), CoreError> {
        let (o, s, p, h, f) = self.parts();
        if core.store.otp_is_live(o, s, p, h, f, core.now()).await? {
            return Ok(());
        }
        // Not live: spending fails too, and records the wrong attempt.
        self.spend(core)
            .await
            .and(Err(key_refused(KeyRefusal::InvalidCode)))
    }

    /// Spends the code once the work is done; a code spent meanwhile by a concurrent request
    /// refuses this one (its result is not returned).
    pub async fn spend(&self, core: &Core) -> Result<(), CoreError> {
        let (o, s, p, h, f) = self.parts();
        if core.store.consume_otp(o, s, p, h, f, core.now()).await? {
            Ok(())
        } else {
            Err(key_refused(KeyRefusal::InvalidCode))
        }
    }
}

/// A seal's signer: a key unsealed in memory, or a session on the PKCS#11 token.
pub type SealSigner = Arc<dyn Signer + Send + Sync>;

/// Seal signers opened once and kept, by seal id and certificate serial: a wrapped key is
/// unsealed on first use; a key on a token gets one logged-in session.
#[derive(Default)]
pub struct SealKeyCache {
    keys: Mutex<HashMap<(i64, String), SealSigner>>,
}

impl SealKeyCache {
    /// The signer of `seal`, opening its key on first use.
    pub async fn signer(&self, core: &Core, seal: &Seal) -> Result<SealSigner, CoreError> {
        let k = (seal.id.0, seal.cert_serial.clone());
        if let Some(s) = self.keys.lock().unwrap_or_else(|e| e.into_inner()).get(&k) {
            return Ok(s.clone());
        }
        let master = core.master_key.clone();
        let pki = core.pki.clone();
        let wrapped = seal.wrapped_key.clone();
        let pem = seal.cert_pem.clone();
        let token = match &seal.key_ref {
            None => None,
            Some(r) => {
                let (token, object) = parse_key_ref(r)
                    .ok_or_else(|| CoreError::internal(format!("seal key reference {r:?}")))?;
                let (module, pin) = core.config.pkcs11.clone().ok_or_else(|| {
                    CoreError::internal("the seal key is on a PKCS#11 token but pkcs11_module/pkcs11_pin are not set")
                })?;
                Some((module, pin, token, object))
            }
        };
        let signer: SealSigner =
            tokio::task::spawn_blocking(move || -> Result<SealSigner, paraf_pki::PkiError> {
                let cert = paraf_pki::x509::cert_from_pem(pem.as_bytes())?;
                let chain = pki.current()?.chain_of(&cert);
                match token {
                    None => {
                        let pkcs8 = master.open(&wrapped)?;
                        let key = PrivateKey::from_pkcs8_der(&pkcs8)?;
                        Ok(Arc::new(signer_from(key, &pem, chain)?))
                    }
                    Some((module, pin, token, object)) => {
                        let cert = paraf_pki::x509::cert_from_pem(pem.as_bytes())?;
                        Ok(Arc::new(paraf_pki::Pkcs11Signer::open(
                            &module,
                            &token,
                            pin.expose(),
                            &object,
                            cert,
                            chain,
                        )?))
                    }
                }
            })
            .await?
            .map_err(|e| CoreError::internal(format!("seal key: {e}")))?;
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(k, signer.clone());
        Ok(signer)
    }
}

/// The PAdES level of a [`SignatureLevel`].
pub fn pades_level(level: SignatureLevel) -> Level {
    match level {
        SignatureLevel::BT => Level::BT,
        SignatureLevel::BLT => Level::BLT,
        SignatureLevel::BLTA => Level::BLTA,
    }
}

/// Signs every job of `org` with `signer` on the blocking pool, at the organisation's
/// signature level: all or nothing.
pub async fn sign_all(
    core: &Core,
    org: OrgId,
    signer: Arc<dyn Signer + Send + Sync>,
    jobs: Vec<FileJob>,
) -> Result<Vec<Vec<u8>>, CoreError> {
    let level = pades_level(core.store.organisation(org).await?.signing.level);
    let pki = core.pki.clone();
    let now: SystemTime = core.now().into();
    tokio::task::spawn_blocking(move || {
        let ca = pki
            .current()
            .map_err(|e| CoreError::internal(format!("CA: {e}")))?;
        jobs.into_iter()
            .map(|job| sign_file_with(&ca, signer.as_ref(), job, now, level, CAPTION))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?
}

/// The identity a request names by NIK or e-mail, in the caller's organisation.
pub async fn find_identity(
    core: &Core,
    p: &Principal,
    nik: Option<&str>,
    email: Option<&str>,
) -> Result<Identity, CoreError> {
    let nik = nik.map(str::trim).filter(|s| !s.is_empty());
    let email = email.map(str::trim).filter(|s| !s.is_empty());
    let r = match (nik, email) {
        (Some(n), _) => {
            let nik = paraf_domain::Nik::parse(n)?;
            core.store.identity_by_nik(p.org, &nik).await
        }
        (None, Some(e)) => {
            let email = paraf_domain::Email::parse(e)?;
            core.store.identity_by_email(p.org, &email).await
        }
        (None, None) => return Err(CoreError::invalid("nik", "required")),
    };
    r.map_err(|e| {
        if e.is_not_found() {
            key_refused(KeyRefusal::NotRegistered)
        } else {
            CoreError::from(e)
        }
    })
}
