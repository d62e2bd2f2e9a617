//! The job queue: enqueue, lease, complete, fail with exponential backoff, dead letters,
//! release on shutdown. Several workers and several server instances share it safely.
//!
//! **Leasing, PostgreSQL**: one `UPDATE … WHERE id = (SELECT id … ORDER BY run_at, id
//! LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING …`: concurrent workers skip each other's
//! candidate rows instead of waiting, and each gets a different job.
//! **Leasing, SQLite**: the same statement without `FOR UPDATE SKIP LOCKED`; a single write
//! statement holds SQLite's database write lock from its first step, so two workers (even in
//! two processes) are serialised and the second sees the first's lease.
//!
//! A job is leasable when `queued` and `run_at <= now`, or `leased` with `lease_until <= now`
//! (its worker crashed or hung: the job is not lost). Each lease counts one attempt. A job
//! whose lease expired after its last allowed attempt is declared `dead` rather than leased
//! again (a job that crashes its worker cannot loop forever).

use chrono::Duration;
use paraf_domain::{
    DomainError, Entity, FailOutcome, Job, JobId, JobStatus, NewJob, RetryPolicy, Timestamp,
};

use crate::{affected, from_ts, from_ts_opt, ts, with_pool, Result, Store, StoreError};

const COLS: &str =
    "id, queue, payload, status, attempts, max_attempts, base_delay_ms, max_delay_ms, \
    run_at, lease_owner, lease_until, last_error, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    queue: String,
    payload: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
    base_delay_ms: i64,
    max_delay_ms: i64,
    run_at: i64,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn into_domain(self) -> Result<Job> {
        let bad = |f: &str| StoreError::corrupt(format!("job {}: {f}", self.id));
        Ok(Job {
            id: JobId(self.id),
            payload: serde_json::from_str(&self.payload).map_err(|_| bad("payload"))?,
            status: JobStatus::from_db(&self.status).ok_or_else(|| bad("status"))?,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            retry: RetryPolicy {
                max_attempts: u32::try_from(self.max_attempts).unwrap_or(1),
                base_delay: Duration::milliseconds(self.base_delay_ms),
                max_delay: Duration::milliseconds(self.max_delay_ms),
            },
            queue: self.queue,
            run_at: from_ts(self.run_at),
            lease_owner: self.lease_owner,
            lease_until: from_ts_opt(self.lease_until),
            last_error: self.last_error,
            created_at: from_ts(self.created_at),
            updated_at: from_ts(self.updated_at),
        })
    }
}

fn lease_lost(id: JobId) -> StoreError {
    DomainError::conflict(format!(
        "job {id} is not leased by this worker (lease lost)"
    ))
    .into()
}

