//! The signer page: where an envelope's recipient reads the document and signs it or declines,
//! reached from the invitation mail at `PUBLIC_URL/{lang}/sign/{token}`.
//!
//! Server-rendered (askama), usable without JavaScript (type a name or upload an image; the
//! only script draws on a canvas), laid out for phones. The token in the path is the only
//! credential — no cookie, so no CSRF surface — and it never leaks: `Referrer-Policy:
//! no-referrer`, `Cache-Control: no-store`, and a Content-Security-Policy allowing only the
//! page's own style sheet and script (by hash). Order is enforced by the core when the link is
//! opened: a recipient whose group's turn has not come sees `not-your-turn`, never the form.
//! The `data-testid` hooks are a contract with integrators' end-to-end tests
//! (`docs/signer-page.md`): renaming one is a breaking change.

mod text;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use base64::Engine as _;
use serde::Deserialize;

use paraf_core::domain::{
    DomainError, Envelope, EnvelopeStatus, Recipient, RecipientStatus, SecondFactor,
};
use paraf_core::envelopes::{Opening, SignatureInput, Visit, LANGUAGES};
use paraf_core::CoreError;
use paraf_http::request_id::ClientIp;
use paraf_http::state::AppState;

pub use text::{words, Words};

/// Largest drawn or uploaded signature image.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

const CSS: &str = include_str!("../../static/signer.css");
const SCRIPT: &str = include_str!("../../static/signer.js");

/// A signing link's path parameters.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct LinkParams {
    /// The page's language: fr, en, id, it, es.
    lang: String,
    /// The recipient's link token (single recipient, expiring).
    token: String,
}

/// The signer page in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    page,
    sign,
    decline,
    delegate,
    send_code,
    verify_code,
    page_image,
    download
))]
pub(crate) struct SignerApi;

/// The signer page's routes (public: the link's token is the credential).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{lang}/sign/{token}", get(page).post(sign))
        .route("/{lang}/sign/{token}/decline", post(decline))
        .route("/{lang}/sign/{token}/delegate", post(delegate))
        .route("/{lang}/sign/{token}/code", post(send_code))
        .route("/{lang}/sign/{token}/verify", post(verify_code))
        .route("/{lang}/sign/{token}/pages/{doc}/{page}", get(page_image))
        .route("/{lang}/sign/{token}/download/{doc}", get(download))
}

/// A field drawn over a page image, in percent of the page.
struct FieldBox {
    left: String,
    top: String,
    width: String,
    height: String,
    kind: &'static str,
}

/// A page image with the recipient's fields.
struct PageView {
    src: String,
    /// Height over width (the image's box keeps the page's shape before it loads).
    ratio: f64,
    number: u32,
    fields: Vec<FieldBox>,
}

impl PageView {
    /// The image's height attribute for a width of 1000.
    fn height_px(&self) -> u32 {
        // A page ratio is small and positive; the cast cannot overflow.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let h = (self.ratio * 1000.0).round().clamp(1.0, 100_000.0) as u32;
        h
    }
}

/// One document of the envelope.
struct DocView {
    name: String,
    position: u32,
    pages: Vec<PageView>,
}

/// What the page shows.
enum View {
    /// The document, the code step when needed, the signature form and the decline form.
    Form {
        docs: Vec<DocView>,
        /// The recipient's fields to fill (text, date, check box).
        inputs: Vec<InputView>,
        /// The sender allows handing the signature to someone else.
        delegation: bool,
        /// The recipient may decline.
        declinable: bool,
        /// The recipient must confirm a code first (by mail or SMS).
        code: Option<CodeStep>,
        /// Their saved signature (a `data:image/png` URL), offered instead of a new one.
        saved: Option<String>,
    },
    /// The recipient signed (`signed-done`, with the download) or declined (`declined-done`).
    Answered {
        signed: bool,
        completed: bool,
        docs: Vec<DocView>,
    },
    /// An earlier group has not finished (`not-your-turn`).
    NotYourTurn,
    /// The envelope no longer takes answers; completed ones can be downloaded.
    Closed { completed: bool, docs: Vec<DocView> },
    /// Shared documents to download (`download-file`), once the code is confirmed.
    Share {
        docs: Vec<DocView>,
        code: Option<CodeStep>,
    },
    /// The recipient handed their turn to someone else (`delegated-done`).
    Delegated,
    /// Unknown or expired link.
    Gone,
}

