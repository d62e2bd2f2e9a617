//! [`Config`]: the server's settings, resolved from command-line flags, then `PARAF_*`
//! environment variables, then an optional `paraf.toml` in the data directory, then defaults.
//!
//! Every setting is one field of [`ConfigLayer`]; each source fills a layer and
//! [`Config::resolve`] merges them (the first layer that sets a field wins). The table of
//! settings lives in `docs/configuration.md`; keep it in step with [`ENV_VARS`].

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use crate::secret::Secret;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "paraf-data";
/// Default request body limit: 21 MiB — a 20 MiB PDF (Alphasign's "max 20MB") and the form
/// fields around it.
pub const DEFAULT_BODY_LIMIT: usize = 21 * 1024 * 1024;
/// Name of the optional configuration file inside the data directory.
pub const CONFIG_FILE_NAME: &str = "paraf.toml";

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn err(msg: impl Into<String>) -> ConfigError {
    ConfigError(msg.into())
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (loopback relays, tests).
    None,
    /// STARTTLS after connecting (port 587).
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
}

impl std::str::FromStr for SmtpTls {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "off" | "plain" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::Starttls),
            "tls" | "smtps" => Ok(SmtpTls::Tls),
            _ => Err(err(format!("smtp tls {s:?}: none, starttls or tls"))),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (default; for log collectors).
    Json,
    /// Human-readable lines.
    Text,
}

impl std::str::FromStr for LogFormat {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "text" | "pretty" => Ok(LogFormat::Text),
            _ => Err(err(format!("log format {s:?}: json or text"))),
        }
    }
}

/// One source of settings; every field is optional. `paraf.toml` deserialises into this.
/// Secrets are [`Secret`]s, so `Debug` never shows them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// Address to listen on, `IP:PORT`.
    pub listen: Option<String>,
    /// Data directory (database, blobs, CA).
    pub data: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: Option<String>,
    /// Base URL clients and certificates use to reach this server.
    pub public_url: Option<String>,
    /// Largest request body accepted, in bytes (suffixes k, m, g / KiB, MiB, GiB accepted).
    pub body_limit: Option<String>,
    /// Peers (IPs or CIDRs) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<Vec<String>>,
    /// SMTP relay host; unset means mails go to the development outbox.
    pub smtp_host: Option<String>,
    /// SMTP port.
    pub smtp_port: Option<u16>,
    /// SMTP user name.
    pub smtp_username: Option<String>,
    /// SMTP password.
    pub smtp_password: Option<Secret>,
    /// none, starttls or tls.
    pub smtp_tls: Option<String>,
    /// Sender of every mail, e.g. `Paraf <paraf@example.id>`.
    pub mail_from: Option<String>,
    /// Passphrase sealing the CA keys (else `DIR/ca/master.key`).
    pub ca_passphrase: Option<Secret>,
    /// Key type of a new CA: rsa2048, rsa3072, p256, p384.
    pub ca_key_type: Option<String>,
    /// Organisation name in the CA's certificates.
    pub ca_org_name: Option<String>,
    /// Number of background job workers.
    pub workers: Option<usize>,
    /// How often an idle worker polls the job queue, in milliseconds.
    pub job_poll_ms: Option<u64>,
    /// How long a worker holds a job before another may take it, in seconds.
    pub job_lease_secs: Option<u64>,
    /// Timeout of one webhook delivery attempt, in seconds.
    pub webhook_timeout_secs: Option<u64>,
    /// OAuth2 access-token lifetime, seconds.
    pub access_token_ttl_secs: Option<u64>,
    /// OAuth2 refresh-token lifetime, seconds.
    pub refresh_token_ttl_secs: Option<u64>,
    /// Console session lifetime, seconds.
    pub session_ttl_secs: Option<u64>,
    /// BSrE: wrong passphrases in a row before an identity is locked.
    pub bsre_lock_after: Option<u64>,
    /// PKCS#11 module (HSM) holding organisation seal keys, e.g. SoftHSM2's `libsofthsm2.so`.
    pub pkcs11_module: Option<PathBuf>,
    /// User PIN of the PKCS#11 tokens holding seal keys.
    pub pkcs11_pin: Option<Secret>,
    /// BSrE: how long that lock lasts, minutes.
    pub bsre_lock_minutes: Option<u64>,
    /// How long idempotency records (request-id replay) are kept, seconds.
    pub idempotency_ttl_secs: Option<u64>,
    /// How long in-flight requests may take to finish at shutdown, seconds.
    pub shutdown_grace_secs: Option<u64>,
    /// Whether the session cookie is marked `Secure` (default true; false only for plain
    /// HTTP on a non-loopback host during development).
    pub cookie_secure: Option<bool>,
    /// Where blobs (PDFs, images) live: `file` (default: `DATA/blobs`) or
    /// `s3://bucket[/prefix]` (the client from the standard `AWS_*` variables).
    pub blob_store: Option<String>,
    /// Where the built-in CA lives: `file` (default: `DATA/ca`) or `database` (shared by every
    /// instance on the database; a CA found in `DATA/ca` is imported at the first start).
    pub ca_store: Option<String>,
    /// How the verify endpoints count missing revocation information: `soft` (default),
    /// `hard` or `off` (see `paraf_verify::RevocationPolicy`).
    pub verify_revocation: Option<String>,
    /// Let outbound requests (webhooks, fetched URLs, the SMS gateway) reach loopback,
    /// private and link-local addresses (development and tests only).
    pub outbound_allow_private: Option<bool>,
    /// SMS gateway for one-time codes: Paraf POSTs `{"to", "text"}` as JSON; unset, SMS go
    /// to the development outbox.
    pub sms_webhook_url: Option<String>,
    /// Anyone may register an account (`POST /api/register`): an organisation of their own.
    pub registration_open: Option<bool>,
    /// Plan of self-registered accounts.
    pub signup_plan: Option<String>,
    /// Credits of a self-registered account (one per GesDocs signature request).
    pub signup_credits: Option<u64>,
    /// How long an envelope's sealing may take before another process (or this one after a
    /// restart) takes it over, in seconds.
    pub sealing_lease_secs: Option<u64>,
    /// Renew a completed envelope's archive timestamp (B-LTA) this many days before the newest
    /// one's TSA certificate expires (default 365).
    pub ltv_refresh_days: Option<u64>,
    /// How long API-token principals and organisations are cached in memory, in milliseconds
    /// (`0`: not cached).
    pub cache_ttl_ms: Option<u64>,
    /// `tracing` filter, e.g. `info` or `paraf_server=debug,info`.
    pub log: Option<String>,
    /// json or text.
    pub log_format: Option<String>,
    /// Slug of the organisation created on first start.
    pub bootstrap_org_slug: Option<String>,
    /// Name of the organisation created on first start.
    pub bootstrap_org_name: Option<String>,
    /// Plan of the organisation created on first start.
    pub bootstrap_plan: Option<String>,
    /// E-mail of the admin user created on first start.
    pub bootstrap_admin_email: Option<String>,
}

