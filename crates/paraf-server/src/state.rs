//! [`AppState`]: what every handler and middleware shares — settings, the store and blob
//! store, the CA,
//! the injected clock and entropy, metrics and the shutdown trigger.

use std::sync::Arc;

use paraf_domain::{Clock, Entropy, TokenLifetimes};
use paraf_store::{BlobStore, Store};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::pki::PkiService;
use crate::shutdown::Shutdown;

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Resolved settings.
    pub config: Arc<Config>,
    /// The public base URL in effect.
    pub public_url: Arc<str>,
    /// The database.
    pub store: Store,
    /// PDFs and images, content-addressed (`DATA/blobs` on disk).
    pub blobs: Arc<dyn BlobStore>,
    /// "Now" (a `ManualClock` in tests).
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub entropy: Arc<dyn Entropy>,
    /// The built-in CA.
    pub pki: Arc<PkiService>,
    /// Prometheus registry.
    pub metrics: Arc<Metrics>,
    /// Shutdown trigger.
    pub shutdown: Shutdown,
    /// The master key sealing seal keys (and opted-in one-time-code keys).
    pub master_key: crate::identities::MasterKey,
    /// Group commit of audit events on busy paths.
    pub audit: crate::audit_batch::AuditBatcher,
    /// Per-application daily counters, written every half second.
    pub usage: crate::audit_batch::UsageCounter,
    /// Unsealed seal keys, kept in memory after first use.
    pub seal_keys: Arc<crate::bsre::sign::SealKeyCache>,
    /// The OpenAPI document, rendered once.
    pub openapi: Arc<serde_json::Value>,
}

impl AppState {
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
}
