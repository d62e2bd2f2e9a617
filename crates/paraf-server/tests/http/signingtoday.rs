//! The Signing Today dialect (seed 003, under `/api`) over HTTP: login as the SDKs do it,
//! DSTs from the seed's own request samples (Quick Start 3.3 and the reference's canonical
//! DST) to the signed end, lists with the OData-style parameters of Quick Start 3.5, the
//! signing address in group order, deletion, logout — every JSON reply checked field by
//! field against the seed's schemas (`paraf_testkit::schema`), every refusal an
//! `ErrorResponse` naming its target.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use paraf_domain::Plan;
use paraf_testkit::schema::assert_conforms;
use serde_json::{json, Value};

use crate::common::*;
use crate::envelopes::{alice_signs, token_of};
use crate::gesdocs::file_server;

/// `method path` with `token` and an optional JSON body.
pub(crate) async fn st(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = match method {
        "POST" => app.post(path),
        "PUT" => app.http.put(app.at(path)),
        "PATCH" => app.http.patch(app.at(path)),
        "DELETE" => app.http.delete(app.at(path)),
        _ => app.get(path),
    };
    if let Some(t) = token {
        r = r.header("authorization", bearer(t));
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {bytes:?}"))
    };
    (status, v)
}

/// `GET path` with `token`.
pub(crate) async fn get_as(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    st(app, "GET", path, token, None).await
}

