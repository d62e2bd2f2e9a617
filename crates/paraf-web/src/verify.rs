//! The public verification page, `/verify` (Indonesian, with English): anyone drops a PDF or
//! pastes a SHA-256 and learns whether this server wrote that file (the same answer as
//! `GET /api/v1/verify/{hash}`: document, status, who had signed in it).
//!
//! A dropped file is **hashed in the browser** (`static/verify.js`, Web Crypto) and only its
//! hash is sent (`GET /verify?hash=…`). Checking the signatures themselves needs the file: the
//! second form sends it (`POST /verify`, multipart), explicitly labelled, to the validator; the
//! file is not kept. Without JavaScript the hash form still works (paste a hash). Stateless (no
//! cookie), so no CSRF surface; look-ups are limited per address like the API's.

use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use paraf_core::library::{is_sha256_hex, KnownRevision};
use paraf_http::request_id::ClientIp;
use paraf_http::state::AppState;
use serde::Deserialize;
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../static/activation.css");
const SCRIPT: &str = include_str!("../static/verify.js");

/// The page's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/verify", get(page).post(check))
}

/// A signer in the answer.
pub struct SignerLine {
    pub name: String,
    pub signed_at: String,
}

/// What the hash says.
pub enum Lookup {
    /// A version of a document this server wrote.
    Known {
        title: String,
        status: &'static str,
        signers: Vec<SignerLine>,
    },
    /// Not a file this server wrote.
    Unknown,
}

/// One signature as the validator saw it.
pub struct SignatureLine {
    pub who: String,
    pub kind: &'static str,
    pub indication: &'static str,
    pub passed: bool,
}

/// The validator's verdict on an uploaded file.
pub struct Validation {
    pub indication: &'static str,
    pub passed: bool,
    pub signatures: Vec<SignatureLine>,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    css: &'static str,
    script: &'static str,
    hash: String,
    error: Option<&'static str>,
    lookup: Option<Lookup>,
    validation: Option<Validation>,
}

fn lookup_of(found: Option<KnownRevision>) -> Lookup {
    match found {
        Some(k) => Lookup::Known {
            title: k.envelope.header.title.clone(),
            status: paraf_core::library::public_status(k.envelope.status),
            signers: k
                .signers
                .iter()
                .map(|r| SignerLine {
                    name: r.full_name(),
                    signed_at: r
                        .signed_at
                        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default(),
                })
                .collect(),
        },
        None => Lookup::Unknown,
    }
}

fn csp() -> String {
    let h = crate::render::csp_hash;
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        h(CSS),
        h(SCRIPT)
    )
}

fn render(status: StatusCode, page: VerifyPage) -> Response {
    let mut resp = crate::render::html(status, &page);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

fn blank(hash: String) -> VerifyPage {
    VerifyPage {
        css: CSS,
        script: SCRIPT,
        hash,
        error: None,
        lookup: None,
        validation: None,
    }
}

/// The page that answers `error` with `status`.
fn refused(status: StatusCode, hash: String, error: &'static str) -> Response {
    render(
        status,
        VerifyPage {
            error: Some(error),
            ..blank(hash)
        },
    )
}

const TOO_MANY: &str = "Terlalu banyak pemeriksaan dari alamat ini; coba lagi sebentar lagi. / Too many checks from this address; try again shortly.";
const NOT_A_HASH: &str = "Hash harus berupa SHA-256 heksadesimal (64 karakter). / The hash must be a SHA-256 in hexadecimal (64 characters).";
const FAILED: &str = "Pemeriksaan gagal; coba lagi. / The check failed; try again.";

/// The query of `GET /verify`.
#[derive(Deserialize)]
pub struct Ask {
    hash: Option<String>,
}

/// The verification page in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(page, check))]
pub(crate) struct VerifyApi;

/// `GET /verify[?hash=…]`.
#[utoipa::path(get, path = "/verify", tag = "Verification",
    params(("hash" = Option<String>, Query, description = "SHA-256 of a PDF (64 hexadecimal digits)")),
    summary = "Verification page: is this file one this server wrote?",
    description = "Public. Without `hash`, the form (a chosen PDF is hashed in the browser); with it, the answer.",
    responses((status = 200, description = "The page, with the answer when a hash is given.", content_type = "text/html", body = String),
        (status = 422, description = "Not a SHA-256.", content_type = "text/html", body = String),
        (status = 429, description = "Too many look-ups from this address.", content_type = "text/html", body = String)))]
