//! The Signing Today dialect (seed 003, under `/api`): Digital Signature Transactions (DSTs)
//! on the envelope core — a DST *is* an envelope made through this face, its sign plan
//! (documents, forms in percent of the page, signature requests, ordered signer groups) kept
//! with it and shown back in the seed's schemas exactly, because the official SDKs deserialize
//! strictly. Bearer OAuth access tokens (`POST /api/oauth/token`, shared) or API tokens (a
//! robot's lifetime token); errors as `ErrorResponse {code, message, target}` (see [`error`]
//! and docs/signingtoday.md).

#![forbid(unsafe_code)]

pub mod activity;
pub mod auth;
pub mod bulk;
pub mod devices;
pub mod documents;
pub mod dsts;
pub mod error;
pub mod identities;
pub mod lifecycle;
pub mod odata;
pub mod openapi;
pub mod plan;
pub mod resources;
pub mod robots;
pub mod services;
pub mod users;
pub mod wire;

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use paraf_core::audit::{Actor, Face};
use paraf_core::domain::{Capability, Envelope, OrgId, Timestamp, User, UserId};
use paraf_http::auth::{require_auth, AuthMethods};
use paraf_http::state::AppState;

use error::{Shaped, StError};

/// The face DSTs made through Signing Today carry.
pub const FACE: &str = "signingtoday";

/// OAuth access tokens (people) and API tokens (robots' lifetime tokens).
pub const AUTH: AuthMethods = AuthMethods {
    api_token: true,
    access_token: true,
    basic: false,
    session_cookie: false,
};

/// The path prefixes of the dialect (under `/api`, shared with other dialects' paths).
const PATHS: &[&str] = &[
    "/api/DSTs",
    "/api/DST/",
    "/api/auth/",
    "/api/robot/",
    "/api/resource/",
    "/api/pdfResource/",
    "/api/users",
    "/api/user/",
    "/api/service/",
    "/api/devices",
    "/api/device/",
    "/api/notifications/",
];

/// Whether `path` is one of the dialect's.
pub fn is_signingtoday_path(path: &str) -> bool {
    PATHS.iter().any(|p| path.starts_with(p))
}

