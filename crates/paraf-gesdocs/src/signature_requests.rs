//! `POST /api/signature-requests`: JSON with `pdf_url`/`logo_url`, a form, or multipart with
//! `pdf`/`logo` files (a file wins over a URL) and `signers[0][email]`-style fields. Every
//! field error is reported at once under its name (`signers.0.email`); a URL that cannot be
//! fetched (unreachable, private address, not a PDF or image) answers with `field`. One core
//! call creates and sends the envelope for one credit: signers sign in the order given.

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use paraf_core::documents::has_pdf_header;
use paraf_core::domain::{
    Email, Envelope, EnvelopeHeader, EnvelopeStatus, NewRecipient, Recipient, RecipientStatus,
    SecondFactor, SignatureModel, Timestamp,
};
use paraf_core::envelopes::{Draft, DraftDocument, SigningLink, LANGUAGES};
use paraf_http::outbound::OutboundError;
use paraf_http::state::AppState;
use serde_json::{json, Map, Value};

use crate::error::GesDocsError;
use crate::wire::{
    Signataire, SignatureRequestCreated, SignatureRequestData, SignatureRequestInput,
    SignatureRequestView,
};
use crate::Caller;

/// Largest PDF fetched or uploaded.
pub(crate) const MAX_PDF: u64 = 50 * 1024 * 1024;
/// Largest logo.
const MAX_LOGO: u64 = 2 * 1024 * 1024;

fn unreadable(why: impl std::fmt::Display) -> GesDocsError {
    GesDocsError::new(
        StatusCode::BAD_REQUEST,
        format!("The request could not be read: {why}."),
    )
}

pub(crate) use paraf_http::forms::{Files, Upload};

fn to_json(pairs: Vec<(String, String)>) -> Value {
    paraf_http::forms::bracketed_to_json(pairs, &["metadata"])
}

/// Reads a body in any of the three forms (JSON, form, multipart); in multipart, the parts
/// named in `file_fields` are files, every other part a text field (`signers[0][email]`).
pub(crate) async fn read_body<T: serde::de::DeserializeOwned>(
    req: Request,
    state: &AppState,
    file_fields: &[&str],
) -> Result<(T, Files), GesDocsError> {
    let ct = crate::content_type(&req);
    let mut files = Files::new();
    let value = if ct.starts_with("multipart/form-data") {
        let (pairs, got) = paraf_http::forms::read_multipart(req, state, file_fields)
            .await
            .map_err(|e| unreadable(e.detail))?;
        files = got;
        to_json(pairs)
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| unreadable(e.body_text()))?;
        to_json(pairs)
    } else if ct.is_empty() || ct.starts_with("application/json") {
        crate::json_body::<Value>(req, state).await?
    } else {
        return Err(GesDocsError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send JSON, a form or multipart/form-data.",
        ));
    };
    // Wrong types are reported like missing ones would be: under the field's name.
    let input: T = serde_json::from_value(value).map_err(|e| {
        GesDocsError::invalid(
            "body",
            format!("The body does not have the expected fields: {e}."),
        )
    })?;
    Ok((input, files))
}

