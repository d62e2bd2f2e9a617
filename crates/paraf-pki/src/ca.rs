//! The built-in certificate authority, kept in one directory.
//!
//! Hierarchy (all keys of the [`KeyType`] chosen at [`CertificateAuthority::init`]):
//!
//! ```text
//! root CA        self-signed, CA, pathLen 1, 20 years           DIR/root.pem  (the trust anchor)
//! └─ issuing CA  CA, pathLen 0, 10 years, AIA + CRL DP -> root  DIR/issuing.pem
//!    ├─ TSA      EKU timeStamping (critical), 9 years           DIR/tsa.pem
//!    └─ signers  keyUsage digitalSignature + nonRepudiation     (returned by issue)
//! ```
//!
//! **Invariant:** the root signs only issuing CA certificates, the root CRL and OCSP answers
//! about the issuing CAs; an issuing CA signs signer and TSA certificates, its CRL and OCSP
//! answers about them.
//!
//! **Renewal (generations).** The issuing CA lasts ten years, its TSA nine (it ends a year
//! before the CA that vouches for it), the root twenty.
//! [`CertificateAuthority::next_generation`] makes the next issuing CA (generation 2, 3, …;
//! named `… Issuing CA N`, its TSA `… Time Stamping Authority N`) under the same root, valid ten
//! years or until the root ends; it issues and timestamps from then on. Earlier issuing CAs
//! are kept: they sign nothing new but still answer OCSP and CRL requests about what they
//! issued (`/pki/crl/issuing.crl`, `/pki/crl/issuing-N.crl`), so that archives of documents
//! signed under them can still be renewed (`paraf_sign::renew_archive`) until they expire.
//! Files: `issuing-N.pem`, `issuing-N.key.sealed`, `tsa-N.pem`, `tsa-N.key.sealed` beside
//! generation 1's, and `state.json` (format 2) names the current generation. A new root (with
//! a cross-certificate) is not built: renewal is refused when the root ends within two years.
//!
//! Directory layout:
//!
//! | file | content |
//! |---|---|
//! | `root.pem`, `issuing.pem`, `tsa.pem` | certificates (PEM) |
//! | `root.key.sealed`, `issuing.key.sealed`, `tsa.key.sealed` | PKCS#8 keys sealed with [`crate::sealed`] |
//! | `state.json` | every certificate issued (PEM), its kind, issuer and revocation |
//! | `master.key` | only when no passphrase was given at init: 32 random bytes, mode 0600 |
//!
//! **Key protection.** The keys are always sealed at rest. The sealing passphrase is the one
//! given to [`CertificateAuthority::init`] and [`CertificateAuthority::open`]; when none is given
//! at init, a random 32-byte master key is created in `DIR/master.key` (mode 0600, never
//! overwritten) and used as the passphrase, so the directory alone opens the CA: protect it
//! like a private key, or give a passphrase.
//!
//! **Signer certificates** carry the subject `O=<org>, CN=<name>[, serialNumber=PNOID-<NIK>]
//! [, emailAddress=<email>]`. The NIK (Indonesian national identity number, 16 digits) is
//! encoded as an ETSI EN 319 412-1 section 5.1.3 natural-person semantics identifier:
//! `PNO` (national personal number) + `ID` (country) + `-` + the digits, as a
//! PrintableString in the X.520 serialNumber attribute (2.5.4.5). The e-mail is also in the
//! subjectAltName as rfc822Name. Serial numbers are 16 random bytes (positive).
//!
//! **CRLs** are v2 with nextUpdate = thisUpdate + 7 days and a CRL number equal to thisUpdate
//! in Unix seconds (monotonic as long as the clock is), so producing a CRL changes no state.
//! Entries carry a reasonCode unless the reason is `unspecified` (RFC 5280 section 5.3.1 asks
//! to omit it then). **OCSP** answers are signed directly by the CA that issued the certificate
//! asked about (no delegated responder), valid one day — no later than the certificate's end.
//!
//! **Where the records live.** The keys and certificates of the hierarchy are a [`CaMaterial`];
//! the certificates issued, their revocations and the CRL numbering go through a [`CaRecords`].
//! [`CertificateAuthority::init`] and [`CertificateAuthority::open`] keep both in the directory
//! (`state.json`; writers in any process take turns under `DIR/state.lock` and change it as
//! read from disk at that moment, so none loses another's update); [`CertificateAuthority::from_material`] takes any [`CaRecords`] — the
//! server's database implements it so that many instances share one CA (`paraf-core`'s `pki`).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{CrlNumber, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::Certificate;
use x509_ocsp::CertStatus;

use crate::clock::Clock;
use crate::error::{encode_err, PkiError, PkiErrorKind, Result};
use crate::key::{public_key_kind, to_der, KeyType, PrivateKey};
use crate::ocsp::{self, cert_id_matches_issuer, ResponseBuilder};
use crate::oids;
use crate::revocation::{RevocationReason, RevocationSource};
use crate::sealed;
use crate::tsp::TimestampAuthority;
use crate::x509::{
    build_name, cert_from_pem, cert_to_pem, ext_authority_info_access, ext_authority_key_id,
    ext_basic_constraints, ext_crl_distribution_point, ext_extended_key_usage, ext_key_usage,
    ext_subject_alt_email, ext_subject_key_id, extension, random_serial, serial_hex, spki_der,
    whole_seconds, x509_time, CertTemplate, NameValue,
};

const DAY: Duration = Duration::from_secs(86_400);
const ROOT_VALIDITY: Duration = Duration::from_secs(86_400 * (20 * 365 + 5));
const ISSUING_VALIDITY: Duration = Duration::from_secs(86_400 * (10 * 365 + 2));
/// The TSA's certificate ends this long before its issuing CA's: its timestamps are renewed
/// (and the CA with them) while the CA that vouches for them still answers, and a validator
/// that meets an expired TSA certificate still finds a valid issuing CA above it.
const TSA_MARGIN: Duration = Duration::from_secs(86_400 * 365);
/// CA and TSA certificates start this long before `now`, to tolerate clock skew.
const BACKDATE: Duration = Duration::from_secs(3_600);
const CRL_VALIDITY: Duration = Duration::from_secs(7 * 86_400);
const OCSP_VALIDITY: Duration = DAY;
/// `state.json` of a CA with one issuing CA; format 2 adds `generation` (after a renewal), so
/// that a build that knows only one issuing CA refuses the directory.
const STATE_FORMAT: u32 = 1;
const STATE_FORMAT_GENERATIONS: u32 = 2;
/// A renewal is refused when the root ends within this: the new issuing CA (and its TSA, a
/// year shorter) would be too short (a new root is needed; not built).
const MIN_RENEWAL: Duration = Duration::from_secs(86_400 * 2 * 365);

/// One of the CAs of the hierarchy: the root, or an issuing CA by generation (1 is the one
/// made with the root; [`CertificateAuthority::renew_dir`] and the database's renewal add the
/// next).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaName {
    /// The self-signed root.
    Root,
    /// The issuing CA of this generation (1, 2, …) under the root.
    Issuing(u32),
}

impl CaName {
    /// The first issuing CA (made with the root).
    pub const FIRST_ISSUING: CaName = CaName::Issuing(1);

    /// `root`, `issuing` (generation 1, the name it always had) or `issuing-N`: the name in
    /// the records, the file names and the `/pki` URLs.
    pub fn name(self) -> String {
        match self {
            CaName::Root => "root".to_owned(),
            CaName::Issuing(1) => "issuing".to_owned(),
            CaName::Issuing(n) => format!("issuing-{n}"),
        }
    }
}

impl fmt::Display for CaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for CaName {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        let generation = lower
            .strip_prefix("issuing-")
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| *n >= 2 && !lower.contains("-0") && !lower.contains('+'));
        match (lower.as_str(), generation) {
            ("root", _) => Ok(CaName::Root),
            ("issuing", _) => Ok(CaName::FIRST_ISSUING),
            (_, Some(n)) => Ok(CaName::Issuing(n)),
            _ => Err(PkiError::invalid(format!(
                "unknown CA {s:?} (root, issuing or issuing-N for a later issuing CA)"
            ))),
        }
    }
}

