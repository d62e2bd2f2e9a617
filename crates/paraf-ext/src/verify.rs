//! `POST /ext/v1/verify`: the validator's full report on a PDF (the body, raw, at most the
//! server's body limit), for an access token of this application key. An encrypted PDF's
//! password goes in `x-pdf-password` (a header: never in a URL or a log). `?revocation=soft|
//! hard|off` chooses how missing revocation information counts for this request (default: the
//! server's `verify_revocation`).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use paraf_core::domain::TokenKind;
use paraf_core::engine::verify::VerifyErrorKind;
use paraf_core::verification::VerificationError;
use paraf_http::state::AppState;
use serde_json::json;

use crate::auth::checked_bearer;
use crate::conventions::Ext;
use crate::reply::{Msg, Reply};

/// The query of `POST /ext/v1/verify`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// `soft` (a certificate naming no CRL or OCSP address passes with a warning), `hard` (any
    /// missing revocation information is INDETERMINATE) or `off`; default: the server's.
    pub revocation: Option<String>,
}

/// Validates a signed PDF.
#[utoipa::path(post, path = "/ext/v1/verify", tag = "ext", params(VerifyQuery),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses((status = 200, description = "data: the validation report (indication, sub_indication, document, signatures, findings)"),
        (status = 400, description = "INVALID_FIELD: not a PDF, truncated, the password (x-pdf-password) is missing or wrong, or revocation is not soft, hard or off"),
        (status = 401, description = "MISSING_TOKEN, WRONG_TOKEN_TYPE, INVALID_TOKEN")))]
pub async fn verify(
    State(state): State<AppState>,
    Extension(ext): Extension<Ext>,
    Query(q): Query<VerifyQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = ext.lang;
    if let Err(refused) = checked_bearer(&state, &ext, &headers, TokenKind::Access).await {
        return refused;
    }
    let policy = match q.revocation.as_deref().map(str::parse) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(reason)) => {
            return Reply::err(lang, Msg::InvalidField)
                .with_data(json!({"field": "revocation", "reason": reason}))
                .into_response()
        }
    };
    if body.is_empty() {
        return Reply::err(lang, Msg::InvalidField)
            .with_data(json!({"field": "body", "reason": "send the PDF as the request body"}))
            .into_response();
    }
    let password = headers
        .get("x-pdf-password")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match state
        .core
        .verify_pdf_with(body.to_vec(), password, policy)
        .await
    {
        Ok(v) => match serde_json::to_value(&v.report) {
            Ok(report) => Reply::ok(lang, report).into_response(),
            Err(e) => Reply::from_core(lang, paraf_core::CoreError::internal(e)).into_response(),
        },
        Err(VerificationError::Unreadable { error, .. }) => {
            let field = if error.kind == VerifyErrorKind::BadPassword {
                "x-pdf-password"
            } else {
                "body"
            };
            Reply::err(lang, Msg::InvalidField)
                .with_data(json!({"field": field, "reason": error.to_string()}))
                .into_response()
        }
        Err(VerificationError::Core(e)) => Reply::from_core(lang, e).into_response(),
    }
}
