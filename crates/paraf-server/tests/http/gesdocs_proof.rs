//! A GesDocs request to the end over HTTP: the webhook body in the seed's shape on every
//! status change (signed per Standard Webhooks), the signed document and the certificate at
//! the links it gives, and `POST /api/verify-document` on them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paraf_core::audit::Actor;
use paraf_core::envelopes::Visit;
use serde_json::Value;

use crate::common::*;
use crate::envelopes::{drawn, outside_validators_accept, token_of, typed};
use crate::gesdocs::{account, future, org_named, post_form, post_multipart};

fn request_form(app: &TestApp, pdf: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("signers[0][email]", "alice@email.com")
        .text("signers[0][first_name]", "Alice")
        .text("signers[0][last_name]", "Dupont")
        .text("signers[1][email]", "bob@email.com")
        .text("signers[1][first_name]", "Bob")
        .text("signers[1][last_name]", "Martin")
        .text("expires_at", future(app))
        .text("demandeur_email", "admin@email.com")
        .text("metadata", r#"{"custom_id": "ABC123"}"#)
        .part(
            "pdf",
            reqwest::multipart::Part::bytes(pdf).file_name("contrat.pdf"),
        )
}

async fn verify(app: &TestApp, token: &str, parts: Vec<(&str, Vec<u8>)>) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in parts {
        form = form.part(
            name.to_string(),
            reqwest::multipart::Part::bytes(bytes).file_name(format!("{name}.pdf")),
        );
    }
    post_multipart(app, "/api/verify-document", token, form).await
}