impl serde::Serialize for CaName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> serde::Deserialize<'de> for CaName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parameters of [`CertificateAuthority::init`].
#[derive(Debug, Clone)]
pub struct CaInitOptions {
    /// Key type of the root, issuing CA and TSA keys.
    pub key_type: KeyType,
    /// Base URL the server is reached at (no trailing slash needed), e.g.
    /// `https://sign.example.id`. Certificates point to `{public_url}/pki/...`.
    pub public_url: String,
    /// Organisation name (O) of every certificate, and the CA names' prefix.
    pub org_name: String,
    /// Passphrase sealing the keys; `None` creates `DIR/master.key`.
    pub passphrase: Option<Vec<u8>>,
}

/// What to put in a signer certificate.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// The signer's name (CN), 1 to 64 characters.
    pub common_name: String,
    /// E-mail address (ASCII), put in subjectAltName and the subject.
    pub email: Option<String>,
    /// NIK, exactly 16 ASCII digits.
    pub nik: Option<String>,
    /// Key type to generate ([`CertificateAuthority::issue`] only).
    pub key_type: KeyType,
    /// Validity in days, at least 1.
    pub validity_days: u32,
    /// Start of validity.
    pub not_before: SystemTime,
}

/// What a certificate issued by this CA is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertKind {
    /// The issuing CA (issued by the root).
    Issuing,
    /// The time-stamping authority.
    Tsa,
    /// A document signer.
    Signer,
}

impl CertKind {
    /// `issuing`, `tsa` or `signer`.
    pub fn name(self) -> &'static str {
        match self {
            CertKind::Issuing => "issuing",
            CertKind::Tsa => "tsa",
            CertKind::Signer => "signer",
        }
    }
}

impl FromStr for CertKind {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "issuing" => Ok(CertKind::Issuing),
            "tsa" => Ok(CertKind::Tsa),
            "signer" => Ok(CertKind::Signer),
            _ => Err(PkiError::malformed(format!(
                "unknown certificate kind {s:?}"
            ))),
        }
    }
}

/// A revocation, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revocation {
    /// Unix seconds.
    pub time: u64,
    /// Why.
    pub reason: RevocationReason,
}

/// A certificate this CA issued, as stored in `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IssuedRecord {
    /// Serial number, lower-case hex.
    pub serial: String,
    /// Which CA signed it.
    pub issuer: CaName,
    /// What it is for.
    pub kind: CertKind,
    /// Subject, RFC 4514 string (for people reading the file).
    pub subject: String,
    /// notBefore, Unix seconds.
    pub not_before: u64,
    /// notAfter, Unix seconds.
    pub not_after: u64,
    /// The certificate, PEM.
    pub certificate: String,
    /// Set once revoked.
    pub revoked: Option<Revocation>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct State {
    format: u32,
    public_url: String,
    org_name: String,
    key_type: String,
    /// The current issuing CA's generation (1 until a renewal).
    #[serde(
        default = "first_generation",
        skip_serializing_if = "is_first_generation"
    )]
    generation: u32,
    issued: Vec<IssuedRecord>,
}

fn first_generation() -> u32 {
    1
}

fn is_first_generation(n: &u32) -> bool {
    *n == 1
}

/// Where a [`CertificateAuthority`] keeps the certificates it issued, their revocations and its
/// CRL numbering. Implementations are shared by every process using the CA: the directory's
/// `state.json` ([`CertificateAuthority::open`]) or a database.
pub trait CaRecords: Send + Sync {
    /// Records a certificate just signed; it is handed out only if this succeeds.
    fn add(&self, rec: &IssuedRecord) -> Result<()>;
    /// The record of the certificate with (normalised) serial `serial`.
    fn get(&self, serial: &str) -> Result<Option<IssuedRecord>>;
    /// Every record, oldest first.
    fn all(&self) -> Result<Vec<IssuedRecord>>;
    /// The revoked certificates issued by `issuer`.
    fn revoked(&self, issuer: CaName) -> Result<Vec<IssuedRecord>>;
    /// Changes the revocation of `serial` from `previous` to `next`; fails (kind
    /// [`PkiErrorKind::InvalidInput`]) when it is no longer `previous` (someone else changed it).
    fn set_revocation(
        &self,
        serial: &str,
        previous: Option<&Revocation>,
        next: Option<&Revocation>,
    ) -> Result<()>;
    /// A DER CRL of `issuer` at `now`: the implementation picks the CRL number (strictly
    /// increasing per issuer) and calls `make(number)` to sign a fresh CRL, or hands out one it
    /// made earlier that is still current.
    fn crl(
        &self,
        issuer: CaName,
        now: SystemTime,
        make: &dyn Fn(u64) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>>;
}

/// The records in `DIR/state.json`, changed under the directory's lock; CRL numbers are thisUpdate
/// in Unix seconds, so producing a CRL changes nothing on disk.
struct FileRecords {
    dir: PathBuf,
    state: std::sync::Mutex<State>,
}

impl FileRecords {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn save(&self, state: &State) -> Result<()> {
        save_state(&self.dir, state)
    }
}

impl FileRecords {
    /// Changes `state.json` as read from disk now, under the directory's lock, so that a
    /// change another process made meanwhile (`paraf ca revoke` or `renew` beside a server)
    /// is kept rather than written over; the copy in memory follows.
    fn update<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let _dir = DirLock::take(&self.dir)?;
        let mut held = self.state();
        let mut fresh = read_state(&self.dir)?;
        let out = f(&mut fresh)?;
        self.save(&fresh)?;
        *held = fresh;
        Ok(out)
    }
}

impl CaRecords for FileRecords {
    fn add(&self, rec: &IssuedRecord) -> Result<()> {
        self.update(|state| {
            state.issued.push(rec.clone());
            Ok(())
        })
    }

    fn get(&self, serial: &str) -> Result<Option<IssuedRecord>> {
        Ok(self
            .state()
            .issued
            .iter()
            .find(|r| r.serial == serial)
            .cloned())
    }

    fn all(&self) -> Result<Vec<IssuedRecord>> {
        Ok(self.state().issued.clone())
    }

    fn revoked(&self, issuer: CaName) -> Result<Vec<IssuedRecord>> {
        Ok(self
            .state()
            .issued
            .iter()
            .filter(|r| r.issuer == issuer && r.revoked.is_some())
            .cloned()
            .collect())
    }

    fn set_revocation(
        &self,
        serial: &str,
        previous: Option<&Revocation>,
        next: Option<&Revocation>,
    ) -> Result<()> {
        self.update(|state| {
            let Some(i) = state.issued.iter().position(|r| r.serial == serial) else {
                return Err(unknown_serial(serial));
            };
            if state.issued[i].revoked.as_ref() != previous {
                return Err(changed_meanwhile(serial));
            }
            state.issued[i].revoked = next.cloned();
            Ok(())
        })
    }

    fn crl(
        &self,
        _issuer: CaName,
        now: SystemTime,
        make: &dyn Fn(u64) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        make(unix(now)?)
    }
}

fn save_state(dir: &Path, state: &State) -> Result<()> {
    let json = serde_json::to_vec_pretty(state)
        .map_err(|e| PkiError::new(PkiErrorKind::Encoding, format!("state.json: {e}")))?;
    write_file_atomically(&dir.join("state.json"), &json, false)
}

fn unknown_serial(serial: &str) -> PkiError {
    PkiError::new(
        PkiErrorKind::UnknownSerial,
        format!("no certificate with serial {serial} was issued by this CA"),
    )
}

/// What [`CaRecords::set_revocation`] answers when the revocation changed under it.
pub fn changed_meanwhile(serial: &str) -> PkiError {
    PkiError::invalid(format!(
        "the revocation of certificate {serial} changed meanwhile; try again"
    ))
}

