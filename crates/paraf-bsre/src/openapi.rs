//! The BSrE dialect's part of `/openapi.json`: every route derived (utoipa) from its handler's
//! annotations and the [`crate::wire`] types it reads and writes, plus the `BsreError` schema
//! (with every code) every error refers to.
//!
//! Authentication is the shared document's `appCredential` scheme (HTTP Basic with an
//! application credential), added to every derived operation here.

use serde_json::{json, Map, Value};

use crate::error::Code;
use paraf_http::openapi::OpenApi;

/// The security requirement of every API route.
fn basic() -> Value {
    json!([{"appCredential": []}])
}

/// The v1 and v2 routes, derived from their handlers' annotations and the [`crate::wire`]
/// types they read and write.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        crate::v1::sign_pdf,
        crate::v1::download,
        crate::verify::verify_v1,
        crate::verify::verify_v2,
        crate::v2::sign_pdf,
        crate::v2::sign_totp,
        crate::v2::seal_activation,
        crate::v2::seal_revoke,
        crate::v2::seal_totp,
        crate::v2::seal_pdf,
        crate::v2::check_status,
        crate::v2::registration,
    ),
    components(schemas(crate::wire::BsreErrorBody))
)]
struct DerivedApi;

/// The derived document of the v1 and v2 routes, as JSON; every operation needs the application
/// credential.
fn derived_document() -> Value {
    use utoipa::OpenApi as _;
    let mut doc = serde_json::to_value(DerivedApi::openapi()).unwrap_or_default();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for op in paths.values_mut().filter_map(|p| p.as_object_mut()) {
            for o in op.values_mut().filter_map(|o| o.as_object_mut()) {
                o.insert("security".into(), basic());
            }
        }
    }
    doc
}

/// Every BSrE path (derived from `wire.rs` and the handlers).
pub fn paths() -> Value {
    let mut m = Map::new();
    if let Value::Object(p) = derived_document()["paths"].take() {
        m.extend(p);
    }
    Value::Object(m)
}

/// The schemas the paths refer to: the derived wire types and `BsreError`.
pub fn schemas() -> Value {
    let codes: Vec<u16> = Code::ALL.iter().map(|c| c.number()).collect();
    let mut derived = match derived_document()["components"]["schemas"].take() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let own = json!({
        "BsreError": {
            "type": "object",
            "required": ["error", "status_code"],
            "properties": {
                "error": {"type": "string",
                    "description": "The message: Indonesian, English with `x-language: en`."},
                "status_code": {"type": "integer", "enum": codes,
                    "description": "The dialect's error code (the table in docs/bsre.md)."}
            }
        }
    });
    if let Value::Object(own) = own {
        derived.extend(own);
    }
    Value::Object(derived)
}

/// Adds the BSrE paths and schemas to `doc`.
pub fn add_to(doc: &mut OpenApi) {
    if let Value::Object(p) = paths() {
        doc.merge_paths(p);
    }
    if let Value::Object(s) = schemas() {
        doc.merge_schemas(s);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_route_is_described_and_refs_resolve() {
        let p = paths();
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        for want in [
            "/api/sign/pdf",
            "/api/sign/download/{id_dokumen}",
            "/api/sign/verify",
            "/api/v2/sign/pdf",
            "/api/v2/sign/get/totp",
            "/api/v2/seal/get/activation",
            "/api/v2/seal/revoke/activation",
            "/api/v2/seal/get/totp",
            "/api/v2/seal/pdf",
            "/api/v2/user/check/status",
            "/api/v2/user/registration",
            "/api/v2/verify/pdf",
        ] {
            assert!(keys.iter().any(|k| *k == want), "{want} missing");
        }
        let mut doc = OpenApi::shared("http://127.0.0.1:8080");
        add_to(&mut doc);
        let v = doc.to_value();
        assert!(v["components"]["schemas"]["BsreError"].is_object());
        assert!(v["components"]["schemas"]["Error"].is_object());
        assert_eq!(
            v["paths"]["/api/sign/download/{id_dokumen}"]["get"]["security"],
            json!([{"appCredential": []}])
        );
        assert_eq!(
            v["paths"]["/api/v2/seal/pdf"]["post"]["security"],
            json!([{"appCredential": []}])
        );
        // Every reference resolves to a schema of the document.
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        match (k.as_str(), x) {
                            ("$ref", Value::String(r)) => out.push(r.clone()),
                            _ => refs(x, out),
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(v, &mut all);
        assert!(
            all.iter().any(|r| r.ends_with("/SignatureProperties")),
            "{all:?}"
        );
        for r in all {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(
                v["components"]["schemas"][name].is_object(),
                "{r} does not resolve"
            );
        }
        // The derived v2 request names the seed's fields.
        let sign = &v["components"]["schemas"]["SignRequest"]["properties"];
        for field in [
            "nik",
            "email",
            "passphrase",
            "totp",
            "file",
            "signatureProperties",
        ] {
            assert!(sign[field].is_object(), "SignRequest.{field}: {sign}");
        }
        let props = &v["components"]["schemas"]["SignatureProperties"]["properties"];
        for field in [
            "tampilan",
            "imageBase64",
            "originX",
            "originY",
            "tag_koordinat",
        ] {
            assert!(
                props[field].is_object(),
                "SignatureProperties.{field}: {props}"
            );
        }
    }
}
