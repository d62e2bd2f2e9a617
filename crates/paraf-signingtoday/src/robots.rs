//! Robots (service accounts, Quick Starts 3.3–3.4): their lifetime token
//! (`GET|DELETE /robot/authentication`), their settings (`GET|PUT /robot/configuration`), and
//! the body of their webhooks (`DSTStatusChangedNotification`, [`payload`]). `username` and
//! `domain` name another user of the caller's organisation (administrators only); without
//! them, the caller.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::domain::{EnvelopeStatus, UserId};
use paraf_core::robots::{RobotAuth, RobotConfig};
use paraf_http::state::AppState;
use serde::Deserialize;

use crate::error::StError;
use crate::wire::{
    DstStatusChanged, Refused, RobotAuthentication, RobotConfiguration, RobotToken, RobotWebhooks,
};
use crate::Caller;

/// `?username=…&domain=…`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct Target {
    /// The robot's username (its e-mail, or the e-mail's local part).
    pub username: Option<String>,
    /// Its organisation's slug (the caller's).
    pub domain: Option<String>,
}

/// The user a request is about: the caller, or (an administrator asking) another user of
/// their organisation.
async fn target(state: &AppState, caller: &Caller, t: &Target) -> Result<UserId, StError> {
    let Some(name) = t
        .username
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(caller.user);
    };
    let org = state.core.organisation(caller.org).await?;
    if let Some(d) = t.domain.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if d != org.slug.as_str() {
            return Err(StError::not_found("domain", "domain"));
        }
    }
    let user = paraf_core::login::named_user(&state.core, caller.org, name)
        .await
        .map_err(|e| match e {
            paraf_core::login::NamedUser::Core(c) => StError::from(c),
            paraf_core::login::NamedUser::Several => StError::invalid(
                "username",
                "several users have this username: give the whole e-mail address",
            ),
            paraf_core::login::NamedUser::None => StError::not_found("username", "user"),
        })?;
    if user.id != caller.user
        && !caller
            .me
            .can(paraf_core::domain::Capability::OrganizationsAccessWriteUser)
    {
        return Err(StError::new(
            StatusCode::FORBIDDEN,
            "only an administrator (organizations.access.write.user) manages another user's robot settings",
            Some("username"),
        ));
    }
    Ok(user.id)
}

/// A new lifetime token for the robot (any earlier one stops working): shown this once.
#[utoipa::path(get, path = "/api/robot/authentication", tag = "signingtoday", params(Target),
    responses((status = 200, body = RobotToken), Refused))]
pub async fn token(
    State(state): State<AppState>,
    caller: Caller,
    Query(t): Query<Target>,
) -> Result<Response, StError> {
    let user = target(&state, &caller, &t).await?;
    let (_, secret) = state
        .core
        .renew_lifetime_token(caller.org, user, &caller.actor)
        .await?;
    Ok(Json(RobotToken {
        access_token: secret.expose().to_string(),
    })
    .into_response())
}

/// Revokes the robot's lifetime token.
#[utoipa::path(delete, path = "/api/robot/authentication", tag = "signingtoday", params(Target),
    responses((status = 204, description = "Revoked"), Refused))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Query(t): Query<Target>,
) -> Result<Response, StError> {
    let user = target(&state, &caller, &t).await?;
    state
        .core
        .revoke_lifetime_tokens(caller.org, user, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The robot's settings (the password is never shown back: `null`).
#[utoipa::path(get, path = "/api/robot/configuration", tag = "signingtoday", params(Target),
    responses((status = 200, body = RobotConfiguration), Refused))]
pub async fn configuration(
    State(state): State<AppState>,
    caller: Caller,
    Query(t): Query<Target>,
) -> Result<Response, StError> {
    let user = target(&state, &caller, &t).await?;
    let c = state.core.robot_config(caller.org, user).await?;
    Ok(Json(RobotConfiguration {
        request_headers: c.request_headers,
        authentication: c.auth.map(|a| RobotAuthentication {
            username: Some(a.username),
            password: None,
            auth_mode: Some("basic".into()),
            client_key: None,
            client_cert: None,
        }),
        webhooks: Some(RobotWebhooks { dst: c.webhook_url }),
    })
    .into_response())
}

/// Sets the robot's settings: `requestHeaders` and `authentication` (basic) go with every file
/// it names by URL and with its webhook deliveries; `webhooks.dst` receives its DSTs' status
/// changes (an organisation webhook endpoint, signed like every Paraf webhook).
#[utoipa::path(put, path = "/api/robot/configuration", tag = "signingtoday", params(Target),
    request_body(content = RobotConfiguration, content_type = "application/json"),
    responses((status = 204, description = "Saved"), Refused))]
pub async fn configure(
    State(state): State<AppState>,
    caller: Caller,
    Query(t): Query<Target>,
    body: axum::body::Bytes,
) -> Result<Response, StError> {
    let user = target(&state, &caller, &t).await?;
    let c: RobotConfiguration = serde_json::from_slice(&body)
        .map_err(|e| StError::invalid("body", format!("not a RobotConfiguration ({e})")))?;
    let auth = match c.authentication {
        None => None,
        Some(a) => {
            if a.auth_mode.as_deref().is_some_and(|m| m != "basic") {
                return Err(StError::invalid(
                    "authentication.authMode",
                    "only basic is supported",
                ));
            }
            if a.client_key.as_deref().is_some_and(|k| !k.is_empty())
                || a.client_cert.as_deref().is_some_and(|k| !k.is_empty())
            {
                return Err(StError::invalid(
                    "authentication.clientCert",
                    "client certificates are not supported",
                ));
            }
            match (a.username, a.password) {
                (Some(u), Some(p)) if !u.is_empty() => Some(RobotAuth {
                    username: u,
                    password: p,
                }),
                (None | Some(_), _) => None,
            }
        }
    };
    let cfg = RobotConfig {
        request_headers: c.request_headers,
        auth,
        webhook_url: c
            .webhooks
            .and_then(|w| w.dst)
            .filter(|u| !u.trim().is_empty()),
    };
    state
        .core
        .set_robot_config(caller.org, user, cfg, &caller.actor)
        .await
        .map_err(|e| match StError::from(e) {
            x if x.body.target.as_deref() == Some("url") => {
                StError::invalid("webhooks.dst", x.body.message)
            }
            x => x,
        })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The webhook body of a DST's event: `{status, dst, reason}` with the SDK's statuses
/// (`toFill`, `toSign`, `expired`, `performed`, `error`; a rejection is `error` with its
/// reason).
pub fn payload(ev: &paraf_core::events::EnvelopeEvent<'_>) -> serde_json::Value {
    let e = ev.envelope;
    let status = match e.status {
        EnvelopeStatus::Completed => "performed",
        EnvelopeStatus::Expired => "expired",
        EnvelopeStatus::Declined | EnvelopeStatus::Cancelled | EnvelopeStatus::SealFailed => {
            "error"
        }
        _ => "toSign",
    };
    let reason = match status {
        "error" | "expired" => e
            .status_reason
            .clone()
            .or_else(|| Some(e.status.as_str().to_string())),
        _ => None,
    };
    serde_json::to_value(DstStatusChanged {
        status: status.into(),
        dst: e.uuid.clone(),
        reason,
    })
    .unwrap_or_default()
}