impl Store {
    /// Adds a job; returns its id.
    pub async fn enqueue(&self, job: &NewJob, now: Timestamp) -> Result<JobId> {
        let payload =
            serde_json::to_string(&job.payload).map_err(|e| StoreError::corrupt(e.to_string()))?;
        let inserted: Option<(i64,)> = with_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO jobs (queue, payload, status, attempts, max_attempts, base_delay_ms, max_delay_ms, \
             run_at, created_at, updated_at, dedup_key) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $7, $7, $8) \
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id"
        )
        .bind(&job.queue)
        .bind(&payload)
        .bind(i64::from(job.retry.max_attempts.max(1)))
        .bind(job.retry.base_delay.num_milliseconds())
        .bind(job.retry.max_delay.num_milliseconds())
        .bind(ts(job.run_at))
        .bind(ts(now))
        .bind(&job.dedup_key)
        .fetch_optional(p)
        .await
        })?;
        if let Some((id,)) = inserted {
            return Ok(JobId(id));
        }
        // Already queued under this key.
        let (id,): (i64,) = with_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM jobs WHERE dedup_key = $1"
        )
        .bind(&job.dedup_key)
        .fetch_one(p)
        .await)?;
        Ok(JobId(id))
    }

    /// Leases the next ready job of `queue` for `worker_id` until `now + lease`, or `None`.
    pub async fn lease(
        &self,
        queue: &str,
        worker_id: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Option<Job>> {
        let now_us = ts(now);
        // Crashed past the last attempt: dead letter, not another lease.
        affected!(self, |p| {
            sqlx::query(
            "UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_until = NULL, updated_at = $2, \
             last_error = COALESCE(last_error, 'lease expired on the last attempt') \
             WHERE queue = $1 AND status = 'leased' AND lease_until <= $2 AND attempts >= max_attempts"
        )
        .bind(queue)
        .bind(now_us)
        .execute(p)
        .await
        })?;
        let candidate = "SELECT id FROM jobs WHERE queue = $1 AND \
             ((status = 'queued' AND run_at <= $4) OR (status = 'leased' AND lease_until <= $4)) \
             ORDER BY run_at, id LIMIT 1";
        let sql = |lock: &str| {
            format!(
                "UPDATE jobs SET status = 'leased', lease_owner = $2, lease_until = $3, \
                 attempts = attempts + 1, updated_at = $4 WHERE id = ({candidate}{lock}) RETURNING {COLS}"
            )
        };
        let row: Option<Row> = match &self.pool {
            crate::Pool::Sqlite(p) => {
                sqlx::query_as(&sql(""))
                    .bind(queue)
                    .bind(worker_id)
                    .bind(ts(now + lease))
                    .bind(now_us)
                    .fetch_optional(p)
                    .await?
            }
            crate::Pool::Postgres(p) => {
                sqlx::query_as(&sql(" FOR UPDATE SKIP LOCKED"))
                    .bind(queue)
                    .bind(worker_id)
                    .bind(ts(now + lease))
                    .bind(now_us)
                    .fetch_optional(p)
                    .await?
            }
        };
        row.map(Row::into_domain).transpose()
    }

    /// Marks a leased job done. `Conflict` if `worker_id` no longer holds it.
    pub async fn complete(&self, id: JobId, worker_id: &str, now: Timestamp) -> Result<()> {
        let n = affected!(self, |p| {
            sqlx::query(
            "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_until = NULL, updated_at = $3 \
             WHERE id = $1 AND status = 'leased' AND lease_owner = $2"
        )
        .bind(id.0)
        .bind(worker_id)
        .bind(ts(now))
        .execute(p)
        .await
        })?;
        if n == 0 {
            return Err(lease_lost(id));
        }
        Ok(())
    }

    /// Records a failed attempt: the job is queued again after the policy's backoff
    /// (`base · 2^(attempts-1)`, capped), or becomes `dead` once `max_attempts` attempts
    /// failed. `Conflict` if `worker_id` no longer holds it.
    pub async fn fail(
        &self,
        id: JobId,
        worker_id: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<FailOutcome> {
        let job = self.job(id).await?;
        if job.status != JobStatus::Leased || job.lease_owner.as_deref() != Some(worker_id) {
            return Err(lease_lost(id));
        }
        let error: String = error.chars().take(2000).collect();
        let (outcome, status, run_at) = if job.attempts >= job.retry.max_attempts {
            (
                FailOutcome::Dead {
                    attempts: job.attempts,
                },
                "dead",
                job.run_at,
            )
        } else {
            let run_at = now + job.retry.delay(job.attempts);
            (
                FailOutcome::Retry {
                    attempts: job.attempts,
                    run_at,
                },
                "queued",
                run_at,
            )
        };
        let n = affected!(self, |p| {
            sqlx::query(
            "UPDATE jobs SET status = $4, run_at = $5, last_error = $6, lease_owner = NULL, lease_until = NULL, \
             updated_at = $7 WHERE id = $1 AND status = 'leased' AND lease_owner = $2 AND attempts = $3"
        )
        .bind(id.0)
        .bind(worker_id)
        .bind(i64::from(job.attempts))
        .bind(status)
        .bind(ts(run_at))
        .bind(&error)
        .bind(ts(now))
        .execute(p)
        .await
        })?;
        if n == 0 {
            return Err(lease_lost(id));
        }
        Ok(outcome)
    }

    /// Extends a lease the worker still holds (long jobs). `Conflict` if lost.
    pub async fn extend_lease(
        &self,
        id: JobId,
        worker_id: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE jobs SET lease_until = $3, updated_at = $4 \
             WHERE id = $1 AND status = 'leased' AND lease_owner = $2"
        )
        .bind(id.0)
        .bind(worker_id)
        .bind(ts(now + lease))
        .bind(ts(now))
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(lease_lost(id));
        }
        Ok(())
    }

    /// Graceful shutdown: every job leased by `worker_id` goes back to `queued`, ready now,
    /// and the attempt is not counted. Returns how many were released.
    pub async fn release(&self, worker_id: &str, now: Timestamp) -> Result<u64> {
        let n = affected!(self, |p| sqlx::query(
            "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, \
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
             run_at = CASE WHEN run_at < $2 THEN run_at ELSE $2 END, updated_at = $2 \
             WHERE status = 'leased' AND lease_owner = $1"
        )
        .bind(worker_id)
        .bind(ts(now))
        .execute(p)
        .await)?;
        Ok(n)
    }

    /// One job.
    pub async fn job(&self, id: JobId) -> Result<Job> {
        let sql = format!("SELECT {COLS} FROM jobs WHERE id = $1");
        let row: Option<Row> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Job))?.into_domain()
    }

    /// Jobs, newest first, optionally of one queue and/or status (admin, metrics).
    pub async fn list_jobs(
        &self,
        queue: Option<&str>,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {COLS} FROM jobs WHERE ($1 IS NULL OR queue = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<Row> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(queue)
            .bind(status.map(JobStatus::as_str))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Row::into_domain).collect()
    }

    /// How many jobs are in each (queue, status) (for `/metrics`).
    pub async fn job_counts(&self) -> Result<Vec<(String, JobStatus, u64)>> {
        let rows: Vec<(String, String, i64)> = with_pool!(self, |p| {
            sqlx::query_as(
            "SELECT queue, status, COUNT(*) FROM jobs GROUP BY queue, status ORDER BY queue, status"
        )
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|(q, s, n)| {
                let status = JobStatus::from_db(&s)
                    .ok_or_else(|| StoreError::corrupt(format!("job status {s:?}")))?;
                Ok((q, status, crate::to_u64(n)))
            })
            .collect()
    }
}
