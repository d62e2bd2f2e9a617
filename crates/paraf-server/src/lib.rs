//! Paraf's HTTP server: [`Config`], [`Application::build`] / `run_until_stopped`, the shared
//! middleware every API dialect can apply (authentication, rate limits, request ids and
//! replay, languages, body limits, JSON errors), the PKI endpoints of the built-in CA,
//! operations routes (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`) and the background
//! job consumers (mail, webhooks).
//!
//! See `ARCHITECTURE-server.md` beside this crate for the module map and the middleware order.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod bsre;
pub mod console;
pub mod error;
pub mod i18n;
pub mod idempotency;
pub mod jobs;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod pki;
pub mod ratelimit;
pub mod request_id;
pub mod routes;
pub mod state;

pub use app::{router, Application, StartError};
pub use error::ApiError;
pub use paraf_core::bootstrap::FirstStart;
pub use paraf_core::{config, shutdown, Config, ConfigError, ConfigLayer, Core, Services};
pub use state::AppState;