/// `(environment variable, what it sets)`, for `docs/configuration.md` and `--help`.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("PARAF_LISTEN", "listen"),
    ("PARAF_DATA", "data"),
    ("PARAF_DATABASE_URL", "database_url"),
    ("PARAF_PUBLIC_URL", "public_url"),
    ("PARAF_BODY_LIMIT", "body_limit"),
    ("PARAF_TRUSTED_PROXIES", "trusted_proxies"),
    ("PARAF_SMTP_HOST", "smtp_host"),
    ("PARAF_SMTP_PORT", "smtp_port"),
    ("PARAF_SMTP_USERNAME", "smtp_username"),
    ("PARAF_SMTP_PASSWORD", "smtp_password"),
    ("PARAF_SMTP_TLS", "smtp_tls"),
    ("PARAF_MAIL_FROM", "mail_from"),
    ("PARAF_CA_PASSPHRASE", "ca_passphrase"),
    ("PARAF_CA_KEY_TYPE", "ca_key_type"),
    ("PARAF_CA_ORG_NAME", "ca_org_name"),
    ("PARAF_WORKERS", "workers"),
    ("PARAF_JOB_POLL_MS", "job_poll_ms"),
    ("PARAF_JOB_LEASE_SECS", "job_lease_secs"),
    ("PARAF_WEBHOOK_TIMEOUT_SECS", "webhook_timeout_secs"),
    ("PARAF_ACCESS_TOKEN_TTL_SECS", "access_token_ttl_secs"),
    ("PARAF_REFRESH_TOKEN_TTL_SECS", "refresh_token_ttl_secs"),
    ("PARAF_SESSION_TTL_SECS", "session_ttl_secs"),
    ("PARAF_BSRE_LOCK_AFTER", "bsre_lock_after"),
    ("PARAF_PKCS11_MODULE", "pkcs11_module"),
    ("PARAF_PKCS11_PIN", "pkcs11_pin"),
    ("PARAF_BSRE_LOCK_MINUTES", "bsre_lock_minutes"),
    ("PARAF_IDEMPOTENCY_TTL_SECS", "idempotency_ttl_secs"),
    ("PARAF_SHUTDOWN_GRACE_SECS", "shutdown_grace_secs"),
    ("PARAF_COOKIE_SECURE", "cookie_secure"),
    ("PARAF_BLOB_STORE", "blob_store"),
    ("PARAF_CA_STORE", "ca_store"),
    ("PARAF_VERIFY_REVOCATION", "verify_revocation"),
    ("PARAF_OUTBOUND_ALLOW_PRIVATE", "outbound_allow_private"),
    ("PARAF_SMS_WEBHOOK_URL", "sms_webhook_url"),
    ("PARAF_REGISTRATION_OPEN", "registration_open"),
    ("PARAF_SIGNUP_PLAN", "signup_plan"),
    ("PARAF_SIGNUP_CREDITS", "signup_credits"),
    ("PARAF_SEALING_LEASE_SECS", "sealing_lease_secs"),
    ("PARAF_LTV_REFRESH_DAYS", "ltv_refresh_days"),
    ("PARAF_CACHE_TTL_MS", "cache_ttl_ms"),
    ("PARAF_LOG", "log"),
    ("PARAF_LOG_FORMAT", "log_format"),
    ("PARAF_BOOTSTRAP_ORG_SLUG", "bootstrap_org_slug"),
    ("PARAF_BOOTSTRAP_ORG_NAME", "bootstrap_org_name"),
    ("PARAF_BOOTSTRAP_PLAN", "bootstrap_plan"),
    ("PARAF_BOOTSTRAP_ADMIN_EMAIL", "bootstrap_admin_email"),
];

