//! [`Dialect`]: what an API dialect (or the web face) contributes to the server — its routes,
//! its part of the OpenAPI document, and optionally an outer layer that gives every error on
//! its paths its own shape (it sits outside the body limit and the framework's refusals, so
//! those too are rendered in the dialect's envelope).

use axum::Router;

use crate::openapi::OpenApi;
use crate::state::AppState;

/// Wraps the whole application router (outermost dialect layer first).
pub type Wrap = fn(AppState, Router<AppState>) -> Router<AppState>;

/// One face of the server, registered with [`crate::app::router`].
pub struct Dialect {
    /// A short name for logs (`bsre`, `web`).
    pub name: &'static str,
    /// Its routes, with their own authentication layers.
    pub routes: fn(AppState) -> Router<AppState>,
    /// Adds its paths and schemas to the OpenAPI document.
    pub openapi: fn(&mut OpenApi),
    /// Its error envelope around the whole router, if it has one.
    pub wrap: Option<Wrap>,
    /// The webhook body of events about envelopes made through it (by face name), if it has
    /// its own shape.
    pub payload: Option<(&'static str, paraf_core::events::PayloadFn)>,
}

impl std::fmt::Debug for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialect").field("name", &self.name).finish()
    }
}
