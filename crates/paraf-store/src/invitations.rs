//! Invitations of colleagues into an organisation: the link's token is stored as its SHA-256;
//! accepting is a compare-and-set (a link is used once).

use paraf_domain::{Email, Entity, OrgId, Role, Timestamp};

use crate::{affected, from_ts, from_ts_opt, ts, with_pool, Result, Store, StoreError};

/// An invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub org: OrgId,
    pub email: Email,
    pub role: Role,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

type Row = (i64, i64, String, String, i64, Option<i64>, i64);

fn into_invitation(r: Row) -> Result<Invitation> {
    let (id, org, email, role, expires, accepted, created) = r;
    Ok(Invitation {
        id,
        org: OrgId(org),
        email: Email::parse(&email).map_err(|_| StoreError::corrupt("invitation e-mail"))?,
        role: Role::parse(&role).map_err(|_| StoreError::corrupt("invitation role"))?,
        expires_at: from_ts(expires),
        accepted_at: from_ts_opt(accepted),
        created_at: from_ts(created),
    })
}

const COLS: &str = "id, org_id, email, role, expires_at, accepted_at, created_at";

impl Store {
    /// Records an invitation of `email` into `org` as `role`, its link's token hashed.
    pub async fn create_invitation(
        &self,
        org: OrgId,
        email: &Email,
        role: Role,
        token_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        affected!(self, |p| sqlx::query(
            "INSERT INTO invitations (org_id, email, role, token_hash, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(org.0)
        .bind(email.as_str())
        .bind(role.as_str())
        .bind(token_hash)
        .bind(ts(expires_at))
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(())
    }

    /// The invitation whose link token hashes to `token_hash`.
    pub async fn invitation_by_token_hash(&self, token_hash: &str) -> Result<Invitation> {
        let sql = format!("SELECT {COLS} FROM invitations WHERE token_hash = $1");
        let row: Option<Row> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        into_invitation(row.ok_or(StoreError::not_found(Entity::User))?)
    }

    /// Marks an invitation used; `false` if it was already.
    pub async fn accept_invitation(&self, id: i64, now: Timestamp) -> Result<bool> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL"
        )
        .bind(id)
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(n == 1)
    }

    /// The organisation's invitations, newest first.
    pub async fn invitations(&self, org: OrgId, limit: u32) -> Result<Vec<Invitation>> {
        let sql =
            format!("SELECT {COLS} FROM invitations WHERE org_id = $1 ORDER BY id DESC LIMIT $2");
        let rows: Vec<Row> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(into_invitation).collect()
    }
}
