//! The seed's services: lost and reset passwords, password tokens, a service user's password.
//! Reset links and password tokens are single use and expiring (see
//! `paraf_core::people::PasswordPurpose`); `GET /auth/passwordLost` answers `204` whether or
//! not the account exists. `POST /auth/changePassword` and `GET /auth/passwordLost` take no
//! token (the seed's samples send none).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::audit::{Actor, Face};
use paraf_core::domain::Capability;
use paraf_http::state::AppState;
use serde::Deserialize;

use crate::error::StError;
use crate::wire::{PasswordChange, Refused};
use crate::Caller;

/// `?username=…&domain=…`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Account {
    /// The user's username (or e-mail).
    pub username: Option<String>,
    /// Their organisation.
    pub domain: Option<String>,
}

impl Account {
    fn parts(&self) -> Result<(&str, &str), StError> {
        let username = self
            .username
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| StError::invalid("username", "username is required"))?;
        let domain = self
            .domain
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| StError::invalid("domain", "domain is required"))?;
        Ok((username, domain))
    }
}

/// The user of the caller's organisation that `a` names (another domain: "not found").
async fn named(
    state: &AppState,
    caller: &Caller,
    a: &Account,
) -> Result<paraf_core::domain::User, StError> {
    let (username, domain) = a.parts()?;
    let org = state.core.organisation(caller.org).await?;
    if !org.slug.as_str().eq_ignore_ascii_case(domain) {
        return Err(StError::not_found("domain", "domain"));
    }
    paraf_core::login::named_user(&state.core, caller.org, username)
        .await
        .map_err(|e| match e {
            paraf_core::login::NamedUser::Core(e) => StError::from(e),
            paraf_core::login::NamedUser::Several => StError::invalid(
                "username",
                "several users have this username: give the whole e-mail address",
            ),
            paraf_core::login::NamedUser::None => StError::not_found("username", "user"),
        })
}

/// A password sent as the body (`text/plain`): as it is, or a JSON string (the seed's curl
/// sample quotes it).
fn body_password(body: &[u8]) -> Result<String, StError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| StError::invalid("body", "the body is the new password, as text"))?
        .trim();
    let pw = if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map_err(|_| StError::invalid("body", "the quoted password does not end"))?
    } else {
        text.to_string()
    };
    if pw.is_empty() {
        return Err(StError::invalid("body", "the body is the new password"));
    }
    Ok(pw)
}

/// An anonymous request's audit actor.
fn anonymous(headers: &axum::http::HeaderMap) -> Actor {
    let mut a = Actor::new("anonymous", Face::SigningToday);
    a.user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect());
    a
}

/// A lost password: the user is mailed a link (single use, 1 hour) to choose a new one.
/// `204` whether or not the account exists.
#[utoipa::path(get, path = "/api/auth/passwordLost", tag = "signingtoday", params(Account),
    responses((status = 204, description = "Mailed, if the account exists"), Refused))]
pub async fn password_lost(
    State(state): State<AppState>,
    Query(a): Query<Account>,
) -> Result<Response, StError> {
    let (username, domain) = a.parts()?;
    state.core.password_lost(domain, username).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An administrator's reset (`user.pwd.clear`): the user is mailed a link to choose a new
/// password. 204.
#[utoipa::path(get, path = "/api/auth/passwordReset", tag = "signingtoday", params(Account),
    responses((status = 204, description = "Mailed"), Refused))]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    Query(a): Query<Account>,
) -> Result<Response, StError> {
    caller.require(Capability::UserPwdClear)?;
    let user = named(&state, &caller, &a).await?;
    state
        .core
        .reset_password(caller.org, user.id, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller changes their own password, knowing the current one. 204.
#[utoipa::path(post, path = "/api/auth/passwordReset", tag = "signingtoday",
    request_body(content = PasswordChange, content_type = "application/json"),
    responses((status = 204, description = "Changed"), Refused))]