/// A field the recipient fills on the form.
struct InputView {
    name: String,
    /// `text`, `date` (filled by Paraf with the signing date) or `checkbox`.
    kind: &'static str,
    required: bool,
}

/// The recipient's fields to fill, in order.
fn inputs_of(fields: &[paraf_core::domain::Field]) -> Vec<InputView> {
    use paraf_core::domain::FieldKind;
    fields
        .iter()
        .filter_map(|f| {
            let kind = match f.kind {
                FieldKind::Text => "text",
                FieldKind::Date => "date",
                FieldKind::Checkbox => "checkbox",
                FieldKind::Signature | FieldKind::Initials => return None,
            };
            Some(InputView {
                name: f.name.clone(),
                kind,
                required: f.required,
            })
        })
        .collect()
}

/// The code step of a recipient with a second factor.
struct CodeStep {
    sms: bool,
    /// Where the last code went (masked), once sent.
    sent_to: Option<String>,
}

#[derive(Template)]
#[template(path = "signer.html")]
struct SignerPage<'a> {
    w: &'static Words,
    css: &'static str,
    script: &'static str,
    title: &'a str,
    sender: &'a str,
    name: &'a str,
    base: String,
    error: Option<&'a str>,
    view: View,
}

/// The language of the page: the link's, when we speak it.
fn lang_of(lang: &str, r: Option<&Recipient>) -> &'static str {
    LANGUAGES
        .iter()
        .find(|l| **l == lang)
        .or_else(|| r.and_then(|r| LANGUAGES.iter().find(|l| **l == r.language)))
        .copied()
        .unwrap_or("en")
}

/// The page's Content-Security-Policy: its own style sheet and script (by hash), images from
/// here (page images) and `data:` (the drawn signature's preview), forms posted here only.
fn csp() -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        crate::render::csp_hash(CSS),
        crate::render::csp_hash(SCRIPT)
    )
}

/// Headers every answer of the signer page carries: the token in the address must not leak
/// (no referrer, no cache) and the page must not be framed.
fn harden(mut resp: Response, content_security: bool) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if content_security {
        if let Ok(v) = HeaderValue::from_str(&csp()) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    resp
}

fn visit(ip: Option<Extension<ClientIp>>, headers: &HeaderMap) -> Visit {
    Visit {
        ip: ip.map(|Extension(ClientIp(ip))| ip),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect()),
    }
}

/// The error shown on the form for a refusal, in the page's language.
fn message(w: &'static Words, e: &CoreError) -> String {
    match e {
        CoreError::Domain(DomainError::Invalid { field, reason }) => match *field {
            "code" => w.err_code.to_string(),
            "signature" => w.err_signature.to_string(),
            "reason" => w.err_reason.to_string(),
            _ => reason.clone(),
        },
        CoreError::Document(paraf_core::error::DocumentRefusal::InvalidImage { .. }) => {
            w.err_image.to_string()
        }
        CoreError::Domain(DomainError::Conflict { reason }) if reason.contains("codes") => {
            w.err_too_many.to_string()
        }
        CoreError::Domain(DomainError::Conflict { reason })
        | CoreError::Domain(DomainError::Forbidden { reason }) => reason.clone(),
        _ => w.closed.to_string(),
    }
}