impl ConfigLayer {
    /// The layer made of `PARAF_*` variables, read through `get` (pass `std::env::var`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let s = |k: &str| get(k).filter(|v| !v.is_empty());
        let num = |k: &str| -> Result<Option<u64>, ConfigError> {
            s(k).map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| err(format!("{k}={v:?} is not a whole number")))
            })
            .transpose()
        };
        let flag = |k: &str| -> Result<Option<bool>, ConfigError> {
            s(k).map(|v| match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(err(format!("{k}={v:?} is not true or false"))),
            })
            .transpose()
        };
        Ok(ConfigLayer {
            listen: s("PARAF_LISTEN"),
            data: s("PARAF_DATA").map(PathBuf::from),
            database_url: s("PARAF_DATABASE_URL"),
            public_url: s("PARAF_PUBLIC_URL"),
            body_limit: s("PARAF_BODY_LIMIT"),
            trusted_proxies: s("PARAF_TRUSTED_PROXIES").map(|v| {
                v.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            }),
            smtp_host: s("PARAF_SMTP_HOST"),
            smtp_port: num("PARAF_SMTP_PORT")?
                .map(|p| u16::try_from(p).map_err(|_| err("PARAF_SMTP_PORT out of range")))
                .transpose()?,
            smtp_username: s("PARAF_SMTP_USERNAME"),
            smtp_password: s("PARAF_SMTP_PASSWORD").map(Secret::from),
            smtp_tls: s("PARAF_SMTP_TLS"),
            mail_from: s("PARAF_MAIL_FROM"),
            ca_passphrase: s("PARAF_CA_PASSPHRASE").map(Secret::from),
            ca_key_type: s("PARAF_CA_KEY_TYPE"),
            ca_org_name: s("PARAF_CA_ORG_NAME"),
            workers: num("PARAF_WORKERS")?.map(|n| n as usize),
            job_poll_ms: num("PARAF_JOB_POLL_MS")?,
            job_lease_secs: num("PARAF_JOB_LEASE_SECS")?,
            webhook_timeout_secs: num("PARAF_WEBHOOK_TIMEOUT_SECS")?,
            access_token_ttl_secs: num("PARAF_ACCESS_TOKEN_TTL_SECS")?,
            refresh_token_ttl_secs: num("PARAF_REFRESH_TOKEN_TTL_SECS")?,
            session_ttl_secs: num("PARAF_SESSION_TTL_SECS")?,
            bsre_lock_after: num("PARAF_BSRE_LOCK_AFTER")?,
            pkcs11_module: s("PARAF_PKCS11_MODULE").map(PathBuf::from),
            pkcs11_pin: s("PARAF_PKCS11_PIN").map(Secret::from),
            bsre_lock_minutes: num("PARAF_BSRE_LOCK_MINUTES")?,
            idempotency_ttl_secs: num("PARAF_IDEMPOTENCY_TTL_SECS")?,
            shutdown_grace_secs: num("PARAF_SHUTDOWN_GRACE_SECS")?,
            cookie_secure: flag("PARAF_COOKIE_SECURE")?,
            blob_store: s("PARAF_BLOB_STORE"),
            ca_store: s("PARAF_CA_STORE"),
            verify_revocation: s("PARAF_VERIFY_REVOCATION"),
            outbound_allow_private: flag("PARAF_OUTBOUND_ALLOW_PRIVATE")?,
            sms_webhook_url: s("PARAF_SMS_WEBHOOK_URL"),
            registration_open: flag("PARAF_REGISTRATION_OPEN")?,
            signup_plan: s("PARAF_SIGNUP_PLAN"),
            signup_credits: num("PARAF_SIGNUP_CREDITS")?,
            sealing_lease_secs: num("PARAF_SEALING_LEASE_SECS")?,
            ltv_refresh_days: num("PARAF_LTV_REFRESH_DAYS")?,
            cache_ttl_ms: num("PARAF_CACHE_TTL_MS")?,
            log: s("PARAF_LOG"),
            log_format: s("PARAF_LOG_FORMAT"),
            bootstrap_org_slug: s("PARAF_BOOTSTRAP_ORG_SLUG"),
            bootstrap_org_name: s("PARAF_BOOTSTRAP_ORG_NAME"),
            bootstrap_plan: s("PARAF_BOOTSTRAP_PLAN"),
            bootstrap_admin_email: s("PARAF_BOOTSTRAP_ADMIN_EMAIL"),
        })
    }

    /// Parses a `paraf.toml` text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        // One line (the CLI prints errors on one line): the message and where it is.
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let message = e.message().replace('\n', " ");
            match line {
                Some(n) => err(format!("line {n}: {message}")),
                None => err(message),
            }
        })
    }

    /// Reads `path` if it exists (`Ok(None)` when it does not).
    pub fn from_file(path: &Path) -> Result<Option<Self>, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_toml(&text)
                .map(Some)
                .map_err(|e| err(format!("{}: {}", path.display(), e.0))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(err(format!("reading {}: {e}", path.display()))),
        }
    }

    /// `self` where set, else `other`.
    pub fn or(self, other: ConfigLayer) -> ConfigLayer {
        macro_rules! pick {
            ($($f:ident),*) => { ConfigLayer { $($f: self.$f.or(other.$f)),* } };
        }
        pick!(
            listen,
            data,
            database_url,
            public_url,
            body_limit,
            trusted_proxies,
            smtp_host,
            smtp_port,
            smtp_username,
            smtp_password,
            smtp_tls,
            mail_from,
            ca_passphrase,
            ca_key_type,
            ca_org_name,
            workers,
            job_poll_ms,
            job_lease_secs,
            webhook_timeout_secs,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            session_ttl_secs,
            bsre_lock_after,
            bsre_lock_minutes,
            pkcs11_module,
            pkcs11_pin,
            idempotency_ttl_secs,
            shutdown_grace_secs,
            cookie_secure,
            blob_store,
            ca_store,
            verify_revocation,
            outbound_allow_private,
            sms_webhook_url,
            registration_open,
            signup_plan,
            signup_credits,
            sealing_lease_secs,
            ltv_refresh_days,
            cache_ttl_ms,
            log,
            log_format,
            bootstrap_org_slug,
            bootstrap_org_name,
            bootstrap_plan,
            bootstrap_admin_email
        )
    }
}

