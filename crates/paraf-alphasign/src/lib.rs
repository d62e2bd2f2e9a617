//! The Alphasign dialect (seed 000, `/api/v1`): the account and its plan's quotas
//! (`/me`, `/me/quota`), documents as envelopes (`/documents`: upload, send, download,
//! delete drafts), the address book (`/contacts`) and the public check of a file by its hash
//! (`/verify/{hash}`). Bearer API tokens, rate-limited per token by the organisation's plan
//! (`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `Retry-After` on 429, counters shared by
//! every instance); errors in the seed's shape, Indonesian unless English is asked (see
//! [`error`] and `docs/alphasign.md`).

#![forbid(unsafe_code)]

pub mod documents;
pub mod error;
pub mod openapi;
pub mod routes;
pub mod verify;
pub mod wire;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::Router;
use paraf_core::audit::{Actor, Face};
use paraf_core::domain::{OrgId, UserId};
use paraf_http::auth::{require_auth, AuthMethods};
use paraf_http::state::AppState;

use error::{AlphasignError, Lang, Rendered};

/// The face documents made through Alphasign carry.
pub const FACE: &str = "alphasign";

/// Where the dialect lives.
pub const PREFIX: &str = "/api/v1";

/// Bearer API tokens only (server-to-server, as the seed says).
pub const AUTH: AuthMethods = AuthMethods {
    api_token: true,
    access_token: false,
    basic: false,
    session_cookie: false,
};

/// Every Alphasign route: `verify` public, the others behind a token and the plan's rate
/// limits.
pub fn router(state: AppState) -> Router<AppState> {
    let limits = from_fn_with_state(state.clone(), paraf_http::ratelimit::enforce);
    Router::new()
        .merge(
            routes::private()
                .route_layer(limits)
                .route_layer(from_fn_with_state((state, AUTH), require_auth)),
        )
        .merge(routes::public())
}

/// The Alphasign dialect as the server registers it.
pub fn dialect() -> paraf_http::Dialect {
    paraf_http::Dialect {
        name: "alphasign",
        routes: router,
        openapi: openapi::add_to,
        wrap: Some(|state, app| app.layer(from_fn_with_state(state, envelope))),
        payload: None,
    }
}

/// Whether `path` is one of the dialect's.
pub fn is_alphasign_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/api/v1/")
}

/// Gives every error of an Alphasign path the seed's shape, in the request's language: the
/// handlers' own (rendered again in English when asked) and those of the shared layers
/// (401, 413, 429 with `Retry-After`) and the framework (404, 405).
pub async fn envelope(State(_): State<AppState>, req: Request, next: Next) -> Response {
    if !is_alphasign_path(req.uri().path()) {
        return next.run(req).await;
    }
    let lang = Lang::of(req.headers());
    let upload =
        req.method() == axum::http::Method::POST && req.uri().path() == "/api/v1/documents";
    let resp = next.run(req).await;
    let status = resp.status();
    if status.is_success() {
        return resp;
    }
    let err = match resp.extensions().get::<Rendered>() {
        Some(_) if lang == Lang::Id => return resp,
        Some(Rendered(e)) => e.clone(),
        None if status == StatusCode::PAYLOAD_TOO_LARGE && upload => documents::file_too_large(),
        None => {
            let retry = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            AlphasignError::for_status(status, retry)
        }
    };
    let (parts, _) = resp.into_parts();
    let mut out = err.render(lang);
    paraf_http::error::keep_headers(&parts.headers, &mut out);
    out
}

/// The authenticated caller: the user behind the API token, in their organisation.
pub struct Caller {
    pub org: OrgId,
    pub user: UserId,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AlphasignError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &AppState,
    ) -> Result<Self, AlphasignError> {
        let (p, user, actor) = paraf_http::auth::user_caller(parts, Face::Alphasign)
            .ok_or_else(AlphasignError::unauthenticated)?;
        Ok(Caller {
            org: p.org,
            user,
            actor,
        })
    }
}

/// RFC 3339 UTC with seconds (`2026-06-15T10:00:00Z`), as the seed's examples write times.
pub(crate) fn time(t: paraf_core::domain::Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
