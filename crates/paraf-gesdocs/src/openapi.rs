//! The GesDocs dialect's part of `/openapi.json`, derived (utoipa) from the handlers'
//! annotations and the [`crate::wire`] types. `login`, `register` and `meta` are public;
//! every other route takes a bearer token (`apiToken`).

use paraf_http::openapi::OpenApi;
use serde_json::json;

/// The routes anyone may call.
#[derive(utoipa::OpenApi)]
#[openapi(paths(crate::routes::login, crate::routes::register, crate::routes::meta))]
struct PublicApi;

/// The personal-token routes (bearer token).
#[derive(utoipa::OpenApi)]
#[openapi(paths(crate::routes::create_token, crate::routes::list_tokens))]
struct TokenApi;

/// The other routes behind a bearer token, and the error schema.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    crate::routes::revoke_token,
    crate::signature_requests::create,
    crate::verify::verify_document,
    crate::secure_downloads::create,
    crate::secure_downloads::upload
))]
#[openapi(components(schemas(crate::wire::ErrorBody, crate::wire::WebhookPayload)))]
struct PrivateApi;

/// Adds the GesDocs paths and schemas to `doc`.
pub fn add_to(doc: &mut OpenApi) {
    use utoipa::OpenApi as _;
    let json = |api: utoipa::openapi::OpenApi| serde_json::to_value(api).unwrap_or_default();
    doc.merge_derived(json(PublicApi::openapi()), Some(json!([])));
    let bearer = || Some(json!([{"apiToken": []}]));
    doc.merge_derived(json(TokenApi::openapi()), bearer());
    doc.merge_derived(json(PrivateApi::openapi()), bearer());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_route_is_described_with_its_security() {
        let mut doc = OpenApi::for_dialect("http://127.0.0.1:8080", "gesdocs");
        add_to(&mut doc);
        let v = doc.to_value();
        for (path, method, security) in [
            ("/api/login", "post", json!([])),
            ("/api/register", "post", json!([])),
            ("/api/meta", "get", json!([])),
            ("/api/tokens", "post", json!([{"apiToken": []}])),
            ("/api/tokens", "get", json!([{"apiToken": []}])),
            ("/api/tokens/{id}", "delete", json!([{"apiToken": []}])),
            ("/api/verify-document", "post", json!([{"apiToken": []}])),
            ("/api/secure-downloads", "post", json!([{"apiToken": []}])),
            ("/api/uploads", "post", json!([{"apiToken": []}])),
        ] {
            assert_eq!(
                v["paths"][path][method]["security"], security,
                "{path} {method}"
            );
        }
        assert!(v["components"]["schemas"]["GesDocsError"].is_object());
        assert!(v["components"]["schemas"]["RegisterRequest"]["properties"]
            ["password_confirmation"]
            .is_object());
    }
}
