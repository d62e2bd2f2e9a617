//! The shared routes: operations (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`), the
//! OAuth2 token endpoint and revocation, console login/logout, `/api/me` and the admin's
//! `/admin/outbox`. Dialects add their own modules beside this one.

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use paraf_domain::{
    CredentialKind, Email, IssuedTokens, OrgId, Organisation, Principal, Role, TokenKind,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Auth, PresentedCredential, SESSION_COOKIE};
use crate::error::ApiError;
use crate::ratelimit;
use crate::request_id::ClientIp;
use crate::state::AppState;

/// Failed password checks (token endpoint, console login, Basic credentials) allowed per
/// client IP and minute before further attempts get 429.
pub const LOGIN_FAILURES_PER_MINUTE: u64 = 30;

// ---------------------------------------------------------------- files

/// `GET /files/{uuid}/{key}/{name}`: a file of an envelope for whoever holds its link
/// (`document.pdf`, `certificat.pdf`, `certificat.json`; see `paraf_core::events::FileLinks`).
/// Anything wrong is a plain 404.
pub async fn linked_file(
    State(state): State<AppState>,
    axum::extract::Path((uuid, key, name)): axum::extract::Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (content_type, file) = state
        .core
        .linked_file(&uuid, &key, &name)
        .await
        .map_err(|e| {
            if e.is_not_found() {
                ApiError::not_found()
            } else {
                ApiError::from(e)
            }
        })?;
    let disposition = format!("attachment; filename=\"{name}\"");
    let body = crate::files::streamed(file);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::HeaderName::from_static("referrer-policy"),
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------- operations

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers and the server is not shutting down.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    if state.shutdown.is_triggered() {
        return Err(ApiError::unavailable("shutting down"));
    }
    state
        .core
        .ping()
        .await
        .map_err(|e| ApiError::unavailable(format!("database: {e}")))?;
    Ok(Json(json!({"status": "ready"})))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(counts) = state.core.job_counts().await {
        let mut by_state = std::collections::BTreeMap::<&str, f64>::new();
        for s in ["queued", "leased", "done", "dead"] {
            by_state.insert(s, 0.0);
        }
        for (_, status, n) in counts {
            *by_state.entry(status.as_str()).or_default() += n as f64;
        }
        for (s, n) in by_state {
            state.metrics.set_job_gauge(s, n);
        }
    }
    state
        .metrics
        .set_blob_counts(state.core.blob_stats.counts());
    state
        .metrics
        .set_sign_counts(paraf_core::signing::sign_timings());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `GET /openapi.json`.
pub async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json((*state.openapi).clone())
}

/// `GET /openapi/{dialect}.json`: one face's document.
pub async fn dialect_openapi(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    file.strip_suffix(".json")
        .and_then(|name| state.dialect_openapi.get(name))
        .map(|doc| Json(doc.clone()))
        .ok_or_else(ApiError::not_found)
}

// ---------------------------------------------------------------- OAuth2

/// A body that is `application/x-www-form-urlencoded`, JSON or `multipart/form-data` (text
/// parts only: what generated OAuth clients such as Signing Today's SDKs and `curl -F` send).
pub struct FormOrJson<T>(pub T);

impl<T: DeserializeOwned + Send + 'static, S: Send + Sync> FromRequest<S> for FormOrJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
        if multipart {
            let unreadable =
                |status: StatusCode| body_rejection(status, "the multipart body could not be read");
            let mut mp = axum::extract::Multipart::from_request(req, state)
                .await
                .map_err(|e| unreadable(e.status()))?;
            let mut pairs = Vec::new();
            while let Some(field) = mp.next_field().await.map_err(|e| unreadable(e.status()))? {
                let name = field.name().unwrap_or_default().to_string();
                let text = field.text().await.map_err(|e| unreadable(e.status()))?;
                pairs.push((name, text));
            }
            let v = crate::forms::bracketed_to_json(pairs, &[]);
            return serde_json::from_value(v).map(FormOrJson).map_err(|_| {
                body_rejection(
                    StatusCode::BAD_REQUEST,
                    "the body is not a valid form for this request",
                )
            });
        }
        if json {
            Json::<T>::from_request(req, state)
                .await
                .map(|Json(v)| FormOrJson(v))
                .map_err(|e| {
                    body_rejection(e.status(), "the body is not valid JSON for this request")
                })
        } else {
            Form::<T>::from_request(req, state)
                .await
                .map(|Form(v)| FormOrJson(v))
                .map_err(|e| {
                    body_rejection(e.status(), "the body is not a valid form for this request")
                })
        }
    }
}

