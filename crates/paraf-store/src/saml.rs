//! SAML single sign-on: an organisation's sealed identity-provider settings and the
//! assertion IDs already used (replay protection).

use paraf_domain::{OrgId, Timestamp};

use crate::{affected, ts, with_pool, Result, Store};

impl Store {
    /// The organisation's sealed SAML settings, if SAML is configured.
    pub async fn saml_configuration(&self, org: OrgId) -> Result<Option<String>> {
        let row: Option<(String,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT config_sealed FROM saml_configurations WHERE org_id = $1"
        )
        .bind(org.0)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|(s,)| s))
    }

    /// Sets (or replaces) the organisation's sealed SAML settings.
    pub async fn set_saml_configuration(
        &self,
        org: OrgId,
        sealed: &str,
        now: Timestamp,
    ) -> Result<()> {
        affected!(self, |p| {
            sqlx::query(
                "INSERT INTO saml_configurations (org_id, config_sealed, updated_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (org_id) \
                 DO UPDATE SET config_sealed = excluded.config_sealed, \
                 updated_at = excluded.updated_at",
            )
            .bind(org.0)
            .bind(sealed)
            .bind(ts(now))
            .execute(p)
            .await
        })?;
        Ok(())
    }

    /// Removes the organisation's SAML settings; `false` when there were none.
    pub async fn delete_saml_configuration(&self, org: OrgId) -> Result<bool> {
        let n = affected!(self, |p| {
            sqlx::query("DELETE FROM saml_configurations WHERE org_id = $1")
                .bind(org.0)
                .execute(p)
                .await
        })?;
        Ok(n > 0)
    }

    /// Records an accepted assertion ID until `expires_at`. `false` when the ID was already
    /// used (a replay). Rows past their expiry are swept first: an assertion cannot be
    /// accepted after it expires anyway.
    pub async fn claim_saml_assertion(
        &self,
        org: OrgId,
        assertion_id: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        affected!(self, |p| {
            sqlx::query("DELETE FROM saml_replays WHERE expires_at < $1")
                .bind(ts(now))
                .execute(p)
                .await
        })?;
        let n = affected!(self, |p| {
            sqlx::query(
                "INSERT INTO saml_replays (org_id, assertion_id, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id, assertion_id) DO NOTHING",
            )
            .bind(org.0)
            .bind(assertion_id)
            .bind(ts(expires_at))
            .execute(p)
            .await
        })?;
        Ok(n == 1)
    }
}
