//! The handlers: parse → one core call → the seed's reply.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Extension;
use axum::{Json, Router};
use paraf_core::accounts::Registration;
use paraf_core::domain::{ApiToken, ApiTokenId, Email};
use paraf_http::ratelimit;
use paraf_http::request_id::ClientIp;
use paraf_http::routes::LOGIN_FAILURES_PER_MINUTE;
use paraf_http::state::AppState;

use crate::error::GesDocsError;
use crate::wire::{
    Done, Language, LoginReply, LoginRequest, MetaReply, RegisterReply, RegisterRequest,
    TokenCreated, TokenInfo, TokenList, TokenRequest,
};
use crate::{Caller, Input};

/// Routes without authentication.
pub fn public() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/register", post(register))
        .route("/api/meta", get(meta))
}

/// Routes behind bearer authentication.
pub fn private() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", get(list_tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
        .route(
            "/api/signature-requests",
            post(crate::signature_requests::create),
        )
        .route("/api/verify-document", post(crate::verify::verify_document))
        .route(
            "/api/secure-downloads",
            post(crate::secure_downloads::create),
        )
        .route("/api/uploads", post(crate::secure_downloads::upload))
}

/// Laravel-style messages, collected for every field at once as GesDocs reports them.
#[derive(Default)]
pub(crate) struct Checks(BTreeMap<String, Vec<String>>);

impl Checks {
    pub(crate) fn fail(&mut self, field: &str, message: String) {
        self.0.entry(field.to_string()).or_default().push(message);
    }

    /// The value of a required text field, or a "required" error.
    pub(crate) fn required<'a>(&mut self, field: &str, v: &'a Option<String>) -> &'a str {
        match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => v.as_deref().unwrap_or(""),
            _ => {
                self.fail(field, format!("The {field} field is required."));
                ""
            }
        }
    }

    pub(crate) fn email(&mut self, field: &str, v: &Option<String>) -> String {
        let s = self.required(field, v).trim().to_string();
        if !s.is_empty() && Email::parse(&s).is_err() {
            self.fail(
                field,
                format!("The {field} field must be a valid email address."),
            );
        }
        s
    }

    pub(crate) fn done(self) -> Result<(), GesDocsError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(GesDocsError::validation(self.0))
        }
    }
}