async fn fetch(app: &TestApp, url: &str) -> (u16, Vec<u8>) {
    let r = app.http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn a_request_to_the_end_sends_gesdocs_webhooks_and_verifies(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.registration_open = true;
        c.signup_credits = 5;
    })
    .await;
    let token = account(&app, "martin@cabinet.fr").await;
    let other = account(&app, "autre@cabinet.fr").await;
    let org = org_named(&app, "martin-").await;
    let rx = paraf_testkit::webhook::Receiver::start(vec![200]).await;
    let (_, secret) = app
        .state
        .core
        .webhooks()
        .create(org.id, &rx.url, &["*".to_string()], "", &Actor::cli())
        .await
        .unwrap();

    // A document without tags: the summary page carries both signatures.
    let original = paraf_testkit::pdf::simple_pdf();
    let (s, v) = post_form(&app, &token, request_form(&app, original.clone())).await;
    assert_eq!(s, 201, "{v}");
    let links: Vec<String> = v["data"]["signature_request"]["signataires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signature_url"].as_str().unwrap().to_string())
        .collect();
    let visit = Visit {
        ip: Some("192.0.2.44".parse().unwrap()),
        user_agent: Some("Mozilla/5.0 (GesDocs test)".into()),
    };
    let core = &app.state.core;
    core.sign(token_of(&links[0]), typed("Alice Dupont"), &visit)
        .await
        .unwrap();
    core.sign(token_of(&links[1]), drawn(), &visit)
        .await
        .unwrap();

    // Four events, in the seed's shape, each signed.
    let deliveries = eventually(30, "four GesDocs webhooks", || async {
        let d = rx.deliveries();
        (d.len() >= 4).then_some(d)
    })
    .await;
    for d in &deliveries {
        paraf_testkit::webhook::standard_webhooks_verify(secret.expose(), d).unwrap();
    }
    let bodies: Vec<Value> = deliveries.iter().map(|d| d.json()).collect();
    let by_event = |name: &str| {
        bodies
            .iter()
            .filter(|b| b["event"] == name)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(by_event("document_sent").len(), 1, "{bodies:?}");
    let signed = by_event("document_signed");
    assert_eq!(signed.len(), 2, "{bodies:?}");
    let first = signed
        .iter()
        .find(|b| b["data"]["signataire"]["email"] == "alice@email.com")
        .unwrap();
    let d = &first["data"];
    assert_eq!(d["signataire"]["prenom"], "Alice");
    assert_eq!(d["signataire"]["nom"], "Dupont");
    assert_eq!(d["statut"], "en_attente");
    assert_eq!(d["ip"], "192.0.2.44");
    assert_eq!(d["navigateur"], "Mozilla/5.0 (GesDocs test)");
    assert_eq!(d["demandeur"]["email"], "admin@email.com");
    assert_eq!(d["utilisateur"]["email"], "martin@cabinet.fr");
    assert_eq!(d["utilisateur"]["entreprise"], "Cabinet Martin");
    assert_eq!(d["metadata"]["custom_id"], "ABC123");
    assert!(d["certificat_pdf"].is_null() && d["preuve"].is_null());
    assert!(d["date_signature"].as_str().unwrap().len() == 19);
    assert!(d["date_creation"].is_string() && d["date_expiration"].is_string());
    let statuts: Vec<&str> = d["signataires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["statut"].as_str().unwrap())
        .collect();
    assert!(statuts.contains(&"signed"), "{statuts:?}");
    assert!(first["credits_left"].is_number());

    let done = &by_event("document_completed")[0];
    let d = &done["data"];
    assert_eq!(d["statut"], "signe");
    assert!(d["signataires"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["statut"] == "signed" && s["date_signature"].is_string()));
    assert_eq!(done["credits_left"], 4);
    assert_eq!(d["preuve"]["uuid"], d["token"]);

    // The links: the final document (its hash is the one announced), the certificate.
    let (s, document) = fetch(&app, d["document_signe"]["url"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(
        paraf_core::proof::sha256_hex(&document),
        d["document_hash"].as_str().unwrap()
    );
    outside_validators_accept(&app, &document, 2).await;
    // The organisation's seal (it sealed the certificate) names the account, not the
    // requester.
    let seals = app.store.list_seals(org.id).await.unwrap();
    assert_eq!(seals[0].email.as_str(), "martin@cabinet.fr");
    let (s, certificate) = fetch(&app, d["certificat_pdf"]["url"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    assert!(certificate.starts_with(b"%PDF-"));
    let (s, json_bytes) = fetch(&app, d["certificat_json"]["url"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let proof: Value = serde_json::from_slice(&json_bytes).unwrap();
    assert_eq!(proof["document_hash"], d["document_hash"]);
    let wrong_key = d["document_signe"]["url"]
        .as_str()
        .unwrap()
        .replace(&proof["uuid"].as_str().unwrap()[..8], "00000000");
    assert_eq!(fetch(&app, &wrong_key).await.0, 404);

    // verify-document: the pair matches; the original does not; another account knows
    // nothing of it; missing or non-PDF files name the field.
    let (s, v) = verify(
        &app,
        &token,
        vec![
            ("document", document.clone()),
            ("certificate", certificate.clone()),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["message"], "Signature valid and authentic.");
    assert_eq!(v["debug"]["uuid_from_cert"], d["token"]);
    assert_eq!(v["debug"]["hash_of_doc"], v["debug"]["hash_from_cert"]);
    assert_eq!(v["debug"]["date_from_cert"], v["debug"]["date_in_db"]);
    assert_eq!(
        v["debug"]["date_in_db"].as_str().unwrap().len(),
        "03/05/2025 20:01:09".len()
    );
    let (s, v) = verify(
        &app,
        &token,
        vec![
            ("document", original.clone()),
            ("certificate", certificate.clone()),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["valid"], false);
    assert_eq!(
        v["message"],
        "The document hash does not match the certificate hash."
    );
    assert_ne!(v["debug"]["hash_of_doc"], v["debug"]["hash_from_cert"]);
    let (_, v) = verify(
        &app,
        &other,
        vec![("document", document.clone()), ("certificate", certificate)],
    )
    .await;
    assert_eq!(v["valid"], false, "{v}");
    let (s, v) = verify(&app, &token, vec![("document", b"not a pdf".to_vec())]).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["status"], "error");
    assert_eq!(
        v["errors"]["document"][0],
        "The document field must be a file of type: pdf."
    );
    assert_eq!(
        v["errors"]["certificate"][0],
        "The certificate field is required."
    );
    let (s, _) = json(
        app.post("/api/verify-document")
            .multipart(reqwest::multipart::Form::new().text("x", "y"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    app.stop().await;
}

/// A refusal reaches the account's endpoint as `document_refused` with the reason.
async fn a_refusal_sends_document_refused(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.registration_open = true;
        c.signup_credits = 5;
    })
    .await;
    let token = account(&app, "refus@cabinet.fr").await;
    let org = org_named(&app, "refus-").await;
    let rx = paraf_testkit::webhook::Receiver::start(vec![200]).await;
    app.state
        .core
        .webhooks()
        .create(
            org.id,
            &rx.url,
            &["envelope.declined".to_string()],
            "",
            &Actor::cli(),
        )
        .await
        .unwrap();
    let pdf = paraf_testkit::pdf::pages(&["Le client <@signature1@>"]);
    let (s, v) = post_form(&app, &token, request_form(&app, pdf)).await;
    assert_eq!(s, 201, "{v}");
    let link = v["data"]["signature_url"].as_str().unwrap();
    app.state
        .core
        .decline(token_of(link), "Montant erroné", &Visit::default())
        .await
        .unwrap();
    let d = eventually(20, "the refusal webhook", || async {
        rx.deliveries().into_iter().next()
    })
    .await
    .json();
    assert_eq!(d["event"], "document_refused");
    assert_eq!(d["data"]["statut"], "refuse");
    assert_eq!(d["data"]["motif_refus"], "Montant erroné");
    assert_eq!(d["data"]["signataire"]["email"], "alice@email.com");
    assert_eq!(d["data"]["signataires"][0]["statut"], "declined");
    assert!(d["data"]["certificat_pdf"].is_null());
    app.stop().await;
}

crate::both_backends!(
    a_request_to_the_end_sends_gesdocs_webhooks_and_verifies,
    a_refusal_sends_document_refused,
);
