//! The GesDocs error shape (seed 002): `{"status": "error", "message": …}` with, for validation,
//! `"errors": {"<field>": ["<message>", …]}` (HTTP 422, the shape of the seed's `register`
//! example) or, for one failing input, `"field": "<field>"` (the seed's `secure-downloads`
//! examples: `files.0.url`, `logo_url`). Messages are English like the seed's API examples.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paraf_core::domain::{DomainError, Entity};
use paraf_core::CoreError;

use crate::wire::ErrorBody;

/// Marks a response whose body already has the GesDocs shape (the envelope leaves it).
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

/// An error of the GesDocs dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GesDocsError {
    pub status: StatusCode,
    pub message: String,
    pub errors: BTreeMap<String, Vec<String>>,
    pub field: Option<String>,
}

impl GesDocsError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> GesDocsError {
        GesDocsError {
            status,
            message: message.into(),
            errors: BTreeMap::new(),
            field: None,
        }
    }

    /// 422 "Validation error" with `errors` per field.
    pub fn validation(errors: BTreeMap<String, Vec<String>>) -> GesDocsError {
        GesDocsError {
            errors,
            ..GesDocsError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation error")
        }
    }

    /// 422 for one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> GesDocsError {
        let mut errors = BTreeMap::new();
        errors.insert(field.to_string(), vec![message.into()]);
        GesDocsError::validation(errors)
    }

    /// 401.
    pub fn unauthenticated() -> GesDocsError {
        GesDocsError::new(StatusCode::UNAUTHORIZED, "Unauthenticated.")
    }

    /// 500 without details (they go to the log).
    pub fn internal(cause: impl std::fmt::Display) -> GesDocsError {
        tracing::error!(error = %cause, "internal error");
        GesDocsError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            status: "error".into(),
            message: self.message.clone(),
            errors: (!self.errors.is_empty()).then(|| self.errors.clone()),
            field: self.field.clone(),
        }
    }
}

impl IntoResponse for GesDocsError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        resp.extensions_mut().insert(Rendered);
        resp
    }
}

fn what(entity: Entity) -> &'static str {
    match entity {
        Entity::ApiToken => "API token",
        Entity::WebhookEndpoint => "webhook",
        _ => "resource",
    }
}

impl From<CoreError> for GesDocsError {
    fn from(e: CoreError) -> GesDocsError {
        match e {
            CoreError::Domain(d) => match d {
                DomainError::Invalid { field, reason } => {
                    // "must …", "is …": one Laravel-style sentence; anything else stands alone.
                    let sentence = if ["must ", "is ", "are ", "has "]
                        .iter()
                        .any(|p| reason.starts_with(p))
                    {
                        format!("The {field} field {reason}.")
                    } else {
                        capitalised(&reason)
                    };
                    GesDocsError::invalid(field, sentence)
                }
                DomainError::NotFound { entity } => GesDocsError::new(
                    StatusCode::NOT_FOUND,
                    format!("This {} does not exist.", what(entity)),
                ),
                DomainError::AlreadyExists {
                    entity: Entity::User,
                    ..
                } => GesDocsError::invalid("email", "The email address is already used."),
                DomainError::AlreadyExists { entity, .. } => {
                    GesDocsError::invalid("name", format!("This {} already exists.", what(entity)))
                }
                DomainError::Unauthenticated(_) => GesDocsError::unauthenticated(),
                DomainError::Forbidden { reason } => {
                    GesDocsError::new(StatusCode::FORBIDDEN, capitalised(&reason))
                }
                DomainError::RateLimited {
                    retry_after_secs, ..
                } => GesDocsError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("Too many requests; retry in {retry_after_secs} seconds."),
                ),
                DomainError::QuotaExceeded { quota, .. } => GesDocsError::new(
                    StatusCode::PAYMENT_REQUIRED,
                    format!("Quota exceeded: {quota}."),
                ),
                DomainError::Conflict { reason } => {
                    GesDocsError::new(StatusCode::CONFLICT, capitalised(&reason))
                }
                e @ DomainError::Entropy { .. } => GesDocsError::internal(e),
            },
            CoreError::Document(d) => {
                use paraf_core::error::DocumentRefusal as D;
                match d {
                    D::NotAPdf { field, detail } | D::WrongPdfPassword { field, detail } => {
                        GesDocsError::invalid(
                            &field,
                            format!("The {field} field must be a readable PDF: {detail}."),
                        )
                    }
                    D::PageOutOfRange { page, pages } => GesDocsError::invalid(
                        "fields",
                        format!("Page {page} does not exist (the document has {pages})."),
                    ),
                    D::TagNotFound { tag } => GesDocsError::invalid(
                        "pdf",
                        format!("The tag {tag} is not in the document."),
                    ),
                    D::InvalidImage { detail } => GesDocsError::invalid(
                        "signature",
                        format!("The image cannot be used: {detail}."),
                    ),
                    D::CannotSign { detail } => GesDocsError::new(
                        StatusCode::CONFLICT,
                        format!("The document cannot be signed: {detail}."),
                    ),
                }
            }
            CoreError::NoCredits => GesDocsError::new(
                StatusCode::PAYMENT_REQUIRED,
                "No credits left: buy credits to send signature requests.",
            ),
            other @ (CoreError::WrongStatus { .. } | CoreError::Key(_)) => {
                GesDocsError::new(StatusCode::CONFLICT, capitalised(&other.to_string()))
            }
            CoreError::Internal(cause) => GesDocsError::internal(cause),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = c
        .next()
        .map(|f| f.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(c.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
