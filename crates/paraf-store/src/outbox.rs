//! The mail outbox (also the development outbox), webhook endpoints and the webhook
//! delivery log.
//!
//! `queue_mail` writes the outbox row and its `mail` job (payload `{"mail_id": <id>}`) in one
//! transaction: a mail is never recorded without the job that sends it, nor the reverse.

use paraf_domain::{
    DomainError, Entity, JobId, Mail, MailId, MailStatus, NewJob, NewMail, NewWebhookDelivery,
    NewWebhookEndpoint, OrgId, Timestamp, WebhookDelivery, WebhookDeliveryId, WebhookEndpoint,
    WebhookEndpointId,
};

use crate::{
    affected, from_ts, from_ts_opt, to_i64, to_u64, ts, with_pool, Result, Store, StoreError,
};

/// The queue of mail jobs.
pub const MAIL_QUEUE: &str = "mail";

const MAIL_COLS: &str =
    "id, org_id, to_addr, subject, body_text, body_html, status, created_at, sent_at, error";

#[derive(sqlx::FromRow)]
struct MailRow {
    id: i64,
    org_id: Option<i64>,
    to_addr: String,
    subject: String,
    body_text: String,
    body_html: Option<String>,
    status: String,
    created_at: i64,
    sent_at: Option<i64>,
    error: Option<String>,
}

impl MailRow {
    fn into_domain(self) -> Result<Mail> {
        Ok(Mail {
            id: MailId(self.id),
            org: self.org_id.map(OrgId),
            status: MailStatus::from_db(&self.status)
                .ok_or_else(|| StoreError::corrupt(format!("mail {}: status", self.id)))?,
            to: self.to_addr,
            subject: self.subject,
            text: self.body_text,
            html: self.body_html,
            created_at: from_ts(self.created_at),
            sent_at: from_ts_opt(self.sent_at),
            error: self.error,
        })
    }
}

const ENDPOINT_COLS: &str = "id, org_id, url, secret, description, enabled, created_at, events, \
     previous_secret, previous_secret_until";

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    org_id: i64,
    url: String,
    secret: String,
    description: String,
    enabled: bool,
    created_at: i64,
    events: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<i64>,
}

impl EndpointRow {
    fn into_domain(self) -> WebhookEndpoint {
        WebhookEndpoint {
            id: WebhookEndpointId(self.id),
            org: OrgId(self.org_id),
            url: self.url,
            secret: self.secret,
            description: self.description,
            enabled: self.enabled,
            created_at: from_ts(self.created_at),
            events: self.events.split_whitespace().map(str::to_string).collect(),
            previous_secret: self.previous_secret,
            previous_secret_until: from_ts_opt(self.previous_secret_until),
        }
    }
}

const DELIVERY_COLS: &str =
    "id, org_id, endpoint_id, job_id, url, event, attempt, status_code, error, duration_ms, at";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    org_id: i64,
    endpoint_id: Option<i64>,
    job_id: Option<i64>,
    url: String,
    event: String,
    attempt: i64,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    at: i64,
}

impl DeliveryRow {
    fn into_domain(self) -> WebhookDelivery {
        WebhookDelivery {
            id: WebhookDeliveryId(self.id),
            org: OrgId(self.org_id),
            endpoint: self.endpoint_id.map(WebhookEndpointId),
            job: self.job_id.map(JobId),
            url: self.url,
            event: self.event,
            attempt: u32::try_from(self.attempt).unwrap_or(0),
            status_code: self.status_code.and_then(|c| u16::try_from(c).ok()),
            error: self.error,
            duration_ms: to_u64(self.duration_ms),
            at: from_ts(self.at),
        }
    }
}

fn check_url(url: &str) -> Result<()> {
    let u = url.trim();
    if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 2000 {
        return Err(DomainError::invalid("url", "must be an http:// or https:// URL").into());
    }
    Ok(())
}

impl Store {
    /// Puts a mail in the outbox (`pending`) and enqueues its `mail` job, atomically.
    pub async fn queue_mail(&self, mail: &NewMail, now: Timestamp) -> Result<(Mail, JobId)> {
        self.queue_message(mail, MAIL_QUEUE, now).await
    }

    /// Puts a message in the outbox (`pending`) and enqueues a job `{"mail_id"}` on `queue`
    /// (`mail`, or `sms` for a text message whose `to` is a phone number), atomically.
    pub async fn queue_message(
        &self,
        mail: &NewMail,
        queue: &str,
        now: Timestamp,
    ) -> Result<(Mail, JobId)> {
        self.queue_message_once(mail, queue, now, None)
            .await?
            .ok_or_else(|| StoreError::Task("a message without key was not queued".into()))
    }

