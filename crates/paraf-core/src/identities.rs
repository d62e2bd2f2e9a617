//! [`IdentityService`]: the lifecycle of signing identities (register → verify → activate →
//! ISSUE; suspend, reinstate, revoke, renew) and of organisation seals, shared by the BSrE
//! dialect, the admin console and `paraf admin`.
//!
//! Keys: an identity's private key is generated when its owner chooses a passphrase
//! (activation) and sealed under it ([`paraf_pki::sealed`], Argon2id + AES-256-GCM): the
//! server cannot sign for the owner without the passphrase. Only if the owner opts in to
//! signing with e-mailed one-time codes is a second copy sealed under the server's master key
//! ([`MasterKey`]). Seal keys belong to the organisation and are always sealed under the
//! master key. Every action is audited.

use std::path::Path;
use std::sync::Arc;

use chrono::Duration;
use paraf_domain::{
    token_hash, Email, Identity, IdentityId, IdentityStatus, KeyAlgorithm, NewIdentity, NewMail,
    NewSeal, Nik, OrgId, PersonName, Seal, Timestamp,
};
use paraf_pki::sealed::{self, SealParams};
use paraf_pki::{IssueRequest, KeyType, PkiError, PrivateKey, RevocationReason, SoftSigner};
use paraf_store::Store;
use zeroize::Zeroizing;

use crate::audit::{Actor, AuditAction};
use crate::error::CoreError;
use crate::pki::PkiService;
use crate::Core;

/// The recognisable prefix of activation secrets (the link's last path segment).
pub const ACTIVATION_PREFIX: &str = "paraf_act_";
/// How long an activation link stays valid.
pub const ACTIVATION_LIFETIME_DAYS: i64 = 7;
/// Validity of a person's certificate.
pub const IDENTITY_CERT_DAYS: u32 = 365;
/// Validity of a seal certificate.
pub const SEAL_CERT_DAYS: u32 = 730;

type Result<T, E = CoreError> = std::result::Result<T, E>;

fn invalid(field: &'static str, reason: impl Into<String>) -> CoreError {
    CoreError::invalid(field, reason)
}

/// The server's master key for seal keys and opted-in one-time-code keys: the CA passphrase
/// (`PARAF_CA_PASSPHRASE`) when set, else the CA directory's random `master.key`.
#[derive(Clone)]
pub struct MasterKey(Arc<Zeroizing<Vec<u8>>>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// Argon2id costs for sealing under the master key. The master key is 32 random bytes (or
/// the operator's CA passphrase): stretching adds nothing for the former, so the cost is
/// kept small enough for per-request unsealing of one-time-code keys.
const MASTER_SEAL_PARAMS: SealParams = SealParams {
    m_cost_kib: 1024,
    t_cost: 1,
    p_cost: 1,
};

impl MasterKey {
    /// Loads it for the CA in `ca_dir`: the passphrase, else `DIR/master.key` (what seals the
    /// CA's keys too: [`paraf_pki::ca::dir_passphrase`]).
    pub fn load(ca_dir: &Path, passphrase: Option<&str>) -> Result<MasterKey, PkiError> {
        let bytes = paraf_pki::ca::dir_passphrase(ca_dir, passphrase.map(str::as_bytes))?;
        Ok(MasterKey(Arc::new(bytes)))
    }

    /// Seals `plaintext`.
    /// [`MasterKey::seal`] as base64 text (for a text column).
    pub fn seal_text(&self, plaintext: &[u8]) -> Result<String, PkiError> {
        use base64::Engine as _;
        Ok(base64::engine::general_purpose::STANDARD.encode(self.seal(plaintext)?))
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, PkiError> {
        sealed::seal_with(plaintext, &self.0, MASTER_SEAL_PARAMS)
    }

    /// HMAC-SHA256 of `data` under a key derived from the master key for `label` (keys for
    /// different purposes never coincide).
    pub fn mac(&self, label: &str, data: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, KeyInit, Mac};
        use sha2::Digest as _;
        type H = Hmac<sha2::Sha256>;
        let derive = |key: &[u8], msg: &[u8]| -> [u8; 32] {
            // HMAC takes keys of any length: `new_from_slice` cannot fail here.
            let Ok(mut m) = <H as KeyInit>::new_from_slice(key) else {
                return sha2::Sha256::digest([key, msg].concat()).into();
            };
            m.update(msg);
            m.finalize().into_bytes().into()
        };
        derive(&derive(&self.0, label.as_bytes()), data)
    }

    /// Opens what [`MasterKey::seal`] sealed.
    pub fn open(&self, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, PkiError> {
        sealed::open(blob, &self.0)
    }
}

/// Identity and seal operations over the store, the CA and the mail outbox.
pub struct IdentityService {
    core: Core,
    store: Store,
    pki: Arc<PkiService>,
    master: MasterKey,
    public_url: String,
    /// The key algorithm the caller chose for a new identity or seal (`None`: the
    /// organisation's).
    key_type: Option<KeyAlgorithm>,
    now: Timestamp,
}

/// The PKI's key type of a [`KeyAlgorithm`].
pub fn pki_key_type(k: KeyAlgorithm) -> KeyType {
    match k {
        KeyAlgorithm::Rsa2048 => KeyType::Rsa2048,
        KeyAlgorithm::Rsa3072 => KeyType::Rsa3072,
        KeyAlgorithm::P256 => KeyType::P256,
        KeyAlgorithm::P384 => KeyType::P384,
    }
}

/// An activation link's secret, shown once (in the mail, or to the caller of `verify`).
#[derive(Clone)]
pub struct ActivationLink {
    /// `{public_url}/aktivasi/{secret}`.
    pub url: String,
    /// The secret alone.
    pub secret: String,
}

impl std::fmt::Debug for ActivationLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActivationLink(***)")
    }
}

