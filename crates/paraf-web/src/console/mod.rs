//! The admin console: server-rendered HTML pages (no JavaScript) under `/console` for the
//! administrators of an organisation — login, dashboard, API Credentials (seed 001's
//! "PEMBUATAN CREDENTIAL"), identities, seals and the audit log. See `docs/console.md`.
//!
//! Security: the session is the shared console session cookie (`paraf_session`, HttpOnly,
//! SameSite=Strict, Secure unless `cookie_secure = false`); every state-changing form
//! carries a CSRF token (HMAC-SHA256 keyed by the session secret, checked in constant time)
//! and every unsafe request with a foreign `Origin` or a cross-site `Sec-Fetch-Site` is
//! refused (403) before any handler runs. Every page reads and writes only the session's
//! organisation, and every action is audited with the user, IP and user agent.

mod app_keys;
mod audit;
mod credentials;
mod dashboard;
mod documents;
pub mod html;
mod identities;
mod login;
mod members;
mod seals;
mod tokens;
mod webhooks;

use std::net::IpAddr;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hmac::{Hmac, KeyInit, Mac};
use paraf_core::domain::{DomainError, Organisation, User};
use paraf_core::CoreError;
use sha2::Sha256;

use html::{Header, Nav};
use paraf_core::audit::{Actor, AuditAction, Face};
use paraf_http::auth::SESSION_COOKIE;
use paraf_http::request_id::ClientIp;
use paraf_http::state::AppState;

/// The console's routes, with their security headers and the cross-origin guard.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard::show))
        .route("/console/login", get(login::form).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route(
            "/console/credentials",
            get(credentials::list).post(credentials::create),
        )
        .route("/console/credentials/new", get(credentials::new_form))
        .route("/console/credentials/{id}", post(credentials::update))
        .route(
            "/console/credentials/{id}/edit",
            get(credentials::edit_form),
        )
        .route(
            "/console/credentials/{id}/delete",
            get(credentials::delete_confirm).post(credentials::delete),
        )
        .route(
            "/console/identities",
            get(identities::list).post(identities::register),
        )
        .route("/console/identities/{id}/{action}", post(identities::act))
        .route("/console/seals", get(seals::list))
        .route("/console/tokens", get(tokens::list).post(tokens::create))
        .route(
            "/console/documents",
            get(documents::list).post(documents::create),
        )
        .route("/console/documents/{id}/send", post(documents::send))
        .route("/console/contacts", post(documents::add_contact))
        .route("/console/members", get(members::list).post(members::invite))
        .route("/console/tokens/{id}/revoke", post(tokens::revoke))
        .route(
            "/console/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/console/webhooks/{id}/{action}", post(webhooks::act))
        .route(
            "/console/webhooks/deliveries/{id}/redeliver",
            post(webhooks::redeliver),
        )
        .route(
            "/console/app-keys",
            get(app_keys::list).post(app_keys::create),
        )
        .route("/console/app-keys/{id}/{action}", post(app_keys::act))
        .route("/console/audit", get(audit::list))
        .route_layer(from_fn_with_state(state, guard))
}

/// The Content-Security-Policy of every console page: nothing but the inline style sheet
/// (by its hash), same-origin form targets, no framing.
fn csp() -> String {
    let hash = crate::render::csp_hash(html::CSS);
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Middleware: refuses cross-origin unsafe requests and adds the security headers.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !same_origin(&state, req.headers())
    {
        tracing::info!(path = %req.uri().path(), "console: cross-origin request refused");
        return forbidden("Permintaan dari situs lain ditolak (cross-origin).");
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let url = url.trim_end_matches('/');
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => &url[..i + 3 + j],
            None => url,
        },
        None => url,
    }
}

/// Whether an unsafe request may come from where it says it comes from: a browser's
/// `Sec-Fetch-Site` must be `same-origin` (or `none`), and an `Origin`, when present, must be
/// the public URL's origin or name the very host the request was sent to. Requests without
/// either (non-browser clients) pass; they still need the CSRF token.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin" | "none")) {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if origin.eq_ignore_ascii_case(origin_of(&state.public_url)) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((scheme, authority)), Some(host)) => {
            matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// A 303 to `location`.
pub(crate) fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// A message page (no navigation unless `who` is given).
fn message_page(
    status: StatusCode,
    title: &str,
    who: Option<&Session>,
    heading: &str,
    message: &str,
    back: bool,
) -> Response {
    let body = crate::render::fragment(&html::Message {
        heading,
        message,
        back,
    });
    let header = who.map(Session::header);
    html::page(status, title, Nav::None, header.as_ref(), &body)
}