/// The recipients of `signers` (errors named `signers.N.field`): `two_fa_default` for those
/// who name no second factor; `in_turn`: each in a group of their own, in the order given
/// (signature requests), else all together (secure downloads).
pub(crate) fn signers_of(
    c: &mut crate::routes::Checks,
    signers: &Option<Vec<crate::wire::SignerInput>>,
    two_fa_default: Option<&str>,
    in_turn: bool,
) -> Vec<NewRecipient> {
    let mut recipients = Vec::new();
    match signers {
        Some(list) if !list.is_empty() => {
            if list.len() > 50 {
                c.fail(
                    "signers",
                    "The signers field must not have more than 50 items.".into(),
                );
            }
            for (i, s) in list.iter().enumerate() {
                let f = |n: &str| format!("signers.{i}.{n}");
                let email = c.email(&f("email"), &s.email);
                let first = c
                    .required(&f("first_name"), &s.first_name)
                    .trim()
                    .to_string();
                let last = c.required(&f("last_name"), &s.last_name).trim().to_string();
                let language = s
                    .language
                    .clone()
                    .unwrap_or_else(|| "fr".into())
                    .trim()
                    .to_ascii_lowercase();
                if !LANGUAGES.contains(&language.as_str()) {
                    c.fail(
                        &f("language"),
                        format!("The selected {} is invalid.", f("language")),
                    );
                }
                let factor = match s
                    .twofa_type
                    .clone()
                    .or_else(|| two_fa_default.map(str::to_string))
                    .as_deref()
                    .map(str::trim)
                {
                    None | Some("") | Some("none") => SecondFactor::None,
                    Some("mail") | Some("email") => SecondFactor::Mail,
                    Some("sms") => SecondFactor::Sms,
                    Some(_) => {
                        c.fail(
                            &f("twofa_type"),
                            format!("The selected {} is invalid.", f("twofa_type")),
                        );
                        SecondFactor::None
                    }
                };
                let mobile = s
                    .mobile
                    .clone()
                    .map(|m| m.trim().to_string())
                    .filter(|m| !m.is_empty());
                if factor == SecondFactor::Sms && mobile.is_none() {
                    c.fail(
                        &f("mobile"),
                        format!(
                            "The {} field is required when twofa type is sms.",
                            f("mobile")
                        ),
                    );
                }
                if let Ok(email) = Email::parse(&email) {
                    recipients.push(NewRecipient {
                        group: if in_turn {
                            u32::try_from(i + 1).unwrap_or(u32::MAX)
                        } else {
                            1
                        },
                        email,
                        first_name: first,
                        last_name: last,
                        language,
                        mobile,
                        second_factor: factor,
                    });
                }
            }
        }
        _ => c.fail("signers", "The signers field is required.".into()),
    }
    recipients
}

/// The required `expires_at`: a valid date after `now` (errors under `expires_at`).
pub(crate) fn expiry_of(
    c: &mut crate::routes::Checks,
    raw: &Option<String>,
    now: Timestamp,
) -> Option<Timestamp> {
    let expires_raw = c.required("expires_at", raw).to_string();
    if expires_raw.is_empty() {
        None
    } else {
        match parse_expiry(&expires_raw) {
            None => {
                c.fail(
                    "expires_at",
                    "The expires at field must be a valid date (YYYY-MM-DDTHH:mm).".into(),
                );
                None
            }
            Some(t) if t <= now => {
                c.fail(
                    "expires_at",
                    "The expires at field must be a date after now.".into(),
                );
                None
            }
            t => t,
        }
    }
}

/// The logo: the uploaded file (an image of at most 2 MB), else the one at `logo_url`
/// (recorded in `options`), fetched through the outbound guard.
pub(crate) async fn logo_of(
    state: &AppState,
    logo_file: Option<Upload>,
    logo_url: Option<&str>,
    options: &mut Map<String, Value>,
) -> Result<Option<Vec<u8>>, GesDocsError> {
    Ok(match logo_file {
        Some(f) => {
            if f.bytes.len() as u64 > MAX_LOGO || !is_image(&f.bytes) {
                return Err(GesDocsError::invalid(
                    "logo",
                    "The logo field must be an image (PNG, JPEG, GIF, WEBP) of at most 2 MB.",
                ));
            }
            Some(f.bytes)
        }
        None => match logo_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                let got = state
                    .outbound
                    .fetch(url, MAX_LOGO)
                    .await
                    .map_err(|e| fetch_error("logo_url", &e, "le logo"))?;
                if !is_image(&got.bytes) {
                    return Err(field_error(
                        "logo_url",
                        "Le fichier à l'URL fournie n'est pas une image valide.",
                    ));
                }
                options.insert("logo_url".into(), json!(url));
                Some(got.bytes)
            }
            None => None,
        },
    })
}

/// `expires_at`: `YYYY-MM-DDTHH:mm[:ss]` or with a space, UTC unless it carries an offset.
fn parse_expiry(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(23, 59, 59))
    })
    .map(|n| n.and_utc())
}

