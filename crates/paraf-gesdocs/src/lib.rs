//! The GesDocs dialect (seed 002): accounts (`POST /api/register`, `POST /api/login`),
//! personal API tokens (`/api/tokens`, the account page's "Mes tokens API" as an API), and
//! `GET /api/meta`, and signature requests (`POST /api/signature-requests`: an envelope sent to
//! the signers in turn). Bearer authentication with a personal API token or the login's token;
//! errors in the seed's shape (see [`error`] and `docs/gesdocs.md`).
//!
//! The handlers are thin: accounts, logins and tokens are the core's (`paraf_core::accounts`).

#![forbid(unsafe_code)]

pub mod error;
pub mod openapi;
pub mod routes;
pub mod secure_downloads;
pub mod signature_requests;
pub mod verify;
pub mod webhook;
pub mod wire;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::Router;
use paraf_core::audit::{Actor, Face};
use paraf_core::domain::{Principal, UserId};
use paraf_http::auth::{require_auth, AuthMethods};
use paraf_http::state::AppState;
use serde::de::DeserializeOwned;

use error::{GesDocsError, Rendered};

/// The face envelopes made through GesDocs carry (their webhooks take the GesDocs shape).
pub const FACE: &str = "gesdocs";

/// Bearer tokens: personal API tokens and the tokens `login`/`register` hand out.
pub const AUTH: AuthMethods = AuthMethods {
    api_token: true,
    access_token: true,
    basic: false,
    session_cookie: false,
};

/// Every GesDocs route: the public ones, and the others behind bearer authentication.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(routes::private().route_layer(from_fn_with_state((state, AUTH), require_auth)))
        .merge(routes::public())
}

/// The GesDocs dialect as the server registers it.
pub fn dialect() -> paraf_http::Dialect {
    paraf_http::Dialect {
        name: "gesdocs",
        routes: router,
        openapi: openapi::add_to,
        wrap: Some(|state, app| app.layer(from_fn_with_state(state, envelope))),
        payload: Some((FACE, webhook::payload)),
    }
}

/// The paths of the dialect (their errors take the GesDocs shape).
pub fn is_gesdocs_path(path: &str) -> bool {
    matches!(
        path,
        "/api/login"
            | "/api/register"
            | "/api/meta"
            | "/api/tokens"
            | "/api/signature-requests"
            | "/api/verify-document"
            | "/api/secure-downloads"
            | "/api/uploads"
    ) || path.starts_with("/api/tokens/")
        || path.starts_with("/api/signature-requests/")
}

/// Gives every error of a GesDocs path the GesDocs shape: the shared layer's (401 from the
/// authentication, 413 from the body limit, 429) and the framework's (404, 405).
pub async fn envelope(State(_): State<AppState>, req: Request, next: Next) -> Response {
    if !is_gesdocs_path(req.uri().path()) {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    let status = resp.status();
    if resp.extensions().get::<Rendered>().is_some() || status.is_success() {
        return resp;
    }
    let message = match status {
        StatusCode::UNAUTHORIZED => "Unauthenticated.",
        StatusCode::NOT_FOUND => "Not found.",
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request is too large.",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests.",
        s if s.is_server_error() => "Internal server error.",
        _ => "The request could not be read.",
    };
    let (parts, _) = resp.into_parts();
    let mut out = axum::response::IntoResponse::into_response(GesDocsError::new(status, message));
    paraf_http::error::keep_headers(&parts.headers, &mut out);
    out
}

/// The authenticated caller: a user (GesDocs accounts are people; an application credential
/// is refused).
pub struct Caller {
    pub p: Principal,
    pub user: UserId,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = GesDocsError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &AppState,
    ) -> Result<Self, GesDocsError> {
        let (p, user, actor) = paraf_http::auth::user_caller(parts, Face::GesDocs)
            .ok_or_else(GesDocsError::unauthenticated)?;
        Ok(Caller { p, user, actor })
    }
}

/// A request body in JSON or as a form (`application/x-www-form-urlencoded`), as GesDocs
/// accepts both; unreadable bodies are a GesDocs error.
pub struct Input<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Input<T> {
    type Rejection = GesDocsError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, GesDocsError> {
        let ct = content_type(&req);
        let unreadable = |why: String| GesDocsError::new(StatusCode::BAD_REQUEST, why);
        if ct.starts_with("application/x-www-form-urlencoded") {
            let axum::Form(v) = axum::Form::<T>::from_request(req, state)
                .await
                .map_err(|e| {
                    unreadable(format!("The form could not be read: {}", e.body_text()))
                })?;
            return Ok(Input(v));
        }
        if !(ct.is_empty() || ct.starts_with("application/json")) {
            return Err(GesDocsError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send JSON (application/json) or a form (application/x-www-form-urlencoded).",
            ));
        }
        json_body(req, state).await.map(Input)
    }
}

/// The request's media type, lower case (empty when none is given).
pub(crate) fn content_type(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// A JSON request body; no body at all reads as an empty object (every required field is
/// then reported).
pub(crate) async fn json_body<T: DeserializeOwned>(
    req: Request,
    state: &AppState,
) -> Result<T, GesDocsError> {
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| GesDocsError::new(e.status(), "The request body could not be read."))?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        GesDocsError::new(
            StatusCode::BAD_REQUEST,
            format!("The body is not valid JSON: {e}."),
        )
    })
}
