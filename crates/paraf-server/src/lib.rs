//! The composition root of `paraf serve`: the shared HTTP layer (`paraf-http`) with every face
//! registered as a [`Dialect`] — the BSrE dialect (`paraf-bsre`), the GesDocs dialect
//! (`paraf-gesdocs`), the Alphasign dialect (`paraf-alphasign`) and the web pages
//! (`paraf-web`: admin console, activation page). [`build`] / [`build_with`] give a ready
//! [`Application`].

#![forbid(unsafe_code)]

pub use paraf_alphasign as alphasign;
pub use paraf_bsre as bsre;
pub use paraf_ext as ext;
pub use paraf_gesdocs as gesdocs;
pub use paraf_signingtoday as signingtoday;
pub use paraf_web as web;

pub use paraf_core::bootstrap::FirstStart;
pub use paraf_core::{config, shutdown, Config, ConfigError, ConfigLayer, Core, Services};
pub use paraf_http::{jobs, logging, AppState, Application, Dialect, StartError};

/// Every face the server answers for, in registration order.
pub fn dialects() -> Vec<Dialect> {
    vec![
        bsre::dialect(),
        gesdocs::dialect(),
        alphasign::dialect(),
        signingtoday::dialect(),
        ext::dialect(),
        web::dialect(),
    ]
}

/// A server with the system clock and the OS's randomness.
pub async fn build(config: Config) -> Result<Application, StartError> {
    build_with(config, Services::default()).await
}

/// A server with injected services (tests: a `ManualClock`, a store on a fresh database).
pub async fn build_with(config: Config, services: Services) -> Result<Application, StartError> {
    Application::build_with(config, services, &dialects()).await
}

/// The whole router for `state` (tests drive it in-process).
pub fn router(state: AppState) -> axum::Router {
    paraf_http::router(state, &dialects())
}
