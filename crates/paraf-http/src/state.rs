//! [`AppState`]: what every handler and middleware shares — the application core (settings,
//! store, blob store, CA, clock, randomness, audit writer: [`paraf_core::Core`]) plus what only
//! HTTP needs (metrics, the OpenAPI document). It dereferences to [`Shared`], which
//! dereferences to the core.
//!
//! One `Arc`: every middleware and extractor clones the state for every request, so a clone is
//! one atomic increment rather than one per field of the core (measured: a tenth of the time of
//! a `GET /api/v1/me` went into cloning and dropping the many-field state).

use std::sync::Arc;

use paraf_core::Core;

use crate::metrics::Metrics;

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] holds.
pub struct Shared {
    /// The application core.
    pub core: Core,
    /// The guarded client for URLs given by callers (`pdf_url`, `logo_url`, files by URL).
    pub outbound: crate::outbound::Outbound,
    /// Prometheus registry.
    pub metrics: Arc<Metrics>,
    /// The OpenAPI document, rendered once.
    pub openapi: Arc<serde_json::Value>,
    /// Each face's own OpenAPI document, by name.
    pub dialect_openapi: Arc<std::collections::BTreeMap<String, serde_json::Value>>,
}

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::Deref for Shared {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}