/// The keys and certificates of a CA hierarchy, as stored: certificates in PEM, keys as PKCS#8
/// sealed with [`crate::sealed`] under the CA passphrase (or master key). The files of a CA
/// directory, or a database row.
#[derive(Clone, PartialEq, Eq)]
pub struct CaMaterial {
    /// Base URL certificates point to.
    pub public_url: String,
    /// Organisation name (O) of the CA's certificates.
    pub org_name: String,
    /// Key type of the CA keys ([`KeyType::name`]).
    pub key_type: String,
    /// The root certificate, PEM.
    pub root_pem: String,
    /// The issuing CA certificate, PEM.
    pub issuing_pem: String,
    /// The TSA certificate, PEM.
    pub tsa_pem: String,
    /// The root key, sealed.
    pub root_key: Vec<u8>,
    /// The issuing CA key, sealed.
    pub issuing_key: Vec<u8>,
    /// The TSA key, sealed.
    pub tsa_key: Vec<u8>,
    /// The issuing CAs (and TSAs) of later generations, 2, 3, … in order: the last is the
    /// current one. The fields above hold generation 1.
    pub later: Vec<Generation>,
}

/// An issuing CA and its TSA made by a renewal (generation 2 and later), as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Generation {
    /// 2, 3, …
    pub number: u32,
    /// The issuing CA certificate, PEM.
    pub issuing_pem: String,
    /// The issuing CA key, sealed.
    pub issuing_key: Vec<u8>,
    /// The TSA certificate, PEM.
    pub tsa_pem: String,
    /// The TSA key, sealed.
    pub tsa_key: Vec<u8>,
}

impl fmt::Debug for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generation")
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for CaMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaMaterial")
            .field("public_url", &self.public_url)
            .field("org_name", &self.org_name)
            .field("key_type", &self.key_type)
            .field("generations", &(self.later.len() + 1))
            .finish_non_exhaustive()
    }
}

struct Ca {
    key: PrivateKey,
    cert: Certificate,
}

/// The keys of a CA hierarchy in the clear, each with its certificate (root, the issuing CA
/// of every generation, the current TSA): what [`CaMaterial::unseal`] gives and
/// [`CertificateAuthority::from_keys`] takes.
pub struct CaKeys {
    root: Ca,
    /// Generation 1, 2, … in order.
    issuing: Vec<Ca>,
    tsa: Ca,
}

impl fmt::Debug for CaKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CaKeys")
    }
}

/// The built-in CA: root, issuing CA and TSA, opened from its directory or its [`CaMaterial`].
/// After renewals it also holds the earlier issuing CAs: they issue nothing more but still
/// answer OCSP and CRL requests about what they issued.
pub struct CertificateAuthority {
    dir: Option<PathBuf>,
    public_url: String,
    org_name: String,
    key_type: KeyType,
    root: Ca,
    /// Generation 1, 2, … in order; the last issues.
    issuing: Vec<Ca>,
    tsa: TimestampAuthority,
    records: std::sync::Arc<dyn CaRecords>,
    clock: Clock,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("dir", &self.dir)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

fn unix(t: SystemTime) -> Result<u64> {
    Ok(whole_seconds(t)?.as_secs())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// `path` is never seen half-written. With `private`, the file is created with mode 0600 (Unix).
pub fn write_file_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| PkiError::invalid(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        hex::encode(crate::x509::random_bytes(6)?)
    ));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(PkiError::io(format!("writing {}", path.display()), e));
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| PkiError::io(format!("reading {}", path.display()), e))
}

fn url(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

/// Parses a serial given as hex (`0x` prefix, colons, spaces and case ignored) to Paraf's form.
pub fn normalize_serial(serial: &str) -> Result<String> {
    let s: String = serial
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(PkiError::invalid(format!(
            "serial {serial:?} is not hexadecimal"
        )));
    }
    let s = s.to_ascii_lowercase();
    let trimmed = s.trim_start_matches('0');
    let mut out = if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    };
    if out.len() % 2 == 1 {
        out.insert(0, '0');
    }
    Ok(out)
}

fn validate_nik(nik: &str) -> Result<()> {
    if nik.len() == 16 && nik.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PkiError::invalid(format!(
            "NIK must be exactly 16 ASCII digits, got {nik:?}"
        )))
    }
}

fn validate_request(req: &IssueRequest) -> Result<()> {
    let cn = req.common_name.trim();
    if cn.is_empty() || cn.chars().count() > 64 {
        return Err(PkiError::invalid("common name must be 1 to 64 characters"));
    }
    if let Some(email) = &req.email {
        let ok = email.is_ascii()
            && email.len() <= 255
            && email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'))
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(PkiError::invalid(format!(
                "{email:?} is not an ASCII e-mail address"
            )));
        }
    }
    if let Some(nik) = &req.nik {
        validate_nik(nik)?;
    }
    if req.validity_days == 0 {
        return Err(PkiError::invalid("validity must be at least one day"));
    }
    Ok(())
}

fn check_options(opts: &CaInitOptions) -> Result<()> {
    if opts.org_name.trim().is_empty() || opts.org_name.chars().count() > 64 {
        return Err(PkiError::invalid(
            "organisation name must be 1 to 64 characters",
        ));
    }
    if !opts.public_url.is_ascii()
        || !(opts.public_url.starts_with("http://") || opts.public_url.starts_with("https://"))
    {
        return Err(PkiError::invalid(format!(
            "public URL {:?} must be an ASCII http(s) URL",
            opts.public_url
        )));
    }
    Ok(())
}

/// The issuing CA of generation `number` under `root`, valid from `start` to `end`, and a TSA
/// under it whose certificate ends [`TSA_MARGIN`] earlier. Generation 1 has the names it always had; later ones carry their number
/// (distinct names keep path building unambiguous) and point their end entities to
/// `/pki/ca/issuing-N.pem` and `/pki/crl/issuing-N.crl`.
fn make_generation(
    root: &Ca,
    org: &str,
    base: &str,
    key_type: KeyType,
    number: u32,
    start: SystemTime,
    end: SystemTime,
) -> Result<(Ca, Ca)> {
    let suffix = if number == 1 {
        String::new()
    } else {
        format!(" {number}")
    };
    let root_spki = root.key.public_key_der();
    let issuing_key = PrivateKey::generate(key_type)?;
    let issuing_spki = issuing_key.public_key_der();
    let issuing_name = build_name(&[
        (oids::ORGANIZATION, NameValue::Utf8(org.to_owned())),
        (
            oids::COMMON_NAME,
            NameValue::Utf8(format!("{org} Issuing CA{suffix}")),
        ),
    ])?;
    let issuing_cert = CertTemplate {
        serial: random_serial()?,
        issuer: root.cert.tbs_certificate.subject.clone(),
        subject: issuing_name.clone(),
        not_before: start,
        not_after: end,
        spki_der: issuing_spki.clone(),
        extensions: vec![
            ext_basic_constraints(true, Some(0))?,
            ext_key_usage(KeyUsage(
                KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature,
            ))?,
            ext_subject_key_id(&issuing_spki)?,
            ext_authority_key_id(&root_spki)?,
            ext_authority_info_access(&url(base, "/pki/ocsp"), &url(base, "/pki/ca/root.pem"))?,
            ext_crl_distribution_point(&url(base, "/pki/crl/root.crl"))?,
        ],
    }
    .sign(&root.key)?;

    let tsa_key = PrivateKey::generate(key_type)?;
    let tsa_spki = tsa_key.public_key_der();
    let tsa_cert = CertTemplate {
        serial: random_serial()?,
        issuer: issuing_name,
        subject: build_name(&[
            (oids::ORGANIZATION, NameValue::Utf8(org.to_owned())),
            (
                oids::COMMON_NAME,
                NameValue::Utf8(format!("{org} Time Stamping Authority{suffix}")),
            ),
        ])?,
        not_before: start,
        not_after: end.checked_sub(TSA_MARGIN).unwrap_or(end),
        spki_der: tsa_spki.clone(),
        extensions: CertificateAuthority::end_entity_extensions(
            base,
            &tsa_spki,
            &issuing_spki,
            CaName::Issuing(number),
            true,
            None,
        )?,
    }
    .sign(&issuing_key)?;
    Ok((
        Ca {
            key: issuing_key,
            cert: issuing_cert,
        },
        Ca {
            key: tsa_key,
            cert: tsa_cert,
        },
    ))
}

