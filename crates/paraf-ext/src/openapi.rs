//! The external API's part of `/openapi.json`, derived (utoipa) from the handlers'
//! annotations. Every operation also takes the convention headers (`x-app-key`,
//! `x-request-id`, `x-language`, `x-signature`), described once in docs/external-api.md.

use paraf_http::openapi::OpenApi;
use serde_json::json;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        crate::auth::login,
        crate::auth::token,
        crate::auth::refresh_token,
        crate::auth::logout,
        crate::auth::me,
        crate::verify::verify
    ),
    components(schemas(crate::auth::Login))
)]
struct Api;

/// Adds the `/ext/v1` paths and schemas to `doc`.
pub fn add_to(doc: &mut OpenApi) {
    use utoipa::OpenApi as _;
    let v = serde_json::to_value(Api::openapi()).unwrap_or_default();
    doc.merge_derived(v, Some(json!([])));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_route_is_described() {
        let mut doc = OpenApi::for_dialect("http://127.0.0.1:8080", "ext");
        add_to(&mut doc);
        let v = doc.to_value();
        for (path, method) in [
            ("/ext/v1/auth/login", "post"),
            ("/ext/v1/auth/token", "post"),
            ("/ext/v1/auth/refresh-token", "post"),
            ("/ext/v1/auth/logout", "post"),
            ("/ext/v1/me", "get"),
            ("/ext/v1/verify", "post"),
        ] {
            assert!(v["paths"][path][method].is_object(), "{path} {method}");
        }
    }
}