fn to_system(t: Timestamp) -> std::time::SystemTime {
    t.into()
}

impl IdentityService {
    /// The service at the core clock's "now".
    pub fn new(core: &Core) -> IdentityService {
        IdentityService {
            core: core.clone(),
            store: core.store.clone(),
            pki: core.pki.clone(),
            master: core.master_key.clone(),
            public_url: core.public_url.to_string(),
            key_type: None,
            now: core.now(),
        }
    }

    /// New identities and seals made through this service get keys of `key_type` instead of
    /// their organisation's (an identity keeps its choice for its later keys).
    pub fn with_key_type(mut self, key_type: Option<KeyAlgorithm>) -> IdentityService {
        self.key_type = key_type;
        self
    }

    /// The key type of `chosen`, else of organisation `org`.
    async fn key_type_for(&self, org: OrgId, chosen: Option<KeyAlgorithm>) -> Result<KeyType> {
        let k = match chosen {
            Some(k) => k,
            None => self.store.organisation(org).await?.signing.key_type,
        };
        Ok(pki_key_type(k))
    }

    async fn audit(
        &self,
        org: OrgId,
        actor: &Actor,
        action: AuditAction,
        target: String,
        details: serde_json::Value,
    ) {
        self.core
            .record(
                self.core
                    .audit_event(org, actor, action, Some(target), details),
            )
            .await;
    }

    /// Stores an administrator's status change (suspend, reinstate, revoke) and audits it.
    async fn set_status(
        &self,
        org: OrgId,
        id: IdentityId,
        status: IdentityStatus,
        actor: &Actor,
        details: serde_json::Value,
    ) -> Result<Identity> {
        let action = match status {
            IdentityStatus::Suspend => AuditAction::IdentitySuspended,
            IdentityStatus::Revoke => AuditAction::IdentityRevoked,
            _ => AuditAction::IdentityReinstated,
        };
        let out = self
            .store
            .set_identity_status(org, id, status, self.now)
            .await?;
        self.audit(org, actor, action, format!("identity:{id}"), details)
            .await;
        Ok(out)
    }

    /// Runs a CA change on the blocking pool.
    async fn on_ca(
        &self,
        f: impl FnOnce(&paraf_pki::CertificateAuthority, std::time::SystemTime) -> Result<(), PkiError>
            + Send
            + 'static,
    ) -> Result<()> {
        let now = to_system(self.now);
        let pki = self.pki.clone();
        tokio::task::spawn_blocking(move || pki.modify(|ca| f(ca, now))).await??;
        Ok(())
    }