/// No mail went out for organisation `org`.
pub(crate) async fn assert_no_mail(app: &TestApp, org: paraf_domain::OrgId) {
    let mails = app.store.list_mail(Some(org), 100).await.unwrap();
    assert!(
        mails.is_empty(),
        "{:?}",
        mails.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
}

/// An `ErrorResponse` with `code` and, when given, `target`.
#[track_caller]
pub(crate) fn assert_error(v: &Value, code: &str, target: Option<&str>) {
    assert_conforms("ErrorResponse", v);
    assert_eq!(v["code"], code, "{v}");
    assert!(!v["message"].as_str().unwrap_or_default().is_empty(), "{v}");
    if let Some(t) = target {
        assert_eq!(v["target"], t, "{v}");
    }
}

/// Logs in with `password` as the SDKs do: multipart, `user@domain`, client credentials in
/// Basic.
pub(crate) async fn login_with(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in [
        ("username", username),
        ("password", password),
        ("grant_type", "password"),
    ] {
        form = form.text(k, v.to_string());
    }
    let r = app
        .post("/api/oauth/token")
        .header("authorization", basic("client", "secret"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    json(r).await
}

/// Logs in with the test password; the token.
pub(crate) async fn login(app: &TestApp, username: &str) -> String {
    let (s, v) = login_with(app, username, PASSWORD).await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("OAuthToken", &v);
    v["access_token"].as_str().unwrap().to_string()
}

/// Quick Start 3.3's DST, its document given at `source`.
pub(crate) fn quick_start_dst(source: Value) -> Value {
    json!({
        "title": "Sample DST",
        "documents": [{
            "resource": {"filename": "sample.pdf", "resourceType": "PDF_Document",
                         "title": "Test PDF", "source": source},
            "forms": [{"id": 1, "documentId": 0, "type": "SignatureForm",
                       "positionX": "10.00", "positionY": "10.14", "width": "10.1", "height": "5.66",
                       "page": "1", "signerId": 1, "toFill": false, "invisible": false,
                       "extraData": {"signatureRequestId": 1}}],
            "signatureRequests": [{"id": 1, "reason": "For approvation", "description": "As sample test",
                                   "signerId": 1, "signProfile": "PAdES", "withTimestamp": true,
                                   "declinable": false}],
            "signerGroups": [{"label": "Group 1", "signers": [
                {"id": 1, "name": "John", "surname": "Doe", "email": "jdo@example.com", "role": "Approver"}]}]
        }],
        "status": "published",
        "template": false,
        "publicTemplate": false,
        "urgent": false
    })
}

/// The reference's canonical DST (`POST /DSTs` request sample), its document the resource
/// `plain`.
pub(crate) fn canonical_dst(plain: &str) -> Value {
    json!({
      "domain": "bit4id",
      "title": "Real estate sales contract transaction",
      "documents": [{
          "id": 1,
          "plainDocumentUuid": plain,
          "forms": [{"id": 0, "documentId": 0, "type": "SignatureForm",
                     "positionX": "100.00", "positionY": "58.14", "width": "10.1", "height": "5.66",
                     "page": 1, "signerId": 0, "toFill": true, "filled": false, "invisible": true,
                     "extraData": {"signatureRequestId": 0}}],
          "signatureRequests": [{"id": 0, "reason": "As the Buyer", "description": "The proponent",
                                 "signerId": 0, "signProfile": "PAdES", "withTimestamp": true,
                                 "declinable": false,
                                 "restrictions": [{"rule": "", "operator": "", "value": ""}],
                                 "extraData": {"st_ticketUrl": "http://signing.today/ticket/8bd4aead-ad37-42bc-b3b0-22ce3d1c9e79"}}],
          "signerGroups": [{"label": "Group 1", "signers": [
              {"id": 0, "name": "Adam", "surname": "Smith", "email": "adam.smith@email.com"}]}],
          "extraData": {"additionalProperty": {}}
      }],
      "resources": [{"id": "05a80817-a3a5-48fe-83c0-0df0f48a2a26", "domain": "bit4id",
                     "title": "Sales Contract", "filename": "contract.pdf", "pages": 3,
                     "extraData": {"toSign": true}}],
      "signatures": [{"documentId": 3, "signatureRequestId": 0, "signedAt": "2021-10-17T07:26Z",
                      "declinedReason": "Reason of declination",
                      "extraData": {"st_uuid": "d6ebb1ed-73a4-45ba-b33a-7db8a6cdd882"}}],
      "errorMessage": null,
      "tags": null,
      "template": false,
      "publicTemplate": false,
      "extraData": {"st_uuid": "d6ebb1ed-73a4-45ba-b33a-7db8a6cdd882"},
      "visibleTo": null,
      "ccGroups": null,
      "ccUsers": null,
      "urgent": false
    })
}

/// `GET path` with `token`: status, content type, bytes.
async fn fetch_as(app: &TestApp, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    fetch_with(app, path, Some(token)).await
}

/// The caller's user id as the API shows it.
async fn v_user_id(app: &TestApp, token: &str) -> Value {
    st(app, "GET", "/api/auth/user", Some(token), None).await.1["id"].clone()
}

pub(crate) fn embedded(pdf: &[u8]) -> Value {
    json!({"type": "Embedded", "embeddedData": base64::engine::general_purpose::STANDARD.encode(pdf)})
}

/// A DST of two groups: Anna and Bruno in parallel, then Carla.
pub(crate) fn two_groups_dst(title: &str, pdf: &[u8]) -> Value {
    let form = |id: i64, signer: i64, y: &str| {
        json!({"id": id, "type": "SignatureForm", "positionX": "10", "positionY": y,
               "width": "30", "height": "8", "page": 1, "signerId": signer,
               "extraData": {"signatureRequestId": id}})
    };
    let request =
        |id: i64| json!({"id": id, "signerId": id, "signProfile": "PAdES", "withTimestamp": true});
    json!({
        "title": title,
        "documents": [{
            "resource": {"filename": "contract.pdf", "resourceType": ["PDF_Document"], "source": embedded(pdf)},
            "forms": [form(0, 0, "10"), form(1, 1, "30"), form(2, 2, "60")],
            "signatureRequests": [request(0), request(1), request(2)],
            "signerGroups": [
                {"label": "Sellers", "signers": [
                    {"id": 0, "name": "Anna", "surname": "Rossi", "email": "anna@example.com"},
                    {"id": 1, "name": "Bruno", "surname": "Bianchi", "email": "bruno@example.com"}]},
                {"label": "Buyer", "signers": [
                    {"id": 2, "name": "Carla", "surname": "Verdi", "email": "carla@example.com"}]}
            ]
        }],
        "status": "published"
    })
}

async fn dsts_from_the_seeds_samples_to_signed(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "bit4id", Plan::Piagam).await;
    let other = tenant(&app, "other", Plan::Piagam).await;
    let files = file_server().await;
    let token = login(&app, "admin@bit4id").await;
    let tok = Some(token.as_str());

    // --- who am I.
    let (s, v) = st(&app, "GET", "/api/auth/user", tok, None).await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("User", &v);
    assert_eq!(
        (&v["username"], &v["domain"], &v["role"], &v["email"]),
        (
            &json!("admin"),
            &json!("bit4id"),
            &json!("admin"),
            &json!("admin@bit4id.example")
        )
    );

    // --- Quick Start 3.3: a robot's DST from a URL, published at once.
    let body = quick_start_dst(json!({"type": "URL", "sourceURL": format!("{files}/contrat.pdf")}));
    let (s, dst) = st(&app, "POST", "/api/robot/DSTs", tok, Some(body)).await;
    assert_eq!(s, 200, "{dst}");
    assert_conforms("DigitalSignatureTransaction", &dst);
    assert_eq!(dst["status"], "toSign", "{dst}");
    assert_eq!(dst["domain"], "bit4id");
    let doc = &dst["documents"][0];
    assert_eq!(doc["forms"][0]["positionX"], json!(10.0));
    assert_eq!(doc["forms"][0]["page"], json!(1));
    assert_eq!(
        doc["signerGroups"][0]["signers"][0]["email"],
        "jdo@example.com"
    );
    assert_eq!(dst["resources"][0]["mimetype"], "application/pdf");
    assert_eq!(dst["resources"][0]["pages"], 2);
    let first = dst["id"].as_str().unwrap().to_string();
    let plain = doc["plainDocumentUuid"].as_str().unwrap().to_string();
    // The signer was invited by mail.
    crate::recipients::link_mailed_to(&app, tn.org.id, "jdo@example.com").await;

    // --- the reference's canonical DST, on the first DST's resource: a draft; its form,
    // past the page's right edge in the sample, is moved back inside.
    let (s, draft) = st(&app, "POST", "/api/DSTs", tok, Some(canonical_dst(&plain))).await;
    assert_eq!(s, 201, "{draft}");
    assert_conforms("DigitalSignatureTransaction", &draft);
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["documents"][0]["status"], "plain");
    assert_eq!(draft["documents"][0]["id"], 1);
    assert_eq!(
        draft["documents"][0]["signatureRequests"][0]["reason"],
        "As the Buyer"
    );
    assert_eq!(draft["tags"], json!([]));
    assert_eq!(
        draft["extraData"]["st_uuid"],
        "d6ebb1ed-73a4-45ba-b33a-7db8a6cdd882"
    );
    let id = draft["id"].as_str().unwrap().to_string();

    // Publish; the signing address of request 0 of document 1; the signature.
    let (s, v) = st(&app, "POST", &format!("/api/DST/{id}/publish"), tok, None).await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("DigitalSignatureTransaction", &v);
    assert_eq!(v["status"], "toSign");
    assert!(v["publishedAt"].is_string());
    let (s, v) = st(&app, "POST", &format!("/api/DST/{id}/publish"), tok, None).await;
    assert_eq!(s, 409);
    assert_error(&v, "ILLEGAL_STATUS", None);
    let (s, v) = st(&app, "GET", &format!("/api/DST/{id}/sign/1/0"), tok, None).await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("DSTSigningAddressResponse", &v);
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with(&app.url), "{url}");
    for (path, target) in [
        (format!("/api/DST/{id}/sign/7/0"), "docId"),
        (format!("/api/DST/{id}/sign/1/9"), "signId"),
    ] {
        let (s, v) = st(&app, "GET", &path, tok, None).await;
        assert_eq!(s, 404, "{path}");
        assert_error(&v, "NOT_FOUND", Some(target));
    }
    alice_signs(&app.state.core, url).await;
    let done = eventually(30, "the DST signed", || async {
        let (_, v) = st(&app, "GET", &format!("/api/DST/{id}"), tok, None).await;
        (v["status"] == "signed").then_some(v)
    })
    .await;
    assert_conforms("DigitalSignatureTransaction", &done);
    assert_eq!(done["signatures"][0]["status"], "signed");
    assert_eq!(done["signatures"][0]["signatureRequestId"], 0);
    assert_eq!(done["signatures"][0]["documentId"], 1);
    assert_eq!(done["documents"][0]["status"], "signed");
    assert!(done["documents"][0]["signedDocumentUuid"].is_string());
    assert_eq!(done["resources"].as_array().unwrap().len(), 2);
    let (s, v) = st(&app, "GET", &format!("/api/DST/{id}/sign/1/0"), tok, None).await;
    assert_eq!(s, 409, "{v}");
    assert_error(&v, "ILLEGAL_STATUS", None);

    // --- the resources: the original as uploaded, the signed version that outside
    // validators accept.
    let signed = done["documents"][0]["signedDocumentUuid"].as_str().unwrap();
    let (s, _, original) = fetch_as(&app, &format!("/api/resource/{plain}"), &token).await;
    assert_eq!(s, 200);
    assert_eq!(
        original,
        paraf_testkit::pdf::pages(&["Le client <@signature1@>", "Le prestataire <@signature2@>"])
    );
    let (s, ct, pdf) = fetch_as(&app, &format!("/api/resource/{signed}"), &token).await;
    assert_eq!((s, ct.as_str()), (200, "application/pdf"));
    crate::envelopes::outside_validators_accept(&app, &pdf, 1).await;
    let (s, v) = st(
        &app,
        "GET",
        &format!("/api/resource/{signed}"),
        Some(&other.admin_token),
        None,
    )
    .await;
    assert_eq!(s, 404);
    assert_error(&v, "NOT_FOUND", Some("id"));

    // --- notes, with the seed's request samples.
    let (s, note) = st(
        &app,
        "POST",
        &format!("/api/DST/{id}/note"),
        tok,
        Some(json!({"text": "This is the new privacy policy."})),
    )
    .await;
    assert_eq!(s, 200, "{note}");
    assert_conforms("DSTNote", &note);
    assert_eq!(note["dstId"], id.as_str());
    assert_eq!(note["userId"], v_user_id(&app, &token).await);
    let nid = note["id"].as_i64().unwrap();
    let (s, v) = st(
        &app,
        "PUT",
        &format!("/api/DST/{id}/note/{nid}"),
        tok,
        Some(json!({
        "id": nid, "dstId": id, "userId": note["userId"], "createdAt": "2018-12-19 09:26:03.478039",
        "text": "This is the new privacy policy, revised."})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("DSTNote", &v);
    assert_eq!(v["text"], "This is the new privacy policy, revised.");
    let (s, v) = st(&app, "GET", &format!("/api/DST/{id}/note"), tok, None).await;
    assert_eq!(s, 200);
    assert_conforms("DSTNote[]", &v);
    assert_eq!(v.as_array().unwrap().len(), 1);
    for (method, path, body, code, target) in [
        (
            "POST",
            format!("/api/DST/{id}/note"),
            Some(json!({"text": "  "})),
            400,
            "text",
        ),
        (
            "POST",
            format!("/api/DST/{id}/note"),
            Some(json!({})),
            400,
            "text",
        ),
        (
            "PUT",
            format!("/api/DST/{id}/note/999999"),
            Some(json!({"text": "x"})),
            404,
            "noteId",
        ),
        (
            "DELETE",
            format!("/api/DST/{id}/note/abc"),
            None,
            404,
            "noteId",
        ),
    ] {
        let (s, v) = st(&app, method, &path, tok, body).await;
        assert_eq!(s, code, "{method} {path}: {v}");
        assert_error(
            &v,
            if code == 400 {
                "INVALID_INPUT"
            } else {
                "NOT_FOUND"
            },
            Some(target),
        );
    }
    let (s, _) = st(
        &app,
        "DELETE",
        &format!("/api/DST/{id}/note/{nid}"),
        tok,
        None,
    )
    .await;
    assert_eq!(s, 204);

    // --- the trail, in the seed's event names and in order.
    let trail = eventually(20, "the trail", || async {
        let (_, v) = st(&app, "GET", &format!("/api/DST/{id}/audit"), tok, None).await;
        (v.as_array()?.len() >= 7).then_some(v)
    })
    .await;
    assert_conforms("AuditRecord[]", &trail);
    let events: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "event_published",
            "stage_to_sign",
            "event_signature",
            "stage_signed",
            "event_note_add",
            "event_note_modify",
            "event_note_delete"
        ],
        "{trail}"
    );
    assert_eq!(trail[2]["signer"]["email"], "adam.smith@email.com");
    assert_eq!(trail[2]["signatureRequestId"], 0);
    assert_eq!(trail[2]["documentId"], 1);
    assert!(trail[4]["noteId"].is_i64());

    // --- lists: DSTs (not templates), newest first, `count` only when asked.
    let (s, v) = st(&app, "GET", "/api/DSTs", tok, None).await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("DSTsGetResponse", &v);
    assert_eq!(v["count"], Value::Null);
    let ids: Vec<&str> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str(), first.as_str()]);
    let (_, v) = st(
        &app,
        "GET",
        "/api/DSTs?$count=True&$top=1&$skip=1",
        tok,
        None,
    )
    .await;
    assert_eq!(v["count"], 2, "{v}");
    assert_eq!(v["values"][0]["id"], first.as_str());
    let (_, v) = st(
        &app,
        "GET",
        "/api/DSTs?$orderBy=title,asc&$filter=status==signed",
        tok,
        None,
    )
    .await;
    assert_eq!(v["values"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["values"][0]["id"], id.as_str());

    // --- Quick Start 3.5: templates by title, as curl and the Python SDK send it.
    let mut template = canonical_dst(&plain);
    template["title"] = json!("Sample Template");
    template["template"] = json!(true);
    let (s, t) = st(&app, "POST", "/api/DSTs", tok, Some(template)).await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["template"], true);
    for query in [
        "template=true&%24filter=title%3D%3DSample%20Template",
        "template=True&%24filter=title%3D%3DSample+Template",
        "template=true&$filter=title%20%3D%3D%20%22Sample%20Template%22%20or%20title%3D%3Dnone",
    ] {
        let (s, v) = st(&app, "GET", &format!("/api/DSTs?{query}"), tok, None).await;
        assert_eq!(s, 200, "{query}: {v}");
        assert_conforms("DSTsGetResponse", &v);
        assert_eq!(v["values"].as_array().unwrap().len(), 1, "{query}: {v}");
        assert_eq!(v["values"][0]["id"], t["id"]);
    }
    let (_, v) = st(
        &app,
        "GET",
        "/api/DSTs?$filter=title=~sample&$count=true",
        tok,
        None,
    )
    .await;
    assert_eq!(v["count"], 1, "the template is not a DST: {v}");
    let (_, v) = st(
        &app,
        "GET",
        "/api/DSTs?template=true&$filter=not%20title=~sample&$count=true",
        tok,
        None,
    )
    .await;
    assert_eq!(v["count"], 0, "{v}");
    let (s, v) = st(
        &app,
        "POST",
        &format!("/api/DST/{}/publish", t["id"].as_str().unwrap()),
        tok,
        None,
    )
    .await;
    assert_eq!(s, 409);
    assert_error(&v, "ILLEGAL_STATUS", None);

    // --- bad lists.
    for (query, target, part) in [
        ("$filter=title%20%3D%20x", "$filter", "\"title = x\""),
        ("$filter=owner==me", "$filter", "unknown field"),
        ("$filter=status==finished", "$filter", "not a DST status"),
        ("$top=0", "$top", "1 to 100"),
        ("$orderBy=size,desc", "$orderBy", "size"),
        ("template=maybe", "template", "true or false"),
    ] {
        let (s, v) = st(&app, "GET", &format!("/api/DSTs?{query}"), tok, None).await;
        assert_eq!(s, 400, "{query}: {v}");
        assert_error(&v, "INVALID_INPUT", Some(target));
        assert!(
            v["message"].as_str().unwrap().contains(part),
            "{query}: {v}"
        );
    }

    // --- bad DSTs, each naming its field.
    let pdf = paraf_testkit::pdf::pages(&["Contract"]);
    let mut bad_email = two_groups_dst("Bad", &pdf);
    bad_email["documents"][0]["signerGroups"][0]["signers"][1]["email"] = json!("bruno-at-example");
    let mut bad_form = two_groups_dst("Bad", &pdf);
    bad_form["documents"][0]["forms"][0]["signerId"] = json!(9);
    let mut bad_kind = two_groups_dst("Bad", &pdf);
    bad_kind["documents"][0]["forms"][0]["type"] = json!("StampForm");
    let mut no_title = two_groups_dst("", &pdf);
    no_title["title"] = Value::Null;
    let mut bad_data = two_groups_dst("Bad", &pdf);
    bad_data["documents"][0]["resource"]["source"]["embeddedData"] = json!("%%%");
    let mut not_pdf = two_groups_dst("Bad", &pdf);
    not_pdf["documents"][0]["resource"]["source"] = embedded(b"<html>no</html>");
    let mut bad_back = two_groups_dst("Bad", &pdf);
    bad_back["documents"][0]["signatureRequests"][1]["extraData"] =
        json!({"sign_urlback": "javascript:alert(1)"});
    let mut bad_done = two_groups_dst("Bad", &pdf);
    bad_done["extraData"] = json!({"dst_urlback": "ftp://example.com"});
    let mut bad_pos = two_groups_dst("Bad", &pdf);
    bad_pos["documents"][0]["forms"][0]["positionX"] = json!("left");
    for (body, target) in [
        (bad_email, "documents[0].signerGroups[0].signers[1].email"),
        (bad_form, "documents[0].forms[0].signerId"),
        (bad_kind, "documents[0].forms[0].type"),
        (no_title, "title"),
        (bad_data, "documents[0].resource.source.embeddedData"),
        (not_pdf, "resource"),
        (bad_pos, "body"),
        (
            bad_back,
            "documents[0].signatureRequests[1].extraData.sign_urlback",
        ),
        (bad_done, "extraData.dst_urlback"),
        (
            json!({"title": "x", "documents": [{"plainDocumentUuid": "05a80817-a3a5-48fe-83c0-0df0f48a2a26"}]}),
            "documents[0].plainDocumentUuid",
        ),
    ] {
        let (s, v) = st(&app, "POST", "/api/DSTs", tok, Some(body)).await;
        assert_eq!(s, 400, "{target}: {v}");
        assert_error(&v, "INVALID_INPUT", Some(target));
    }
    let (s, v) = st(&app, "POST", "/api/DSTs", tok, None).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("body"));
    // A draft without documents is kept (they come with PATCH resources); publishing it is
    // refused.
    let (s, v) = st(
        &app,
        "POST",
        "/api/DSTs",
        tok,
        Some(json!({"title": "Later"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_conforms("DigitalSignatureTransaction", &v);
    assert_eq!(v["documents"], json!([]));
    let later = v["id"].as_str().unwrap().to_string();
    let (s, v) = st(
        &app,
        "POST",
        &format!("/api/DST/{later}/publish"),
        tok,
        None,
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("documents"));
    // A draft without signers is kept; publishing it is refused.
    let mut lonely = two_groups_dst("Lonely", &pdf);
    lonely["status"] = json!("draft");
    lonely["documents"][0]["signerGroups"] = json!([]);
    lonely["documents"][0]["forms"] = json!([]);
    lonely["documents"][0]["signatureRequests"] = json!([]);
    let (s, v) = st(&app, "POST", "/api/DSTs", tok, Some(lonely)).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = st(
        &app,
        "POST",
        &format!("/api/DST/{}/publish", v["id"].as_str().unwrap()),
        tok,
        None,
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("signerGroups"));

    // --- other organisations, unknown ids, no token, wrong methods.
    let (s, v) = st(
        &app,
        "GET",
        &format!("/api/DST/{id}"),
        Some(&other.admin_token),
        None,
    )
    .await;
    assert_eq!(s, 404);
    assert_error(&v, "NOT_FOUND", Some("id"));
    let (_, v) = st(
        &app,
        "GET",
        "/api/DSTs?$count=true",
        Some(&other.admin_token),
        None,
    )
    .await;
    assert_eq!(v["count"], 0, "{v}");
    for path in [
        "/api/DST/not-a-uuid",
        "/api/DST/05a80817-a3a5-48fe-83c0-0df0f48a2a26",
    ] {
        let (s, v) = st(&app, "GET", path, tok, None).await;
        assert_eq!(s, 404);
        assert_error(&v, "NOT_FOUND", Some("id"));
    }
    let (s, v) = st(&app, "GET", "/api/DSTs", None, None).await;
    assert_eq!(s, 401);
    assert_error(&v, "UNAUTHORIZED", None);
    let (s, v) = st(&app, "PATCH", "/api/DSTs", tok, None).await;
    assert_eq!(s, 405);
    assert_error(&v, "METHOD_NOT_ALLOWED", None);

    // --- reminders: the first DST's signer is mailed again; a signed DST has nobody to remind.
    let (s, _) = st(&app, "POST", &format!("/api/DST/{first}/notify"), tok, None).await;
    assert_eq!(s, 204);
    eventually(20, "the reminder", || async {
        let mails = app.store.list_mail(Some(tn.org.id), 100).await.unwrap();
        (mails.iter().filter(|m| m.to == "jdo@example.com").count() == 2).then_some(())
    })
    .await;
    let (s, v) = st(&app, "POST", &format!("/api/DST/{id}/notify"), tok, None).await;
    assert_eq!(s, 409, "{v}");
    assert_error(&v, "ILLEGAL_STATUS", None);

    // --- deletion: 204, then gone from reads and lists (still in the database).
    let (s, _) = st(&app, "DELETE", &format!("/api/DST/{first}"), tok, None).await;
    assert_eq!(s, 204);
    let (s, v) = st(&app, "GET", &format!("/api/DST/{first}"), tok, None).await;
    assert_eq!(s, 404);
    assert_error(&v, "NOT_FOUND", Some("id"));
    let (s, _) = st(&app, "DELETE", &format!("/api/DST/{first}"), tok, None).await;
    assert_eq!(s, 404);
    let e = app
        .state
        .core
        .envelope_by_uuid(tn.org.id, &first)
        .await
        .unwrap()
        .0;
    assert!(e.deleted_at.is_some());
    assert_eq!(
        e.status,
        paraf_domain::EnvelopeStatus::Cancelled,
        "cancelled while open"
    );

    // --- logout: the token stops working; an API token cannot log out.
    let (s, v) = st(&app, "GET", "/api/auth/logout", Some(&tn.admin_token), None).await;
    assert_eq!(s, 400);
    assert_error(&v, "INVALID_INPUT", Some("Authorization"));
    let (s, _) = st(&app, "GET", "/api/auth/logout", tok, None).await;
    assert_eq!(s, 204);
    let (s, v) = st(&app, "GET", "/api/auth/user", tok, None).await;
    assert_eq!(s, 401);
    assert_error(&v, "UNAUTHORIZED", None);
    app.stop().await;
}

async fn signing_addresses_follow_the_groups_and_mails_can_be_off(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "studio", Plan::Piagam).await;
    let tok = Some(tn.admin_token.as_str());
    let pdf = paraf_testkit::pdf::pages(&["Contract between the parties"]);
    let mut body = two_groups_dst("Two groups", &pdf);
    body["extraData"] = json!({"email_disabled": true});
    let (s, dst) = st(&app, "POST", "/api/robot/DSTs", tok, Some(body)).await;
    assert_eq!(s, 200, "{dst}");
    assert_conforms("DigitalSignatureTransaction", &dst);
    let id = dst["id"].as_str().unwrap();
    // No invitation mail: the integrator hands out the addresses.
    assert_no_mail(&app, tn.org.id).await;
    // Nobody may decline here (no request says `declinable: true`).
    let (_, a) = st(&app, "GET", &format!("/api/DST/{id}/sign/0/0"), tok, None).await;
    let refused = app
        .state
        .core
        .decline(
            token_of(a["url"].as_str().unwrap()),
            "No",
            &Default::default(),
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("may not decline"), "{refused}");
    // Carla (group 2) has no address before the first group is done.
    let (s, v) = st(&app, "GET", &format!("/api/DST/{id}/sign/0/2"), tok, None).await;
    assert_eq!(s, 409, "{v}");
    assert_error(&v, "ILLEGAL_STATUS", None);
    assert!(
        v["message"].as_str().unwrap().contains("waits for group 1"),
        "{v}"
    );
    for sign in [0, 1] {
        let (s, v) = st(
            &app,
            "GET",
            &format!("/api/DST/{id}/sign/0/{sign}"),
            tok,
            None,
        )
        .await;
        assert_eq!(s, 200, "{v}");
        alice_signs(&app.state.core, v["url"].as_str().unwrap()).await;
    }
    let (_, v) = st(&app, "GET", &format!("/api/DST/{id}"), tok, None).await;
    assert_eq!(v["status"], "toSign");
    assert_eq!(v["signatures"].as_array().unwrap().len(), 2, "{v}");
    let (s, v) = st(&app, "GET", &format!("/api/DST/{id}/sign/0/2"), tok, None).await;
    assert_eq!(s, 200, "{v}");
    let core = &app.state.core;
    core.sign(
        token_of(v["url"].as_str().unwrap()),
        crate::envelopes::typed("Carla Verdi"),
        &Default::default(),
    )
    .await
    .unwrap();
    let (_, v) = st(&app, "GET", &format!("/api/DST/{id}"), tok, None).await;
    assert!(
        ["toSign", "signed"].contains(&v["status"].as_str().unwrap()),
        "{v}"
    );
    assert_no_mail(&app, tn.org.id).await;
    app.stop().await;
}

async fn resource_urls_to_private_addresses_are_refused(backend: Backend) {
    let app = spawn_with(backend, |c| c.outbound_allow_private = false).await;
    let tn = tenant(&app, "guarded", Plan::Piagam).await;
    let files = file_server().await;
    for url in [
        format!("{files}/contrat.pdf"),
        "http://169.254.169.254/latest/meta-data".to_string(),
        "file:///etc/passwd".to_string(),
    ] {
        let body = quick_start_dst(json!({"type": "URL", "sourceURL": url}));
        let (s, v) = st(
            &app,
            "POST",
            "/api/robot/DSTs",
            Some(&tn.admin_token),
            Some(body),
        )
        .await;
        assert_eq!(s, 400, "{url}: {v}");
        assert_error(
            &v,
            "INVALID_INPUT",
            Some("documents[0].resource.source.sourceURL"),
        );
    }
    let (_, v) = st(
        &app,
        "GET",
        "/api/DSTs?$count=true",
        Some(&tn.admin_token),
        None,
    )
    .await;
    assert_eq!(v["count"], 0, "nothing half-made: {v}");
    app.stop().await;
}

/// A draft of one signer (Anna) with a signature, a text to fill and a clause to accept.
fn forms_dst(pdf: &[u8]) -> Value {
    let at = |id: i64, kind: &str, y: &str| {
        json!({"id": id, "type": kind, "positionX": "10", "positionY": y, "width": "40",
               "height": "6", "page": 1, "signerId": 0, "toFill": kind != "SignatureForm",
               "extraData": if kind == "SignatureForm" { json!({"signatureRequestId": 0}) } else { json!({}) }})
    };
    json!({
        "title": "Lease",
        "documents": [{
            "id": 0,
            "resource": {"filename": "lease.pdf", "resourceType": "PDF_Document", "source": embedded(pdf)},
            "forms": [at(0, "SignatureForm", "10"), at(1, "TextForm", "30"), at(2, "ClauseForm", "50")],
            "signatureRequests": [{"id": 0, "signerId": 0, "reason": "Tenant", "declinable": true}],
            "signerGroups": [{"label": "Tenant", "signers": [
                {"id": 0, "name": "Anna", "surname": "Rossi", "email": "anna@example.com", "templateLabel": "Tenant"}]}]
        }]
    })
}

async fn dsts_are_edited_filled_copied_and_instantiated(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "agency", Plan::Piagam).await;
    let tok = Some(tn.admin_token.as_str());
    let pdf = paraf_testkit::pdf::pages(&["Lease agreement"]);
    let core = &app.state.core;

    // --- a draft, replaced whole (PUT keeps its id), then published: toFill.
    let (s, d) = st(&app, "POST", "/api/DSTs", tok, Some(forms_dst(&pdf))).await;
    assert_eq!(s, 201, "{d}");
    let id = d["id"].as_str().unwrap().to_string();
    let mut changed = forms_dst(&pdf);
    changed["title"] = json!("Lease (v2)");
    changed["tags"] = json!(["lease", "2027"]);
    let (s, d) = st(&app, "PUT", &format!("/api/DST/{id}"), tok, Some(changed)).await;
    assert_eq!(s, 200, "{d}");
    assert_conforms("DigitalSignatureTransaction", &d);
    assert_eq!(
        (d["id"].as_str(), d["title"].as_str()),
        (Some(id.as_str()), Some("Lease (v2)"))
    );
    assert_eq!(d["tags"], json!(["lease", "2027"]));
    let (s, d) = st(&app, "POST", &format!("/api/DST/{id}/publish"), tok, None).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "toFill", "{d}");
    let (s, v) = st(
        &app,
        "PUT",
        &format!("/api/DST/{id}"),
        tok,
        Some(forms_dst(&pdf)),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert_error(&v, "ILLEGAL_STATUS", None);

    // --- fill: the text, then the clause; bad fills name their field.
    let fill_path = format!("/api/DST/{id}/fill");
    let fill = |body: Value| st(&app, "PATCH", &fill_path, tok, Some(body));
    let (s, d) = fill(json!({"id": 1, "documentId": 0, "type": "TextForm", "extraData": {"value": "Via Roma 1, Milano"}})).await;
    assert_eq!(s, 200, "{d}");
    assert_conforms("DigitalSignatureTransaction", &d);
    assert_eq!(
        d["documents"][0]["forms"][1]["extraData"]["value"],
        "Via Roma 1, Milano"
    );
    assert_eq!(d["documents"][0]["forms"][1]["filled"], true);
    assert_eq!(d["status"], "toFill", "the clause is still to accept");
    let (s, d) =
        fill(json!({"id": 2, "documentId": 0, "type": "ClauseForm", "filled": true})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "toSign", "{d}");
    assert_eq!(d["documents"][0]["status"], "filled");
    for (body, target) in [
        (json!({"id": 9, "documentId": 0}), "id"),
        (json!({"id": 1, "documentId": 4}), "documentId"),
        (
            json!({"id": 0, "documentId": 0, "extraData": {"value": "x"}}),
            "type",
        ),
        (
            json!({"id": 1, "documentId": 0, "extraData": {"value": "x".repeat(501)}}),
            "extraData.value",
        ),
        (
            json!({"id": 1, "documentId": 0, "extraData": {}}),
            "extraData.value",
        ),
    ] {
        let (s, v) = fill(body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert_error(&v, "INVALID_INPUT", Some(target));
    }

    // --- modify: back to draft while nobody signed; once Anna signed, refused.
    let (s, d) = st(&app, "POST", &format!("/api/DST/{id}/modify"), tok, None).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["status"].as_str(), &d["publishedAt"]),
        (Some("draft"), &Value::Null)
    );
    let (s, _) = st(&app, "POST", &format!("/api/DST/{id}/publish"), tok, None).await;
    assert_eq!(s, 200);
    let (_, a) = st(&app, "GET", &format!("/api/DST/{id}/sign/0/0"), tok, None).await;
    alice_signs(core, a["url"].as_str().unwrap()).await;
    let done = eventually(30, "the lease signed", || async {
        let (_, v) = st(&app, "GET", &format!("/api/DST/{id}"), tok, None).await;
        (v["status"] == "signed").then_some(v)
    })
    .await;
    // The text filled through the API is in the signed document.
    let signed = done["documents"][0]["signedDocumentUuid"].as_str().unwrap();
    let (_, _, bytes) = fetch_as(&app, &format!("/api/resource/{signed}"), &tn.admin_token).await;
    let f = ca_files(&app).await;
    let path = write(f.tmp.path(), "lease.pdf", &bytes);
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(text(&out).contains("Via Roma 1, Milano"), "{}", text(&out));
    // The filled and signed document (DocMDP certification, then the signature) is accepted
    // by pyHanko and pdfsig.
    crate::envelopes::outside_validators_accept(&app, &bytes, 2).await;
    let (s, v) = st(&app, "POST", &format!("/api/DST/{id}/modify"), tok, None).await;
    assert_eq!(s, 409, "{v}");
    assert_error(&v, "ILLEGAL_STATUS", None);
    let (_, trail) = st(&app, "GET", &format!("/api/DST/{id}/audit"), tok, None).await;
    assert!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["event"] == "event_form_fill")
            .count()
            == 2,
        "{trail}"
    );

    // --- copies: clone (a draft of the signed DST), templatize, instantiate.
    let (s, c) = st(&app, "POST", &format!("/api/DST/{id}/clone"), tok, None).await;
    assert_eq!(s, 200, "{c}");
    assert_conforms("DigitalSignatureTransaction", &c);
    assert_ne!(c["id"], done["id"]);
    assert_eq!(
        (c["status"].as_str(), c["title"].as_str()),
        (Some("draft"), Some("Lease (v2)"))
    );
    assert_eq!(
        c["documents"][0]["forms"][1]["filled"], false,
        "values are not copied"
    );
    let (s, t) = st(
        &app,
        "POST",
        &format!("/api/DST/{id}/templatize"),
        tok,
        None,
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["template"], true);
    let tid = t["id"].as_str().unwrap().to_string();
    let (s, v) = st(
        &app,
        "POST",
        &format!("/api/DST/{id}/instantiate"),
        tok,
        None,
    )
    .await;
    assert_eq!(s, 409, "not a template: {v}");
    let (s, i) = st(
        &app,
        "POST",
        &format!("/api/DST/{tid}/instantiate"),
        tok,
        None,
    )
    .await;
    assert_eq!(s, 200, "{i}");
    assert_eq!(
        (i["template"].as_bool(), i["status"].as_str()),
        (Some(false), Some("draft"))
    );

    // --- Quick Start 3.4: the robot instantiates with patches and a roles mapping, on the
    // SDK's path and on the seed's.
    for path in [
        format!("/api/robot/{tid}/instantiate"),
        format!("/api/robot/DST/{tid}/instantiate"),
    ] {
        let body = json!({
            "templatePatches": {"status": "published"},
            "rolesMapping": [{"roleName": "Tenant", "signer": {
                "name": "John", "surname": "Doe", "email": "jdo@example.com", "role": "Buyer"}}]
        });
        let (s, v) = st(&app, "POST", &path, tok, Some(body)).await;
        assert_eq!(s, 200, "{path}: {v}");
        assert_conforms("DigitalSignatureTransaction", &v);
        assert_eq!(v["status"], "toFill");
        let signer = &v["documents"][0]["signerGroups"][0]["signers"][0];
        assert_eq!(
            (signer["email"].as_str(), signer["templateLabel"].as_str()),
            (Some("jdo@example.com"), Some("Tenant"))
        );
    }
    crate::recipients::link_mailed_to(&app, tn.org.id, "jdo@example.com").await;
    let body =
        json!({"rolesMapping": [{"roleName": "Landlord", "signer": {"email": "x@example.com"}}]});
    let (s, v) = st(
        &app,
        "POST",
        &format!("/api/robot/{tid}/instantiate"),
        tok,
        Some(body),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("rolesMapping[0].roleName"));

    // --- replace: only a rejected DST; each names the other.
    let (s, v) = st(&app, "POST", &format!("/api/DST/{id}/replace"), tok, None).await;
    assert_eq!(s, 409, "{v}");
    let mut body = forms_dst(&pdf);
    body["status"] = json!("published");
    let (_, r) = st(&app, "POST", "/api/robot/DSTs", tok, Some(body)).await;
    let rid = r["id"].as_str().unwrap().to_string();
    let (_, a) = st(&app, "GET", &format!("/api/DST/{rid}/sign/0/0"), tok, None).await;
    core.decline(
        token_of(a["url"].as_str().unwrap()),
        "Wrong address",
        &Default::default(),
    )
    .await
    .unwrap();
    let (_, v) = st(&app, "GET", &format!("/api/DST/{rid}"), tok, None).await;
    assert_eq!(v["status"], "rejected");
    assert_eq!(v["signatures"][0]["status"], "declined");
    assert_eq!(v["signatures"][0]["declinedReason"], "Wrong address");
    let (s, n) = st(&app, "POST", &format!("/api/DST/{rid}/replace"), tok, None).await;
    assert_eq!(s, 200, "{n}");
    assert_eq!(
        (n["replaces"].as_str(), n["status"].as_str()),
        (Some(rid.as_str()), Some("draft"))
    );
    let (_, v) = st(&app, "GET", &format!("/api/DST/{rid}"), tok, None).await;
    assert_eq!(v["replacedBy"], n["id"]);
    app.stop().await;
}

