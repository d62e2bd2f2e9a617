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
        crate::verify::verify,
        crate::envelopes::list,
        crate::envelopes::create,
        crate::envelopes::get_one,
        crate::envelopes::patch,
        crate::envelopes::delete,
        crate::envelopes::send,
        crate::envelopes::cancel,
        crate::envelopes::remind,
        crate::envelopes::download,
        crate::envelopes::certificate,
        crate::envelopes::audit,
        crate::parts::documents,
        crate::parts::add_documents,
        crate::parts::document,
        crate::parts::remove_document,
        crate::parts::recipients,
        crate::parts::put_recipients,
        crate::parts::fields,
        crate::parts::put_fields,
        crate::parts::link,
        crate::manage::templates,
        crate::manage::create_template,
        crate::manage::template,
        crate::manage::delete_template,
        crate::manage::instantiate,
        crate::manage::webhooks,
        crate::manage::create_webhook,
        crate::manage::webhook,
        crate::manage::delete_webhook,
        crate::manage::rotate_webhook,
        crate::manage::enable_webhook,
        crate::manage::disable_webhook,
        crate::manage::deliveries,
        crate::manage::redeliver
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
            ("/ext/v1/envelopes", "get"),
            ("/ext/v1/envelopes", "post"),
            ("/ext/v1/envelopes/{id}", "get"),
            ("/ext/v1/envelopes/{id}", "patch"),
            ("/ext/v1/envelopes/{id}", "delete"),
            ("/ext/v1/envelopes/{id}/send", "post"),
            ("/ext/v1/envelopes/{id}/cancel", "post"),
            ("/ext/v1/envelopes/{id}/remind", "post"),
            ("/ext/v1/envelopes/{id}/download", "get"),
            ("/ext/v1/envelopes/{id}/certificate", "get"),
            ("/ext/v1/envelopes/{id}/audit", "get"),
            ("/ext/v1/envelopes/{id}/documents", "get"),
            ("/ext/v1/envelopes/{id}/documents", "post"),
            ("/ext/v1/envelopes/{id}/documents/{position}", "get"),
            ("/ext/v1/envelopes/{id}/documents/{position}", "delete"),
            ("/ext/v1/envelopes/{id}/recipients", "get"),
            ("/ext/v1/envelopes/{id}/recipients", "put"),
            ("/ext/v1/envelopes/{id}/recipients/{position}/link", "post"),
            ("/ext/v1/envelopes/{id}/fields", "get"),
            ("/ext/v1/envelopes/{id}/fields", "put"),
            ("/ext/v1/templates", "get"),
            ("/ext/v1/templates", "post"),
            ("/ext/v1/templates/{id}", "get"),
            ("/ext/v1/templates/{id}", "delete"),
            ("/ext/v1/templates/{id}/envelopes", "post"),
            ("/ext/v1/webhooks", "get"),
            ("/ext/v1/webhooks", "post"),
            ("/ext/v1/webhooks/{id}", "get"),
            ("/ext/v1/webhooks/{id}", "delete"),
            ("/ext/v1/webhooks/{id}/rotate", "post"),
            ("/ext/v1/webhooks/{id}/enable", "post"),
            ("/ext/v1/webhooks/{id}/disable", "post"),
            ("/ext/v1/webhooks/{id}/deliveries", "get"),
            ("/ext/v1/webhooks/deliveries/{delivery}/redeliver", "post"),
        ] {
            assert!(v["paths"][path][method].is_object(), "{path} {method}");
        }
        // The replies are described from their types.
        assert!(v["components"]["schemas"]["EnvelopeOut"]["properties"]["groups"].is_object());
        assert!(v["components"]["schemas"]["EnvelopeIn"]["properties"]["recipients"].is_object());
    }
}