/// What a core refusal says to an administrator; an internal failure is logged, and only
/// said to have happened.
pub(crate) fn user_message(e: &paraf_core::CoreError) -> String {
    match e {
        paraf_core::CoreError::Internal(cause) => {
            tracing::error!(cause = %cause, "console action failed");
            "terjadi kesalahan internal; silakan coba lagi.".to_string()
        }
        other => other.to_string(),
    }
}

/// A 403 page.
pub(crate) fn forbidden(msg: &str) -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "Ditolak",
        None,
        "403 · Ditolak",
        msg,
        true,
    )
}

/// A 500 page; the cause is logged, never shown.
pub(crate) fn internal(cause: impl std::fmt::Display) -> Response {
    tracing::error!(cause = %cause, "console request failed");
    message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Kesalahan",
        None,
        "Terjadi kesalahan",
        "Terjadi kesalahan internal; silakan coba lagi.",
        true,
    )
}

/// A 404 page.
pub(crate) fn not_found(who: &Session) -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Tidak ditemukan",
        Some(who),
        "Tidak ditemukan",
        "Data tidak ditemukan.",
        false,
    )
}

/// The CSRF token of a session: hex HMAC-SHA256 keyed by the session secret.
fn csrf_token(secret: &str) -> String {
    csrf_mac(secret)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

fn csrf_mac(secret: &str) -> Option<Hmac<Sha256>> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).ok()?;
    m.update(b"paraf console csrf v1");
    Some(m)
}

/// Whether `presented` is the session's CSRF token (constant-time comparison).
fn csrf_ok(secret: &str, presented: Option<&str>) -> bool {
    let Some(bytes) = presented.and_then(|p| hex::decode(p.trim()).ok()) else {
        return false;
    };
    csrf_mac(secret).is_some_and(|m| m.verify_slice(&bytes).is_ok())
}

/// The client's address and user agent, for the audit log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Client {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl Client {
    /// `id` acting from this client through the console.
    pub fn actor(&self, id: String) -> Actor {
        Actor {
            id,
            via: Face::Console,
            ip: self.ip,
            user_agent: self.user_agent.clone(),
        }
    }

    fn of(parts: &Parts) -> Client {
        Client {
            ip: parts.extensions.get::<ClientIp>().map(|c| c.0),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(300).collect()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client::of(parts))
    }
}

/// Appends a console event to the organisation's audit chain (failures are logged).
pub(crate) async fn audit_event(
    state: &AppState,
    org: paraf_core::domain::OrgId,
    actor: String,
    client: &Client,
    action: AuditAction,
    target: Option<String>,
    details: serde_json::Value,
) {
    state
        .record(state.audit_event(org, &client.actor(actor), action, target, details))
        .await;
}

/// A signed-in administrator: the extractor of every page but the login page. Without a
/// valid session it redirects to `/console/login`; a session of a non-admin gets 403.
pub(crate) struct Session {
    pub org: Organisation,
    pub user: User,
    secret: String,
    pub csrf: String,
    pub client: Client,
}

impl Session {
    /// The header of the pages.
    pub fn header(&self) -> Header<'_> {
        Header {
            org: self.org.name.as_str(),
            email: self.user.email.as_str(),
            csrf: &self.csrf,
        }
    }

    /// The audit actor's id.
    pub fn actor_id(&self) -> String {
        format!("user:{}", self.user.id)
    }

    /// The audit actor: this administrator, from this client.
    pub fn actor(&self) -> Actor {
        self.client.actor(self.actor_id())
    }

    /// The 403 answer when `presented` is not this session's CSRF token, `None` when it is.
    pub fn csrf_refusal(&self, presented: Option<&str>) -> Option<Response> {
        if csrf_ok(&self.secret, presented) {
            return None;
        }
        tracing::info!(user = %self.user.id, "console: CSRF token missing or wrong");
        Some(forbidden(
            "Token formulir (CSRF) tidak ada atau tidak sah. Muat ulang halaman dan coba lagi.",
        ))
    }

    /// The session's secret (for logout).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Audits an action of this administrator.
    pub async fn audit(
        &self,
        state: &AppState,
        action: AuditAction,
        target: Option<String>,
        mut details: serde_json::Value,
    ) {
        if let Some(obj) = details.as_object_mut() {
            obj.insert("by".into(), self.user.email.as_str().into());
        }
        audit_event(
            state,
            self.org.id,
            self.actor_id(),
            &self.client,
            action,
            target,
            details,
        )
        .await;
    }

    /// A page of this session.
    pub fn page(&self, status: StatusCode, title: &str, nav: Nav, body: &str) -> Response {
        html::page(status, title, nav, Some(&self.header()), body)
    }
}

