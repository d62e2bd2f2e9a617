//! [`ApiError`]: the neutral JSON error of the shared routes,
//! `{"error": {"code", "message", "request_id"}}`, and the middleware that renders it in the
//! request's language and turns the framework's plain-text refusals (404, 405, 413, 415, 422)
//! into the same shape.
//!
//! **Invariant:** an error body never carries internals. The cause of a 5xx is logged with the
//! request id and the client gets only the id to quote.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::i18n::{message, window_word, Language, MessageKey};
use crate::request_id::RequestId;

/// What an error response says, kept as a response extension so that [`localize_errors`]
/// can render it in the request's language.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    /// The message.
    pub key: MessageKey,
    /// Its arguments.
    pub args: Vec<(&'static str, String)>,
}

/// An error of a shared route.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    info: ErrorInfo,
    headers: Vec<(HeaderName, HeaderValue)>,
    cause: Option<String>,
}

impl ApiError {
    /// An error with `status` saying `key`.
    pub fn new(status: StatusCode, key: MessageKey) -> Self {
        ApiError {
            status,
            info: ErrorInfo {
                key,
                args: Vec::new(),
            },
            headers: Vec::new(),
            cause: None,
        }
    }

    /// Adds a message argument.
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.info.args.push((name, value.to_string()));
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Records why (logged, never sent).
    pub fn cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// 401 without credentials.
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, MessageKey::AuthenticationRequired)
    }

    /// 401 with wrong, disabled, revoked or expired credentials; `why` is logged only.
    pub fn invalid_credentials(why: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, MessageKey::InvalidCredentials).cause(why)
    }

    /// 403.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, MessageKey::Forbidden)
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, MessageKey::NotFound)
    }

    /// 400 with a client-facing `detail`.
    pub fn bad_request(detail: impl ToString) -> Self {
        Self::new(StatusCode::BAD_REQUEST, MessageKey::BadRequest).arg("detail", detail)
    }

    /// 413 for a body over `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, MessageKey::PayloadTooLarge).arg("limit", limit)
    }

    /// 503.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, MessageKey::Unavailable).cause(cause)
    }

    /// 500; `cause` is logged with the request id, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, MessageKey::Internal).cause(cause)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message key.
    pub fn key(&self) -> MessageKey {
        self.info.key
    }
}

/// The JSON body of an error in `lang`.
pub fn error_body(info: &ErrorInfo, lang: Language, request_id: Option<&str>) -> Vec<u8> {
    let mut args: Vec<(&str, String)> = info
        .args
        .iter()
        .map(|(k, v)| {
            if *k == "window" {
                (*k, window_word(v, lang).to_string())
            } else {
                (*k, v.clone())
            }
        })
        .collect();
    args.push(("request_id", request_id.unwrap_or("-").to_string()));
    let msg = message(info.key, lang, &args);
    let mut err = serde_json::json!({
        "code": info.key.code(),
        "message": msg,
    });
    if let Some(id) = request_id {
        err["request_id"] = serde_json::Value::String(id.to_string());
    }
    serde_json::to_vec(&serde_json::json!({ "error": err })).unwrap_or_default()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), code = self.info.key.code(), cause = ?self.cause, "request failed");
        } else if let Some(c) = &self.cause {
            tracing::info!(status = self.status.as_u16(), code = self.info.key.code(), cause = %c, "request refused");
        }
        let body = error_body(&self.info, Language::En, None);
        let mut resp = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        for (k, v) in self.headers {
            resp.headers_mut().append(k, v);
        }
        resp.extensions_mut().insert(self.info);
        resp
    }
}

