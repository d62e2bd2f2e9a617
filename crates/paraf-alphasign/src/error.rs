//! The Alphasign error shape (seed 000): `{"success": false, "error": "…", "errors":
//! {"field": ["…"]}}` with 401, 403, 404, 422 and 429. Every message exists in Indonesian
//! (the default) and English (`Accept-Language: en` or `x-language: en`): an error carries
//! both, is rendered in Indonesian by the handler, and the dialect's outer layer — which sees
//! the request's headers — renders it again in English when asked.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use paraf_core::domain::{DomainError, Entity, QuotaKind};
use paraf_core::CoreError;

use crate::wire::ErrorBody;

/// The language of the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Bahasa Indonesia (the default).
    Id,
    En,
}

impl Lang {
    /// English when `x-language` or `Accept-Language` prefers it, else Indonesian.
    pub fn of(headers: &HeaderMap) -> Lang {
        let asked = headers.contains_key("x-language")
            || headers.contains_key(axum::http::header::ACCEPT_LANGUAGE);
        if asked && paraf_http::i18n::Language::negotiate(headers) == paraf_http::i18n::Language::En
        {
            Lang::En
        } else {
            Lang::Id
        }
    }
}

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub id: String,
    pub en: String,
}

impl Msg {
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Msg {
        Msg {
            id: id.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }
}

/// Marks a response whose body already has the Alphasign shape; holds the error so the
/// outer layer can render it in English.
#[derive(Debug, Clone)]
pub struct Rendered(pub AlphasignError);

/// An error of the Alphasign dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlphasignError {
    pub status: StatusCode,
    pub message: Msg,
    pub errors: BTreeMap<String, Vec<Msg>>,
}

impl AlphasignError {
    pub fn new(status: StatusCode, message: Msg) -> AlphasignError {
        AlphasignError {
            status,
            message,
            errors: BTreeMap::new(),
        }
    }

    /// 422 "Validasi gagal." with messages per field.
    pub fn validation(errors: BTreeMap<String, Vec<Msg>>) -> AlphasignError {
        AlphasignError {
            errors,
            ..AlphasignError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Msg::new("Validasi gagal.", "Validation failed."),
            )
        }
    }

    /// 422 for one field: its message is also the error's.
    pub fn invalid(field: &str, message: Msg) -> AlphasignError {
        let mut errors = BTreeMap::new();
        errors.insert(field.to_string(), vec![message.clone()]);
        AlphasignError {
            message,
            ..AlphasignError::validation(errors)
        }
    }

    /// 422 for a body whose fields have the wrong types (a number for a name), as Laravel
    /// reports them.
    pub fn unexpected_fields(e: impl std::fmt::Display) -> AlphasignError {
        AlphasignError::invalid(
            "body",
            Msg::new(
                format!("Isi permintaan tidak sesuai: {e}."),
                format!("The body does not have the expected fields: {e}."),
            ),
        )
    }

    /// 401.
    pub fn unauthenticated() -> AlphasignError {
        AlphasignError::new(
            StatusCode::UNAUTHORIZED,
            Msg::new(
                "Token API tidak valid atau tidak ada.",
                "Invalid or missing API token.",
            ),
        )
    }

    /// 404 for a document.
    pub fn no_document() -> AlphasignError {
        AlphasignError::new(
            StatusCode::NOT_FOUND,
            Msg::new("Dokumen tidak ditemukan.", "Document not found."),
        )
    }

    /// The answer for an error status of the shared layers or the framework (401 from the
    /// authentication, 404, 405, 413, 429 with its `Retry-After`).
    pub fn for_status(status: StatusCode, retry_after: Option<u64>) -> AlphasignError {
        let m = match status {
            StatusCode::UNAUTHORIZED => return AlphasignError::unauthenticated(),
            StatusCode::FORBIDDEN => Msg::new("Akses ditolak.", "Forbidden."),
            StatusCode::NOT_FOUND => Msg::new("Tidak ditemukan.", "Not found."),
            StatusCode::METHOD_NOT_ALLOWED => {
                Msg::new("Metode tidak diizinkan.", "Method not allowed.")
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                Msg::new("Permintaan terlalu besar.", "The request is too large.")
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let n = retry_after.unwrap_or(60);
                Msg::new(
                    format!("Terlalu banyak permintaan. Coba lagi dalam {n} detik."),
                    format!("Too many requests. Try again in {n} seconds."),
                )
            }
            s if s.is_server_error() => {
                Msg::new("Terjadi kesalahan pada server.", "Internal server error.")
            }
            _ => Msg::new(
                "Permintaan tidak dapat dibaca.",
                "The request could not be read.",
            ),
        };
        AlphasignError::new(status, m)
    }

    /// 500 without details (they go to the log).
    pub fn internal(cause: impl std::fmt::Display) -> AlphasignError {
        tracing::error!(error = %cause, "internal error");
        AlphasignError::for_status(StatusCode::INTERNAL_SERVER_ERROR, None)
    }

    /// The body in `lang`.
    pub fn body(&self, lang: Lang) -> ErrorBody {
        ErrorBody {
            success: false,
            error: self.message.get(lang).to_string(),
            errors: (!self.errors.is_empty()).then(|| {
                self.errors
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.iter().map(|m| m.get(lang).to_string()).collect(),
                        )
                    })
                    .collect()
            }),
        }
    }

    /// The response in `lang`.
    pub fn render(&self, lang: Lang) -> Response {
        let mut resp = (self.status, axum::Json(self.body(lang))).into_response();
        resp.extensions_mut().insert(Rendered(self.clone()));
        resp
    }
}

