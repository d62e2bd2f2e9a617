//! Rate-limit counters, shared by every server instance on the same database: one row per
//! (credential key, window kind, window start), incremented by a single atomic UPSERT.

use paraf_domain::{RateWindow, Timestamp};

use crate::{affected, to_u64, ts, with_pool, Result, Store};

impl Store {
    /// Counts one request of `credential_key` in the window starting at `window_start`
    /// (use [`RateWindow::start`]) and returns the count including this one. Atomic: two
    /// instances hitting the same counter at once get distinct counts.
    pub async fn hit(
        &self,
        credential_key: &str,
        window: RateWindow,
        window_start: Timestamp,
        now: Timestamp,
    ) -> Result<u64> {
        self.hit_by(credential_key, window, window_start, 1, now)
            .await
    }

    /// Counts `n` requests at once (an instance reserving a block of its rate budget); the
    /// count including them.
    pub async fn hit_by(
        &self,
        credential_key: &str,
        window: RateWindow,
        window_start: Timestamp,
        n: u64,
        now: Timestamp,
    ) -> Result<u64> {
        let (count,): (i64,) = with_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO rate_counters (credential_key, window_kind, window_start, count, updated_at) \
             VALUES ($1, $2, $3, $5, $4) \
             ON CONFLICT (credential_key, window_kind, window_start) \
             DO UPDATE SET count = rate_counters.count + excluded.count, updated_at = excluded.updated_at \
             RETURNING count"
        )
        .bind(credential_key)
        .bind(window.as_str())
        .bind(ts(window_start))
        .bind(ts(now))
        .bind(crate::to_i64(n))
        .fetch_one(p)
        .await
        })?;
        Ok(to_u64(count))
    }

    /// The current count of a window without counting (0 if none).
    pub async fn peek_hits(
        &self,
        credential_key: &str,
        window: RateWindow,
        window_start: Timestamp,
    ) -> Result<u64> {
        let row: Option<(i64,)> = with_pool!(self, |p| sqlx::query_as(
            "SELECT count FROM rate_counters \
             WHERE credential_key = $1 AND window_kind = $2 AND window_start = $3"
        )
        .bind(credential_key)
        .bind(window.as_str())
        .bind(ts(window_start))
        .fetch_optional(p)
        .await)?;
        Ok(row.map_or(0, |(c,)| to_u64(c)))
    }

    /// Deletes counters of windows that started before `before` (housekeeping; keep at
    /// least the current month). Returns how many were deleted.
    pub async fn prune_rate_counters(&self, before: Timestamp) -> Result<u64> {
        let n = affected!(self, |p| sqlx::query(
            "DELETE FROM rate_counters WHERE window_start < $1"
        )
        .bind(ts(before))
        .execute(p)
        .await)?;
        Ok(n)
    }
}