/// An XLSX of `rows` (the header first), written by rust_xlsxwriter.
pub(crate) fn xlsx(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet
                .write_string(u32::try_from(r).unwrap(), u16::try_from(c).unwrap(), *v)
                .unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// `POST path` with a multipart `file` (and text `fields`).
pub(crate) async fn upload(
    app: &TestApp,
    path: &str,
    token: &str,
    file: (&str, Vec<u8>),
    fields: &[(&str, &str)],
) -> (u16, Value) {
    upload_with(app, reqwest::Method::POST, path, token, file, fields).await
}

/// `method path` with a multipart `file` (and text `fields`).
pub(crate) async fn upload_with(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    file: (&str, Vec<u8>),
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_string()),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = app
        .http
        .request(method, app.at(path))
        .header("authorization", bearer(token));
    json(r.multipart(form).send().await.unwrap()).await
}

async fn templates_are_instantiated_from_spreadsheets(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "bulk", Plan::Piagam).await;
    let tok = tn.admin_token.as_str();
    let pdf = paraf_testkit::pdf::pages(&["Lease agreement"]);
    let mut body = forms_dst(&pdf);
    body["template"] = json!(true);
    let (s, t) = st(&app, "POST", "/api/DSTs", Some(tok), Some(body)).await;
    assert_eq!(s, 201, "{t}");
    let tid = t["id"].as_str().unwrap().to_string();
    let path = format!("/api/DST/{tid}/instantiate/byFile?publish=true");

    // --- XLSX: two good rows, one with a bad e-mail (reported, the others made).
    let sheet = xlsx(&[
        vec!["Tenant.email", "Tenant.name", "Tenant.surname", "title"],
        vec!["anna@example.com", "Anna", "Rossi", "Lease Rossi"],
        vec!["not-an-email", "Bad", "Row", "Lease Bad"],
        vec!["", "", "", ""],
        vec!["bruno@example.com", "Bruno", "Bianchi", ""],
    ]);
    let (s, v) = upload(
        &app,
        &path,
        tok,
        ("partners.xlsx", sheet),
        &[("title", "Partners"), ("tags", "[\"bulk\"]")],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("InstantiateByFileResponse", &v);
    assert_eq!(v["title"], "Partners");
    let ids: Vec<&str> = v["dstIDs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{v}");
    assert_eq!(
        v["errors"],
        json!([{"row": 3, "column": "Tenant.email", "message": "\"not-an-email\" is not an e-mail address"}])
    );
    let (_, first) = st(
        &app,
        "GET",
        &format!("/api/DST/{}", ids[0]),
        Some(tok),
        None,
    )
    .await;
    assert_conforms("DigitalSignatureTransaction", &first);
    assert_eq!(
        (first["title"].as_str(), first["status"].as_str()),
        (Some("Lease Rossi"), Some("toFill"))
    );
    assert_eq!(first["tags"], json!(["bulk"]));
    assert_eq!(
        first["documents"][0]["signerGroups"][0]["signers"][0]["email"],
        "anna@example.com"
    );
    let (_, second) = st(
        &app,
        "GET",
        &format!("/api/DST/{}", ids[1]),
        Some(tok),
        None,
    )
    .await;
    assert_eq!(
        second["title"], "Lease",
        "the template's title when the row has none"
    );
    crate::recipients::link_mailed_to(&app, tn.org.id, "bruno@example.com").await;

    // --- CSV, semicolons, not published.
    let csv = "Tenant.email;Tenant.name\ncarla@example.com;Carla\n"
        .as_bytes()
        .to_vec();
    let (s, v) = upload(
        &app,
        &format!("/api/DST/{tid}/instantiate/byFile"),
        tok,
        ("rows.csv", csv),
        &[],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["title"], "rows.csv");
    let (_, d) = st(
        &app,
        "GET",
        &format!("/api/DST/{}", v["dstIDs"][0].as_str().unwrap()),
        Some(tok),
        None,
    )
    .await;
    assert_eq!(d["status"], "draft");

    // --- the groups.
    let (s, g) = st(&app, "GET", "/api/DSTs/byFile?$count=true", Some(tok), None).await;
    assert_eq!(s, 200, "{g}");
    assert_conforms("InstantiationGroupsGetResponse", &g);
    assert_eq!(g["count"], 2);
    assert_eq!(g["values"][1]["title"], "Partners");
    assert_eq!(g["values"][1]["groupSize"], 2);
    assert_eq!(g["values"][1]["templateId"], tid.as_str());
    assert_eq!(g["values"][0]["groupSize"], 1);
    let group = g["values"][1]["instantiationGroupId"].as_str().unwrap();
    let (s, ct, zip) = fetch_as(
        &app,
        &format!("/api/DSTs/instantiationGroup/{group}/resources"),
        tok,
    )
    .await;
    assert_eq!((s, ct.as_str()), (200, "application/zip"));
    let mut names = zip_names(&zip);
    names.sort();
    let mut expected: Vec<String> = ids.iter().map(|i| format!("{i}/lease.pdf")).collect();
    expected.sort();
    assert_eq!(names, expected);
    let (s, v) = get_as(
        &app,
        "/api/DSTs/instantiationGroup/nope/resources",
        Some(tok),
    )
    .await;
    assert_eq!(s, 404, "{v}");

    // --- refusals.
    let missing = xlsx(&[vec!["Buyer.email"], vec!["x@example.com"]]);
    let (s, v) = upload(&app, &path, tok, ("m.xlsx", missing), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("file"));
    assert!(
        v["message"].as_str().unwrap().contains("Tenant.email"),
        "{v}"
    );
    let all_bad = b"Tenant.email\nnope\n".to_vec();
    let (s, v) = upload(&app, &path, tok, ("bad.csv", all_bad), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("row 2"), "{v}");
    let (s, v) = upload(&app, &path, tok, ("x.bin", vec![0xff, 0xfe, 0, 1]), &[]).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("file"));
    let (s, v) = upload(
        &app,
        &format!("/api/DST/{}/instantiate/byFile", ids[0]),
        tok,
        ("r.csv", b"a\n".to_vec()),
        &[],
    )
    .await;
    assert_eq!(s, 409, "not a template: {v}");
    assert_error(&v, "ILLEGAL_STATUS", None);

    // --- a template from a PDF.
    let (s, v) = upload(
        &app,
        "/api/DSTs/byFile",
        tok,
        ("nda.pdf", pdf.clone()),
        &[("title", "NDA")],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("DigitalSignatureTransaction", &v);
    assert_eq!(
        (v["template"].as_bool(), v["title"].as_str()),
        (Some(true), Some("NDA"))
    );
    app.stop().await;
}

