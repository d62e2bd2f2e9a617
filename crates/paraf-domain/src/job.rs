//! Background jobs: queued work with leases, retries with exponential backoff and dead
//! letters. The store keeps them; consumers (mail, webhooks) live in `paraf-server`.
//!
//! Life of a job: `queued` → leased by a worker (`leased`, with an owner and a lease expiry;
//! `attempts` counts leases) → `done`, or back to `queued` with `run_at` pushed back by
//! [`RetryPolicy::delay`] on failure, or `dead` once `attempts` reaches `max_attempts`.
//! A lease that expires (crashed worker) makes the job leasable again: no job is lost.

use std::fmt;

use chrono::Duration;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::ids::JobId;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for `run_at`.
    Queued,
    /// Held by a worker until `lease_until`.
    Leased,
    /// Finished successfully.
    Done,
    /// Failed `max_attempts` times; kept for inspection (dead letter).
    Dead,
}

impl JobStatus {
    /// Name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Leased => "leased",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }

    /// The inverse of [`JobStatus::as_str`].
    pub fn from_db(s: &str) -> Option<JobStatus> {
        [
            JobStatus::Queued,
            JobStatus::Leased,
            JobStatus::Done,
            JobStatus::Dead,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How often and how patiently a job is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    /// Attempts (leases) before the job is declared dead; at least 1.
    pub max_attempts: u32,
    /// Delay after the first failure; doubled after each further failure.
    pub base_delay: Duration,
    /// Upper bound of the delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts, 10 s doubling up to 1 hour (10 s, 20 s, 40 s, … ≈ 21 min in all).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::seconds(10),
            max_delay: Duration::hours(1),
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt after the `attempt`-th attempt failed (1-based):
    /// `min(base · 2^(attempt-1), max)`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let factor = 1i32 << exp;
        let d = self
            .base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay);
        d.min(self.max_delay)
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: JobId,
    /// The consumer it is for (`mail`, `webhook`, …).
    pub queue: String,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    /// Leases so far (this one included while leased).
    pub attempts: u32,
    pub retry: RetryPolicy,
    /// Not before.
    pub run_at: Timestamp,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub queue: String,
    pub payload: serde_json::Value,
    pub run_at: Timestamp,
    pub retry: RetryPolicy,
    /// Queued at most once under this key: a second enqueue with the same key is a no-op
    /// that gives the first job's id (a recovery repeating what a crashed process began).
    pub dedup_key: Option<String>,
}

impl NewJob {
    /// A job for `queue` to run at `run_at` with the default retry policy.
    pub fn new(queue: impl Into<String>, payload: serde_json::Value, run_at: Timestamp) -> NewJob {
        NewJob {
            queue: queue.into(),
            payload,
            run_at,
            retry: RetryPolicy::default(),
            dedup_key: None,
        }
    }
}

/// What `Store::fail_job` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum FailOutcome {
    /// Queued again, to run at `run_at`.
    Retry { attempts: u32, run_at: Timestamp },
    /// Out of attempts: the job is `dead`.
    Dead { attempts: u32 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        let secs: Vec<i64> = (1..=10).map(|a| p.delay(a).num_seconds()).collect();
        assert_eq!(secs, vec![10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
        assert_eq!(p.delay(200).num_seconds(), 3600);
    }
}
