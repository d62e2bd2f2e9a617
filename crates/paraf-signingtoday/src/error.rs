//! The platform's `ErrorResponse {code, message, target}` with the statuses the official SDKs
//! document (400 bad data, 401, 403, 404, 409 "illegal status", 500). The seed names no
//! codes: ours are a fixed set, listed in docs/signingtoday.md.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::domain::{DomainError, Entity};
use paraf_core::CoreError;

use crate::wire::ErrorResponse;

/// Every `code` an error may carry, with its status.
pub const CODES: &[(&str, u16)] = &[
    ("INVALID_INPUT", 400),
    ("UNAUTHORIZED", 401),
    ("FORBIDDEN", 403),
    ("NOT_FOUND", 404),
    ("METHOD_NOT_ALLOWED", 405),
    ("ILLEGAL_STATUS", 409),
    ("PAYLOAD_TOO_LARGE", 413),
    ("UNSUPPORTED_MEDIA_TYPE", 415),
    ("TOO_MANY_REQUESTS", 429),
    ("INTERNAL_ERROR", 500),
    ("UNAVAILABLE", 503),
];

/// An error of the dialect.
#[derive(Debug, Clone)]
pub struct StError {
    pub status: StatusCode,
    pub body: ErrorResponse,
}

/// Marks a response the dialect already shaped (the outer layer leaves it alone).
#[derive(Debug, Clone, Copy)]
pub struct Shaped;

impl StError {
    /// An error with the code of `status`.
    pub fn new(status: StatusCode, message: impl Into<String>, target: Option<&str>) -> StError {
        let code = CODES
            .iter()
            .find(|(_, s)| *s == status.as_u16())
            .map_or("INTERNAL_ERROR", |(c, _)| c);
        StError {
            status,
            body: ErrorResponse {
                code: code.into(),
                message: message.into(),
                target: target.map(str::to_string),
            },
        }
    }

    /// 400 naming the field or parameter.
    pub fn invalid(target: &str, message: impl Into<String>) -> StError {
        StError::new(StatusCode::BAD_REQUEST, message, Some(target))
    }

    /// The trimmed value of a required field, or 400 naming it.
    pub fn required(v: &Option<String>, field: &str) -> Result<String, StError> {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| StError::invalid(field, format!("{field} is required")))
    }

    /// 404 naming what was looked for.
    pub fn not_found(target: &str, what: &str) -> StError {
        StError::new(
            StatusCode::NOT_FOUND,
            format!("{what} not found"),
            Some(target),
        )
    }

    /// 403: the caller's role or capabilities do not allow it.
    pub fn forbidden(message: impl Into<String>) -> StError {
        StError::new(StatusCode::FORBIDDEN, message, None)
    }

    /// 409: the resource's status does not allow it.
    pub fn illegal_status(message: impl Into<String>) -> StError {
        StError::new(StatusCode::CONFLICT, message, None)
    }

    /// 401.
    pub fn unauthenticated() -> StError {
        StError::new(
            StatusCode::UNAUTHORIZED,
            "authentication was not effective (not provided, invalid or expired)",
            Some("Authorization"),
        )
    }

    /// 500, the cause logged (never shown).
    pub fn internal(cause: impl std::fmt::Display) -> StError {
        tracing::error!(error = %cause, "signingtoday: internal failure");
        StError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal failure of the service",
            None,
        )
    }

    /// The error the outer layer gives a bare status of the shared layers or the framework.
    pub fn for_status(status: StatusCode) -> StError {
        let message = match status.as_u16() {
            401 => return StError::unauthenticated(),
            403 => "the user is not allowed to perform the request",
            404 => "the resource was not found",
            405 => "method not allowed on this resource",
            413 => "the request body is too large",
            415 => "unsupported content type",
            429 => "too many requests; retry later",
            400..=499 => "the request is not valid",
            _ => "internal failure of the service",
        };
        StError::new(status, message, None)
    }
}

impl IntoResponse for StError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body)).into_response();
        r.extensions_mut().insert(Shaped);
        r
    }
}

/// The seed's word for the core's field names.
fn target_of(field: &str) -> &str {
    match field {
        "expires_at" => "expiresAt",
        "signers" => "signerGroups",
        "pdf" | "file" => "resource",
        other => other,
    }
}

impl From<CoreError> for StError {
    fn from(e: CoreError) -> StError {
        match e {
            CoreError::Domain(d) => match d {
                DomainError::Invalid { field, reason } => {
                    let t = target_of(field);
                    StError::invalid(t, format!("{t}: {reason}"))
                }
                DomainError::NotFound { entity } => {
                    let (target, what) = match entity {
                        Entity::Envelope => ("id", "DST"),
                        Entity::Document => ("id", "resource"),
                        Entity::Note => ("noteId", "note"),
                        Entity::Recipient => ("signId", "signature request"),
                        Entity::User => ("userId", "user"),
                        other => ("id", other.as_str()),
                    };
                    StError::not_found(target, what)
                }
                DomainError::AlreadyExists { entity, .. } => StError::new(
                    StatusCode::CONFLICT,
                    format!("this {entity} already exists"),
                    None,
                ),
                DomainError::Unauthenticated(_) => StError::unauthenticated(),
                DomainError::Forbidden { reason } => {
                    StError::new(StatusCode::FORBIDDEN, reason, None)
                }
                DomainError::QuotaExceeded { quota, limit, used } => StError::new(
                    StatusCode::FORBIDDEN,
                    format!("the plan's {quota:?} quota is used up ({used} of {limit})"),
                    None,
                ),
                DomainError::RateLimited { .. } => {
                    StError::for_status(StatusCode::TOO_MANY_REQUESTS)
                }
                DomainError::Conflict { reason } => StError::illegal_status(reason),
                other => StError::internal(other),
            },
            CoreError::WrongStatus { .. } => StError::illegal_status(e.to_string()),
            CoreError::Document(r) => {
                use paraf_core::error::DocumentRefusal as R;
                let detail = match r {
                    R::NotAPdf { detail, .. } => format!("not a readable PDF ({detail})"),
                    R::WrongPdfPassword { .. } => "the PDF is protected by a password".into(),
                    R::PageOutOfRange { page, pages } => {
                        format!("page {page} does not exist (the document has {pages})")
                    }
                    R::TagNotFound { tag } => format!("the tag {tag} is not in the document"),
                    R::InvalidImage { detail } | R::CannotSign { detail } => detail,
                };
                StError::invalid("resource", format!("the document cannot be used: {detail}"))
            }
            other => StError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_statuses() {
        assert_eq!(StError::invalid("title", "x").body.code, "INVALID_INPUT");
        assert_eq!(StError::illegal_status("x").body.code, "ILLEGAL_STATUS");
        let e = StError::from(CoreError::Domain(DomainError::not_found(Entity::Envelope)));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.body.target.as_deref(), Some("id"));
    }
}