/// Log in: e-mail and password → a bearer token.
#[utoipa::path(post, path = "/api/login", tag = "gesdocs",
    request_body(content = LoginRequest, description = "JSON or form"),
    responses(
        (status = 200, body = LoginReply),
        (status = 401, description = "Wrong e-mail or password", body = crate::wire::ErrorBody),
        (status = 422, description = "A field is missing", body = crate::wire::ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Input(req): Input<LoginRequest>,
) -> Result<Response, GesDocsError> {
    let mut c = Checks::default();
    let email = c.email("email", &req.email);
    let password = c.required("password", &req.password);
    c.done()?;
    // The shared guard: an address that failed too often this minute is stopped before the
    // password hash is computed (429, Retry-After).
    if let Err(e) = ratelimit::login_guard(&state, ip, LOGIN_FAILURES_PER_MINUTE).await {
        return Ok(e.into_response());
    }
    match state.core.login_with_password(&email, password).await {
        Ok((_, token)) => Ok(Json(LoginReply {
            token: token.secret.expose().to_string(),
        })
        .into_response()),
        Err(e)
            if e.domain().is_some_and(|d| {
                matches!(d, paraf_core::domain::DomainError::Unauthenticated(_))
            }) =>
        {
            ratelimit::login_failed(&state, ip).await;
            Err(GesDocsError::new(
                StatusCode::UNAUTHORIZED,
                "Invalid credentials.",
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Register an account (an organisation of its own) and get a bearer token.
#[utoipa::path(post, path = "/api/register", tag = "gesdocs",
    request_body(content = RegisterRequest, description = "JSON or form"),
    responses(
        (status = 201, body = RegisterReply),
        (status = 403, description = "Registration is closed on this server", body = crate::wire::ErrorBody),
        (status = 422, description = "Validation error (`errors` per field)", body = crate::wire::ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    parts: axum::http::request::Parts,
    Input(req): Input<RegisterRequest>,
) -> Result<Response, GesDocsError> {
    // Each registration counts against the address's login allowance: no mass sign-up.
    if let Err(e) = ratelimit::login_guard(&state, ip, LOGIN_FAILURES_PER_MINUTE).await {
        return Ok(e.into_response());
    }
    ratelimit::login_failed(&state, ip).await;
    let mut c = Checks::default();
    let name = c.required("name", &req.name).trim().to_string();
    let email = c.email("email", &req.email);
    let password = c.required("password", &req.password).to_string();
    if !password.is_empty() && password.chars().count() < 8 {
        c.fail(
            "password",
            "The password field must be at least 8 characters.".into(),
        );
    }
    if !password.is_empty() && req.password_confirmation.as_deref() != Some(password.as_str()) {
        c.fail(
            "password",
            "The password field confirmation does not match.".into(),
        );
    }
    c.done()?;
    let actor = paraf_http::auth::request_actor(
        &parts,
        &format!("register:{email}"),
        paraf_core::audit::Face::GesDocs,
    );
    let r = Registration {
        name: &name,
        email: &email,
        password: &password,
    };
    let done = state.core.register(&r, &actor).await?;
    let reply = RegisterReply {
        status: "success".into(),
        message: "User created successfully.".into(),
        token: done.token.secret.expose().to_string(),
    };
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// The languages of the signer page and mails.
pub const LANGUAGES: [(&str, &str); 5] = [
    ("fr", "Français"),
    ("en", "English"),
    ("id", "Bahasa Indonesia"),
    ("it", "Italiano"),
    ("es", "Español"),
];

/// The time zones offered as regions (the ones GesDocs users meet most; any IANA name is
/// accepted where a region is given).
pub const REGIONS: [&str; 24] = [
    "Europe/Paris",
    "Europe/London",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Zurich",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Berlin",
    "Europe/Lisbon",
    "Atlantic/Canary",
    "Africa/Casablanca",
    "Africa/Algiers",
    "Africa/Tunis",
    "Africa/Dakar",
    "Africa/Abidjan",
    "Indian/Reunion",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "America/Montreal",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Asia/Jakarta",
    "UTC",
];

/// Regions (time zones) and languages for requests.
#[utoipa::path(get, path = "/api/meta", tag = "gesdocs",
    responses((status = 200, body = MetaReply)))]
pub async fn meta() -> Json<MetaReply> {
    Json(MetaReply {
        regions: REGIONS.to_vec(),
        languages: LANGUAGES
            .iter()
            .map(|&(code, label)| Language { code, label })
            .collect(),
    })
}

fn info(t: &ApiToken) -> TokenInfo {
    let at = |t: paraf_core::domain::Timestamp| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    TokenInfo {
        id: t.id.0,
        name: t.name.clone(),
        prefix: t.prefix.clone(),
        created_at: at(t.created_at),
        last_used_at: t.last_used_at.map(at),
        revoked_at: t.revoked_at.map(at),
    }
}

/// Create a personal API token (shown once).
#[utoipa::path(post, path = "/api/tokens", tag = "gesdocs",
    request_body(content = TokenRequest, description = "JSON or form"),
    responses(
        (status = 201, body = TokenCreated),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 422, body = crate::wire::ErrorBody),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Input(req): Input<TokenRequest>,
) -> Result<Response, GesDocsError> {
    let mut c = Checks::default();
    let name = c.required("name", &req.name).to_string();
    c.done()?;
    let (token, secret) = state
        .core
        .create_personal_token(caller.p.org, caller.user, &name, &caller.actor)
        .await?;
    let reply = TokenCreated {
        status: "success".into(),
        message: "Token created. Copy it now: it will not be shown again.".into(),
        token: secret.expose().to_string(),
        data: info(&token),
    };
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// The caller's personal API tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "gesdocs",
    responses((status = 200, body = TokenList), (status = 401, body = crate::wire::ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TokenList>, GesDocsError> {
    let tokens = state
        .core
        .personal_tokens(caller.p.org, caller.user)
        .await?;
    Ok(Json(TokenList {
        status: "success".into(),
        data: tokens.iter().map(info).collect(),
    }))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "gesdocs",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 200, body = Done),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 404, description = "No such token of the caller's", body = crate::wire::ErrorBody),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Done>, GesDocsError> {
    let id: i64 = id
        .parse()
        .map_err(|_| GesDocsError::new(StatusCode::NOT_FOUND, "This API token does not exist."))?;
    state
        .core
        .revoke_personal_token(caller.p.org, caller.user, ApiTokenId(id), &caller.actor)
        .await?;
    Ok(Json(Done {
        status: "success".into(),
        message: "Token revoked.".into(),
    }))
}