/// The records of a generation's two certificates (the issuing CA's by the root, the TSA's by
/// that issuing CA).
fn generation_records(issuing: &Ca, tsa: &Ca, number: u32) -> Result<Vec<IssuedRecord>> {
    Ok(vec![
        record(&issuing.cert, CaName::Root, CertKind::Issuing)?,
        record(&tsa.cert, CaName::Issuing(number), CertKind::Tsa)?,
    ])
}

/// A generation as stored: certificates in PEM, keys sealed under `passphrase`.
fn seal_generation(issuing: &Ca, tsa: &Ca, number: u32, passphrase: &[u8]) -> Result<Generation> {
    Ok(Generation {
        number,
        issuing_pem: cert_to_pem(&issuing.cert)?,
        issuing_key: sealed::seal(&issuing.key.to_pkcs8_der()?, passphrase)?,
        tsa_pem: cert_to_pem(&tsa.cert)?,
        tsa_key: sealed::seal(&tsa.key.to_pkcs8_der()?, passphrase)?,
    })
}

/// `issuing.pem`, `issuing.key.sealed`, `tsa.pem`, `tsa.key.sealed` for generation 1;
/// `issuing-N.pem` … for generation N.
fn generation_file(stem: &str, number: u32, ext: &str) -> String {
    if number == 1 {
        format!("{stem}.{ext}")
    } else {
        format!("{stem}-{number}.{ext}")
    }
}

impl CaMaterial {
    /// Generates a new hierarchy at time `now` (root, issuing CA, TSA), its keys sealed under
    /// `passphrase` (`opts.passphrase` is not used here). Also gives the records of the
    /// certificates the root and issuing CA signed (the issuing CA's and the TSA's), and the
    /// keys in the clear, so that the new CA opens without unsealing what was just sealed.
    pub fn generate(
        opts: &CaInitOptions,
        passphrase: &[u8],
        now: SystemTime,
    ) -> Result<(CaMaterial, Vec<IssuedRecord>, CaKeys)> {
        check_options(opts)?;
        let org = opts.org_name.trim().to_owned();
        let base = opts.public_url.trim_end_matches('/').to_owned();
        let start = now.checked_sub(BACKDATE).unwrap_or(now);

        let root_key = PrivateKey::generate(opts.key_type)?;
        let root_name = build_name(&[
            (oids::ORGANIZATION, NameValue::Utf8(org.clone())),
            (oids::COMMON_NAME, NameValue::Utf8(format!("{org} Root CA"))),
        ])?;
        let root_spki = root_key.public_key_der();
        let root_cert = CertTemplate {
            serial: random_serial()?,
            issuer: root_name.clone(),
            subject: root_name.clone(),
            not_before: start,
            not_after: start + ROOT_VALIDITY,
            spki_der: root_spki.clone(),
            extensions: vec![
                ext_basic_constraints(true, Some(1))?,
                ext_key_usage(KeyUsage(
                    KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature,
                ))?,
                ext_subject_key_id(&root_spki)?,
            ],
        }
        .sign(&root_key)?;

        let root = Ca {
            key: root_key,
            cert: root_cert,
        };
        let (issuing, tsa) = make_generation(
            &root,
            &org,
            &base,
            opts.key_type,
            1,
            start,
            start + ISSUING_VALIDITY,
        )?;
        let records = generation_records(&issuing, &tsa, 1)?;
        let first = seal_generation(&issuing, &tsa, 1, passphrase)?;
        let material = CaMaterial {
            public_url: base,
            org_name: org,
            key_type: opts.key_type.name().to_owned(),
            root_pem: cert_to_pem(&root.cert)?,
            issuing_pem: first.issuing_pem,
            tsa_pem: first.tsa_pem,
            root_key: sealed::seal(&root.key.to_pkcs8_der()?, passphrase)?,
            issuing_key: first.issuing_key,
            tsa_key: first.tsa_key,
            later: Vec::new(),
        };
        let keys = CaKeys {
            root,
            issuing: vec![issuing],
            tsa,
        };
        Ok((material, records, keys))
    }

    /// The current issuing CA's generation.
    pub fn generation(&self) -> u32 {
        self.later.last().map_or(1, |g| g.number)
    }

    /// The keys of this material, unsealed with `passphrase` and checked against their
    /// certificates (Argon2id: blocking).
    pub fn unseal(&self, passphrase: &[u8]) -> Result<CaKeys> {
        let load = |name: &str, pem: &str, blob: &[u8]| -> Result<Ca> {
            let cert = cert_from_pem(pem.as_bytes())?;
            let pkcs8 = sealed::open(blob, passphrase).map_err(|e| match e.kind() {
                PkiErrorKind::BadPassword => PkiError::new(
                    PkiErrorKind::BadPassword,
                    format!("wrong CA passphrase for the {name} key"),
                ),
                _ => PkiError::new(e.kind(), format!("{name} key: {}", e.message())),
            })?;
            let key = PrivateKey::from_pkcs8_der(&pkcs8)?;
            if !crate::x509::same_public_key(&cert, key.public_key_spki())? {
                return Err(PkiError::crypto(format!(
                    "the sealed {name} key is not the key of the {name} certificate"
                )));
            }
            Ok(Ca { key, cert })
        };
        let mut issuing = vec![load("issuing", &self.issuing_pem, &self.issuing_key)?];
        for g in &self.later {
            if g.number as usize != issuing.len() + 1 {
                return Err(PkiError::malformed(format!(
                    "issuing CA generation {} follows generation {}",
                    g.number,
                    issuing.len()
                )));
            }
            issuing.push(load(
                &CaName::Issuing(g.number).name(),
                &g.issuing_pem,
                &g.issuing_key,
            )?);
        }
        // Only the current TSA signs: earlier TSA keys stay sealed.
        let tsa = match self.later.last() {
            None => load("tsa", &self.tsa_pem, &self.tsa_key)?,
            Some(g) => load(&format!("tsa-{}", g.number), &g.tsa_pem, &g.tsa_key)?,
        };
        Ok(CaKeys {
            root: load("root", &self.root_pem, &self.root_key)?,
            issuing,
            tsa,
        })
    }

    /// Reads the material and the records of the CA in directory `dir` (for an import).
    pub fn read_dir(dir: &Path) -> Result<(CaMaterial, Vec<IssuedRecord>)> {
        let state = read_state(dir)?;
        let material = Self::read_files(dir, &state)?;
        Ok((material, state.issued))
    }

    /// The material of the CA in `dir` whose `state.json` says `state`.
    fn read_files(dir: &Path, state: &State) -> Result<CaMaterial> {
        let text = |name: &str| -> Result<String> {
            String::from_utf8(read(&dir.join(name))?)
                .map_err(|_| PkiError::malformed(format!("{name} is not text")))
        };
        let mut later = Vec::new();
        for number in 2..=state.generation {
            later.push(Generation {
                number,
                issuing_pem: text(&generation_file("issuing", number, "pem"))?,
                issuing_key: read(&dir.join(generation_file("issuing", number, "key.sealed")))?,
                tsa_pem: text(&generation_file("tsa", number, "pem"))?,
                tsa_key: read(&dir.join(generation_file("tsa", number, "key.sealed")))?,
            });
        }
        Ok(CaMaterial {
            public_url: state.public_url.clone(),
            org_name: state.org_name.clone(),
            key_type: state.key_type.clone(),
            root_pem: text("root.pem")?,
            issuing_pem: text("issuing.pem")?,
            tsa_pem: text("tsa.pem")?,
            root_key: read(&dir.join("root.key.sealed"))?,
            issuing_key: read(&dir.join("issuing.key.sealed"))?,
            tsa_key: read(&dir.join("tsa.key.sealed"))?,
            later,
        })
    }

