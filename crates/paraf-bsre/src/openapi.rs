//! The BSrE dialect's part of `/openapi.json`: every route of [`crate::v1`], [`crate::v2`],
//! [`crate::verify`] and [`crate::activation`], written from the handlers (field names,
//! accepted spellings, replies), plus the `BsreError` schema every error refers to.
//!
//! Authentication is the shared document's `appCredential` scheme (HTTP Basic with an
//! application credential); the activation page is public (`security: []`).

use serde_json::{json, Map, Value};

use crate::error::Code;
use paraf_http::openapi::OpenApi;

/// The security requirement of every API route.
fn basic() -> Value {
    json!([{"appCredential": []}])
}

/// A BSrE error response.
fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BsreError"}}}
    })
}

/// The errors every authenticated JSON route can give.
fn json_errors(extra: &[(&str, &str)]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "400".into(),
        error("Invalid request: `status_code` names the problem (see docs/bsre.md)."),
    );
    m.insert(
        "401".into(),
        error("Missing or wrong application credential, or client IP not allowed (401)."),
    );
    m.insert(
        "413".into(),
        error("The body is larger than the server's limit (413)."),
    );
    m.insert(
        "415".into(),
        error("The body is not `application/json` (415)."),
    );
    m.insert(
        "500".into(),
        error("Internal error; the message carries the request id (500)."),
    );
    for (status, text) in extra {
        m.insert((*status).into(), error(text));
    }
    m
}

/// `x-language: en` switches messages to English.
fn lang() -> Value {
    json!({"name": "x-language", "in": "header", "required": false,
        "schema": {"type": "string", "examples": ["en"]},
        "description": "`en` for English messages; Indonesian otherwise."})
}

fn pdf_reply(description: &str) -> Value {
    json!({
        "description": description,
        "headers": {
            "id_dokumen": {"schema": {"type": "string"},
                "description": "The document id for `GET /api/sign/download/{id_dokumen}` (32 hex characters)."},
            "Content-Disposition": {"schema": {"type": "string"},
                "description": "`attachment; filename=\"<name>_signed.pdf\"`."}
        },
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    })
}

fn v1_sign() -> Value {
    let n = |d: &str| json!({"type": "number", "description": d});
    let s = |d: &str| json!({"type": "string", "description": d});
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        pdf_reply(
            "The signed PDF (PAdES B-T). It can also be fetched once with the download route.",
        ),
    );
    let mut errors = json_errors(&[]);
    // Without a multipart Content-Type the multipart reader answers 400 (2002), not 415.
    errors.remove("415");
    responses.extend(errors);
    json!({"post": {
        "tags": ["BSrE v1"],
        "summary": "Sign a PDF (multipart)",
        "description": "Signs `file` with the identity `nik`, unlocked by `passphrase`. Invisible (`tampilan=invisible`), or visible with the specimen image `imageTTD` (`image=true`) or a QR code of `linkQR` (`image=false`) with the signer's name and date. Placement: `tag_koordinat`, or `page` (or `halaman`) + `xAxis` + `yAxis`; always `width` + `height`. A part with a file name is a file; of repeated names the first counts.",
        "security": basic(),
        "parameters": [lang()],
        "requestBody": {"required": true, "content": {"multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "nik", "passphrase", "tampilan"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "The PDF."},
                    "nik": s("The signer's 16-digit NIK."),
                    "passphrase": s("The signer's passphrase (opens the key sealed under it). Wrong ones are counted: after 5 in a row (`PARAF_BSRE_LOCK_AFTER`) the identity is locked for 30 minutes (`PARAF_BSRE_LOCK_MINUTES`)."),
                    "tampilan": {"type": "string", "enum": ["visible", "invisible"], "description": "Case-insensitive."},
                    "image": {"type": "string", "enum": ["true", "false"],
                        "description": "true: specimen image `imageTTD`; false: QR code of `linkQR`. Also 1/0, yes/no. Default: true when `imageTTD` is given or `linkQR` is not."},
                    "imageTTD": {"type": "string", "format": "binary", "description": "Specimen image: JPG, JPEG or PNG."},
                    "linkQR": s("Address the QR code points to (required when `image=false`)."),
                    "page": {"type": "integer", "minimum": 1, "description": "1-based page of the specimen (when no `tag_koordinat`)."},
                    "halaman": {"type": "string", "enum": ["first", "last", "pertama", "terakhir", "awal", "akhir"],
                        "description": "First or last page, when `page` is not given."},
                    "xAxis": n("Left edge in points (the seed's \"pixels\", 72 per inch) from the left of the page as displayed."),
                    "yAxis": n("Bottom edge in points from the bottom of the page as displayed."),
                    "width": n("Width in points (> 0); required when visible."),
                    "height": n("Height in points (> 0); required when visible."),
                    "tag_koordinat": s("Text in the document (e.g. `$` or `#`): the specimen is centred on its first occurrence; wins over `page`/`xAxis`/`yAxis`."),
                    "reason": s("Reason stored in the signature (optional)."),
                    "location": s("Location stored in the signature (optional)."),
                    "text": s("An extra line of text in the visible specimen (optional).")
                }
            },
            "encoding": {"file": {"contentType": "application/pdf"}, "imageTTD": {"contentType": "image/png, image/jpeg"}}
        }}},
        "responses": responses,
    }})
}

