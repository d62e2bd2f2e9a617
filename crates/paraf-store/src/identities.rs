//! Signing identities, organisation seals, one-time codes, signed documents awaiting their
//! single download, and per-application daily usage (the BSrE dialect's data).
//!
//! Private keys arrive here already sealed (by the passphrase, or by the server master key):
//! the store never sees a key in the clear.

use paraf_domain::{
    AppUsageDay, BlobId, Email, Entity, Identity, IdentityId, IdentityStatus, KeyAlgorithm,
    NewIdentity, NewSeal, Nik, OrgId, OtpPurpose, PersonName, Seal, SealId, SignedDocument,
    Timestamp,
};

use crate::error::unique_as_exists;
use crate::{affected, from_ts, from_ts_opt, ts, with_pool, Result, Store, StoreError};

const IDENTITY_COLS: &str = "id, org_id, name, email, nik, status, cert_pem, cert_serial, \
     cert_not_after, sealed_key, otp_key, failed_attempts, locked_until, activation_hash, \
     activation_expires_at, key_type, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct IdentityRow {
    id: i64,
    org_id: i64,
    name: String,
    email: Option<String>,
    nik: Option<String>,
    status: String,
    cert_pem: Option<String>,
    cert_serial: Option<String>,
    cert_not_after: Option<i64>,
    sealed_key: Option<Vec<u8>>,
    otp_key: Option<Vec<u8>>,
    failed_attempts: i64,
    locked_until: Option<i64>,
    activation_hash: Option<String>,
    activation_expires_at: Option<i64>,
    key_type: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl IdentityRow {
    fn into_domain(self) -> Result<Identity> {
        let bad = |f: &str| StoreError::corrupt(format!("identity {}: {f}", self.id));
        Ok(Identity {
            id: IdentityId(self.id),
            org: OrgId(self.org_id),
            name: PersonName::parse(&self.name).map_err(|_| bad("name"))?,
            email: match &self.email {
                Some(e) => Some(Email::parse(e).map_err(|_| bad("email"))?),
                None => None,
            },
            nik: match &self.nik {
                Some(n) => Some(Nik::parse(n).map_err(|_| bad("nik"))?),
                None => None,
            },
            status: IdentityStatus::parse(&self.status).map_err(|_| bad("status"))?,
            cert_pem: self.cert_pem,
            cert_serial: self.cert_serial,
            cert_not_after: from_ts_opt(self.cert_not_after),
            sealed_key: self.sealed_key,
            otp_key: self.otp_key,
            failed_attempts: u32::try_from(self.failed_attempts).unwrap_or(u32::MAX),
            locked_until: from_ts_opt(self.locked_until),
            activation_hash: self.activation_hash,
            activation_expires_at: from_ts_opt(self.activation_expires_at),
            key_type: match &self.key_type {
                Some(k) => Some(KeyAlgorithm::parse(k).map_err(|_| bad("key_type"))?),
                None => None,
            },
            created_at: from_ts(self.created_at),
            updated_at: from_ts(self.updated_at),
        })
    }
}

const SEAL_COLS: &str = "id, org_id, id_subscriber, name, email, cert_pem, cert_serial, \
     cert_not_after, wrapped_key, key_ref, activation_hash, activation_expires_at, created_at";

#[derive(sqlx::FromRow)]
struct SealRow {
    id: i64,
    org_id: i64,
    id_subscriber: String,
    name: String,
    email: String,
    cert_pem: String,
    cert_serial: String,
    cert_not_after: i64,
    wrapped_key: Vec<u8>,
    key_ref: Option<String>,
    activation_hash: Option<String>,
    activation_expires_at: Option<i64>,
    created_at: i64,
}

