//! Authentication middleware shared by every dialect: one credential per request, by
//! [`AuthMethods`] the route group accepts —
//!
//! | presented as | checked by |
//! |---|---|
//! | `Authorization: Bearer paraf_pat_…` | API token (`Store::authenticate_api_token`) |
//! | `Authorization: Bearer paraf_oat_…` | OAuth2 / seed-004 access token (`authenticate_access_token`) |
//! | `Authorization: Basic base64(user:password)` | application credential, from [`ClientIp`] (`verify_app_credential`) |
//! | cookie `paraf_session=paraf_ses_…` | console session (`authenticate_console_session`) |
//!
//! On success the request carries the [`Principal`] (read it with the [`Auth`] extractor)
//! and the presented secret ([`PresentedCredential`], for logout). Every refusal is a 401
//! whose body does not say which check failed (the reason is logged with the request id);
//! only an expired access token says so (`token_expired`), so clients know to refresh.
//!
//! **Invariant:** the [`Principal`]'s `org` is the only organisation a handler may read or
//! write for the request.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use paraf_core::CoreError;
use paraf_domain::{AuthFailure, Principal, TokenKind};

use crate::error::ApiError;
use crate::request_id::ClientIp;
use crate::state::AppState;

/// Name of the console session cookie.
pub const SESSION_COOKIE: &str = "paraf_session";

/// Which credentials a group of routes accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthMethods {
    /// `Bearer paraf_pat_…`.
    pub api_token: bool,
    /// `Bearer paraf_oat_…`.
    pub access_token: bool,
    /// `Basic …` application credentials.
    pub basic: bool,
    /// The console session cookie.
    pub session_cookie: bool,
}

impl AuthMethods {
    /// Every mechanism.
    pub const ALL: AuthMethods = AuthMethods {
        api_token: true,
        access_token: true,
        basic: true,
        session_cookie: true,
    };
}

/// The secret the client presented (kept for logout; never logged).
#[derive(Clone)]
pub struct PresentedCredential {
    /// Its kind by prefix (`None` for Basic credentials).
    pub kind: Option<TokenKind>,
    secret: String,
}

impl PresentedCredential {
    /// The secret.
    pub fn expose(&self) -> &str {
        &self.secret
    }
}

impl std::fmt::Debug for PresentedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedCredential")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

enum Presented {
    Bearer(String),
    Basic(String, String),
    Cookie(String),
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
}

fn presented(headers: &HeaderMap, methods: AuthMethods) -> Result<Option<Presented>, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v
            .to_str()
            .map_err(|_| ApiError::invalid_credentials(AuthFailure::Malformed))?;
        let (scheme, rest) = v.trim().split_once(' ').unwrap_or((v, ""));
        if scheme.eq_ignore_ascii_case("bearer") && (methods.api_token || methods.access_token) {
            return Ok(Some(Presented::Bearer(rest.trim().to_string())));
        }
        if scheme.eq_ignore_ascii_case("basic") && methods.basic {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .map_err(|_| ApiError::invalid_credentials(AuthFailure::Malformed))?;
            let text = String::from_utf8(decoded)
                .map_err(|_| ApiError::invalid_credentials(AuthFailure::Malformed))?;
            let (u, p) = text
                .split_once(':')
                .ok_or_else(|| ApiError::invalid_credentials(AuthFailure::Malformed))?;
            return Ok(Some(Presented::Basic(u.to_string(), p.to_string())));
        }
        return Err(ApiError::invalid_credentials(AuthFailure::WrongTokenKind));
    }
    if methods.session_cookie {
        if let Some(c) = cookie(headers, SESSION_COOKIE) {
            return Ok(Some(Presented::Cookie(c)));
        }
    }
    Ok(None)
}

fn challenge(methods: AuthMethods) -> Vec<HeaderValue> {
    let mut v = Vec::new();
    if methods.api_token || methods.access_token {
        v.push(HeaderValue::from_static("Bearer realm=\"paraf\""));
    }
    if methods.basic {
        v.push(HeaderValue::from_static(
            "Basic realm=\"paraf\", charset=\"UTF-8\"",
        ));
    }
    v
}

fn with_challenge(mut e: ApiError, methods: AuthMethods) -> ApiError {
    if e.status() == axum::http::StatusCode::UNAUTHORIZED {
        for c in challenge(methods) {
            e = e.header(header::WWW_AUTHENTICATE, c);
        }
    }
    e
}