fn is_image(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG\r\n\x1a\n")
        || b.starts_with(&[0xFF, 0xD8, 0xFF])
        || b.starts_with(b"GIF87a")
        || b.starts_with(b"GIF89a")
        || (b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP")
}

fn color_ok(c: &str) -> bool {
    let h = c.strip_prefix('#').unwrap_or("");
    (h.len() == 6 || h.len() == 3) && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A fetch failure in the seed's words, naming the field.
pub(crate) fn fetch_error(field: &str, e: &OutboundError, what: &str) -> GesDocsError {
    let message = match e {
        OutboundError::Refused(why) => format!(
            "Impossible de télécharger {what} depuis l'URL fournie : adresse refusée ({why})."
        ),
        OutboundError::TooLarge(n) => {
            format!("Le fichier à l'URL fournie dépasse la taille autorisée ({n} octets).")
        }
        _ => format!("Impossible de télécharger {what} depuis l'URL fournie."),
    };
    GesDocsError {
        field: Some(field.into()),
        ..GesDocsError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

pub(crate) fn field_error(field: &str, message: &str) -> GesDocsError {
    GesDocsError {
        field: Some(field.into()),
        ..GesDocsError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

pub(crate) fn file_name_of(url: &str) -> String {
    url.split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("document.pdf")
        .to_string()
}

/// The seed's status words.
pub fn statut(s: EnvelopeStatus) -> &'static str {
    match s {
        EnvelopeStatus::Draft | EnvelopeStatus::Sent | EnvelopeStatus::InProgress => "en_attente",
        EnvelopeStatus::Sealing | EnvelopeStatus::SealFailed => "en_cours",
        EnvelopeStatus::Completed => "signe",
        EnvelopeStatus::Declined => "refuse",
        EnvelopeStatus::Expired => "expire",
        EnvelopeStatus::Cancelled => "annule",
    }
}

/// A signer's state in the seed's words.
pub fn signataire(r: &Recipient, url: Option<String>) -> Signataire {
    Signataire {
        email: r.email.as_str().to_string(),
        prenom: r.first_name.clone(),
        nom: r.last_name.clone(),
        statut: match r.status {
            RecipientStatus::Signed => "signed",
            RecipientStatus::Declined => "declined",
            _ => "pending",
        }
        .into(),
        date_signature: r
            .signed_at
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
        signature_url: url,
    }
}

fn view(e: &Envelope, links: &[SigningLink]) -> SignatureRequestView {
    let first = &links[0].recipient;
    let h = &e.header;
    let option = |k: &str| h.options.get(k).and_then(Value::as_str).map(str::to_string);
    SignatureRequestView {
        id: e.id.0,
        token: e.uuid.clone(),
        email: first.email.as_str().to_string(),
        signer_first_name: first.first_name.clone(),
        signer_last_name: first.last_name.clone(),
        signer_language: first.language.clone(),
        signer_2fa: first.second_factor != SecondFactor::None,
        signer_mobile: first.mobile.clone(),
        statut: statut(e.status).into(),
        expires_at: h
            .expires_at
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
        requester_email: h.sender_email.as_str().to_string(),
        metadata: h.metadata.clone(),
        logo_url: option("logo_url"),
        color: option("color"),
        region: option("region").unwrap_or_else(|| "Europe/Paris".into()),
        signataires: links
            .iter()
            .map(|l| signataire(&l.recipient, Some(l.url.clone())))
            .collect(),
    }
}

/// Create a signature request: the PDF goes to the signers, in the order given.
#[utoipa::path(post, path = "/api/signature-requests", tag = "gesdocs",
    request_body(content = SignatureRequestInput, description = "JSON (pdf_url, logo_url), a form, or multipart/form-data (pdf, logo files; signers[0][email]…)"),
    responses(
        (status = 201, body = SignatureRequestCreated),
        (status = 401, body = crate::wire::ErrorBody),
        (status = 402, description = "No credits left", body = crate::wire::ErrorBody),
        (status = 422, description = "Validation error (`errors` per field), or a URL that could not be fetched (`field`)", body = crate::wire::ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, GesDocsError> {
    let (input, mut files): (SignatureRequestInput, Files) =
        read_body(req, &state, &["pdf", "logo"]).await?;
    let (pdf_file, logo_file) = (files.remove("pdf"), files.remove("logo"));
    let mut c = crate::routes::Checks::default();
    let now = state.core.now();

    let recipients = signers_of(&mut c, &input.signers, input.twofa_type.as_deref(), true);
    // Dates, requester, presentation.
    let expires_at = expiry_of(&mut c, &input.expires_at, now);
    let requester = c.email("demandeur_email", &input.demandeur_email);
    let color = input
        .color
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if color.is_some_and(|s| !color_ok(s)) {
        c.fail(
            "color",
            "The color field must be a valid hexadecimal color.".into(),
        );
    }
    let metadata = match input.metadata.clone() {
        None | Some(Value::Null) => json!({}),
        Some(m @ Value::Object(_)) => m,
        Some(_) => {
            c.fail("metadata", "The metadata field must be an object.".into());
            json!({})
        }
    };
    if pdf_file.is_none() && input.pdf_url.as_deref().is_none_or(|u| u.trim().is_empty()) {
        c.fail(
            "pdf",
            "The pdf field is required (a file, or pdf_url).".into(),
        );
    }
    c.done()?;

    // Files: a file wins over a URL.
    let pdf = match pdf_file {
        Some(f) => {
            if !has_pdf_header(&f.bytes) {
                return Err(GesDocsError::invalid(
                    "pdf",
                    "The pdf field must be a file of type: pdf.",
                ));
            }
            f
        }
        None => {
            let url = input.pdf_url.clone().unwrap_or_default();
            let got = state
                .outbound
                .fetch(url.trim(), MAX_PDF)
                .await
                .map_err(|e| fetch_error("pdf_url", &e, "le fichier"))?;
            if !has_pdf_header(&got.bytes) {
                return Err(field_error(
                    "pdf_url",
                    "Le fichier à l'URL fournie n'est pas un PDF valide.",
                ));
            }
            Upload {
                name: file_name_of(&url),
                bytes: got.bytes,
            }
        }
    };
    let mut options = Map::new();
    let logo = logo_of(&state, logo_file, input.logo_url.as_deref(), &mut options).await?;
    if let Some(c) = color {
        options.insert("color".into(), json!(c));
    }
    if let Some(r) = input
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        options.insert("region".into(), json!(r));
    }
    let Ok(sender_email) = Email::parse(&requester) else {
        return Err(GesDocsError::invalid(
            "demandeur_email",
            "The demandeur email field must be a valid email address.",
        ));
    };
    let header = EnvelopeHeader {
        title: pdf.name.trim_end_matches(".pdf").to_string(),
        model: SignatureModel::SignerCertificate,
        sender_email,
        created_by: Some(caller.user),
        face: crate::FACE.into(),
        metadata,
        options: Value::Object(options),
        expires_at,
        reminder_days: None,
        template: false,
    };
    let draft = Draft {
        header,
        documents: vec![DraftDocument {
            name: pdf.name,
            bytes: pdf.bytes,
        }],
        recipients,
        fields: vec![],
        logo,
    };
    let (e, links, credits_left) = state
        .core
        .request_signatures(caller.p.org, draft, &caller.actor)
        .await?;
    let reply = SignatureRequestCreated {
        status: "success".into(),
        message: "Signature request created successfully".into(),
        data: SignatureRequestData {
            signature_url: links[0].url.clone(),
            signature_request: view(&e, &links),
            credits_left,
        },
    };
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_colours_and_magic_numbers() {
        assert_eq!(
            parse_expiry("2025-12-31T23:59").unwrap().to_rfc3339(),
            "2025-12-31T23:59:00+00:00"
        );
        assert_eq!(
            parse_expiry("2025-12-31T23:59:30+01:00")
                .unwrap()
                .to_rfc3339(),
            "2025-12-31T22:59:30+00:00"
        );
        assert!(parse_expiry("31/12/2025").is_none());
        assert!(
            color_ok("#4f46e5") && color_ok("#fff") && !color_ok("4f46e5") && !color_ok("#ggg")
        );
        assert!(is_image(b"\x89PNG\r\n\x1a\n....") && !is_image(b"%PDF-1.7"));
        assert_eq!(
            file_name_of("https://x.fr/a/contrat.pdf?sig=1"),
            "contrat.pdf"
        );
    }
}