    /// Writes the files of a later generation in `dir` (before `state.json` names it).
    fn write_generation(dir: &Path, g: &Generation) -> Result<()> {
        write_file_atomically(
            &dir.join(generation_file("issuing", g.number, "key.sealed")),
            &g.issuing_key,
            true,
        )?;
        write_file_atomically(
            &dir.join(generation_file("tsa", g.number, "key.sealed")),
            &g.tsa_key,
            true,
        )?;
        write_file_atomically(
            &dir.join(generation_file("issuing", g.number, "pem")),
            g.issuing_pem.as_bytes(),
            false,
        )?;
        write_file_atomically(
            &dir.join(generation_file("tsa", g.number, "pem")),
            g.tsa_pem.as_bytes(),
            false,
        )
    }

    /// Writes the CA's files in `dir`; gives its records there.
    fn write_dir(&self, dir: &Path, issued: Vec<IssuedRecord>) -> Result<FileRecords> {
        for g in &self.later {
            Self::write_generation(dir, g)?;
        }
        for (name, blob) in [
            ("root.key.sealed", &self.root_key),
            ("issuing.key.sealed", &self.issuing_key),
            ("tsa.key.sealed", &self.tsa_key),
        ] {
            write_file_atomically(&dir.join(name), blob, true)?;
        }
        for (name, pem) in [
            ("issuing.pem", &self.issuing_pem),
            ("tsa.pem", &self.tsa_pem),
            ("root.pem", &self.root_pem),
        ] {
            write_file_atomically(&dir.join(name), pem.as_bytes(), false)?;
        }
        let generation = self.generation();
        let state = State {
            format: if generation == 1 {
                STATE_FORMAT
            } else {
                STATE_FORMAT_GENERATIONS
            },
            public_url: self.public_url.clone(),
            org_name: self.org_name.clone(),
            key_type: self.key_type.clone(),
            generation,
            issued,
        };
        let records = FileRecords {
            dir: dir.to_path_buf(),
            state: std::sync::Mutex::new(state.clone()),
        };
        records.save(&state)?;
        Ok(records)
    }
}

fn read_state(dir: &Path) -> Result<State> {
    let state_bytes = read(&dir.join("state.json"))?;
    let state: State = serde_json::from_slice(&state_bytes)
        .map_err(|e| PkiError::malformed(format!("{}: {e}", dir.join("state.json").display())))?;
    if state.format != STATE_FORMAT && state.format != STATE_FORMAT_GENERATIONS {
        return Err(PkiError::unsupported(format!(
            "state.json format {} (this build reads {STATE_FORMAT} and \
             {STATE_FORMAT_GENERATIONS})",
            state.format
        )));
    }
    if state.generation == 0 || (state.generation > 1) != (state.format == STATE_FORMAT_GENERATIONS)
    {
        return Err(PkiError::malformed(format!(
            "state.json: generation {} with format {}",
            state.generation, state.format
        )));
    }
    Ok(state)
}

/// The passphrase of the CA in `dir`: `passphrase` if given, else the content of
/// `DIR/master.key`.
pub fn dir_passphrase(
    dir: &Path,
    passphrase: Option<&[u8]>,
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    Ok(zeroize::Zeroizing::new(match passphrase {
        Some(p) => p.to_vec(),
        None => {
            let path = dir.join("master.key");
            read(&path).map_err(|e| {
                PkiError::new(
                    e.kind(),
                    format!(
                        "no CA passphrase given and {} cannot be read: {}",
                        path.display(),
                        e.message()
                    ),
                )
            })?
        }
    }))
}

/// Creates `DIR/master.key` (32 random bytes, mode 0600), refusing to overwrite one, and gives
/// its content. The file is created exclusively (`O_EXCL`): of two processes creating it at
/// once, one fails (kind [`PkiErrorKind::Io`], "exists") and neither overwrites the other.
pub fn create_master_key(dir: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    use std::io::Write;
    fs::create_dir_all(dir).map_err(|e| PkiError::io(format!("creating {}", dir.display()), e))?;
    let key = zeroize::Zeroizing::new(crate::x509::random_bytes(32)?);
    let path = dir.join("master.key");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts.open(&path).and_then(|mut f| {
        f.write_all(&key)?;
        f.sync_all()
    });
    match written {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(PkiError::invalid(format!(
            "{} exists; refusing to overwrite it",
            path.display()
        ))),
        Err(e) => {
            let _ = fs::remove_file(&path);
            Err(PkiError::io(format!("writing {}", path.display()), e))
        }
    }
}

/// The lock of a CA directory's writers (`DIR/state.lock`, an advisory lock of the operating
/// system: released when its holder ends, even by a crash). Every change of `state.json` and a
/// renewal as a whole hold it, so writers in different processes take turns.
struct DirLock(fs::File);