/// SMTP relay settings.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Relay host name or IP.
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// User name and password, when the relay wants them.
    pub credentials: Option<(String, Secret)>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("credentials", &self.credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

/// Where blobs live (`blob_store` / `PARAF_BLOB_STORE`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BlobLocation {
    /// Files under `DATA/blobs` (`file`, the default).
    #[default]
    File,
    /// An S3-compatible bucket (`s3://bucket[/prefix]`), the client configured by the
    /// standard `AWS_*` variables (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
    S3 { bucket: String, prefix: String },
}

impl BlobLocation {
    /// `file`, `s3://bucket` or `s3://bucket/some/prefix`; unset is `file`.
    pub fn parse(v: Option<&str>) -> Result<BlobLocation, ConfigError> {
        let v = v.map(str::trim).filter(|v| !v.is_empty());
        match v {
            None | Some("file") => Ok(BlobLocation::File),
            Some(url) => {
                let rest = url.strip_prefix("s3://").ok_or_else(|| {
                    err(format!(
                        "blob_store {url:?}: `file` or `s3://bucket[/prefix]`"
                    ))
                })?;
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let bucket_ok = (3..=63).contains(&bucket.len())
                    && bucket.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                    });
                if !bucket_ok {
                    return Err(err(format!(
                        "blob_store {url:?}: {bucket:?} is not an S3 bucket name"
                    )));
                }
                Ok(BlobLocation::S3 {
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_matches('/').to_string(),
                })
            }
        }
    }
}

