//! `GET /auth/user` (who the token belongs to) and `GET /auth/logout` (the token stops
//! working). Tokens come from the shared `POST /api/oauth/token` (password grant with
//! `username@domain`, refresh grant; multipart, urlencoded or JSON bodies).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use paraf_core::domain::TokenKind;
use paraf_http::auth::PresentedCredential;
use paraf_http::state::AppState;
use serde_json::json;

use crate::error::StError;
use crate::wire::{Refused, User};
use crate::{time, user_uuid, Caller};

/// The user as the seed shows one.
pub(crate) async fn user_view(
    state: &AppState,
    org: paraf_core::domain::OrgId,
    id: paraf_core::domain::UserId,
) -> Result<User, StError> {
    let u = state.core.user(org, id).await?;
    let o = state.core.organisation(org).await?;
    let email = u.email.as_str().to_string();
    let full = u.name.as_str().trim().to_string();
    let (name, surname) = match full.rsplit_once(' ') {
        Some((n, s)) => (n.to_string(), s.to_string()),
        None => (full.clone(), String::new()),
    };
    Ok(User {
        id: user_uuid(u.id),
        username: email.split('@').next().unwrap_or_default().to_string(),
        domain: o.slug.as_str().to_string(),
        language: "en".into(),
        name,
        surname,
        email,
        phone: None,
        role: u.role.as_str().into(),
        groups: Vec::new(),
        capabilities: None,
        created_by: None,
        created_at: time(u.created_at),
        deleted_at: None,
        automatic: u.robot,
        extra_data: json!({}),
        template_data: json!({}),
    })
}

/// The authenticated user.
#[utoipa::path(get, path = "/api/auth/user", tag = "signingtoday",
    responses((status = 200, description = "The user the token belongs to", body = User), Refused))]
pub async fn user(State(state): State<AppState>, caller: Caller) -> Result<Response, StError> {
    Ok(Json(user_view(&state, caller.org, caller.user).await?).into_response())
}

/// Ends the session: the access token (and its refresh token) stop working. An API token (a
/// robot's lifetime token) is revoked in the console or with `paraf admin` instead.
#[utoipa::path(get, path = "/api/auth/logout", tag = "signingtoday",
    responses((status = 204, description = "Logged out"), Refused))]
pub async fn logout(
    State(state): State<AppState>,
    Extension(cred): Extension<PresentedCredential>,
) -> Result<Response, StError> {
    if cred.kind != Some(TokenKind::Access) {
        return Err(StError::invalid(
            "Authorization",
            "only OAuth access tokens log out; an API token (a robot's lifetime token) is revoked in the console or with paraf admin",
        ));
    }
    state.core.revoke_family(cred.expose()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
