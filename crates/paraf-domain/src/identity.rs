//! Signing identities (BSrE's "user": a certificate and a private key of a person), the
//! organisation's seals (BSrE's `idSubscriber`), one-time codes, signed documents waiting for
//! their single download, and per-application daily usage.
//!
//! ## Identity lifecycle (the seed's statuses)
//!
//! ```text
//!  (none) NOT_REGISTERED ──register──► WAITING_FOR_VERIFICATION ──verify──► NEW (activation mail)
//!                                                                            │ passphrase chosen:
//!                                                                            ▼ key generated, certificate issued
//!        RENEW ◄──renew── ISSUE ──revoke──► REVOKE         ISSUE ◄───────────┘
//!          └─passphrase──►  │  ──suspend──► SUSPEND ──reinstate──► ISSUE
//!                           └─ notAfter passed: EXPIRED (computed)
//!  NEW whose activation link expired: NO_CERTIFICATE (a new link can be sent)
//! ```
//!
//! `EXPIRED` and the temporary lock after wrong passphrases (reported as `SUSPEND`) are
//! computed from the clock by [`Identity::status_at`]; the others are stored.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::error::DomainError;
use crate::ids::{BlobId, IdentityId, OrgId, SealId};
use crate::user::{Email, Nik, PersonName};

/// Wrong passphrases in a row after which an identity is locked (the server's default; see
/// `bsre_lock_after` in `docs/configuration.md`).
pub const LOCK_AFTER_WRONG_PASSPHRASES: u32 = 5;

/// The seed's user statuses. `NOT_REGISTERED` is the absence of an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentityStatus {
    /// No identity with this NIK/e-mail.
    NotRegistered,
    /// Registered, waiting for an administrator to verify.
    WaitingForVerification,
    /// Verified; the activation (passphrase choice) is pending.
    New,
    /// An active certificate: may sign.
    Issue,
    /// A renewal is in progress (a new activation is pending).
    Renew,
    /// The certificate's validity is over.
    Expired,
    /// Suspended by an administrator, or locked after wrong passphrases.
    Suspend,
    /// The certificate is revoked.
    Revoke,
    /// Registered but without a certificate (the activation link expired unused).
    NoCertificate,
}

impl IdentityStatus {
    /// Every status.
    pub const ALL: [IdentityStatus; 9] = [
        IdentityStatus::NotRegistered,
        IdentityStatus::WaitingForVerification,
        IdentityStatus::New,
        IdentityStatus::Issue,
        IdentityStatus::Renew,
        IdentityStatus::Expired,
        IdentityStatus::Suspend,
        IdentityStatus::Revoke,
        IdentityStatus::NoCertificate,
    ];

    /// The seed's name (`ISSUE`, `WAITING_FOR_VERIFICATION`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityStatus::NotRegistered => "NOT_REGISTERED",
            IdentityStatus::WaitingForVerification => "WAITING_FOR_VERIFICATION",
            IdentityStatus::New => "NEW",
            IdentityStatus::Issue => "ISSUE",
            IdentityStatus::Renew => "RENEW",
            IdentityStatus::Expired => "EXPIRED",
            IdentityStatus::Suspend => "SUSPEND",
            IdentityStatus::Revoke => "REVOKE",
            IdentityStatus::NoCertificate => "NO_CERTIFICATE",
        }
    }

    /// Parses the seed's name.
    pub fn parse(s: &str) -> Result<IdentityStatus, DomainError> {
        IdentityStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| DomainError::invalid("status", format!("unknown status {s:?}")))
    }

    /// The seed's explanation, in Indonesian.
    pub fn description_id(self) -> &'static str {
        match self {
            IdentityStatus::Issue => "Pengguna memiliki Sertifikat Elektronik aktif dan bisa melakukan tanda tangan elektronik",
            IdentityStatus::Expired => "Masa berlaku Sertifikat Elektronik pengguna telah berakhir",
            IdentityStatus::Renew => "Sertifikat Elektronik milik pengguna sedang dalam proses pembaruan",
            IdentityStatus::WaitingForVerification => "Sertifikat Elektronik milik pengguna sedang dalam verifikasi",
            IdentityStatus::New => "Pengguna memiliki Sertifikat Elektronik namun belum melakukan aktivasi",
            IdentityStatus::NoCertificate => "Pengguna sudah terdaftar namun belum memiliki Sertifikat Elektronik",
            IdentityStatus::NotRegistered => "Pengguna belum terdaftar dan belum memiliki Sertifikat Elektronik",
            IdentityStatus::Suspend => "Pengguna terdaftar namun dalam kondisi suspend",
            IdentityStatus::Revoke => "Sertifikat Elektronik milik pengguna sudah dicabut",
        }
    }

    /// The same in English.
    pub fn description_en(self) -> &'static str {
        match self {
            IdentityStatus::Issue => "The user has an active certificate and can sign",
            IdentityStatus::Expired => "The user's certificate has expired",
            IdentityStatus::Renew => "The user's certificate is being renewed",
            IdentityStatus::WaitingForVerification => "The user's certificate is being verified",
            IdentityStatus::New => "The user has a certificate but has not activated it",
            IdentityStatus::NoCertificate => "The user is registered but has no certificate",
            IdentityStatus::NotRegistered => "The user is not registered",
            IdentityStatus::Suspend => "The user is registered but suspended",
            IdentityStatus::Revoke => "The user's certificate has been revoked",
        }
    }
}

