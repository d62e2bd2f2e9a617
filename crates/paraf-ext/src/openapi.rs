//! The external API's part of `/openapi.json`, derived (utoipa) from the handlers'
//! annotations and the wire types; the seed-004 conventions added to every operation: the
//! `x-request-id`, `x-language` and `x-signature` header parameters, and as security the
//! application key (`x-app-key`) with, where the call needs them, the bearer token and the
//! `x-user-token` (docs/external-api.md).

use paraf_http::openapi::OpenApi;
use serde_json::{json, Value};

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

/// What an operation needs besides the application key.
fn security_of(path: &str, method: &str) -> Value {
    match (path, method) {
        ("/ext/v1/auth/login", _) => json!([{"extAppKey": []}]),
        (
            "/ext/v1/auth/token"
            | "/ext/v1/auth/refresh-token"
            | "/ext/v1/auth/logout"
            | "/ext/v1/verify",
            _,
        ) => json!([{"extAppKey": [], "extBearer": []}]),
        _ => json!([{"extAppKey": [], "extBearer": [], "extUserToken": []}]),
    }
}

/// The conventions as OpenAPI components.
fn conventions() -> Value {
    json!({
        "securitySchemes": {
            "extAppKey": {"type": "apiKey", "in": "header", "name": "x-app-key",
                "description": "The application key (`paraf admin app-key create`); 401 INVALID_APP_KEY when unknown or disabled."},
            "extBearer": {"type": "http", "scheme": "bearer",
                "description": "The access token of `/ext/v1/auth/login` (the refresh token on `auth/token`, the user token on `auth/refresh-token`)."},
            "extUserToken": {"type": "apiKey", "in": "header", "name": "x-user-token",
                "description": "The user token of the same session as the access token."}
        },
        "parameters": {
            "ExtRequestId": {"name": "x-request-id", "in": "header", "required": true,
                "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                "description": "Unique per request and application key: repeated with the same request it replays the first reply (`x-idempotent-replay: true`), with another request 409 REQUEST_ID_CONFLICT; replies with tokens, links or files are given once (409 REQUEST_ID_USED)."},
            "ExtLanguage": {"name": "x-language", "in": "header", "required": false,
                "schema": {"type": "string", "enum": ["id", "en", "fr", "it", "es"], "default": "id"},
                "description": "The language of `message`; any other value is `id`."},
            "ExtSignature": {"name": "x-signature", "in": "header", "required": false,
                "schema": {"type": "string", "format": "byte"},
                "description": "Required when the application key requires signatures: base64 Ed25519 over `METHOD\\nPATH?QUERY\\nx-request-id\\nhex(sha256(body))`."}
        },
        "schemas": {
            "ExtReply": {"type": "object", "required": ["code", "message", "data"],
                "description": "Every reply of /ext/v1 but files: `data` is the operation's result (see each response) or, on a refusal, null or the details (`field` and `reason` for INVALID_FIELD, `reason` for CONFLICT).",
                "properties": {
                    "code": {"type": "string", "examples": ["OK", "INVALID_FIELD", "NOT_FOUND"]},
                    "message": {"type": "string", "description": "In the language of x-language."},
                    "data": {}
                }}
        }
    })
}

/// Adds the `/ext/v1` paths and components to `doc`.
pub fn add_to(doc: &mut OpenApi) {
    use utoipa::OpenApi as _;
    let mut v = serde_json::to_value(Api::openapi()).unwrap_or_default();
    if let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                let Some(op) = op.as_object_mut() else {
                    continue;
                };
                op.insert("security".into(), security_of(path, method));
                let params = op.entry("parameters").or_insert_with(|| json!([]));
                if let Some(list) = params.as_array_mut() {
                    for name in ["ExtRequestId", "ExtLanguage", "ExtSignature"] {
                        list.push(json!({"$ref": format!("#/components/parameters/{name}")}));
                    }
                }
            }
        }
    }
    if let (Some(c), Value::Object(more)) = (
        v.as_object_mut()
            .map(|o| o.entry("components").or_insert_with(|| json!({}))),
        conventions(),
    ) {
        if let Some(c) = c.as_object_mut() {
            for (section, entries) in more {
                match (c.entry(section).or_insert_with(|| json!({})), entries) {
                    (Value::Object(mine), Value::Object(e)) => mine.extend(e),
                    (slot, e) => *slot = e,
                }
            }
        }
    }
    doc.merge_derived(v, None);
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
        // The conventions: parameters and security on every operation.
        let login = &v["paths"]["/ext/v1/auth/login"]["post"];
        assert_eq!(login["security"], json!([{"extAppKey": []}]));
        let list = &v["paths"]["/ext/v1/envelopes"]["get"];
        assert!(list["security"][0]["extUserToken"].is_array());
        let params = list["parameters"].as_array().unwrap();
        assert!(params
            .iter()
            .any(|p| p["$ref"] == "#/components/parameters/ExtRequestId"));
        assert!(params.iter().any(|p| p["name"] == "status"));
        assert_eq!(
            v["components"]["parameters"]["ExtRequestId"]["required"],
            true
        );
        assert!(v["components"]["securitySchemes"]["extAppKey"].is_object());
        // The shared schemes stay.
        assert!(v["components"]["securitySchemes"]["apiToken"].is_object());
        // The replies are described from their types.
        assert!(v["components"]["schemas"]["EnvelopeOut"]["properties"]["groups"].is_object());
        assert!(v["components"]["schemas"]["EnvelopeIn"]["properties"]["recipients"].is_object());
    }
}