impl DirLock {
    fn take(dir: &Path) -> Result<DirLock> {
        let path = dir.join("state.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| PkiError::io(format!("opening {}", path.display()), e))?;
        file.lock()
            .map_err(|e| PkiError::io(format!("locking {}", path.display()), e))?;
        Ok(DirLock(file))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Marker left in a CA directory whose CA was imported into the database: the directory is
/// then refused, so that nothing issues or revokes against its stale copy.
pub const MOVED_MARKER: &str = "MOVED-TO-DATABASE";

/// Refuses a CA directory whose CA was imported into the database ([`MOVED_MARKER`]).
pub fn refuse_moved(dir: &Path) -> Result<()> {
    if dir.join(MOVED_MARKER).exists() {
        return Err(PkiError::invalid(format!(
            "the CA of {} was imported into the database ({}): use it there (ca_store = \
             database); these files are a stale copy",
            dir.display(),
            MOVED_MARKER
        )));
    }
    Ok(())
}

impl CertificateAuthority {
    /// Creates a new CA in `dir` (created if missing; must not already hold a CA) at time `now`:
    /// root, issuing CA and TSA keys and certificates, sealed keys and `state.json`.
    pub fn init(dir: &Path, opts: CaInitOptions, now: SystemTime) -> Result<Self> {
        // Checked before anything is written.
        check_options(&opts)?;
        fs::create_dir_all(dir)
            .map_err(|e| PkiError::io(format!("creating {}", dir.display()), e))?;
        if dir.join("state.json").exists() || dir.join("root.pem").exists() {
            return Err(PkiError::invalid(format!(
                "{} already holds a CA",
                dir.display()
            )));
        }
        let passphrase = match &opts.passphrase {
            Some(p) => zeroize::Zeroizing::new(p.clone()),
            None => create_master_key(dir)?,
        };
        let (material, issued, keys) = CaMaterial::generate(&opts, &passphrase, now)?;
        let records = material.write_dir(dir, issued)?;
        let mut ca = Self::from_keys(&material, keys, std::sync::Arc::new(records))?;
        ca.dir = Some(dir.to_path_buf());
        Ok(ca)
    }

    /// Opens the CA in `dir`, unsealing its keys with `passphrase`, or with `DIR/master.key`
    /// when `None`. The [`Clock`] for [`RevocationSource`] and the TSA's [`crate::Timestamper`]
    /// is the system clock until [`CertificateAuthority::with_clock`] replaces it.
    pub fn open(dir: &Path, passphrase: Option<&[u8]>) -> Result<Self> {
        refuse_moved(dir)?;
        let state = read_state(dir)?;
        let material = CaMaterial::read_files(dir, &state)?;
        let passphrase = dir_passphrase(dir, passphrase)?;
        let records = std::sync::Arc::new(FileRecords {
            dir: dir.to_path_buf(),
            state: std::sync::Mutex::new(state),
        });
        let mut ca = Self::from_material(&material, &passphrase, records)?;
        ca.dir = Some(dir.to_path_buf());
        Ok(ca)
    }

    /// Opens a CA from its material, unsealing the keys with `passphrase`, its records kept by
    /// `records`.
    pub fn from_material(
        material: &CaMaterial,
        passphrase: &[u8],
        records: std::sync::Arc<dyn CaRecords>,
    ) -> Result<Self> {
        Self::from_keys(material, material.unseal(passphrase)?, records)
    }

    /// Opens a CA from its material and its keys already in the clear ([`CaMaterial::unseal`],
    /// or [`CaMaterial::generate`] for a new one).
    pub fn from_keys(
        material: &CaMaterial,
        keys: CaKeys,
        records: std::sync::Arc<dyn CaRecords>,
    ) -> Result<Self> {
        let CaKeys { root, issuing, tsa } = keys;
        let clock = Clock::system();
        let current = issuing
            .last()
            .ok_or_else(|| PkiError::malformed("a CA without an issuing CA"))?;
        let tsa = TimestampAuthority::new(
            tsa.key,
            tsa.cert,
            vec![current.cert.clone(), root.cert.clone()],
            clock.clone(),
        )?;
        Ok(CertificateAuthority {
            dir: None,
            public_url: material.public_url.clone(),
            org_name: material.org_name.clone(),
            key_type: material.key_type.parse()?,
            root,
            issuing,
            tsa,
            records,
            clock,
        })
    }

    /// The next generation of issuing CA: a new key pair signed by the root and a new TSA
    /// under it, valid from `now` (backdated an hour) for ten years or until the root ends,
    /// keys sealed under `passphrase` (the CA's). Nothing is stored: the caller stores the
    /// generation with its records ([`CertificateAuthority::renew_dir`], or the database) and
    /// reopens the CA. Refused when the root ends within two years.
    pub fn next_generation(
        &self,
        passphrase: &[u8],
        now: SystemTime,
    ) -> Result<(Generation, Vec<IssuedRecord>)> {
        let number = u32::try_from(self.issuing.len() + 1)
            .map_err(|_| PkiError::invalid("too many issuing CA generations"))?;
        let start = now.checked_sub(BACKDATE).unwrap_or(now);
        let root_end = self
            .root
            .cert
            .tbs_certificate
            .validity
            .not_after
            .to_system_time();
        let end = (start + ISSUING_VALIDITY).min(root_end);
        if end < start + MIN_RENEWAL {
            return Err(PkiError::invalid(format!(
                "the root ends within two years ({} Unix seconds): a new issuing CA under it \
                 would be too short; a new root is needed",
                unix(root_end)?
            )));
        }
        let (issuing, tsa) = make_generation(
            &self.root,
            &self.org_name,
            &self.public_url,
            self.key_type,
            number,
            start,
            end,
        )?;
        Ok((
            seal_generation(&issuing, &tsa, number, passphrase)?,
            generation_records(&issuing, &tsa, number)?,
        ))
    }

    /// Renews the CA in `dir` (under the directory's lock, as every change of it): the next
    /// generation's issuing CA and TSA ([`CertificateAuthority::next_generation`]) are written
    /// as `issuing-N.*` and `tsa-N.*`, then `state.json` names them in one atomic replace.
    /// The earlier issuing CAs stay: they answer OCSP and CRL requests about what they issued.
    /// Gives the new generation's number.
    pub fn renew_dir(dir: &Path, passphrase: Option<&[u8]>, now: SystemTime) -> Result<u32> {
        // Writers take turns (the server's housekeeping and issuance, `paraf ca renew`, `paraf
        // admin ca renew` may be different processes): a second renewal would write its
        // generation's files over the first's, an issuance an older `state.json` back.
        let _lock = DirLock::take(dir)?;
        let ca = Self::open(dir, passphrase)?;
        let pass = dir_passphrase(dir, passphrase)?;
        let (generation, records) = ca.next_generation(&pass, now)?;
        // Files of this generation left by a renewal that never reached `state.json` are
        // replaced; `state.json` is re-read under the lock first, so nothing it names is.
        if read_state(dir)?.generation + 1 != generation.number {
            return Err(PkiError::invalid(format!(
                "{} changed during the renewal; try again",
                dir.display()
            )));
        }
        CaMaterial::write_generation(dir, &generation)?;
        let mut state = read_state(dir)?;
        if state.generation + 1 != generation.number {
            return Err(PkiError::invalid(format!(
                "{} changed during the renewal; try again",
                dir.display()
            )));
        }
        state.generation = generation.number;
        state.format = STATE_FORMAT_GENERATIONS;
        state.issued.extend(records);
        save_state(dir, &state)?;
        Ok(generation.number)
    }

    /// Until when the current issuing CA is valid (its TSA, a year less).
    pub fn issuing_not_after(&self) -> SystemTime {
        self.current()
            .cert
            .tbs_certificate
            .validity
            .not_after
            .to_system_time()
    }

    /// Replaces the clock used when acting as [`RevocationSource`] and by the TSA.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.tsa.set_clock(clock.clone());
        self.clock = clock;
        self
    }

    fn end_entity_extensions(
        base: &str,
        spki: &[u8],
        issuer_spki: &[u8],
        issuer: CaName,
        tsa: bool,
        email: Option<&str>,
    ) -> Result<Vec<x509_cert::ext::Extension>> {
        let issuer = issuer.name();
        let mut exts = vec![
            ext_basic_constraints(false, None)?,
            ext_key_usage(KeyUsage(
                KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
            ))?,
            ext_subject_key_id(spki)?,
            ext_authority_key_id(issuer_spki)?,
            ext_authority_info_access(
                &url(base, "/pki/ocsp"),
                &url(base, &format!("/pki/ca/{issuer}.pem")),
            )?,
            ext_crl_distribution_point(&url(base, &format!("/pki/crl/{issuer}.crl")))?,
        ];
        if tsa {
            exts.push(ext_extended_key_usage(&[oids::KP_TIME_STAMPING], true)?);
        }
        if let Some(email) = email {
            exts.push(ext_subject_alt_email(email)?);
        }
        Ok(exts)
    }

    /// Generates a key of `req.key_type` and issues a signer certificate for it.
    pub fn issue(&self, req: IssueRequest) -> Result<(PrivateKey, Certificate)> {
        validate_request(&req)?;
        let key = PrivateKey::generate(req.key_type)?;
        let cert = self.issue_for_public_key(&req, &key.public_key_der())?;
        Ok((key, cert))
    }

    /// Issues a signer certificate for a key held elsewhere (a PKCS#11 token), given its
    /// `SubjectPublicKeyInfo` DER. `req.key_type` is ignored.
    pub fn issue_for_public_key(&self, req: &IssueRequest, spki_der: &[u8]) -> Result<Certificate> {
        validate_request(req)?;
        public_key_kind(spki_der)?;
        let not_after = req.not_before + DAY * req.validity_days;
        let issuing = self.current();
        let ca_end = SystemTime::from(issuing.cert.tbs_certificate.validity.not_after);
        if not_after > ca_end {
            return Err(PkiError::invalid(format!(
                "validity ends after the issuing CA's ({} > {} Unix seconds)",
                unix(not_after)?,
                unix(ca_end)?
            )));
        }
        let cert = CertTemplate {
            serial: random_serial()?,
            issuer: issuing.cert.tbs_certificate.subject.clone(),
            subject: signer_subject(&self.org_name, req)?,
            not_before: req.not_before,
            not_after,
            spki_der: spki_der.to_vec(),
            extensions: Self::end_entity_extensions(
                &self.public_url,
                spki_der,
                &spki_der_of(&issuing.cert)?,
                self.current_issuing(),
                false,
                req.email.as_deref(),
            )?,
        }
        .sign(&issuing.key)?;
        self.records
            .add(&record(&cert, self.current_issuing(), CertKind::Signer)?)?;
        Ok(cert)
    }

    /// Revokes the certificate with serial `serial_hex` (as printed by `paraf ca issue`) at
    /// `now`. Fails with [`PkiErrorKind::UnknownSerial`] for serials this CA did not issue.
    pub fn revoke(
        &self,
        serial_hex: &str,
        reason: RevocationReason,
        now: SystemTime,
    ) -> Result<()> {
        let serial = normalize_serial(serial_hex)?;
        let time = unix(now)?;
        let rec = self.record(&serial)?;
        // A hold (suspension) may become a final revocation; nothing else changes.
        if let Some(r) = &rec.revoked {
            if r.reason != RevocationReason::CertificateHold
                || reason == RevocationReason::CertificateHold
            {
                return Err(PkiError::invalid(format!(
                    "certificate {serial} is already revoked ({})",
                    r.reason
                )));
            }
        }
        self.records.set_revocation(
            &serial,
            rec.revoked.as_ref(),
            Some(&Revocation { time, reason }),
        )
    }

    /// The stored record of the certificate with (normalised) serial `serial`.
    fn record(&self, serial: &str) -> Result<IssuedRecord> {
        self.records
            .get(serial)?
            .ok_or_else(|| unknown_serial(serial))
    }

    /// Lifts a suspension: the certificate with serial `serial_hex` was revoked with reason
    /// `certificateHold`; it leaves the CRL and OCSP answers "good" again. Any other
    /// revocation is final and refused.
    pub fn release_hold(&self, serial_hex: &str) -> Result<()> {
        let serial = normalize_serial(serial_hex)?;
        let rec = self.record(&serial)?;
        let Some(held) = rec.revoked else {
            return Err(PkiError::invalid(format!(
                "certificate {serial} is not on hold"
            )));
        };
        if held.reason != RevocationReason::CertificateHold {
            return Err(PkiError::invalid(format!(
                "certificate {serial} is revoked ({}), not on hold: that is final",
                held.reason
            )));
        }
        self.records.set_revocation(&serial, Some(&held), None)
    }

    fn ca(&self, name: CaName) -> Option<&Ca> {
        match name {
            CaName::Root => Some(&self.root),
            CaName::Issuing(n) => self.issuing.get((n as usize).checked_sub(1)?),
        }
    }

    fn known(&self, name: CaName) -> Result<&Ca> {
        self.ca(name).ok_or_else(|| {
            PkiError::new(
                PkiErrorKind::NotFound,
                format!(
                    "this CA has no {name} (it has issuing CAs 1 to {})",
                    self.issuing.len()
                ),
            )
        })
    }

    /// The issuing CA that issues now (the newest generation).
    fn current(&self) -> &Ca {
        self.issuing.last().unwrap_or(&self.root)
    }

    /// The name of the issuing CA that issues now.
    pub fn current_issuing(&self) -> CaName {
        CaName::Issuing(self.generation())
    }

    /// The generation of the issuing CA that issues now (1 until a renewal).
    pub fn generation(&self) -> u32 {
        u32::try_from(self.issuing.len()).unwrap_or(u32::MAX)
    }

    /// A DER CRL of `ca` at `now` (see the module docs for its contents; the [`CaRecords`]
    /// pick its number and may hand out one made earlier). An issuing CA of an earlier
    /// generation still makes its CRL; kind [`PkiErrorKind::NotFound`] for one that does not
    /// exist.
    pub fn crl(&self, ca: CaName, now: SystemTime) -> Result<Vec<u8>> {
        self.known(ca)?;
        self.records
            .crl(ca, now, &|number| self.sign_crl(ca, number, now))
    }

    fn sign_crl(&self, ca: CaName, number: u64, now: SystemTime) -> Result<Vec<u8>> {
        let issuer = self.known(ca)?;
        let mut revoked = Vec::new();
        for rec in self.records.revoked(ca)? {
            let Some(rev) = &rec.revoked else { continue };
            let serial_bytes = hex::decode(&rec.serial)
                .map_err(|_| PkiError::malformed("bad serial in the CA records"))?;
            let exts = match rev.reason {
                RevocationReason::Unspecified => None,
                r => Some(vec![extension(oids::CRL_REASON, false, &r.crl_reason())?]),
            };
            revoked.push(RevokedCert {
                serial_number: x509_cert::serial_number::SerialNumber::new(&serial_bytes)
                    .map_err(encode_err("serial"))?,
                revocation_date: x509_time(UNIX_EPOCH + Duration::from_secs(rev.time))?,
                crl_entry_extensions: exts,
            });
        }
        let scheme = issuer.key.default_scheme();
        let crl_number = number.to_be_bytes();
        let tbs = TbsCertList {
            version: x509_cert::Version::V2,
            signature: scheme.algorithm_identifier(),
            issuer: issuer.cert.tbs_certificate.subject.clone(),
            this_update: x509_time(now)?,
            next_update: Some(x509_time(now + CRL_VALIDITY)?),
            revoked_certificates: if revoked.is_empty() {
                None
            } else {
                Some(revoked)
            },
            crl_extensions: Some(vec![
                ext_authority_key_id(&spki_der_of(&issuer.cert)?)?,
                extension(
                    oids::CRL_NUMBER,
                    false,
                    &CrlNumber(
                        der::asn1::Uint::new(&crl_number).map_err(encode_err("CRL number"))?,
                    ),
                )?,
            ]),
        };
        let signature = issuer.key.sign(scheme, &to_der(&tbs, "TBSCertList")?)?;
        let crl = CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: scheme.algorithm_identifier(),
            signature: der::asn1::BitString::from_bytes(&signature)
                .map_err(encode_err("CRL signature"))?,
        };
        to_der(&crl, "CRL")
    }

    /// Answers a DER OCSPRequest at `now` with a DER OCSPResponse (see the module docs).
    /// Undecodable requests get `malformedRequest`; requests about certificates of another CA
    /// get `unauthorized`. Never fails.
    pub fn ocsp_respond(&self, req_der: &[u8], now: SystemTime) -> Vec<u8> {
        use x509_ocsp::OcspResponseStatus as S;
        let Ok(req) = ocsp::decode_request(req_der) else {
            return ocsp::error_response(S::MalformedRequest);
        };
        let Some(first) = req.tbs_request.request_list.first() else {
            return ocsp::error_response(S::MalformedRequest);
        };
        let Some((responder, ca)) = self
            .cas()
            .find(|(_, ca)| cert_id_matches_issuer(&first.req_cert, &ca.cert))
        else {
            return ocsp::error_response(S::Unauthorized);
        };
        let mut entries = Vec::new();
        for r in &req.tbs_request.request_list {
            let id = &r.req_cert;
            let serial = serial_hex(&id.serial_number);
            let rec = if cert_id_matches_issuer(id, &ca.cert) {
                match self.records.get(&serial) {
                    Ok(r) => r.filter(|x| x.issuer == responder),
                    Err(_) => return ocsp::error_response(S::TryLater),
                }
            } else {
                None
            };
            // A status is given no further than the certificate's end.
            let ends = rec
                .as_ref()
                .map(|r| UNIX_EPOCH + Duration::from_secs(r.not_after));
            let status = match rec {
                None => Ok(CertStatus::unknown()),
                Some(IssuedRecord { revoked: None, .. }) => Ok(CertStatus::good()),
                Some(IssuedRecord {
                    revoked: Some(rev), ..
                }) => ocsp::revoked_status(UNIX_EPOCH + Duration::from_secs(rev.time), rev.reason),
            };
            match status {
                Ok(s) => entries.push((id.clone(), s, ends)),
                Err(_) => return ocsp::error_response(S::InternalError),
            }
        }
        let builder = ResponseBuilder {
            key: &ca.key,
            cert: &ca.cert,
            validity: OCSP_VALIDITY,
        };
        builder
            .build_until(entries, ocsp::request_nonce(&req), now)
            .unwrap_or_else(|_| ocsp::error_response(S::InternalError))
    }

    /// The root certificate (the trust anchor).
    pub fn root_cert(&self) -> &Certificate {
        &self.root.cert
    }

    /// The current issuing CA's certificate.
    pub fn issuing_cert(&self) -> &Certificate {
        &self.current().cert
    }

    /// The chain above a signer certificate issued now: the current issuing CA, then root.
    pub fn signer_chain(&self) -> Vec<Certificate> {
        vec![self.current().cert.clone(), self.root.cert.clone()]
    }

    /// The chain above `cert` when one of our issuing CAs (of any generation) issued it: that
    /// CA, then the root; else [`CertificateAuthority::signer_chain`].
    pub fn chain_of(&self, cert: &Certificate) -> Vec<Certificate> {
        match self.issuer_of(cert) {
            Some((CaName::Issuing(_), issuing)) => vec![issuing.clone(), self.root.cert.clone()],
            _ => self.signer_chain(),
        }
    }

    /// Our CA certificates by name: the root, then the issuing CAs, oldest first.
    pub fn ca_certificates(&self) -> Vec<(CaName, &Certificate)> {
        self.cas().map(|(n, ca)| (n, &ca.cert)).collect()
    }

    fn cas(&self) -> impl Iterator<Item = (CaName, &Ca)> {
        std::iter::once((CaName::Root, &self.root)).chain(
            self.issuing
                .iter()
                .zip(1u32..)
                .map(|(ca, n)| (CaName::Issuing(n), ca)),
        )
    }

    /// The built-in TSA.
    pub fn tsa(&self) -> &TimestampAuthority {
        &self.tsa
    }

    /// `root.pem`, `issuing.pem` or `issuing-N.pem` content.
    pub fn certificate_pem(&self, ca: CaName) -> Result<String> {
        cert_to_pem(&self.known(ca)?.cert)
    }

    /// Every certificate this CA issued (the issuing CA, the TSA, signers), oldest first.
    pub fn issued(&self) -> Result<Vec<IssuedRecord>> {
        self.records.all()
    }

    /// The record of the certificate with serial `serial_hex`, if issued here.
    pub fn find(&self, serial_hex: &str) -> Result<Option<IssuedRecord>> {
        let serial = normalize_serial(serial_hex)?;
        self.records.get(&serial)
    }

    /// The directory the CA lives in, if it was opened from one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The base URL certificates point to.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The organisation name.
    pub fn org_name(&self) -> &str {
        &self.org_name
    }

    /// Which of our CAs issued `cert`, judged by issuer name and signature.
    pub fn issuer_of(&self, cert: &Certificate) -> Option<(CaName, &Certificate)> {
        self.cas()
            .find(|(_, ca)| {
                cert.tbs_certificate.issuer == ca.cert.tbs_certificate.subject
                    && crate::x509::verify_issued_by(cert, &ca.cert).is_ok()
            })
            .map(|(n, ca)| (n, &ca.cert))
    }

    /// Whether `cert` is one of our CA certificates (root or issuing CA of any generation).
    pub fn is_ca_certificate(&self, cert: &Certificate) -> bool {
        self.cas().any(|(_, ca)| ca.cert == *cert)
    }
}

fn spki_der_of(cert: &Certificate) -> Result<Vec<u8>> {
    spki_der(cert)
}

fn record(cert: &Certificate, issuer: CaName, kind: CertKind) -> Result<IssuedRecord> {
    let v = &cert.tbs_certificate.validity;
    Ok(IssuedRecord {
        serial: serial_hex(&cert.tbs_certificate.serial_number),
        issuer,
        kind,
        subject: cert.tbs_certificate.subject.to_string(),
        not_before: v.not_before.to_unix_duration().as_secs(),
        not_after: v.not_after.to_unix_duration().as_secs(),
        certificate: cert_to_pem(cert)?,
        revoked: None,
    })
}

/// The CA as a [`RevocationSource`] answering at a given time (a caller's injected "now"),
/// for certificates it issued: OCSP from its responder, the CRL of whichever of its CAs issued
/// a certificate, and its CA certificates as issuers. Foreign certificates get nothing.
#[derive(Debug, Clone, Copy)]
pub struct AnsweringAt<'a> {
    /// The CA.
    pub ca: &'a CertificateAuthority,
    /// The time its answers say.
    pub now: SystemTime,
}