/// Where the built-in CA lives (`ca_store` / `PARAF_CA_STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaLocation {
    /// Files in `DATA/ca` (`file`, the default).
    #[default]
    File,
    /// The database (`database`): every instance on it shares the CA.
    Database,
}

impl CaLocation {
    /// `file` or `database`; unset is `file`.
    pub fn parse(v: Option<&str>) -> Result<CaLocation, ConfigError> {
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            None | Some("file") => Ok(CaLocation::File),
            Some("database") => Ok(CaLocation::Database),
            Some(other) => Err(err(format!("ca_store {other:?}: `file` or `database`"))),
        }
    }
}

/// The resolved settings of one server.
#[derive(Clone)]
pub struct Config {
    /// Address to bind; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL; `None` means SQLite at `DATA/paraf.db`.
    pub database_url: Option<String>,
    /// Public base URL; `None` means `http://` + the bound address.
    pub public_url: Option<String>,
    /// Largest request body, bytes.
    pub body_limit: usize,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// SMTP relay; `None` puts mails in the development outbox.
    pub smtp: Option<SmtpConfig>,
    /// Sender address.
    pub mail_from: String,
    /// CA passphrase.
    pub ca_passphrase: Option<Secret>,
    /// Key type of a new CA.
    pub ca_key_type: paraf_pki::KeyType,
    /// Organisation name in the CA's certificates.
    pub ca_org_name: String,
    /// Background job workers (0 disables the consumers).
    pub workers: usize,
    /// Idle poll interval of a worker.
    pub job_poll: Duration,
    /// Job lease length.
    pub job_lease: Duration,
    /// Timeout of one webhook attempt.
    pub webhook_timeout: Duration,
    /// OAuth2 access-token lifetime.
    pub access_token_ttl: Duration,
    /// OAuth2 refresh-token lifetime.
    pub refresh_token_ttl: Duration,
    /// Console session lifetime.
    pub session_ttl: Duration,
    /// BSrE: wrong passphrases in a row before an identity is locked (default 5).
    pub bsre_lock_after: u32,
    /// BSrE: how long the lock lasts (default 30 minutes).
    pub bsre_lock_duration: chrono::Duration,
    /// PKCS#11 module and user PIN for seal keys kept on a token.
    pub pkcs11: Option<(PathBuf, Secret)>,
    /// How long a request id is remembered for replay.
    pub idempotency_ttl: Duration,
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_grace: Duration,
    /// `Secure` attribute on the session cookie.
    pub cookie_secure: bool,
    /// Where blobs live.
    pub blob_store: BlobLocation,
    /// Where the built-in CA lives.
    pub ca_store: CaLocation,
    /// How the verify endpoints count missing revocation information.
    pub verify_revocation: paraf_verify::RevocationPolicy,
    /// Outbound requests may reach loopback, private and link-local addresses.
    pub outbound_allow_private: bool,
    /// The SMS gateway (`None`: SMS go to the development outbox).
    pub sms_webhook_url: Option<String>,
    /// Self-service registration is open.
    pub registration_open: bool,
    /// Plan of self-registered accounts.
    pub signup_plan: paraf_domain::Plan,
    /// Credits of a self-registered account.
    pub signup_credits: i64,
    /// Sealing lease (see [`ConfigLayer::sealing_lease_secs`]).
    pub sealing_lease: std::time::Duration,
    /// Archive renewal margin (see [`ConfigLayer::ltv_refresh_days`]).
    pub ltv_refresh: chrono::Duration,
    /// Cache lifetime (see [`ConfigLayer::cache_ttl_ms`]).
    pub cache_ttl: std::time::Duration,
    /// `tracing` filter.
    pub log: String,
    /// Log format.
    pub log_format: LogFormat,
    /// First organisation's slug.
    pub bootstrap_org_slug: String,
    /// First organisation's name.
    pub bootstrap_org_name: String,
    /// First organisation's plan.
    pub bootstrap_plan: String,
    /// First admin's e-mail.
    pub bootstrap_admin_email: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database_url_redacted())
            .field("public_url", &self.public_url)
            .field("body_limit", &self.body_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("smtp", &self.smtp)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

/// Parses `20MB`, `20MiB`, `512k`, `1048576`.
pub fn parse_size(s: &str) -> Result<usize, ConfigError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num.parse().map_err(|_| {
        err(format!(
            "size {s:?}: expected a number with an optional unit"
        ))
    })?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        u => return Err(err(format!("size {s:?}: unknown unit {u:?}"))),
    };
    n.checked_mul(mult)
        .ok_or_else(|| err(format!("size {s:?} is too large")))
}