async fn robots_have_lifetime_tokens_settings_and_webhooks(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "robots", Plan::Piagam).await;
    let tok = Some(tn.admin_token.as_str());
    let robot = add_user(
        &app,
        tn.org.id,
        "erp@robots.example",
        paraf_domain::Role::Instructor,
    )
    .await;

    // --- lifetime tokens: issued (an administrator for the robot), each replacing the last.
    let q = "username=erp&domain=robots";
    let (s, v) = get_as(&app, &format!("/api/robot/authentication?{q}"), tok).await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("RobotAuthenticationToken", &v);
    let first = v["accessToken"].as_str().unwrap().to_string();
    let (s, me) = get_as(&app, "/api/auth/user", Some(&first)).await;
    assert_eq!((s, me["email"].as_str()), (200, Some("erp@robots.example")));
    let (_, v) = get_as(&app, &format!("/api/robot/authentication?{q}"), tok).await;
    let second = v["accessToken"].as_str().unwrap().to_string();
    let (s, _) = get_as(&app, "/api/auth/user", Some(&first)).await;
    assert_eq!(s, 401, "the earlier token stopped");
    let (s, v) = get_as(
        &app,
        "/api/robot/authentication?username=admin&domain=robots",
        Some(&second),
    )
    .await;
    assert_eq!(s, 403, "a robot does not get the admin's token: {v}");
    assert_error(&v, "FORBIDDEN", Some("username"));
    let (s, v) = get_as(
        &app,
        "/api/robot/authentication?username=erp&domain=elsewhere",
        tok,
    )
    .await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "NOT_FOUND", Some("domain"));

    // --- settings: headers and credentials for URL documents, the webhook URL (already an
    // endpoint of the organisation: it keeps its secret).
    let rx = paraf_testkit::webhook::Receiver::start(vec![200; 10]).await;
    let (_, secret) = app
        .state
        .core
        .webhooks()
        .create(tn.org.id, &rx.url, &[], "ERP", &paraf_core::Actor::cli())
        .await
        .unwrap();
    let config = json!({
        "requestHeaders": {"X-Api-Key": ["k-123"]},
        "authentication": {"username": "jdo", "password": "A12345678z", "authMode": "basic", "clientKey": "", "clientCert": ""},
        "webhooks": {"dst": rx.url}
    });
    let (s, v) = st(
        &app,
        "PUT",
        "/api/robot/configuration",
        Some(&second),
        Some(config),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = get_as(&app, "/api/robot/configuration", Some(&second)).await;
    assert_eq!(s, 200, "{v}");
    assert_conforms("RobotConfiguration", &v);
    assert_eq!(v["requestHeaders"], json!({"X-Api-Key": ["k-123"]}));
    assert_eq!(v["authentication"]["username"], "jdo");
    assert_eq!(
        v["authentication"]["password"],
        Value::Null,
        "never shown back"
    );
    assert_eq!(v["webhooks"]["dst"], rx.url.as_str());
    let hooks = app.state.core.webhooks().list(tn.org.id).await.unwrap();
    assert_eq!(hooks.len(), 1, "the endpoint is reused");
    for (body, target) in [
        (
            json!({"authentication": {"username": "u", "password": "p", "authMode": "digest"}}),
            "authentication.authMode",
        ),
        (
            json!({"requestHeaders": {"Bad Header": ["x"]}}),
            "requestHeaders",
        ),
        (
            json!({"requestHeaders": {"X-A": ["line\nbreak"]}}),
            "requestHeaders",
        ),
        (
            json!({"webhooks": {"dst": "ftp://example.com/x"}}),
            "webhooks.dst",
        ),
    ] {
        let (s, v) = st(
            &app,
            "PUT",
            "/api/robot/configuration",
            Some(&second),
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 400, "{body}: {v}");
        assert_error(&v, "INVALID_INPUT", Some(target));
    }
    // The stored settings are sealed: no password in the database.
    let sealed = app
        .store
        .robot_configuration(tn.org.id, robot.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!sealed.contains("A12345678z") && !sealed.contains("k-123"));

    // --- a URL document is fetched with the robot's headers and credentials.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let seen2 = seen.clone();
    let pdf = paraf_testkit::pdf::pages(&["Fornitura"]);
    let files = axum::Router::new().route(
        "/doc.pdf",
        axum::routing::get(move |h: axum::http::HeaderMap| {
            let pdf = pdf.clone();
            let seen = seen2.clone();
            async move {
                let get = |k: &str| {
                    h.get(k)
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default()
                };
                seen.lock()
                    .unwrap()
                    .push((get("x-api-key"), get("authorization")));
                pdf
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let files_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, files).await });
    let body = quick_start_dst(json!({"type": "URL", "sourceURL": format!("{files_url}/doc.pdf")}));
    let (s, dst) = st(&app, "POST", "/api/robot/DSTs", Some(&second), Some(body)).await;
    assert_eq!(s, 200, "{dst}");
    let basic_jdo = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("jdo:A12345678z")
    );
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![("k-123".to_string(), basic_jdo.clone())]
    );

    // --- its webhook: each status change as {status, dst, reason}, signed, with the headers.
    let id = dst["id"].as_str().unwrap().to_string();
    let (_, a) = get_as(&app, &format!("/api/DST/{id}/sign/0/1"), Some(&second)).await;
    alice_signs(&app.state.core, a["url"].as_str().unwrap()).await;
    let deliveries = eventually(30, "the DST's webhooks", || async {
        let d = rx.deliveries();
        d.iter()
            .any(|x| x.json()["status"] == "performed")
            .then_some(d)
    })
    .await;
    for d in &deliveries {
        assert!(
            d.signed_by(secret.expose()),
            "signed like every Paraf webhook"
        );
        assert_eq!(d.header("x-api-key"), "k-123");
        assert_eq!(d.header("authorization"), basic_jdo);
        assert_conforms("DSTStatusChangedNotification", &d.json());
        assert_eq!(d.json()["dst"], id.as_str());
    }
    assert_eq!(deliveries[0].json()["status"], "toSign");

    // --- revoked: the robot's token stops.
    let (s, _) = st(
        &app,
        "DELETE",
        "/api/robot/authentication",
        Some(&second),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = get_as(&app, "/api/auth/user", Some(&second)).await;
    assert_eq!(s, 401);
    app.stop().await;
}

