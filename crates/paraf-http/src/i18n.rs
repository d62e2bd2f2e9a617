//! Languages and the message catalogue of the shared routes: [`Language`] (id, en, fr, it, es),
//! negotiated from `x-language` then `Accept-Language`, and [`message`] rendering a
//! [`MessageKey`] with its arguments.
//!
//! Dialects with their own wording keep it at their edge; this catalogue covers what the shared
//! middleware says (authentication, limits, body size, request ids).

use axum::http::HeaderMap;

/// A language Paraf speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// Bahasa Indonesia.
    Id,
    /// English (the default).
    #[default]
    En,
    /// French.
    Fr,
    /// Italian.
    It,
    /// Spanish.
    Es,
}

impl Language {
    /// Every supported language.
    pub const ALL: [Language; 5] = [
        Language::Id,
        Language::En,
        Language::Fr,
        Language::It,
        Language::Es,
    ];

    /// The BCP 47 primary tag.
    pub fn tag(self) -> &'static str {
        match self {
            Language::Id => "id",
            Language::En => "en",
            Language::Fr => "fr",
            Language::It => "it",
            Language::Es => "es",
        }
    }

    /// The language of a tag such as `fr`, `fr-FR` or `in` (the old code of Indonesian).
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "id" | "in" | "ind" => Some(Language::Id),
            "en" | "eng" => Some(Language::En),
            "fr" | "fra" | "fre" => Some(Language::Fr),
            "it" | "ita" => Some(Language::It),
            "es" | "spa" => Some(Language::Es),
            _ => None,
        }
    }

    /// `x-language` if it names a supported language, else the best `Accept-Language`
    /// match (q-values honoured, order breaks ties), else English.
    pub fn negotiate(headers: &HeaderMap) -> Language {
        if let Some(l) = headers
            .get("x-language")
            .and_then(|v| v.to_str().ok())
            .and_then(Language::from_tag)
        {
            return l;
        }
        let Some(accept) = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Language::En;
        };
        let mut best: Option<(f32, Language)> = None;
        for part in accept.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            if let Some(l) = Language::from_tag(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

/// What the shared middleware can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKey {
    /// 401 without credentials.
    AuthenticationRequired,
    /// 401 with credentials that are wrong, disabled, revoked or expired.
    InvalidCredentials,
    /// 401: an access token whose lifetime is over.
    TokenExpired,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 405.
    MethodNotAllowed,
    /// 413, `{limit}` bytes.
    PayloadTooLarge,
    /// 429, `{limit}`, `{window}`, `{retry_after}`.
    RateLimited,
    /// 409: the same request id is still being processed.
    RequestInProgress,
    /// 422: the request id was first used for a different request.
    RequestIdReused,
    /// 409: the operation conflicts with the current state.
    Conflict,
    /// 429/403: a quota of the organisation, `{quota}`.
    QuotaExceeded,
    /// 422/400: `{detail}`.
    BadRequest,
    /// 415.
    UnsupportedMediaType,
    /// 500, `{request_id}`.
    Internal,
    /// 503.
    Unavailable,
}

impl MessageKey {
    /// The stable machine-readable code in the error body.
    pub fn code(self) -> &'static str {
        match self {
            MessageKey::AuthenticationRequired => "authentication_required",
            MessageKey::InvalidCredentials => "invalid_credentials",
            MessageKey::TokenExpired => "token_expired",
            MessageKey::Forbidden => "forbidden",
            MessageKey::NotFound => "not_found",
            MessageKey::MethodNotAllowed => "method_not_allowed",
            MessageKey::PayloadTooLarge => "payload_too_large",
            MessageKey::RateLimited => "rate_limited",
            MessageKey::RequestInProgress => "request_in_progress",
            MessageKey::RequestIdReused => "request_id_reused",
            MessageKey::Conflict => "conflict",
            MessageKey::QuotaExceeded => "quota_exceeded",
            MessageKey::BadRequest => "bad_request",
            MessageKey::UnsupportedMediaType => "unsupported_media_type",
            MessageKey::Internal => "internal_error",
            MessageKey::Unavailable => "unavailable",
        }
    }
}

