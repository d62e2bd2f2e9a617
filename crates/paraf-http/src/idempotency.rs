//! Request-id replay: a client-supplied `x-request-id` repeated with the same credential gets
//! the first response again instead of acting twice (`paraf_domain::idempotency` has the
//! protocol; the store keeps the records, so replay works across instances).
//!
//! - First time: the request is claimed, run, and its response (status, headers, body)
//!   recorded; 5xx answers are not recorded (the claim is abandoned so the client may retry).
//! - Repeated while the first still runs: 409 `request_in_progress`.
//! - Repeated after: the recorded response, with `x-idempotent-replay: true`.
//! - Same id, different method/path/body: 422 `request_id_reused`.
//!
//! Requests without `x-request-id` (the server then generates one) are not recorded.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use paraf_domain::{Claim, IdempotencyKey, Principal, StoredResponse};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::i18n::MessageKey;
use crate::request_id::RequestId;
use crate::state::AppState;

/// Header marking a replayed response.
pub const REPLAY_HEADER: HeaderName = HeaderName::from_static("x-idempotent-replay");

/// How long a claim protects a request still being handled before another caller may take
/// it over (a crashed instance's claims expire after this).
pub const CLAIM_TTL_SECS: i64 = 120;

/// Responses larger than this are not recorded (they are answered, then the claim is
/// abandoned).
pub const MAX_RECORDED_BODY: usize = 32 * 1024 * 1024;

/// What a request id is bound to: method, path with query, and body.
pub fn fingerprint(method: &str, uri: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(uri.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

/// What is kept of a reply for replay: its status, its recordable headers and its body.
pub fn stored(parts: &axum::http::response::Parts, body: &[u8]) -> StoredResponse {
    StoredResponse {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .filter(|(k, _)| recordable(k))
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: body.to_vec(),
    }
}

/// A recorded response, marked as replayed.
pub fn replay(stored: StoredResponse) -> Response {
    let mut resp = Response::new(Body::from(stored.body));
    *resp.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (k, v) in stored.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().append(k, v);
        }
    }
    resp.headers_mut()
        .insert(REPLAY_HEADER, HeaderValue::from_static("true"));
    resp
}

/// Whether a response header is recorded for replay.
pub fn recordable(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "content-length"
            | "transfer-encoding"
            | "connection"
            | "date"
            | "set-cookie"
            | "x-request-id"
            | "x-ratelimit-limit"
            | "x-ratelimit-remaining"
            | "x-ratelimit-reset"
    )
}

/// Middleware (after authentication and rate limiting).
pub async fn replay_or_record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (Some(principal), Some(id)) = (
        req.extensions().get::<Principal>().cloned(),
        req.extensions().get::<RequestId>().cloned(),
    ) else {
        return next.run(req).await;
    };
    if !id.client_supplied() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, state.config.body_limit).await {
        Ok(b) => b,
        Err(_) => return ApiError::payload_too_large(state.config.body_limit).into_response(),
    };
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let fp = fingerprint(parts.method.as_str(), uri, &bytes);
    let key = IdempotencyKey {
        credential: principal.key.clone(),
        request_id: id.as_str().to_string(),
    };
    let claim = state
        .core
        .claim_request(&key, &fp, chrono::Duration::seconds(CLAIM_TTL_SECS))
        .await;
    match claim {
        Ok(Claim::Acquired) => {}
        Ok(Claim::Completed(stored)) => {
            tracing::info!(request_id = %id.as_str(), "replaying the recorded response");
            return replay(stored);
        }
        Ok(Claim::InProgress) => {
            return ApiError::new(StatusCode::CONFLICT, MessageKey::RequestInProgress)
                .into_response()
        }
        Ok(Claim::Mismatch) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                MessageKey::RequestIdReused,
            )
            .into_response()
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if resp.status().is_server_error() {
        if let Err(e) = state.core.abandon_claim(&key).await {
            tracing::warn!(error = %e, "could not abandon an idempotency claim");
        }
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let body = match axum::body::to_bytes(body, MAX_RECORDED_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let _ = state.core.abandon_claim(&key).await;
            return ApiError::internal(format!("reading the response: {e}")).into_response();
        }
    };
    let stored = stored(&parts, &body);
    if let Err(e) = state.core.record_reply(&key, &stored).await {
        tracing::warn!(error = %e, "could not record the response for replay");
    }
    let mut resp = Response::from_parts(parts, Body::from(body));
    resp.headers_mut()
        .insert(REPLAY_HEADER, HeaderValue::from_static("false"));
    resp
}
