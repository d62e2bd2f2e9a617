//! Idempotency records for `x-request-id`: claim, act, put the response; repeated ids
//! replay it. Semantics are documented in `paraf_domain::idempotency`.
//!
//! The claim is one `INSERT … ON CONFLICT DO NOTHING` on the primary key
//! (credential key, request id), so exactly one concurrent caller wins on either backend. A
//! pending claim past its `claim_expires_at` (holder crashed) is taken over by a guarded
//! `UPDATE`, which again only one caller can win.

use chrono::Duration;
use paraf_domain::{Claim, DomainError, Entity, IdempotencyKey, StoredResponse, Timestamp};

use crate::{affected, ts, with_pool, Result, Store, StoreError};

#[derive(sqlx::FromRow)]
struct Row {
    fingerprint: String,
    state: String,
    claim_expires_at: i64,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<Vec<u8>>,
}

fn check_key(key: &IdempotencyKey) -> Result<()> {
    let n = key.request_id.chars().count();
    if n == 0 || n > 200 {
        return Err(DomainError::invalid("x-request-id", "must be 1 to 200 characters").into());
    }
    Ok(())
}

fn to_response(row: &Row) -> Result<StoredResponse> {
    let headers: Vec<(String, String)> = match &row.headers {
        Some(h) => serde_json::from_str(h)
            .map_err(|_| StoreError::corrupt("idempotency record: headers"))?,
        None => Vec::new(),
    };
    Ok(StoredResponse {
        status: row
            .status
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| StoreError::corrupt("idempotency record: status"))?,
        headers,
        body: row.body.clone().unwrap_or_default(),
    })
}

impl Store {
    /// Claims a request id for a credential (see `paraf_domain::idempotency`). `fingerprint`
    /// identifies the request's content; `ttl` is how long a pending claim protects a request
    /// being handled before another caller may take it over.
    pub async fn claim_request(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Claim> {
        check_key(key)?;
        let expires = ts(now + ttl);
        let inserted = affected!(self, |p| {
            sqlx::query(
            "INSERT INTO idempotency_records (credential_key, request_id, fingerprint, state, claim_expires_at, created_at) \
             VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT (credential_key, request_id) DO NOTHING"
        )
        .bind(key.credential.as_str())
        .bind(&key.request_id)
        .bind(fingerprint)
        .bind(expires)
        .bind(ts(now))
        .execute(p)
        .await
        })?;
        if inserted == 1 {
            return Ok(Claim::Acquired);
        }
        let Some(row) = self.idempotency_row(key).await? else {
            // Abandoned between our insert and read: let the client retry.
            return Ok(Claim::InProgress);
        };
        if row.fingerprint != fingerprint {
            return Ok(Claim::Mismatch);
        }
        if row.state == "done" {
            return Ok(Claim::Completed(to_response(&row)?));
        }
        if row.claim_expires_at <= ts(now) {
            let taken = affected!(self, |p| {
                sqlx::query(
                "UPDATE idempotency_records SET claim_expires_at = $3 \
                 WHERE credential_key = $1 AND request_id = $2 AND state = 'pending' AND claim_expires_at <= $4"
            )
            .bind(key.credential.as_str())
            .bind(&key.request_id)
            .bind(expires)
            .bind(ts(now))
            .execute(p)
            .await
            })?;
            if taken == 1 {
                return Ok(Claim::Acquired);
            }
        }
        Ok(Claim::InProgress)
    }

    async fn idempotency_row(&self, key: &IdempotencyKey) -> Result<Option<Row>> {
        Ok(with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT fingerprint, state, claim_expires_at, status, headers, body FROM idempotency_records \
             WHERE credential_key = $1 AND request_id = $2"
        )
        .bind(key.credential.as_str())
        .bind(&key.request_id)
        .fetch_optional(p)
        .await
        })?)
    }

    /// Records the response of a claimed request (the first put wins; a later put for the
    /// same key is a `Conflict`). `NotFound` if there is no claim.
    pub async fn put_response(
        &self,
        key: &IdempotencyKey,
        response: &StoredResponse,
        now: Timestamp,
    ) -> Result<()> {
        check_key(key)?;
        let headers = serde_json::to_string(&response.headers)
            .map_err(|e| StoreError::corrupt(e.to_string()))?;
        let n = affected!(self, |p| {
            sqlx::query(
            "UPDATE idempotency_records SET state = 'done', status = $3, headers = $4, body = $5, completed_at = $6 \
             WHERE credential_key = $1 AND request_id = $2 AND state = 'pending'"
        )
        .bind(key.credential.as_str())
        .bind(&key.request_id)
        .bind(i64::from(response.status))
        .bind(&headers)
        .bind(&response.body)
        .bind(ts(now))
        .execute(p)
        .await
        })?;
        if n == 0 {
            return match self.idempotency_row(key).await? {
                Some(_) => Err(DomainError::conflict(
                    "a response is already recorded for this request id",
                )
                .into()),
                None => Err(StoreError::not_found(Entity::IdempotencyRecord)),
            };
        }
        Ok(())
    }

    /// The recorded response of a request id, if it completed.
    pub async fn get_response(&self, key: &IdempotencyKey) -> Result<Option<StoredResponse>> {
        match self.idempotency_row(key).await? {
            Some(row) if row.state == "done" => Ok(Some(to_response(&row)?)),
            _ => Ok(None),
        }
    }

    /// Gives up a pending claim (the handler failed without a response worth replaying), so
    /// the client may retry with the same id. Completed records are kept.
    pub async fn abandon_claim(&self, key: &IdempotencyKey) -> Result<()> {
        affected!(self, |p| {
            sqlx::query(
            "DELETE FROM idempotency_records WHERE credential_key = $1 AND request_id = $2 AND state = 'pending'"
        )
        .bind(key.credential.as_str())
        .bind(&key.request_id)
        .execute(p)
        .await
        })?;
        Ok(())
    }

    /// Deletes records created before `before` (housekeeping). Returns how many.
    pub async fn prune_idempotency(&self, before: Timestamp) -> Result<u64> {
        let n = affected!(self, |p| sqlx::query(
            "DELETE FROM idempotency_records WHERE created_at < $1"
        )
        .bind(ts(before))
        .execute(p)
        .await)?;
        Ok(n)
    }
}
