//! Application keys of the external API (seed-004 client systems): made, listed, enabled or
//! disabled, given a new public key (rotation) and deleted — a deleted key is kept (the token
//! families that name it stay) but never found again, and its families are revoked.

use base64::Engine as _;
use paraf_domain::{AuthFailure, DomainError, Entity, GatewayApp, GatewayAppId, OrgId, Timestamp};

use crate::{affected, from_ts, ts, with_pool, Result, Store, StoreError};

const APP_COLS: &str =
    "id, org_id, name, app_key, public_key, require_signature, enabled, created_at";

#[derive(sqlx::FromRow)]
struct AppRow {
    id: i64,
    org_id: i64,
    name: String,
    app_key: String,
    public_key: String,
    require_signature: bool,
    enabled: bool,
    created_at: i64,
}

impl AppRow {
    fn into_domain(self) -> Result<GatewayApp> {
        let public_key = base64::engine::general_purpose::STANDARD
            .decode(&self.public_key)
            .map_err(|e| StoreError::Corrupt(format!("gateway_apps.public_key: {e}")))?;
        Ok(GatewayApp {
            id: GatewayAppId(self.id),
            org: OrgId(self.org_id),
            name: self.name,
            app_key: self.app_key,
            public_key,
            require_signature: self.require_signature,
            enabled: self.enabled,
            created_at: from_ts(self.created_at),
        })
    }
}

fn check_public_key(key: &[u8]) -> Result<String> {
    if key.len() != 32 {
        return Err(
            DomainError::invalid("public_key", "must be a 32-byte Ed25519 public key").into(),
        );
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(key))
}

impl Store {
    /// Registers a client system with the Ed25519 `public_key` of the private key it was
    /// given; its `x-app-key` is made here.
    pub async fn create_gateway_app(
        &self,
        org: OrgId,
        name: &str,
        public_key: &[u8],
        require_signature: bool,
        now: Timestamp,
    ) -> Result<GatewayApp> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(DomainError::invalid("name", "must be 1 to 100 characters").into());
        }
        let public_key = check_public_key(public_key)?;
        self.organisation(org).await?;
        let key_bytes: [u8; 16] = paraf_domain::random_bytes(&*self.entropy)?;
        let app_key = format!("paraf_gak_{}", hex::encode(key_bytes));
        let sql = format!(
            "INSERT INTO gateway_apps (org_id, name, app_key, private_key_hash, public_key, \
             require_signature, enabled, created_at) VALUES ($1, $2, $3, '', $4, $5, $6, $7) \
             RETURNING {APP_COLS}"
        );
        let row: AppRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(name)
            .bind(&app_key)
            .bind(&public_key)
            .bind(require_signature)
            .bind(true)
            .bind(ts(now))
            .fetch_one(p)
            .await)?;
        row.into_domain()
    }

    /// The client system of an `x-app-key`. Refusals: `UnknownCredential` (no such key, or
    /// deleted), `Disabled`.
    pub async fn gateway_app_by_key(&self, app_key: &str) -> Result<GatewayApp> {
        let sql = format!(
            "SELECT {APP_COLS} FROM gateway_apps WHERE app_key = $1 AND deleted_at IS NULL"
        );
        let row: Option<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(app_key.trim())
            .fetch_optional(p)
            .await)?;
        let app = row
            .ok_or(StoreError::auth(AuthFailure::UnknownCredential))?
            .into_domain()?;
        if !app.enabled {
            return Err(StoreError::auth(AuthFailure::Disabled));
        }
        Ok(app)
    }

    /// The organisation's client systems (not deleted), oldest first.
    pub async fn gateway_apps(&self, org: OrgId) -> Result<Vec<GatewayApp>> {
        let sql = format!(
            "SELECT {APP_COLS} FROM gateway_apps WHERE org_id = $1 AND deleted_at IS NULL \
             ORDER BY id"
        );
        let rows: Vec<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(AppRow::into_domain).collect()
    }

    /// One of the organisation's client systems (`NotFound` when deleted or another's).
    pub async fn gateway_app(&self, org: OrgId, app: GatewayAppId) -> Result<GatewayApp> {
        let sql = format!(
            "SELECT {APP_COLS} FROM gateway_apps WHERE org_id = $1 AND id = $2 \
             AND deleted_at IS NULL"
        );
        let row: Option<AppRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(app.0)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::GatewayApp))?
            .into_domain()
    }

    /// Enables or disables a client system.
    pub async fn set_gateway_app_enabled(
        &self,
        org: OrgId,
        app: GatewayAppId,
        enabled: bool,
    ) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE gateway_apps SET enabled = $3 \
             WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
        )
        .bind(org.0)
        .bind(app.0)
        .bind(enabled)
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::GatewayApp));
        }
        Ok(())
    }

    /// Gives a client system a new public key (the old private key stops working at once).
    pub async fn set_gateway_app_key(
        &self,
        org: OrgId,
        app: GatewayAppId,
        public_key: &[u8],
    ) -> Result<GatewayApp> {
        let public_key = check_public_key(public_key)?;
        let n = affected!(self, |p| sqlx::query(
            "UPDATE gateway_apps SET public_key = $3 \
             WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
        )
        .bind(org.0)
        .bind(app.0)
        .bind(&public_key)
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::GatewayApp));
        }
        self.gateway_app(org, app).await
    }

    /// Deletes a client system: never found again, and every token family it issued is
    /// revoked (its users' tokens stop working).
    pub async fn delete_gateway_app(
        &self,
        org: OrgId,
        app: GatewayAppId,
        now: Timestamp,
    ) -> Result<()> {
        let deleted: bool = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE gateway_apps SET deleted_at = $3, enabled = $4 \
                 WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL",
            )
            .bind(org.0)
            .bind(app.0)
            .bind(ts(now))
            .bind(false)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE token_families SET revoked_at = $3, revoked_reason = 'app_key_deleted' \
                 WHERE org_id = $1 AND gateway_app_id = $2 AND revoked_at IS NULL",
            )
            .bind(org.0)
            .bind(app.0)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            n == 1
        });
        if !deleted {
            return Err(StoreError::not_found(Entity::GatewayApp));
        }
        Ok(())
    }
}
