//! Rendering templates (askama: checked at compile time, HTML-escaped by default — the one
//! escaping path of the web pages) into responses.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// `template` as an HTML response with `status`; a template that fails to render (it cannot
/// for lack of data: fields are typed) is logged and answered with a bare 500.
pub fn html(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => {
            let mut resp = (status, body).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `template` as a string (a page body that goes into the layout).
pub fn fragment(template: &impl Template) -> String {
    template.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page fragment could not be rendered");
        String::new()
    })
}

/// The `'sha256-…'` source of an inline style sheet or script for a Content-Security-Policy
/// (base64 of its SHA-256).
pub fn csp_hash(inline: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline.as_bytes()))
}
