//! The reply envelope of `/ext/v1` — `{"code": "...", "message": "...", "data": ...}` on every
//! reply, success or not — and the messages in the request's language (`x-language`: `id`,
//! the default, or `en`; any other value falls back to `id`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::domain::{AuthFailure, DomainError};
use paraf_core::CoreError;
use serde_json::{json, Value};

/// The reply language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Bahasa Indonesia (the seed's default).
    #[default]
    Id,
    En,
}

impl Lang {
    /// From the `x-language` header: `en` is English, anything else Indonesian.
    pub fn from_header(v: Option<&str>) -> Lang {
        match v.map(|s| s.trim().to_ascii_lowercase()) {
            Some(s) if s == "en" || s.starts_with("en-") => Lang::En,
            _ => Lang::Id,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }
}

/// Every message of the API, by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    Ok,
    MissingAppKey,
    UnknownAppKey,
    MissingRequestId,
    BadSignature,
    RequestIdConflict,
    RequestInProgress,
    TokensShownOnce,
    InvalidField,
    WrongCredentials,
    MissingToken,
    WrongToken,
    InvalidToken,
    RefreshTokenReused,
    MissingUserToken,
    Forbidden,
    NotFound,
    Conflict,
    TooManyRequests,
    TooLarge,
    Internal,
}