fn parse_key_type(s: &str) -> Result<paraf_pki::KeyType, ConfigError> {
    use paraf_pki::KeyType;
    match s.to_ascii_lowercase().as_str() {
        "rsa2048" | "rsa" => Ok(KeyType::Rsa2048),
        "rsa3072" => Ok(KeyType::Rsa3072),
        "p256" | "ec" | "ecdsa" => Ok(KeyType::P256),
        "p384" => Ok(KeyType::P384),
        _ => Err(err(format!(
            "CA key type {s:?}: rsa2048, rsa3072, p256 or p384"
        ))),
    }
}

fn parse_proxy(s: &str) -> Result<IpNet, ConfigError> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net);
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| err(format!("trusted proxy {s:?} is not an IP address or CIDR")))
}

impl Config {
    /// Resolves `flags` over the environment (read through `env`) over
    /// `DATA/paraf.toml` (or the file named by `PARAF_CONFIG`) over the defaults.
    pub fn load(
        flags: ConfigLayer,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let config_file = env("PARAF_CONFIG").filter(|v| !v.is_empty());
        let env_layer = ConfigLayer::from_env(&env)?;
        let top = flags.or(env_layer);
        let data = top
            .data
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let file = match config_file {
            Some(p) => ConfigLayer::from_file(Path::new(&p))?
                .ok_or_else(|| err(format!("PARAF_CONFIG names {p}, which does not exist")))?,
            None => ConfigLayer::from_file(&data.join(CONFIG_FILE_NAME))?.unwrap_or_default(),
        };
        Config::resolve(top.or(file))
    }

