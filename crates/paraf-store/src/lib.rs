//! Paraf's store: the only crate with SQL. Organisations, users, credentials, token
//! families, rate-limit counters, idempotency records, the hash-chained audit log, the job
//! queue and the outboxes, in SQLite (default) or PostgreSQL through one [`Store`]; blobs in a
//! content-addressed [`BlobStore`].
//!
//! See `ARCHITECTURE-store.md` beside this crate for the module map and the invariants.
//!
//! **Backends.** [`Store`] wraps an enum over a `SqlitePool` and a `PgPool` (not `sqlx::Any`:
//! the typed pools give per-backend connection options — WAL, foreign keys, busy timeout —
//! and let the few statements that differ, like `FOR UPDATE SKIP LOCKED`, be written per
//! backend). Nearly every statement is one text for both: `$1`-style parameters (SQLite
//! accepts them), `INSERT … ON CONFLICT … DO UPDATE`, `RETURNING`. Queries are checked at run
//! time, so building needs no database.
//!
//! **Time and randomness** come in as `now` arguments and an injected [`Entropy`]; nothing
//! here reads the clock.

#![forbid(unsafe_code)]

mod app_keys;
mod audit;
pub mod blob;
pub mod blob_s3;
mod ca;
mod credentials;
mod envelope_lists;
mod envelopes;
mod error;
mod fsck;
mod idempotency;
mod identities;
mod invitations;
mod jobs;
mod limits;
mod orgs;
mod outbox;
mod people;
mod saml;
mod tokens;
mod uploads;
mod users;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use paraf_domain::{hash_password, Entity, Entropy, OsEntropy, Password, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use blob::{
    BlobCounts, BlobFuture, BlobReader, BlobStats, BlobStore, BlobStream, BlobWriter, FsBlobStore,
    Measured,
};
pub use blob_s3::S3BlobStore;
pub use ca::{StoredCa, StoredCaCertificate, StoredCrl, StoredGeneration};
pub use envelopes::{Answer, SignatureRecord};
pub use error::StoreError;
pub use fsck::BlobReference;
pub use invitations::Invitation;
/// The S3 client's builder, for callers that configure it themselves (tests).
pub use object_store::aws::AmazonS3Builder;
pub use orgs::CreditTake;
pub use outbox::MAIL_QUEUE;
pub use people::{Appearance, Device};
pub use uploads::Upload;

/// Result of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool size (default 8 for SQLite, 10 for PostgreSQL).
    pub max_connections: Option<u32>,
    /// How long a SQLite writer waits for the lock (default 10 s).
    pub busy_timeout: StdDuration,
    /// How long to wait for a pooled connection (default 30 s).
    pub acquire_timeout: StdDuration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: None,
            busy_timeout: StdDuration::from_secs(10),
            acquire_timeout: StdDuration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the concrete pool of either backend (the body is
/// compiled once per backend, so it may use `sqlx` generics freely).
macro_rules! with_pool {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Runs a statement (`$body` ends in `.execute($p).await`) on either backend and gives the
/// number of rows it affected.
macro_rules! affected {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($p) => $body.map(|r| r.rows_affected()),
            $crate::Pool::Postgres($p) => $body.map(|r| r.rows_affected()),
        }
    };
}
pub(crate) use affected;

/// The handle to Paraf's database: cheap to clone (pools are shared), safe to use from many
/// tasks and from several processes on the same database.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    pub(crate) entropy: Arc<dyn Entropy>,
    /// Basic-auth passwords already verified against their current Argon2id hash.
    pub(crate) verified: Arc<credentials::VerifiedPasswords>,
    /// SQLite allows one writer at a time and makes the others sleep and retry (the busy
    /// timeout's back-off, 1 ms and up): the frequent writes queue here instead, in order,
    /// without sleeping. Unused for PostgreSQL.
    pub(crate) write_gate: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// The `sqlite://` URL of the database inside a data directory (`<dir>/paraf.db`).
pub fn sqlite_url_for_data_dir(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("paraf.db").display())
}