impl RevocationSource for AnsweringAt<'_> {
    /// An answer from our own responder when `issuer` is one of our CAs, else `None`.
    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Result<Option<Vec<u8>>> {
        if !self.ca.is_ca_certificate(issuer) {
            return Ok(None);
        }
        let req = ocsp::build_request(cert, issuer)?;
        Ok(Some(self.ca.ocsp_respond(&req, self.now)))
    }

    /// The CRL of whichever of our CAs issued `cert`; none for foreign certificates and for the
    /// root itself.
    fn crls(&self, cert: &Certificate) -> Result<Vec<Vec<u8>>> {
        if *cert == self.ca.root.cert {
            return Ok(Vec::new());
        }
        match self.ca.issuer_of(cert) {
            Some((name, _)) => Ok(vec![self.ca.crl(name, self.now)?]),
            None => Ok(Vec::new()),
        }
    }

    fn issuer(&self, cert: &Certificate) -> Result<Option<Certificate>> {
        if *cert == self.ca.root.cert {
            return Ok(None);
        }
        Ok(self.ca.issuer_of(cert).map(|(_, c)| c.clone()))
    }
}

impl RevocationSource for CertificateAuthority {
    /// [`AnsweringAt`] the CA's clock.
    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Result<Option<Vec<u8>>> {
        self.answering_now().ocsp(cert, issuer)
    }

