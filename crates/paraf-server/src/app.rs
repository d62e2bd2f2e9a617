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
use paraf_domain::{
    Clock, DomainError, Email, Entropy, NewApiToken, NewOrganisation, NewUser, OrgName, OsEntropy,
    Password, PersonName, Plan, Role, Slug, SystemClock,
};
use paraf_store::{Store, StoreError};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::{require_auth, AuthMethods};
use crate::config::Config;
use crate::error::{localize_errors, ApiError};
use crate::jobs::WorkerPool;
use crate::metrics::Metrics;
use crate::openapi::OpenApi;
use crate::pki::{CaOrigin, PkiService};
use crate::request_id::{request_context, ContextConfig};
use crate::shutdown::Shutdown;
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
    Store(#[from] StoreError),
    /// The CA directory.
    #[error("certificate authority: {0}")]
    Pki(#[from] paraf_pki::PkiError),
    /// Binding, serving, files.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

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

/// What the first start created; `paraf serve` prints it once, it is never logged.
#[derive(Clone)]
pub struct FirstStart {
    /// The organisation's slug.
    pub org_slug: String,
    /// The admin's e-mail.
    pub admin_email: String,
    /// The generated admin password.
    pub admin_password: String,
    /// An API token of the admin.
    pub api_token: String,
}

impl std::fmt::Debug for FirstStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstStart")
            .field("org_slug", &self.org_slug)
            .field("admin_email", &self.admin_email)
            .finish_non_exhaustive()
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

const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

fn generate_password(entropy: &dyn Entropy) -> Result<String, DomainError> {
    let mut out = String::with_capacity(24);
    let mut buf = [0u8; 64];
    while out.len() < 24 {
        entropy.fill(&mut buf)?;
        for b in buf {
            // Rejection sampling keeps the choice uniform.
            let limit = 256 - 256 % PASSWORD_ALPHABET.len();
            if (b as usize) < limit && out.len() < 24 {
                out.push(PASSWORD_ALPHABET[b as usize % PASSWORD_ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

async fn bootstrap(
    store: &Store,
    config: &Config,
    entropy: &dyn Entropy,
    now: paraf_domain::Timestamp,
) -> Result<Option<FirstStart>, StartError> {
    if !store.list_organisations().await?.is_empty() {
        return Ok(None);
    }
    let bad = |e: DomainError| StartError::Config(format!("first organisation: {e}"));
    let new = NewOrganisation {
        slug: Slug::parse(&config.bootstrap_org_slug).map_err(bad)?,
        name: OrgName::parse(&config.bootstrap_org_name).map_err(bad)?,
        plan: Plan::parse(&config.bootstrap_plan).map_err(bad)?,
    };
    let org = match store.create_organisation(&new, now).await {
        Ok(o) => o,
        // Another instance on the same database won the race: it printed the secrets.
        Err(StoreError::Domain(DomainError::AlreadyExists { .. })) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let password = generate_password(entropy).map_err(bad)?;
    let user = store
        .create_user(
            &NewUser {
                org: org.id,
                name: PersonName::parse("Administrator").map_err(bad)?,
                email: Email::parse(&config.bootstrap_admin_email).map_err(bad)?,
                nik: None,
                role: Role::Admin,
                robot: false,
                password: Some(Password::parse(&password).map_err(bad)?),
            },
            now,
        )
        .await?;
    let (_, token) = store
        .create_api_token(
            &NewApiToken {
                org: org.id,
                user: user.id,
                name: "Initial admin token".to_string(),
                expires_at: None,
            },
            now,
        )
        .await?;
    let _ = store
        .append_audit(&paraf_domain::NewAuditEvent {
            org: org.id,
            at: now,
            actor: "system".to_string(),
            action: "organisation.bootstrapped".to_string(),
            target: Some(format!("user:{}", user.id)),
            ip: None,
            user_agent: None,
            details: serde_json::json!({"slug": org.slug.as_str(), "admin": user.email.as_str()}),
        })
        .await;
    Ok(Some(FirstStart {
        org_slug: org.slug.as_str().to_string(),
        admin_email: user.email.as_str().to_string(),
        admin_password: password,
        api_token: token.expose().to_string(),
    }))
}

/// The shared router: operations, PKI, authentication routes and `/api/me`, with the global
/// middleware (see `ARCHITECTURE-server.md` for the order).
pub fn router(state: AppState) -> Router {
    let auth = |methods: AuthMethods| from_fn_with_state((state.clone(), methods), require_auth);
    let limits = from_fn_with_state(state.clone(), ratelimit::enforce);
    let replay = from_fn_with_state(state.clone(), idempotency::replay_or_record);

    // Authenticated, rate-limited, replayable. `route_layer`: unknown paths stay 404.
    let protected = Router::new()
        .route("/api/me", get(routes::me))
        .route("/api/logout", post(routes::logout))
        .route("/admin/outbox", get(routes::admin_outbox))
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
    Router::new()
        .merge(open)
        .merge(protected)
        .merge(crate::bsre::router(state.clone()))
        .merge(crate::console::router(state.clone()))
        .merge(crate::bsre::activation::routes())
        .fallback(|| async { ApiError::not_found() })
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("a handler panicked").into_response()
        }))
        // BSrE paths answer every error in their own shape, the body limit's 413 included.
        .layer(from_fn_with_state(state.clone(), crate::bsre::envelope))
        .layer(from_fn_with_state(limit, localize_errors))
        .layer(from_fn_with_state(ctx, request_context))
        .with_state(state)
}

impl Application {
    /// Builds a server with the system clock and the OS's randomness.
    pub async fn build(config: Config) -> Result<Application, StartError> {
        Application::build_with(config, Services::default()).await
    }

    /// Builds a server with injected services.
    pub async fn build_with(config: Config, services: Services) -> Result<Application, StartError> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let address = listener.local_addr()?;
        let public_url = config.public_url_for(address);
        std::fs::create_dir_all(&config.data_dir)?;
        std::fs::create_dir_all(config.blob_dir())?;
        let store = match services.store {
            Some(s) => s,
            None => Store::connect(&config.database_url())
                .await?
                .with_entropy(services.entropy.clone()),
        };
        let now = services.clock.now();
        let ca_dir = config.ca_dir();
        let passphrase = config.ca_passphrase.clone().map(String::into_bytes);
        let key_type = config.ca_key_type;
        let org_name = config.ca_org_name.clone();
        let url = public_url.clone();
        let (pki, ca_origin) = tokio::task::spawn_blocking(move || {
            PkiService::open_or_init(&ca_dir, passphrase, key_type, &org_name, &url, now.into())
        })
        .await
        .map_err(|e| StartError::Config(format!("CA task: {e}")))??;
        if let Ok(ca) = pki.current() {
            if ca.public_url().trim_end_matches('/') != public_url {
                tracing::warn!(
                    ca_public_url = %ca.public_url(),
                    public_url = %public_url,
                    "the CA's certificates name another URL than this server's public URL; \
                     OCSP/CRL/CA fetches by validators go there"
                );
            }
        }
        if ca_origin == CaOrigin::Created {
            tracing::info!(dir = %config.ca_dir().display(), public_url = %public_url, "created the built-in CA");
        }
        let first_start = bootstrap(&store, &config, &*services.entropy, now).await?;
        let mut openapi = OpenApi::shared(&public_url);
        crate::bsre::openapi::add_to(&mut openapi);
        let blobs: Arc<dyn paraf_store::BlobStore> =
            Arc::new(paraf_store::FsBlobStore::new(config.blob_dir()));
        let master_key =
            crate::identities::MasterKey::load(&config.ca_dir(), config.ca_passphrase.as_deref())?;
        let shutdown = Shutdown::new();
        let state = AppState {
            audit: crate::audit_batch::AuditBatcher::start(store.clone()),
            usage: crate::audit_batch::UsageCounter::start(store.clone(), shutdown.clone()),
            master_key,
            seal_keys: Arc::default(),
            config: Arc::new(config),
            public_url: Arc::from(public_url.as_str()),
            store,
            blobs,
            clock: services.clock,
            entropy: services.entropy,
            pki: Arc::new(pki),
            metrics: Arc::new(Metrics::default()),
            shutdown,
            openapi: Arc::new(openapi.to_value().clone()),
        };
        let router = router(state.clone());
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
                _ = crate::shutdown::signal() => watcher.trigger(),
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
        state.usage.flush().await;
        state.store.close().await;
        tracing::info!("paraf server stopped");
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_from_the_alphabet() {
        let e = paraf_domain::SeededEntropy::new(7);
        let p = generate_password(&e).unwrap();
        assert_eq!(p.len(), 24);
        assert!(p.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
        assert_ne!(p, generate_password(&e).unwrap());
    }
}