impl std::fmt::Display for IdentityStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signing identity as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: IdentityId,
    pub org: OrgId,
    pub name: PersonName,
    pub email: Option<Email>,
    pub nik: Option<Nik>,
    /// The stored status (see [`Identity::status_at`] for what to report).
    pub status: IdentityStatus,
    /// The current certificate (PEM) and its serial (lower-case hex) and end of validity.
    pub cert_pem: Option<String>,
    pub cert_serial: Option<String>,
    pub cert_not_after: Option<Timestamp>,
    /// The PKCS#8 private key sealed under the owner's passphrase (Argon2id + AES-256-GCM).
    pub sealed_key: Option<Vec<u8>>,
    /// The same key sealed under the server's master key, present only when the owner allowed
    /// signing with e-mailed one-time codes (v2 `totp`).
    pub otp_key: Option<Vec<u8>>,
    /// Wrong passphrases in a row.
    pub failed_attempts: u32,
    /// Locked (reported as SUSPEND) until then, after too many wrong passphrases.
    pub locked_until: Option<Timestamp>,
    /// SHA-256 (hex) of the pending activation link's secret, and its end.
    pub activation_hash: Option<String>,
    pub activation_expires_at: Option<Timestamp>,
    /// The algorithm of its keys (`None`: its organisation's, see
    /// [`crate::SigningProfile::key_type`]).
    pub key_type: Option<crate::KeyAlgorithm>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.id)
            .field("org", &self.org)
            .field("email", &self.email)
            .field("nik", &self.nik)
            .field("status", &self.status)
            .field("cert_serial", &self.cert_serial)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// The status to report at `now`: the stored one, except that an issued certificate past
    /// its validity is EXPIRED, a lock after wrong passphrases is SUSPEND, and a NEW identity
    /// whose activation link expired is NO_CERTIFICATE.
    pub fn status_at(&self, now: Timestamp) -> IdentityStatus {
        match self.status {
            IdentityStatus::Issue => {
                if self.cert_not_after.is_some_and(|t| t <= now) {
                    IdentityStatus::Expired
                } else if self.locked(now) {
                    IdentityStatus::Suspend
                } else {
                    IdentityStatus::Issue
                }
            }
            IdentityStatus::New
                if self.activation_expires_at.is_some_and(|t| t <= now)
                    || self.activation_hash.is_none() =>
            {
                IdentityStatus::NoCertificate
            }
            s => s,
        }
    }

    /// Whether the lock after wrong passphrases is in force at `now`.
    pub fn locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

/// What registration needs.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub org: OrgId,
    pub name: PersonName,
    pub email: Option<Email>,
    pub nik: Option<Nik>,
    pub status: IdentityStatus,
    /// Its own key algorithm (`None`: the organisation's).
    pub key_type: Option<crate::KeyAlgorithm>,
}