/// The names of the entries of a zip file (read with `unzip -Z1`).
fn zip_names(bytes: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "files.zip", bytes);
    let out = std::process::Command::new("unzip")
        .arg("-Z1")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    text(&out).lines().map(str::to_string).collect()
}

async fn a_drafts_documents_are_edited_zipped_and_rendered(backend: Backend) {
    let app = spawn(backend).await;
    let tn = tenant(&app, "docs", Plan::Piagam).await;
    let tok = tn.admin_token.as_str();
    let lease = paraf_testkit::pdf::pages(&["Lease agreement", "Second page"]);
    let (s, d) = st(
        &app,
        "POST",
        "/api/DSTs",
        Some(tok),
        Some(forms_dst(&lease)),
    )
    .await;
    assert_eq!(s, 201, "{d}");
    let id = d["id"].as_str().unwrap().to_string();
    let dst_path = format!("/api/DST/{id}");

    // --- add a document (PATCH resources with the seed's multipart fields).
    let annex = paraf_testkit::pdf::pages(&["Annex A"]);
    let fields = [
        ("filename", "annex.pdf"),
        ("resourceType", "PDF_Document"),
        ("title", "Annex"),
        ("extraData", "{}"),
    ];
    let (s, d) = upload_with(
        &app,
        reqwest::Method::PATCH,
        &format!("{dst_path}/resources"),
        tok,
        ("annex.pdf", annex.clone()),
        &fields,
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_conforms("DigitalSignatureTransaction", &d);
    let ids = |d: &Value| {
        d["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&d), [0, 1]);
    assert_eq!(
        d["documents"][0]["forms"].as_array().unwrap().len(),
        3,
        "the forms stay"
    );
    assert_eq!(d["resources"][1]["title"], "Annex");
    // --- swap; replace document 0's PDF.
    let (s, d) = st(
        &app,
        "POST",
        &format!("{dst_path}/doc/0/swap?targetDocId=1"),
        Some(tok),
        None,
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(ids(&d), [1, 0]);
    let (s, v) = st(
        &app,
        "POST",
        &format!("{dst_path}/doc/7/swap?targetDocId=1"),
        Some(tok),
        None,
    )
    .await;
    assert_eq!(s, 404, "{v}");
    assert_error(&v, "NOT_FOUND", Some("docId"));
    let lease2 = paraf_testkit::pdf::pages(&["Lease agreement, version 2", "Second page"]);
    let (s, d) = upload(
        &app,
        &format!("{dst_path}/doc/0/resource"),
        tok,
        ("lease-v2.pdf", lease2.clone()),
        &[("actionType", "replace")],
    )
    .await;
    assert_eq!(s, 200, "{d}");
    let plain = d["documents"][1]["plainDocumentUuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _, bytes) = fetch_as(&app, &format!("/api/resource/{plain}"), tok).await;
    assert_eq!((s, bytes == lease2), (200, true));
    let (s, c) = upload(
        &app,
        &format!("{dst_path}/doc/0/resource"),
        tok,
        ("lease-v3.pdf", lease.clone()),
        &[("actionType", "clone_and_replace")],
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_ne!(c["id"], d["id"], "a copy");
    let (s, v) = upload(
        &app,
        &format!("{dst_path}/doc/0/resource"),
        tok,
        ("x.pdf", lease.clone()),
        &[("actionType", "append")],
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "INVALID_INPUT", Some("actionType"));

    // --- a resource's title; thumbnails; the DST's files as a zip.
    let annex_id = d["documents"][0]["plainDocumentUuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = st(&app, "PUT", &format!("/api/resource/{annex_id}"), Some(tok), Some(json!({
        "id": annex_id, "domain": "docs", "title": "Annex A (signed copy)", "filename": "annex.pdf", "pages": 3, "extraData": {"toSign": true}}))).await;
    assert_eq!(s, 204);
    let (_, d) = get_as(&app, &dst_path, Some(tok)).await;
    assert_eq!(d["resources"][0]["title"], "Annex A (signed copy)");
    let (s, ct, jpeg) = fetch_as(
        &app,
        &format!("/api/pdfResource/{plain}/thumbs?page=2&width=120"),
        tok,
    )
    .await;
    assert_eq!((s, ct.as_str()), (200, "image/jpeg"));
    let img = image::load_from_memory(&jpeg).unwrap();
    assert_eq!(img.width(), 120);
    let (s, _, _) = fetch_as(
        &app,
        &format!("/api/pdfResource/{plain}/thumbs?page=3"),
        tok,
    )
    .await;
    assert_eq!(s, 400);
    let (s, ct, zip) = fetch_as(&app, &format!("{dst_path}/resources"), tok).await;
    assert_eq!((s, ct.as_str()), (200, "application/zip"));
    assert_eq!(zip_names(&zip), ["annex.pdf", "lease-v2.pdf"]);

    // --- remove a document; never the last one; and nothing once published.
    let (s, d) = st(
        &app,
        "DELETE",
        &format!("/api/DST/resource/{annex_id}"),
        Some(tok),
        None,
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(ids(&d), [0]);
    let last = d["documents"][0]["plainDocumentUuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = st(
        &app,
        "DELETE",
        &format!("/api/DST/resource/{last}"),
        Some(tok),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["documents"], json!([]), "a draft may have no document");
    let (s, _) = st(&app, "PUT", &dst_path, Some(tok), Some(forms_dst(&lease))).await;
    assert_eq!(s, 200);
    let (s, _) = st(
        &app,
        "POST",
        &format!("{dst_path}/publish"),
        Some(tok),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = upload_with(
        &app,
        reqwest::Method::PATCH,
        &format!("{dst_path}/resources"),
        tok,
        ("annex.pdf", annex),
        &[],
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert_error(&v, "ILLEGAL_STATUS", None);
    app.stop().await;
}

crate::both_backends!(
    dsts_from_the_seeds_samples_to_signed,
    signing_addresses_follow_the_groups_and_mails_can_be_off,
    resource_urls_to_private_addresses_are_refused,
    dsts_are_edited_filled_copied_and_instantiated,
    templates_are_instantiated_from_spreadsheets,
    robots_have_lifetime_tokens_settings_and_webhooks,
    a_drafts_documents_are_edited_zipped_and_rendered,
);
