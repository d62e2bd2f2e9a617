//! The BSrE dialect's part of `/openapi.json`: every route of [`crate::v1`], [`crate::v2`],
//! [`crate::verify`] and [`crate::activation`], written from the handlers (field names,
//! accepted spellings, replies), plus the `BsreError` schema every error refers to.
//!
//! Authentication is the shared document's `appCredential` scheme (HTTP Basic with an
//! application credential); the activation page is public (`security: []`).

use serde_json::{json, Map, Value};

use crate::error::Code;
use crate::v2::MAX_FILES;
use paraf_core::codes::SEAL_ACTIVATION_DAYS;
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

/// A JSON operation: body schema, 200 schema, description.
fn json_op(
    tag: &str,
    summary: &str,
    description: &str,
    body: Value,
    reply: Value,
    extra_errors: &[(&str, &str)],
) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "Success.", "content": {"application/json": {"schema": reply}}}),
    );
    responses.extend(json_errors(extra_errors));
    json!({"post": {
        "tags": [tag],
        "summary": summary,
        "description": description,
        "security": basic(),
        "parameters": [lang()],
        "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
        "responses": responses,
    }})
}

/// A number given as a JSON number or as a numeric string.
fn num(description: &str) -> Value {
    json!({"type": ["number", "string"], "description": description})
}

/// `signatureProperties[i]` (v2 sign and seal).
fn signature_properties() -> Value {
    json!({
        "type": "object",
        "required": ["tampilan"],
        "properties": {
            "tampilan": {"type": "string", "enum": ["VISIBLE", "INVISIBLE"],
                "description": "Case-insensitive. VISIBLE needs `width`, `height` and either `tag_koordinat` or `page` + `originX` + `originY`."},
            "imageBase64": {"type": "string", "contentEncoding": "base64",
                "description": "Specimen image (JPG, JPEG or PNG). Without it a VISIBLE signature shows the signer's name and the date."},
            "page": num("1-based page number (when no `tag_koordinat`)."),
            "originX": num("Left edge, in points (1/72 inch, the seed's \"pixels\"), from the left of the page as displayed."),
            "originY": num("Bottom edge, in points, from the bottom of the page as displayed."),
            "width": num("Width in points (> 0)."),
            "height": num("Height in points (> 0)."),
            "tag_koordinat": {"type": "string",
                "description": "Text written in the document (e.g. `$`): the specimen is centred on its first occurrence. Wins over `page`/`originX`/`originY`."},
            "location": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]},
            "pdfPassword": {"type": "string", "description": "Password of an encrypted PDF."}
        }
    })
}

/// `signatureProperties` + `file`, shared by v2 sign and seal.
fn files_and_properties() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "signatureProperties".into(),
        json!({
            "oneOf": [
                {"type": "array", "minItems": 1, "items": signature_properties()},
                signature_properties()
            ],
            "description": "One entry for every file, or one entry per file (in the order of `file`). A single object counts as one entry."
        }),
    );
    m.insert(
        "file".into(),
        json!({
            "oneOf": [
                {"type": "array", "minItems": 1, "maxItems": MAX_FILES,
                    "items": {"type": "string", "contentEncoding": "base64"}},
                {"type": "string", "contentEncoding": "base64"}
            ],
            "description": format!("The PDFs, base64 (standard or URL-safe alphabet, padding optional, a `data:…;base64,` prefix tolerated). At most {MAX_FILES}. All or nothing: one bad file fails the request and nothing is signed.")
        }),
    );
    m
}

/// `{time, file[]}`: the reply of v2 sign and seal.
fn signed_files_reply() -> Value {
    json!({
        "type": "object",
        "required": ["time", "file"],
        "properties": {
            "time": {"type": "integer", "description": "Milliseconds the request took on the server."},
            "file": {"type": "array", "items": {"type": "string", "contentEncoding": "base64"},
                "description": "The signed PDFs (PAdES B-T), base64, in the order of the request."}
        }
    })
}

