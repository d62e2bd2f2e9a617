//! What people have besides their account: single-use password tokens, device pairing
//! challenges, trusted devices and their push tokens, consumed notifications and signature
//! appearances. Secrets are stored as their SHA-256 (tokens, challenges) or sealed by the
//! caller (push tokens); every read names the organisation.

use paraf_domain::{ApiTokenId, BlobId, Entity, OrgId, Timestamp, UserId};

use crate::{affected, from_ts, ts, with_pool, Result, Store, StoreError};

/// A device paired to a user (Signing Today's trusted device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub row: i64,
    pub org: OrgId,
    pub user: UserId,
    /// The id the device gave itself.
    pub device_id: String,
    pub name: String,
    /// The API token it signs in with.
    pub api_token: Option<ApiTokenId>,
    pub registered_at: Timestamp,
}

type DeviceRow = (i64, i64, i64, String, String, Option<i64>, i64);

const DEVICE_COLS: &str = "id, org_id, user_id, device_id, name, api_token_id, registered_at";

fn device(r: DeviceRow) -> Device {
    let (row, org, user, device_id, name, token, at) = r;
    Device {
        row,
        org: OrgId(org),
        user: UserId(user),
        device_id,
        name,
        api_token: token.map(ApiTokenId),
        registered_at: from_ts(at),
    }
}

/// A stored signature appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appearance {
    pub org: OrgId,
    /// `user:N` or `identity:N`.
    pub owner: String,
    /// Its public id (a resource of the API).
    pub uuid: String,
    pub blob: BlobId,
    pub mime: String,
    pub filename: String,
    pub title: String,
    pub size: u64,
    pub created_at: Timestamp,
}

type AppearanceRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

const APPEARANCE_COLS: &str =
    "org_id, owner, uuid, blob_id, mime, filename, title, size, created_at";

fn appearance(r: AppearanceRow) -> Result<Appearance> {
    let (org, owner, uuid, blob, mime, filename, title, size, at) = r;
    Ok(Appearance {
        org: OrgId(org),
        owner,
        uuid,
        blob: BlobId::parse(&blob).map_err(|_| StoreError::corrupt("appearance blob"))?,
        mime,
        filename,
        title,
        size: u64::try_from(size).unwrap_or_default(),
        created_at: from_ts(at),
    })
}

impl Store {
    // ------------------------------------------------------------ password tokens

    /// Records a password token (its SHA-256) for `purpose`; the user's earlier unused tokens
    /// of that purpose stop working.
    pub async fn create_password_token(
        &self,
        org: OrgId,
        user: UserId,
        purpose: &str,
        token_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE password_tokens SET used_at = $4 \
                 WHERE org_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL",
            )
            .bind(org.0)
            .bind(user.0)
            .bind(purpose)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO password_tokens (org_id, user_id, purpose, token_hash, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(org.0)
            .bind(user.0)
            .bind(purpose)
            .bind(token_hash)
            .bind(ts(expires_at))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// How many password tokens of `purpose` the user was given since `since`.
    pub async fn password_tokens_since(
        &self,
        org: OrgId,
        user: UserId,
        purpose: &str,
        since: Timestamp,
    ) -> Result<u64> {
        let n: i64 = with_pool!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM password_tokens \
             WHERE org_id = $1 AND user_id = $2 AND purpose = $3 AND created_at >= $4"
        )
        .bind(org.0)
        .bind(user.0)
        .bind(purpose)
        .bind(ts(since))
        .fetch_one(p)
        .await)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// The user and purpose of a live token, without using it.
    pub async fn password_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<(OrgId, UserId, String)> {
        self.live_password_token(token_hash, now, false).await
    }

    /// Uses a live token (once: a compare-and-set), giving its user and purpose.
    pub async fn take_password_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<(OrgId, UserId, String)> {
        self.live_password_token(token_hash, now, true).await
    }

    async fn live_password_token(
        &self,
        token_hash: &str,
        now: Timestamp,
        take: bool,
    ) -> Result<(OrgId, UserId, String)> {
        let sql = if take {
            "UPDATE password_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING org_id, user_id, purpose"
        } else {
            "SELECT org_id, user_id, purpose FROM password_tokens \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2"
        };
        let row: Option<(i64, i64, String)> = with_pool!(self, |p| sqlx::query_as(sql)
            .bind(token_hash)
            .bind(ts(now))
            .fetch_optional(p)
            .await)?;
        let (o, u, purpose) = row.ok_or(StoreError::not_found(Entity::PasswordToken))?;
        Ok((OrgId(o), UserId(u), purpose))
    }

    // ------------------------------------------------------------ devices