fn v1_download() -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        pdf_reply("The signed PDF; the id is used up."),
    );
    responses.insert(
        "401".into(),
        error("Missing or wrong application credential (401)."),
    );
    responses.insert(
        "404".into(),
        error("No such document in the caller's organisation (2051)."),
    );
    responses.insert(
        "410".into(),
        error("Already downloaded: a document is downloadable once (2052)."),
    );
    responses.insert("500".into(), error("Internal error (500)."));
    json!({"get": {
        "tags": ["BSrE v1"],
        "summary": "Download a signed document, once",
        "security": basic(),
        "parameters": [
            {"name": "id_dokumen", "in": "path", "required": true, "schema": {"type": "string"},
                "description": "The `id_dokumen` header of the `POST /api/sign/pdf` reply."},
            lang()
        ],
        "responses": responses,
    }})
}

fn activation() -> Value {
    let html = |d: &str| json!({"description": d, "content": {"text/html": {"schema": {"type": "string"}}}});
    let secret = json!({"name": "secret", "in": "path", "required": true, "schema": {"type": "string"},
        "description": "The secret of the activation link mailed to the signer (single use, 7 days)."});
    json!({
        "get": {
            "tags": ["BSrE activation"],
            "summary": "Activation page: the form to choose a passphrase",
            "description": "Public: the link's secret is the credential.",
            "security": [],
            "parameters": [secret],
            "responses": {
                "200": html("The form."),
                "404": html("Unknown, used or expired link.")
            }
        },
        "post": {
            "tags": ["BSrE activation"],
            "summary": "Activate: generate the key, issue the certificate, seal the key under the passphrase",
            "description": "Public: the link's secret is the credential. The identity becomes ISSUE.",
            "security": [],
            "parameters": [secret],
            "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["passphrase", "confirm"], "properties": {
                    "passphrase": {"type": "string", "minLength": 8},
                    "confirm": {"type": "string", "minLength": 8, "description": "The passphrase again."},
                    "allow_otp": {"type": "string", "description": "Present (any value): also allow signing with e-mailed codes (a second copy of the key sealed under the server master key)."}
                }}}}},
            "responses": {
                "200": html("Activated: the certificate serial."),
                "400": html("The form again, with the problem (passphrases differ, too short)."),
                "404": html("Unknown, used or expired link."),
                "415": {"description": "Not a form body.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        }
    })
}

/// The v2 JSON routes, derived from their handlers' annotations and the [`crate::wire`]
/// types they read and write.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
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
struct V2Api;

/// The derived document of the v2 routes, as JSON; every operation needs the application
/// credential.
fn v2_document() -> Value {
    use utoipa::OpenApi as _;
    let mut doc = serde_json::to_value(V2Api::openapi()).unwrap_or_default();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for op in paths.values_mut().filter_map(|p| p.as_object_mut()) {
            for o in op.values_mut().filter_map(|o| o.as_object_mut()) {
                o.insert("security".into(), basic());
            }
        }
    }
    doc
}

/// Every BSrE path: v1, v2 (derived), verify and the activation page.
pub fn paths() -> Value {
    let mut m = Map::new();
    m.insert("/api/sign/pdf".into(), v1_sign());
    m.insert("/api/sign/download/{id_dokumen}".into(), v1_download());
    if let Value::Object(v2) = v2_document()["paths"].take() {
        m.extend(v2);
    }
    if let Value::Object(verify) = crate::verify::openapi_paths() {
        m.extend(verify);
    }
    m.insert("/aktivasi/{secret}".into(), activation());
    Value::Object(m)
}

/// The schemas the paths refer to: the derived v2 wire types and `BsreError`.
pub fn schemas() -> Value {
    let codes: Vec<u16> = Code::ALL.iter().map(|c| c.number()).collect();
    let mut derived = match v2_document()["components"]["schemas"].take() {
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
            "/aktivasi/{secret}",
        ] {
            assert!(keys.iter().any(|k| *k == want), "{want} missing");
        }
        let mut doc = OpenApi::shared("http://127.0.0.1:8080");
        add_to(&mut doc);
        let v = doc.to_value();
        assert!(v["components"]["schemas"]["BsreError"].is_object());
        assert!(v["components"]["schemas"]["Error"].is_object());
        assert_eq!(
            v["paths"]["/aktivasi/{secret}"]["get"]["security"],
            json!([])
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
