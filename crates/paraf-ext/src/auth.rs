//! The token chain (seed 004) and the signed-in user:
//!
//! | call | `Authorization: Bearer` | gives |
//! |---|---|---|
//! | `POST /ext/v1/auth/login {email, password}` | — | `access_token`, `refresh_token`, `user_token` (also `x-user-token`) |
//! | `POST /ext/v1/auth/token` | refresh token | a new access token and a new refresh token (the old one is spent; reusing it revokes the chain) |
//! | `POST /ext/v1/auth/refresh-token` | user token | a new refresh token (earlier ones stop) |
//! | `POST /ext/v1/auth/logout` | access token | all three tokens stop |
//! | `GET /ext/v1/me` | access token, with `x-user-token` | the user |
//!
//! Every token belongs to the application key it was issued under: another key's token is
//! refused like an unknown one.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use paraf_core::audit::Actor;
use paraf_core::domain::{Email, IssuedTokens, Principal, Role, TokenFamilyId, TokenKind, UserId};
use paraf_http::state::AppState;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::conventions::Ext;
use crate::reply::{Msg, Reply};

/// `POST /ext/v1/auth/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Login {
    pub email: Option<String>,
    pub password: Option<String>,
}

/// The token of `Authorization: Bearer …`.
pub(crate) fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The `Bearer` token of `kind` of this application key, checked: the token, its principal
/// and its session (family), or the refusal to answer.
pub(crate) async fn checked_bearer<'h>(
    state: &AppState,
    ext: &Ext,
    headers: &'h HeaderMap,
    kind: TokenKind,
) -> Result<(&'h str, Principal, TokenFamilyId), Response> {
    let Some(token) = bearer(headers) else {
        return Err(Reply::err(ext.lang, Msg::MissingToken).into_response());
    };
    match state.core.gateway_token(&ext.app, token, kind).await {
        Ok((p, family)) => Ok((token, p, family)),
        Err(e) => Err(Reply::from_core(ext.lang, e).into_response()),
    }
}

/// A signed-in user's request: the access token (`Authorization: Bearer`) and the same
/// session's `x-user-token`, both of this application key.
#[derive(Debug, Clone)]
pub struct Session {
    pub p: Principal,
    pub user: UserId,
    pub role: Role,
    /// `user:<id>` through the external API, with the client's address.
    pub actor: Actor,
}

/// The [`Session`] of a request, or the refusal to answer.
pub(crate) async fn session(
    state: &AppState,
    ext: &Ext,
    headers: &HeaderMap,
) -> Result<Session, Response> {
    let lang = ext.lang;
    let (_, p, family) = checked_bearer(state, ext, headers, TokenKind::Access).await?;
    let Some(ut) = headers
        .get("x-user-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    else {
        return Err(Reply::err(lang, Msg::MissingUserToken).into_response());
    };
    match state
        .core
        .gateway_token(&ext.app, ut, TokenKind::UserToken)
        .await
    {
        Ok((_, f)) if f == family => {}
        Ok(_) => return Err(Reply::err(lang, Msg::MissingUserToken).into_response()),
        Err(e) => return Err(Reply::from_core(lang, e).into_response()),
    }
    let (Some(user), Some(role)) = (p.user, p.role) else {
        return Err(Reply::err(lang, Msg::InvalidToken).into_response());
    };
    let mut actor = ext.actor.clone();
    actor.id = format!("user:{user}");
    Ok(Session {
        p,
        user,
        role,
        actor,
    })
}

fn tokens_reply(ext: &Ext, state: &AppState, t: &IssuedTokens) -> Response {
    let now = state.core.now();
    let mut data = json!({"token_type": "Bearer"});
    if let Some(a) = &t.access {
        data["access_token"] = json!(a.secret.expose());
        data["expires_in"] = json!((a.expires_at - now).num_seconds().max(0));
    }
    if let Some(r) = &t.refresh {
        data["refresh_token"] = json!(r.secret.expose());
        data["refresh_expires_in"] = json!((r.expires_at - now).num_seconds().max(0));
    }
    if let Some(u) = &t.user_token {
        data["user_token"] = json!(u.secret.expose());
        data["user_token_expires_in"] = json!((u.expires_at - now).num_seconds().max(0));
    }
    let mut r = Reply::ok(ext.lang, data).into_response();
    if let Some(u) = &t.user_token {
        if let Ok(v) = HeaderValue::from_str(u.secret.expose()) {
            r.headers_mut().insert("x-user-token", v);
        }
    }
    crate::reply::given_once(r)
}

/// Signs a user of the key's organisation in.
#[utoipa::path(post, path = "/ext/v1/auth/login", tag = "ext",
    request_body(content = Login, content_type = "application/json"),
    responses((status = 200, description = "access_token, refresh_token and user_token (also in x-user-token)"),
        (status = 400, description = "INVALID_FIELD"), (status = 401, description = "INVALID_CREDENTIALS, INVALID_APP_KEY, INVALID_SIGNATURE")))]
