//! What the shared HTTP layer needs from the application besides the faces' services:
//! authenticating the credentials a request presents, OAuth2 grants, plan rate counters,
//! request-id replay records, the job queue and its consumers' records (mail, webhooks),
//! housekeeping and health. Each is one store call at the core's "now": the point is the
//! boundary — `paraf-http` reaches the data only through the core.

use std::net::IpAddr;

use chrono::Duration;
use paraf_domain::{
    Claim, Email, FailOutcome, IdempotencyKey, IssuedToken, IssuedTokens, Job, JobId, JobStatus,
    Mail, MailId, MailStatus, NewJob, NewWebhookDelivery, OrgId, Organisation, Principal,
    QuotaKind, RateWindow, StoredResponse, Timestamp, User, UserId, WebhookEndpoint,
    WebhookEndpointId,
};

use crate::error::CoreError;
use crate::Core;

type Result<T> = std::result::Result<T, CoreError>;

impl Core {
    // ------------------------------------------------------------ credentials

    /// The principal of an API token.
    pub async fn authenticate_api_token(&self, presented: &str) -> Result<Principal> {
        // Keyed by the token's SHA-256: the cache holds no secret.
        let key: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(presented.as_bytes()).into();
        if let Some(p) = self.hot_tokens.get(&key) {
            return Ok(p);
        }
        let p = self
            .store
            .authenticate_api_token(presented, self.now())
            .await?;
        self.hot_tokens.put(key, p.clone());
        Ok(p)
    }

    /// The principal of an OAuth2 access token.
    pub async fn authenticate_access_token(&self, presented: &str) -> Result<Principal> {
        Ok(self
            .store
            .authenticate_access_token(presented, self.now())
            .await?)
    }

    /// The principal of a session cookie.
    pub async fn authenticate_session(&self, presented: &str) -> Result<Principal> {
        Ok(self
            .store
            .authenticate_console_session(presented, self.now())
            .await?)
    }