    fn crls(&self, cert: &Certificate) -> Result<Vec<Vec<u8>>> {
        self.answering_now().crls(cert)
    }
}

impl CertificateAuthority {
    /// The CA answering at its clock's time.
    fn answering_now(&self) -> AnsweringAt<'_> {
        AnsweringAt {
            ca: self,
            now: self.clock.now(),
        }
    }
}

/// What a CRL says, in short: its number and the serials it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlSummary {
    /// The CRL number, if present (and at most 16 bytes).
    pub number: Option<u128>,
    /// The revoked serials, lower-case hex, in the CRL's order.
    pub revoked: Vec<String>,
}

/// Reads the number and the revoked serials of a DER CRL (no signature check).
pub fn crl_summary(der: &[u8]) -> Result<CrlSummary> {
    use der::Decode;
    let list = CertificateList::from_der(der).map_err(crate::error::decode_err("CRL"))?;
    let tbs = &list.tbs_cert_list;
    let number = tbs
        .crl_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == oids::CRL_NUMBER)
        .and_then(|e| CrlNumber::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|n| {
            let b = n.0.as_bytes();
            (b.len() <= 16).then(|| b.iter().fold(0u128, |n, x| (n << 8) | u128::from(*x)))
        });
    let revoked = tbs
        .revoked_certificates
        .iter()
        .flatten()
        .map(|r| serial_hex(&r.serial_number))
        .collect();
    Ok(CrlSummary { number, revoked })
}

/// The subject name of a signer certificate for `req` (see the module docs for the layout).
pub fn signer_subject(org_name: &str, req: &IssueRequest) -> Result<Name> {
    validate_request(req)?;
    let mut subject = vec![
        (oids::ORGANIZATION, NameValue::Utf8(org_name.to_owned())),
        (
            oids::COMMON_NAME,
            NameValue::Utf8(req.common_name.trim().to_owned()),
        ),
    ];
    if let Some(nik) = &req.nik {
        subject.push((
            oids::SERIAL_NUMBER,
            NameValue::Printable(format!("PNOID-{nik}")),
        ));
    }
    if let Some(email) = &req.email {
        subject.push((oids::EMAIL_ADDRESS, NameValue::Ia5(email.clone())));
    }
    build_name(&subject)
}

#[allow(dead_code)]
fn assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<CertificateAuthority>();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_normalization() {
        assert_eq!(normalize_serial("0x0A:bC").unwrap(), "0abc");
        assert_eq!(normalize_serial("00ff").unwrap(), "ff");
        assert!(normalize_serial("xyz").is_err());
    }

    #[test]
    fn nik_validation() {
        assert!(validate_nik("3201234567890123").is_ok());
        for bad in [
            "320123456789012",
            "32012345678901234",
            "320123456789012a",
            "３２０１２３４５６７８９０１２３",
        ] {
            assert_eq!(
                validate_nik(bad).unwrap_err().kind(),
                PkiErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }
}
