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

use crate::error::StError;
use crate::wire::{Refused, User};
use crate::Caller;

/// The authenticated user.
#[utoipa::path(get, path = "/api/auth/user", tag = "signingtoday",
    responses((status = 200, description = "The user the token belongs to", body = User), Refused))]
pub async fn user(State(state): State<AppState>, caller: Caller) -> Result<Response, StError> {
    Ok(Json(crate::users::user_view(&state, caller.org, caller.user).await?).into_response())
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