    /// The principal of a Basic application credential used from `ip`.
    pub async fn authenticate_app_credential(
        &self,
        username: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<Principal> {
        Ok(self
            .store
            .verify_app_credential(username, password, ip, self.now())
            .await?)
    }

    /// The user a password belongs to in `org`.
    pub async fn verify_password(&self, org: OrgId, email: &Email, password: &str) -> Result<User> {
        Ok(self
            .store
            .verify_user_password(org, email, password)
            .await?)
    }

    /// A session (cookie token) for `user`, of any role.
    pub async fn start_session(&self, org: OrgId, user: UserId) -> Result<IssuedToken> {
        Ok(self
            .store
            .create_console_session(org, user, &self.token_lifetimes(), self.now())
            .await?)
    }

    /// OAuth2 password grant.
    pub async fn password_grant(
        &self,
        org: OrgId,
        email: &Email,
        password: &str,
    ) -> Result<IssuedTokens> {
        Ok(self
            .store
            .oauth_password_grant(org, email, password, &self.token_lifetimes(), self.now())
            .await?)
    }

    /// OAuth2 refresh grant (the refresh token rotates; a reused one revokes its family).
    pub async fn refresh_grant(&self, refresh_token: &str) -> Result<IssuedTokens> {
        Ok(self
            .store
            .refresh_tokens(refresh_token, &self.token_lifetimes(), self.now())
            .await?)
    }

    /// Revokes the family of a presented token (logout).
    pub async fn revoke_family(&self, presented: &str) -> Result<()> {
        Ok(self
            .store
            .revoke_token_family_of(presented, self.now())
            .await?)
    }

    /// An organisation by id.
    pub async fn organisation(&self, org: OrgId) -> Result<Organisation> {
        if let Some(o) = self.hot_orgs.get(&org) {
            return Ok(o);
        }
        let o = self.store.organisation(org).await?;
        self.hot_orgs.put(org, o.clone());
        Ok(o)
    }

    /// A user of `org`.
    pub async fn user(&self, org: OrgId, user: UserId) -> Result<User> {
        if let Some(u) = self.hot_users.get(&(org, user)) {
            return Ok(u);
        }
        let u = self.store.user(org, user).await?;
        self.hot_users.put((org, user), u.clone());
        Ok(u)
    }

    // ------------------------------------------------------------ counters and replay

    /// Counts a hit in `window` (starting at `start`); returns the count.
    pub async fn rate_hit(&self, key: &str, window: RateWindow, start: Timestamp) -> Result<u64> {
        Ok(self.store.hit(key, window, start, self.now()).await?)
    }

    /// Counts a request of `key` in `window` against `limit` (the plan's rate limits): from
    /// this instance's reservation when it has one (see [`crate::hot`]); the request's count.
    pub async fn rate_count(
        &self,
        key: &str,
        window: RateWindow,
        start: Timestamp,
        limit: u64,
    ) -> Result<u64> {
        match self.leases.take(key, window, start, limit) {
            crate::hot::Take::Counted(c) => Ok(c),
            crate::hot::Take::Reserve(block) => {
                let count = self
                    .store
                    .hit_by(key, window, start, block, self.now())
                    .await?;
                Ok(self.leases.reserved(key, window, start, block, count))
            }
        }
    }

    /// A window's count as this instance knows it, else the database's.
    pub async fn rate_seen(&self, key: &str, window: RateWindow, start: Timestamp) -> Result<u64> {
        match self.leases.known(key, window, start) {
            Some(c) => Ok(c),
            None => self.rate_peek(key, window, start).await,
        }
    }

    /// The count in `window` without counting.
    pub async fn rate_peek(&self, key: &str, window: RateWindow, start: Timestamp) -> Result<u64> {
        Ok(self.store.peek_hits(key, window, start).await?)
    }

    /// Adds to an organisation's quota usage.
    pub async fn count_usage(&self, org: OrgId, kind: QuotaKind, amount: u64) -> Result<()> {
        let period = paraf_domain::usage_period(self.now());
        if kind == QuotaKind::ApiRequests {
            // One per request: added up in memory, written every half second.
            self.usage.add_requests(org, &period, amount);
            return Ok(());
        }
        self.store
            .add_usage(
                org,
                kind,
                i64::try_from(amount).unwrap_or(i64::MAX),
                &period,
            )
            .await?;
        Ok(())
    }

    /// Claims a request id for replay (or finds its recorded reply).
    pub async fn claim_request(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        ttl: Duration,
    ) -> Result<Claim> {
        Ok(self
            .store
            .claim_request(key, fingerprint, self.now(), ttl)
            .await?)
    }

    /// Records the reply of a claimed request.
    pub async fn record_reply(&self, key: &IdempotencyKey, reply: &StoredResponse) -> Result<()> {
        Ok(self.store.put_response(key, reply, self.now()).await?)
    }

    /// Gives a claim up (the request failed: it may be retried).
    pub async fn abandon_claim(&self, key: &IdempotencyKey) -> Result<()> {
        Ok(self.store.abandon_claim(key).await?)
    }

    // ------------------------------------------------------------ jobs

    /// Leases the next due job of `queue` for `worker`.
    pub async fn lease_job(
        &self,
        queue: &str,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<Job>> {
        Ok(self.store.lease(queue, worker, self.now(), lease).await?)
    }

    /// The job is done.
    pub async fn complete_job(&self, id: JobId, worker: &str) -> Result<()> {
        Ok(self.store.complete(id, worker, self.now()).await?)
    }

    /// The attempt failed: retried with backoff, or dead.
    pub async fn fail_job(&self, id: JobId, worker: &str, error: &str) -> Result<FailOutcome> {
        Ok(self.store.fail(id, worker, error, self.now()).await?)
    }

    /// Releases every job `worker` holds (graceful stop).
    pub async fn release_jobs(&self, worker: &str) -> Result<u64> {
        Ok(self.store.release(worker, self.now()).await?)
    }

    /// Jobs by queue and status (metrics).
    pub async fn job_counts(&self) -> Result<Vec<(String, JobStatus, u64)>> {
        Ok(self.store.job_counts().await?)
    }

    /// Enqueues a job.
    pub async fn enqueue(&self, job: &NewJob) -> Result<JobId> {
        let id = self.store.enqueue(job, self.now()).await?;
        self.jobs_ready.notify_one();
        Ok(id)
    }

    /// A queued mail.
    pub async fn mail(&self, id: MailId) -> Result<Mail> {
        Ok(self.store.mail(id).await?)
    }

    /// Records what became of a mail.
    pub async fn mark_mail(
        &self,
        id: MailId,
        status: MailStatus,
        error: Option<&str>,
    ) -> Result<()> {
        self.store.mark_mail(id, status, error, self.now()).await?;
        Ok(())
    }

    /// The newest mails (of `org`, or all).
    pub async fn mails(&self, org: Option<OrgId>, limit: u32) -> Result<Vec<Mail>> {
        Ok(self.store.list_mail(org, limit).await?)
    }

    /// A webhook endpoint of `org`.
    pub async fn webhook_endpoint(
        &self,
        org: OrgId,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint> {
        Ok(self.store.webhook_endpoint(org, id).await?)
    }

    /// Records a webhook delivery attempt.
    pub async fn record_webhook_delivery(&self, d: &NewWebhookDelivery) -> Result<()> {
        self.store.record_webhook_delivery(d).await?;
        Ok(())
    }

    // ------------------------------------------------------------ housekeeping and health

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// Drops replay records older than `keep`, rate counters older than two months and
    /// one-time codes older than a day; expires signed documents never downloaded within
    /// `document_days` (rows, then files no other pending document shares). Failures are
    /// logged: the next round tries again.
    pub async fn housekeeping(&self, keep: Duration, document_days: i64) {
        let now = self.now();
        if let Err(e) = self.store.prune_idempotency(now - keep).await {
            tracing::warn!(error = %e, "pruning idempotency records failed");
        }
        if let Err(e) = self
            .store
            .prune_rate_counters(now - Duration::days(62))
            .await
        {
            tracing::warn!(error = %e, "pruning rate counters failed");
        }
        if let Err(e) = self.store.prune_otp_codes(now - Duration::days(1)).await {
            tracing::warn!(error = %e, "pruning one-time codes failed");
        }
        self.expire_signed_documents(now - Duration::days(document_days))
            .await;
    }

    /// Deletes signed documents never downloaded since before `before`, rows then files.
    pub async fn expire_signed_documents(&self, before: Timestamp) {
        match self.store.expire_signed_documents(before).await {
            Ok(blobs) => {
                for b in blobs {
                    if self.store.signed_blob_pending(&b).await.unwrap_or(true) {
                        continue;
                    }
                    if let Err(e) = self.blobs.delete(&b).await {
                        tracing::warn!(error = %e, blob = %b, "could not delete an expired document");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "expiring signed documents failed"),
        }
    }
}
