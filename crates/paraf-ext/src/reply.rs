//! The reply envelope of `/ext/v1` — `{"code": "...", "message": "...", "data": ...}` on every
//! reply, success or not — and the messages in the request's language (`x-language`: `id`,
//! the default, `en`, `fr`, `it` or `es`; any other value falls back to `id`).

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
    Fr,
    It,
    Es,
}

impl Lang {
    /// From the `x-language` header (`en`, `en-US`, `fr`…); anything else is Indonesian.
    pub fn from_header(v: Option<&str>) -> Lang {
        let v = v.map(|s| s.trim().to_ascii_lowercase()).unwrap_or_default();
        let primary = v.split(['-', '_']).next().unwrap_or_default();
        match primary {
            "en" => Lang::En,
            "fr" => Lang::Fr,
            "it" => Lang::It,
            "es" => Lang::Es,
            _ => Lang::Id,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::It => "it",
            Lang::Es => "es",
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
        let [id, en, fr, it, es] = self.texts();
        match lang {
            Lang::Id => id,
            Lang::En => en,
            Lang::Fr => fr,
            Lang::It => it,
            Lang::Es => es,
        }
    }

    /// The message in Indonesian, English, French, Italian and Spanish.
    fn texts(self) -> [&'static str; 5] {
        use Msg::*;
        match self {
            Ok => ["Berhasil", "Success", "Succès", "Operazione riuscita", "Correcto"],
            MissingAppKey => [
                "Header x-app-key wajib diisi",
                "The x-app-key header is required",
                "L'en-tête x-app-key est obligatoire",
                "L'intestazione x-app-key è obbligatoria",
                "La cabecera x-app-key es obligatoria",
            ],
            UnknownAppKey => [
                "x-app-key tidak dikenal atau tidak aktif",
                "The x-app-key is unknown or disabled",
                "La clé x-app-key est inconnue ou désactivée",
                "La chiave x-app-key è sconosciuta o disattivata",
                "La clave x-app-key es desconocida o está desactivada",
            ],
            MissingRequestId => [
                "Header x-request-id wajib diisi (1–128 karakter ASCII yang terlihat)",
                "The x-request-id header is required (1–128 visible ASCII characters)",
                "L'en-tête x-request-id est obligatoire (1 à 128 caractères ASCII visibles)",
                "L'intestazione x-request-id è obbligatoria (1–128 caratteri ASCII visibili)",
                "La cabecera x-request-id es obligatoria (1–128 caracteres ASCII visibles)",
            ],
            BadSignature => [
                "x-signature tidak ada atau tidak cocok dengan permintaan ini",
                "x-signature is missing or does not match this request",
                "x-signature est absente ou ne correspond pas à cette requête",
                "x-signature manca o non corrisponde a questa richiesta",
                "x-signature falta o no corresponde a esta solicitud",
            ],
            RequestIdConflict => [
                "x-request-id ini sudah dipakai untuk permintaan lain",
                "This x-request-id was already used for another request",
                "Cet x-request-id a déjà servi pour une autre requête",
                "Questo x-request-id è già stato usato per un'altra richiesta",
                "Este x-request-id ya se usó para otra solicitud",
            ],
            RequestInProgress => [
                "Permintaan dengan x-request-id ini masih diproses",
                "A request with this x-request-id is still being processed",
                "Une requête avec cet x-request-id est encore en cours",
                "Una richiesta con questo x-request-id è ancora in corso",
                "Una solicitud con este x-request-id aún se está procesando",
            ],
            TokensShownOnce => [
                "x-request-id ini sudah dipakai; balasan berisi token, tautan atau berkas hanya diberikan sekali, kirim permintaan baru",
                "This x-request-id was already used; replies with tokens, links or files are given once, send a new request",
                "Cet x-request-id a déjà servi ; les réponses contenant des jetons, des liens ou des fichiers ne sont données qu'une fois, envoyez une nouvelle requête",
                "Questo x-request-id è già stato usato; le risposte con token, link o file sono fornite una sola volta, inviare una nuova richiesta",
                "Este x-request-id ya se usó; las respuestas con tokens, enlaces o archivos se dan una sola vez, envíe una nueva solicitud",
            ],
            InvalidField => [
                "Isian tidak valid",
                "A field is not valid",
                "Un champ n'est pas valide",
                "Un campo non è valido",
                "Un campo no es válido",
            ],
            WrongCredentials => [
                "Email atau kata sandi salah",
                "Wrong e-mail or password",
                "Adresse e-mail ou mot de passe incorrect",
                "E-mail o password errati",
                "Correo electrónico o contraseña incorrectos",
            ],
            MissingToken => [
                "Header Authorization: Bearer <token> wajib diisi",
                "The Authorization: Bearer <token> header is required",
                "L'en-tête Authorization: Bearer <jeton> est obligatoire",
                "L'intestazione Authorization: Bearer <token> è obbligatoria",
                "La cabecera Authorization: Bearer <token> es obligatoria",
            ],
            WrongToken => [
                "Jenis token salah untuk endpoint ini",
                "Wrong kind of token for this endpoint",
                "Type de jeton incorrect pour ce point d'accès",
                "Tipo di token errato per questo endpoint",
                "Tipo de token incorrecto para este endpoint",
            ],
            InvalidToken => [
                "Token tidak valid, kedaluwarsa atau sudah dicabut",
                "The token is invalid, expired or revoked",
                "Le jeton est invalide, expiré ou révoqué",
                "Il token non è valido, è scaduto o è stato revocato",
                "El token no es válido, ha caducado o ha sido revocado",
            ],
            RefreshTokenReused => [
                "Refresh token sudah pernah dipakai; semua token sesi ini dicabut",
                "The refresh token was already used; every token of this session is revoked",
                "Le jeton de rafraîchissement a déjà servi ; tous les jetons de cette session sont révoqués",
                "Il refresh token è già stato usato; tutti i token di questa sessione sono revocati",
                "El token de actualización ya se usó; todos los tokens de esta sesión quedan revocados",
            ],
            MissingUserToken => [
                "Header x-user-token dari sesi yang sama wajib diisi",
                "The x-user-token header of the same session is required",
                "L'en-tête x-user-token de la même session est obligatoire",
                "L'intestazione x-user-token della stessa sessione è obbligatoria",
                "La cabecera x-user-token de la misma sesión es obligatoria",
            ],
            Forbidden => [
                "Tidak diizinkan",
                "Not allowed",
                "Non autorisé",
                "Non consentito",
                "No permitido",
            ],
            NotFound => [
                "Data tidak ditemukan",
                "Not found",
                "Introuvable",
                "Non trovato",
                "No encontrado",
            ],
            Conflict => [
                "Permintaan bertentangan dengan keadaan data",
                "The request conflicts with the current state",
                "La requête est incompatible avec l'état actuel",
                "La richiesta è in conflitto con lo stato attuale",
                "La solicitud entra en conflicto con el estado actual",
            ],
            TooManyRequests => [
                "Terlalu banyak permintaan; coba lagi nanti",
                "Too many requests; retry later",
                "Trop de requêtes ; réessayez plus tard",
                "Troppe richieste; riprovare più tardi",
                "Demasiadas solicitudes; inténtelo más tarde",
            ],
            TooLarge => [
                "Isi permintaan terlalu besar",
                "The request body is too large",
                "Le corps de la requête est trop volumineux",
                "Il corpo della richiesta è troppo grande",
                "El cuerpo de la solicitud es demasiado grande",
            ],
            Internal => [
                "Terjadi kesalahan pada server",
                "Internal server error",
                "Erreur interne du serveur",
                "Errore interno del server",
                "Error interno del servidor",
            ],
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
            CoreError::Document(r) => {
                use paraf_core::error::DocumentRefusal as R;
                let (field, reason) = match r {
                    R::NotAPdf { field, detail } | R::WrongPdfPassword { field, detail } => {
                        (field, detail)
                    }
                    R::PageOutOfRange { page, pages } => (
                        "fields".into(),
                        format!("page {page} does not exist (the document has {pages})"),
                    ),
                    R::TagNotFound { tag } => ("fields".into(), format!("no tag {tag}")),
                    R::InvalidImage { detail } | R::CannotSign { detail } => {
                        ("documents".into(), detail)
                    }
                };
                return Reply::err(lang, Msg::InvalidField)
                    .with_data(json!({"field": field, "reason": reason}));
            }
            CoreError::NoCredits => {
                return Reply::err(lang, Msg::Conflict)
                    .with_data(json!({"reason": "the organisation has no credits left"}))
            }
            CoreError::WrongStatus { status, what } => {
                return Reply::err(lang, Msg::Conflict).with_data(
                    json!({"reason": format!("not possible while the status is {status}: {what}")}),
                )
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Msg; 21] = [
        Msg::Ok,
        Msg::MissingAppKey,
        Msg::UnknownAppKey,
        Msg::MissingRequestId,
        Msg::BadSignature,
        Msg::RequestIdConflict,
        Msg::RequestInProgress,
        Msg::TokensShownOnce,
        Msg::InvalidField,
        Msg::WrongCredentials,
        Msg::MissingToken,
        Msg::WrongToken,
        Msg::InvalidToken,
        Msg::RefreshTokenReused,
        Msg::MissingUserToken,
        Msg::Forbidden,
        Msg::NotFound,
        Msg::Conflict,
        Msg::TooManyRequests,
        Msg::TooLarge,
        Msg::Internal,
    ];

    #[test]
    fn every_message_in_every_language() {
        let langs = [Lang::Id, Lang::En, Lang::Fr, Lang::It, Lang::Es];
        for m in ALL {
            let texts: Vec<&str> = langs.iter().map(|l| m.text(*l)).collect();
            assert!(texts.iter().all(|t| !t.is_empty()), "{m:?}");
            // Each language its own words (no copy left untranslated).
            let mut distinct = texts.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 5, "{m:?}: {texts:?}");
        }
        let codes: std::collections::HashSet<&str> = ALL.iter().map(|m| m.code()).collect();
        assert_eq!(codes.len(), ALL.len());
    }

    #[test]
    fn languages_from_the_header() {
        for (v, l) in [
            (Some("en-GB"), Lang::En),
            (Some(" FR "), Lang::Fr),
            (Some("it_IT"), Lang::It),
            (Some("es"), Lang::Es),
            (Some("de"), Lang::Id),
            (Some(""), Lang::Id),
            (None, Lang::Id),
        ] {
            assert_eq!(Lang::from_header(v), l, "{v:?}");
        }
    }
}