fn template(key: MessageKey, lang: Language) -> &'static str {
    use Language::*;
    use MessageKey::*;
    match (key, lang) {
        (AuthenticationRequired, En) => "Authentication is required.",
        (AuthenticationRequired, Id) => "Autentikasi diperlukan.",
        (AuthenticationRequired, Fr) => "Une authentification est requise.",
        (AuthenticationRequired, It) => "È richiesta l'autenticazione.",
        (AuthenticationRequired, Es) => "Se requiere autenticación.",
        (InvalidCredentials, En) => "The credentials are invalid.",
        (InvalidCredentials, Id) => "Kredensial tidak valid.",
        (InvalidCredentials, Fr) => "Les identifiants sont invalides.",
        (InvalidCredentials, It) => "Le credenziali non sono valide.",
        (InvalidCredentials, Es) => "Las credenciales no son válidas.",
        (TokenExpired, En) => "The access token has expired.",
        (TokenExpired, Id) => "Token akses sudah kedaluwarsa.",
        (TokenExpired, Fr) => "Le jeton d'accès a expiré.",
        (TokenExpired, It) => "Il token di accesso è scaduto.",
        (TokenExpired, Es) => "El token de acceso ha caducado.",
        (Forbidden, En) => "You are not allowed to do this.",
        (Forbidden, Id) => "Anda tidak diizinkan melakukan ini.",
        (Forbidden, Fr) => "Vous n'êtes pas autorisé à faire ceci.",
        (Forbidden, It) => "Non sei autorizzato a farlo.",
        (Forbidden, Es) => "No tiene permiso para hacer esto.",
        (NotFound, En) => "Not found.",
        (NotFound, Id) => "Tidak ditemukan.",
        (NotFound, Fr) => "Introuvable.",
        (NotFound, It) => "Non trovato.",
        (NotFound, Es) => "No encontrado.",
        (MethodNotAllowed, En) => "This method is not allowed here.",
        (MethodNotAllowed, Id) => "Metode ini tidak diizinkan di sini.",
        (MethodNotAllowed, Fr) => "Cette méthode n'est pas autorisée ici.",
        (MethodNotAllowed, It) => "Questo metodo non è consentito qui.",
        (MethodNotAllowed, Es) => "Este método no está permitido aquí.",
        (PayloadTooLarge, En) => "The request body is larger than the limit of {limit} bytes.",
        (PayloadTooLarge, Id) => "Isi permintaan melebihi batas {limit} byte.",
        (PayloadTooLarge, Fr) => "Le corps de la requête dépasse la limite de {limit} octets.",
        (PayloadTooLarge, It) => "Il corpo della richiesta supera il limite di {limit} byte.",
        (PayloadTooLarge, Es) => "El cuerpo de la solicitud supera el límite de {limit} bytes.",
        (RateLimited, En) => {
            "Too many requests: the limit of {limit} per {window} is reached. Retry after {retry_after} seconds."
        }
        (RateLimited, Id) => {
            "Terlalu banyak permintaan: batas {limit} per {window} tercapai. Coba lagi setelah {retry_after} detik."
        }
        (RateLimited, Fr) => {
            "Trop de requêtes : la limite de {limit} par {window} est atteinte. Réessayez dans {retry_after} secondes."
        }
        (RateLimited, It) => {
            "Troppe richieste: il limite di {limit} per {window} è stato raggiunto. Riprova tra {retry_after} secondi."
        }
        (RateLimited, Es) => {
            "Demasiadas solicitudes: se alcanzó el límite de {limit} por {window}. Reintente en {retry_after} segundos."
        }
        (RequestInProgress, En) => "A request with this request id is still being processed.",
        (RequestInProgress, Id) => "Permintaan dengan request id ini masih diproses.",
        (RequestInProgress, Fr) => "Une requête avec cet identifiant est encore en cours.",
        (RequestInProgress, It) => "Una richiesta con questo id è ancora in elaborazione.",
        (RequestInProgress, Es) => "Una solicitud con este id todavía se está procesando.",
        (RequestIdReused, En) => "This request id was already used for a different request.",
        (RequestIdReused, Id) => "Request id ini sudah dipakai untuk permintaan yang berbeda.",
        (RequestIdReused, Fr) => "Cet identifiant de requête a déjà servi pour une autre requête.",
        (RequestIdReused, It) => "Questo id di richiesta è già stato usato per una richiesta diversa.",
        (RequestIdReused, Es) => "Este id de solicitud ya se usó para una solicitud diferente.",
        (Conflict, En) => "The request conflicts with the current state.",
        (Conflict, Id) => "Permintaan bertentangan dengan keadaan saat ini.",
        (Conflict, Fr) => "La requête est en conflit avec l'état actuel.",
        (Conflict, It) => "La richiesta è in conflitto con lo stato attuale.",
        (Conflict, Es) => "La solicitud entra en conflicto con el estado actual.",
        (QuotaExceeded, En) => "The organisation's {quota} quota is used up.",
        (QuotaExceeded, Id) => "Kuota {quota} organisasi sudah habis.",
        (QuotaExceeded, Fr) => "Le quota {quota} de l'organisation est épuisé.",
        (QuotaExceeded, It) => "La quota {quota} dell'organizzazione è esaurita.",
        (QuotaExceeded, Es) => "La cuota {quota} de la organización está agotada.",
        (BadRequest, En) => "The request is invalid: {detail}",
        (BadRequest, Id) => "Permintaan tidak valid: {detail}",
        (BadRequest, Fr) => "La requête est invalide : {detail}",
        (BadRequest, It) => "La richiesta non è valida: {detail}",
        (BadRequest, Es) => "La solicitud no es válida: {detail}",
        (UnsupportedMediaType, En) => "This content type is not supported here.",
        (UnsupportedMediaType, Id) => "Jenis konten ini tidak didukung di sini.",
        (UnsupportedMediaType, Fr) => "Ce type de contenu n'est pas pris en charge ici.",
        (UnsupportedMediaType, It) => "Questo tipo di contenuto non è supportato qui.",
        (UnsupportedMediaType, Es) => "Este tipo de contenido no se admite aquí.",
        (Internal, En) => "Something went wrong on our side. Quote request id {request_id} when reporting it.",
        (Internal, Id) => "Terjadi kesalahan di server. Sebutkan request id {request_id} saat melaporkannya.",
        (Internal, Fr) => "Une erreur interne est survenue. Citez l'identifiant {request_id} en la signalant.",
        (Internal, It) => "Si è verificato un errore interno. Indica l'id {request_id} nella segnalazione.",
        (Internal, Es) => "Se produjo un error interno. Indique el id {request_id} al informarlo.",
        (Unavailable, En) => "The service is not available right now.",
        (Unavailable, Id) => "Layanan sedang tidak tersedia.",
        (Unavailable, Fr) => "Le service n'est pas disponible pour le moment.",
        (Unavailable, It) => "Il servizio non è disponibile al momento.",
        (Unavailable, Es) => "El servicio no está disponible en este momento.",
    }
}