    /// Makes `challenge_hash` the user's pending device challenge (the earlier one stops
    /// working).
    pub async fn set_device_challenge(
        &self,
        org: OrgId,
        user: UserId,
        challenge_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "INSERT INTO device_challenges (user_id, org_id, challenge_hash, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE \
             SET org_id = $2, challenge_hash = $3, expires_at = $4"
        )
        .bind(user.0)
        .bind(org.0)
        .bind(challenge_hash)
        .bind(ts(expires_at))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Uses a device challenge (once, live or not), giving its user and whether it was still
    /// live at `now`.
    pub async fn take_device_challenge(
        &self,
        challenge_hash: &str,
        now: Timestamp,
    ) -> Result<(OrgId, UserId, bool)> {
        let row: Option<(i64, i64, i64)> = with_pool!(self, |p| sqlx::query_as(
            "DELETE FROM device_challenges WHERE challenge_hash = $1 \
             RETURNING org_id, user_id, expires_at"
        )
        .bind(challenge_hash)
        .fetch_optional(p)
        .await)?;
        let (o, u, exp) = row.ok_or(StoreError::not_found(Entity::Device))?;
        Ok((OrgId(o), UserId(u), exp > ts(now)))
    }

    /// The organisation's device with this id.
    pub async fn device(&self, org: OrgId, device_id: &str) -> Result<Device> {
        let sql = format!("SELECT {DEVICE_COLS} FROM devices WHERE org_id = $1 AND device_id = $2");
        let row: Option<DeviceRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(device_id)
            .fetch_optional(p)
            .await)?;
        row.map(device).ok_or(StoreError::not_found(Entity::Device))
    }

    /// Pairs a device to a user, or (the same device id again) gives it to this user under a
    /// new name and token. Returns the device and the token it had before.
    pub async fn pair_device(
        &self,
        org: OrgId,
        user: UserId,
        device_id: &str,
        name: &str,
        api_token: ApiTokenId,
        now: Timestamp,
    ) -> Result<(Device, Option<ApiTokenId>)> {
        let before = match self.device(org, device_id).await {
            Ok(d) => Some(d),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let sql = format!(
            "INSERT INTO devices (org_id, user_id, device_id, name, api_token_id, registered_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, device_id) DO UPDATE \
             SET user_id = $2, name = $4, api_token_id = $5 RETURNING {DEVICE_COLS}"
        );
        let row: DeviceRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(user.0)
            .bind(device_id)
            .bind(name)
            .bind(api_token.0)
            .bind(ts(now))
            .fetch_one(p)
            .await)?;
        if before.as_ref().is_some_and(|b| b.user != user) {
            // Another user's push token must not follow the device.
            self.delete_push_token(row.0).await?;
        }
        Ok((device(row), before.and_then(|b| b.api_token)))
    }

    /// A page of the organisation's devices (one user's when `user` is given), oldest first,
    /// and how many there are.
    pub async fn devices(
        &self,
        org: OrgId,
        user: Option<UserId>,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Device>, u64)> {
        let who = if user.is_some() {
            "AND user_id = $2"
        } else {
            "AND $2 = 0"
        };
        let sql = format!(
            "SELECT {DEVICE_COLS} FROM devices WHERE org_id = $1 {who} ORDER BY id LIMIT $3 OFFSET $4"
        );
        let count = format!("SELECT COUNT(*) FROM devices WHERE org_id = $1 {who}");
        let u = user.map_or(0, |u| u.0);
        let off = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, n): (Vec<DeviceRow>, i64) = with_pool!(self, |p| {
            let rows = sqlx::query_as(&sql)
                .bind(org.0)
                .bind(u)
                .bind(i64::from(limit))
                .bind(off)
                .fetch_all(p)
                .await?;
            let n = sqlx::query_scalar(&count)
                .bind(org.0)
                .bind(u)
                .fetch_one(p)
                .await?;
            Ok::<_, sqlx::Error>((rows, n))
        })?;
        Ok((
            rows.into_iter().map(device).collect(),
            u64::try_from(n).unwrap_or_default(),
        ))
    }

    /// Removes a device (and its push token).
    pub async fn delete_device(&self, org: OrgId, row: i64) -> Result<()> {
        self.delete_push_token(row).await?;
        affected!(self, |p| sqlx::query(
            "DELETE FROM devices WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(row)
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Registers (or replaces) a device's push token, sealed by the caller.
    pub async fn set_push_token(&self, row: i64, sealed: &str, now: Timestamp) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "INSERT INTO push_tokens (device_row, token_sealed, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (device_row) DO UPDATE SET token_sealed = $2, updated_at = $3"
        )
        .bind(row)
        .bind(sealed)
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// Forgets a device's push token; whether there was one.
    pub async fn delete_push_token(&self, row: i64) -> Result<bool> {
        let n = affected!(self, |p| sqlx::query(
            "DELETE FROM push_tokens WHERE device_row = $1"
        )
        .bind(row)
        .execute(p)
        .await)?;
        Ok(n > 0)
    }

    /// The sealed push tokens of a user's devices, with each device's id.
    pub async fn push_tokens(&self, org: OrgId, user: UserId) -> Result<Vec<(String, String)>> {
        Ok(with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT d.device_id, t.token_sealed FROM push_tokens t JOIN devices d ON d.id = t.device_row \
             WHERE d.org_id = $1 AND d.user_id = $2 ORDER BY d.id"
        )
        .bind(org.0)
        .bind(user.0)
        .fetch_all(p)
        .await
        })?)
    }

    /// Records a push message in the development outbox.
    pub async fn record_push(
        &self,
        org: OrgId,
        user: UserId,
        device_id: &str,
        payload: &serde_json::Value,
        now: Timestamp,
    ) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "INSERT INTO push_outbox (org_id, user_id, device_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(org.0)
        .bind(user.0)
        .bind(device_id)
        .bind(payload.to_string())
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// The latest push messages of the development outbox for a user (device id, payload),
    /// newest first.
    pub async fn pushes(
        &self,
        org: OrgId,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<(String, serde_json::Value)>> {
        let rows: Vec<(String, String)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT device_id, payload FROM push_outbox WHERE org_id = $1 AND user_id = $2 \
             ORDER BY id DESC LIMIT $3"
        )
        .bind(org.0)
        .bind(user.0)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
        rows.into_iter()
            .map(|(d, p)| {
                serde_json::from_str(&p)
                    .map(|v| (d, v))
                    .map_err(|_| StoreError::corrupt("push payload"))
            })
            .collect()
    }

    // ------------------------------------------------------------ notifications

    /// The user has consumed the envelope's notifications up to `now`.
    pub async fn consume_notifications(
        &self,
        user: UserId,
        envelope: paraf_domain::EnvelopeId,
        now: Timestamp,
    ) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "INSERT INTO notification_reads (user_id, envelope_id, read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, envelope_id) DO UPDATE SET read_at = $3"
        )
        .bind(user.0)
        .bind(envelope.0)
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// When the user last consumed each envelope's notifications.
    pub async fn notification_reads(
        &self,
        user: UserId,
    ) -> Result<Vec<(paraf_domain::EnvelopeId, Timestamp)>> {
        let rows: Vec<(i64, i64)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT envelope_id, read_at FROM notification_reads WHERE user_id = $1"
        )
        .bind(user.0)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(e, t)| (paraf_domain::EnvelopeId(e), from_ts(t)))
            .collect())
    }

    // ------------------------------------------------------------ appearances

    /// Stores (or replaces) the appearance of `a.owner`; gives the blob it replaced.
    pub async fn put_appearance(&self, a: &Appearance) -> Result<Option<BlobId>> {
        let before = self.appearance(a.org, &a.owner).await.ok().map(|b| b.blob);
        affected!(self, |p| {
            sqlx::query(
            "INSERT INTO appearances (org_id, owner, uuid, blob_id, mime, filename, title, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (org_id, owner) DO UPDATE \
             SET uuid = $3, blob_id = $4, mime = $5, filename = $6, title = $7, size = $8, created_at = $9"
        )
        .bind(a.org.0)
        .bind(&a.owner)
        .bind(&a.uuid)
        .bind(a.blob.as_str())
        .bind(&a.mime)
        .bind(&a.filename)
        .bind(&a.title)
        .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
        .bind(ts(a.created_at))
        .execute(p)
        .await
        })?;
        Ok(before)
    }

    /// The appearance of `owner` (`user:N`, `identity:N`).
    pub async fn appearance(&self, org: OrgId, owner: &str) -> Result<Appearance> {
        let sql =
            format!("SELECT {APPEARANCE_COLS} FROM appearances WHERE org_id = $1 AND owner = $2");
        let row: Option<AppearanceRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(owner)
            .fetch_optional(p)
            .await)?;
        appearance(row.ok_or(StoreError::not_found(Entity::Appearance))?)
    }

    /// Removes the appearance of `owner`; whether there was one.
    pub async fn delete_appearance(&self, org: OrgId, owner: &str) -> Result<bool> {
        let n = affected!(self, |p| sqlx::query(
            "DELETE FROM appearances WHERE org_id = $1 AND owner = $2"
        )
        .bind(org.0)
        .bind(owner)
        .execute(p)
        .await)?;
        Ok(n > 0)
    }
}