pub async fn login(
    State(state): State<AppState>,
    Extension(ext): Extension<Ext>,
    body: Bytes,
) -> Response {
    let lang = ext.lang;
    let input: Login = match serde_json::from_slice(&body) {
        Ok(l) => l,
        Err(e) => {
            return Reply::err(lang, Msg::InvalidField)
                .with_data(json!({"field": "body", "reason": e.to_string()}))
                .into_response()
        }
    };
    let missing = |f: &str| {
        Reply::err(lang, Msg::InvalidField)
            .with_data(json!({"field": f, "reason": "required"}))
            .into_response()
    };
    let Some(email) = input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return missing("email");
    };
    let Some(password) = input.password.as_deref().filter(|s| !s.is_empty()) else {
        return missing("password");
    };
    let Ok(email) = Email::parse(email) else {
        return Reply::err(lang, Msg::WrongCredentials).into_response();
    };
    match state
        .core
        .gateway_login(&ext.app, &email, password, &ext.actor)
        .await
    {
        Ok(t) => tokens_reply(&ext, &state, &t),
        Err(e)
            if matches!(
                e.domain(),
                Some(paraf_core::domain::DomainError::Unauthenticated(_))
            ) =>
        {
            Reply::err(lang, Msg::WrongCredentials).into_response()
        }
        Err(e) => Reply::from_core(lang, e).into_response(),
    }
}

/// A new access token (and refresh token) for the refresh token.
#[utoipa::path(post, path = "/ext/v1/auth/token", tag = "ext",
    responses((status = 200, description = "access_token and a new refresh_token"),
        (status = 401, description = "MISSING_TOKEN, WRONG_TOKEN_TYPE, INVALID_TOKEN, REFRESH_TOKEN_REUSED")))]
pub async fn token(
    State(state): State<AppState>,
    Extension(ext): Extension<Ext>,
    headers: HeaderMap,
) -> Response {
    let Some(refresh) = bearer(&headers) else {
        return Reply::err(ext.lang, Msg::MissingToken).into_response();
    };
    match state.core.gateway_refresh(&ext.app, refresh).await {
        Ok(t) => tokens_reply(&ext, &state, &t),
        Err(e) => Reply::from_core(ext.lang, e).into_response(),
    }
}

/// A new refresh token for the user token.
#[utoipa::path(post, path = "/ext/v1/auth/refresh-token", tag = "ext",
    responses((status = 200, description = "a new refresh_token"),
        (status = 401, description = "MISSING_TOKEN, WRONG_TOKEN_TYPE, INVALID_TOKEN")))]
pub async fn refresh_token(
    State(state): State<AppState>,
    Extension(ext): Extension<Ext>,
    headers: HeaderMap,
) -> Response {
    let Some(ut) = bearer(&headers) else {
        return Reply::err(ext.lang, Msg::MissingToken).into_response();
    };
    match state.core.gateway_new_refresh(&ext.app, ut).await {
        Ok(t) => tokens_reply(&ext, &state, &t),
        Err(e) => Reply::from_core(ext.lang, e).into_response(),
    }
}

/// Ends the session: the access, refresh and user tokens stop working.
#[utoipa::path(post, path = "/ext/v1/auth/logout", tag = "ext",
    responses((status = 200, description = "Logged out"),
        (status = 401, description = "MISSING_TOKEN, WRONG_TOKEN_TYPE, INVALID_TOKEN")))]
pub async fn logout(
    State(state): State<AppState>,
    Extension(ext): Extension<Ext>,
    headers: HeaderMap,
) -> Response {
    let access = match checked_bearer(&state, &ext, &headers, TokenKind::Access).await {
        Ok((token, _, _)) => token,
        Err(refused) => return refused,
    };
    match state.core.revoke_family(access).await {
        Ok(()) => Reply::ok(ext.lang, Value::Null).into_response(),
        Err(e) => Reply::from_core(ext.lang, e).into_response(),
    }
}

/// The signed-in user: the access token and the same session's `x-user-token`.
#[utoipa::path(get, path = "/ext/v1/me", tag = "ext",
    responses((status = 200, description = "The user: id, name, email, role, organisation"),
        (status = 401, description = "MISSING_TOKEN, MISSING_USER_TOKEN, WRONG_TOKEN_TYPE, INVALID_TOKEN")))]
pub async fn me(
    State(state): State<AppState>,
    Extension(ext): Extension<Ext>,
    headers: HeaderMap,
) -> Response {
    let lang = ext.lang;
    let session = match session(&state, &ext, &headers).await {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    let (p, user_id) = (session.p, session.user);
    let (user, org) = match (
        state.core.user(p.org, user_id).await,
        state.core.organisation(p.org).await,
    ) {
        (Ok(u), Ok(o)) => (u, o),
        (Err(e), _) | (_, Err(e)) => return Reply::from_core(lang, e).into_response(),
    };
    Reply::ok(
        lang,
        json!({
            "id": user.id.0,
            "name": user.name.as_str(),
            "email": user.email.as_str(),
            "role": user.role.as_str(),
            "organization": {"slug": org.slug.as_str(), "name": org.name.as_str()},
        }),
    )
    .into_response()
}
