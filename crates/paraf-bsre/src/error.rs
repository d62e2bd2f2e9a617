//! The BSrE error envelope: HTTP status + `{"error": "<message>", "status_code": <code>}`,
//! with the message in Indonesian by default and in English when the request says
//! `x-language: en`. Every code Paraf uses is one [`Code`] variant; `docs/bsre.md` has the
//! table (kept in step by the test `every_code_is_documented`).
//!
//! **Invariant:** a message never carries internals: 5xx bodies say only "internal error" and
//! the request id; the cause is logged.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The language of a BSrE reply: Indonesian unless the request asks for English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Bahasa Indonesia (the seed's language, the default).
    #[default]
    Id,
    /// English (`x-language: en`).
    En,
}

impl Lang {
    /// `x-language: en` (or `en-*`) → English; anything else → Indonesian.
    pub fn of(headers: &axum::http::HeaderMap) -> Lang {
        let en = headers
            .get("x-language")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "en" || v.starts_with("en-") || v.starts_with("en_"));
        if en {
            Lang::En
        } else {
            Lang::Id
        }
    }
}

/// Every error code of the BSrE dialect. The number is what integrators match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// 400: a required parameter is missing (`{field}`).
    MissingParameter,
    /// 400: a parameter has a value that cannot be used (`{field}`, `{detail}`).
    InvalidParameter,
    /// 400: the NIK/e-mail is not registered in this organisation.
    UserNotRegistered,
    /// 400: the identity's status does not allow signing (`{status}`).
    UserCannotSign,
    /// 400: too many wrong passphrases in a row: suspended until `{until}`.
    UserLocked,
    /// 400: the certificate's validity is over.
    CertificateExpired,
    /// 400: the certificate is revoked.
    CertificateRevoked,
    /// 400: the identity is suspended.
    UserSuspended,
    /// 400: the passphrase is wrong (`{remaining}` attempts left).
    WrongPassphrase,
    /// 400: the TOTP is wrong, expired or used up.
    InvalidTotp,
    /// 400: the identity does not accept e-mailed codes (passphrase only).
    TotpNotEnabled,
    /// 400: neither passphrase nor TOTP was given.
    MissingCredential,
    /// 400: a file is not a PDF (or cannot be read) (`{field}`, `{detail}`).
    NotAPdf,
    /// 400: a file is not valid base64 (`{field}`).
    InvalidBase64,
    /// 400: the PDF is password-protected and the password is missing or wrong (`{field}`).
    WrongPdfPassword,
    /// 400: the page does not exist (`{page}`, `{pages}`).
    PageOutOfRange,
    /// 400: `tag_koordinat` does not occur in the document (`{tag}`).
    TagNotFound,
    /// 400: the specimen image is missing or unreadable (`{field}`, `{detail}`).
    InvalidImage,
    /// 400: `image=false` without `linkQR`.
    MissingLinkQr,
    /// 400: `signatureProperties` has neither 1 nor as many entries as `file` (`{count}`, `{files}`).
    PropertiesCountMismatch,
    /// 400: the document forbids this signature or cannot be signed (`{detail}`).
    CannotSign,
    /// 404: no such signed document (`{id}`).
    DocumentNotFound,
    /// 410: the signed document was already downloaded (`{id}`).
    AlreadyDownloaded,
    /// 400: no seal with this `idSubscriber`.
    SealNotFound,
    /// 400: the seal's TOTP access is not activated (or was revoked).
    SealNotActivated,
    /// 400: the e-mail (or NIK) is already registered.
    AlreadyRegistered,
    /// 400: the file to verify cannot be read (`{detail}`).
    UnreadableFile,
    /// 401: the credential is missing, wrong, disabled or used from an IP outside its allow-list.
    Unauthorized,
    /// 404: no such endpoint.
    NotFound,
    /// 405: wrong method.
    MethodNotAllowed,
    /// 413: the request is larger than `{limit}` bytes.
    PayloadTooLarge,
    /// 415: the body is not of the expected media type (`{expected}`).
    UnsupportedMediaType,
    /// 500: internal error (`{request_id}`).
    Internal,
}