    /// Applies defaults to a merged layer and checks every value.
    pub fn resolve(l: ConfigLayer) -> Result<Config, ConfigError> {
        let listen_s = l.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen: SocketAddr = listen_s
            .parse()
            .map_err(|_| err(format!("listen address {listen_s:?} is not IP:PORT")))?;
        let data_dir = l.data.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        if let Some(u) = &l.database_url {
            if !(u.starts_with("sqlite:")
                || u.starts_with("postgres:")
                || u.starts_with("postgresql:"))
            {
                return Err(err("database URL must start with sqlite: or postgres://"));
            }
        }
        let public_url = match l.public_url {
            Some(u) => {
                let u = u.trim_end_matches('/').to_string();
                if !u.is_ascii() || !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(err(format!("public URL {u:?} must be an http(s) URL")));
                }
                Some(u)
            }
            None => None,
        };
        let body_limit = match l.body_limit {
            Some(s) => parse_size(&s)?,
            None => DEFAULT_BODY_LIMIT,
        };
        if body_limit == 0 {
            return Err(err("body limit must be positive"));
        }
        let trusted_proxies = l
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|p| parse_proxy(p))
            .collect::<Result<Vec<_>, _>>()?;
        let smtp = match l.smtp_host {
            Some(host) => {
                let tls = match l.smtp_tls {
                    Some(t) => t.parse()?,
                    None => SmtpTls::None,
                };
                let port = l.smtp_port.unwrap_or(match tls {
                    SmtpTls::None => 25,
                    SmtpTls::Starttls => 587,
                    SmtpTls::Tls => 465,
                });
                let credentials = match (l.smtp_username, l.smtp_password) {
                    (Some(u), Some(p)) => Some((u, p)),
                    (None, None) => None,
                    _ => return Err(err("SMTP user name and password go together")),
                };
                Some(SmtpConfig {
                    host,
                    port,
                    tls,
                    credentials,
                })
            }
            None => None,
        };
        let mail_from = l
            .mail_from
            .unwrap_or_else(|| "Paraf <paraf@localhost>".to_string());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(err(format!("mail sender {mail_from:?} is not an address")));
        }
        let secs = |v: Option<u64>, d: u64| Duration::from_secs(v.unwrap_or(d));
        let log_format = match l.log_format {
            Some(f) => f.parse()?,
            None => LogFormat::Json,
        };
        Ok(Config {
            listen,
            data_dir,
            database_url: l.database_url,
            public_url,
            body_limit,
            trusted_proxies,
            smtp,
            mail_from,
            ca_passphrase: l.ca_passphrase,
            ca_key_type: parse_key_type(l.ca_key_type.as_deref().unwrap_or("p256"))?,
            ca_org_name: l.ca_org_name.unwrap_or_else(|| "Paraf".to_string()),
            workers: l.workers.unwrap_or(2),
            job_poll: Duration::from_millis(l.job_poll_ms.unwrap_or(1000).max(10)),
            job_lease: secs(l.job_lease_secs, 60).max(Duration::from_secs(1)),
            webhook_timeout: secs(l.webhook_timeout_secs, 10).max(Duration::from_secs(1)),
            access_token_ttl: secs(l.access_token_ttl_secs, 3600),
            refresh_token_ttl: secs(l.refresh_token_ttl_secs, 30 * 86400),
            session_ttl: secs(l.session_ttl_secs, 12 * 3600),
            bsre_lock_after: l
                .bsre_lock_after
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(paraf_domain::LOCK_AFTER_WRONG_PASSPHRASES)
                .max(1),
            pkcs11: match (l.pkcs11_module, l.pkcs11_pin) {
                (Some(m), Some(p)) => Some((m, p)),
                (None, None) => None,
                _ => {
                    return Err(err(
                        "pkcs11_module and pkcs11_pin go together (PARAF_PKCS11_MODULE, PARAF_PKCS11_PIN)",
                    ))
                }
            },
            bsre_lock_duration: chrono::Duration::minutes(
                i64::try_from(l.bsre_lock_minutes.unwrap_or(30)).unwrap_or(30),
            ),
            idempotency_ttl: secs(l.idempotency_ttl_secs, 86400),
            shutdown_grace: secs(l.shutdown_grace_secs, 30),
            cookie_secure: l.cookie_secure.unwrap_or(true),
            blob_store: BlobLocation::parse(l.blob_store.as_deref())?,
            ca_store: CaLocation::parse(l.ca_store.as_deref())?,
            verify_revocation: match l.verify_revocation.as_deref() {
                None => paraf_verify::RevocationPolicy::Soft,
                Some(v) => v
                    .parse()
                    .map_err(|e: String| err(format!("verify_revocation: {e}")))?,
            },
            outbound_allow_private: l.outbound_allow_private.unwrap_or(false),
            sms_webhook_url: match l.sms_webhook_url.filter(|u| !u.trim().is_empty()) {
                None => None,
                Some(u) => match url::Url::parse(&u) {
                    Ok(v) if matches!(v.scheme(), "http" | "https") => Some(u),
                    _ => return Err(err(format!("sms_webhook_url {u:?} is not an http(s) URL"))),
                },
            },
            registration_open: l.registration_open.unwrap_or(false),
            signup_credits: i64::try_from(l.signup_credits.unwrap_or(10)).unwrap_or(i64::MAX),
            sealing_lease: std::time::Duration::from_secs(l.sealing_lease_secs.unwrap_or(300).max(1)),
            ltv_refresh: chrono::Duration::days(
                i64::try_from(l.ltv_refresh_days.unwrap_or(365).clamp(1, 36_500)).unwrap_or(365),
            ),
            cache_ttl: std::time::Duration::from_millis(l.cache_ttl_ms.unwrap_or(1000)),
            signup_plan: match l.signup_plan.as_deref() {
                None => crate::accounts::DEFAULT_SIGNUP_PLAN,
                Some(p) => paraf_domain::Plan::parse(p)
                    .map_err(|_| err(format!("signup_plan {p:?} is not a plan")))?,
            },
            log: l.log.unwrap_or_else(|| "info".to_string()),
            log_format,
            bootstrap_org_slug: l
                .bootstrap_org_slug
                .unwrap_or_else(|| "default".to_string()),
            bootstrap_org_name: l
                .bootstrap_org_name
                .unwrap_or_else(|| "Default organisation".to_string()),
            bootstrap_plan: l.bootstrap_plan.unwrap_or_else(|| "nusantara".to_string()),
            bootstrap_admin_email: l
                .bootstrap_admin_email
                .unwrap_or_else(|| "admin@paraf.localhost".to_string()),
        })
    }

    /// Defaults for a test: port 0 on loopback, data in `dir`, fast job polling, quiet logs.
    pub fn for_tests(dir: &Path) -> Result<Config, ConfigError> {
        Config::resolve(ConfigLayer {
            listen: Some("127.0.0.1:0".into()),
            data: Some(dir.to_path_buf()),
            job_poll_ms: Some(50),
            log_format: Some("text".into()),
            log: Some("warn".into()),
            // Test receivers (webhooks, SMS gateway, fetched files) listen on loopback; the
            // tests of the address guard turn this off again.
            outbound_allow_private: Some(true),
            // Tests change users and plans in the store directly and expect the next request
            // to see it; the cache's own tests turn it on.
            cache_ttl_ms: Some(0),
            ..ConfigLayer::default()
        })
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("paraf.db").display()),
        }
    }

    /// The database URL with any password replaced by `***`, for logs.
    pub fn database_url_redacted(&self) -> String {
        redact_url(&self.database_url())
    }

    /// Directory of the built-in CA.
    pub fn ca_dir(&self) -> PathBuf {
        self.data_dir.join("ca")
    }

    /// Directory of the blob store.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    /// The public URL, given the address actually bound.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(u) => u.clone(),
            None => {
                let ip = match bound.ip() {
                    IpAddr::V4(v) if v.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
                    IpAddr::V6(v) if v.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
                    ip => ip,
                };
                format!("http://{}", SocketAddr::new(ip, bound.port()))
            }
        }
    }
}