impl SealRow {
    fn into_domain(self) -> Result<Seal> {
        Ok(Seal {
            id: SealId(self.id),
            org: OrgId(self.org_id),
            id_subscriber: self.id_subscriber,
            name: self.name,
            email: Email::parse(&self.email)
                .map_err(|_| StoreError::corrupt(format!("seal {}: email", self.id)))?,
            cert_pem: self.cert_pem,
            cert_serial: self.cert_serial,
            cert_not_after: from_ts(self.cert_not_after),
            wrapped_key: self.wrapped_key,
            key_ref: self.key_ref,
            activation_hash: self.activation_hash,
            activation_expires_at: from_ts_opt(self.activation_expires_at),
            created_at: from_ts(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct DocRow {
    id: String,
    org_id: i64,
    blob_id: String,
    file_name: String,
    created_at: i64,
    downloaded_at: Option<i64>,
}

impl DocRow {
    fn into_domain(self) -> Result<SignedDocument> {
        Ok(SignedDocument {
            blob: BlobId::parse(&self.blob_id)
                .map_err(|_| StoreError::corrupt(format!("signed document {}: blob", self.id)))?,
            id: self.id,
            org: OrgId(self.org_id),
            file_name: self.file_name,
            created_at: from_ts(self.created_at),
            downloaded_at: from_ts_opt(self.downloaded_at),
        })
    }
}

/// How many wrong codes a live one-time code survives.
const OTP_MAX_WRONG: i64 = 5;

fn day_of(now: Timestamp) -> String {
    now.format("%Y-%m-%d").to_string()
}

impl Store {
    // ------------------------------------------------------------ identities

    /// Registers an identity. `AlreadyExists` if its e-mail or NIK is taken in the organisation.
    pub async fn create_identity(&self, new: &NewIdentity, now: Timestamp) -> Result<Identity> {
        self.organisation(new.org).await?;
        let key = new
            .email
            .as_ref()
            .map(|e| e.as_str().to_string())
            .or_else(|| new.nik.as_ref().map(|n| n.as_str().to_string()))
            .unwrap_or_default();
        let sql = format!(
            "INSERT INTO identities (org_id, name, email, nik, status, key_type, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $7, $6, $6) RETURNING {IDENTITY_COLS}"
        );
        let row: IdentityRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(new.org.0)
            .bind(new.name.as_str())
            .bind(new.email.as_ref().map(Email::as_str))
            .bind(new.nik.as_ref().map(Nik::as_str))
            .bind(new.status.as_str())
            .bind(ts(now))
            .bind(new.key_type.map(KeyAlgorithm::as_str))
            .fetch_one(p)
            .await)
        .map_err(|e| unique_as_exists(e, Entity::Identity, &key))?;
        row.into_domain()
    }

    async fn identity_where(&self, clause: &str, org: OrgId, value: &str) -> Result<Identity> {
        let sql = format!("SELECT {IDENTITY_COLS} FROM identities WHERE org_id = $1 AND {clause}");
        let row: Option<IdentityRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(value)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Identity))?
            .into_domain()
    }

    /// An identity of the organisation.
    pub async fn identity(&self, org: OrgId, id: IdentityId) -> Result<Identity> {
        let sql = format!("SELECT {IDENTITY_COLS} FROM identities WHERE org_id = $1 AND id = $2");
        let row: Option<IdentityRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Identity))?
            .into_domain()
    }

    /// The identity with this NIK in the organisation.
    pub async fn identity_by_nik(&self, org: OrgId, nik: &Nik) -> Result<Identity> {
        self.identity_where("nik = $2", org, nik.as_str()).await
    }

    /// The identity with this e-mail in the organisation.
    pub async fn identity_by_email(&self, org: OrgId, email: &Email) -> Result<Identity> {
        self.identity_where("email = $2", org, email.as_str()).await
    }

