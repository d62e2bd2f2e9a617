//! The seed-004 conventions, enforced on every `/ext/v1` request before its handler:
//! `x-language`, `x-app-key`, `x-request-id`, `x-signature`, and request-id replay.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use paraf_core::audit::{Actor, Face};
use paraf_core::domain::{Claim, CredentialKey, GatewayApp, IdempotencyKey, StoredResponse};
use paraf_http::idempotency::{fingerprint, REPLAY_HEADER};
use paraf_http::request_id::RequestId;
use paraf_http::state::AppState;
use sha2::{Digest, Sha256};

use crate::reply::{GivenOnce, Lang, Msg, Reply, Shaped};

/// How long a claim protects a request still being handled.
const CLAIM_TTL_SECS: i64 = 120;

/// Replies larger than this are answered but not recorded for replay.
const MAX_RECORDED_BODY: usize = 8 * 1024 * 1024;

/// What the conventions established, for the handler.
#[derive(Debug, Clone)]
pub struct Ext {
    pub app: GatewayApp,
    pub lang: Lang,
    pub request_id: String,
    pub actor: Actor,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A request id: 1–128 visible ASCII characters.
fn request_id(h: &HeaderMap) -> Option<String> {
    RequestId::parse_client(header(h, "x-request-id")?).map(|id| id.as_str().to_string())
}

/// Whether a reply is kept for replay: JSON replies, unless given once (tokens, links).
fn recorded(resp: &Response) -> bool {
    let json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    json && resp.extensions().get::<GivenOnce>().is_none()
}

/// The middleware.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = Lang::from_header(header(req.headers(), "x-language"));
    let Some(key) = header(req.headers(), "x-app-key").map(str::to_string) else {
        return Reply::err(lang, Msg::MissingAppKey).into_response();
    };
    let app = match state.core.app_by_key(&key).await {
        Ok(a) => a,
        Err(e) if e.domain().is_some() => {
            return Reply::err(lang, Msg::UnknownAppKey).into_response()
        }
        Err(e) => return Reply::from_core(lang, e).into_response(),
    };
    let Some(id) = request_id(req.headers()) else {
        return Reply::err(lang, Msg::MissingRequestId).into_response();
    };
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, state.core.config.body_limit).await {
        Ok(b) => b,
        Err(_) => return Reply::err(lang, Msg::TooLarge).into_response(),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    if paraf_core::app_keys::verify_request(
        &app,
        parts.method.as_str(),
        &path_and_query,
        &id,
        &bytes,
        header(&parts.headers, "x-signature"),
    )
    .is_err()
    {
        return Reply::err(lang, Msg::BadSignature).into_response();
    }

    // Replay: per application key and request id.
    // The request as sent, and who sent it: a repeated id replays only to the same
    // credentials (the bearer token and x-user-token), never to whoever holds the app key.
    let mut who = Sha256::new();
    for name in ["authorization", "x-user-token"] {
        who.update(header(&parts.headers, name).unwrap_or_default().as_bytes());
        who.update(b"\n");
    }
    let fingerprint = fingerprint(
        parts.method.as_str(),
        &path_and_query,
        &[who.finalize().as_slice(), &bytes[..]].concat(),
    );
    let idem = IdempotencyKey {
        credential: CredentialKey(format!("app_key:{}", app.id.0)),
        request_id: id.clone(),
    };
    match state
        .core
        .claim_request(
            &idem,
            &fingerprint,
            chrono::Duration::seconds(CLAIM_TTL_SECS),
        )
        .await
    {
        Ok(Claim::Acquired) => {}
        Ok(Claim::Completed(stored)) => return replay(stored),
        Ok(Claim::InProgress) => return Reply::err(lang, Msg::RequestInProgress).into_response(),
        Ok(Claim::Mismatch) => return Reply::err(lang, Msg::RequestIdConflict).into_response(),
        Err(e) => return Reply::from_core(lang, e).into_response(),
    }

    let actor =
        paraf_http::auth::request_actor(&parts, &format!("app_key:{}", app.id.0), Face::Ext);
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(Ext {
        app,
        lang,
        request_id: id,
        actor,
    });
    let resp = next.run(req).await;
    if resp.status().is_server_error() {
        let _ = state.core.abandon_claim(&idem).await;
        return resp;
    }
    if !recorded(&resp) {
        // Tokens, links and files are given once: a repeated id gets a refusal, not the
        // reply again.
        let refusal = Reply::err(lang, Msg::TokensShownOnce);
        let stored = StoredResponse {
            status: refusal.msg.status().as_u16(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: refusal.body().to_string().into_bytes(),
        };
        if let Err(e) = state.core.record_reply(&idem, &stored).await {
            tracing::warn!(error = %e, "ext: could not record the request id");
        }
        return mark(resp, "false");
    }
    let (rparts, body) = resp.into_parts();
    let body = match axum::body::to_bytes(body, MAX_RECORDED_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let _ = state.core.abandon_claim(&idem).await;
            tracing::error!(error = %e, "ext: reading a reply");
            return Reply::err(lang, Msg::Internal).into_response();
        }
    };
    let stored = paraf_http::idempotency::stored(&rparts, &body);
    if let Err(e) = state.core.record_reply(&idem, &stored).await {
        tracing::warn!(error = %e, "ext: could not record the reply for replay");
    }
    mark(Response::from_parts(rparts, Body::from(body)), "false")
}

fn mark(mut resp: Response, replayed: &'static str) -> Response {
    resp.headers_mut()
        .insert(REPLAY_HEADER, HeaderValue::from_static(replayed));
    resp
}

/// The shared replay, marked so the outer envelope layer leaves it as recorded.
fn replay(stored: StoredResponse) -> Response {
    let mut resp = paraf_http::idempotency::replay(stored);
    resp.extensions_mut().insert(Shaped);
    resp
}

/// Gives every error on an `/ext/v1` path the envelope: those of the framework (404, 405)
/// and the shared layers (413) as well as the handlers' own.
pub async fn envelope(State(_): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(crate::PREFIX) {
        return next.run(req).await;
    }
    let lang = Lang::from_header(header(req.headers(), "x-language"));
    let resp = next.run(req).await;
    let status = resp.status();
    if status.is_success() || resp.extensions().get::<Shaped>().is_some() {
        return resp;
    }
    let msg = match status.as_u16() {
        401 => Msg::InvalidToken,
        403 => Msg::Forbidden,
        404 | 405 => Msg::NotFound,
        413 => Msg::TooLarge,
        429 => Msg::TooManyRequests,
        400..=499 => Msg::InvalidField,
        _ => Msg::Internal,
    };
    let mut reply = Reply::err(lang, msg);
    let headers = resp.headers().clone();
    if msg == Msg::InvalidField {
        // The framework's own refusal (a query or path parameter that does not parse) says
        // which parameter: kept as the reason.
        let text = axum::body::to_bytes(resp.into_body(), 2048)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        let field = if text.contains("query string") {
            "query"
        } else if text.to_ascii_lowercase().contains("path") {
            "path"
        } else {
            "request"
        };
        reply = reply.with_data(serde_json::json!({"field": field, "reason": text}));
    }
    let mut shaped = reply.into_response();
    *shaped.status_mut() = status;
    paraf_http::error::keep_headers(&headers, &mut shaped);
    shaped
}
