//! [`Application`]: binds the listener, connects the store (running its migrations), opens or
//! creates the CA, creates the first organisation and admin on first start, assembles the
//! router with its middleware, and runs until stopped (signal or [`Shutdown::trigger`]).
//!
//! Tests build it with port 0 and their own [`Services`] (a `ManualClock`, a store on a fresh
//! database) and read the port with [`Application::port`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::Router;
use paraf_core::bootstrap::FirstStart;
use paraf_core::config::Config;
use paraf_core::shutdown::Shutdown;
use paraf_core::{CaOrigin, Core, OpenError, Services};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::{require_auth, AuthMethods};
use crate::dialect::Dialect;
use crate::error::{localize_errors, ApiError};
use crate::jobs::WorkerPool;
use crate::metrics::Metrics;
use crate::openapi::OpenApi;
use crate::request_id::{request_context, ContextConfig};
use crate::state::AppState;
use crate::{idempotency, pki, ratelimit, routes};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Bad settings.
    #[error("{0}")]
    Config(String),
    /// The database.
    #[error("store: {0}")]
    Store(String),
    /// The CA directory.
    #[error("certificate authority: {0}")]
    Pki(#[from] paraf_pki::PkiError),
    /// Binding, serving, files.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl From<OpenError> for StartError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Config(s) => StartError::Config(s),
            OpenError::Store(e) => StartError::Store(e.to_string()),
            OpenError::Pki(e) => StartError::Pki(e),
            OpenError::Io(e) => StartError::Io(e),
        }
    }
}

/// A server ready to run.
pub struct Application {
    listener: tokio::net::TcpListener,
    address: SocketAddr,
    state: AppState,
    router: Router,
    first_start: Option<FirstStart>,
    ca_origin: CaOrigin,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The shared router: operations, PKI, authentication routes and `/api/me`, with the global
/// middleware (see `ARCHITECTURE-server.md` for the order).
pub fn router(state: AppState, dialects: &[Dialect]) -> Router {
    let auth = |methods: AuthMethods| from_fn_with_state((state.clone(), methods), require_auth);
    let limits = from_fn_with_state(state.clone(), ratelimit::enforce);
    let replay = from_fn_with_state(state.clone(), idempotency::replay_or_record);

    // Authenticated, rate-limited, replayable. `route_layer`: unknown paths stay 404.
    let protected = Router::new()
        .route("/api/me", get(routes::me))
        .route("/api/logout", post(routes::logout))
        .route("/admin/outbox", get(routes::admin_outbox))
        .route("/api/webhooks", get(routes::webhook_endpoints))
        .route("/api/webhooks/deliveries", get(routes::webhook_deliveries))
        .route(
            "/api/webhooks/deliveries/{delivery}/redeliver",
            post(routes::webhook_redeliver),
        )
        .route_layer(replay)
        .route_layer(limits)
        .route_layer(auth(AuthMethods::ALL));

    let session_logout = delete(routes::session_logout).route_layer(auth(AuthMethods {
        api_token: false,
        access_token: false,
        basic: false,
        session_cookie: true,
    }));
    let open = Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(routes::metrics))
        .route("/openapi.json", get(routes::openapi))
        .route("/openapi/{file}", get(routes::dialect_openapi))
        .route("/files/{uuid}/{key}/{name}", get(routes::linked_file))
        .route("/api/oauth/token", post(routes::oauth_token))
        .route("/api/oauth/revoke", post(routes::oauth_revoke))
        .route(
            "/api/session",
            post(routes::session_login).merge(session_logout),
        )
        .merge(pki::router());

    let ctx = ContextConfig {
        trusted_proxies: Arc::new(state.config.trusted_proxies.clone()),
        metrics: state.metrics.clone(),
    };
    let limit = state.config.body_limit;
    let mut app = Router::new().merge(open).merge(protected);
    for d in dialects {
        app = app.merge((d.routes)(state.clone()));
    }
    let mut app = app
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("a handler panicked").into_response()
        }));
    // A dialect's paths answer every error in its own shape, the body limit's 413 included.
    for wrap in dialects.iter().filter_map(|d| d.wrap) {
        app = wrap(state.clone(), app);
    }
    app.layer(from_fn_with_state(limit, localize_errors))
        .layer(from_fn_with_state(ctx, request_context))
        .with_state(state)
}