/// Middleware: renders [`ApiError`] bodies in the request's language with its request id, and
/// gives the framework's plain-text refusals the same JSON shape. `body_limit` is quoted by 413s.
pub async fn localize_errors(
    State(body_limit): State<usize>,
    req: Request,
    next: Next,
) -> Response {
    let lang = req
        .extensions()
        .get::<Language>()
        .copied()
        .unwrap_or_else(|| Language::negotiate(req.headers()));
    let request_id = req.extensions().get::<RequestId>().cloned();
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let info = match resp.extensions().get::<ErrorInfo>() {
        Some(info) if info.key == MessageKey::PayloadTooLarge => ErrorInfo {
            key: info.key,
            args: vec![("limit", body_limit.to_string())],
        },
        Some(info) => info.clone(),
        None => {
            let plain = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|ct| ct.starts_with("text/plain"));
            if !plain {
                return resp;
            }
            let key = match status {
                StatusCode::NOT_FOUND => MessageKey::NotFound,
                StatusCode::METHOD_NOT_ALLOWED => MessageKey::MethodNotAllowed,
                StatusCode::PAYLOAD_TOO_LARGE => MessageKey::PayloadTooLarge,
                StatusCode::UNSUPPORTED_MEDIA_TYPE => MessageKey::UnsupportedMediaType,
                StatusCode::UNAUTHORIZED => MessageKey::AuthenticationRequired,
                StatusCode::FORBIDDEN => MessageKey::Forbidden,
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                    MessageKey::BadRequest
                }
                s if s.is_server_error() => MessageKey::Internal,
                _ => return resp,
            };
            let (parts, body) = resp.into_parts();
            let mut args = Vec::new();
            if key == MessageKey::BadRequest {
                // The framework's rejection text describes the client's input only.
                let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
                let text = String::from_utf8_lossy(&text).trim().to_string();
                let text: String = text.chars().take(300).collect();
                args.push(("detail", text));
            }
            if key == MessageKey::PayloadTooLarge {
                args.push(("limit", body_limit.to_string()));
            }
            let resp = Response::from_parts(parts, Body::empty());
            return rebuild(resp, &ErrorInfo { key, args }, lang, request_id.as_ref());
        }
    };
    rebuild(resp, &info, lang, request_id.as_ref())
}

fn rebuild(
    resp: Response,
    info: &ErrorInfo,
    lang: Language,
    request_id: Option<&RequestId>,
) -> Response {
    let (mut parts, _) = resp.into_parts();
    let body = error_body(info, lang, request_id.map(|r| r.as_str()));
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    parts.extensions.insert(info.clone());
    Response::from_parts(parts, Body::from(body))
}

impl From<paraf_domain::DomainError> for ApiError {
    fn from(e: paraf_domain::DomainError) -> Self {
        use paraf_domain::{AuthFailure, DomainError};
        match e {
            DomainError::Invalid { field, reason } => {
                ApiError::bad_request(format!("{field}: {reason}"))
            }
            DomainError::NotFound { .. } => ApiError::not_found(),
            DomainError::AlreadyExists { .. } => {
                Self::new(StatusCode::CONFLICT, MessageKey::Conflict).cause(e)
            }
            DomainError::Unauthenticated(AuthFailure::Expired) => {
                Self::new(StatusCode::UNAUTHORIZED, MessageKey::TokenExpired).cause("expired")
            }
            DomainError::Unauthenticated(f) => ApiError::invalid_credentials(f),
            DomainError::Forbidden { reason } => ApiError::forbidden().cause(reason),
            DomainError::RateLimited {
                window,
                limit,
                retry_after_secs,
            } => Self::new(StatusCode::TOO_MANY_REQUESTS, MessageKey::RateLimited)
                .arg("limit", limit)
                .arg("window", window.as_str())
                .arg("retry_after", retry_after_secs),
            DomainError::QuotaExceeded { quota, .. } => {
                Self::new(StatusCode::FORBIDDEN, MessageKey::QuotaExceeded).arg("quota", quota)
            }
            DomainError::Conflict { reason } => {
                Self::new(StatusCode::CONFLICT, MessageKey::Conflict).cause(reason)
            }
            DomainError::Entropy { reason } => ApiError::internal(reason),
        }
    }
}

impl From<paraf_core::CoreError> for ApiError {
    fn from(e: paraf_core::CoreError) -> Self {
        match e {
            paraf_core::CoreError::Domain(d) => d.into(),
            other => ApiError::internal(other),
        }
    }
}

/// Copies `from`'s headers (but its content type and length) onto `to`: a dialect that gives
/// a shared layer's refusal its own body keeps `Retry-After`, `WWW-Authenticate` and the
/// rate-limit counters.
pub fn keep_headers(from: &axum::http::HeaderMap, to: &mut Response) {
    for (name, value) in from.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            to.headers_mut().insert(name.clone(), value.clone());
        }
    }
}
