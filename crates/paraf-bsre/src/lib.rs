//! The BSrE Esign Client Service dialect (seed 001): v1 (`/api/sign/pdf`,
//! `/api/sign/download/{id_dokumen}`, `/api/sign/verify`, multipart) and v2 (`/api/v2/...`,
//! JSON with base64 files). Authentication is HTTP Basic with an application credential (its
//! IP allow-list enforced); errors are `{"error": "<message>", "status_code": <code>}` (see
//! [`error`] and `docs/bsre.md`).
//!
//! The handlers are thin: identities, signing, unlocking and one-time codes are the core's
//! (`paraf_core::signing`), verification is the validator's report mapped in [`verify`].

#![forbid(unsafe_code)]

pub mod error;
pub mod openapi;
pub mod v1;
pub mod v2;
pub mod verify;
pub mod wire;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::Router;
use paraf_core::audit::{Actor, AuditAction, Face};
use paraf_core::domain::Principal;

use error::{BsreError, Code, Lang, Pending, Rendered};
use paraf_http::auth::{require_auth, AuthMethods};
use paraf_http::request_id::RequestId;
use paraf_http::state::AppState;

/// Basic application credentials only, as the seed says.
pub const AUTH: AuthMethods = AuthMethods {
    api_token: false,
    access_token: false,
    basic: true,
    session_cookie: false,
};

/// Every BSrE route, with its authentication. The error envelope ([`envelope`]) is applied
/// by the application around the whole router (outside the body limit), for these paths.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(v1::routes())
        .merge(v2::routes())
        .merge(verify::routes())
        .route_layer(from_fn_with_state(state.clone(), count_request))
        .route_layer(from_fn_with_state((state, AUTH), require_auth))
}

/// The BSrE dialect as the server registers it: its routes, its OpenAPI paths, and its error
/// envelope around everything on its paths. (The activation page is `paraf-web`'s.)
pub fn dialect() -> paraf_http::Dialect {
    paraf_http::Dialect {
        name: "bsre",
        routes: router,
        openapi: openapi::add_to,
        wrap: Some(|state, app| app.layer(from_fn_with_state(state, envelope))),
        payload: None,
    }
}

/// Whether a path belongs to the BSrE dialect (its errors take the BSrE shape).
pub fn is_bsre_path(path: &str) -> bool {
    path.starts_with("/api/sign/") || path.starts_with("/api/v2/")
}

/// Counts every authenticated request per application and day (the console's dashboard),
/// with the signatures it made (a handler says how many with a [`Signatures`] response
/// extension): one write per request.
async fn count_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let who = req.extensions().get::<Principal>().cloned();
    let resp = next.run(req).await;
    if let Some(p) = who {
        let signed = resp.extensions().get::<Signatures>().map_or(0, |s| s.0);
        state
            .usage
            .add(p.org, p.key.as_str(), state.clock.now(), 1, signed);
    }
    resp
}

/// How many signatures a response carries (for the daily counters).
#[derive(Debug, Clone, Copy)]
pub struct Signatures(pub u64);

/// `resp` marked as carrying `n` signatures.
pub(crate) fn with_signatures(mut resp: Response, n: u64) -> Response {
    resp.extensions_mut().insert(Signatures(n));
    resp
}

/// Gives every error of a BSrE path the BSrE shape, in the request's language: the
/// handlers' own errors, the shared middleware's (401, 413 from the body limit) and the
/// framework's refusals (404, 405, 415, bad JSON). Other paths pass untouched.
pub async fn envelope(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_bsre_path(req.uri().path()) {
        return next.run(req).await;
    }
    let lang = Lang::of(req.headers());
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.as_str().to_string());
    let resp = next.run(req).await;
    if let Some(Pending(e)) = resp.extensions().get::<Pending>().cloned() {
        return e.render(lang, request_id.as_deref());
    }
    let status = resp.status();
    if resp.extensions().get::<Rendered>().is_some()
        || !(status.is_client_error() || status.is_server_error())
    {
        return resp;
    }
    let err = match status {
        StatusCode::UNAUTHORIZED => BsreError::new(Code::Unauthorized),
        StatusCode::NOT_FOUND => BsreError::new(Code::NotFound),
        StatusCode::METHOD_NOT_ALLOWED => BsreError::new(Code::MethodNotAllowed),
        StatusCode::PAYLOAD_TOO_LARGE => {
            BsreError::new(Code::PayloadTooLarge).arg("limit", state.config.body_limit)
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            BsreError::new(Code::UnsupportedMediaType).arg("expected", "application/json")
        }
        s if s.is_server_error() => BsreError::internal(format!("status {s}")),
        s => {
            // The framework's rejection text describes the client's input only.
            let (_, body) = resp.into_parts();
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text: String = String::from_utf8_lossy(&text).chars().take(300).collect();
            let detail = if text.trim().is_empty() {
                s.to_string()
            } else {
                text.trim().to_string()
            };
            BsreError::invalid("body", detail)
        }
    };
    err.render(lang, request_id.as_deref())
}

/// The calling application of a request: its principal (set by the authentication layer),
/// its address and the reply language.
pub struct Caller {
    /// Who (the application credential's organisation and key).
    pub p: Principal,
    /// From where.
    pub ip: std::net::IpAddr,
    /// In which language replies are written.
    pub lang: Lang,
}

impl axum::extract::FromRequestParts<AppState> for Caller {
    type Rejection = BsreError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &AppState,
    ) -> Result<Self, BsreError> {
        let (p, ip) = paraf_http::auth::principal_of(parts)
            .ok_or_else(|| BsreError::new(Code::Unauthorized))?;
        Ok(Caller {
            p,
            ip,
            lang: Lang::of(&parts.headers),
        })
    }
}

/// The calling application as an audit actor.
pub(crate) fn actor(p: &Principal) -> Actor {
    Actor::new(p.key.as_str(), Face::Bsre)
}

/// Records a signature (or seal) and waits until the record is stored, so it is on record
/// before the reply (a failure is logged, not fatal: the signature is already made).
pub(crate) async fn audit_signature(
    state: &AppState,
    p: &Principal,
    action: AuditAction,
    target: String,
    details: serde_json::Value,
) {
    state
        .record(state.audit_event(p.org, &actor(p), action, Some(target), details))
        .await;
}

/// Queues the record of any other action (codes, activations, downloads): it joins the next
/// batch without holding up the reply.
pub(crate) fn audit(
    state: &AppState,
    p: &Principal,
    action: AuditAction,
    target: String,
    details: serde_json::Value,
) {
    state.record_later(state.audit_event(p.org, &actor(p), action, Some(target), details));
}

/// The identity a request names by NIK or e-mail (one of them is required).
pub(crate) async fn find_identity(
    state: &AppState,
    p: &Principal,
    nik: Option<&str>,
    email: Option<&str>,
) -> Result<paraf_core::domain::Identity, BsreError> {
    let given = |v: Option<&str>| v.is_some_and(|s| !s.trim().is_empty());
    if !given(nik) && !given(email) {
        return Err(BsreError::missing("nik"));
    }
    Ok(paraf_core::signing::find_identity(state, p, nik, email).await?)
}
