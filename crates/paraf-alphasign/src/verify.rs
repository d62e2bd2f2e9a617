//! `GET /api/v1/verify/{hash}`, public: whether Paraf wrote a file with this SHA-256 (any
//! revision of a document: the upload, each signed version, the sealed one), and who had
//! signed in it. An unknown hash answers 200 with `valid: false` (integrators test
//! `data.valid`); a malformed one 422. Rate-limited per client address
//! (`paraf_core::library::LOOKUPS_PER_MINUTE`, shared with the `/verify` page).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use paraf_core::library::is_sha256_hex;
use paraf_http::request_id::ClientIp;
use paraf_http::state::AppState;

use crate::documents::status_word;
use crate::error::{AlphasignError, Msg};
use crate::wire::{Success, Verification, VerifiedDocument, VerifiedSigner};

/// Check a document by its SHA-256 (no token needed).
#[utoipa::path(get, path = "/api/v1/verify/{hash}", tag = "alphasign",
    params(("hash" = String, Path, description = "SHA-256 of the PDF, 64 hexadecimal digits")),
    responses(
        (status = 200, description = "`{\"success\": true, \"data\": Verification}`; `valid: false` for a file Paraf did not write", body = Verification),
        (status = 422, description = "Not a SHA-256", body = crate::wire::ErrorBody),
        (status = 429, description = "Too many look-ups from this address (Retry-After)", body = crate::wire::ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(hash): Path<String>,
) -> Result<Response, AlphasignError> {
    let d = state.core.count_lookup(ip).await?;
    if !d.allowed {
        let mut resp =
            AlphasignError::for_status(StatusCode::TOO_MANY_REQUESTS, Some(d.retry_after_secs))
                .into_response();
        paraf_http::ratelimit::set_headers(&mut resp, &d);
        resp.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(d.retry_after_secs),
        );
        return Ok(resp);
    }
    let hash = hash.trim();
    if !is_sha256_hex(hash) {
        return Err(AlphasignError::invalid(
            "hash",
            Msg::new(
                "Hash harus berupa SHA-256 heksadesimal (64 karakter).",
                "The hash must be a SHA-256 in hexadecimal (64 characters).",
            ),
        ));
    }
    let found = state.core.revision_by_hash(hash).await?;
    let data = match found {
        Some(k) => Verification {
            valid: true,
            document: Some(VerifiedDocument {
                title: k.envelope.header.title.clone(),
                status: status_word(k.envelope.status).into(),
            }),
            signers: k
                .signers
                .iter()
                .map(|r| VerifiedSigner {
                    name: r.full_name(),
                    signed_at: r.signed_at.map(crate::time),
                })
                .collect(),
        },
        None => Verification {
            valid: false,
            document: None,
            signers: Vec::new(),
        },
    };
    let mut resp = Json(Success::of(data)).into_response();
    paraf_http::ratelimit::set_headers(&mut resp, &d);
    Ok(resp)
}
