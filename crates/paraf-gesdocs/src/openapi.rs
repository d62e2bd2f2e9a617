//! The GesDocs dialect's part of `/openapi.json`, derived (utoipa) from the handlers'
//! annotations and the [`crate::wire`] types. `login`, `register` and `meta` are public;
//! every other route takes a bearer token (`apiToken`).

use paraf_http::openapi::OpenApi;
use serde_json::json;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        crate::routes::login,
        crate::routes::register,
        crate::routes::meta,
        crate::routes::create_token,
        crate::routes::list_tokens,
        crate::routes::revoke_token,
        crate::signature_requests::create,
    ),
    components(schemas(crate::wire::ErrorBody))
)]
struct DerivedApi;

/// Adds the GesDocs paths and schemas to `doc`.
pub fn add_to(doc: &mut OpenApi) {
    use utoipa::OpenApi as _;
    let mut derived = serde_json::to_value(DerivedApi::openapi()).unwrap_or_default();
    // The public routes say so; the rest take the bearer token.
    for path in ["/api/login", "/api/register", "/api/meta"] {
        if let Some(item) = derived["paths"][path].as_object_mut() {
            for op in item.values_mut().filter_map(|o| o.as_object_mut()) {
                op.insert("security".into(), json!([]));
            }
        }
    }
    doc.merge_derived(derived, Some(json!([{"apiToken": []}])));
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
