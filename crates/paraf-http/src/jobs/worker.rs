//! [`WorkerPool`]: `workers` tasks, each with its own worker id, polling the queues (`mail`,
//! `webhook`) for leased jobs, plus one housekeeping task (ending expired envelopes every
//! minute; hourly, pruning old rate-limit counters,
//! one-time codes, idempotency records and undownloaded signed documents). On shutdown each worker finishes the job it holds, then gives back
//! any lease it still has (`Store::release`), so another instance can take the job at once.
//! A worker that dies without releasing (killed process) loses its lease when it expires.

use std::sync::Arc;
use std::time::Duration;

use paraf_domain::{FailOutcome, Job};
use tokio::task::JoinSet;

use super::mail::{self, Mailer, MAIL_QUEUE};
use super::webhook::{self, WEBHOOK_QUEUE};
use crate::state::AppState;

struct Ctx {
    state: AppState,
    mailer: Option<Mailer>,
}

/// The running workers.
pub struct WorkerPool {
    tasks: JoinSet<()>,
    ids: Vec<String>,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("ids", &self.ids)
            .finish()
    }
}

fn instance_tag(state: &AppState) -> String {
    let mut b = [0u8; 4];
    let _ = state.entropy.fill(&mut b);
    format!("{}-{}", std::process::id(), hex::encode(b))
}

impl WorkerPool {
    /// Starts `state.config.workers` workers and the housekeeping task.
    pub fn start(state: AppState) -> Result<WorkerPool, String> {
        let mailer = match &state.config.smtp {
            Some(smtp) => Some(Mailer::new(smtp, &state.config.mail_from)?),
            None => None,
        };
        let ctx = Arc::new(Ctx {
            state: state.clone(),
            mailer,
        });
        let tag = instance_tag(&state);
        let mut tasks = JoinSet::new();
        let mut ids = Vec::new();
        for n in 0..state.config.workers {
            let id = format!("worker-{tag}-{n}");
            ids.push(id.clone());
            tasks.spawn(run(ctx.clone(), id));
        }
        tasks.spawn(housekeeping(state));
        Ok(WorkerPool { tasks, ids })
    }

    /// The worker ids (they appear as lease owners in the job table).
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Waits for every task to end (after the shutdown trigger).
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn run(ctx: Arc<Ctx>, worker_id: String) {
    let state = &ctx.state;
    let lease =
        chrono::Duration::from_std(state.config.job_lease).unwrap_or(chrono::Duration::seconds(60));
    let queues = [MAIL_QUEUE, WEBHOOK_QUEUE, super::sms::QUEUE];
    tracing::debug!(worker = %worker_id, "worker started");
    while !state.shutdown.is_triggered() {
        let mut worked = false;
        for queue in queues {
            if state.shutdown.is_triggered() {
                break;
            }
            match state.core.lease_job(queue, &worker_id, lease).await {
                Ok(Some(job)) => {
                    worked = true;
                    run_one(&ctx, &worker_id, job).await;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(worker = %worker_id, error = %e, "leasing a job failed");
                }
            }
        }
        if !worked {
            tokio::select! {
                _ = tokio::time::sleep(state.config.job_poll) => {}
                _ = state.core.jobs_ready.notified() => {}
                _ = state.shutdown.wait() => {}
            }
        }
    }
    match state.core.release_jobs(&worker_id).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(worker = %worker_id, released = n, "released leased jobs"),
        Err(e) => tracing::warn!(worker = %worker_id, error = %e, "releasing leased jobs failed"),
    }
    tracing::debug!(worker = %worker_id, "worker stopped");
}

async fn run_one(ctx: &Ctx, worker_id: &str, job: Job) {
    let state = &ctx.state;
    let span = tracing::info_span!("job", job = %job.id, queue = %job.queue, attempt = job.attempts, worker = %worker_id);
    let _enter = span.enter();
    let result = if job.queue == WEBHOOK_QUEUE {
        webhook::run(state, &state.outbound, &job).await
    } else if job.queue == MAIL_QUEUE {
        mail::run(state, ctx.mailer.as_ref(), &job).await
    } else if job.queue == super::sms::QUEUE {
        super::sms::run(state, &job).await
    } else {
        Err(format!("no consumer for queue {:?}", job.queue))
    };
    match result {
        Ok(()) => {
            state.metrics.observe_job(&job.queue, "done");
            if let Err(e) = state.core.complete_job(job.id, worker_id).await {
                tracing::warn!(error = %e, "completing the job failed");
            }
        }
        Err(err) => match state.core.fail_job(job.id, worker_id, &err).await {
            Ok(FailOutcome::Retry { run_at, .. }) => {
                state.metrics.observe_job(&job.queue, "retry");
                tracing::info!(error = %err, retry_at = %run_at, "job failed; will retry");
            }
            Ok(FailOutcome::Dead { attempts }) => {
                state.metrics.observe_job(&job.queue, "dead");
                tracing::warn!(error = %err, attempts, "job failed for the last time (dead letter)");
                if job.queue == MAIL_QUEUE || job.queue == super::sms::QUEUE {
                    mail::give_up(state, &job, &err).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "recording the job failure failed"),
        },
    }
}

/// How long a signed PDF kept for one download (BSrE v1) waits for it.
pub const SIGNED_DOCUMENT_DAYS: i64 = 7;

/// Pruning, CA renewal and archive renewal (`ltv refresh`) run hourly; every minute, envelopes past their
/// expiry are ended and those whose sealing failed are sealed again.
async fn housekeeping(state: AppState) {
    let mut minute = 0u32;
    loop {
        if minute.is_multiple_of(60) {
            let keep = chrono::Duration::from_std(state.config.idempotency_ttl)
                .unwrap_or(chrono::Duration::days(1));
            // Signed PDFs waiting for their single download are kept a week (BSrE v1).
            state.core.housekeeping(keep, SIGNED_DOCUMENT_DAYS).await;
        }
        // An issuing CA another instance added (CA in the database) is loaded within a minute.
        if let Err(e) = state.core.pki.reload_if_renewed().await {
            tracing::warn!(error = %e, "looking for a renewed CA failed");
        }
        match state.core.expire_envelopes().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "envelopes expired"),
            Err(e) => tracing::warn!(error = %e, "expiring envelopes failed"),
        }
        match state.core.send_reminders().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(reminded = n, "reminders sent"),
            Err(e) => tracing::warn!(error = %e, "sending reminders failed"),
        }
        match state.core.retry_sealing().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(completed = n, "envelopes sealed on a retry"),
            Err(e) => tracing::warn!(error = %e, "retrying sealing failed"),
        }
        if minute % 60 == 1 {
            // The issuing CA renewed before it ends (and one another instance renewed loaded),
            // so that the archive renewals below have a TSA that outlasts the files'.
            match state.core.keep_ca_current().await {
                Ok(None) => {}
                Ok(Some(name)) => tracing::info!(issuing = %name, "CA renewed"),
                Err(e) => tracing::warn!(error = %e, "keeping the CA current failed"),
            }
            // Archive timestamps (B-LTA) of completed envelopes renewed before they expire.
            match state.core.refresh_archives().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(envelopes = n, "archive timestamps renewed"),
                Err(e) => tracing::warn!(error = %e, "renewing archive timestamps failed"),
            }
        }
        minute = minute.wrapping_add(1);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = state.shutdown.wait() => return,
        }
    }
}