impl IntoResponse for AlphasignError {
    fn into_response(self) -> Response {
        self.render(Lang::Id)
    }
}

/// The seed's name of a field the core names otherwise.
fn field_name(core: &str) -> &str {
    match core {
        "pdf" | "documents" => "file",
        other => other,
    }
}

fn quota_words(q: QuotaKind) -> (&'static str, &'static str) {
    match q {
        QuotaKind::Documents => ("dokumen", "documents"),
        QuotaKind::Signatures => ("tanda tangan", "signatures"),
        QuotaKind::StorageBytes => ("penyimpanan", "storage"),
        QuotaKind::ApiRequests => ("permintaan API", "API requests"),
    }
}

impl From<CoreError> for AlphasignError {
    fn from(e: CoreError) -> AlphasignError {
        match e {
            CoreError::Domain(d) => match d {
                DomainError::Invalid { field, reason } => {
                    let field = field_name(field);
                    AlphasignError::invalid(
                        field,
                        Msg::new(
                            format!("Kolom {field} tidak valid: {reason}."),
                            format!("The {field} field {reason}."),
                        ),
                    )
                }
                DomainError::NotFound {
                    entity: Entity::Envelope,
                } => AlphasignError::no_document(),
                DomainError::NotFound { .. } => {
                    AlphasignError::for_status(StatusCode::NOT_FOUND, None)
                }
                DomainError::AlreadyExists {
                    entity: Entity::Contact,
                    ..
                } => AlphasignError::invalid(
                    "email",
                    Msg::new(
                        "Kontak dengan email ini sudah ada.",
                        "A contact with this email already exists.",
                    ),
                ),
                DomainError::AlreadyExists { .. } => AlphasignError::invalid(
                    "name",
                    Msg::new("Data ini sudah ada.", "This already exists."),
                ),
                DomainError::Unauthenticated(_) => AlphasignError::unauthenticated(),
                DomainError::Forbidden { reason } => AlphasignError::new(
                    StatusCode::FORBIDDEN,
                    Msg::new(
                        format!("Akses ditolak: {reason}."),
                        format!("Forbidden: {reason}."),
                    ),
                ),
                DomainError::QuotaExceeded { quota, limit, used } => {
                    let (id, en) = quota_words(quota);
                    AlphasignError::new(
                        StatusCode::FORBIDDEN,
                        Msg::new(
                            format!(
                                "Kuota {id} paket Anda habis ({used} dari {limit} terpakai bulan ini). Tingkatkan paket Anda atau tunggu bulan berikutnya."
                            ),
                            format!(
                                "Your plan's {en} quota is used up ({used} of {limit} this month). Upgrade your plan or wait for next month."
                            ),
                        ),
                    )
                }
                DomainError::RateLimited {
                    retry_after_secs, ..
                } => AlphasignError::for_status(
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(retry_after_secs),
                ),
                DomainError::Conflict { reason } => AlphasignError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Msg::new(
                        format!("Tidak dapat dilakukan: {reason}."),
                        format!("Not possible: {reason}."),
                    ),
                ),
                other => AlphasignError::internal(other),
            },
            CoreError::Document(r) => {
                use paraf_core::error::DocumentRefusal as R;
                let (id, en) = match r {
                    R::NotAPdf { detail, .. } => (
                        format!("File harus berupa dokumen PDF yang dapat dibaca ({detail})."),
                        format!("The file must be a readable PDF ({detail})."),
                    ),
                    R::WrongPdfPassword { .. } => (
                        "File PDF dilindungi kata sandi.".to_string(),
                        "The PDF is protected by a password.".to_string(),
                    ),
                    R::PageOutOfRange { page, pages } => (
                        format!("Halaman {page} tidak ada (dokumen {pages} halaman)."),
                        format!("Page {page} does not exist (the document has {pages})."),
                    ),
                    R::TagNotFound { tag } => (
                        format!("Tag {tag} tidak ditemukan di dokumen."),
                        format!("The tag {tag} is not in the document."),
                    ),
                    R::InvalidImage { detail } | R::CannotSign { detail } => (
                        format!("File tidak dapat diproses ({detail})."),
                        format!("The file could not be processed ({detail})."),
                    ),
                };
                AlphasignError::invalid("file", Msg::new(id, en))
            }
            other => AlphasignError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn language_is_indonesian_unless_english_is_asked() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of(&h), Lang::Id);
        h.insert("accept-language", "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(Lang::of(&h), Lang::En);
        h.insert("accept-language", "fr".parse().unwrap());
        assert_eq!(Lang::of(&h), Lang::Id);
        h.insert("x-language", "en".parse().unwrap());
        assert_eq!(Lang::of(&h), Lang::En);
    }

    #[test]
    fn quota_errors_are_403_and_say_which() {
        let e = AlphasignError::from(CoreError::Domain(DomainError::QuotaExceeded {
            quota: QuotaKind::Documents,
            limit: 50,
            used: 50,
        }));
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert!(e.body(Lang::Id).error.contains("Kuota dokumen"));
        assert!(e.body(Lang::En).error.contains("documents quota"));
    }
}
