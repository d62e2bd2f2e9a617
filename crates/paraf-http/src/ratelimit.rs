//! Rate limits per credential from the organisation's plan (per minute, day and month),
//! counted in the store so that every instance on one database shares them.
//!
//! For each window, shortest first, the request is counted (`Core::rate_count`: in blocks
//! reserved in the store while plenty remains, one by one near the limit — `paraf_core::hot`)
//! until one window refuses; the longer windows are then only read, so a refused request does
//! not eat into the day's or month's budget. The reported window is the most restrictive
//! (`RateDecision::most_restrictive`): headers `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
//! `X-RateLimit-Reset` (Unix seconds) on every answer, and `Retry-After` with 429.
//!
//! Time comes from the injected clock, so tests cross window boundaries without sleeping.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use paraf_domain::{Principal, RateDecision, RateWindow, Timestamp};

use crate::error::ApiError;
use crate::i18n::MessageKey;
use crate::state::AppState;

/// `X-RateLimit-Limit`.
pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `X-RateLimit-Remaining`.
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `X-RateLimit-Reset`.
pub const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Counts a request of `principal` at `now`; returns every window's decision.
pub async fn check(
    state: &AppState,
    principal: &Principal,
    now: Timestamp,
) -> Result<Vec<RateDecision>, ApiError> {
    let org = state.core.organisation(principal.org).await?;
    let limits = org.rate_limits();
    let key = principal.key.as_str();
    let mut decisions = Vec::with_capacity(3);
    let mut refused = false;
    for w in RateWindow::ALL {
        let start = w.start(now);
        let limit = limits.limit(w);
        let count = if refused {
            state.core.rate_seen(key, w, start).await? + 1
        } else {
            state.core.rate_count(key, w, start, limit).await?
        };
        let d = RateDecision::evaluate(w, limit, count, now);
        refused |= !d.allowed;
        decisions.push(d);
    }
    Ok(decisions)
}

fn num(v: u64) -> HeaderValue {
    HeaderValue::from(v)
}

/// Puts the rate-limit headers of `d` on `resp`.
pub fn set_headers(resp: &mut Response, d: &RateDecision) {
    let h = resp.headers_mut();
    h.insert(LIMIT, num(d.limit));
    h.insert(REMAINING, num(d.remaining));
    h.insert(RESET, HeaderValue::from(d.reset_at.timestamp().max(0)));
}

/// The 429 answer for a refusing decision.
pub fn refusal(d: &RateDecision) -> Response {
    let mut resp = ApiError::new(StatusCode::TOO_MANY_REQUESTS, MessageKey::RateLimited)
        .arg("limit", d.limit)
        .arg("window", d.window.as_str())
        .arg("retry_after", d.retry_after_secs)
        .header(axum::http::header::RETRY_AFTER, num(d.retry_after_secs))
        .into_response();
    set_headers(&mut resp, d);
    resp
}

/// Middleware (after authentication): enforces the plan's limits for the credential.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(principal) = req.extensions().get::<Principal>().cloned() else {
        return ApiError::unauthenticated().into_response();
    };
    let now = state.clock.now();
    let decisions = match check(&state, &principal, now).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let Some(shown) = RateDecision::most_restrictive(&decisions) else {
        return next.run(req).await;
    };
    if !shown.allowed {
        tracing::info!(key = %principal.key, window = %shown.window, limit = shown.limit, "rate limited");
        return refusal(&shown);
    }
    // Every admitted request is counted in the organisation's usage (its limits are the
    // rate windows above, which reset; the usage counter does not).
    if let Err(e) = state
        .core
        .count_usage(principal.org, paraf_domain::QuotaKind::ApiRequests, 1)
        .await
    {
        return ApiError::from(e).into_response();
    }
    let mut resp = next.run(req).await;
    set_headers(&mut resp, &shown);
    resp
}

fn login_key(ip: std::net::IpAddr) -> String {
    format!("login-ip:{ip}")
}

/// Before checking a password from `ip` (token endpoint, console login, Basic credentials):
/// the 429 to send if `ip` already failed `limit` times this minute. Checking costs an
/// Argon2id hash, so guessers are stopped before it.
pub async fn login_guard(
    state: &AppState,
    ip: std::net::IpAddr,
    limit: u64,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let w = RateWindow::Minute;
    let failures = state
        .core
        .rate_peek(&login_key(ip), w, w.start(now))
        .await?;
    if failures < limit {
        return Ok(());
    }
    let d = RateDecision::evaluate(w, limit, failures + 1, now);
    Err(
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, MessageKey::RateLimited)
            .arg("limit", d.limit)
            .arg("window", d.window.as_str())
            .arg("retry_after", d.retry_after_secs)
            .header(axum::http::header::RETRY_AFTER, num(d.retry_after_secs))
            .cause(format!("login failures from {ip}")),
    )
}

/// Records a failed password check from `ip`.
pub async fn login_failed(state: &AppState, ip: std::net::IpAddr) {
    let now = state.clock.now();
    let w = RateWindow::Minute;
    if let Err(e) = state.core.rate_hit(&login_key(ip), w, w.start(now)).await {
        tracing::warn!(error = %e, "counting a login failure failed");
    }
}