/// Every Signing Today route, behind a bearer token and the organisation's rate limits.
pub fn router(state: AppState) -> Router<AppState> {
    let limits = from_fn_with_state(state.clone(), paraf_http::ratelimit::enforce);
    Router::new()
        .route("/api/auth/user", get(auth::user))
        .route("/api/auth/logout", get(auth::logout))
        .route("/api/DSTs", get(dsts::list).post(dsts::create))
        .route(
            "/api/DSTs/byFile",
            get(bulk::groups).post(bulk::template_by_file),
        )
        .route(
            "/api/DST/{id}/instantiate/byFile",
            post(bulk::instantiate_by_file),
        )
        .route(
            "/api/DST/{id}",
            get(dsts::show)
                .put(lifecycle::replace_draft)
                .delete(dsts::delete),
        )
        .route("/api/DST/{id}/publish", post(dsts::publish))
        .route("/api/DST/{id}/fill", axum::routing::patch(lifecycle::fill))
        .route("/api/DST/{id}/modify", post(lifecycle::modify))
        .route("/api/DST/{id}/clone", post(lifecycle::clone))
        .route("/api/DST/{id}/templatize", post(lifecycle::templatize))
        .route("/api/DST/{id}/instantiate", post(lifecycle::instantiate))
        .route("/api/DST/{id}/replace", post(lifecycle::replace))
        .route(
            "/api/robot/DST/{id}/instantiate",
            post(lifecycle::robot_instantiate),
        )
        .route(
            "/api/robot/{id}/instantiate",
            post(lifecycle::robot_instantiate),
        )
        .route(
            "/api/DST/{id}/sign/{doc_id}/{sign_id}",
            get(dsts::signing_address),
        )
        .route(
            "/api/DST/{id}/note",
            get(activity::notes).post(activity::add_note),
        )
        .route(
            "/api/DST/{id}/note/{note_id}",
            axum::routing::put(activity::change_note).delete(activity::delete_note),
        )
        .route("/api/DST/{id}/audit", get(activity::audit))
        .route("/api/DST/{id}/notify", post(activity::notify))
        .route(
            "/api/resource/{id}",
            get(resources::download).put(documents::describe),
        )
        .route(
            "/api/DST/{id}/resources",
            get(resources::dst_zip).patch(documents::add),
        )
        .route(
            "/api/DST/resource/{id}",
            axum::routing::delete(documents::remove),
        )
        .route("/api/DST/{id}/doc/{doc_id}/swap", post(documents::swap))
        .route(
            "/api/DST/{id}/doc/{doc_id}/resource",
            post(documents::replace_file),
        )
        .route(
            "/api/DSTs/instantiationGroup/{id}/resources",
            get(resources::group_zip),
        )
        .route("/api/pdfResource/{id}/thumbs", get(resources::thumbs))
        .route("/api/robot/DSTs", post(dsts::robot_create))
        .route(
            "/api/robot/authentication",
            get(robots::token).delete(robots::revoke),
        )
        .route(
            "/api/robot/configuration",
            get(robots::configuration).put(robots::configure),
        )
        .route("/api/users", get(users::list).post(users::create))
        .route(
            "/api/users/groups",
            get(users::groups).post(users::create_groups),
        )
        .route(
            "/api/user/{id}",
            get(users::show).put(users::change).delete(users::enable),
        )
        .route("/api/user/{id}/role", axum::routing::put(users::role))
        .route("/api/user/{id}/identities", get(identities::list))
        .route(
            "/api/user/{id}/identity/{identity_id}/appearance",
            get(identities::get_appearance)
                .post(identities::set_appearance)
                .delete(identities::remove_appearance),
        )
        .route(
            "/api/auth/passwordReset",
            get(services::reset).post(services::change_own),
        )
        .route("/api/auth/passwordToken", get(services::token))
        .route("/api/service/changePassword", post(services::change_for))
        .route("/api/devices", get(devices::list))
        .route("/api/notifications/dsts", get(devices::notifications))
        .route(
            "/api/notifications/dst/{id}",
            axum::routing::delete(devices::consume),
        )
        .route(
            "/api/notifications/push-token",
            post(devices::set_push_token).delete(devices::remove_push_token),
        )
        .route_layer(limits.clone())
        .route_layer(from_fn_with_state((state.clone(), AUTH), require_auth))
        // Without a token (the seed's samples send none).
        .route("/api/auth/passwordLost", get(services::password_lost))
        .route("/api/auth/saml", post(auth::saml))
        .route(
            "/api/auth/changePassword",
            post(services::change_with_token),
        )
        .route("/api/service/configuration", get(services::configuration))
        // The app pairs without a token; asking for a challenge and removing a device take
        // one (the layers are on those two methods only).
        .route(
            "/api/device/authorization",
            post(devices::pair).merge(
                get(devices::challenge)
                    .delete(devices::remove)
                    .route_layer(limits)
                    .route_layer(from_fn_with_state((state, AUTH), require_auth)),
            ),
        )
}

/// The Signing Today dialect as the server registers it.
pub fn dialect() -> paraf_http::Dialect {
    paraf_http::Dialect {
        name: "signingtoday",
        routes: router,
        openapi: openapi::add_to,
        wrap: Some(|state, app| app.layer(from_fn_with_state(state, envelope))),
        payload: Some((FACE, robots::payload)),
    }
}