fn body_rejection(status: StatusCode, detail: &str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The error middleware quotes the configured limit.
        ApiError::payload_too_large(0)
    } else {
        ApiError::bad_request(detail)
    }
}

/// An RFC 6749 §5.2 error answer.
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The token endpoint's parameters.
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: String,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    organization: Option<String>,
    #[allow(dead_code)]
    scope: Option<String>,
}

/// Finds the organisation of a login (`paraf_core::login`), as an OAuth2 error when it cannot.
async fn login_org(
    state: &AppState,
    username: &str,
    organization: Option<&str>,
) -> Result<(Organisation, Email), Response> {
    use paraf_core::login::LoginOrgError;
    match paraf_core::login::login_org(state, username, organization).await {
        Ok(v) => Ok(v),
        Err(LoginOrgError::Unknown) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the user name or password is wrong",
        )),
        Err(LoginOrgError::Ambiguous) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "name the organisation: username=\"slug/email\" or organization=slug",
        )),
        Err(LoginOrgError::Core(e)) => Err(ApiError::internal(e).into_response()),
    }
}

fn token_response(t: &IssuedTokens, now: paraf_domain::Timestamp) -> Response {
    let mut body = json!({"token_type": "Bearer"});
    if let Some(a) = &t.access {
        body["access_token"] = json!(a.secret.expose());
        body["expires_in"] = json!((a.expires_at - now).num_seconds().max(0));
    }
    if let Some(r) = &t.refresh {
        body["refresh_token"] = json!(r.secret.expose());
        body["refresh_expires_in"] = json!((r.expires_at - now).num_seconds().max(0));
    }
    (
        StatusCode::OK,
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        Json(body),
    )
        .into_response()
}

fn client_ip(req_ip: Option<ClientIp>) -> std::net::IpAddr {
    req_ip
        .map(|c| c.0)
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))
}

/// `POST /api/oauth/token`: password and refresh_token grants (RFC 6749 §4.3, §6).
pub async fn oauth_token(
    State(state): State<AppState>,
    ip: Option<axum::Extension<ClientIp>>,
    req: Result<FormOrJson<TokenRequest>, ApiError>,
) -> Response {
    let req = match req {
        Ok(FormOrJson(r)) => r,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return e.into_response(),
        Err(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body must be a form (or JSON) with grant_type",
            )
        }
    };
    let ip = client_ip(ip.map(|e| e.0));
    let now = state.clock.now();
    match req.grant_type.as_str() {
        "password" => {
            let (Some(username), Some(password)) = (req.username, req.password) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the password grant needs username and password",
                );
            };
            if let Err(e) = ratelimit::login_guard(&state, ip, LOGIN_FAILURES_PER_MINUTE).await {
                return e.into_response();
            }
            let (org, email) = match login_org(&state, &username, req.organization.as_deref()).await
            {
                Ok(v) => v,
                Err(r) => return r,
            };
            match state.core.password_grant(org.id, &email, &password).await {
                Ok(t) => token_response(&t, now),
                Err(e) => match e.auth_failure() {
                    Some(f) => {
                        tracing::info!(reason = %f, org = %org.slug, "password grant refused");
                        ratelimit::login_failed(&state, ip).await;
                        oauth_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            "the user name or password is wrong",
                        )
                    }
                    None => ApiError::from(e).into_response(),
                },
            }
        }
        "refresh_token" => {
            let Some(rt) = req.refresh_token else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the refresh_token grant needs refresh_token",
                );
            };
            match state.core.refresh_grant(&rt).await {
                Ok(t) => token_response(&t, now),
                Err(e) => match e.auth_failure() {
                    Some(f) => {
                        tracing::info!(reason = %f, "refresh refused");
                        oauth_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            "the refresh token is invalid, expired, revoked or already used",
                        )
                    }
                    None => ApiError::from(e).into_response(),
                },
            }
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "supported grants: password, refresh_token",
        ),
    }
}