fn to_login(state: &AppState, clear: bool) -> Response {
    let mut resp = see_other("/console/login");
    if clear {
        resp.headers_mut()
            .insert(header::SET_COOKIE, login::clear_session_cookie(state));
    }
    resp
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(secret) = paraf_http::auth::cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login(state, false));
        };
        let (org, user) = match state.console_session(&secret).await {
            Ok(v) => v,
            Err(e) if e.auth_failure().is_some() => return Err(to_login(state, true)),
            Err(CoreError::Domain(DomainError::Forbidden { .. })) => {
                return Err(forbidden("Console hanya untuk administrator organisasi."))
            }
            Err(e) => return Err(internal(e)),
        };
        let csrf = csrf_token(&secret);
        Ok(Session {
            org,
            user,
            secret,
            csrf,
            client: Client::of(parts),
        })
    }
}

/// A form with only the CSRF token (action buttons).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct CsrfOnly {
    pub csrf: Option<String>,
}

/// A posted console form whose CSRF token checks out: the session and the form. Refused with
/// 403 for the token, 422 for a body that is not the form.
pub(crate) struct SessionForm<T> {
    pub session: Session,
    pub form: T,
}

/// A form with the session's CSRF token in it.
pub(crate) trait WithCsrf {
    fn csrf(&self) -> Option<&str>;
}

impl<T> axum::extract::FromRequest<AppState> for SessionForm<T>
where
    T: serde::de::DeserializeOwned + WithCsrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let axum::Form(form) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(r) = session.csrf_refusal(form.csrf()) {
            return Err(r);
        }
        Ok(SessionForm { session, form })
    }
}

/// A posted action button (`POST /console/…/{id}/{action}`, or `…/{id}/<fixed>`): the
/// session, the id and the action, once the form's CSRF token checked out. Refused with 403
/// for the token, 404 for an id that is not a number.
pub(crate) struct ActionForm {
    pub session: Session,
    pub id: i64,
    /// The `{action}` path segment (empty when the route has none).
    pub action: String,
}

impl axum::extract::FromRequest<AppState> for ActionForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let axum::extract::Path(params) = axum::extract::Path::<
            std::collections::HashMap<String, String>,
        >::from_request_parts(&mut parts, state)
        .await
        .map_err(|_| not_found(&session))?;
        let req = Request::from_parts(parts, body);
        let axum::Form(f) = axum::Form::<CsrfOnly>::from_request(req, state)
            .await
            .map_err(|_| not_found(&session))?;
        if let Some(r) = session.csrf_refusal(f.csrf.as_deref()) {
            return Err(r);
        }
        let Some(id) = params.get("id").and_then(|v| v.parse::<i64>().ok()) else {
            return Err(not_found(&session));
        };
        let action = params.get("action").cloned().unwrap_or_default();
        Ok(ActionForm {
            session,
            id,
            action,
        })
    }
}

/// `?done=` after a redirect.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Done {
    pub done: Option<String>,
}

impl Done {
    /// The success notice for `?done=` (see [`done_notice`]).
    pub fn notice(&self, messages: &[(&'static str, &'static str)]) -> Option<(bool, String)> {
        done_notice(self.done.as_deref(), messages).map(|m| (true, m.to_string()))
    }
}

/// The `?done=` notice of a page after a redirect (fixed messages only: nothing of the URL is
/// echoed).
pub(crate) fn done_notice(
    done: Option<&str>,
    messages: &[(&'static str, &'static str)],
) -> Option<&'static str> {
    done.and_then(|d| messages.iter().find(|(k, _)| *k == d))
        .map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(origin_of("https://x.example/paraf/"), "https://x.example");
        assert_eq!(origin_of("https://x.example/"), "https://x.example");
    }

    #[test]
    fn csrf_tokens_verify_only_for_their_session() {
        let t = csrf_token("paraf_ses_a");
        assert_eq!(t.len(), 64);
        assert!(csrf_ok("paraf_ses_a", Some(&t)));
        assert!(!csrf_ok("paraf_ses_b", Some(&t)));
        assert!(!csrf_ok("paraf_ses_a", None));
        assert!(!csrf_ok("paraf_ses_a", Some("zz")));
        assert!(!csrf_ok("paraf_ses_a", Some(&t[..62])));
    }
}