impl Application {
    /// Builds a server with the system clock and the OS's randomness.
    pub async fn build(config: Config, dialects: &[Dialect]) -> Result<Application, StartError> {
        Application::build_with(config, Services::default(), dialects).await
    }

    /// Builds a server with injected services.
    pub async fn build_with(
        config: Config,
        services: Services,
        dialects: &[Dialect],
    ) -> Result<Application, StartError> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let address = listener.local_addr()?;
        let public_url = config.public_url_for(address);
        let opened = Core::open(config, public_url.clone(), services).await?;
        let core = opened.core;
        let ca_origin = opened.ca_origin;
        match (ca_origin, core.pki.in_database()) {
            (CaOrigin::Created, false) => {
                tracing::info!(dir = %core.config.ca_dir().display(), public_url = %public_url, "created the built-in CA");
            }
            (CaOrigin::Created, true) => {
                tracing::info!(public_url = %public_url, "created the built-in CA in the database");
            }
            (CaOrigin::Imported, _) => {
                tracing::warn!(dir = %core.config.ca_dir().display(), "imported the CA of the data directory into the database; its files are no longer used (keep them as a backup)");
            }
            (CaOrigin::Opened, _) => {}
        }
        let first_start = paraf_core::bootstrap::bootstrap(&core).await?;
        for (face, shape) in dialects.iter().filter_map(|d| d.payload) {
            core.payloads.register(face, shape);
        }
        let mut openapi = OpenApi::shared(&public_url);
        let mut per_dialect = std::collections::BTreeMap::new();
        for d in dialects {
            (d.openapi)(&mut openapi);
            let mut own = OpenApi::for_dialect(&public_url, d.name);
            (d.openapi)(&mut own);
            per_dialect.insert(d.name.to_string(), own.to_value().clone());
        }
        let outbound = crate::outbound::Outbound::new(
            core.outbound(),
            concat!("Paraf/", env!("CARGO_PKG_VERSION")),
            std::time::Duration::from_secs(30),
        )
        .map_err(StartError::Config)?;
        let state = AppState::new(crate::state::Shared {
            core,
            outbound,
            metrics: Arc::new(Metrics::default()),
            openapi: Arc::new(openapi.to_value().clone()),
            dialect_openapi: Arc::new(per_dialect),
        });
        let router = router(state.clone(), dialects);
        Ok(Application {
            listener,
            address,
            state,
            router,
            first_start,
            ca_origin,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The public URL in effect (certificates name it).
    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    /// The shared state (store, CA, clock…).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// What the first start created, if this start was the first.
    pub fn first_start(&self) -> Option<&FirstStart> {
        self.first_start.as_ref()
    }

    /// Whether the CA was created by this start.
    pub fn ca_created(&self) -> bool {
        self.ca_origin == CaOrigin::Created
    }

    /// The trigger that stops the server gracefully.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.state.shutdown.clone()
    }

    /// Serves until SIGTERM, Ctrl-C or the shutdown trigger; then stops accepting, lets
    /// in-flight requests finish (within the grace period), stops the workers (releasing
    /// their leases) and closes the store.
    pub async fn run_until_stopped(self) -> Result<(), StartError> {
        let shutdown = self.state.shutdown.clone();
        let watcher = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = paraf_core::shutdown::signal() => watcher.trigger(),
                _ = watcher.wait() => {}
            }
        });
        let state = self.state.clone();
        let workers = WorkerPool::start(state.clone()).map_err(StartError::Config)?;
        tracing::info!(
            address = %self.address,
            public_url = %state.public_url,
            database = %state.config.database_url_redacted(),
            workers = state.config.workers,
            "paraf server listening"
        );
        let trigger = shutdown.clone();
        let serve = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { trigger.wait().await });
        let grace = state.config.shutdown_grace;
        let result = tokio::select! {
            r = serve => r.map_err(StartError::Io),
            _ = async { shutdown.wait().await; tokio::time::sleep(grace).await } => {
                tracing::warn!("in-flight requests did not finish within the grace period");
                Ok(())
            }
        };
        shutdown.trigger();
        workers.join().await;
        state.core.close().await;
        tracing::info!("paraf server stopped");
        result
    }
}