/// The word for a rate-limit window in `lang`.
pub fn window_word(window: &str, lang: Language) -> &'static str {
    use Language::*;
    match (window, lang) {
        ("minute", Id) => "menit",
        ("minute", Fr) | ("minute", It) => "minute",
        ("minute", Es) => "minuto",
        ("minute", En) => "minute",
        ("day", Id) => "hari",
        ("day", Fr) => "jour",
        ("day", It) => "giorno",
        ("day", Es) => "día",
        ("day", En) => "day",
        ("month", Id) => "bulan",
        ("month", Fr) => "mois",
        ("month", It) => "mese",
        ("month", Es) => "mes",
        _ => "month",
    }
}

/// Renders `key` in `lang`, replacing `{name}` by the matching argument.
pub fn message(key: MessageKey, lang: Language, args: &[(&str, String)]) -> String {
    let mut out = template(key, lang).to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn negotiation() {
        assert_eq!(Language::negotiate(&headers(&[])), Language::En);
        assert_eq!(
            Language::negotiate(&headers(&[("x-language", "id")])),
            Language::Id
        );
        assert_eq!(
            Language::negotiate(&headers(&[
                ("x-language", "de"),
                ("accept-language", "de-DE, fr;q=0.5, es;q=0.8")
            ])),
            Language::Es
        );
        assert_eq!(
            Language::negotiate(&headers(&[("accept-language", "it-IT,it;q=0.9,en;q=0.1")])),
            Language::It
        );
        assert_eq!(
            Language::negotiate(&headers(&[("accept-language", "fr;q=0")])),
            Language::En
        );
    }

    #[test]
    fn every_message_in_every_language_has_its_arguments() {
        let keys = [
            MessageKey::AuthenticationRequired,
            MessageKey::InvalidCredentials,
            MessageKey::TokenExpired,
            MessageKey::Forbidden,
            MessageKey::NotFound,
            MessageKey::MethodNotAllowed,
            MessageKey::PayloadTooLarge,
            MessageKey::RateLimited,
            MessageKey::RequestInProgress,
            MessageKey::RequestIdReused,
            MessageKey::Conflict,
            MessageKey::QuotaExceeded,
            MessageKey::BadRequest,
            MessageKey::UnsupportedMediaType,
            MessageKey::Internal,
            MessageKey::Unavailable,
        ];
        for k in keys {
            let en = template(k, Language::En);
            for l in Language::ALL {
                let t = template(k, l);
                for arg in [
                    "{limit}",
                    "{window}",
                    "{retry_after}",
                    "{detail}",
                    "{request_id}",
                    "{quota}",
                ] {
                    assert_eq!(en.contains(arg), t.contains(arg), "{k:?} {l:?} {arg}");
                }
            }
        }
        assert_eq!(
            message(
                MessageKey::PayloadTooLarge,
                Language::Fr,
                &[("limit", "10".into())]
            ),
            "Le corps de la requête dépasse la limite de 10 octets."
        );
    }
}