/// RFC 7009 parameters.
#[derive(Debug, Deserialize)]
pub struct RevokeRequest {
    token: String,
}

/// `POST /api/oauth/revoke` (RFC 7009): revokes the token's family; 200 whether or not the
/// token was known.
pub async fn oauth_revoke(
    State(state): State<AppState>,
    FormOrJson(req): FormOrJson<RevokeRequest>,
) -> Response {
    match state.core.revoke_family(&req.token).await {
        Ok(()) => {}
        Err(e) if e.auth_failure().is_some() => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
    )
        .into_response()
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("paraf_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict")
}

/// `POST /api/logout`: revokes the family of the presented access token or session.
pub async fn logout(
    State(state): State<AppState>,
    axum::Extension(cred): axum::Extension<PresentedCredential>,
) -> Result<Response, ApiError> {
    match cred.kind {
        Some(TokenKind::Access) | Some(TokenKind::ConsoleSession) => {
            state.core.revoke_family(cred.expose()).await?;
            let mut resp = StatusCode::NO_CONTENT.into_response();
            if cred.kind == Some(TokenKind::ConsoleSession) {
                resp.headers_mut().insert(header::SET_COOKIE, clear_cookie());
            }
            Ok(resp)
        }
        _ => Err(ApiError::bad_request(
            "only OAuth2 access tokens and console sessions log out; revoke API tokens and application credentials instead",
        )),
    }
}

// ---------------------------------------------------------------- console session

/// Console login parameters.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
    organization: Option<String>,
}

/// `POST /api/session`: console login; sets the session cookie.
pub async fn session_login(
    State(state): State<AppState>,
    ip: Option<axum::Extension<ClientIp>>,
    FormOrJson(req): FormOrJson<LoginRequest>,
) -> Response {
    let ip = client_ip(ip.map(|e| e.0));
    if let Err(e) = ratelimit::login_guard(&state, ip, LOGIN_FAILURES_PER_MINUTE).await {
        return e.into_response();
    }
    let (org, email) = match login_org(&state, &req.email, req.organization.as_deref()).await {
        Ok(v) => v,
        Err(_) => {
            return ApiError::invalid_credentials("unknown organisation or e-mail").into_response()
        }
    };
    let now = state.clock.now();
    let user = match state
        .core
        .verify_password(org.id, &email, &req.password)
        .await
    {
        Ok(u) => u,
        Err(e) => {
            if e.auth_failure().is_some() {
                ratelimit::login_failed(&state, ip).await;
            }
            return ApiError::from(e).into_response();
        }
    };
    let session = match state.core.start_session(org.id, user.id).await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let max_age = (session.expires_at - now).num_seconds().max(0);
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
        session.secret.expose()
    );
    let principal = Principal {
        org: org.id,
        user: Some(user.id),
        role: Some(user.role),
        robot: user.robot,
        kind: CredentialKind::ConsoleSession,
        key: paraf_domain::CredentialKey(String::new()),
    };
    let body = me_body(&org, Some(&user), &principal);
    let mut resp = (StatusCode::OK, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `DELETE /api/session`: console logout.
pub async fn session_logout(
    state: State<AppState>,
    cred: axum::Extension<PresentedCredential>,
) -> Result<Response, ApiError> {
    let mut resp = logout(state, cred).await?;
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    Ok(resp)
}

// ---------------------------------------------------------------- who am I

/// The wire name of a credential kind.
pub fn credential_kind(k: CredentialKind) -> &'static str {
    match k {
        CredentialKind::ApiToken => "api_token",
        CredentialKind::AppCredential => "app_credential",
        CredentialKind::OAuth => "oauth",
        CredentialKind::Gateway => "gateway",
        CredentialKind::ConsoleSession => "console_session",
    }
}