/// Renders the page for the link's current state, with `error` on the form.
async fn render_page(
    state: &AppState,
    lang: &str,
    token: &str,
    visit: &Visit,
    error: Option<String>,
    sent_to: Option<String>,
) -> Response {
    let core = &state.core;
    let opening = match core.open_link(token, visit).await {
        Ok(o) => o,
        Err(e) => {
            if !e.is_not_found() {
                tracing::error!(error = %e, "the signer page could not open a link");
            }
            return gone(lang);
        }
    };
    let base = format!("/{}/sign/{token}", lang_of(lang, None));
    let (envelope, recipient, view) = match opening {
        Opening::Ready {
            envelope,
            recipient,
            documents,
            ..
        } if paraf_core::sharing::is_sharing(&envelope.header) => {
            let code = (!core.second_factor_done(&recipient)).then(|| CodeStep {
                sms: recipient.second_factor == SecondFactor::Sms,
                sent_to,
            });
            let docs = documents
                .into_iter()
                .map(|d| DocView {
                    name: d.name,
                    position: d.position,
                    pages: Vec::new(),
                })
                .collect();
            (envelope, recipient, View::Share { docs, code })
        }
        Opening::Ready {
            envelope,
            recipient,
            documents,
            fields,
        } => {
            let docs = match doc_views(state, &base, &documents, &fields).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "laying out the signer page failed");
                    return gone(lang);
                }
            };
            let code = (!core.second_factor_done(&recipient)).then(|| CodeStep {
                sms: recipient.second_factor == SecondFactor::Sms,
                sent_to,
            });
            let inputs = inputs_of(&fields);
            let saved = match core.saved_signature(envelope.org, &recipient.email).await {
                Ok(s) => s.map(|png| {
                    format!(
                        "data:image/png;base64,{}",
                        base64::engine::general_purpose::STANDARD.encode(png)
                    )
                }),
                Err(e) => {
                    tracing::warn!(error = %e, "the saved signature could not be read");
                    None
                }
            };
            let declinable = paraf_core::envelopes::may_decline(&envelope, &recipient);
            let delegation = envelope
                .header
                .options
                .get("allow_delegation")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            (
                envelope,
                recipient,
                View::Form {
                    docs,
                    inputs,
                    code,
                    delegation,
                    declinable,
                    saved,
                },
            )
        }
        Opening::NotYourTurn {
            envelope,
            recipient,
        } => (envelope, recipient, View::NotYourTurn),
        Opening::Done {
            envelope,
            recipient,
        }
        | Opening::Closed {
            envelope,
            recipient,
        } => {
            let completed = envelope.status == EnvelopeStatus::Completed;
            let answered = matches!(
                recipient.status,
                RecipientStatus::Signed | RecipientStatus::Declined
            );
            let signed = recipient.status == RecipientStatus::Signed;
            let docs = if signed || completed {
                downloads(state, token).await
            } else {
                Vec::new()
            };
            let view = if answered {
                View::Answered {
                    signed,
                    completed,
                    docs,
                }
            } else {
                View::Closed { completed, docs }
            };
            (envelope, recipient, view)
        }
    };
    let w = words(lang_of(lang, Some(&recipient)));
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    show(
        status,
        w,
        &envelope,
        &recipient,
        base,
        error.as_deref(),
        view,
    )
}

fn show(
    status: StatusCode,
    w: &'static Words,
    envelope: &Envelope,
    recipient: &Recipient,
    base: String,
    error: Option<&str>,
    view: View,
) -> Response {
    let page = SignerPage {
        w,
        css: CSS,
        script: SCRIPT,
        title: &envelope.header.title,
        sender: envelope.header.sender_email.as_str(),
        name: &recipient.full_name(),
        base,
        error,
        view,
    };
    harden(crate::render::html(status, &page), true)
}

fn gone(lang: &str) -> Response {
    let w = words(lang_of(lang, None));
    let page = SignerPage {
        w,
        css: CSS,
        script: SCRIPT,
        title: w.gone,
        sender: "",
        name: "",
        base: String::new(),
        error: None,
        view: View::Gone,
    };
    harden(crate::render::html(StatusCode::NOT_FOUND, &page), true)
}

