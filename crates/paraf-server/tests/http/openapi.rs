//! The OpenAPI documents: `/openapi.json` has every route; `/openapi/{face}.json` has one
//! face's routes (derived from its wire types) with the shared components.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_face_serves_its_own_document_and_the_merged_one_has_every_route() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let (s, all) = json(app.get("/openapi.json").send().await.unwrap()).await;
    assert_eq!(s, 200);
    let (s, bsre) = json(app.get("/openapi/bsre.json").send().await.unwrap()).await;
    assert_eq!(s, 200);
    let (s, web) = json(app.get("/openapi/web.json").send().await.unwrap()).await;
    assert_eq!(s, 200);
    let paths = |v: &serde_json::Value| -> Vec<String> {
        v["paths"].as_object().unwrap().keys().cloned().collect()
    };
    let (all_p, bsre_p, web_p) = (paths(&all), paths(&bsre), paths(&web));
    for p in ["/api/sign/pdf", "/api/v2/sign/pdf", "/api/v2/verify/pdf"] {
        assert!(bsre_p.iter().any(|x| x == p), "{p} not in bsre: {bsre_p:?}");
    }
    assert!(!bsre_p
        .iter()
        .any(|p| p == "/api/me" || p.starts_with("/aktivasi")));
    let mut web_sorted = web_p.clone();
    web_sorted.sort();
    assert_eq!(
        web_sorted,
        [
            "/aktivasi/{secret}",
            "/invitation/{invitation}",
            "/password/{token}",
            "/verify",
            "/{lang}/sign/{token}",
            "/{lang}/sign/{token}/code",
            "/{lang}/sign/{token}/decline",
            "/{lang}/sign/{token}/delegate",
            "/{lang}/sign/{token}/download/{doc}",
            "/{lang}/sign/{token}/pages/{doc}/{page}",
            "/{lang}/sign/{token}/verify",
        ]
    );
    for p in bsre_p.iter().chain(&web_p) {
        assert!(all_p.contains(p), "{p} missing from /openapi.json");
    }
    assert!(all_p.iter().any(|p| p == "/api/me"));
    // A face's document resolves its own references.
    assert!(bsre["components"]["schemas"]["SignRequest"].is_object());
    assert!(bsre["components"]["schemas"]["BsreError"].is_object());
    assert_eq!(bsre["info"]["title"], "Paraf — bsre");
    let (s, gesdocs) = json(app.get("/openapi/gesdocs.json").send().await.unwrap()).await;
    assert_eq!(s, 200);
    let gesdocs_p = paths(&gesdocs);
    for p in [
        "/api/login",
        "/api/register",
        "/api/meta",
        "/api/tokens",
        "/api/tokens/{id}",
        "/api/verify-document",
        "/api/secure-downloads",
        "/api/uploads",
    ] {
        assert!(
            gesdocs_p.iter().any(|x| x == p),
            "{p} not in gesdocs: {gesdocs_p:?}"
        );
        assert!(
            all_p.iter().any(|x| x == p),
            "{p} missing from /openapi.json"
        );
        assert!(!bsre_p.iter().any(|x| x == p), "{p} in bsre");
    }
    assert!(gesdocs["components"]["schemas"]["GesDocsError"].is_object());
    let (s, alphasign) = json(app.get("/openapi/alphasign.json").send().await.unwrap()).await;
    assert_eq!(s, 200);
    let alphasign_p = paths(&alphasign);
    for p in [
        "/api/v1/me",
        "/api/v1/me/quota",
        "/api/v1/documents",
        "/api/v1/documents/{document}",
        "/api/v1/documents/{document}/send",
        "/api/v1/documents/{document}/download",
        "/api/v1/contacts",
        "/api/v1/verify/{hash}",
    ] {
        assert!(alphasign_p.iter().any(|x| x == p), "{p} not in alphasign");
        assert!(
            all_p.iter().any(|x| x == p),
            "{p} missing from /openapi.json"
        );
    }
    assert!(alphasign["components"]["schemas"]["AlphasignError"].is_object());
    let (s, st) = json(app.get("/openapi/signingtoday.json").send().await.unwrap()).await;
    assert_eq!(s, 200);
    let st_p = paths(&st);
    for p in [
        "/api/DSTs",
        "/api/DST/{id}",
        "/api/robot/DSTs",
        "/api/auth/user",
    ] {
        assert!(st_p.iter().any(|x| x == p), "{p} not in signingtoday");
        assert!(
            all_p.iter().any(|x| x == p),
            "{p} missing from /openapi.json"
        );
    }
    assert!(st["components"]["schemas"]["ErrorResponse"].is_object());
    let (s, ext) = json(app.get("/openapi/ext.json").send().await.unwrap()).await;
    assert_eq!(s, 200);
    let ext_p = paths(&ext);
    for p in ["/ext/v1/auth/login", "/ext/v1/auth/token", "/ext/v1/me"] {
        assert!(ext_p.iter().any(|x| x == p), "{p} not in ext");
        assert!(
            all_p.iter().any(|x| x == p),
            "{p} missing from /openapi.json"
        );
    }
    assert!(!ext_p.iter().any(|x| x.starts_with("/api/")));
    // Every envelope operation, with the conventions and typed replies.
    assert!(ext_p.iter().any(|x| x == "/ext/v1/envelopes/{id}/download"));
    assert!(ext["components"]["schemas"]["EnvelopeOut"].is_object());
    assert!(ext["components"]["securitySchemes"]["extAppKey"].is_object());
    // The external API's document is valid OpenAPI 3.1 for an outside validator.
    require_tool("openapi-spec-validator", "openapi-spec-validator (pip)");
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ext.json", ext.to_string().as_bytes());
    let out = std::process::Command::new("openapi-spec-validator")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    app.stop().await;
}