impl Code {
    /// Every code, for the documentation test.
    pub const ALL: [Code; 33] = [
        Code::MissingParameter,
        Code::InvalidParameter,
        Code::UserNotRegistered,
        Code::UserCannotSign,
        Code::UserLocked,
        Code::CertificateExpired,
        Code::CertificateRevoked,
        Code::UserSuspended,
        Code::WrongPassphrase,
        Code::InvalidTotp,
        Code::TotpNotEnabled,
        Code::MissingCredential,
        Code::NotAPdf,
        Code::InvalidBase64,
        Code::WrongPdfPassword,
        Code::PageOutOfRange,
        Code::TagNotFound,
        Code::InvalidImage,
        Code::MissingLinkQr,
        Code::PropertiesCountMismatch,
        Code::CannotSign,
        Code::DocumentNotFound,
        Code::AlreadyDownloaded,
        Code::SealNotFound,
        Code::SealNotActivated,
        Code::AlreadyRegistered,
        Code::UnreadableFile,
        Code::Unauthorized,
        Code::NotFound,
        Code::MethodNotAllowed,
        Code::PayloadTooLarge,
        Code::UnsupportedMediaType,
        Code::Internal,
    ];

    /// The number in `status_code`.
    pub fn number(self) -> u16 {
        match self {
            Code::MissingParameter => 2001,
            Code::InvalidParameter => 2002,
            Code::UserNotRegistered => 2011,
            Code::UserCannotSign => 2021,
            Code::UserLocked => 2022,
            Code::CertificateExpired => 2023,
            Code::CertificateRevoked => 2024,
            Code::UserSuspended => 2025,
            Code::WrongPassphrase => 2031,
            Code::InvalidTotp => 2032,
            Code::TotpNotEnabled => 2033,
            Code::MissingCredential => 2034,
            Code::NotAPdf => 2041,
            Code::InvalidBase64 => 2042,
            Code::WrongPdfPassword => 2043,
            Code::PageOutOfRange => 2044,
            Code::TagNotFound => 2045,
            Code::InvalidImage => 2046,
            Code::MissingLinkQr => 2047,
            Code::PropertiesCountMismatch => 2048,
            Code::CannotSign => 2049,
            Code::DocumentNotFound => 2051,
            Code::AlreadyDownloaded => 2052,
            Code::SealNotFound => 2061,
            Code::SealNotActivated => 2062,
            Code::AlreadyRegistered => 2071,
            Code::UnreadableFile => 2081,
            Code::Unauthorized => 401,
            Code::NotFound => 404,
            Code::MethodNotAllowed => 405,
            Code::PayloadTooLarge => 413,
            Code::UnsupportedMediaType => 415,
            Code::Internal => 500,
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::NotFound | Code::DocumentNotFound => StatusCode::NOT_FOUND,
            Code::AlreadyDownloaded => StatusCode::GONE,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The message template in `lang`; `{name}` placeholders are filled from the arguments.
    pub fn template(self, lang: Lang) -> &'static str {
        use Code::*;
        match (self, lang) {
            (MissingParameter, Lang::Id) => "Parameter {field} wajib diisi",
            (MissingParameter, Lang::En) => "Parameter {field} is required",
            (InvalidParameter, Lang::Id) => "Parameter {field} tidak valid: {detail}",
            (InvalidParameter, Lang::En) => "Parameter {field} is invalid: {detail}",
            (UserNotRegistered, Lang::Id) => "User tidak terdaftar",
            (UserNotRegistered, Lang::En) => "User is not registered",
            (UserCannotSign, Lang::Id) => {
                "Status user {status}: user belum dapat melakukan tanda tangan elektronik"
            }
            (UserCannotSign, Lang::En) => "User status is {status}: the user cannot sign yet",
            (UserLocked, Lang::Id) => {
                "User di-suspend sampai {until} karena passphrase salah {attempts} kali berturut-turut"
            }
            (UserLocked, Lang::En) => {
                "User is suspended until {until} after {attempts} wrong passphrases in a row"
            }
            (CertificateExpired, Lang::Id) => "Sertifikat elektronik user telah kedaluwarsa",
            (CertificateExpired, Lang::En) => "The user's certificate has expired",
            (CertificateRevoked, Lang::Id) => "Sertifikat elektronik user telah dicabut",
            (CertificateRevoked, Lang::En) => "The user's certificate has been revoked",
            (UserSuspended, Lang::Id) => "User dalam kondisi suspend",
            (UserSuspended, Lang::En) => "The user is suspended",
            (WrongPassphrase, Lang::Id) => "Passphrase anda salah (sisa percobaan: {remaining})",
            (WrongPassphrase, Lang::En) => "Your passphrase is wrong ({remaining} attempts left)",
            (InvalidTotp, Lang::Id) => "TOTP tidak valid, kedaluwarsa atau sudah digunakan",
            (InvalidTotp, Lang::En) => "The TOTP is invalid, expired or already used",
            (TotpNotEnabled, Lang::Id) => {
                "User tidak mengaktifkan tanda tangan dengan TOTP: gunakan passphrase"
            }
            (TotpNotEnabled, Lang::En) => {
                "The user has not enabled signing with a TOTP: use the passphrase"
            }
            (MissingCredential, Lang::Id) => "Passphrase atau totp wajib diisi",
            (MissingCredential, Lang::En) => "Either passphrase or totp is required",
            (NotAPdf, Lang::Id) => "Dokumen {field} bukan PDF yang valid: {detail}",
            (NotAPdf, Lang::En) => "Document {field} is not a valid PDF: {detail}",
            (InvalidBase64, Lang::Id) => "Parameter {field} bukan string base64 yang valid",
            (InvalidBase64, Lang::En) => "Parameter {field} is not a valid base64 string",
            (WrongPdfPassword, Lang::Id) => {
                "Dokumen {field} dikunci dengan password: password salah atau tidak diisi"
            }
            (WrongPdfPassword, Lang::En) => {
                "Document {field} is password-protected: the password is wrong or missing"
            }
            (PageOutOfRange, Lang::Id) => {
                "Halaman {page} tidak ada: dokumen memiliki {pages} halaman"
            }
            (PageOutOfRange, Lang::En) => {
                "Page {page} does not exist: the document has {pages} pages"
            }
            (TagNotFound, Lang::Id) => "Tag koordinat '{tag}' tidak ditemukan di dokumen",
            (TagNotFound, Lang::En) => "Tag '{tag}' was not found in the document",
            (InvalidImage, Lang::Id) => "Gambar spesimen {field} tidak valid: {detail}",
            (InvalidImage, Lang::En) => "Specimen image {field} is invalid: {detail}",
            (MissingLinkQr, Lang::Id) => "Parameter linkQR wajib diisi jika image=false",
            (MissingLinkQr, Lang::En) => "Parameter linkQR is required when image=false",
            (PropertiesCountMismatch, Lang::Id) => {
                "Jumlah signatureProperties ({count}) harus 1 atau sama dengan jumlah file ({files})"
            }
            (PropertiesCountMismatch, Lang::En) => {
                "signatureProperties has {count} entries: it must have 1 or one per file ({files})"
            }
            (CannotSign, Lang::Id) => "Dokumen tidak dapat ditandatangani: {detail}",
            (CannotSign, Lang::En) => "The document cannot be signed: {detail}",
            (DocumentNotFound, Lang::Id) => "Dokumen {id} tidak ditemukan",
            (DocumentNotFound, Lang::En) => "Document {id} was not found",
            (AlreadyDownloaded, Lang::Id) => "Dokumen {id} sudah pernah diunduh",
            (AlreadyDownloaded, Lang::En) => "Document {id} has already been downloaded",
            (SealNotFound, Lang::Id) => "idSubscriber tidak terdaftar",
            (SealNotFound, Lang::En) => "idSubscriber is not registered",
            (SealNotActivated, Lang::Id) => "TOTP aktivasi segel belum aktif atau sudah dicabut",
            (SealNotActivated, Lang::En) => {
                "The seal's activation TOTP is not active or has been revoked"
            }
            (AlreadyRegistered, Lang::Id) => "User dengan {field} tersebut sudah terdaftar",
            (AlreadyRegistered, Lang::En) => "A user with this {field} is already registered",
            (UnreadableFile, Lang::Id) => "Dokumen tidak dapat dibaca: {detail}",
            (UnreadableFile, Lang::En) => "The document cannot be read: {detail}",
            (Unauthorized, Lang::Id) => "Unauthorized: kredensial API salah, tidak aktif, atau IP tidak diizinkan",
            (Unauthorized, Lang::En) => {
                "Unauthorized: the API credential is wrong, disabled, or not allowed from this IP"
            }
            (NotFound, Lang::Id) => "Endpoint tidak ditemukan",
            (NotFound, Lang::En) => "No such endpoint",
            (MethodNotAllowed, Lang::Id) => "Metode HTTP tidak diizinkan",
            (MethodNotAllowed, Lang::En) => "HTTP method not allowed",
            (PayloadTooLarge, Lang::Id) => "Ukuran request melebihi batas {limit} byte",
            (PayloadTooLarge, Lang::En) => "The request is larger than the limit of {limit} bytes",
            (UnsupportedMediaType, Lang::Id) => "Content-Type harus {expected}",
            (UnsupportedMediaType, Lang::En) => "Content-Type must be {expected}",
            (Internal, Lang::Id) => "Terjadi kesalahan internal (request id {request_id})",
            (Internal, Lang::En) => "Internal error (request id {request_id})",
        }
    }
}

/// A BSrE error: a [`Code`], its arguments, and a logged cause.
#[derive(Debug, Clone)]
pub struct BsreError {
    /// What went wrong.
    pub code: Code,
    /// Placeholder values.
    pub args: Vec<(&'static str, String)>,
    /// Logged, never sent.
    pub cause: Option<String>,
}

impl BsreError {
    /// An error without arguments.
    pub fn new(code: Code) -> Self {
        BsreError {
            code,
            args: Vec::new(),
            cause: None,
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    /// Records the cause (logged only).
    pub fn cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// `MissingParameter` for `field`.
    pub fn missing(field: &str) -> Self {
        Self::new(Code::MissingParameter).arg("field", field)
    }

    /// `InvalidParameter` for `field`.
    pub fn invalid(field: &str, detail: impl ToString) -> Self {
        Self::new(Code::InvalidParameter)
            .arg("field", field)
            .arg("detail", detail)
    }

    /// The same error with its `field` argument placed under `parent` (`tampilan` →
    /// `signatureProperties[0].tampilan`).
    pub fn within(mut self, parent: &str) -> Self {
        for (k, v) in &mut self.args {
            if *k == "field" {
                *v = if v == "body" {
                    parent.to_string()
                } else {
                    format!("{parent}.{v}")
                };
            }
        }
        self
    }

    /// 500; the cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(Code::Internal).cause(cause)
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let mut s = self.code.template(lang).to_string();
        for (k, v) in &self.args {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    /// The response in `lang` (`request_id` fills the 500 message).
    pub fn render(mut self, lang: Lang, request_id: Option<&str>) -> Response {
        if self.code == Code::Internal && !self.args.iter().any(|(k, _)| *k == "request_id") {
            self.args
                .push(("request_id", request_id.unwrap_or("-").to_string()));
        }
        if let Some(c) = &self.cause {
            if self.code == Code::Internal {
                tracing::error!(code = self.code.number(), cause = %c, "bsre request failed");
            } else {
                tracing::info!(code = self.code.number(), cause = %c, "bsre request refused");
            }
        }
        let body = serde_json::json!({
            "error": self.message(lang),
            "status_code": self.code.number(),
        });
        let mut resp = (
            self.code.status(),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.to_string(),
        )
            .into_response();
        if self.code == Code::Unauthorized {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"esign-client\", charset=\"UTF-8\""),
            );
        }
        resp.extensions_mut().insert(Rendered);
        resp
    }
}

impl From<paraf_core::CoreError> for BsreError {
    /// Every core refusal has its BSrE code; infrastructure failures are internal.
    fn from(e: paraf_core::CoreError) -> Self {
        use paraf_core::domain::DomainError as De;
        use paraf_core::error::{DocumentRefusal as D, KeyRefusal as K};
        use paraf_core::CoreError as C;
        match e {
            C::Domain(De::Invalid { field, reason }) => BsreError::invalid(field, reason),
            C::Domain(De::NotFound { .. }) => BsreError::new(Code::NotFound),
            C::Domain(De::AlreadyExists { .. }) => {
                BsreError::new(Code::AlreadyRegistered).arg("field", "email")
            }
            C::Domain(De::Unauthenticated(f)) => BsreError::new(Code::Unauthorized).cause(f),
            C::Domain(
                d @ (De::Forbidden { .. }
                | De::RateLimited { .. }
                | De::QuotaExceeded { .. }
                | De::Conflict { .. }
                | De::Entropy { .. }),
            ) => BsreError::internal(d),
            C::WrongStatus { status, .. } => {
                BsreError::new(Code::UserCannotSign).arg("status", status.as_str())
            }
            C::Document(D::NotAPdf { field, detail }) => BsreError::new(Code::NotAPdf)
                .arg("field", field)
                .arg("detail", detail),
            C::Document(D::WrongPdfPassword { field, detail }) => {
                BsreError::new(Code::WrongPdfPassword)
                    .arg("field", field)
                    .cause(detail)
            }
            C::Document(D::PageOutOfRange { page, pages }) => BsreError::new(Code::PageOutOfRange)
                .arg("page", page)
                .arg("pages", pages),
            C::Document(D::TagNotFound { tag }) => {
                BsreError::new(Code::TagNotFound).arg("tag", tag)
            }
            C::Document(D::InvalidImage { detail }) => BsreError::new(Code::InvalidImage)
                .arg("field", "image")
                .arg("detail", detail),
            C::Document(D::CannotSign { detail }) => {
                BsreError::new(Code::CannotSign).arg("detail", detail)
            }
            C::Key(K::NotRegistered) => BsreError::new(Code::UserNotRegistered),
            C::Key(K::CertificateExpired) => BsreError::new(Code::CertificateExpired),
            C::Key(K::CertificateRevoked) => BsreError::new(Code::CertificateRevoked),
            C::Key(K::Locked { until, attempts }) => BsreError::new(Code::UserLocked)
                .arg("until", until)
                .arg("attempts", attempts),
            C::Key(K::Suspended) => BsreError::new(Code::UserSuspended),
            C::Key(K::CannotSign { status }) => {
                BsreError::new(Code::UserCannotSign).arg("status", status)
            }
            C::Key(K::WrongPassphrase { remaining }) => {
                BsreError::new(Code::WrongPassphrase).arg("remaining", remaining)
            }
            C::Key(K::CodesNotEnabled) => BsreError::new(Code::TotpNotEnabled),
            C::Key(K::InvalidCode) => BsreError::new(Code::InvalidTotp),
            C::Key(K::SealNotActivated) => BsreError::new(Code::SealNotActivated),
            // BSrE requests spend no credits.
            C::NoCredits => BsreError::internal("no credits"),
            C::Internal(cause) => BsreError::internal(cause),
        }
    }
}

impl From<tokio::task::JoinError> for BsreError {
    /// A blocking task that did not finish (it panicked) is internal.
    fn from(e: tokio::task::JoinError) -> Self {
        BsreError::internal(e)
    }
}

/// Marks a response as already in the BSrE shape (the envelope middleware leaves it alone).
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

impl IntoResponse for BsreError {
    /// Without the request at hand: Indonesian. Handlers normally return [`BsreError`]
    /// through [`crate::Reply`], which knows the language; the envelope middleware re-renders
    /// anything else.
    fn into_response(self) -> Response {
        let mut resp = self.clone().render(Lang::Id, None);
        resp.extensions_mut().insert(Pending(self));
        resp
    }
}

/// An error rendered without the request's language: the envelope re-renders it.
#[derive(Debug, Clone)]
pub struct Pending(pub BsreError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_messages_filled() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.number()), "duplicate {}", c.number());
            assert!(!c.template(Lang::Id).is_empty());
            assert!(!c.template(Lang::En).is_empty());
        }
        let e = BsreError::new(Code::WrongPassphrase).arg("remaining", 2);
        assert_eq!(
            e.message(Lang::Id),
            "Passphrase anda salah (sisa percobaan: 2)"
        );
    }
}
