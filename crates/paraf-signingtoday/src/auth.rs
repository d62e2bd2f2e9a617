//! `GET /auth/user` (who the token belongs to) and `GET /auth/logout` (the token stops
//! working). Tokens come from the shared `POST /api/oauth/token` (password grant with
//! `username@domain`, refresh grant; multipart, urlencoded or JSON bodies), or from
//! `POST /auth/saml` (single sign-on with the organisation's SAML identity provider).

use axum::extract::{Form, FromRequest, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use paraf_core::audit::Face;
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

/// The form of `POST /auth/saml` (`application/x-www-form-urlencoded`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct SamlForm {
    /// The organisation (its domain, as in `username@domain`).
    pub domain: Option<String>,
    /// The base64 of the identity provider's `samlp:Response`.
    #[serde(rename = "IDToken1")]
    pub id_token1: Option<String>,
    /// The hex HMAC-SHA256 of the decoded `IDToken1` under the organisation's relay secret.
    #[serde(rename = "IDToken2")]
    pub id_token2: Option<String>,
}

/// Register or update a SAML user: the identity provider's signed response (relayed with its
/// HMAC) signs the person in, making their user (role signer) the first time and renaming it
/// after the IdP's attributes later. `303` to the organisation's front-end page with the new
/// access token in the URL fragment (`#access_token=…&token_type=Bearer&expires_in=…`, never
/// in the query, so it reaches no server log); a refusal is an `ErrorResponse` naming the
/// field (`domain`, `IDToken1`, `IDToken2`). See docs/signingtoday.md, "SAML".
#[utoipa::path(post, path = "/api/auth/saml", tag = "signingtoday",
    request_body(content = SamlForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Redirect to the front-end page with the new auth token (Post/Redirect/Get)"), Refused))]
pub async fn saml(State(state): State<AppState>, req: Request) -> Result<Response, StError> {
    let (parts, body) = req.into_parts();
    let actor = paraf_http::auth::request_actor(&parts, "saml", Face::SigningToday);
    let Form(form) = Form::<SamlForm>::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|e| {
            StError::invalid("body", format!("not a SAML login form: {}", e.body_text()))
        })?;
    let domain = StError::required(&form.domain, "domain")?;
    let id_token1 = StError::required(&form.id_token1, "IDToken1")?;
    let id_token2 = StError::required(&form.id_token2, "IDToken2")?;
    let login = state
        .core
        .saml_login(&domain, &id_token1, &id_token2, &actor)
        .await?;
    let access = login
        .tokens
        .access
        .as_ref()
        .ok_or_else(|| StError::internal("a SAML login issued no access token"))?;
    let expires_in = (access.expires_at - state.core.now()).num_seconds().max(0);
    let mut location = login.redirect_url.clone();
    if let Some(i) = location.find('#') {
        location.truncate(i);
    }
    location.push_str(&format!(
        "#access_token={}&token_type=Bearer&expires_in={expires_in}",
        access.secret.expose()
    ));
    let location = HeaderValue::from_str(&location).map_err(StError::internal)?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
    )
        .into_response())
}