/// Gives every error of a Signing Today path the `ErrorResponse` shape: those of the shared
/// layers (401, 413, 429) and the framework (404, 405) as well as the handlers' own.
pub async fn envelope(State(_): State<AppState>, req: Request, next: Next) -> Response {
    if !is_signingtoday_path(req.uri().path()) {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    let status = resp.status();
    if status.is_success() || status.is_redirection() || resp.extensions().get::<Shaped>().is_some()
    {
        return resp;
    }
    // Keep what the shared layers said besides the body (Retry-After, WWW-Authenticate…).
    let mut shaped = StError::for_status(status).into_response();
    paraf_http::error::keep_headers(resp.headers(), &mut shaped);
    shaped
}

/// The authenticated caller: the user behind the token (a person's OAuth token or a robot's
/// API token), their organisation, their audit actor, and the user themselves (role and
/// capabilities decide what they may do: see docs/signingtoday.md, "Roles").
pub struct Caller {
    pub org: OrgId,
    pub user: UserId,
    pub actor: Actor,
    pub me: User,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = StError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, StError> {
        let (p, user, actor) = paraf_http::auth::user_caller(parts, Face::SigningToday)
            .ok_or_else(StError::unauthenticated)?;
        let me = state.core.user(p.org, user).await?;
        Ok(Caller {
            org: p.org,
            user,
            actor,
            me,
        })
    }
}

impl Caller {
    /// Refuses unless the caller has `c`.
    pub fn require(&self, c: Capability) -> Result<(), StError> {
        if self.me.can(c) {
            Ok(())
        } else {
            Err(StError::forbidden(format!(
                "the user is not allowed to perform the request (the {} capability is needed; the user's role is {})",
                c.as_str(),
                self.me.role
            )))
        }
    }

    /// Refuses a signer: only administrators and instructors make DSTs and templates.
    pub fn sends(&self) -> Result<(), StError> {
        if self.me.role.sends() {
            Ok(())
        } else {
            Err(StError::forbidden(
                "the user is not allowed to perform the request (a signer only signs: DSTs and templates are made by administrators and instructors)",
            ))
        }
    }

    /// Refuses unless the caller may change `e` (made it, or has `dst.create.modify_all`).
    pub fn may_change(&self, e: &Envelope) -> Result<(), StError> {
        if paraf_core::people::may_change(&self.me, e) {
            Ok(())
        } else {
            Err(StError::forbidden(
                "the user is not allowed to change this DST (only its author, or a user with dst.create.modify_all)",
            ))
        }
    }

    /// Refuses unless the caller may delete `e` (made it, or has `dst.delete.all`).
    pub fn may_delete(&self, e: &Envelope) -> Result<(), StError> {
        if paraf_core::people::may_delete(&self.me, e) {
            Ok(())
        } else {
            Err(StError::forbidden(
                "the user is not allowed to delete this DST (only its author, or a user with dst.delete.all)",
            ))
        }
    }
}

/// RFC 3339 UTC with seconds and an offset (`2026-06-15T10:00:00Z`): what the SDKs' date
/// parsers (Java's `ISO_OFFSET_DATE_TIME`) accept.
pub(crate) fn time(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A date-time as the seed writes them: RFC 3339, seconds optional (`2021-10-17T07:26Z`).
pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    for f in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%dT%H:%MZ"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&chrono::Utc));
        }
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    None
}

/// A user's id as the API shows it: a UUID (the SDKs type user ids as UUIDs) that carries the
/// user's number, `00000000-0000-4000-8000-<12 hex digits>`.
pub fn user_uuid(u: UserId) -> String {
    format!("00000000-0000-4000-8000-{:012x}", u.0)
}

/// The inverse of [`user_uuid`].
pub fn user_of_uuid(s: &str) -> Option<UserId> {
    let hex = s.trim().to_ascii_lowercase();
    let n = hex.strip_prefix("00000000-0000-4000-8000-")?;
    if n.len() != 12 {
        return None;
    }
    i64::from_str_radix(n, 16)
        .ok()
        .filter(|n| *n > 0)
        .map(UserId)
}

/// Whether `s` is a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn user_ids_round_trip_as_uuids() {
        let u = user_uuid(UserId(42));
        assert!(is_uuid(&u));
        assert_eq!(user_of_uuid(&u), Some(UserId(42)));
        assert_eq!(user_of_uuid("737dc132-a3f0-11e9-a2a3-2a2ae2dbcce4"), None);
    }

    #[test]
    fn the_seeds_date_forms_parse() {
        assert!(parse_time("2021-10-17T07:26Z").is_some());
        assert!(parse_time("2030-04-25T12:00:00Z").is_some());
        assert!(parse_time("2030-04-25T12:00:00+07:00").is_some());
        assert!(parse_time("tomorrow").is_none());
    }
}