/// Replaces the password of `scheme://user:password@host/…` by `***`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn blob_locations() {
        assert_eq!(BlobLocation::parse(None).unwrap(), BlobLocation::File);
        assert_eq!(
            BlobLocation::parse(Some("file")).unwrap(),
            BlobLocation::File
        );
        assert_eq!(
            BlobLocation::parse(Some("s3://paraf-blobs/site/a/")).unwrap(),
            BlobLocation::S3 {
                bucket: "paraf-blobs".into(),
                prefix: "site/a".into()
            }
        );
        assert_eq!(
            BlobLocation::parse(Some("s3://paraf")).unwrap(),
            BlobLocation::S3 {
                bucket: "paraf".into(),
                prefix: String::new()
            }
        );
        for bad in ["disk", "s3://", "s3://UPPER", "gs://b/x", "s3://a"] {
            assert!(BlobLocation::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn verify_revocation_is_soft_hard_or_off() {
        let dir = tempfile::tempdir().unwrap();
        let with = |v: Option<&str>| {
            Config::resolve(ConfigLayer {
                data: Some(dir.path().to_path_buf()),
                verify_revocation: v.map(str::to_string),
                ..ConfigLayer::default()
            })
        };
        use paraf_verify::RevocationPolicy as P;
        assert_eq!(with(None).unwrap().verify_revocation, P::Soft);
        assert_eq!(with(Some("HARD")).unwrap().verify_revocation, P::Hard);
        assert_eq!(with(Some("off")).unwrap().verify_revocation, P::Off);
        let e = with(Some("lenient")).unwrap_err().to_string();
        assert!(
            e.contains("verify_revocation") && e.contains("soft, hard or off"),
            "{e}"
        );
    }

    #[test]
    fn ca_locations() {
        assert_eq!(CaLocation::parse(None).unwrap(), CaLocation::File);
        assert_eq!(CaLocation::parse(Some(" file ")).unwrap(), CaLocation::File);
        assert_eq!(
            CaLocation::parse(Some("database")).unwrap(),
            CaLocation::Database
        );
        let e = CaLocation::parse(Some("postgres")).unwrap_err().to_string();
        assert!(e.contains("ca_store") && e.contains("`database`"), "{e}");
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults() {
        let c = Config::load(ConfigLayer::default(), |_| None).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from("paraf-data"));
        assert_eq!(c.database_url(), "sqlite://paraf-data/paraf.db");
        assert_eq!(c.body_limit, 21 * 1024 * 1024);
        assert!(c.smtp.is_none());
        assert_eq!(
            c.public_url_for("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "listen = \"127.0.0.1:1\"\nbody_limit = \"1MiB\"\nsmtp_host = \"mail\"\nworkers = 7\n",
        )
        .unwrap();
        let data = dir.path().to_str().unwrap().to_string();
        let env = move |k: &str| match k {
            "PARAF_DATA" => Some(data.clone()),
            "PARAF_LISTEN" => Some("127.0.0.1:2".into()),
            "PARAF_BODY_LIMIT" => Some("2MiB".into()),
            _ => None,
        };
        let flags = ConfigLayer {
            listen: Some("127.0.0.1:3".into()),
            ..Default::default()
        };
        let c = Config::load(flags, env).unwrap();
        assert_eq!(c.listen.port(), 3);
        assert_eq!(c.body_limit, 2 * 1024 * 1024);
        assert_eq!(c.workers, 7);
        assert_eq!(c.smtp.unwrap().port, 25);
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        let e = Config::load(ConfigLayer::default(), env_of(&[("PARAF_WORKERS", "x")]))
            .err()
            .unwrap();
        assert!(e.to_string().contains("PARAF_WORKERS"), "{e}");
        let e = Config::load(
            ConfigLayer::default(),
            env_of(&[("PARAF_TRUSTED_PROXIES", "10.0.0.0/8, nope")]),
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("nope"), "{e}");
        assert!(ConfigLayer::from_toml("lisen = 1").is_err());
    }

    #[test]
    fn sizes_and_redaction() {
        assert_eq!(parse_size("20MB").unwrap(), 20 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("ten").is_err());
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
