//! Paraf's application services: what every face (the HTTP dialects, the web pages, the
//! `paraf` command line) calls, and nothing that speaks HTTP.
//!
//! [`Core`] holds the opened pieces — settings, store, blob store, CA, master key, audit
//! writer, clock and randomness — and hands out the services: [`IdentityService`] (identities
//! and seals), [`signing`] (unlocking keys with passphrases, one-time codes and seal keys, then
//! the engine), [`login`] (the organisation of a login), [`audit`] (one typed writer). Faces
//! map [`CoreError`] to their own error bodies.
//!
//! **Invariant:** no HTTP here (no axum, tower or hyper); time comes from [`Core::clock`] and
//! randomness from [`Core::entropy`], both injected.

#![forbid(unsafe_code)]

pub mod access;
pub mod accounts;
pub mod app_keys;
pub mod appearances;
pub mod archive;
pub mod audit;
pub mod bootstrap;
pub mod codes;
pub mod config;
pub mod credentials;
pub mod devices;
pub mod directory;
pub mod documents;
pub mod drafts;
pub mod envelopes;
pub mod error;
pub mod events;
pub mod fsck;
pub mod hot;
pub mod identities;
pub mod library;
pub mod login;
pub mod members;
pub mod outbound;
pub mod pages;
pub mod people;
pub mod pki;
pub mod proof;
pub mod quotas;
pub mod recipients;
pub mod robots;
pub mod saml;
pub mod secret;
pub mod sessions;
pub mod sharing;
pub mod shutdown;
pub mod signer_codes;
pub mod signing;
pub mod verification;
pub mod webhooks;

use std::sync::Arc;

pub use paraf_domain as domain;

/// The engine, for the faces that map its reports and errors to their wire formats (they
/// depend on the core alone).
pub mod engine {
    pub use paraf_pdf as pdf;
    pub use paraf_pki as pki;
    pub use paraf_sign as sign;
    pub use paraf_verify as verify;
}
use paraf_domain::{Clock, Entropy, OsEntropy, SystemClock, Timestamp, TokenLifetimes};
use paraf_store::{BlobStore, Store};

pub use audit::{Actor, AuditAction, AuditBatcher, UsageCounter};
pub use config::{Config, ConfigError, ConfigLayer};
pub use error::CoreError;
pub use identities::{IdentityService, MasterKey};
pub use paraf_store::{BlobCounts, BlobReader, BlobStats};
pub use pki::{CaOrigin, NewCa, PkiService};
pub use secret::Secret;
pub use shutdown::Shutdown;

/// Injected services: time, randomness and, optionally, an already-connected store.
#[derive(Clone)]
pub struct Services {
    /// "Now".
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub entropy: Arc<dyn Entropy>,
    /// A connected store (tests); `None` connects to the configured database.
    pub store: Option<Store>,
}

impl Default for Services {
    fn default() -> Self {
        Services {
            clock: Arc::new(SystemClock),
            entropy: Arc::new(OsEntropy),
            store: None,
        }
    }
}