    /// Registers an identity: WAITING_FOR_VERIFICATION. At least an e-mail or a NIK.
    pub async fn register(
        &self,
        org: OrgId,
        name: &str,
        email: Option<&str>,
        nik: Option<&str>,
        actor: &Actor,
    ) -> Result<Identity> {
        let name = PersonName::parse(name)?;
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()?;
        let nik = nik
            .filter(|n| !n.trim().is_empty())
            .map(Nik::parse)
            .transpose()?;
        if email.is_none() && nik.is_none() {
            return Err(invalid("email", "an e-mail or a NIK is required"));
        }
        let id = self
            .store
            .create_identity(
                &NewIdentity {
                    org,
                    name,
                    email,
                    nik,
                    status: IdentityStatus::WaitingForVerification,
                    key_type: self.key_type,
                },
                self.now,
            )
            .await?;
        self.audit(
            org,
            actor,
            AuditAction::IdentityRegistered,
            format!("identity:{}", id.id),
            serde_json::json!({}),
        )
        .await;
        Ok(id)
    }

    async fn new_link(
        &self,
        org: OrgId,
        id: IdentityId,
        status: IdentityStatus,
    ) -> Result<(Identity, ActivationLink)> {
        // 256 random bits; only their SHA-256 is stored (like every Paraf token).
        let bytes: [u8; 32] = paraf_domain::random_bytes(&*self.core.entropy)?;
        let secret = format!("{ACTIVATION_PREFIX}{}", hex::encode(bytes));
        let expires = self.now + Duration::days(ACTIVATION_LIFETIME_DAYS);
        let identity = self
            .store
            .set_identity_activation(org, id, &token_hash(&secret), expires, status, self.now)
            .await?;
        let url = format!("{}/aktivasi/{secret}", self.public_url);
        Ok((identity, ActivationLink { url, secret }))
    }

    async fn mail_link(
        &self,
        identity: &Identity,
        link: &ActivationLink,
        renewal: bool,
    ) -> Result<()> {
        let Some(to) = &identity.email else {
            return Ok(());
        };
        let what = if renewal { "pembaruan" } else { "aktivasi" };
        let text = format!(
            "Yth. {name},\n\nSertifikat elektronik Anda siap untuk {what}. Buka tautan berikut \
             untuk memilih passphrase Anda (berlaku {days} hari, hanya sekali pakai):\n\n{url}\n\n\
             Passphrase Anda tidak pernah dikirim ke siapa pun; tanpa passphrase, server tidak \
             dapat menandatangani atas nama Anda.\n\n--\nYour electronic certificate is ready: \
             open the link above to choose your passphrase (valid {days} days, single use).\n",
            name = identity.name.as_str(),
            days = ACTIVATION_LIFETIME_DAYS,
            url = link.url,
        );
        self.store
            .queue_mail(
                &NewMail {
                    org: Some(identity.org),
                    to: to.as_str().to_string(),
                    subject: format!("Aktivasi sertifikat elektronik / Certificate {what}"),
                    text,
                    html: None,
                },
                self.now,
            )
            .await?;
        Ok(())
    }

    /// An administrator verifies a registration: NEW, and the activation mail goes out.
    /// Also sends a fresh link to a NEW identity whose link expired (NO_CERTIFICATE).
    pub async fn verify(
        &self,
        org: OrgId,
        id: IdentityId,
        actor: &Actor,
    ) -> Result<(Identity, ActivationLink)> {
        use IdentityStatus::*;
        self.start_activation(
            org,
            id,
            actor,
            &[WaitingForVerification, NoCertificate, New],
            New,
        )
        .await
    }

    /// Renewal: RENEW and a new activation link; the new key and certificate are made when
    /// the owner chooses a passphrase, and the old certificate is then revoked (superseded).
    pub async fn renew(
        &self,
        org: OrgId,
        id: IdentityId,
        actor: &Actor,
    ) -> Result<(Identity, ActivationLink)> {
        use IdentityStatus::*;
        self.start_activation(org, id, actor, &[Issue, Expired, Renew], Renew)
            .await
    }

    /// A new activation link (mailed, and returned) for an identity whose status is one of
    /// `from`; the identity reports `to` (NEW or RENEW) until activated.
    async fn start_activation(
        &self,
        org: OrgId,
        id: IdentityId,
        actor: &Actor,
        from: &[IdentityStatus],
        to: IdentityStatus,
    ) -> Result<(Identity, ActivationLink)> {
        let renewal = to == IdentityStatus::Renew;
        let what = if renewal { "renew" } else { "verify" };
        let status = self.store.identity(org, id).await?.status_at(self.now);
        if !from.contains(&status) {
            return Err(CoreError::WrongStatus { status, what });
        }
        let (identity, link) = self.new_link(org, id, to).await?;
        self.mail_link(&identity, &link, renewal).await?;
        let action = if renewal {
            AuditAction::IdentityRenewalStarted
        } else {
            AuditAction::IdentityVerified
        };
        self.audit(
            org,
            actor,
            action,
            format!("identity:{id}"),
            serde_json::json!({}),
        )
        .await;
        Ok((identity, link))
    }