pub async fn change_own(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let c: PasswordChange = serde_json::from_slice(&body).map_err(|e| {
        StError::invalid("body", format!("the body is not a password change ({e})"))
    })?;
    let current = c
        .current_password
        .as_deref()
        .ok_or_else(|| StError::invalid("currentPassword", "currentPassword is required"))?;
    let new = c
        .new_password
        .as_deref()
        .ok_or_else(|| StError::invalid("newPassword", "newPassword is required"))?;
    state
        .core
        .change_own_password(caller.org, caller.user, current, new, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A password token (single use, 10 minutes) for `POST /auth/changePassword`.
#[utoipa::path(get, path = "/api/auth/passwordToken", tag = "signingtoday",
    responses((status = 200, description = "The token, in a list", body = [String]), Refused))]
pub async fn token(State(state): State<AppState>, caller: Caller) -> Result<Response, StError> {
    let t = state
        .core
        .issue_password_token(caller.org, caller.user, &caller.actor)
        .await?;
    Ok(Json(vec![t]).into_response())
}

/// `?passwordToken=…`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TokenQuery {
    /// A token from `GET /auth/passwordToken` or a mailed link.
    #[serde(rename = "passwordToken")]
    pub password_token: Option<String>,
}

/// Sets a password with a password token (or the token of a mailed link): the body is the
/// new password (`text/plain`). The token works once. 204.
#[utoipa::path(post, path = "/api/auth/changePassword", tag = "signingtoday", params(TokenQuery),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 204, description = "Changed"), Refused))]
pub async fn change_with_token(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<TokenQuery>,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let token = q
        .password_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| StError::invalid("passwordToken", "passwordToken is required"))?;
    let pw = body_password(&body)?;
    match state
        .core
        .set_password_with_token(token, &pw, &anonymous(&headers))
        .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) if e.is_not_found() => Err(StError::invalid(
            "passwordToken",
            "the password token is unknown, used or expired",
        )),
        Err(e) => Err(StError::from(e)),
    }
}

/// An administrator (`user.pwd.clear`) sets a user's password: the body is the new password
/// (`text/plain`). 204.
#[utoipa::path(post, path = "/api/service/changePassword", tag = "signingtoday", params(Account),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 204, description = "Changed"), Refused))]
pub async fn change_for(
    State(state): State<AppState>,
    caller: Caller,
    Query(a): Query<Account>,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    caller.require(Capability::UserPwdClear)?;
    let user = named(&state, &caller, &a).await?;
    let pw = body_password(&body)?;
    state
        .core
        .set_password(caller.org, user.id, &pw, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `?domain=…`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DomainQuery {
    /// An organisation, for its own settings.
    pub domain: Option<String>,
}

/// The application's public configuration (no token), and with `?domain=` the organisation's
/// public settings. The seed lists no key (its example is `{}`): these are Paraf's, documented
/// in docs/signingtoday.md.
#[utoipa::path(get, path = "/api/service/configuration", tag = "signingtoday", params(DomainQuery),
    responses((status = 200, description = "Configuration keys and values", body = Object), Refused))]
pub async fn configuration(
    State(state): State<AppState>,
    Query(q): Query<DomainQuery>,
) -> Result<Response, StError> {
    let core = &state.core;
    let mut out = serde_json::json!({
        "application": "Paraf",
        "version": env!("CARGO_PKG_VERSION"),
        "apiBaseUrl": format!("{}/api", core.public_url),
        "languages": ["it", "en", "es", "fr"],
        "passwordMinLength": 8,
        "deviceChallengeMinutes": paraf_core::devices::CHALLENGE_MINUTES,
        "signProfiles": ["PAdES"],
        "maxUploadBytes": core.config.body_limit,
        "maxAppearanceBytes": paraf_core::appearances::MAX_UPLOAD,
        "authentication": ["password", "lifetimeToken", "saml"],
    });
    if let Some(d) = q.domain.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        let org = core
            .organisation_named(d)
            .await
            .map_err(|_| StError::not_found("domain", "domain"))?;
        // Where a front end starts single sign-on, when the organisation has it.
        let saml = core.saml_settings(org.id).await?.map(|s| {
            serde_json::json!({
                "idpEntityId": s.idp_entity_id,
                "idpSsoUrl": s.idp_sso_url,
                "spEntityId": s.sp_entity_id,
                "acsUrl": s.acs_url,
            })
        });
        out["organization"] = serde_json::json!({
            "domain": org.slug.as_str(),
            "name": org.name.as_str(),
            "plan": org.plan.as_str(),
            "saml": saml,
        });
    }
    Ok(Json(out).into_response())
}