async fn page(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Query(ask): Query<Ask>,
) -> Response {
    let Some(hash) = ask.hash.map(|h| h.trim().to_ascii_lowercase()) else {
        return render(StatusCode::OK, blank(String::new()));
    };
    match state.core.count_lookup(ip).await {
        Ok(d) if !d.allowed => return refused(StatusCode::TOO_MANY_REQUESTS, hash, TOO_MANY),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "counting a look-up");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, hash, FAILED);
        }
    }
    if !is_sha256_hex(&hash) {
        return refused(StatusCode::UNPROCESSABLE_ENTITY, hash, NOT_A_HASH);
    }
    match state.core.revision_by_hash(&hash).await {
        Ok(found) => render(
            StatusCode::OK,
            VerifyPage {
                lookup: Some(lookup_of(found)),
                ..blank(hash)
            },
        ),
        Err(e) => {
            tracing::error!(error = %e, "a look-up by hash");
            refused(StatusCode::INTERNAL_SERVER_ERROR, hash, FAILED)
        }
    }
}

/// `POST /verify` (multipart `file`): the look-up and the validator's verdict.
#[utoipa::path(post, path = "/verify", tag = "Verification",
    summary = "Verify a PDF: the look-up by its hash and the validator's verdict on its signatures",
    request_body(content_type = "multipart/form-data", description = "`file`: the PDF (not kept)"),
    responses((status = 200, description = "The page with both answers.", content_type = "text/html", body = String),
        (status = 422, description = "No file.", content_type = "text/html", body = String),
        (status = 429, description = "Too many look-ups from this address.", content_type = "text/html", body = String)))]
async fn check(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    req: Request,
) -> Response {
    match state.core.count_validation(ip).await {
        Ok(d) if !d.allowed => {
            return refused(StatusCode::TOO_MANY_REQUESTS, String::new(), TOO_MANY)
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "counting a look-up");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, String::new(), FAILED);
        }
    }
    const NO_FILE: &str = "Pilih file PDF. / Choose a PDF file.";
    let Ok((_, mut files)) = paraf_http::forms::read_multipart(req, &state, &["file"]).await else {
        return refused(StatusCode::UNPROCESSABLE_ENTITY, String::new(), NO_FILE);
    };
    let Some(file) = files.remove("file") else {
        return refused(StatusCode::UNPROCESSABLE_ENTITY, String::new(), NO_FILE);
    };
    let hash = hex::encode(Sha256::digest(&file.bytes));
    let lookup = match state.core.revision_by_hash(&hash).await {
        Ok(found) => lookup_of(found),
        Err(e) => {
            tracing::error!(error = %e, "a look-up by hash");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, hash, FAILED);
        }
    };
    let validation = match state.core.verify_pdf(file.bytes, None).await {
        Ok(v) => {
            use paraf_core::engine::verify::report::{Indication, SignatureKind};
            let r = v.report;
            Some(Validation {
                indication: r.indication.as_str(),
                passed: r.indication == Indication::TotalPassed,
                signatures: r
                    .signatures
                    .iter()
                    .map(|s| SignatureLine {
                        who: s
                            .signer
                            .as_ref()
                            .and_then(|c| c.common_name.clone())
                            .or_else(|| s.name.clone())
                            .unwrap_or_else(|| "?".into()),
                        kind: match s.kind {
                            SignatureKind::Signature => "tanda tangan / signature",
                            SignatureKind::DocumentTimestamp => {
                                "cap waktu dokumen / document time-stamp"
                            }
                        },
                        indication: s.indication.as_str(),
                        passed: s.indication == Indication::TotalPassed,
                    })
                    .collect(),
            })
        }
        Err(_) => None,
    };
    let unreadable = validation.is_none();
    render(
        StatusCode::OK,
        VerifyPage {
            lookup: Some(lookup),
            validation,
            error: unreadable.then_some(
                "File ini tidak dapat dibaca sebagai PDF. / This file cannot be read as a PDF.",
            ),
            ..blank(hash)
        },
    )
}