/// Every page of every document with the recipient's fields.
async fn doc_views(
    state: &AppState,
    base: &str,
    documents: &[paraf_core::domain::EnvelopeDocument],
    fields: &[paraf_core::domain::Field],
) -> Result<Vec<DocView>, CoreError> {
    let mut out = Vec::new();
    for d in documents {
        let layout = state.core.page_layout(d, fields).await?;
        out.push(DocView {
            name: d.name.clone(),
            position: d.position,
            pages: layout
                .into_iter()
                .map(|p| PageView {
                    src: format!("{base}/pages/{}/{}", d.position, p.number),
                    ratio: p.size.height / p.size.width.max(1.0),
                    number: p.number,
                    fields: p
                        .fields
                        .iter()
                        .map(|(f, b)| FieldBox {
                            left: format!("{:.3}", b.left),
                            top: format!("{:.3}", b.top),
                            width: format!("{:.3}", b.width),
                            height: format!("{:.3}", b.height),
                            kind: f.kind.as_str(),
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// The documents to download (no page images: the page after an answer is short).
async fn downloads(state: &AppState, token: &str) -> Vec<DocView> {
    match state.core.link_documents(token).await {
        Ok((_, _, docs)) => docs
            .into_iter()
            .map(|d| DocView {
                name: d.name,
                position: d.position,
                pages: Vec::new(),
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `GET /{lang}/sign/{token}`: the page.
#[utoipa::path(get, path = "/{lang}/sign/{token}", tag = "Signer page", params(LinkParams),
    summary = "The signer's page: the documents, their fields, the code step, the signature form",
    description = "Public: the link's token is the credential. A recipient whose group's turn has not come sees `not-your-turn`; hooks for end-to-end tests in docs/signer-page.md.",
    responses((status = 200, description = "The page.", content_type = "text/html", body = String),
        (status = 404, description = "Unknown or expired link.", content_type = "text/html", body = String)))]
async fn page(
    State(state): State<AppState>,
    Path((lang, token)): Path<(String, String)>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
) -> Response {
    render_page(&state, &lang, &token, &visit(ip, &headers), None, None).await
}

/// `POST /{lang}/sign/{token}` (multipart): sign with a typed, drawn or uploaded signature.
#[utoipa::path(post, path = "/{lang}/sign/{token}", tag = "Signer page", params(LinkParams),
    summary = "Sign: a typed name, a drawn (data URL) or uploaded image, the fields to fill",
    request_body(content_type = "multipart/form-data", description = "`signature_typed`, `signature_drawn` (data:image/png;base64,…), `signature_upload` (PNG/JPEG file), `signature_saved` (1: the saved signature), `field:<name>` for each field to fill"),
    responses((status = 303, description = "Signed: back to the page, which shows `signed-done`."),
        (status = 409, description = "Not your turn, or already answered.", content_type = "text/html", body = String),
        (status = 422, description = "The page again with the problem (no signature, a required field, the code first).", content_type = "text/html", body = String)))]
async fn sign(
    State(state): State<AppState>,
    Path((lang, token)): Path<(String, String)>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let v = visit(ip, &headers);
    let input = match read_signature(multipart).await {
        Ok(i) => i,
        Err(field) => {
            let e = CoreError::invalid(field, "unreadable");
            return refused(&state, &lang, &token, &v, &e).await;
        }
    };
    let done = state.core.sign(&token, input, &v).await;
    // Where the sender asked the signer to be sent once signed (their address, or the
    // envelope's once complete).
    if let Ok(e) = &done {
        let me = state.core.link_recipient_of(&token).await.ok();
        if let Some(url) = me.and_then(|r| paraf_core::envelopes::return_url(e, &r)) {
            return harden(Redirect::to(&url).into_response(), false);
        }
    }
    after_post(&state, &lang, &token, &v, done).await
}

/// The page again with the refusal; an internal failure is logged, never shown.
async fn refused(state: &AppState, lang: &str, token: &str, v: &Visit, e: &CoreError) -> Response {
    if matches!(e, CoreError::Internal(_)) {
        tracing::error!(error = %e, "the signer page failed");
    }
    let w = words(lang_of(lang, None));
    render_page(state, lang, token, v, Some(message(w, e)), None).await
}

/// After a post: back to the page, which now shows the outcome (303), or the page with the
/// refusal.
async fn after_post<T>(
    state: &AppState,
    lang: &str,
    token: &str,
    v: &Visit,
    done: Result<T, CoreError>,
) -> Response {
    match done {
        Ok(_) => harden(
            Redirect::to(&format!("/{}/sign/{token}", lang_of(lang, None))).into_response(),
            false,
        ),
        Err(e) => refused(state, lang, token, v, &e).await,
    }
}

/// Reads the signature form: `signature_upload` (a file) wins over `signature_drawn` (a
/// `data:image/png;base64,…` URL from the canvas), which wins over `signature_saved=1` (the
/// signer's saved signature), which wins over `signature_typed`.
async fn read_signature(mut m: Multipart) -> Result<SignatureInput, &'static str> {
    let mut typed = None;
    let mut drawn = None;
    let mut upload = None;
    let mut saved = false;
    let mut values = Vec::new();
    while let Some(field) = m.next_field().await.map_err(|_| "signature")? {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(field_name) = name.strip_prefix("field:") {
            let v = field.text().await.map_err(|_| "signature")?;
            if values.len() < 200 {
                values.push((field_name.to_string(), v.chars().take(600).collect()));
            }
            continue;
        }
        match name.as_str() {
            "signature_typed" => {
                let t = field.text().await.map_err(|_| "signature")?;
                typed = Some(t.chars().take(200).collect::<String>());
            }
            "signature_drawn" => {
                let t = field.text().await.map_err(|_| "signature")?;
                if let Some(b64) = t.strip_prefix("data:image/png;base64,") {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|_| "signature")?;
                    if bytes.len() > MAX_IMAGE_BYTES {
                        return Err("signature");
                    }
                    drawn = Some(bytes);
                }
            }
            "signature_saved" => {
                saved = field.text().await.map_err(|_| "signature")?.trim() == "1";
            }
            "signature_upload" => {
                let bytes = field.bytes().await.map_err(|_| "signature")?;
                if bytes.len() > MAX_IMAGE_BYTES {
                    return Err("signature");
                }
                if !bytes.is_empty() {
                    upload = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    Ok(SignatureInput {
        image: upload.or(drawn),
        typed: typed.filter(|t| !t.trim().is_empty()),
        values,
        saved,
    })
}

#[derive(Deserialize)]
struct DeclineForm {
    #[serde(default)]
    reason: String,
}

/// `POST /{lang}/sign/{token}/decline`: decline with a reason.
#[utoipa::path(post, path = "/{lang}/sign/{token}/decline", tag = "Signer page", params(LinkParams),
    summary = "Decline with a reason (the envelope ends `declined`)",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`reason` (1–1000 characters)"),
    responses((status = 303, description = "Declined: back to the page (`declined-done`)."),
        (status = 422, description = "The page again with the problem.", content_type = "text/html", body = String)))]
async fn decline(
    State(state): State<AppState>,
    Path((lang, token)): Path<(String, String)>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    Form(f): Form<DeclineForm>,
) -> Response {
    let v = visit(ip, &headers);
    let done = state.core.decline(&token, &f.reason, &v).await;
    after_post(&state, &lang, &token, &v, done).await
}

#[derive(Deserialize)]
struct DelegateForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
}

/// `POST /{lang}/sign/{token}/delegate`: hand the signature to someone else (when allowed).
/// The link stops working, so the answer is the outcome itself, not a redirect to it.
#[utoipa::path(post, path = "/{lang}/sign/{token}/delegate", tag = "Signer page", params(LinkParams),
    summary = "Hand the signature to someone else (when the sender allows it)",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`first_name`, `last_name`, `email`"),
    responses((status = 200, description = "Done (`delegated-done`); this link no longer works.", content_type = "text/html", body = String),
        (status = 403, description = "Delegation not allowed.", content_type = "text/html", body = String),
        (status = 422, description = "The page again with the problem.", content_type = "text/html", body = String)))]
async fn delegate(
    State(state): State<AppState>,
    Path((lang, token)): Path<(String, String)>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    Form(f): Form<DelegateForm>,
) -> Response {
    let v = visit(ip, &headers);
    let lang = lang_of(&lang, None);
    let email = match paraf_core::domain::Email::parse(f.email.trim()) {
        Ok(e) => e,
        Err(e) => return refused(&state, lang, &token, &v, &CoreError::from(e)).await,
    };
    let new = paraf_core::domain::NewRecipient {
        email,
        first_name: f.first_name.trim().chars().take(100).collect(),
        last_name: f.last_name.trim().chars().take(100).collect(),
        group: 1,
        language: lang.to_string(),
        mobile: None,
        second_factor: SecondFactor::None,
    };
    match state.core.delegate(&token, new, &v).await {
        Ok(_) => {
            let w = words(lang);
            let page = SignerPage {
                w,
                css: CSS,
                script: SCRIPT,
                title: w.delegated_done,
                sender: "",
                name: "",
                base: String::new(),
                error: None,
                view: View::Delegated,
            };
            harden(crate::render::html(StatusCode::OK, &page), true)
        }
        Err(e) => refused(&state, lang, &token, &v, &e).await,
    }
}

/// `POST /{lang}/sign/{token}/code`: send a code by the recipient's channel.
#[utoipa::path(post, path = "/{lang}/sign/{token}/code", tag = "Signer page", params(LinkParams),
    summary = "Send a six-digit code by the recipient's channel (mail or SMS)",
    responses((status = 200, description = "The page, saying where the code went (masked).", content_type = "text/html", body = String),
        (status = 429, description = "Too many codes this hour.", content_type = "text/html", body = String)))]
async fn send_code(
    State(state): State<AppState>,
    Path((lang, token)): Path<(String, String)>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
) -> Response {
    let v = visit(ip, &headers);
    match state.core.send_recipient_code(&token, &v).await {
        Ok(sent) => render_page(&state, &lang, &token, &v, None, Some(sent.to)).await,
        Err(e) => refused(&state, &lang, &token, &v, &e).await,
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /{lang}/sign/{token}/verify`: confirm the code.
#[utoipa::path(post, path = "/{lang}/sign/{token}/verify", tag = "Signer page", params(LinkParams),
    summary = "Confirm the code",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`code` (six digits)"),
    responses((status = 303, description = "Confirmed: back to the page."),
        (status = 422, description = "Wrong, expired or used code (5 tries).", content_type = "text/html", body = String)))]
async fn verify_code(
    State(state): State<AppState>,
    Path((lang, token)): Path<(String, String)>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let v = visit(ip, &headers);
    let done = state.core.verify_recipient_code(&token, &f.code, &v).await;
    after_post(&state, &lang, &token, &v, done).await
}

/// `GET /{lang}/sign/{token}/pages/{doc}/{page}`: a page image (PNG, rendered on the server).
#[utoipa::path(get, path = "/{lang}/sign/{token}/pages/{doc}/{page}", tag = "Signer page", params(LinkParams,
        ("doc" = u32, Path, description = "1-based document"), ("page" = u32, Path, description = "1-based page")),
    summary = "A page of a document as a PNG image (rendered on the server, cached)",
    responses((status = 200, description = "The image.", content_type = "image/png", body = Vec<u8>),
        (status = 404, description = "No such page, or not viewable with this link yet.")))]
async fn page_image(
    State(state): State<AppState>,
    Path((_lang, token, doc, page)): Path<(String, String, u32, u32)>,
) -> Response {
    let found = match state.core.link_documents(&token).await {
        Ok((_, _, docs)) => docs.into_iter().find(|d| d.position == doc),
        Err(_) => None,
    };
    let Some(d) = found else {
        return harden(StatusCode::NOT_FOUND.into_response(), false);
    };
    match state.core.page_image(&d, page).await {
        Ok(png) => {
            let mut resp = (StatusCode::OK, png.as_ref().clone()).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            harden(resp, false)
        }
        Err(e) if e.is_not_found() => harden(StatusCode::NOT_FOUND.into_response(), false),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page image failed");
            harden(StatusCode::INTERNAL_SERVER_ERROR.into_response(), false)
        }
    }
}

/// `GET /{lang}/sign/{token}/download/{doc}`: the document as signed so far (final once the
/// envelope is completed).
#[utoipa::path(get, path = "/{lang}/sign/{token}/download/{doc}", tag = "Signer page", params(LinkParams,
        ("doc" = u32, Path, description = "1-based document")),
    summary = "Download a document as signed so far (final once completed; a shared file)",
    responses((status = 200, description = "The PDF.", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No such document, or not downloadable with this link yet.")))]
async fn download(
    State(state): State<AppState>,
    Path((_lang, token, doc)): Path<(String, String, u32)>,
) -> Response {
    match state.core.link_download(&token, doc).await {
        Ok((name, file)) => {
            let mut resp = paraf_http::files::streamed(file);
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            harden(resp, false)
        }
        Err(_) => harden(StatusCode::NOT_FOUND.into_response(), false),
    }
}