/// Why the core could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Bad settings.
    #[error("{0}")]
    Config(String),
    /// The database.
    #[error("store: {0}")]
    Store(#[from] paraf_store::StoreError),
    /// The CA directory.
    #[error("certificate authority: {0}")]
    Pki(#[from] paraf_pki::PkiError),
    /// Files.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// The opened application: cheap to clone, shared by every face of one process.
#[derive(Clone)]
pub struct Core {
    /// Resolved settings.
    pub config: Arc<Config>,
    /// The public base URL in effect (certificates and links name it).
    pub public_url: Arc<str>,
    /// The database. Only `paraf-http`, `paraf-web` and the core itself use it directly;
    /// dialects go through the services.
    pub store: Store,
    /// PDFs and images, content-addressed (`DATA/blobs` on disk).
    pub blobs: Arc<dyn BlobStore>,
    /// The blob store's operations, failures and time (for `/metrics`).
    pub blob_stats: Arc<paraf_store::BlobStats>,
    /// "Now" (a `ManualClock` in tests).
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub entropy: Arc<dyn Entropy>,
    /// The built-in CA.
    pub pki: Arc<PkiService>,
    /// The master key sealing seal keys (and opted-in one-time-code keys).
    pub master_key: MasterKey,
    /// Group commit of audit events.
    pub audit: AuditBatcher,
    /// Per-application daily counters, written every half second.
    pub usage: UsageCounter,
    /// Unsealed seal keys, kept in memory after first use.
    pub seal_keys: Arc<signing::SealKeyCache>,
    /// Rendered page images of the signer page.
    pub pages: Arc<pages::PageCache>,
    /// The dialects' webhook payload shapes for envelope events.
    pub payloads: Arc<events::Payloads>,
    /// Woken when this process queues a job, so a worker takes it at once instead of at its
    /// next poll (other instances still poll).
    pub jobs_ready: Arc<tokio::sync::Notify>,
    /// Shutdown trigger shared with the background tasks.
    pub shutdown: Shutdown,
    /// The hot path of authenticated requests (`hot.rs`): API-token principals by the
    /// token's SHA-256, organisations, and rate-limit reservations.
    pub hot_tokens: Arc<hot::TtlCache<[u8; 32], paraf_domain::Principal>>,
    /// Where push messages to trusted devices go (the development outbox by default).
    pub push: Arc<dyn devices::PushSender>,
    pub hot_orgs: Arc<hot::TtlCache<paraf_domain::OrgId, paraf_domain::Organisation>>,
    pub hot_users:
        Arc<hot::TtlCache<(paraf_domain::OrgId, paraf_domain::UserId), paraf_domain::User>>,
    pub leases: Arc<hot::RateLeases>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("config", &self.config)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// What [`Core::open`] found or made besides the core itself.
#[derive(Debug)]
pub struct Opened {
    /// The core.
    pub core: Core,
    /// Whether the CA was created now.
    pub ca_origin: CaOrigin,
}

impl Core {
    /// Opens everything for `config` with the public URL `public_url`: connects the store
    /// (running migrations), opens or creates the CA, loads the master key, starts the audit
    /// and usage tasks on the current runtime.
    pub async fn open(
        config: Config,
        public_url: String,
        services: Services,
    ) -> Result<Opened, OpenError> {
        std::fs::create_dir_all(&config.data_dir)?;
        if config.blob_store == config::BlobLocation::File {
            std::fs::create_dir_all(config.blob_dir())?;
        }
        let store = match services.store {
            Some(s) => s,
            None => Store::connect(&config.database_url())
                .await?
                .with_entropy(services.entropy.clone()),
        };
        let now = services.clock.now();
        let ca_dir = config.ca_dir();
        let passphrase = config
            .ca_passphrase
            .as_ref()
            .map(|p| p.expose().as_bytes().to_vec());
        let key_type = config.ca_key_type;
        let org_name = config.ca_org_name.clone();
        let (pki, ca_origin) = match config.ca_store {
            config::CaLocation::File => {
                let url = public_url.clone();
                tokio::task::spawn_blocking(move || {
                    PkiService::open_or_init(
                        &ca_dir,
                        passphrase,
                        key_type,
                        &org_name,
                        &url,
                        now.into(),
                    )
                })
                .await
                .map_err(|e| OpenError::Config(format!("CA task: {e}")))??
            }
            config::CaLocation::Database => {
                let new = pki::NewCa {
                    key_type,
                    org_name,
                    public_url: public_url.clone(),
                };
                PkiService::open_or_init_in_database(&store, &ca_dir, passphrase, new, now.into())
                    .await?
            }
        };
        if let Ok(ca) = pki.current() {
            if ca.public_url().trim_end_matches('/') != public_url.trim_end_matches('/') {
                tracing::warn!(
                    ca_public_url = %ca.public_url(),
                    public_url = %public_url,
                    "the CA's certificates name another URL than this server's public URL; \
                     OCSP/CRL/CA fetches by validators go there"
                );
            }
        }
        let master_key = MasterKey::load(
            &config.ca_dir(),
            config.ca_passphrase.as_ref().map(Secret::expose),
        )?;
        let stored: Arc<dyn BlobStore> = match &config.blob_store {
            config::BlobLocation::File => {
                Arc::new(paraf_store::FsBlobStore::new(config.blob_dir()))
            }
            config::BlobLocation::S3 { bucket, prefix } => Arc::new(
                paraf_store::S3BlobStore::from_env(bucket, prefix)
                    .map_err(|e| OpenError::Config(e.to_string()))?,
            ),
        };
        // Counted and timed for `/metrics`.
        let measured = paraf_store::Measured::new(stored);
        let blob_stats = measured.stats();
        let blobs: Arc<dyn BlobStore> = Arc::new(measured);
        let shutdown = Shutdown::new();
        let ttl = config.cache_ttl;
        let core = Core {
            hot_tokens: Arc::new(hot::TtlCache::new(ttl)),
            push: Arc::new(devices::OutboxPush),
            hot_orgs: Arc::new(hot::TtlCache::new(ttl)),
            hot_users: Arc::new(hot::TtlCache::new(ttl)),
            leases: Arc::default(),
            audit: AuditBatcher::start(store.clone()),
            usage: UsageCounter::start(store.clone(), shutdown.clone()),
            master_key,
            seal_keys: Arc::default(),
            payloads: Arc::default(),
            jobs_ready: Arc::default(),
            pages: Arc::default(),
            config: Arc::new(config),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            store,
            blobs,
            blob_stats,
            clock: services.clock,
            entropy: services.entropy,
            pki: Arc::new(pki),
            shutdown,
        };
        Ok(Opened { core, ca_origin })
    }

    /// "Now", from the injected clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The identity and seal service at this moment.
    pub fn identities(&self) -> IdentityService {
        IdentityService::new(self)
    }

    /// Token lifetimes from the settings.
    pub fn token_lifetimes(&self) -> TokenLifetimes {
        let d = |s: std::time::Duration| {
            chrono::Duration::from_std(s).unwrap_or(chrono::Duration::hours(1))
        };
        TokenLifetimes {
            access: d(self.config.access_token_ttl),
            refresh: d(self.config.refresh_token_ttl),
            console_session: d(self.config.session_ttl),
            ..TokenLifetimes::default()
        }
    }

    /// Writes what is still buffered (usage counters) and closes the store.
    pub async fn close(&self) {
        self.usage.flush().await;
        self.store.close().await;
    }
}