impl Msg {
    /// The `code` of the reply.
    pub fn code(self) -> &'static str {
        use Msg::*;
        match self {
            Ok => "OK",
            MissingAppKey => "MISSING_APP_KEY",
            UnknownAppKey => "INVALID_APP_KEY",
            MissingRequestId => "MISSING_REQUEST_ID",
            BadSignature => "INVALID_SIGNATURE",
            RequestIdConflict => "REQUEST_ID_CONFLICT",
            RequestInProgress => "REQUEST_IN_PROGRESS",
            TokensShownOnce => "REQUEST_ID_USED",
            InvalidField => "INVALID_FIELD",
            WrongCredentials => "INVALID_CREDENTIALS",
            MissingToken => "MISSING_TOKEN",
            WrongToken => "WRONG_TOKEN_TYPE",
            InvalidToken => "INVALID_TOKEN",
            RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            MissingUserToken => "MISSING_USER_TOKEN",
            Forbidden => "FORBIDDEN",
            NotFound => "NOT_FOUND",
            Conflict => "CONFLICT",
            TooManyRequests => "TOO_MANY_REQUESTS",
            TooLarge => "PAYLOAD_TOO_LARGE",
            Internal => "INTERNAL_ERROR",
        }
    }

    /// The HTTP status of the reply.
    pub fn status(self) -> StatusCode {
        use Msg::*;
        match self {
            Ok => StatusCode::OK,
            MissingRequestId | InvalidField => StatusCode::BAD_REQUEST,
            MissingAppKey | UnknownAppKey | BadSignature | WrongCredentials | MissingToken
            | WrongToken | InvalidToken | RefreshTokenReused | MissingUserToken => {
                StatusCode::UNAUTHORIZED
            }
            Forbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            RequestIdConflict | RequestInProgress | TokensShownOnce | Conflict => {
                StatusCode::CONFLICT
            }
            TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message in `lang`.
    pub fn text(self, lang: Lang) -> &'static str {
        use Msg::*;
        let (id, en) = match self {
            Ok => ("Berhasil", "Success"),
            MissingAppKey => ("Header x-app-key wajib diisi", "The x-app-key header is required"),
            UnknownAppKey => (
                "x-app-key tidak dikenal atau tidak aktif",
                "The x-app-key is unknown or disabled",
            ),
            MissingRequestId => (
                "Header x-request-id wajib diisi (1–128 karakter ASCII yang terlihat)",
                "The x-request-id header is required (1–128 visible ASCII characters)",
            ),
            BadSignature => (
                "x-signature tidak ada atau tidak cocok dengan permintaan ini",
                "x-signature is missing or does not match this request",
            ),
            RequestIdConflict => (
                "x-request-id ini sudah dipakai untuk permintaan lain",
                "This x-request-id was already used for another request",
            ),
            RequestInProgress => (
                "Permintaan dengan x-request-id ini masih diproses",
                "A request with this x-request-id is still being processed",
            ),
            TokensShownOnce => (
                "x-request-id ini sudah dipakai; balasan berisi token, tautan atau berkas hanya diberikan sekali, kirim permintaan baru",
                "This x-request-id was already used; replies with tokens, links or files are given once, send a new request",
            ),
            InvalidField => ("Isian tidak valid", "A field is not valid"),
            WrongCredentials => ("Email atau kata sandi salah", "Wrong e-mail or password"),
            MissingToken => (
                "Header Authorization: Bearer <token> wajib diisi",
                "The Authorization: Bearer <token> header is required",
            ),
            WrongToken => (
                "Jenis token salah untuk endpoint ini",
                "Wrong kind of token for this endpoint",
            ),
            InvalidToken => (
                "Token tidak valid, kedaluwarsa atau sudah dicabut",
                "The token is invalid, expired or revoked",
            ),
            RefreshTokenReused => (
                "Refresh token sudah pernah dipakai; semua token sesi ini dicabut",
                "The refresh token was already used; every token of this session is revoked",
            ),
            MissingUserToken => (
                "Header x-user-token dari sesi yang sama wajib diisi",
                "The x-user-token header of the same session is required",
            ),
            Forbidden => ("Tidak diizinkan", "Not allowed"),
            NotFound => ("Data tidak ditemukan", "Not found"),
            Conflict => (
                "Permintaan bertentangan dengan keadaan data",
                "The request conflicts with the current state",
            ),
            TooManyRequests => (
                "Terlalu banyak permintaan; coba lagi nanti",
                "Too many requests; retry later",
            ),
            TooLarge => ("Isi permintaan terlalu besar", "The request body is too large"),
            Internal => ("Terjadi kesalahan pada server", "Internal server error"),
        };
        match lang {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

/// A reply of the API: its message and its data.
#[derive(Debug, Clone)]
pub struct Reply {
    pub msg: Msg,
    pub lang: Lang,
    pub data: Value,
}

impl Reply {
    pub fn ok(lang: Lang, data: Value) -> Reply {
        Reply {
            msg: Msg::Ok,
            lang,
            data,
        }
    }

    pub fn err(lang: Lang, msg: Msg) -> Reply {
        Reply {
            msg,
            lang,
            data: Value::Null,
        }
    }

    pub fn with_data(mut self, data: Value) -> Reply {
        self.data = data;
        self
    }

    /// A core refusal in the API's terms (an internal failure is logged, never shown).
    pub fn from_core(lang: Lang, e: CoreError) -> Reply {
        let d = match e {
            CoreError::Domain(d) => d,
            other => {
                tracing::error!(error = %other, "ext: internal failure");
                return Reply::err(lang, Msg::Internal);
            }
        };
        match d {
            DomainError::Invalid { field, reason } => Reply::err(lang, Msg::InvalidField)
                .with_data(json!({"field": field, "reason": reason})),
            DomainError::NotFound { .. } => Reply::err(lang, Msg::NotFound),
            DomainError::Unauthenticated(AuthFailure::WrongPassword) => {
                Reply::err(lang, Msg::WrongCredentials)
            }
            DomainError::Unauthenticated(AuthFailure::WrongTokenKind) => {
                Reply::err(lang, Msg::WrongToken)
            }
            DomainError::Unauthenticated(AuthFailure::RefreshTokenReused) => {
                Reply::err(lang, Msg::RefreshTokenReused)
            }
            DomainError::Unauthenticated(_) => Reply::err(lang, Msg::InvalidToken),
            DomainError::Forbidden { .. } => Reply::err(lang, Msg::Forbidden),
            DomainError::RateLimited { .. } | DomainError::QuotaExceeded { .. } => {
                Reply::err(lang, Msg::TooManyRequests)
            }
            // The core's reason names the state that refused (never a secret).
            DomainError::Conflict { reason } => {
                Reply::err(lang, Msg::Conflict).with_data(json!({ "reason": reason }))
            }
            DomainError::AlreadyExists { .. } => Reply::err(lang, Msg::Conflict),
            other => {
                tracing::error!(error = %other, "ext: unexpected refusal");
                Reply::err(lang, Msg::Internal)
            }
        }
    }
}

impl Reply {
    /// The reply's body.
    pub fn body(&self) -> Value {
        json!({
            "code": self.msg.code(),
            "message": self.msg.text(self.lang),
            "data": self.data,
        })
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut r = (self.msg.status(), Json(self.body())).into_response();
        r.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.lang.tag()),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r.extensions_mut().insert(Shaped);
        r
    }
}

/// Marks a response already in the envelope (the outer layer leaves it alone).
#[derive(Debug, Clone, Copy)]
pub struct Shaped;

/// Marks a reply given once — it carries tokens or signing links — never recorded for replay:
/// its request id answers `REQUEST_ID_USED` afterwards. Files (any reply that is not JSON)
/// are not recorded either.
#[derive(Debug, Clone, Copy)]
pub struct GivenOnce;

/// `r` marked [`GivenOnce`].
pub fn given_once(mut r: Response) -> Response {
    r.extensions_mut().insert(GivenOnce);
    r
}

impl From<Reply> for Response {
    fn from(r: Reply) -> Response {
        r.into_response()
    }
}