/// Checks the request's credential against the store.
pub async fn authenticate_request(
    state: &AppState,
    methods: AuthMethods,
    headers: &HeaderMap,
    method: &Method,
    client_ip: std::net::IpAddr,
) -> Result<(Principal, PresentedCredential), ApiError> {
    let core = &state.core;
    let Some(p) = presented(headers, methods)? else {
        return Err(ApiError::unauthenticated());
    };
    let result = match &p {
        Presented::Bearer(token) => match TokenKind::of_secret(token) {
            Some(TokenKind::ApiToken) if methods.api_token => {
                core.authenticate_api_token(token).await
            }
            Some(TokenKind::Access) if methods.access_token => {
                core.authenticate_access_token(token).await
            }
            Some(_) => Err(CoreError::Domain(AuthFailure::WrongTokenKind.into())),
            None => Err(CoreError::Domain(AuthFailure::Malformed.into())),
        },
        Presented::Basic(u, pw) => {
            crate::ratelimit::login_guard(
                state,
                client_ip,
                crate::routes::LOGIN_FAILURES_PER_MINUTE,
            )
            .await?;
            let r = core.authenticate_app_credential(u, pw, client_ip).await;
            if matches!(
                r.as_ref().err().and_then(|e| e.auth_failure()),
                Some(AuthFailure::WrongPassword | AuthFailure::UnknownCredential)
            ) {
                crate::ratelimit::login_failed(state, client_ip).await;
            }
            r
        }
        Presented::Cookie(c) => {
            // SameSite=Strict keeps the cookie off cross-site requests; refuse a foreign
            // Origin on unsafe methods as well (defence in depth against CSRF).
            if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
                if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
                    if origin.trim_end_matches('/') != state.public_url.as_ref() {
                        return Err(ApiError::forbidden().cause("cross-origin cookie request"));
                    }
                }
            }
            core.authenticate_session(c).await
        }
    };
    let principal = result.map_err(ApiError::from)?;
    let cred = match p {
        Presented::Bearer(s) | Presented::Cookie(s) => PresentedCredential {
            kind: TokenKind::of_secret(&s),
            secret: s,
        },
        Presented::Basic(u, _) => PresentedCredential {
            kind: None,
            secret: u,
        },
    };
    Ok((principal, cred))
}

/// Middleware: authenticates with `methods` or answers 401.
pub async fn require_auth(
    State((state, methods)): State<(AppState, AuthMethods)>,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = req
        .extensions()
        .get::<ClientIp>()
        .map(|c| c.0)
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    match authenticate_request(&state, methods, req.headers(), req.method(), ip).await {
        Ok((principal, cred)) => {
            tracing::debug!(org = %principal.org, kind = ?principal.kind, key = %principal.key, "authenticated");
            req.extensions_mut().insert(principal);
            req.extensions_mut().insert(cred);
            next.run(req).await
        }
        Err(e) => with_challenge(e, methods).into_response(),
    }
}

/// The principal [`require_auth`] put on a request, and the client's address (loopback when
/// the request context did not set one): what a dialect's caller extractor starts from.
pub fn principal_of(parts: &Parts) -> Option<(Principal, std::net::IpAddr)> {
    let p = parts.extensions.get::<Principal>().cloned()?;
    let ip = parts
        .extensions
        .get::<ClientIp>()
        .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |c| c.0);
    Some((p, ip))
}

/// An audit actor `id` for a request through `face`: the client's address and user agent.
pub fn request_actor(
    parts: &Parts,
    id: &str,
    face: paraf_core::audit::Face,
) -> paraf_core::audit::Actor {
    let mut actor = paraf_core::audit::Actor::new(id, face);
    actor.ip = parts.extensions.get::<ClientIp>().map(|c| c.0);
    actor.user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect());
    actor
}

/// The authenticated **user** of a request (an application credential has none) and their
/// audit actor (`user:<id>` through `face`): what the dialects whose callers are people
/// (GesDocs, Alphasign) extract.
pub fn user_caller(
    parts: &Parts,
    face: paraf_core::audit::Face,
) -> Option<(Principal, paraf_domain::UserId, paraf_core::audit::Actor)> {
    let (p, ip) = principal_of(parts)?;
    let user = p.user?;
    let mut actor = request_actor(parts, &format!("user:{user}"), face);
    actor.ip = Some(ip);
    Some((p, user, actor))
}

/// Extractor: the authenticated caller (401 if the route has no auth middleware).
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Auth)
            .ok_or_else(ApiError::unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; paraf_session=paraf_ses_x"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("paraf_ses_x"));
        assert_eq!(cookie(&h, "b"), None);
    }
}