/// The OpenAPI type a seed field's shape is written as.
fn openapi_type(ty: &paraf_testkit::schema::Ty) -> &'static str {
    use paraf_testkit::schema::Ty;
    match ty {
        Ty::Str | Ty::Uuid | Ty::DateTime | Ty::Enum(_) => "string",
        Ty::Int => "integer",
        Ty::Num => "number",
        Ty::Bool => "boolean",
        Ty::Array(_) => "array",
        Ty::Object | Ty::Map(_) | Ty::Model(_) | Ty::Any => "object",
    }
}

/// The type a property of an OpenAPI schema has (`type` — a list with `null` for an
/// optional one — or a reference, which is an object).
fn property_type(p: &serde_json::Value) -> String {
    if p.get("$ref").is_some() || p.get("oneOf").is_some() || p.get("allOf").is_some() {
        return "object".into();
    }
    match &p["type"] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str())
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        _ => "object".into(),
    }
}

/// The Signing Today document's schemas are the seed's models: the same field names (none
/// missing, none invented) with the same JSON types, so the document describes what the
/// SDKs expect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_today_schemas_are_the_seeds_models() {
    if !selected(Backend::Sqlite) {
        return;
    }
    let app = spawn(Backend::Sqlite).await;
    let (s, doc) = json(app.get("/openapi/signingtoday.json").send().await.unwrap()).await;
    assert_eq!(s, 200);
    let schemas = &doc["components"]["schemas"];
    for (component, model) in [
        ("Dst", "DigitalSignatureTransaction"),
        ("Document", "Document"),
        ("Form", "FillableForm"),
        ("SignatureRequest", "SignatureRequest"),
        ("SignerGroup", "SignersGroup"),
        ("Signer", "Signer"),
        ("Resource", "LFResource"),
        ("Signature", "Signature"),
        ("User", "User"),
        ("UserGroup", "UserGroup"),
        ("DstNote", "DSTNote"),
        ("AuditRecord", "AuditRecord"),
        ("SignerRecord", "SignerRecord"),
        ("DstList", "DSTsGetResponse"),
        ("SigningAddress", "DSTSigningAddressResponse"),
        ("InstantiationGroup", "InstantiationGroup"),
        ("RobotToken", "RobotAuthenticationToken"),
        ("RobotConfiguration", "RobotConfiguration"),
        ("ErrorResponse", "ErrorResponse"),
        ("DstStatusChanged", "DSTStatusChangedNotification"),
    ] {
        let props = schemas[component]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no schema {component} in the document"));
        let m = paraf_testkit::schema::model(model).unwrap();
        let mut seed: Vec<&str> = m.fields.iter().map(|f| f.name).collect();
        let mut ours: Vec<&str> = props.keys().map(String::as_str).collect();
        seed.sort_unstable();
        ours.sort_unstable();
        assert_eq!(ours, seed, "{component} vs the seed's {model}");
        for f in m.fields {
            assert_eq!(
                property_type(&props[f.name]),
                openapi_type(&f.ty),
                "{component}.{}",
                f.name
            );
        }
    }
    app.stop().await;
}
