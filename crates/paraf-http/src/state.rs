//! [`AppState`]: what every handler and middleware shares — the application core (settings,
//! store, blob store, CA, clock, randomness, audit writer: [`paraf_core::Core`]) plus what only
//! HTTP needs (metrics, the OpenAPI document). It dereferences to the core.

use std::sync::Arc;

use paraf_core::Core;

use crate::metrics::Metrics;

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
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

impl std::ops::Deref for AppState {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}
