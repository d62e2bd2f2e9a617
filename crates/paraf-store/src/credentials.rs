//! Named API tokens (stored as SHA-256 of the secret) and Basic-auth application
//! credentials (Argon2id password, IP allow-list, enabled flag).

use std::net::IpAddr;

use chrono::Duration;
use paraf_domain::{
    hash_password, verify_password, ApiToken, ApiTokenId, AppCredential, AppCredentialId,
    AuthFailure, CredentialKey, CredentialKind, DomainError, Entity, IpAllowList, NewApiToken,
    NewAppCredential, OrgId, Password, Principal, Role, SecretToken, Timestamp, TokenKind, UserId,
};

use crate::error::unique_as_exists;
use crate::{affected, from_ts, from_ts_opt, ts, with_pool, Result, Store, StoreError};

/// `last_used_at` is refreshed at most this often (saves a write per request).
const LAST_USED_GRANULARITY: i64 = 60;

const TOKEN_COLS: &str =
    "id, org_id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at";

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    org_id: i64,
    user_id: i64,
    name: String,
    prefix: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn into_domain(self) -> ApiToken {
        ApiToken {
            id: ApiTokenId(self.id),
            org: OrgId(self.org_id),
            user: UserId(self.user_id),
            name: self.name,
            prefix: self.prefix,
            created_at: from_ts(self.created_at),
            last_used_at: from_ts_opt(self.last_used_at),
            expires_at: from_ts_opt(self.expires_at),
            revoked_at: from_ts_opt(self.revoked_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct TokenAuthRow {
    id: i64,
    org_id: i64,
    user_id: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    role: String,
    robot: bool,
    disabled: bool,
}

const APP_COLS: &str =
    "id, org_id, username, password_hash, description, allowed_ips, enabled, created_at, last_used_at";

#[derive(sqlx::FromRow)]
struct AppRow {
    id: i64,
    org_id: i64,
    username: String,
    password_hash: String,
    description: String,
    allowed_ips: String,
    enabled: bool,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl AppRow {
    fn into_domain(self) -> Result<AppCredential> {
        let entries: Vec<String> = serde_json::from_str(&self.allowed_ips)
            .map_err(|_| StoreError::corrupt(format!("app credential {}: allowed_ips", self.id)))?;
        let allowed_ips = IpAllowList::parse(&entries)
            .map_err(|_| StoreError::corrupt(format!("app credential {}: allowed_ips", self.id)))?;
        Ok(AppCredential {
            id: AppCredentialId(self.id),
            org: OrgId(self.org_id),
            username: self.username,
            description: self.description,
            allowed_ips,
            enabled: self.enabled,
            created_at: from_ts(self.created_at),
            last_used_at: from_ts_opt(self.last_used_at),
        })
    }
}

pub(crate) fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).map_err(|_| StoreError::corrupt(format!("role {s:?}")))
}

/// Checks a presented secret has the expected prefix.
pub(crate) fn expect_kind(presented: &str, kind: TokenKind) -> Result<SecretToken> {
    let secret = SecretToken::from_presented(presented);
    match secret.kind() {
        Some(k) if k == kind => Ok(secret),
        Some(_) => Err(StoreError::auth(AuthFailure::WrongTokenKind)),
        None => Err(StoreError::auth(AuthFailure::Malformed)),
    }
}

/// Application credentials are presented with every request (HTTP Basic), and an Argon2id
/// check costs tens of milliseconds: after one successful check, remember a keyed hash of the
/// password for that exact stored hash (PHC string, which includes its salt). A later request
/// with the same password against the same, unchanged hash skips Argon2id; a changed password,
/// a wrong one, or a new process checks in full. The key is random per process, so the table
/// is worthless outside this memory; the map is bounded.
pub(crate) struct VerifiedPasswords {
    key: [u8; 32],
    map: std::sync::Mutex<std::collections::HashMap<String, [u8; 32]>>,
}

const VERIFIED_MAX: usize = 10_000;

impl VerifiedPasswords {
    pub(crate) fn new() -> Self {
        let mut key = [0u8; 32];
        // Without randomness the cache is simply not used (every check is a full one).
        use paraf_domain::Entropy as _;
        if paraf_domain::OsEntropy.fill(&mut key).is_err() {
            key = [0u8; 32];
        }
        VerifiedPasswords {
            key,
            map: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn tag(&self, phc: &str, password: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.key);
        h.update((phc.len() as u64).to_be_bytes());
        h.update(phc.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn known(&self, phc: &str, password: &str) -> bool {
        if self.key == [0u8; 32] {
            return false;
        }
        let tag = self.tag(phc, password);
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(phc)
            .is_some_and(|t| t.iter().zip(tag.iter()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0)
    }

    fn remember(&self, phc: &str, password: &str) {
        if self.key == [0u8; 32] {
            return;
        }
        let tag = self.tag(phc, password);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= VERIFIED_MAX {
            map.clear();
        }
        map.insert(phc.to_string(), tag);
    }
}

fn allowed_ips_json(list: &IpAllowList) -> Result<String> {
    serde_json::to_string(&list.to_strings()).map_err(|e| StoreError::corrupt(e.to_string()))
}

impl Store {
    /// Creates a named API token for a user of the organisation. The secret (`paraf_pat_…`)
    /// is returned once; only its SHA-256 is stored.
    pub async fn create_api_token(
        &self,
        new: &NewApiToken,
        now: Timestamp,
    ) -> Result<(ApiToken, SecretToken)> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(DomainError::invalid("name", "must be 1 to 100 characters").into());
        }
        let user = self.user(new.org, new.user).await?;
        if user.disabled {
            return Err(DomainError::Forbidden {
                reason: "the user is disabled".into(),
            }
            .into());
        }
        let secret = SecretToken::generate(TokenKind::ApiToken, &*self.entropy)?;
        let sql = format!(
            "INSERT INTO api_tokens (org_id, user_id, name, prefix, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {TOKEN_COLS}"
        );
        let row: TokenRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(new.org.0)
            .bind(new.user.0)
            .bind(name)
            .bind(secret.display_prefix())
            .bind(secret.hash())
            .bind(ts(now))
            .bind(new.expires_at.map(ts))
            .fetch_one(p)
            .await)?;
        Ok((row.into_domain(), secret))
    }

    /// The organisation's API tokens (of one user, or all), oldest first.
    pub async fn list_api_tokens(&self, org: OrgId, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM api_tokens WHERE org_id = $1 AND ($2 IS NULL OR user_id = $2) ORDER BY id"
        );
        let rows: Vec<TokenRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(user.map(|u| u.0))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(TokenRow::into_domain).collect())
    }

    /// One API token of the organisation.
    pub async fn api_token(&self, org: OrgId, id: ApiTokenId) -> Result<ApiToken> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE org_id = $1 AND id = $2");
        let row: Option<TokenRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        Ok(row
            .ok_or(StoreError::not_found(Entity::ApiToken))?
            .into_domain())
    }

    /// Revokes an API token (idempotent: the first revocation time is kept).
    pub async fn revoke_api_token(&self, org: OrgId, id: ApiTokenId, now: Timestamp) -> Result<()> {
        let n = affected!(self, |p| {
            sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .bind(ts(now))
        .execute(p)
        .await
        })?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::ApiToken));
        }
        Ok(())
    }

    /// Authenticates a bearer API token. Refusals: `Malformed` / `WrongTokenKind` (not a
    /// `paraf_pat_` token), `UnknownCredential`, `Revoked`, `Expired`, `Disabled` (user).
    /// Records the last-used time (to the minute).
    pub async fn authenticate_api_token(
        &self,
        presented: &str,
        now: Timestamp,
    ) -> Result<Principal> {
        let secret = expect_kind(presented, TokenKind::ApiToken)?;
        let row: Option<TokenAuthRow> = with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT t.id, t.org_id, t.user_id, t.expires_at, t.revoked_at, u.role, u.robot, u.disabled \
             FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.org_id = t.org_id \
             WHERE t.token_hash = $1"
        )
        .bind(secret.hash())
        .fetch_optional(p)
        .await
        })?;
        let row = row.ok_or(StoreError::auth(AuthFailure::UnknownCredential))?;
        let now_us = ts(now);
        if row.revoked_at.is_some_and(|t| t <= now_us) {
            return Err(StoreError::auth(AuthFailure::Revoked));
        }
        if row.expires_at.is_some_and(|t| t <= now_us) {
            return Err(StoreError::auth(AuthFailure::Expired));
        }
        if row.disabled {
            return Err(StoreError::auth(AuthFailure::Disabled));
        }
        let stale = ts(now - Duration::seconds(LAST_USED_GRANULARITY));
        affected!(self, |p| {
            sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)"
        )
        .bind(row.id)
        .bind(now_us)
        .bind(stale)
        .execute(p)
        .await
        })?;
        Ok(Principal {
            org: OrgId(row.org_id),
            user: Some(UserId(row.user_id)),
            role: Some(parse_role(&row.role)?),
            robot: row.robot,
            kind: CredentialKind::ApiToken,
            key: CredentialKey::api_token(ApiTokenId(row.id)),
        })
    }

    /// Creates a Basic-auth application credential. `AlreadyExists` if the username is taken
    /// (usernames are unique across the server).
    pub async fn create_app_credential(
        &self,
        new: &NewAppCredential,
        now: Timestamp,
    ) -> Result<AppCredential> {
        let username = NewAppCredential::parse_username(&new.username)?;
        self.organisation(new.org).await?;
        let pw = new.password.clone();
        let hash = self.blocking(move |e| Ok(hash_password(&pw, e)?)).await?;
        let ips = allowed_ips_json(&new.allowed_ips)?;
        let sql = format!(
            "INSERT INTO app_credentials (org_id, username, password_hash, description, allowed_ips, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {APP_COLS}"
        );
        let row: AppRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(new.org.0)
            .bind(&username)
            .bind(&hash)
            .bind(new.description.trim())
            .bind(&ips)
            .bind(true)
            .bind(ts(now))
            .fetch_one(p)
            .await)
        .map_err(|e| unique_as_exists(e, Entity::AppCredential, &username))?;
        row.into_domain()
    }

    /// One application credential of the organisation.
    pub async fn app_credential(&self, org: OrgId, id: AppCredentialId) -> Result<AppCredential> {
        let sql = format!("SELECT {APP_COLS} FROM app_credentials WHERE org_id = $1 AND id = $2");
        let row: Option<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::AppCredential))?
            .into_domain()
    }

    /// The organisation's application credentials.
    pub async fn list_app_credentials(&self, org: OrgId) -> Result<Vec<AppCredential>> {
        let sql = format!("SELECT {APP_COLS} FROM app_credentials WHERE org_id = $1 ORDER BY id");
        let rows: Vec<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(AppRow::into_domain).collect()
    }

    /// Enables or disables an application credential.
    pub async fn set_app_credential_enabled(
        &self,
        org: OrgId,
        id: AppCredentialId,
        enabled: bool,
    ) -> Result<AppCredential> {
        let sql = format!(
            "UPDATE app_credentials SET enabled = $3 WHERE org_id = $1 AND id = $2 RETURNING {APP_COLS}"
        );
        let row: Option<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(enabled)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::AppCredential))?
            .into_domain()
    }

    /// Replaces an application credential's IP allow-list (empty: every address).
    pub async fn set_app_credential_allowed_ips(
        &self,
        org: OrgId,
        id: AppCredentialId,
        allowed: &IpAllowList,
    ) -> Result<AppCredential> {
        let ips = allowed_ips_json(allowed)?;
        let sql = format!(
            "UPDATE app_credentials SET allowed_ips = $3 WHERE org_id = $1 AND id = $2 RETURNING {APP_COLS}"
        );
        let row: Option<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(&ips)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::AppCredential))?
            .into_domain()
    }

    /// Replaces an application credential's description.
    pub async fn set_app_credential_description(
        &self,
        org: OrgId,
        id: AppCredentialId,
        description: &str,
    ) -> Result<AppCredential> {
        let sql = format!(
            "UPDATE app_credentials SET description = $3 WHERE org_id = $1 AND id = $2 RETURNING {APP_COLS}"
        );
        let row: Option<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(description.trim())
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::AppCredential))?
            .into_domain()
    }

    /// Replaces an application credential's password.
    pub async fn set_app_credential_password(
        &self,
        org: OrgId,
        id: AppCredentialId,
        password: &Password,
    ) -> Result<()> {
        self.set_password_hash(
            "app_credentials",
            Entity::AppCredential,
            org.0,
            id.0,
            password,
        )
        .await
    }

    /// Deletes an application credential.
    pub async fn delete_app_credential(&self, org: OrgId, id: AppCredentialId) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "DELETE FROM app_credentials WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::AppCredential));
        }
        Ok(())
    }

    /// Verifies HTTP Basic credentials from `client_ip`. Checks, in order:
    /// `UnknownCredential` (no such username), `WrongPassword`, `Disabled`, `IpNotAllowed`.
    /// On success records the last-used time (to the minute).
    pub async fn verify_app_credential(
        &self,
        username: &str,
        password: &str,
        client_ip: IpAddr,
        now: Timestamp,
    ) -> Result<Principal> {
        let sql = format!("SELECT {APP_COLS} FROM app_credentials WHERE username = $1");
        let row: Option<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(p)
            .await)?;
        let Some(row) = row else {
            // As long as a real check, so refusals do not tell which user names exist.
            let pw = password.to_owned();
            self.blocking(move |_| Ok(paraf_domain::verify_password_against_nothing(&pw)))
                .await?;
            return Err(StoreError::auth(AuthFailure::UnknownCredential));
        };
        if !self.verified.known(&row.password_hash, password) {
            let hash = row.password_hash.clone();
            let pw = password.to_owned();
            if !self
                .blocking(move |_| Ok(verify_password(&hash, &pw)))
                .await?
            {
                return Err(StoreError::auth(AuthFailure::WrongPassword));
            }
            self.verified.remember(&row.password_hash, password);
        }
        let cred = row.into_domain()?;
        if !cred.enabled {
            return Err(StoreError::auth(AuthFailure::Disabled));
        }
        if !cred.allowed_ips.allows(client_ip) {
            return Err(StoreError::auth(AuthFailure::IpNotAllowed));
        }
        let stale = ts(now - Duration::seconds(LAST_USED_GRANULARITY));
        affected!(self, |p| {
            sqlx::query(
            "UPDATE app_credentials SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)"
        )
        .bind(cred.id.0)
        .bind(ts(now))
        .bind(stale)
        .execute(p)
        .await
        })?;
        Ok(Principal {
            org: cred.org,
            user: None,
            role: None,
            robot: false,
            kind: CredentialKind::AppCredential,
            key: CredentialKey::app_credential(cred.id),
        })
    }
}