fn me_body(
    org: &Organisation,
    user: Option<&paraf_domain::User>,
    p: &Principal,
) -> serde_json::Value {
    json!({
        "organization": {"slug": org.slug.as_str(), "name": org.name.as_str(), "plan": org.plan.as_str()},
        "user": user.map(|u| json!({
            "id": u.id.0.to_string(),
            "name": u.name.as_str(),
            "email": u.email.as_str(),
            "role": u.role.as_str(),
            "robot": u.robot,
        })),
        "credential": {"kind": credential_kind(p.kind)},
    })
}

/// `GET /api/me`.
pub async fn me(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    let org = state.core.organisation(p.org).await?;
    let user = match p.user {
        Some(u) => Some(state.core.user(p.org, u).await?),
        None => None,
    };
    Ok(Json(me_body(&org, user.as_ref(), &p)))
}

// ---------------------------------------------------------------- admin

fn require_admin(p: &Principal) -> Result<OrgId, ApiError> {
    if p.role == Some(Role::Admin) {
        Ok(p.org)
    } else {
        Err(ApiError::forbidden().cause("admin role required"))
    }
}

/// `GET /admin/outbox`: the organisation's mails, newest first (admins only).
pub async fn admin_outbox(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    let org = require_admin(&p)?;
    let mails = state.core.mails(Some(org), 200).await?;
    let mails: Vec<_> = mails
        .iter()
        .map(|m| {
            json!({
                "id": m.id.0.to_string(),
                "to": m.to,
                "subject": m.subject,
                "text": m.text,
                "html": m.html,
                "status": m.status.as_str(),
                "created_at": m.created_at.to_rfc3339(),
                "sent_at": m.sent_at.map(|t| t.to_rfc3339()),
                "error": m.error,
            })
        })
        .collect();
    Ok(Json(json!({ "mails": mails })))
}

// ---------------------------------------------------------------- webhooks

/// `GET /api/webhooks`: the organisation's webhook endpoints (never their secrets). Admins.
pub async fn webhook_endpoints(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    let org = require_admin(&p)?;
    let endpoints = state.core.webhooks().list(org).await?;
    Ok(Json(json!({ "endpoints": endpoints })))
}

/// Which deliveries to list.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeliveryQuery {
    /// Only this endpoint's.
    pub endpoint_id: Option<i64>,
    /// At most this many (1–500, default 100).
    pub limit: Option<u32>,
}

/// `GET /api/webhooks/deliveries`: the delivery log, newest first. Admins.
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Query(q): axum::extract::Query<DeliveryQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let org = require_admin(&p)?;
    let endpoint = q.endpoint_id.map(paraf_domain::WebhookEndpointId);
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let deliveries = state
        .core
        .webhooks()
        .deliveries(org, endpoint, limit)
        .await?;
    Ok(Json(json!({ "deliveries": deliveries })))
}

/// `POST /api/webhooks/deliveries/{id}/redeliver`: sends that delivery's event again (same
/// event id and body, signed anew). Admins.
pub async fn webhook_redeliver(
    State(state): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let org = require_admin(&p)?;
    // Admins are users (`require_admin`).
    let who = p
        .user
        .map_or_else(|| "app".to_string(), |u| format!("user:{u}"));
    let actor = paraf_core::audit::Actor::new(who, paraf_core::audit::Face::Api);
    let job = state
        .core
        .webhooks()
        .redeliver(org, paraf_domain::WebhookDeliveryId(id), &actor)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "job_id": job.0.to_string() })),
    ))
}
