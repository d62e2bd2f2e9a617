//! Paraf's shared HTTP layer: [`Application`] (bind, compose, run until stopped), the
//! middleware every API dialect can apply (authentication extractors, rate limits, request
//! ids and replay, languages, body limits, JSON errors), the operations routes (`/healthz`,
//! `/readyz`, `/metrics`, `/openapi.json`), the OAuth2 token endpoint, the built-in CA's
//! `/pki/*` responders, the background job consumers (mail, webhooks), and the [`Dialect`]
//! registration through which each face adds its routes, OpenAPI and error envelope.
//!
//! Business rules are `paraf-core`'s; wire formats of the seeds are the dialect crates'.
//! See `ARCHITECTURE-http.md` beside this crate for the module map and the middleware order.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod dialect;
pub mod error;
pub mod files;
pub mod forms;
pub mod i18n;
pub mod idempotency;
pub mod jobs;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod outbound;
pub mod pki;
pub mod ratelimit;
pub mod request_id;
pub mod routes;
pub mod state;

pub use app::{router, Application, StartError};
pub use dialect::Dialect;
pub use error::ApiError;
pub use paraf_core::bootstrap::FirstStart;
pub use paraf_core::{config, shutdown, Config, ConfigError, ConfigLayer, Core, Services};
pub use state::AppState;