impl Store {
    /// Connects with default options and runs the migrations of the backend.
    ///
    /// `sqlite://PATH` (relative or absolute path; the file and its parent directory are
    /// created if missing; WAL journal, foreign keys on, busy timeout), `sqlite::memory:`
    /// (tests: one connection), or `postgres://…` / `postgresql://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, StoreOptions::default()).await
    }

    /// Connects with explicit options and runs the migrations of the backend.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Store> {
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.unwrap_or(10))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Pool::Postgres(pool)
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let memory = rest == ":memory:" || rest == "//:memory:";
            // Processes opening one new SQLite file at the same moment would race to set WAL
            // and to migrate (sqlx takes a migration lock on PostgreSQL only): a lock file
            // beside the database makes them take turns. Released when dropped.
            let mut _turn = None;
            let mut opts = SqliteConnectOptions::new()
                .foreign_keys(true)
                .busy_timeout(options.busy_timeout);
            let max = if memory {
                opts = opts.in_memory(true);
                1
            } else {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                let path = path.split('?').next().unwrap_or(path);
                if path.is_empty() {
                    return Err(StoreError::Config("sqlite URL without a path".into()));
                }
                if let Some(parent) = Path::new(path).parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent)?;
                    }
                }
                let lock_path = format!("{path}.lock");
                _turn = Some(
                    tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
                        let f = std::fs::OpenOptions::new()
                            .create(true)
                            .truncate(false)
                            .write(true)
                            .open(lock_path)?;
                        f.lock()?;
                        Ok(f)
                    })
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))??,
                );
                opts = opts
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal);
                options.max_connections.unwrap_or(8)
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(max)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Pool::Sqlite(pool)
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL {:?} (expected sqlite://PATH or postgres://…)",
                redact_url(url)
            )));
        };
        Ok(Store {
            pool,
            entropy: Arc::new(OsEntropy),
            verified: Arc::new(credentials::VerifiedPasswords::new()),
            write_gate: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Replaces the source of randomness (token secrets, salts, keys).
    pub fn with_entropy(mut self, entropy: Arc<dyn Entropy>) -> Store {
        self.entropy = entropy;
        self
    }

    /// For SQLite, the turn to write (see `write_gate`); `None` for PostgreSQL.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.write_gate.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        affected!(self, |p| sqlx::query("SELECT 1").execute(p).await)?;
        Ok(())
    }

    /// Closes every pooled connection (graceful shutdown).
    pub async fn close(&self) {
        with_pool!(self, |p| p.close().await)
    }

    /// Runs a blocking closure (Argon2id) off the async runtime.
    /// Replaces the Argon2id password hash of row `id` of organisation `org` in `table`
    /// (`users` or `app_credentials`): the one password update both kinds share.
    pub(crate) async fn set_password_hash(
        &self,
        table: &'static str,
        entity: Entity,
        org: i64,
        id: i64,
        password: &Password,
    ) -> Result<()> {
        let pw = password.clone();
        let hash = self.blocking(move |e| Ok(hash_password(&pw, e)?)).await?;
        let sql = format!("UPDATE {table} SET password_hash = $3 WHERE org_id = $1 AND id = $2");
        let n = affected!(self, |p| sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .bind(&hash)
            .execute(p)
            .await)?;
        if n == 0 {
            return Err(StoreError::not_found(entity));
        }
        Ok(())
    }

    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Entropy) -> Result<T> + Send + 'static,
    {
        let entropy = Arc::clone(&self.entropy);
        tokio::task::spawn_blocking(move || f(&*entropy))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// A URL with its password (if any) replaced by `***`, for error messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Store encoding of a timestamp: microseconds since the Unix epoch (BIGINT in both backends).
pub(crate) fn ts(t: Timestamp) -> i64 {
    paraf_domain::to_micros(t)
}

/// The inverse of [`ts`].
pub(crate) fn from_ts(us: i64) -> Timestamp {
    paraf_domain::from_micros(us)
}

/// The inverse of [`ts`] for nullable columns.
pub(crate) fn from_ts_opt(us: Option<i64>) -> Option<Timestamp> {
    us.map(from_ts)
}

/// A non-negative counter read from a BIGINT column.
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A counter to store in a BIGINT column (saturating).
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("mysql://h/db"), "mysql://h/db");
    }
}

/// Every public future must be `Send + 'static`-spawnable (axum handlers, `tokio::spawn`):
/// a compile-time check, method by method.
#[cfg(test)]
mod send_check {
    use super::*;
    use chrono::Duration;
    use paraf_domain::*;

    fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}

    #[allow(dead_code, clippy::too_many_lines)]
    fn check(s: Store, now: Timestamp, blob: FsBlobStore) {
        macro_rules! check {
            ($st:ident => $($call:expr;)*) => {$({
                let $st = $st.clone();
                spawnable(async move {
                    let _ = $call.await;
                });
            })*};
        }
        let _ = blob;
        check! { s =>
            s.ping();
            s.create_organisation(&NewOrganisation { slug: Slug::parse("ab").unwrap_or_else(|_| unreachable_slug()), name: OrgName::parse("x").unwrap_or_else(|_| unreachable_name()), plan: Plan::Lontar }, now);
            s.organisation(OrgId(1));
            s.organisation_by_slug("x");
            s.list_organisations();
            s.set_plan(OrgId(1), Plan::Lontar);
            s.consume_quota(OrgId(1), QuotaKind::Documents, 1, "2026-01");
            s.verify_user_password(OrgId(1), &Email::parse("a@b.co").unwrap_or_else(|_| unreachable_email()), "x");
            s.list_users(OrgId(1));
            s.group_members(OrgId(1), GroupId(1));
            s.list_contacts(OrgId(1));
            s.create_api_token(&NewApiToken { org: OrgId(1), user: UserId(1), name: "x".into(), expires_at: None }, now);
            s.authenticate_api_token("x", now);
            s.verify_app_credential("u", "p", std::net::IpAddr::from([127, 0, 0, 1]), now);
            s.oauth_password_grant(OrgId(1), &Email::parse("a@b.co").unwrap_or_else(|_| unreachable_email()), "x", &TokenLifetimes::default(), now);
            s.refresh_tokens("x", &TokenLifetimes::default(), now);
            s.authenticate_access_token("x", now);
            s.revoke_token_family_of("x", now);
            s.create_console_session(OrgId(1), UserId(1), &TokenLifetimes::default(), now);
            s.authenticate_console_session("x", now);
            s.create_gateway_app(OrgId(1), "x", &[0; 32], false, now);
            s.gateway_app_by_key("x");
            s.delete_gateway_app(OrgId(1), GatewayAppId(1), now);
            s.issue_user_token(OrgId(1), GatewayAppId(1), UserId(1), &TokenLifetimes::default(), now);
            s.refresh_from_user_token("x", &TokenLifetimes::default(), now);
            s.hit("k", RateWindow::Minute, now, now);
            s.claim_request(&IdempotencyKey { credential: CredentialKey("k".into()), request_id: "r".into() }, "f", now, Duration::seconds(1));
            s.put_response(&IdempotencyKey { credential: CredentialKey("k".into()), request_id: "r".into() }, &StoredResponse { status: 200, headers: vec![], body: vec![] }, now);
            s.append_audit(&NewAuditEvent { org: OrgId(1), at: now, actor: "a".into(), action: "b".into(), target: None, ip: None, user_agent: None, details: serde_json::Value::Null });
            s.verify_audit_chain(OrgId(1));
            s.enqueue(&NewJob::new("q", serde_json::Value::Null, now), now);
            s.lease("q", "w", now, Duration::seconds(1));
            s.complete(JobId(1), "w", now);
            s.fail(JobId(1), "w", "e", now);
            s.release("w", now);
            s.queue_mail(&NewMail { org: None, to: "a".into(), subject: "b".into(), text: "c".into(), html: None }, now);
            s.mark_mail(MailId(1), MailStatus::Sent, None, now);
            s.record_webhook_delivery(&NewWebhookDelivery { org: OrgId(1), endpoint: None, job: None, url: "u".into(), event: "e".into(), attempt: 1, status_code: None, error: None, duration_ms: 0, at: now });
            s.list_webhook_endpoints(OrgId(1));
        }
        let b = std::sync::Arc::new(FsBlobStore::new("x"));
        spawnable(async move {
            let _ = b.put(b"x").await;
            let _ = b.get(&BlobId::of(b"x")).await;
        });
    }

    fn unreachable_slug() -> Slug {
        Slug::parse("zz").unwrap_or_else(|_| unreachable_slug())
    }
    fn unreachable_name() -> OrgName {
        OrgName::parse("zz").unwrap_or_else(|_| unreachable_name())
    }
    fn unreachable_email() -> Email {
        Email::parse("z@z.zz").unwrap_or_else(|_| unreachable_email())
    }
}