    /// [`Store::queue_message`] at most once under `key` (when given): `None` when a message
    /// was queued under it already (nothing is written then).
    pub async fn queue_message_once(
        &self,
        mail: &NewMail,
        queue: &str,
        now: Timestamp,
        key: Option<&str>,
    ) -> Result<Option<(Mail, JobId)>> {
        let insert = format!(
            "INSERT INTO mail_outbox (org_id, to_addr, subject, body_text, body_html, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING {MAIL_COLS}"
        );
        let queued: Option<(MailRow, i64)> = with_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let row: MailRow = sqlx::query_as(&insert)
                .bind(mail.org.map(|o| o.0))
                .bind(&mail.to)
                .bind(&mail.subject)
                .bind(&mail.text)
                .bind(mail.html.as_deref())
                .bind(ts(now))
                .fetch_one(&mut *tx)
                .await?;
            let job = NewJob::new(queue, serde_json::json!({ "mail_id": row.id }), now);
            let job_id: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO jobs (queue, payload, status, attempts, max_attempts, base_delay_ms, max_delay_ms, \
                 run_at, created_at, updated_at, dedup_key) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $6, $6, $7) \
                 ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
            )
            .bind(&job.queue)
            .bind(job.payload.to_string())
            .bind(i64::from(job.retry.max_attempts))
            .bind(job.retry.base_delay.num_milliseconds())
            .bind(job.retry.max_delay.num_milliseconds())
            .bind(ts(now))
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            match job_id {
                Some((job_id,)) => {
                    tx.commit().await?;
                    Some((row, job_id))
                }
                None => {
                    tx.rollback().await?;
                    None
                }
            }
        });
        match queued {
            Some((row, job)) => Ok(Some((row.into_domain()?, JobId(job)))),
            None => Ok(None),
        }
    }

    /// One mail of the outbox.
    pub async fn mail(&self, id: MailId) -> Result<Mail> {
        let sql = format!("SELECT {MAIL_COLS} FROM mail_outbox WHERE id = $1");
        let row: Option<MailRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.ok_or(StoreError::not_found(Entity::Mail))?
            .into_domain()
    }

    /// Sets a mail's status (`sent` / `captured` record `sent_at = now`), with an error text
    /// for `failed`.
    pub async fn mark_mail(
        &self,
        id: MailId,
        status: MailStatus,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let sent_at = matches!(status, MailStatus::Sent | MailStatus::Captured).then(|| ts(now));
        // Once a relay or gateway took it, the body (signing links, one-time codes) is not
        // kept: the row stays as a record of what went where. The development outbox
        // (`captured`) keeps it, being the only place it can be read.
        let n = affected!(self, |p| {
            sqlx::query(
                "UPDATE mail_outbox SET status = $2, error = $3, sent_at = COALESCE($4, sent_at), \
             body_text = CASE WHEN $2 = 'sent' THEN '(sent: body removed)' ELSE body_text END, \
             body_html = CASE WHEN $2 = 'sent' THEN NULL ELSE body_html END WHERE id = $1",
            )
            .bind(id.0)
            .bind(status.as_str())
            .bind(error)
            .bind(sent_at)
            .execute(p)
            .await
        })?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::Mail));
        }
        Ok(())
    }

    /// The newest mails (of one organisation, or all when `None`: operator view).
    pub async fn list_mail(&self, org: Option<OrgId>, limit: u32) -> Result<Vec<Mail>> {
        let sql = format!(
            "SELECT {MAIL_COLS} FROM mail_outbox WHERE ($1 IS NULL OR org_id = $1) ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<MailRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.map(|o| o.0))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(MailRow::into_domain).collect()
    }

    /// Adds a webhook endpoint to the organisation.
    pub async fn create_webhook_endpoint(
        &self,
        new: &NewWebhookEndpoint,
        now: Timestamp,
    ) -> Result<WebhookEndpoint> {
        check_url(&new.url)?;
        self.organisation(new.org).await?;
        let sql = format!(
            "INSERT INTO webhook_endpoints (org_id, url, secret, description, enabled, created_at, events) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {ENDPOINT_COLS}"
        );
        let row: EndpointRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(new.org.0)
            .bind(new.url.trim())
            .bind(&new.secret)
            .bind(new.description.trim())
            .bind(true)
            .bind(ts(now))
            .bind(new.events.join(" "))
            .fetch_one(p)
            .await)?;
        Ok(row.into_domain())
    }

    /// One webhook endpoint of the organisation.
    pub async fn webhook_endpoint(
        &self,
        org: OrgId,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint> {
        let sql =
            format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2");
        let row: Option<EndpointRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        Ok(row
            .ok_or(StoreError::not_found(Entity::WebhookEndpoint))?
            .into_domain())
    }

    /// The organisation's webhook endpoints.
    pub async fn list_webhook_endpoints(&self, org: OrgId) -> Result<Vec<WebhookEndpoint>> {
        let sql =
            format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY id");
        let rows: Vec<EndpointRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(EndpointRow::into_domain).collect())
    }

    /// Enables or disables a webhook endpoint.
    pub async fn set_webhook_endpoint_enabled(
        &self,
        org: OrgId,
        id: WebhookEndpointId,
        enabled: bool,
    ) -> Result<WebhookEndpoint> {
        let sql = format!(
            "UPDATE webhook_endpoints SET enabled = $3 WHERE org_id = $1 AND id = $2 RETURNING {ENDPOINT_COLS}"
        );
        let row: Option<EndpointRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(enabled)
            .fetch_optional(p)
            .await)?;
        Ok(row
            .ok_or(StoreError::not_found(Entity::WebhookEndpoint))?
            .into_domain())
    }

    /// Replaces the endpoint's secret by `secret`; the old one keeps signing beside it until
    /// `previous_until` (so receivers can switch without losing a delivery).
    pub async fn rotate_webhook_secret(
        &self,
        org: OrgId,
        id: WebhookEndpointId,
        secret: &str,
        previous_until: Timestamp,
    ) -> Result<WebhookEndpoint> {
        let sql = format!(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $4, secret = $3 \
             WHERE org_id = $1 AND id = $2 RETURNING {ENDPOINT_COLS}"
        );
        let row: Option<EndpointRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .bind(secret)
            .bind(ts(previous_until))
            .fetch_optional(p)
            .await)?;
        Ok(row
            .ok_or(StoreError::not_found(Entity::WebhookEndpoint))?
            .into_domain())
    }

    /// Deletes a webhook endpoint (its delivery log is kept).
    pub async fn delete_webhook_endpoint(&self, org: OrgId, id: WebhookEndpointId) -> Result<()> {
        let n = affected!(self, |p| sqlx::query(
            "DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2"
        )
        .bind(org.0)
        .bind(id.0)
        .execute(p)
        .await)?;
        if n == 0 {
            return Err(StoreError::not_found(Entity::WebhookEndpoint));
        }
        Ok(())
    }

    /// Records one delivery attempt.
    pub async fn record_webhook_delivery(&self, d: &NewWebhookDelivery) -> Result<WebhookDelivery> {
        let sql = format!(
            "INSERT INTO webhook_deliveries (org_id, endpoint_id, job_id, url, event, attempt, status_code, \
             error, duration_ms, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {DELIVERY_COLS}"
        );
        let row: DeliveryRow = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(d.org.0)
            .bind(d.endpoint.map(|e| e.0))
            .bind(d.job.map(|j| j.0))
            .bind(&d.url)
            .bind(&d.event)
            .bind(i64::from(d.attempt))
            .bind(d.status_code.map(i64::from))
            .bind(d.error.as_deref())
            .bind(to_i64(d.duration_ms))
            .bind(ts(d.at))
            .fetch_one(p)
            .await)?;
        Ok(row.into_domain())
    }

    /// One delivery attempt of the organisation.
    pub async fn webhook_delivery(
        &self,
        org: OrgId,
        id: WebhookDeliveryId,
    ) -> Result<WebhookDelivery> {
        let sql =
            format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE org_id = $1 AND id = $2");
        let row: Option<DeliveryRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        Ok(row
            .ok_or(StoreError::not_found(Entity::WebhookDelivery))?
            .into_domain())
    }

    /// The organisation's newest delivery attempts (of one endpoint, or of all).
    pub async fn list_webhook_deliveries(
        &self,
        org: OrgId,
        endpoint: Option<WebhookEndpointId>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE org_id = $1 \
             AND ($2 IS NULL OR endpoint_id = $2) ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<DeliveryRow> = with_pool!(self, |p| sqlx::query_as(&sql)
            .bind(org.0)
            .bind(endpoint.map(|e| e.0))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(DeliveryRow::into_domain).collect())
    }
}