    /// The identity whose pending activation link has this secret hash (the secret
    /// establishes the organisation, like a token).
    pub async fn identity_by_activation(&self, activation_hash: &str) -> Result<Identity> {
        let sql = format!("SELECT {IDENTITY_COLS} FROM identities WHERE activation_hash = $1");
        let row: Option<IdentityRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(activation_hash)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Identity))?
            .into_domain()
    }

    /// Every identity of the organisation, newest first.
    pub async fn list_identities(&self, org: OrgId) -> Result<Vec<Identity>> {
        let sql =
            format!("SELECT {IDENTITY_COLS} FROM identities WHERE org_id = $1 ORDER BY id DESC");
        let rows: Vec<IdentityRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(IdentityRow::into_domain).collect()
    }

    /// Sets the stored status (and clears any lock after wrong passphrases).
    pub async fn set_identity_status(
        &self,
        org: OrgId,
        id: IdentityId,
        status: IdentityStatus,
        now: Timestamp,
    ) -> Result<Identity> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE identities SET status = $3, failed_attempts = 0, locked_until = NULL, \
             updated_at = $4 WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(status.as_str())
        .bind(ts(now))
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Identity));
        }
        self.identity(org, id).await
    }

    /// Starts an activation (after verification, or for a renewal): the link's secret hash
    /// and end, and the status to report meanwhile (NEW or RENEW).
    pub async fn set_identity_activation(
        &self,
        org: OrgId,
        id: IdentityId,
        activation_hash: &str,
        expires_at: Timestamp,
        status: IdentityStatus,
        now: Timestamp,
    ) -> Result<Identity> {
        let n = affected!(self, |p| {
            sqlx::query(
            "UPDATE identities SET activation_hash = $3, activation_expires_at = $4, status = $5, \
             updated_at = $6 WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(activation_hash)
        .bind(ts(expires_at))
        .bind(status.as_str())
        .bind(ts(now))
        .execute(p)
        .await
        })?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Identity));
        }
        self.identity(org, id).await
    }

    /// Completes an activation: stores the certificate and the sealed key, status ISSUE, and
    /// spends the link. `Conflict` if the link was spent meanwhile (single use).
    #[allow(clippy::too_many_arguments)]
    pub async fn activate_identity(
        &self,
        org: OrgId,
        id: IdentityId,
        activation_hash: &str,
        cert_pem: &str,
        cert_serial: &str,
        cert_not_after: Timestamp,
        sealed_key: &[u8],
        otp_key: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<Identity> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE identities SET cert_pem = $4, cert_serial = $5, cert_not_after = $6, \
             sealed_key = $7, otp_key = $8, status = 'ISSUE', failed_attempts = 0, \
             locked_until = NULL, activation_hash = NULL, activation_expires_at = NULL, \
             updated_at = $9 WHERE org_id = $1 AND id = $2 AND activation_hash = $3"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(activation_hash)
        .bind(cert_pem)
        .bind(cert_serial)
        .bind(ts(cert_not_after))
        .bind(sealed_key)
        .bind(otp_key)
        .bind(ts(now))
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::Domain(paraf_domain::DomainError::conflict(
                "the activation link was already used",
            )));
        }
        self.identity(org, id).await
    }

    /// Counts a wrong passphrase; at `lock_after` in a row the identity is locked until
    /// `lock_until` and the count starts again. Returns (count now, locked until).
    pub async fn record_wrong_passphrase(
        &self,
        org: OrgId,
        id: IdentityId,
        lock_after: u32,
        lock_until: Timestamp,
        now: Timestamp,
    ) -> Result<(u32, Option<Timestamp>)> {
        let _turn = self.write_turn().await;
        let row: Option<(i64, Option<i64>)> = with_pool!(self, |p| {
            sqlx::query_as(
            "UPDATE identities SET \
               locked_until = CASE WHEN failed_attempts + 1 >= $3 THEN $4 ELSE locked_until END, \
               failed_attempts = CASE WHEN failed_attempts + 1 >= $3 THEN 0 ELSE failed_attempts + 1 END, \
               updated_at = $5 \
             WHERE org_id = $1 AND id = $2 RETURNING failed_attempts, locked_until"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(i64::from(lock_after))
        .bind(ts(lock_until))
        .bind(ts(now))
        .fetch_optional(p)
        .await
        })?;
        let (n, until) = row.ok_or(StoreError::not_found(Entity::Identity))?;
        Ok((u32::try_from(n).unwrap_or(0), from_ts_opt(until)))
    }

    /// Forgets earlier wrong passphrases (after a right one).
    pub async fn reset_wrong_passphrases(&self, org: OrgId, id: IdentityId) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "UPDATE identities SET failed_attempts = 0 WHERE org_id = $1 AND id = $2 \
             AND failed_attempts > 0"
        )
        .bind(org.0)
        .bind(id.0)
        .execute(p)
        .await)?;
        Ok(())
    }

    // ------------------------------------------------------------ seals

    /// Creates a seal. `AlreadyExists` if the `idSubscriber` is taken in the organisation.
    pub async fn create_seal(&self, new: &NewSeal, now: Timestamp) -> Result<Seal> {
        self.organisation(new.org).await?;
        let sql = format!(
            "INSERT INTO seals (org_id, id_subscriber, name, email, cert_pem, cert_serial, \
             cert_not_after, wrapped_key, key_ref, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {SEAL_COLS}"
        );
        let row: SealRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(new.org.0)
            .bind(&new.id_subscriber)
            .bind(&new.name)
            .bind(new.email.as_str())
            .bind(&new.cert_pem)
            .bind(&new.cert_serial)
            .bind(ts(new.cert_not_after))
            .bind(&new.wrapped_key)
            .bind(new.key_ref.as_deref())
            .bind(ts(now))
            .fetch_one(p)
            .await)
        .map_err(|e| unique_as_exists(e, Entity::Seal, &new.id_subscriber))?;
        row.into_domain()
    }

    /// The seal with this `idSubscriber` in the organisation.
    pub async fn seal_by_subscriber(&self, org: OrgId, id_subscriber: &str) -> Result<Seal> {
        let sql = format!("SELECT {SEAL_COLS} FROM seals WHERE org_id = $1 AND id_subscriber = $2");
        let row: Option<SealRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id_subscriber)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Seal))?
            .into_domain()
    }

    /// Every seal of the organisation.
    pub async fn list_seals(&self, org: OrgId) -> Result<Vec<Seal>> {
        let sql = format!("SELECT {SEAL_COLS} FROM seals WHERE org_id = $1 ORDER BY id");
        let rows: Vec<SealRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(SealRow::into_domain).collect()
    }

    /// Sets (or, with `None`, revokes) the seal's activation TOTP.
    pub async fn set_seal_activation(
        &self,
        org: OrgId,
        id: SealId,
        activation: Option<(&str, Timestamp)>,
    ) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE seals SET activation_hash = $3, activation_expires_at = $4, \
             activation_failures = 0 WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(activation.map(|a| a.0))
        .bind(activation.map(|a| ts(a.1)))
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Seal));
        }
        Ok(())
    }

    /// Counts a wrong activation TOTP for the seal; at `max` wrong ones the activation is
    /// revoked (a new one must be mailed). Returns whether it was revoked now.
    pub async fn record_seal_activation_failure(
        &self,
        org: OrgId,
        id: SealId,
        max: u32,
    ) -> Result<bool> {
        let row: Option<(i64, Option<String>)> = with_pool!(self, |p| sqlx::query_as(
            "UPDATE seals SET activation_failures = activation_failures + 1, \
               activation_hash = CASE WHEN activation_failures + 1 >= $3 THEN NULL \
                 ELSE activation_hash END \
             WHERE org_id = $1 AND id = $2 RETURNING activation_failures, activation_hash"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(i64::from(max))
        .fetch_optional(p)
        .await)?;
        let (_, hash) = row.ok_or(StoreError::not_found(Entity::Seal))?;
        Ok(hash.is_none())
    }

    // ------------------------------------------------------------ one-time codes

    /// Records a one-time code (its hash) for `subject` (e.g. `identity:7`), good for one
    /// request of at most `max_files` files until `expires_at`.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_otp(
        &self,
        org: OrgId,
        subject: &str,
        purpose: OtpPurpose,
        code_hash: &str,
        max_files: u64,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        affected!(self, |p| sqlx::query(
            "INSERT INTO otp_codes (org_id, subject, purpose, code_hash, max_files, expires_at, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(org.0)
        .bind(subject)
        .bind(purpose.as_str())
        .bind(code_hash)
        .bind(crate::to_i64(max_files))
        .bind(ts(expires_at))
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// How many codes `subject` was given since `since` (to limit how often codes are sent).
    pub async fn otp_codes_since(
        &self,
        org: OrgId,
        subject: &str,
        purpose: OtpPurpose,
        since: Timestamp,
    ) -> Result<u64> {
        let (n,): (i64,) = with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM otp_codes WHERE org_id = $1 AND subject = $2 AND purpose = $3 \
             AND created_at >= $4"
        )
        .bind(org.0)
        .bind(subject)
        .bind(purpose.as_str())
        .bind(ts(since))
        .fetch_one(p)
        .await
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Whether a live code matches (without spending it): the caller checks first, does the
    /// work, then spends it with [`Store::consume_otp`], so a refused document does not burn
    /// the code.
    pub async fn otp_is_live(
        &self,
        org: OrgId,
        subject: &str,
        purpose: OtpPurpose,
        code_hash: &str,
        files: u64,
        now: Timestamp,
    ) -> Result<bool> {
        let row: Option<(i64,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM otp_codes WHERE org_id = $1 AND subject = $2 AND purpose = $3 \
             AND code_hash = $4 AND spent_at IS NULL AND expires_at > $6 AND max_files >= $5 \
             AND wrong_attempts < $7 LIMIT 1"
        )
        .bind(org.0)
        .bind(subject)
        .bind(purpose.as_str())
        .bind(code_hash)
        .bind(crate::to_i64(files))
        .bind(ts(now))
        .bind(OTP_MAX_WRONG)
        .fetch_optional(p)
        .await)?;
        Ok(row.is_some())
    }

    /// Spends a live code for a request of `files` files: true once, false afterwards and for
    /// wrong, expired or too-small codes. A wrong code counts against every live code of the
    /// subject; after a few, they stop working.
    pub async fn consume_otp(
        &self,
        org: OrgId,
        subject: &str,
        purpose: OtpPurpose,
        code_hash: &str,
        files: u64,
        now: Timestamp,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let spent = affected!(self, |p| sqlx::query(
            "UPDATE otp_codes SET spent_at = $6 WHERE id = (SELECT id FROM otp_codes \
               WHERE org_id = $1 AND subject = $2 AND purpose = $3 AND code_hash = $4 \
               AND spent_at IS NULL AND expires_at > $6 AND max_files >= $5 \
               AND wrong_attempts < $7 ORDER BY id LIMIT 1) AND spent_at IS NULL"
        )
        .bind(org.0)
        .bind(subject)
        .bind(purpose.as_str())
        .bind(code_hash)
        .bind(crate::to_i64(files))
        .bind(ts(now))
        .bind(OTP_MAX_WRONG)
        .execute(p)
        .await)?;
        if spent == 1 {
            return Ok(true);
        }
        affected!(self, |p| sqlx::query(
            "UPDATE otp_codes SET wrong_attempts = wrong_attempts + 1 WHERE org_id = $1 \
             AND subject = $2 AND purpose = $3 AND spent_at IS NULL AND expires_at > $4"
        )
        .bind(org.0)
        .bind(subject)
        .bind(purpose.as_str())
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(false)
    }

    /// Deletes one-time codes spent or expired before `before`; returns how many.
    pub async fn prune_otp_codes(&self, before: Timestamp) -> Result<u64> {
        affected!(self, |p| sqlx::query(
            "DELETE FROM otp_codes WHERE expires_at < $1 OR (spent_at IS NOT NULL AND spent_at < $1)"
        )
        .bind(ts(before))
        .execute(p)
        .await)
        .map_err(Into::into)
    }

    // ------------------------------------------------------------ signed documents

    /// Records a signed PDF (its blob must be stored first) for its single download.
    pub async fn put_signed_document(&self, doc: &SignedDocument) -> Result<()> {
        let _turn = self.write_turn().await;
        affected!(self, |p| sqlx::query(
            "INSERT INTO signed_documents (id, org_id, blob_id, file_name, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&doc.id)
        .bind(doc.org.0)
        .bind(doc.blob.as_str())
        .bind(&doc.file_name)
        .bind(ts(doc.created_at))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Takes the document for its one download: `NotFound` if there is none in the
    /// organisation, `Conflict` if it was downloaded already. Exactly one concurrent caller
    /// succeeds.
    pub async fn take_signed_document(
        &self,
        org: OrgId,
        id: &str,
        now: Timestamp,
    ) -> Result<SignedDocument> {
        let _turn = self.write_turn().await;
        let row: Option<DocRow> = with_pool!(self, |p| sqlx::query_as(
            "UPDATE signed_documents SET downloaded_at = $3 WHERE org_id = $1 AND id = $2 \
             AND downloaded_at IS NULL \
             RETURNING id, org_id, blob_id, file_name, created_at, downloaded_at"
        )
        .bind(org.0)
        .bind(id)
        .bind(ts(now))
        .fetch_optional(p)
        .await)?;
        if let Some(r) = row {
            return r.into_domain();
        }
        let exists: Option<(String,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM signed_documents WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id)
        .fetch_optional(p)
        .await)?;
        match exists {
            Some(_) => Err(StoreError::Domain(paraf_domain::DomainError::conflict(
                "already downloaded",
            ))),
            None => Err(StoreError::not_found(Entity::SignedDocument)),
        }
    }

    /// Whether a signed document still waiting for its download refers to `blob` (blobs are
    /// content-addressed: two rows may share one).
    pub async fn signed_blob_pending(&self, blob: &BlobId) -> Result<bool> {
        let row: Option<(String,)> = with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id FROM signed_documents WHERE blob_id = $1 AND downloaded_at IS NULL LIMIT 1"
        )
        .bind(blob.as_str())
        .fetch_optional(p)
        .await
        })?;
        Ok(row.is_some())
    }

    /// Removes signed documents created before `before` and never downloaded; returns their
    /// blobs, for the caller to delete (rows first: a crash then leaves an orphan blob, never a
    /// row pointing at nothing).
    pub async fn expire_signed_documents(&self, before: Timestamp) -> Result<Vec<BlobId>> {
        let _turn = self.write_turn().await;
        let rows: Vec<(String,)> = with_pool!(self, |p| sqlx::query_as(
            "DELETE FROM signed_documents WHERE downloaded_at IS NULL AND created_at < $1 \
             RETURNING blob_id"
        )
        .bind(ts(before))
        .fetch_all(p)
        .await)?;
        rows.into_iter()
            .map(|(b,)| {
                BlobId::parse(&b)
                    .map_err(|_| StoreError::corrupt(format!("signed document blob {b}")))
            })
            .collect()
    }

    // ------------------------------------------------------------ usage per application

    /// Adds to an application's counters for the day of `now` (UTC).
    pub async fn record_app_usage(
        &self,
        org: OrgId,
        credential_key: &str,
        now: Timestamp,
        requests: u64,
        signatures: u64,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        affected!(self, |p| sqlx::query(
            "INSERT INTO app_daily_usage (org_id, credential_key, day, requests, signatures) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, credential_key, day) DO UPDATE \
             SET requests = app_daily_usage.requests + excluded.requests, \
                 signatures = app_daily_usage.signatures + excluded.signatures"
        )
        .bind(org.0)
        .bind(credential_key)
        .bind(day_of(now))
        .bind(crate::to_i64(requests))
        .bind(crate::to_i64(signatures))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// The organisation's per-application counters from `since` (UTC day) on, oldest first.
    pub async fn app_usage(&self, org: OrgId, since: Timestamp) -> Result<Vec<AppUsageDay>> {
        let rows: Vec<(String, String, i64, i64)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT credential_key, day, requests, signatures FROM app_daily_usage \
             WHERE org_id = $1 AND day >= $2 ORDER BY day, credential_key"
        )
        .bind(org.0)
        .bind(day_of(since))
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(credential_key, day, r, s)| AppUsageDay {
                credential_key,
                day,
                requests: crate::to_u64(r),
                signatures: crate::to_u64(s),
            })
            .collect())
    }
}