/// An organisation seal (e-seal): the organisation's certificate and key.
#[derive(Clone, PartialEq, Eq)]
pub struct Seal {
    pub id: SealId,
    pub org: OrgId,
    /// BSrE's `idSubscriber`.
    pub id_subscriber: String,
    /// The seal's name (the certificate's CN).
    pub name: String,
    /// Where activation codes are mailed.
    pub email: Email,
    pub cert_pem: String,
    pub cert_serial: String,
    pub cert_not_after: Timestamp,
    /// The PKCS#8 key sealed under the server master key, or `pkcs11:<label>` for a key on a
    /// token (then empty bytes here and the label in `key_ref`).
    pub wrapped_key: Vec<u8>,
    /// `None` for a wrapped key; the PKCS#11 key label otherwise.
    pub key_ref: Option<String>,
    /// SHA-256 (hex) of the activation TOTP in force, and its end.
    pub activation_hash: Option<String>,
    pub activation_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal")
            .field("id", &self.id)
            .field("id_subscriber", &self.id_subscriber)
            .field("cert_serial", &self.cert_serial)
            .finish_non_exhaustive()
    }
}

impl Seal {
    /// Whether the activation TOTP is in force at `now`.
    pub fn activated(&self, now: Timestamp) -> bool {
        self.activation_hash.is_some() && self.activation_expires_at.is_some_and(|t| t > now)
    }
}

/// What creating a seal needs.
#[derive(Debug, Clone)]
pub struct NewSeal {
    pub org: OrgId,
    pub id_subscriber: String,
    pub name: String,
    pub email: Email,
    pub cert_pem: String,
    pub cert_serial: String,
    pub cert_not_after: Timestamp,
    pub wrapped_key: Vec<u8>,
    pub key_ref: Option<String>,
}

/// What a one-time code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtpPurpose {
    /// Signing by an identity (a code mailed to its owner).
    Sign,
    /// Sealing with an organisation seal.
    Seal,
    /// An envelope recipient's second factor on the signer page (mail or SMS).
    Recipient,
}

impl OtpPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OtpPurpose::Sign => "sign",
            OtpPurpose::Seal => "seal",
            OtpPurpose::Recipient => "recipient",
        }
    }
}

/// The stored form of a one-time code: SHA-256 over the subject and the code, so the same
/// digits for two subjects do not collide and a leaked table does not list codes.
pub fn otp_hash(subject: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(subject.as_bytes());
    h.update([0u8]);
    h.update(code.trim().as_bytes());
    hex::encode(h.finalize())
}

/// A signed PDF kept for its single download (BSrE v1's `id_dokumen`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDocument {
    /// The `id_dokumen` (random, URL-safe).
    pub id: String,
    pub org: OrgId,
    pub blob: BlobId,
    pub file_name: String,
    pub created_at: Timestamp,
    pub downloaded_at: Option<Timestamp>,
}

/// Requests and signatures of one application credential on one (UTC) day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppUsageDay {
    /// The credential key (`app_credential:<id>`).
    pub credential_key: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub requests: u64,
    pub signatures: u64,
}

/// How long a one-time signing code lives (the seed says "a short time").
pub fn otp_lifetime() -> Duration {
    Duration::minutes(5)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn identity(status: IdentityStatus) -> Identity {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Identity {
            id: IdentityId(1),
            org: OrgId(1),
            name: PersonName::parse("Budi").unwrap(),
            email: None,
            nik: None,
            status,
            cert_pem: None,
            cert_serial: None,
            cert_not_after: Some(t + Duration::days(365)),
            sealed_key: None,
            otp_key: None,
            failed_attempts: 0,
            locked_until: None,
            activation_hash: Some("x".into()),
            activation_expires_at: Some(t + Duration::days(1)),
            key_type: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn computed_statuses() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut i = identity(IdentityStatus::Issue);
        assert_eq!(i.status_at(t), IdentityStatus::Issue);
        assert_eq!(
            i.status_at(t + Duration::days(400)),
            IdentityStatus::Expired
        );
        i.locked_until = Some(t + Duration::minutes(10));
        assert_eq!(i.status_at(t), IdentityStatus::Suspend);
        assert_eq!(
            i.status_at(t + Duration::minutes(11)),
            IdentityStatus::Issue
        );
        let n = identity(IdentityStatus::New);
        assert_eq!(n.status_at(t), IdentityStatus::New);
        assert_eq!(
            n.status_at(t + Duration::days(2)),
            IdentityStatus::NoCertificate
        );
        for s in IdentityStatus::ALL {
            assert_eq!(IdentityStatus::parse(s.as_str()).unwrap(), s);
        }
    }

    #[test]
    fn otp_hashes_depend_on_the_subject() {
        assert_ne!(
            otp_hash("identity:1", "123456"),
            otp_hash("identity:2", "123456")
        );
        assert_eq!(otp_hash("seal:1", " 123456"), otp_hash("seal:1", "123456"));
    }
}
