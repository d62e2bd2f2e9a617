//! The built-in CA over HTTP, at the URLs its certificates name:
//! `POST /pki/tsa` (RFC 3161), `POST /pki/ocsp` and `GET /pki/ocsp/{base64}` (RFC 6960 and
//! its appendix A; NSS, hence pdfsig, uses GET), `GET /pki/crl/{root|issuing|issuing-N}.crl`,
//! `GET /pki/ca/{root|issuing|issuing-N}.pem` (and `.crt`, DER) — `issuing-N` being the
//! issuing CAs made by renewals, each still served.
//! The CA itself is `paraf_core::PkiService`; all cryptography runs on the blocking pool.
//!
//! **Invariant:** the responders never fail on bad input: the CA answers malformed OCSP and
//! TSA requests with protocol refusals, which are sent with status 200 as the RFCs want.

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use paraf_pki::ca::{CaName, CertificateAuthority};
use paraf_pki::PkiError;

use crate::error::ApiError;
use crate::state::AppState;

/// The PKI routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pki/tsa", post(tsa))
        .route("/pki/ocsp", post(ocsp_post))
        .route("/pki/ocsp/{*request}", get(ocsp_get))
        .route("/pki/crl/{file}", get(crl))
        .route("/pki/ca/{file}", get(ca_cert))
}

async fn with_ca<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&CertificateAuthority, SystemTime) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let pki = state.pki.clone();
    let now: SystemTime = state.clock.now().into();
    tokio::task::spawn_blocking(move || {
        let ca = pki.current()?;
        Ok::<T, PkiError>(f(&ca, now))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

fn binary(ctype: &'static str, data: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        data,
    )
        .into_response()
}

async fn tsa(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let reply = with_ca(&state, move |ca, now| ca.tsa().respond(&body, now)).await?;
    Ok(binary("application/timestamp-reply", reply))
}

async fn ocsp_post(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let reply = with_ca(&state, move |ca, now| ca.ocsp_respond(&body, now)).await?;
    Ok(binary("application/ocsp-response", reply))
}

/// Decodes the base64 of an OCSP GET (already percent-decoded by the router), tolerating
/// URL-safe alphabets, missing padding and stray whitespace.
pub fn decode_ocsp_get(b64: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s.trim_start_matches('/');
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
}

async fn ocsp_get(
    State(state): State<AppState>,
    UrlPath(request): UrlPath<String>,
) -> Result<Response, ApiError> {
    // An undecodable request still gets an OCSP answer (malformedRequest), not an HTTP error.
    let der = decode_ocsp_get(&request).unwrap_or_default();
    let reply = with_ca(&state, move |ca, now| ca.ocsp_respond(&der, now)).await?;
    Ok(binary("application/ocsp-response", reply))
}

/// An issuing CA generation this CA does not have is a 404.
fn not_found_or_internal(e: PkiError) -> ApiError {
    if e.kind() == paraf_pki::PkiErrorKind::NotFound {
        ApiError::not_found()
    } else {
        ApiError::internal(e)
    }
}

fn split_file(file: &str) -> Option<(CaName, &str)> {
    let (name, ext) = file.rsplit_once('.')?;
    Some((name.parse().ok()?, ext))
}

async fn crl(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
) -> Result<Response, ApiError> {
    let Some((which, "crl")) = split_file(&file) else {
        return Err(ApiError::not_found());
    };
    let crl = with_ca(&state, move |ca, now| ca.crl(which, now))
        .await?
        .map_err(not_found_or_internal)?;
    Ok(binary("application/pkix-crl", crl))
}

async fn ca_cert(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
) -> Result<Response, ApiError> {
    let Some((which, ext)) = split_file(&file) else {
        return Err(ApiError::not_found());
    };
    let der = match ext {
        "pem" => false,
        "crt" | "cer" | "der" => true,
        _ => return Err(ApiError::not_found()),
    };
    let pem = with_ca(&state, move |ca, _| ca.certificate_pem(which))
        .await?
        .map_err(not_found_or_internal)?;
    if der {
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .concat();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(ApiError::internal)?;
        Ok(binary("application/pkix-cert", bytes))
    } else {
        Ok(binary("application/x-pem-file", pem.into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ocsp_get_decoding_is_lenient() {
        let der = vec![0x30, 0x03, 0xfb, 0xff, 0x01];
        let std = base64::engine::general_purpose::STANDARD.encode(&der);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der);
        assert_eq!(decode_ocsp_get(&std).unwrap(), der);
        assert_eq!(decode_ocsp_get(&url).unwrap(), der);
        assert_eq!(decode_ocsp_get(&format!("/{std}")).unwrap(), der);
        assert!(decode_ocsp_get("***").is_none());
    }

    #[test]
    fn ca_file_names() {
        assert_eq!(split_file("root.crl"), Some((CaName::Root, "crl")));
        assert_eq!(
            split_file("issuing.pem"),
            Some((CaName::FIRST_ISSUING, "pem"))
        );
        assert_eq!(split_file("tsa.pem"), None);
        assert_eq!(split_file("root"), None);
    }
}