/// `{success, message, data: null}`.
fn success_reply() -> Value {
    json!({
        "type": "object",
        "properties": {
            "success": {"const": true},
            "message": {"type": "string"},
            "data": {"type": "null"}
        }
    })
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

fn v2_sign() -> Value {
    let mut props = Map::new();
    props.insert(
        "nik".into(),
        json!({"type": "string", "description": "The signer's NIK (or give `email`; NIK wins when both are given)."}),
    );
    props.insert("email".into(), json!({"type": "string", "format": "email"}));
    props.insert(
        "passphrase".into(),
        json!({"type": "string", "description": "The signer's passphrase (wins over `totp`)."}),
    );
    props.insert(
        "totp".into(),
        json!({"type": "string", "description": "A code from `POST /api/v2/sign/get/totp`: valid 5 minutes, once, for at most the `data` files it was asked for. Only for identities that allowed code signing."}),
    );
    props.insert(
        "otp".into(),
        json!({"type": "string", "description": "Alias of `totp` (the seed's examples use both)."}),
    );
    props.extend(files_and_properties());
    json_op(
        "BSrE v2",
        "Sign PDFs (base64, bulk)",
        "Signs every file with the identity named by `nik` or `email`, unlocked by `passphrase` or a one-time `totp`. All or nothing.",
        json!({"type": "object", "required": ["signatureProperties", "file"], "properties": props}),
        signed_files_reply(),
        &[],
    )
}

fn v2_sign_totp() -> Value {
    json_op(
        "BSrE v2",
        "Mail a one-time signing code to the signer",
        "Sends a 6-digit code to the identity's e-mail, valid 5 minutes, for one `POST /api/v2/sign/pdf` of at most `data` files. Refused unless the identity allowed code signing.",
        json!({"type": "object", "required": ["data"], "properties": {
            "nik": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "data": {"type": ["integer", "string"], "minimum": 1, "maximum": MAX_FILES,
                "description": "Number of files the code is for."}
        }}),
        json!({"type": "object", "properties": {
            "success": {"const": true},
            "message": {"type": "string"},
            "data": {"type": "object", "properties": {
                "expires": {"type": "string", "examples": ["2023-08-07T04:24:40.927+0000"]},
                "data": {"type": "integer"}}}
        }}),
        &[],
    )
}

fn seal_activation() -> Value {
    json_op(
        "BSrE v2",
        "Send, or refresh, the seal's activation TOTP",
        &format!(
            "Without `totp`: mails a new activation TOTP to the seal's address (valid {SEAL_ACTIVATION_DAYS} days; any previous one stops working). With the current `totp`: extends it to {SEAL_ACTIVATION_DAYS} days from now."
        ),
        json!({"type": "object", "required": ["idSubscriber"], "properties": {
            "idSubscriber": {"type": "string"},
            "totp": {"type": "string", "description": "The activation TOTP in force (refresh)."}
        }}),
        json!({"oneOf": [
            success_reply(),
            {"type": "object", "properties": {
                "success": {"const": true},
                "message": {"type": "null"},
                "data": {"type": "object", "properties": {
                    "message": {"type": "string"},
                    "totp": {"type": "string"},
                    "expires": {"type": "string", "examples": ["2023-08-07T04:24:40.927+0000"]},
                    "result": {"const": true}}}
            }}
        ]}),
        &[],
    )
}

fn seal_revoke() -> Value {
    json_op(
        "BSrE v2",
        "Revoke the seal's activation TOTP",
        "The seal cannot get sealing codes until a new activation.",
        json!({"type": "object", "required": ["idSubscriber", "totp"], "properties": {
            "idSubscriber": {"type": "string"},
            "totp": {"type": "string", "description": "The activation TOTP in force."}
        }}),
        success_reply(),
        &[],
    )
}

fn seal_totp() -> Value {
    json_op(
        "BSrE v2",
        "Get a one-time sealing code",
        "Returns (in the reply) a 6-digit code valid 5 minutes, for one `POST /api/v2/seal/pdf` of at most `data` files.",
        json!({"type": "object", "required": ["idSubscriber", "data", "totp"], "properties": {
            "idSubscriber": {"type": "string"},
            "data": {"type": ["integer", "string"], "minimum": 1, "maximum": MAX_FILES,
                "description": "Number of files the code is for."},
            "totp": {"type": "string", "description": "The seal's activation TOTP."}
        }}),
        json!({"type": "object", "properties": {
            "message": {"type": "string"},
            "totp": {"type": "string", "pattern": "^[0-9]{6}$"},
            "expires": {"type": "string", "examples": ["2023-08-07T04:24:40.927+0000"]},
            "result": {"const": true}
        }}),
        &[],
    )
}

fn seal_pdf() -> Value {
    let mut props = Map::new();
    props.insert("idSubscriber".into(), json!({"type": "string"}));
    props.insert(
        "totp".into(),
        json!({"type": "string", "description": "A sealing code from `POST /api/v2/seal/get/totp`."}),
    );
    props.extend(files_and_properties());
    json_op(
        "BSrE v2",
        "Seal PDFs with the organisation's seal (base64, bulk)",
        "Seals every file with the seal `idSubscriber`. All or nothing.",
        json!({"type": "object", "required": ["idSubscriber", "totp", "signatureProperties", "file"], "properties": props}),
        signed_files_reply(),
        &[],
    )
}

fn check_status() -> Value {
    json_op(
        "BSrE v2",
        "Status of a user",
        "Only ISSUE may sign. NOT_REGISTERED when no identity has this NIK/e-mail in the caller's organisation.",
        json!({"type": "object", "properties": {
            "nik": {"type": "string"},
            "email": {"type": "string", "format": "email"}
        }}),
        json!({"type": "object", "properties": {
            "status": {"type": "string", "enum": ["ISSUE", "EXPIRED", "RENEW", "WAITING_FOR_VERIFICATION", "NEW", "NO_CERTIFICATE", "NOT_REGISTERED", "SUSPEND", "REVOKE"]},
            "message": {"type": "string"},
            "nik": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "certificate_expires": {"type": ["string", "null"], "examples": ["2027-08-07T04:24:40.927+0000"]}
        }}),
        &[],
    )
}

fn registration() -> Value {
    json_op(
        "BSrE v2",
        "Register a user",
        "WAITING_FOR_VERIFICATION until an administrator verifies (console or `paraf admin`); the activation mail then lets the user choose a passphrase.",
        json!({"type": "object", "required": ["nama", "email"], "properties": {
            "nama": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "nik": {"type": "string", "description": "Optional 16-digit NIK (Paraf extension)."}
        }}),
        json!({"type": "object", "properties": {
            "success": {"const": true},
            "message": {"type": "string"},
            "data": {"type": "object", "properties": {
                "nama": {"type": "string"},
                "email": {"type": ["string", "null"]},
                "status": {"type": "string", "examples": ["WAITING_FOR_VERIFICATION"]}}}
        }}),
        &[],
    )
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

/// Every BSrE path: v1, v2, verify and the activation page.
pub fn paths() -> Value {
    let mut m = Map::new();
    m.insert("/api/sign/pdf".into(), v1_sign());
    m.insert("/api/sign/download/{id_dokumen}".into(), v1_download());
    m.insert("/api/v2/sign/pdf".into(), v2_sign());
    m.insert("/api/v2/sign/get/totp".into(), v2_sign_totp());
    m.insert("/api/v2/seal/get/activation".into(), seal_activation());
    m.insert("/api/v2/seal/revoke/activation".into(), seal_revoke());
    m.insert("/api/v2/seal/get/totp".into(), seal_totp());
    m.insert("/api/v2/seal/pdf".into(), seal_pdf());
    m.insert("/api/v2/user/check/status".into(), check_status());
    m.insert("/api/v2/user/registration".into(), registration());
    if let Value::Object(verify) = crate::verify::openapi_paths() {
        m.extend(verify);
    }
    m.insert("/aktivasi/{secret}".into(), activation());
    Value::Object(m)
}

/// The schemas the paths refer to: `BsreError`.
pub fn schemas() -> Value {
    let codes: Vec<u16> = Code::ALL.iter().map(|c| c.number()).collect();
    json!({
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
    })
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
    }
}