    /// The identity a pending activation link belongs to (for the activation page).
    pub async fn pending_activation(&self, secret: &str) -> Result<Identity> {
        let identity = self
            .store
            .identity_by_activation(&token_hash(secret))
            .await?;
        if identity.activation_expires_at.is_none_or(|t| t <= self.now) {
            return Err(CoreError::Domain(paraf_domain::DomainError::not_found(
                paraf_domain::Entity::Identity,
            )));
        }
        Ok(identity)
    }

    /// Completes an activation: generates the key, has the CA issue the certificate, seals
    /// the key under `passphrase` (and under the master key if `allow_otp`), ISSUE.
    pub async fn activate(
        &self,
        secret: &str,
        passphrase: &str,
        allow_otp: bool,
    ) -> Result<Identity> {
        let identity = self.pending_activation(secret).await?;
        let chars = passphrase.chars().count();
        if !(8..=1024).contains(&chars) {
            return Err(invalid("passphrase", "must be 8 to 1024 characters"));
        }
        let old_serial = identity.cert_serial.clone();
        let renewing = identity.status == IdentityStatus::Renew;
        let (cert_pem, serial, not_after, sealed_key, otp_key) =
            self.issue_key(&identity, passphrase, allow_otp).await?;
        let hash = token_hash(secret);
        let done = self
            .store
            .activate_identity(
                identity.org,
                identity.id,
                &hash,
                &cert_pem,
                &serial,
                not_after,
                &sealed_key,
                otp_key.as_deref(),
                self.now,
            )
            .await?;
        if renewing {
            if let Some(old) = old_serial.filter(|s| *s != serial) {
                let now = to_system(self.now);
                let pki = self.pki.clone();
                let r = tokio::task::spawn_blocking(move || {
                    pki.modify(|ca| ca.revoke(&old, RevocationReason::Superseded, now))
                })
                .await?;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "could not revoke the superseded certificate");
                }
            }
        }
        self.audit(
            identity.org,
            &Actor::new(
                format!("identity:{}", identity.id),
                crate::audit::Face::Page,
            ),
            AuditAction::IdentityActivated,
            format!("identity:{}", identity.id),
            serde_json::json!({"serial": serial, "otp_signing": allow_otp}),
        )
        .await;
        Ok(done)
    }

    /// Generates a key, issues its certificate, seals the key. Blocking work off the runtime.
    async fn issue_key(
        &self,
        identity: &Identity,
        passphrase: &str,
        allow_otp: bool,
    ) -> Result<(String, String, Timestamp, Vec<u8>, Option<Vec<u8>>)> {
        let req = IssueRequest {
            common_name: identity.name.as_str().chars().take(64).collect(),
            email: identity.email.as_ref().map(|e| e.as_str().to_string()),
            nik: identity.nik.as_ref().map(|n| n.as_str().to_string()),
            key_type: self
                .key_type_for(identity.org, identity.key_type.or(self.key_type))
                .await?,
            validity_days: IDENTITY_CERT_DAYS,
            not_before: to_system(self.now),
        };
        let pki = self.pki.clone();
        let master = self.master.clone();
        let passphrase = Zeroizing::new(passphrase.as_bytes().to_vec());
        tokio::task::spawn_blocking(move || -> Result<_> {
            let key = PrivateKey::generate(req.key_type)?;
            let cert = pki.modify(|ca| ca.issue_for_public_key(&req, &key.public_key_der()))?;
            let pkcs8 = key.to_pkcs8_der()?;
            let sealed_key = sealed::seal(&pkcs8, &passphrase)?;
            let otp_key = if allow_otp {
                Some(master.seal(&pkcs8)?)
            } else {
                None
            };
            let pem = paraf_pki::x509::cert_to_pem(&cert)?;
            let serial = paraf_pki::x509::serial_hex(&cert.tbs_certificate.serial_number);
            let not_after: std::time::SystemTime =
                cert.tbs_certificate.validity.not_after.to_system_time();
            Ok((pem, serial, Timestamp::from(not_after), sealed_key, otp_key))
        })
        .await?
    }

    /// Registers, verifies and activates in one step (`paraf admin identity create`): ISSUE.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_active(
        &self,
        org: OrgId,
        name: &str,
        email: Option<&str>,
        nik: Option<&str>,
        passphrase: &str,
        allow_otp: bool,
        actor: &Actor,
    ) -> Result<Identity> {
        let identity = self.register(org, name, email, nik, actor).await?;
        let (_, link) = self.new_link(org, identity.id, IdentityStatus::New).await?;
        self.activate(&link.secret, passphrase, allow_otp).await
    }

    /// Suspends an identity (it cannot sign until reinstated).
    pub async fn suspend(&self, org: OrgId, id: IdentityId, actor: &Actor) -> Result<Identity> {
        let current = self.store.identity(org, id).await?;
        if matches!(current.status, IdentityStatus::Revoke) {
            return Err(CoreError::WrongStatus {
                status: current.status,
                what: "suspend",
            });
        }
        // Published: the certificate goes on hold (CRL reason certificateHold, OCSP revoked).
        if let Some(serial) = current.cert_serial.clone() {
            if current.status != IdentityStatus::Suspend {
                self.on_ca(move |ca, now| {
                    ca.revoke(&serial, RevocationReason::CertificateHold, now)
                })
                .await?;
            }
        }
        self.set_status(
            org,
            id,
            IdentityStatus::Suspend,
            actor,
            serde_json::json!({}),
        )
        .await
    }

    /// Lifts a suspension (or a lock after wrong passphrases): ISSUE again.
    pub async fn reinstate(&self, org: OrgId, id: IdentityId, actor: &Actor) -> Result<Identity> {
        let current = self.store.identity(org, id).await?;
        let status = current.status_at(self.now);
        if !(matches!(
            current.status,
            IdentityStatus::Suspend | IdentityStatus::Issue
        ) && current.cert_pem.is_some())
        {
            return Err(CoreError::WrongStatus {
                status,
                what: "reinstate",
            });
        }
        if current.status == IdentityStatus::Suspend {
            if let Some(serial) = current.cert_serial.clone() {
                self.on_ca(move |ca, _| ca.release_hold(&serial)).await?;
            }
        }
        self.set_status(org, id, IdentityStatus::Issue, actor, serde_json::json!({}))
            .await
    }

    /// Revokes the identity's certificate (published at once in the CRL and OCSP): REVOKE.
    pub async fn revoke(&self, org: OrgId, id: IdentityId, actor: &Actor) -> Result<Identity> {
        let current = self.store.identity(org, id).await?;
        if current.status == IdentityStatus::Revoke {
            return Err(CoreError::WrongStatus {
                status: current.status,
                what: "revoke",
            });
        }
        if let Some(serial) = current.cert_serial.clone() {
            let now = to_system(self.now);
            let pki = self.pki.clone();
            tokio::task::spawn_blocking(move || {
                pki.modify(|ca| ca.revoke(&serial, RevocationReason::Unspecified, now))
            })
            .await??;
        }
        let details = serde_json::json!({"serial": current.cert_serial});
        self.set_status(org, id, IdentityStatus::Revoke, actor, details)
            .await
    }

    /// Creates an organisation seal: a key sealed under the master key and a certificate
    /// from the CA naming the organisation.
    pub async fn create_seal(
        &self,
        org: OrgId,
        id_subscriber: &str,
        name: &str,
        email: &str,
        actor: &Actor,
    ) -> Result<Seal> {
        let master = self.master.clone();
        self.new_seal(
            org,
            id_subscriber,
            name,
            email,
            actor,
            None,
            move |key_type| {
                let key = PrivateKey::generate(key_type)?;
                Ok((key.public_key_der(), master.seal(&key.to_pkcs8_der()?)?))
            },
        )
        .await
    }

    /// Creates an organisation seal whose key is generated on a PKCS#11 token (an HSM) and
    /// never leaves it; the seal records `pkcs11:token=<token>;object=<key_label>` and the
    /// server signs through the module named by `pkcs11_module` with `pkcs11_pin`.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_seal_on_token(
        &self,
        org: OrgId,
        id_subscriber: &str,
        name: &str,
        email: &str,
        actor: &Actor,
        module: &Path,
        token: &str,
        pin: &str,
        key_label: &str,
    ) -> Result<Seal> {
        if token.is_empty()
            || key_label.is_empty()
            || token.contains(';')
            || key_label.contains(';')
        {
            return Err(invalid(
                "pkcs11",
                "the token and key labels must be non-empty and without ';'",
            ));
        }
        let key_ref = format!("pkcs11:token={token};object={key_label}");
        let (module, token, pin, key_label) = (
            module.to_path_buf(),
            token.to_string(),
            pin.to_string(),
            key_label.to_string(),
        );
        self.new_seal(
            org,
            id_subscriber,
            name,
            email,
            actor,
            Some(key_ref),
            move |key_type| {
                let spki = paraf_pki::pkcs11::generate_key_pair(
                    &module, &token, &pin, &key_label, key_type,
                )?;
                Ok((spki, Vec::new()))
            },
        )
        .await
    }

    /// The common part of seal creation: `make_key` gives the public key (SPKI DER) and the
    /// stored key bytes.
    #[allow(clippy::too_many_arguments)]
    async fn new_seal(
        &self,
        org: OrgId,
        id_subscriber: &str,
        name: &str,
        email: &str,
        actor: &Actor,
        key_ref: Option<String>,
        make_key: impl FnOnce(KeyType) -> Result<(Vec<u8>, Vec<u8>), PkiError> + Send + 'static,
    ) -> Result<Seal> {
        let id_subscriber = id_subscriber.trim();
        if id_subscriber.is_empty()
            || id_subscriber.len() > 64
            || !id_subscriber
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(invalid(
                "idSubscriber",
                "1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
        let email = Email::parse(email)?;
        let req = IssueRequest {
            common_name: name.chars().take(64).collect(),
            email: Some(email.as_str().to_string()),
            nik: None,
            key_type: self.key_type_for(org, self.key_type).await?,
            validity_days: SEAL_CERT_DAYS,
            not_before: to_system(self.now),
        };
        if req.common_name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        let pki = self.pki.clone();
        let (pem, serial, not_after, wrapped) =
            tokio::task::spawn_blocking(move || -> Result<_> {
                let (spki, wrapped) = make_key(req.key_type)?;
                let cert = pki.modify(|ca| ca.issue_for_public_key(&req, &spki))?;
                let pem = paraf_pki::x509::cert_to_pem(&cert)?;
                let serial = paraf_pki::x509::serial_hex(&cert.tbs_certificate.serial_number);
                let not_after: std::time::SystemTime =
                    cert.tbs_certificate.validity.not_after.to_system_time();
                Ok((pem, serial, Timestamp::from(not_after), wrapped))
            })
            .await??;
        let seal = self
            .store
            .create_seal(
                &NewSeal {
                    org,
                    id_subscriber: id_subscriber.to_string(),
                    name: name.to_string(),
                    email,
                    cert_pem: pem,
                    cert_serial: serial.clone(),
                    cert_not_after: not_after,
                    wrapped_key: wrapped,
                    key_ref: key_ref.clone(),
                },
                self.now,
            )
            .await?;
        self.audit(
            org,
            actor,
            AuditAction::SealCreated,
            format!("seal:{}", seal.id),
            serde_json::json!({"idSubscriber": seal.id_subscriber, "serial": serial, "key": key_ref.unwrap_or_else(|| "wrapped".into())}),
        )
        .await;
        Ok(seal)
    }
}

/// The token and key labels of a `pkcs11:token=…;object=…` seal key reference.
pub fn parse_key_ref(key_ref: &str) -> Option<(String, String)> {
    let rest = key_ref.strip_prefix("pkcs11:")?;
    let mut token = None;
    let mut object = None;
    for part in rest.split(';') {
        match part.split_once('=') {
            Some(("token", v)) => token = Some(v.to_string()),
            Some(("object", v)) => object = Some(v.to_string()),
            _ => return None,
        }
    }
    Some((token?, object?))
}

/// A signer for a key and certificate PEM, with the CA's chain.
pub fn signer_from(
    key: PrivateKey,
    cert_pem: &str,
    chain: Vec<paraf_pki::asn1::x509_cert::Certificate>,
) -> Result<SoftSigner, PkiError> {
    let cert = paraf_pki::x509::cert_from_pem(cert_pem.as_bytes())?;
    SoftSigner::new(key, cert, chain, None)
}
