//! The Alphasign dialect's part of `/openapi.json`, derived (utoipa) from the handlers'
//! annotations and the [`crate::wire`] types. `verify` is public; every other route takes a
//! bearer API token (`apiToken`).

use paraf_http::openapi::OpenApi;
use serde_json::json;

/// The route anyone may call.
#[derive(utoipa::OpenApi)]
#[openapi(paths(crate::verify::verify))]
struct PublicApi;

/// The routes behind an API token, and the error schema.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    crate::routes::me,
    crate::routes::quota,
    crate::routes::contacts,
    crate::routes::create_contact,
    crate::documents::list,
    crate::documents::create,
    crate::documents::show,
    crate::documents::send,
    crate::documents::download,
    crate::documents::delete
))]
#[openapi(components(schemas(
    crate::wire::ErrorBody,
    crate::wire::PageMeta,
    crate::wire::PageLinks
)))]
struct PrivateApi;

/// Adds the Alphasign paths and schemas to `doc`.
pub fn add_to(doc: &mut OpenApi) {
    use utoipa::OpenApi as _;
    let json = |api: utoipa::openapi::OpenApi| serde_json::to_value(api).unwrap_or_default();
    doc.merge_derived(json(PublicApi::openapi()), Some(json!([])));
    doc.merge_derived(json(PrivateApi::openapi()), Some(json!([{"apiToken": []}])));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_route_is_described_with_its_security() {
        let mut doc = OpenApi::for_dialect("http://127.0.0.1:8080", "alphasign");
        add_to(&mut doc);
        let v = doc.to_value();
        let bearer = json!([{"apiToken": []}]);
        for (path, method, security) in [
            ("/api/v1/verify/{hash}", "get", json!([])),
            ("/api/v1/me", "get", bearer.clone()),
            ("/api/v1/me/quota", "get", bearer.clone()),
            ("/api/v1/contacts", "get", bearer.clone()),
            ("/api/v1/contacts", "post", bearer.clone()),
            ("/api/v1/documents", "get", bearer.clone()),
            ("/api/v1/documents", "post", bearer.clone()),
            ("/api/v1/documents/{document}", "get", bearer.clone()),
            ("/api/v1/documents/{document}", "delete", bearer.clone()),
            ("/api/v1/documents/{document}/send", "post", bearer.clone()),
            (
                "/api/v1/documents/{document}/download",
                "get",
                bearer.clone(),
            ),
        ] {
            assert_eq!(
                v["paths"][path][method]["security"], security,
                "{path} {method}"
            );
        }
        assert!(v["components"]["schemas"]["AlphasignError"].is_object());
        assert!(v["components"]["schemas"]["Document"]["properties"]["signers"].is_object());
    }
}
